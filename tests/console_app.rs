//! The console core against the real local cloud, without a terminal:
//! the `App` (keys and messages in, effects out) and the `Tasks` that run
//! those effects through the AWS SDK, in the loop `tui` runs, with the
//! real supervisor hosting a function deployed by `scar-tui init`.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use scar_local::LocalCloud;
use scar_tui::aws::Backend;
use scar_tui::backend::ConnectOptions;
use scar_tui::console::msg::Msg;
use scar_tui::console::settings::Settings;
use scar_tui::console::state::{BatchPhase, LogSource, Mode, Side, State};
use scar_tui::console::tasks::{self, TaskOptions, Tasks};
use scar_tui::console::update::App;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::util::*;

struct Console {
    app: App,
    tasks: Tasks,
    rx: UnboundedReceiver<Msg>,
    /// The clock `tui::run` would tick the app with.
    clock: scar_contract::time::Clock,
}

impl Console {
    fn run(&mut self, fx: Vec<scar_tui::console::msg::Effect>) {
        for e in fx {
            self.tasks.run(e);
        }
    }

    fn key(&mut self, k: KeyEvent) {
        let fx = self.app.key(k);
        self.run(fx);
    }

    fn char(&mut self, c: char) {
        self.key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    }

    fn code(&mut self, c: KeyCode) {
        self.key(KeyEvent::new(c, KeyModifiers::NONE));
    }

    fn typed(&mut self, s: &str) {
        for c in s.chars() {
            self.char(c);
        }
    }

    /// Runs the loop `tui::run` runs (messages and 100 ms ticks) until
    /// `done` holds; the timeout only bounds a failure.
    async fn until(&mut self, what: &str, timeout: Duration, done: impl Fn(&State) -> bool) {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        while !done(&self.app.state) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}; status {:?}, busy {:?}, batch {:?}, stats {:?}",
                self.app.state.status,
                self.app.state.busy,
                self.app.state.batch,
                self.app.state.stats
            );
            let fx = tokio::select! {
                m = self.rx.recv() => self.app.message(m.expect("tasks alive")),
                _ = tick.tick() => self.app.tick(self.clock.now_ms()),
            };
            self.run(fx);
        }
    }

    fn status(&self) -> String {
        self.app
            .state
            .status
            .as_ref()
            .map(|s| s.text.clone())
            .unwrap_or_default()
    }
}

