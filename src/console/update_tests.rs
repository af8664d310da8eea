//! App tests: keys and task messages in, state and effects out.

use std::collections::BTreeMap;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::aws::functions::FunctionInfo;
use crate::aws::objects::FunctionInput;
use crate::console::msg::Msg;
use crate::console::settings::Settings;
use crate::console::state::{
    BackendInfo, BatchPhase, BatchView, Confirm, ConfirmKind, FunctionRow, LogEntry, ObjectRow,
};

const NOW: i64 = 1_800_000_000_000;

fn row(name: &str) -> FunctionRow {
    FunctionRow {
        info: FunctionInfo {
            name: name.into(),
            arn: format!("arn:aws:lambda:us-east-1:000000000000:function:{name}"),
            role: "r".into(),
            memory: 256,
            timeout: 60,
            ephemeral_storage: 512,
            environment: BTreeMap::new(),
            code_sha256: String::new(),
            state: None,
            reserved_concurrency: None,
            last_modified: String::new(),
        },
        image: "oci:/img:demo".into(),
        input: Some(FunctionInput {
            bucket: format!("{name}-in"),
            prefix: String::new(),
            suffixes: Vec::new(),
        }),
        outputs: vec![(format!("{name}-out"), String::new())],
    }
}

fn app() -> App {
    let mut a = App::new(State::new(
        Settings::default(),
        BackendInfo {
            backend: "local".into(),
            region: "us-east-1".into(),
            ..Default::default()
        },
    ));
    a.tick(NOW);
    a
}

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

fn code(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

fn typed(a: &mut App, text: &str) -> Vec<Effect> {
    let mut fx = Vec::new();
    for c in text.chars() {
        fx.extend(a.key(key(c)));
    }
    fx
}

fn line(ts: i64, message: &str) -> LogEntry {
    LogEntry {
        timestamp: ts,
        stream: "2026/11/26/[$LATEST]abc".into(),
        message: message.into(),
    }
}

fn run_lines(id: &str, key: &str, ts: i64, status: &str) -> Vec<LogEntry> {
    vec![
        line(ts, &format!("START RequestId: {id} Version: $LATEST")),
        line(ts + 1, "SCRIPT: working"),
        line(
            ts + 2,
            &format!(
                r#"{{"_aws":{{"CloudWatchMetrics":[]}},"RequestId":"{id}","InputKey":"{key}","CacheHit":1,"ExitCode":0,"Status":"{status}"}}"#
            ),
        ),
        line(ts + 3, &format!("END RequestId: {id}")),
        line(
            ts + 3,
            &format!(
                "REPORT RequestId: {id}\tDuration: 30.00 ms\tBilled Duration: 30 ms\tMemory Size: 256 MB\tMax Memory Used: 12 MB"
            ),
        ),
    ]
}

#[test]
fn the_first_tick_lists_functions_and_a_list_selects_the_first() {
    let mut a = App::new(State::new(Settings::default(), BackendInfo::default()));
    assert_eq!(a.tick(NOW), vec![Effect::RefreshFunctions]);
    assert!(a.state.functions.loading);
    // One in flight at a time: the next tick asks nothing more.
    assert!(a.tick(NOW + 10_000).is_empty());
    let fx = a.message(Msg::Functions(Ok(vec![row("alpha"), row("beta")])));
    assert_eq!(a.state.selected_function.as_deref(), Some("alpha"));
    assert_eq!(
        fx,
        vec![Effect::Tail {
            function: Some("alpha".into()),
            since_ms: NOW + 10_000 - 3_600_000,
        }]
    );
    // The next tick lists alpha's objects and fetches figures.
    let fx = a.tick(NOW + 10_100);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::RefreshObjects { function, .. } if function == "alpha"))
    );
    assert!(fx.contains(&Effect::RefreshStats(vec!["alpha".into(), "beta".into()])));
}

#[test]
fn selection_stays_on_the_same_function_when_the_list_changes() {
    let mut a = app();
    a.message(Msg::Functions(Ok(vec![row("b"), row("c")])));
    a.key(key('j'));
    assert_eq!(a.state.selected_function.as_deref(), Some("c"));
    let fx = a.message(Msg::Functions(Ok(vec![row("a"), row("b"), row("c")])));
    assert_eq!(a.state.selected_function.as_deref(), Some("c"));
    assert_eq!(a.state.functions_cursor.selected, 2);
    assert!(fx.is_empty(), "same function: the tail is not restarted");
}

