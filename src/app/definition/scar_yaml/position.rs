//! Where in the text an error points. serde_yaml keeps no spans for
//! values, so a semantic error names its place as a path of [`Seg`]s and
//! [`locate`] walks the text's block structure to a line and column; a
//! serde_yaml error carries its own position, so its message loses the
//! " at line N column M" marks ([`strip_marks`]).

/// One step of a path into the document.
#[derive(Debug, Clone, Copy)]
pub(super) enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

/// `base` then `more`.
pub(super) fn join<'a>(base: &[Seg<'a>], more: &[Seg<'a>]) -> Vec<Seg<'a>> {
    [base, more].concat()
}

/// serde_yaml's message without its " at line N column M" marks.
pub(super) fn strip_marks(message: &str) -> String {
    let mut out = String::new();
    let mut rest = message;
    while let Some(i) = rest.find(" at line ") {
        out.push_str(&rest[..i]);
        let after = &rest[i + " at line ".len()..];
        let digits = |s: &str| s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let mut tail = &after[digits(after)..];
        if let Some(t) = tail.strip_prefix(" column ") {
            tail = &t[digits(t)..];
        }
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// The indentation of a line, and the column its content (after any `- `
/// list markers) starts at.
fn indent_of(line: &str) -> (usize, usize) {
    let indent = line.len() - line.trim_start().len();
    let mut content = indent;
    let mut rest = &line[indent..];
    while let Some(r) = rest
        .strip_prefix("- ")
        .or_else(|| (rest == "-").then_some(""))
    {
        content += rest.len() - r.len();
        let r2 = r.trim_start();
        content += r.len() - r2.len();
        rest = r2;
    }
    (indent, content)
}

fn is_blank(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#')
}

/// Best-effort 1-based line and column of a path in block-style YAML (what
/// SCAR files use): the deepest segment found wins; 1:1 when none is.
pub(super) fn locate(text: &str, segs: &[Seg<'_>]) -> (usize, usize) {
    let lines: Vec<&str> = text.lines().collect();
    let (mut start, mut end) = (0usize, lines.len());
    // Keys of the current block sit at a column greater than this.
    let mut parent: isize = -1;
    let mut best = (1, 1);
    for seg in segs {
        match seg {
            Seg::Key(k) => {
                let found = (start..end).find_map(|i| {
                    let line = lines[i];
                    if is_blank(line) {
                        return None;
                    }
                    let (_, col) = indent_of(line);
                    let content = &line[col..];
                    let after = content.strip_prefix(k)?.strip_prefix(':')?;
                    (col as isize > parent && (after.is_empty() || after.starts_with(' '))).then(
                        || {
                            let value = after.trim_start();
                            let value_col = if value.is_empty() || value.starts_with('#') {
                                col
                            } else {
                                line.len() - value.len()
                            };
                            (i, col, value_col)
                        },
                    )
                });
                let Some((i, col, value_col)) = found else {
                    return best;
                };
                best = (i + 1, line_col(lines[i], value_col));
                // The key's block: deeper lines, and a list at its own indent.
                let block_end = (i + 1..end)
                    .find(|&j| {
                        let l = lines[j];
                        if is_blank(l) {
                            return false;
                        }
                        let (ind, _) = indent_of(l);
                        ind < col || (ind == col && !l.trim_start().starts_with('-'))
                    })
                    .unwrap_or(end);
                start = i + 1;
                end = block_end;
                parent = col as isize - 1;
            }
            Seg::Index(n) => {
                let dashes: Vec<(usize, usize)> = (start..end)
                    .filter(|&i| !is_blank(lines[i]) && lines[i].trim_start().starts_with('-'))
                    .map(|i| (i, indent_of(lines[i]).0))
                    .collect();
                let Some(min) = dashes.iter().map(|d| d.1).min() else {
                    return best;
                };
                let items: Vec<usize> = dashes.iter().filter(|d| d.1 == min).map(|d| d.0).collect();
                let Some(&i) = items.get(*n) else {
                    return best;
                };
                best = (i + 1, min + 1);
                end = items.get(n + 1).copied().unwrap_or(end);
                start = i;
                parent = min as isize;
            }
        }
    }
    best
}

/// 1-based character column of a byte column.
fn line_col(line: &str, byte: usize) -> usize {
    line.get(..byte).map_or(byte, |s| s.chars().count()) + 1
}