fn init(data: &Path, image: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_scar-tui"))
        .args(["--backend", "local", "--data-dir"])
        .arg(data)
        .args(["init", "--name", "upper", "--image", image])
        .args(["--script-inline", "n=$(basename \"$SCAR_INPUT_FILE\"); tr a-z A-Z < \"$SCAR_INPUT_FILE\" > \"$SCAR_OUTPUT_DIR/$n\"; echo \"upper-cased $n\""])
        .args(["--input", "upper-in", "--output", "upper-out", "--memory", "256", "--timeout", "60"])
        .env("SCAR_SUPERVISOR", supervisor_bin())
        .env_remove("SCAR_BACKEND")
        .output()
        .expect("scar-tui init runs");
    assert!(
        out.status.success(),
        "init: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_core_drives_a_function_through_the_local_cloud() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let image = busybox_image(tmp.path());
    init(&data, &image);
    let local = LocalCloud::start(test_config(&data))
        .await
        .expect("local cloud");
    let cloud = scar_tui::backend::clients_for(&local);
    let mut settings = Settings::default();
    settings.refresh.functions_ms = 500;
    settings.refresh.objects_ms = 500;
    settings.refresh.logs_ms = 200;
    settings.refresh.stats_ms = 500;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let opts = TaskOptions {
        connect: ConnectOptions {
            backend: Backend::Local,
            profile: None,
            region: None,
            endpoint: Some(local.endpoint().to_owned()),
            data_dir: Some(data.clone()),
        },
        journal_dir: tasks::journal_dir(&data, &cloud),
        work_dir: data.clone(),
        max_objects: 1000,
        logs_interval: Duration::from_millis(200),
        max_lines_per_poll: 10_000,
        keep_warm_ms: 15 * 60_000,
        stats_window_s: 3600,
        demo_samples: 0,
    };
    let state = State::new(settings, tasks::backend_info(&cloud));
    let clock = cloud.clock.clone();
    let mut c = Console {
        app: App::new(state),
        tasks: Tasks::new(cloud, tx, opts),
        rx,
        clock,
    };
    let long = Duration::from_secs(90);

    // Listed and selected; its objects listed (none yet).
    c.until("the function", long, |s| {
        s.selected_function.as_deref() == Some("upper") && s.inputs.data.is_some()
    })
    .await;
    let f = c.app.state.function().unwrap().clone();
    assert_eq!(f.image, image);
    assert_eq!(f.input.as_ref().unwrap().bucket, "upper-in");

    // Upload three files through the prompt: three invocations follow.
    let files = tmp.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    for n in ["a", "b", "c"] {
        std::fs::write(files.join(format!("{n}.txt")), format!("file {n}\n")).unwrap();
    }
    c.char('u');
    c.typed(&files.display().to_string());
    c.code(KeyCode::Enter);
    assert_eq!(c.app.state.mode, Mode::Normal);
    c.until("three runs, joined with their inputs", long, |s| {
        ["a.txt", "b.txt", "c.txt"]
            .iter()
            .all(|k| s.input_state(k, None) == "done")
            && s.outputs.data.as_ref().is_some_and(|o| o.len() == 3)
    })
    .await;
    assert!(
        c.status().starts_with("uploaded 3 file(s)"),
        "{}",
        c.status()
    );
    let st = &c.app.state;
    assert_eq!(st.history.len(), 3);
    assert!(
        st.logs
            .lines
            .iter()
            .any(|l| l.message.starts_with("upper-cased a.txt"))
    );
    assert_eq!(st.visible_objects(Side::Output).len(), 3);
    // CloudWatch's figures for the functions pane.
    c.until("the function's figures", long, |s| {
        s.stats
            .get("upper")
            .is_some_and(|f| f.invocations >= 3 && f.p50_ms.is_some())
    })
    .await;
    let fig = c.app.state.stats["upper"].clone();
    assert_eq!(fig.errors, 0);
    assert!(fig.warm.unwrap_or(0) >= 1, "{fig:?}");

    // The batch over the three inputs, confirmed, followed to the end.
    c.char('r');
    c.char('y');
    c.until("the batch", long, |s| {
        s.batch
            .as_ref()
            .is_some_and(|b| b.phase == BatchPhase::Done)
    })
    .await;
    let b = c.app.state.batch.clone().unwrap();
    assert_eq!((b.total, b.done, b.failed), (3, 3, 0), "{b:?}");
    c.until("the batch's runs in the table", long, |s| {
        s.history.len() == 6
    })
    .await;

    // One request's lines, from the invocations pane.
    c.char('4');
    c.code(KeyCode::Enter);
    let LogSource::Request { request_id, .. } = c.app.state.logs.source.clone() else {
        panic!("no request opened: {:?}", c.app.state.logs.source)
    };
    c.until("the request's lines", long, |s| {
        s.logs.request.data.is_some()
    })
    .await;
    let lines = c.app.state.logs.request.data.clone().unwrap();
    assert!(
        lines[0]
            .message
            .starts_with(&format!("START RequestId: {request_id}"))
    );
    assert!(
        lines
            .last()
            .unwrap()
            .message
            .starts_with(&format!("REPORT RequestId: {request_id}"))
    );
    assert!(lines.iter().any(|l| l.message.starts_with("upper-cased")));

    // Preheat 2, invoke once, then delete.
    c.char('1');
    c.char('p');
    c.key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    c.typed("2");
    c.code(KeyCode::Enter);
    c.until("the preheat", long, |s| s.busy.is_empty()).await;
    assert!(
        c.status().starts_with("preheated upper: 2 of 2 warm"),
        "{}",
        c.status()
    );
    c.char('i');
    c.until("the invoke", long, |s| s.busy.is_empty()).await;
    assert!(c.status().starts_with("invoked upper:"), "{}", c.status());
    c.key(KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL));
    c.char('y');
    c.until("the delete", long, |s| {
        s.busy.is_empty() && s.functions.data.as_ref().is_some_and(|f| f.is_empty())
    })
    .await;
    assert_eq!(c.status(), "deleted upper");
    assert_eq!(c.app.state.selected_function, None);
    drop(c);
    local.shutdown().await;
}