#[test]
fn a_failed_refresh_keeps_the_data_and_backs_off() {
    let mut a = app();
    a.message(Msg::Functions(Ok(vec![row("a")])));
    let t0 = NOW + 5_000;
    assert!(a.tick(t0).contains(&Effect::RefreshFunctions));
    a.message(Msg::Functions(Err(
        "dispatch failure: connection refused".into()
    )));
    assert_eq!(a.state.functions.data.as_ref().map(Vec::len), Some(1));
    assert_eq!(
        a.state.functions.error.as_deref(),
        Some("dispatch failure: connection refused")
    );
    assert_eq!(a.state.selected_function.as_deref(), Some("a"));
    // One failure: twice the 5 s interval before the next try.
    assert!(!a.tick(t0 + 9_000).contains(&Effect::RefreshFunctions));
    assert!(a.tick(t0 + 10_000).contains(&Effect::RefreshFunctions));
    a.message(Msg::Functions(Ok(vec![row("a")])));
    assert!(a.state.functions.error.is_none());
    assert_eq!(a.state.functions.failures, 0);
}

#[test]
fn log_lines_fill_the_tail_and_the_invocations_and_the_input_states() {
    let mut a = app();
    a.message(Msg::Functions(Ok(vec![row("f")])));
    a.message(Msg::Objects {
        function: "f".into(),
        side: Side::Input,
        result: Ok(vec![
            ObjectRow {
                key: "a.txt".into(),
                size: 3,
                modified_ms: Some(NOW - 1_000),
            },
            ObjectRow {
                key: "b.txt".into(),
                size: 3,
                modified_ms: Some(NOW - 1_000),
            },
        ]),
    });
    a.message(Msg::LogLines {
        function: "f".into(),
        lines: Vec::new(),
        sampled: 0,
    });
    assert_eq!(a.state.input_state("a.txt", Some(NOW - 1_000)), "pending");
    let mut lines = run_lines("r1", "a.txt", NOW - 500, "succeeded");
    lines.extend(run_lines("r2", "b.txt", NOW - 400, "failed"));
    a.message(Msg::LogLines {
        function: "f".into(),
        lines,
        sampled: 7,
    });
    assert_eq!(a.state.logs.lines.len(), 10);
    assert_eq!(a.state.logs.sampled, 7);
    assert_eq!(a.state.history.len(), 2);
    assert_eq!(a.state.input_state("a.txt", None), "done");
    assert_eq!(a.state.input_state("b.txt", None), "failed");
    assert_eq!(a.state.summary.totals.count, 2);
    assert_eq!(a.state.summary.totals.errors, 1);
    // Lines of another function (a late message after a switch) are dropped.
    a.message(Msg::LogLines {
        function: "g".into(),
        lines: run_lines("x", "c", NOW, "succeeded"),
        sampled: 0,
    });
    assert_eq!(a.state.history.len(), 2);
}

#[test]
fn buffers_stay_bounded() {
    let mut settings = Settings::default();
    settings.buffers.log_lines = 1_000;
    settings.buffers.invocations = 100;
    let mut a = App::new(State::new(settings, BackendInfo::default()));
    a.tick(NOW);
    a.message(Msg::Functions(Ok(vec![row("f")])));
    for batch in 0..20 {
        let mut lines = Vec::new();
        for i in 0..100 {
            lines.extend(run_lines(
                &format!("r{batch}-{i}"),
                &format!("k{batch}-{i}"),
                NOW + i,
                "succeeded",
            ));
        }
        a.message(Msg::LogLines {
            function: "f".into(),
            lines,
            sampled: 0,
        });
    }
    assert_eq!(a.state.logs.lines.len(), 1_000);
    assert_eq!(a.state.logs.lines.evicted(), 9_000);
    assert_eq!(a.state.history.len(), 100);
    assert_eq!(a.state.history.evicted(), 1_900);
    assert_eq!(a.state.history.newest(0).unwrap().request_id, "r19-99");
}

