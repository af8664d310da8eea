//! Helpers the view tests share: a state built by hand, drawing it on a
//! `TestBackend`, and reading the buffer back as text and styles.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;

use crate::aws::functions::FunctionInfo;
use crate::aws::objects::FunctionInput;
use crate::console::settings::Settings;
use crate::console::state::{BackendInfo, FunctionRow, LogSource, ObjectRow, State};

/// "Now" in the tests: 2024-05-01 12:00:00 UTC.
pub const NOW: i64 = 1_714_564_800_000;

/// A fresh state on the local backend, at [`NOW`].
pub fn state() -> State {
    let mut s = State::new(
        Settings::default(),
        BackendInfo {
            backend: "local".into(),
            profile: None,
            region: "us-east-1".into(),
            endpoint: Some("http://127.0.0.1:4566".into()),
        },
    );
    s.now_ms = NOW;
    s
}

/// A function row reading `in-bucket/name/in` and writing `out-bucket/name/out`.
pub fn function(name: &str) -> FunctionRow {
    FunctionRow {
        info: FunctionInfo {
            name: name.into(),
            arn: format!("arn:aws:lambda:us-east-1:000000000000:function:{name}"),
            role: "role".into(),
            memory: 512,
            timeout: 300,
            ephemeral_storage: 512,
            environment: Default::default(),
            code_sha256: "sha".into(),
            state: Some("Active".into()),
            reserved_concurrency: None,
            last_modified: "2024-05-01T10:00:00.000+0000".into(),
        },
        image: "alpine:3.19".into(),
        input: Some(FunctionInput {
            bucket: "in-bucket".into(),
            prefix: format!("{name}/in"),
            suffixes: vec![],
        }),
        outputs: vec![("out-bucket".into(), format!("{name}/out"))],
    }
}

/// A state with `names` listed and the first one selected (its tail
/// polled once, so that its panes are past "loading").
pub fn with_functions(names: &[&str]) -> State {
    let mut s = state();
    s.functions.data = Some(names.iter().map(|n| function(n)).collect());
    s.functions.at_ms = Some(NOW);
    if let Some(first) = names.first() {
        s.selected_function = Some((*first).to_owned());
        s.logs.source = LogSource::Function((*first).to_owned());
        s.logs.tail.data = Some(());
        s.logs.tail.at_ms = Some(NOW);
    }
    s
}

/// An object row.
pub fn object(key: &str, size: u64, modified_ms: i64) -> ObjectRow {
    ObjectRow {
        key: key.into(),
        size,
        modified_ms: Some(modified_ms),
    }
}

/// Feeds one whole invocation (START, metrics line, REPORT, END) into the
/// history, as the tail would, and recomputes the summary.
pub fn invocation(
    s: &mut State,
    id: &str,
    key: &str,
    start_ms: i64,
    ms: f64,
    cold: bool,
    status: &str,
) {
    let stream = "2024/05/01/[$LATEST]0123456789abcdef";
    s.history.push(
        start_ms,
        stream,
        &format!("START RequestId: {id} Version: $LATEST"),
    );
    let exit = if status == "succeeded" { 0 } else { 1 };
    s.history.push(
        start_ms + 1,
        stream,
        &format!(
            r#"{{"_aws":{{"CloudWatchMetrics":[]}},"RequestId":"{id}","InputKey":"{key}","CacheHit":1,"ExitCode":{exit},"Status":"{status}"}}"#
        ),
    );
    let init = if cold {
        "\tInit Duration: 200.10 ms"
    } else {
        ""
    };
    s.history.push(
        start_ms + ms as i64,
        stream,
        &format!(
            "REPORT RequestId: {id}\tDuration: {ms:.2} ms\tBilled Duration: {} ms\tMemory Size: 512 MB\tMax Memory Used: 40 MB{init}",
            ms.ceil()
        ),
    );
    s.history.push(
        start_ms + ms as i64,
        stream,
        &format!("END RequestId: {id}"),
    );
    s.summary = crate::console::summary::compute(&s.history, s.now_ms);
}

/// Draws with `draw` on a `w`x`h` test terminal and returns its buffer.
pub fn render(w: u16, h: u16, draw: impl FnOnce(&mut ratatui::Frame, Rect)) -> Buffer {
    let mut t = match Terminal::new(TestBackend::new(w, h)) {
        Ok(t) => t,
        Err(e) => panic!("test terminal: {e}"),
    };
    if let Err(e) = t.draw(|f| {
        let area = f.area();
        draw(f, area)
    }) {
        panic!("draw: {e}");
    }
    t.backend().buffer().clone()
}

/// The buffer as lines of text (wide chars once, trailing blanks kept).
pub fn lines(buf: &Buffer) -> Vec<String> {
    let a = buf.area;
    (a.y..a.bottom())
        .map(|y| (a.x..a.right()).map(|x| buf[(x, y)].symbol()).collect())
        .collect()
}

/// The whole buffer as one string, lines joined by `\n` (for messages).
pub fn text(buf: &Buffer) -> String {
    lines(buf).join("\n")
}

/// True when some line holds `needle`.
pub fn has(buf: &Buffer, needle: &str) -> bool {
    lines(buf).iter().any(|l| l.contains(needle))
}

/// The line holding `needle`, if any.
pub fn line_with(buf: &Buffer, needle: &str) -> Option<String> {
    lines(buf).into_iter().find(|l| l.contains(needle))
}

/// Where `needle` starts on screen (cell coordinates), if anywhere.
/// Counts cells, so a wide char before it shifts nothing.
pub fn find(buf: &Buffer, needle: &str) -> Option<(u16, u16)> {
    let a = buf.area;
    let first = needle.chars().next()?;
    for y in a.y..a.bottom() {
        for x in a.x..a.right() {
            if buf[(x, y)].symbol().starts_with(first) {
                let here: String = (x..a.right()).map(|x| buf[(x, y)].symbol()).collect();
                if here.starts_with(needle) {
                    return Some((x, y));
                }
            }
        }
    }
    None
}

/// The style of the cell where `needle` starts; panics when absent.
pub fn style_at(buf: &Buffer, needle: &str) -> Style {
    match find(buf, needle) {
        Some((x, y)) => buf[(x, y)].style(),
        None => panic!("{needle:?} is not on screen:\n{}", text(buf)),
    }
}
