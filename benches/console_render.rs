//! Frame cost and memory of the console under load: 10,000 invocations and
//! 100,000 log lines in the buffers (the issue's figure), drawn through
//! ratatui's real crossterm backend into a sink (so the cell diff and the
//! escape sequences are paid, as on a terminal), at 200x60.
//!
//! Scenarios, each a median over the frames drawn:
//! - idle: the same state redrawn (ages tick);
//! - live tail: 200 new lines and 20 new invocations between frames, so
//!   the logs and invocations panes change every frame;
//! - logs filter: a filter matching 1 line in 100, highlighted; and one
//!   matching nothing (set with keys, so `update` keeps its index of
//!   matching lines and no frame scans the 100,000);
//! - expanded logs and expanded invocations;
//! - every pane focused in turn.
//!
//! Peak RSS is read from /proc/self/status (VmHWM) after filling and
//! drawing. Targets: under 5 ms per frame, under 150 MB.
//!
//! Run: `cargo bench -p scar-tui --bench console_render`
//! (`SCAR_BENCH_FRAMES` sets frames per scenario, default 200).

use std::time::{Duration, Instant};

use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use ratatui::{TerminalOptions, Viewport};
use scar_tui::aws::functions::FunctionInfo;
use scar_tui::aws::objects::FunctionInput;
use scar_tui::console::msg::Msg;
use scar_tui::console::settings::Settings;
use scar_tui::console::state::{BackendInfo, FunctionRow, LogEntry, ObjectRow, Pane, Side};
use scar_tui::console::update::App;

const NOW: i64 = 1_800_000_000_000;

fn rss_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn function(name: &str) -> FunctionRow {
    FunctionRow {
        info: FunctionInfo {
            name: name.into(),
            arn: format!("arn:aws:lambda:us-east-1:000000000000:function:{name}"),
            role: "arn:aws:iam::000000000000:role/scar".into(),
            memory: 1024,
            timeout: 300,
            ephemeral_storage: 2048,
            environment: Default::default(),
            code_sha256: String::new(),
            state: Some("Active".into()),
            reserved_concurrency: None,
            last_modified: String::new(),
        },
        image: "grycap/ffmpeg".into(),
        input: Some(FunctionInput {
            bucket: format!("{name}-in"),
            prefix: "input/".into(),
            suffixes: vec![],
        }),
        outputs: vec![(format!("{name}-out"), "output/".into())],
    }
}

/// The log lines of one invocation, as Lambda and the supervisor write them.
fn invocation(i: u64, ts: i64) -> Vec<LogEntry> {
    let id = format!("{:08x}-7d3c-4b6e-9a51-{:012x}", i, i * 7919);
    let stream = format!("2026/11/26/[$LATEST]{:032x}", i % 64);
    let mut v = vec![LogEntry {
        timestamp: ts,
        stream: stream.clone(),
        message: format!("START RequestId: {id} Version: $LATEST"),
    }];
    for k in 0..6 {
        v.push(LogEntry {
            timestamp: ts + 1 + k,
            stream: stream.clone(),
            message: format!("SCRIPT: frame {k} of input/video-{i:06}.mp4: ffmpeg -i in.mp4 -vf hue=s=0 out.mp4 speed=1.{k}x"),
        });
    }
    v.push(LogEntry {
        timestamp: ts + 8,
        stream: stream.clone(),
        message: format!(
            r#"{{"_aws":{{"Timestamp":{ts},"CloudWatchMetrics":[{{"Namespace":"SCAR","Dimensions":[["FunctionName"]],"Metrics":[{{"Name":"CacheHit"}}]}}]}},"FunctionName":"bench","RequestId":"{id}","InputKey":"input/video-{i:06}.mp4","CacheHit":{},"ExitCode":0,"Status":"succeeded","PullMs":0,"UnpackMs":0,"ScriptMs":{},"UploadMs":12}}"#,
            u8::from(!i.is_multiple_of(10)),
            100 + i % 900
        ),
    });
    v.push(LogEntry {
        timestamp: ts + 9,
        stream: stream.clone(),
        message: format!("END RequestId: {id}"),
    });
    v.push(LogEntry {
        timestamp: ts + 9,
        stream,
        message: format!(
            "REPORT RequestId: {id}\tDuration: {}.00 ms\tBilled Duration: {} ms\tMemory Size: 1024 MB\tMax Memory Used: {} MB{}",
            120 + i % 900,
            120 + i % 900,
            40 + i % 30,
            if i.is_multiple_of(10) { "\tInit Duration: 210.40 ms" } else { "" }
        ),
    });
    v
}

