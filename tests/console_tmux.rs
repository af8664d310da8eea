//! The console end to end: the real binary in a real terminal (tmux)
//! against the local cloud it starts in-process, driven by keys like a
//! user: accept the demo, upload 20 files, launch the batch, wait for the
//! invocations, open one request's logs, quit; then check the terminal is
//! restored (main screen, same tty modes as before).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::util::supervisor_bin;

struct Tmux {
    socket: String,
    dir: PathBuf,
}

impl Tmux {
    fn cmd(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs (apt-get install tmux)")
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.cmd(&["capture-pane", "-p", "-t", "console"]).stdout)
            .into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "console"];
        args.extend_from_slice(keys);
        let o = self.cmd(&args);
        assert!(o.status.success(), "send-keys {keys:?}");
    }

    fn literal(&self, text: &str) {
        let o = self.cmd(&["send-keys", "-t", "console", "-l", text]);
        assert!(o.status.success(), "send-keys -l {text:?}");
    }

    /// Waits until the screen satisfies `check` (the timeout only bounds
    /// a failure), and returns that screen.
    fn wait_for(&self, what: &str, timeout: Duration, check: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let s = self.screen();
            if check(&s) {
                return s;
            }
            if Instant::now() > deadline {
                let log = std::fs::read_to_string(self.dir.join("stderr")).unwrap_or_default();
                panic!("timed out waiting for {what}; screen:\n{s}\nstderr:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]);
    }
}

/// The number before " done" in the invocations pane's title.
fn done_count(screen: &str) -> usize {
    screen
        .lines()
        .find_map(|l| {
            let at = l.find("4 Invocations")?;
            let rest = &l[at..];
            let end = rest.find(" done")?;
            rest[..end]
                .rsplit(|c: char| !c.is_ascii_digit() && c != ',')
                .next()?
                .replace(',', "")
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

fn write_files(dir: &Path, n: usize) {
    std::fs::create_dir_all(dir).unwrap();
    for i in 1..=n {
        std::fs::write(
            dir.join(format!("doc-{i:02}.txt")),
            format!("document {i}: serverless file processing\n"),
        )
        .unwrap();
    }
}

#[test]
fn the_console_runs_a_batch_and_restores_the_terminal() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_owned();
    let files = dir.join("files");
    write_files(&files, 20);
    let bin = env!("CARGO_BIN_EXE_scar-tui");
    let script = format!(
        "stty -g > '{d}/stty.before'; SCAR_TUI_CONFIG_DIR='{d}/config' SCAR_SUPERVISOR='{sup}' '{bin}' --data-dir '{d}/data' 2> '{d}/stderr'; echo EXIT=$? > '{d}/exit'; stty -g > '{d}/stty.after'; sleep 600",
        d = dir.display(),
        sup = supervisor_bin().display(),
    );
    let t = Tmux {
        socket: format!("scar-e2e-{}", std::process::id()),
        dir: dir.clone(),
    };
    let o = t.cmd(&[
        "new-session",
        "-d",
        "-s",
        "console",
        "-x",
        "160",
        "-y",
        "48",
        "sh",
        "-c",
        &script,
    ]);
    assert!(
        o.status.success(),
        "tmux new-session: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let long = Duration::from_secs(120);

    // First start on an empty local cloud: the demo is offered.
    t.wait_for("the demo offer", long, |s| {
        s.contains("Create the demo function")
    });
    t.keys(&["y"]);
    // Created, and listed (the selection follows the list).
    t.wait_for("the demo function", long, |s| {
        s.contains("created demo") && s.contains("1 Functions  (1)")
    });

    // Upload 20 files through the prompt.
    t.keys(&["u"]);
    t.wait_for("the upload prompt", long, |s| s.contains("Upload"));
    t.literal(&format!("{}/", files.display()));
    t.keys(&["Enter"]);
    t.wait_for("the upload", long, |s| s.contains("uploaded 20 file(s)"));

    // The batch over every input object, confirmed.
    t.keys(&["r"]);
    t.wait_for("the batch question", long, |s| s.contains("y/n"));
    t.keys(&["y"]);
    let s = t.wait_for("the batch to finish", Duration::from_secs(240), |s| {
        s.contains("batch of demo:") && done_count(s) >= 20
    });
    assert!(s.contains("0 failed"), "{s}");

    // One request's logs, from the invocations pane.
    t.keys(&["4"]);
    t.keys(&["Enter"]);
    let s = t.wait_for("the request's log lines", long, |s| {
        s.contains("START RequestId:") && s.contains("REPORT RequestId:") && s.contains("request ")
    });
    assert!(s.contains("3 Logs"), "{s}");

    t.keys(&["q"]);
    let exit = {
        let deadline = Instant::now() + long;
        loop {
            if let Ok(e) = std::fs::read_to_string(dir.join("exit")) {
                break e;
            }
            assert!(
                Instant::now() < deadline,
                "the console did not quit:\n{}",
                t.screen()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    assert_eq!(exit.trim(), "EXIT=0");
    // Restored: the main screen again, and the tty modes as they were.
    let alt = t.cmd(&["display", "-p", "-t", "console", "#{alternate_on}"]);
    assert_eq!(String::from_utf8_lossy(&alt.stdout).trim(), "0");
    let before = std::fs::read_to_string(dir.join("stty.before")).unwrap();
    let after = {
        let deadline = Instant::now() + long;
        loop {
            match std::fs::read_to_string(dir.join("stty.after")) {
                Ok(a) if !a.is_empty() => break a,
                _ => {
                    assert!(Instant::now() < deadline);
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
    };
    assert_eq!(before, after, "tty modes restored");
}