#[test]
fn enter_on_an_invocation_opens_its_logs_and_esc_comes_back() {
    let mut a = app();
    a.message(Msg::Functions(Ok(vec![row("f")])));
    a.message(Msg::LogLines {
        function: "f".into(),
        lines: run_lines("r1", "a.txt", NOW, "succeeded"),
        sampled: 0,
    });
    a.key(key('4'));
    assert_eq!(a.state.focus, Pane::Invocations);
    let fx = a.key(code(KeyCode::Enter));
    assert_eq!(
        fx,
        vec![Effect::RequestLogs {
            function: "f".into(),
            request_id: "r1".into()
        }]
    );
    assert_eq!(a.state.focus, Pane::Logs);
    assert!(a.state.logs.request.loading);
    a.message(Msg::RequestLines {
        request_id: "r1".into(),
        result: Ok(run_lines("r1", "a.txt", NOW, "succeeded")),
    });
    assert_eq!(a.state.logs.request.data.as_ref().map(Vec::len), Some(5));
    a.key(code(KeyCode::Esc));
    assert_eq!(a.state.logs.source, LogSource::Function("f".into()));
}

#[test]
fn the_log_filter_is_typed_live_and_esc_clears_it() {
    let mut a = app();
    a.key(key('3'));
    a.key(key('/'));
    typed(&mut a, "REPORT");
    assert_eq!(a.state.logs.filter.as_deref(), Some("REPORT"));
    a.key(code(KeyCode::Backspace));
    assert_eq!(a.state.logs.filter.as_deref(), Some("REPOR"));
    a.key(code(KeyCode::Enter));
    assert_eq!(a.state.mode, Mode::Normal);
    assert_eq!(a.state.logs.filter.as_deref(), Some("REPOR"));
    a.key(code(KeyCode::Esc));
    assert_eq!(a.state.logs.filter, None);
    // f, w, t, G.
    a.key(key('f'));
    assert!(!a.state.logs.follow);
    a.key(key('w'));
    assert!(a.state.logs.wrap);
    a.key(key('t'));
    assert!(!a.state.logs.timestamps);
    a.key(KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT));
    assert!(a.state.logs.follow);
}

#[test]
fn batch_progress_and_the_end_of_an_action() {
    let mut a = app();
    a.message(Msg::Functions(Ok(vec![row("f")])));
    a.key(key('r'));
    assert!(matches!(a.state.mode, Mode::Confirm(_)));
    let fx = a.key(key('y'));
    assert_eq!(
        fx,
        vec![Effect::BatchRun {
            function: "f".into()
        }]
    );
    assert_eq!(a.state.busy, vec!["batch run of f".to_owned()]);
    let view = BatchView {
        function: "f".into(),
        phase: BatchPhase::Waiting,
        total: 20,
        dispatched: 20,
        skipped: 0,
        rejected: 0,
        retries: 1,
        done: 10,
        failed: 0,
        started_ms: NOW - 5_000,
        finished_ms: None,
    };
    a.message(Msg::Batch(view.clone()));
    let b = a.state.batch.as_ref().unwrap();
    assert_eq!(b.running(), 10);
    assert_eq!(b.rate(NOW), 2.0);
    assert_eq!(b.eta_s(NOW), Some(5.0));
    a.message(Msg::Done {
        what: "batch run of f".into(),
        result: Ok("batch of f: 20 succeeded".into()),
        select: None,
    });
    assert!(a.state.busy.is_empty());
    assert_eq!(
        a.state.status.as_ref().unwrap().text,
        "batch of f: 20 succeeded"
    );
    a.message(Msg::Done {
        what: "deploying g".into(),
        result: Err("AccessDenied".into()),
        select: None,
    });
    let s = a.state.status.as_ref().unwrap();
    assert!(s.error);
    assert_eq!(s.text, "deploying g: AccessDenied");
}

#[test]
fn delete_asks_first_and_takes_the_marked_functions() {
    let mut a = app();
    a.message(Msg::Functions(Ok(vec![row("a"), row("b"), row("c")])));
    a.key(key(' '));
    a.key(key(' '));
    assert_eq!(a.state.marked_functions.len(), 2);
    let ctrl_d = KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL);
    assert!(a.key(ctrl_d).is_empty());
    assert_eq!(
        a.state.mode,
        Mode::Confirm(Confirm {
            kind: ConfirmKind::Delete(vec!["a".into(), "b".into()])
        })
    );
    assert!(a.key(key('n')).is_empty());
    assert_eq!(a.state.mode, Mode::Normal);
    a.key(ctrl_d);
    assert_eq!(
        a.key(key('y')),
        vec![Effect::Delete(vec!["a".into(), "b".into()])]
    );
    assert!(a.state.marked_functions.is_empty());
}