/// Sets the logs filter the way a user does (`/`, the text, enter), so
/// that `update` keeps its index of matching lines.
fn set_filter(app: &mut App, text: &str) {
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    app.state.focus = Pane::Logs;
    let key = |c| KeyEvent::new(c, KeyModifiers::NONE);
    app.key(key(KeyCode::Char('/')));
    app.key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    for c in text.chars() {
        app.key(key(KeyCode::Char(c)));
    }
    app.key(key(KeyCode::Enter));
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The allocator of the `scar-tui` binary: memory measured as it runs there.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let frames: usize = std::env::var("SCAR_BENCH_FRAMES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let rss_start = rss_kb("VmRSS:");
    let mut app = App::new(scar_tui::console::state::State::new(
        Settings::default(),
        BackendInfo {
            backend: "local".into(),
            profile: None,
            region: "us-east-1".into(),
            endpoint: Some("http://127.0.0.1:40000".into()),
        },
    ));
    app.tick(NOW);
    let functions: Vec<FunctionRow> = (0..40).map(|i| function(&format!("fn-{i:02}"))).collect();
    app.message(Msg::Functions(Ok(functions)));
    let objects: Vec<ObjectRow> = (0..10_000)
        .map(|i| ObjectRow {
            key: format!("input/video-{i:06}.mp4"),
            size: 10_000_000 + i,
            modified_ms: Some(NOW - 60_000),
        })
        .collect();
    for side in [Side::Input, Side::Output] {
        app.message(Msg::Objects {
            function: "fn-00".into(),
            side,
            result: Ok(objects.clone()),
        });
    }
    // Fill: 100,000 lines, of which 10,000 invocations (10 lines each).
    let fill = Instant::now();
    let mut next = 0u64;
    for chunk in 0..100 {
        let mut lines = Vec::new();
        for _ in 0..100 {
            lines.extend(invocation(next, NOW - 600_000 + next as i64 * 50));
            next += 1;
        }
        let _ = chunk;
        app.message(Msg::LogLines {
            function: "fn-00".into(),
            lines,
            sampled: 0,
        });
    }
    let fill_ms = fill.elapsed().as_secs_f64() * 1000.0;
    let s = &app.state;
    assert_eq!(s.logs.lines.len(), 100_000, "log lines held");
    assert_eq!(s.history.len(), 10_000, "invocations held");

    let area = Rect::new(0, 0, 200, 60);
    let mut term = Terminal::with_options(
        CrosstermBackend::new(std::io::sink()),
        TerminalOptions {
            viewport: Viewport::Fixed(area),
        },
    )
    .expect("terminal over a sink");
    let mut draw = |app: &App| {
        let t = Instant::now();
        term.draw(|f| scar_tui::views::draw(f, &app.state))
            .expect("draw");
        t.elapsed()
    };

    let mut rows: Vec<(String, Duration, Duration)> = Vec::new();
    let mut record = |name: &str, v: Vec<Duration>| {
        let mut sorted = v.clone();
        sorted.sort();
        let p95 = sorted[(sorted.len() * 95 / 100).min(sorted.len() - 1)];
        rows.push((name.to_owned(), median(v), p95));
    };

    // Idle redraws.
    let mut v = Vec::new();
    for i in 0..frames {
        app.tick(NOW + i as i64 * 250);
        v.push(draw(&app));
    }
    record("idle redraw (functions focused)", v);

    // Live tail: new lines and invocations between frames.
    app.state.focus = Pane::Logs;
    let mut v = Vec::new();
    for i in 0..frames {
        let mut lines = Vec::new();
        for _ in 0..20 {
            lines.extend(invocation(next, NOW + next as i64));
            next += 1;
        }
        app.message(Msg::LogLines {
            function: "fn-00".into(),
            lines,
            sampled: 0,
        });
        app.tick(NOW + 600_000 + i as i64 * 250);
        v.push(draw(&app));
    }
    record("live tail: +200 lines, +20 invocations per frame", v);

    // A filter matching 1 line in 100 (the cold-start REPORTs).
    set_filter(&mut app, "Init Duration");
    let mut v = Vec::new();
    for _ in 0..frames {
        v.push(draw(&app));
    }
    record("logs filter, 1 line in 100 matches", v);
    // The worst case: nothing matches, so the view walks the whole ring.
    set_filter(&mut app, "no line holds this");
    let mut v = Vec::new();
    for _ in 0..frames {
        v.push(draw(&app));
    }
    record("logs filter, no match (an empty index)", v);
    set_filter(&mut app, "");

    for (pane, name) in [
        (Pane::Logs, "expanded logs"),
        (Pane::Invocations, "expanded invocations"),
        (Pane::Objects, "expanded objects (10,000 + 10,000)"),
        (Pane::Metrics, "expanded metrics"),
    ] {
        app.state.focus = pane;
        app.state.expanded = true;
        let mut v = Vec::new();
        for _ in 0..frames {
            v.push(draw(&app));
        }
        record(name, v);
    }
    app.state.expanded = false;
    // Scrolled to the far end of the invocations (the oldest row).
    app.state.focus = Pane::Invocations;
    app.state.invocations_cursor.selected = 9_999;
    let mut v = Vec::new();
    for _ in 0..frames {
        v.push(draw(&app));
    }
    record("invocations, cursor on the 10,000th row", v);

    let hwm_mb = rss_kb("VmHWM:") as f64 / 1024.0;
    println!("console render: 200x60, crossterm backend into a sink, {frames} frames per row");
    println!(
        "buffers: {} log lines, {} invocations ({} evicted); filled in {fill_ms:.0} ms",
        app.state.logs.lines.len(),
        app.state.history.len(),
        app.state.history.evicted()
    );
    println!(
        "{:<50} {:>12} {:>12} {:>8}",
        "scenario", "median ms", "p95 ms", "target"
    );
    for (name, med, p95) in &rows {
        println!(
            "{:<50} {:>12.3} {:>12.3} {:>8}",
            name,
            med.as_secs_f64() * 1000.0,
            p95.as_secs_f64() * 1000.0,
            if med.as_secs_f64() * 1000.0 < 5.0 {
                "< 5 ok"
            } else {
                "MISSED"
            }
        );
    }
    println!(
        "peak RSS {hwm_mb:.1} MB (at start {:.1} MB); target < 150 MB: {}",
        rss_start as f64 / 1024.0,
        if hwm_mb < 150.0 { "ok" } else { "MISSED" }
    );
}