#[test]
fn an_upload_of_a_missing_file_keeps_the_prompt_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let present = dir.path().join("here.txt");
    std::fs::write(&present, "x").unwrap();
    let mut a = app();
    a.message(Msg::Functions(Ok(vec![row("f")])));
    a.key(key('u'));
    let missing = dir.path().join("nope.txt");
    typed(
        &mut a,
        &format!("{} {}", present.display(), missing.display()),
    );
    assert!(a.key(code(KeyCode::Enter)).is_empty());
    let Mode::Prompt(p) = &a.state.mode else {
        panic!("prompt closed")
    };
    assert_eq!(
        p.error.as_deref(),
        Some(
            format!(
                "{} does not exist: check the path (tab completes)",
                missing.display()
            )
            .as_str()
        )
    );
    assert!(p.edit.text.contains("nope.txt"), "what was typed is kept");
    // Fix it: ctrl-w deletes the last path; then the upload starts.
    a.key(KeyEvent::new(KeyCode::Char('w'), KeyModifiers::CONTROL));
    let fx = a.key(code(KeyCode::Enter));
    assert_eq!(
        fx,
        vec![Effect::Upload {
            function: "f".into(),
            input: row("f").input.unwrap(),
            paths: vec![present.clone()],
        }]
    );
}

#[test]
fn tab_completes_paths() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("inputs")).unwrap();
    std::fs::write(dir.path().join("image-1.png"), "x").unwrap();
    std::fs::write(dir.path().join("image-2.png"), "x").unwrap();
    let mut a = app();
    a.message(Msg::Functions(Ok(vec![row("f")])));
    a.key(key('u'));
    typed(&mut a, &format!("{}/in", dir.path().display()));
    a.key(code(KeyCode::Tab));
    let Mode::Prompt(p) = &a.state.mode else {
        panic!()
    };
    assert_eq!(p.edit.text, format!("{}/inputs/", dir.path().display()));
    a.key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    typed(&mut a, &format!("{}/im", dir.path().display()));
    a.key(code(KeyCode::Tab));
    let Mode::Prompt(p) = &a.state.mode else {
        panic!()
    };
    assert_eq!(p.edit.text, format!("{}/image-", dir.path().display()));
    assert_eq!(
        p.completions,
        vec!["image-1.png".to_owned(), "image-2.png".to_owned()]
    );
}

#[test]
fn the_form_marks_wrong_fields_and_deploys_a_right_one() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("s.sh");
    std::fs::write(&script, "echo hi\n").unwrap();
    let mut a = app();
    a.key(key('n'));
    typed(&mut a, "bad name!");
    a.key(code(KeyCode::Tab));
    typed(&mut a, "busybox");
    a.key(code(KeyCode::Tab));
    typed(&mut a, &script.display().to_string());
    a.key(code(KeyCode::Tab));
    typed(&mut a, "in-bucket");
    a.key(code(KeyCode::Tab));
    a.key(code(KeyCode::Tab));
    a.key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    typed(&mut a, "64");
    assert!(a.key(code(KeyCode::Enter)).is_empty());
    let Mode::Form(f) = &a.state.mode else {
        panic!("form closed")
    };
    assert!(f.fields[0].error.is_some(), "name");
    assert!(
        f.fields[5]
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("128"),
        "{:?}",
        f.fields[5].error
    );
    assert!(f.fields[1].error.is_none());
    // Fix name and memory.
    let mut a2 = a.clone();
    a2.key(KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT));
    for _ in 0..4 {
        a2.key(KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT));
    }
    a2.key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    typed(&mut a2, "good-name");
    for _ in 0..5 {
        a2.key(code(KeyCode::Tab));
    }
    a2.key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    typed(&mut a2, "256");
    let fx = a2.key(code(KeyCode::Enter));
    let [Effect::Deploy(def)] = fx.as_slice() else {
        panic!("{fx:?} {:?}", a2.state.mode)
    };
    assert_eq!(def.name, "good-name");
    assert_eq!(def.memory, 256);
    assert_eq!(def.input.as_ref().unwrap().bucket, "in-bucket");
    assert_eq!(a2.state.busy, vec!["deploying good-name".to_owned()]);
}

#[test]
fn command_mode_aliases_and_unknown_commands() {
    let mut a = app();
    for (cmd, pane) in [
        ("inv", Pane::Invocations),
        ("logs", Pane::Logs),
        ("fn", Pane::Functions),
        ("metrics", Pane::Metrics),
    ] {
        a.key(key(':'));
        typed(&mut a, cmd);
        a.key(code(KeyCode::Enter));
        assert_eq!(a.state.focus, pane, ":{cmd}");
    }
    a.key(key(':'));
    typed(&mut a, "out");
    a.key(code(KeyCode::Enter));
    assert_eq!((a.state.focus, a.state.side), (Pane::Objects, Side::Output));
    a.key(key(':'));
    typed(&mut a, "region eu-west-1");
    let fx = a.key(code(KeyCode::Enter));
    assert_eq!(
        fx,
        vec![Effect::Reconnect {
            profile: None,
            region: Some("eu-west-1".into())
        }]
    );
    a.key(key(':'));
    typed(&mut a, "frobnicate");
    a.key(code(KeyCode::Enter));
    let s = a.state.status.clone().unwrap();
    assert!(
        s.error && s.text.starts_with("unknown command :frobnicate"),
        "{s:?}"
    );
    a.key(key(':'));
    typed(&mut a, "q");
    a.key(code(KeyCode::Enter));
    assert!(a.state.quit);
}

#[test]
fn an_empty_local_cloud_offers_the_demo_once() {
    let mut a = app();
    a.message(Msg::Functions(Ok(Vec::new())));
    assert_eq!(
        a.state.mode,
        Mode::Confirm(Confirm {
            kind: ConfirmKind::Demo
        })
    );
    assert_eq!(a.key(key('y')), vec![Effect::Demo]);
    a.message(Msg::Functions(Ok(Vec::new())));
    assert_eq!(a.state.mode, Mode::Normal, "offered once");
    a.message(Msg::Done {
        what: "creating the demo function".into(),
        result: Ok("created demo".into()),
        select: Some("demo".into()),
    });
    assert_eq!(a.state.selected_function.as_deref(), Some("demo"));
    assert!(a.state.busy.is_empty());
}

#[test]
fn actions_without_a_function_say_what_to_do() {
    let mut a = app();
    a.message(Msg::Functions(Ok(Vec::new())));
    a.key(key('n'));
    a.key(code(KeyCode::Esc));
    a.key(key('p'));
    assert_eq!(a.state.mode, Mode::Normal);
    assert!(
        a.state
            .status
            .as_ref()
            .unwrap()
            .text
            .starts_with("no function selected")
    );
}

#[test]
fn the_log_filter_index_follows_new_and_evicted_lines() {
    let mut settings = Settings::default();
    settings.buffers.log_lines = 50;
    let mut a = App::new(State::new(settings, BackendInfo::default()));
    a.tick(NOW);
    a.message(Msg::Functions(Ok(vec![row("f")])));
    a.message(Msg::LogLines {
        function: "f".into(),
        lines: run_lines("r0", "k0", NOW, "succeeded"),
        sampled: 0,
    });
    a.key(key('3'));
    a.key(key('/'));
    typed(&mut a, "REPORT");
    a.key(code(KeyCode::Enter));
    let ix = a.state.logs.matches.clone().unwrap();
    assert_eq!(ix.seqs.len(), 1);
    for i in 1..30 {
        a.message(Msg::LogLines {
            function: "f".into(),
            lines: run_lines(&format!("r{i}"), "k", NOW + i, "succeeded"),
            sampled: 0,
        });
    }
    // 150 lines through a ring of 50: the 10 newest REPORTs are held.
    let s = &a.state.logs;
    let ix = s.matches.as_ref().unwrap();
    assert_eq!(ix.seqs.len(), 10);
    for seq in &ix.seqs {
        assert!(s.lines.by_seq(*seq).unwrap().message.starts_with("REPORT"));
    }
    assert_eq!(
        *ix,
        crate::console::state::FilterIndex::build("REPORT", &s.lines)
    );
    a.key(code(KeyCode::Esc));
    assert!(a.state.logs.matches.is_none());
}
