//! SCAR's own YAML function files, imported as [`FunctionDefinition`]s.
//!
//! The current shape (SCAR 4, its `examples/*/scar-*.yaml`):
//! `functions.aws[]` entries, each with `lambda.{name, memory, timeout,
//! init_script, environment.Variables, container.image,
//! container.environment.Variables, container.timeout_threshold, input[],
//! output[]}` and, beside `lambda`, `iam.role` and
//! `cloudwatch.log_retention_policy_in_days`. Storage entries are
//! `{storage_provider: s3[.ID], path: BUCKET[/FOLDER], prefix: [..], suffix: [..]}`.
//! The older shape (`functions.NAME.{image, init_script, memory, s3.input_bucket}`,
//! the paper's era) is read too, with SCAR's `input/` and `output/` folders.
//!
//! What SCAR can do and this project cannot (OSCAR services, AWS Batch,
//! API Gateway, output name-prefix filters) is reported as a warning, never
//! silently dropped. serde_yaml keeps no spans for values, so the position
//! of a semantic error is found by walking the text's block structure
//! ([`locate`]); type errors carry serde_yaml's own position.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::{DefinitionError, FunctionDefinition, Loaded, Script, Storage, check, folder};

/// A YAML scalar read as text (`KEY: 80` is the string "80", as SCAR passes it).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Scalar {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Scalar {
    fn text(&self) -> String {
        match self {
            Scalar::Text(s) => s.clone(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Bool(b) => b.to_string(),
        }
    }
}

/// `suffix: wav` or `suffix: [wav, srt]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum TextList {
    One(String),
    Many(Vec<String>),
}

impl TextList {
    fn items(list: &Option<TextList>) -> Vec<String> {
        match list {
            None => Vec::new(),
            Some(TextList::One(s)) => vec![s.clone()],
            Some(TextList::Many(v)) => v.clone(),
        }
    }
}

#[derive(Debug, Deserialize)]
struct Doc {
    functions: Providers,
}

#[derive(Debug, Deserialize)]
struct Providers {
    aws: Option<Vec<AwsEntry>>,
    oscar: Option<serde_yaml::Value>,
}

#[derive(Debug, Deserialize)]
struct AwsEntry {
    lambda: Option<Lambda>,
    iam: Option<Iam>,
    cloudwatch: Option<Cloudwatch>,
    batch: Option<serde_yaml::Value>,
    api_gateway: Option<serde_yaml::Value>,
}

#[derive(Debug, Deserialize)]
struct Iam {
    role: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Cloudwatch {
    log_retention_policy_in_days: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct Vars {
    #[serde(rename = "Variables")]
    variables: Option<BTreeMap<String, Scalar>>,
}

#[derive(Debug, Deserialize)]
struct Container {
    image: Option<String>,
    environment: Option<Vars>,
    timeout_threshold: Option<Scalar>,
}

#[derive(Debug, Deserialize)]
struct Io {
    storage_provider: Option<String>,
    path: Option<String>,
    prefix: Option<TextList>,
    suffix: Option<TextList>,
}

#[derive(Debug, Deserialize)]
struct Lambda {
    name: Option<String>,
    memory: Option<i64>,
    timeout: Option<i64>,
    init_script: Option<String>,
    environment: Option<Vars>,
    container: Option<Container>,
    input: Option<Vec<Io>>,
    output: Option<Vec<Io>>,
    execution_mode: Option<String>,
}

#[derive(Debug, Deserialize)]
struct LegacyDoc {
    functions: BTreeMap<String, LegacyFunction>,
}

#[derive(Debug, Deserialize)]
struct LegacyFunction {
    image: Option<String>,
    init_script: Option<String>,
    memory: Option<i64>,
    timeout: Option<i64>,
    s3: Option<LegacyS3>,
}

#[derive(Debug, Deserialize)]
struct LegacyS3 {
    input_bucket: Option<String>,
    input_folder: Option<String>,
    output_bucket: Option<String>,
    output_folder: Option<String>,
}

/// One step of a path into the document.
#[derive(Debug, Clone, Copy)]
enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

/// Reads a SCAR YAML file's functions.
pub fn parse(text: &str, path: &Path) -> Result<Loaded, DefinitionError> {
    let cx = Cx { text, path };
    let doc: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| cx.yaml_error(&e))?;
    let Some(functions) = doc.get("functions") else {
        return Err(cx.at(
            &[],
            "no `functions:` key: a SCAR file lists its functions under functions.aws[].lambda"
                .into(),
        ));
    };
    let current = functions
        .as_mapping()
        .is_some_and(|m| m.contains_key("aws") || m.contains_key("oscar"));
    if current {
        let doc: Doc = serde_yaml::from_str(text).map_err(|e| cx.yaml_error(&e))?;
        cx.current(doc)
    } else {
        let doc: LegacyDoc = serde_yaml::from_str(text).map_err(|e| cx.yaml_error(&e))?;
        cx.legacy(doc)
    }
}

struct Cx<'a> {
    text: &'a str,
    path: &'a Path,
}

impl Cx<'_> {
    fn at(&self, segs: &[Seg<'_>], message: String) -> DefinitionError {
        let (line, column) = locate(self.text, segs);
        DefinitionError::At {
            path: self.path.to_owned(),
            line,
            column,
            message,
        }
    }

    fn yaml_error(&self, e: &serde_yaml::Error) -> DefinitionError {
        let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
        let mut message = strip_marks(&e.to_string());
        if message.contains("expected a string") || message.contains("did not match any variant") {
            message.push_str(": write a text value (in quotes if it looks like a number)");
        } else if message.contains("expected i64") {
            message.push_str(": write a whole number");
        }
        DefinitionError::At {
            path: self.path.to_owned(),
            line,
            column,
            message,
        }
    }

    fn script(&self, segs: &[Seg<'_>], rel: &str) -> Result<Script, DefinitionError> {
        let resolved = self.path.parent().unwrap_or(Path::new(".")).join(rel);
        let text = std::fs::read_to_string(&resolved).map_err(|e| {
            self.at(
                segs,
                format!(
                    "cannot read init_script {} ({e}); the path is relative to the SCAR file",
                    resolved.display()
                ),
            )
        })?;
        check::script(&text).map_err(|m| self.at(segs, m))?;
        Ok(Script::File {
            path: resolved,
            text,
        })
    }

    fn current(&self, doc: Doc) -> Result<Loaded, DefinitionError> {
        let mut loaded = Loaded::default();
        if doc.functions.oscar.is_some() {
            loaded.warnings.push(
                "functions.oscar: OSCAR services are not deployed by scar-tui; only functions.aws are".into(),
            );
        }
        let entries = doc.functions.aws.unwrap_or_default();
        if entries.is_empty() {
            return Err(self.at(
                &[Seg::Key("functions")],
                "no functions under functions.aws: add `aws:` with `- lambda: {name: ..., init_script: ..., container: {image: ...}}`"
                    .into(),
            ));
        }
        for (i, entry) in entries.into_iter().enumerate() {
            let base = [Seg::Key("functions"), Seg::Key("aws"), Seg::Index(i)];
            let Some(lambda) = entry.lambda else {
                return Err(self.at(
                    &base,
                    "this entry has no `lambda:`: SCAR files define each function under functions.aws[].lambda".into(),
                ));
            };
            let lp = [base[0], base[1], base[2], Seg::Key("lambda")];
            let name = lambda.name.ok_or_else(|| {
                self.at(
                    &lp,
                    "lambda has no `name`: add `name: FUNCTION_NAME`".into(),
                )
            })?;
            check::name(&name).map_err(|m| self.at(&join(&lp, &[Seg::Key("name")]), m))?;
            let image = lambda
                .container
                .as_ref()
                .and_then(|c| c.image.clone())
                .ok_or_else(|| {
                    self.at(
                        &lp,
                        format!("function {name} has no image: add `container:` with `image: REPOSITORY[:TAG]`"),
                    )
                })?;
            check::image(&image)
                .map_err(|m| self.at(&join(&lp, &[Seg::Key("container"), Seg::Key("image")]), m))?;
            let script_rel = lambda.init_script.ok_or_else(|| {
                self.at(
                    &lp,
                    format!(
                        "function {name} has no init_script: add `init_script: SCRIPT.sh` (relative to this file); \
                         scar-tui runs a script in the container on each file, not the image's default command"
                    ),
                )
            })?;
            let script = self.script(&join(&lp, &[Seg::Key("init_script")]), &script_rel)?;
            let mut def = FunctionDefinition::new(name.clone(), image.trim(), script);
            if let Some(m) = lambda.memory {
                def.memory =
                    check::memory(m).map_err(|e| self.at(&join(&lp, &[Seg::Key("memory")]), e))?;
            }
            if let Some(t) = lambda.timeout {
                def.timeout = check::timeout(t)
                    .map_err(|e| self.at(&join(&lp, &[Seg::Key("timeout")]), e))?;
            }
            let lambda_vars = lambda
                .environment
                .and_then(|v| v.variables)
                .unwrap_or_default();
            let container_vars = lambda
                .container
                .as_ref()
                .and_then(|c| c.environment.as_ref())
                .and_then(|v| v.variables.clone())
                .unwrap_or_default();
            // Both reach the script: the supervisor passes the function's
            // variables into the container, so the two SCAR levels merge.
            for (k, v) in lambda_vars.iter().chain(container_vars.iter()) {
                check::env_var(k, &v.text())
                    .map_err(|m| self.at(&join(&lp, &[Seg::Key("environment"), Seg::Key(k)]), m))?;
                def.environment.insert(k.clone(), v.text());
            }
            if let Some(t) = lambda
                .container
                .as_ref()
                .and_then(|c| c.timeout_threshold.as_ref())
            {
                def.environment
                    .entry("SCAR_TIMEOUT_RESERVE_S".into())
                    .or_insert_with(|| t.text());
            }
            let inputs = lambda.input.unwrap_or_default();
            if inputs.len() > 1 {
                return Err(self.at(
                    &join(&lp, &[Seg::Key("input"), Seg::Index(1)]),
                    format!("function {name} has {} inputs: scar-tui functions take one; deploy one function per input", inputs.len()),
                ));
            }
            if let Some(io) = inputs.first() {
                let segs = join(&lp, &[Seg::Key("input"), Seg::Index(0)]);
                let mut storage = self.storage(&segs, io)?;
                let prefixes = TextList::items(&io.prefix);
                match prefixes.as_slice() {
                    [] => {}
                    [p] => storage.prefix.push_str(p),
                    _ => {
                        return Err(self.at(
                            &[segs.as_slice(), &[Seg::Key("prefix")]].concat(),
                            "an input takes one prefix filter: keep one, or deploy one function per prefix".into(),
                        ));
                    }
                }
                def.input = Some(storage);
            }
            for (j, io) in lambda.output.unwrap_or_default().iter().enumerate() {
                let segs = join(&lp, &[Seg::Key("output"), Seg::Index(j)]);
                let storage = self.storage(&segs, io)?;
                let prefixes = TextList::items(&io.prefix);
                if !prefixes.is_empty() {
                    loaded.warnings.push(format!(
                        "{name}: output {} name-prefix filters ({}) are not applied: every output file matching the suffixes is uploaded",
                        storage.describe(),
                        prefixes.join(", ")
                    ));
                }
                check::no_loop(def.input.as_ref(), &storage).map_err(|m| self.at(&segs, m))?;
                def.outputs.push(storage);
            }
            if let Some(mode) = lambda.execution_mode.as_deref().filter(|m| *m != "lambda") {
                loaded.warnings.push(format!(
                    "{name}: execution_mode {mode} (AWS Batch) is not supported: the function runs on Lambda"
                ));
            }
            if entry.batch.is_some() || entry.api_gateway.is_some() {
                loaded.warnings.push(format!(
                    "{name}: batch and api_gateway settings are not used by scar-tui"
                ));
            }
            if let Some(role) = entry
                .iam
                .and_then(|i| i.role)
                .filter(|r| !r.trim().is_empty())
            {
                check::role(&role).map_err(|m| {
                    self.at(
                        &[base[0], base[1], base[2], Seg::Key("iam"), Seg::Key("role")],
                        m,
                    )
                })?;
                def.role = Some(role);
            }
            if let Some(days) = entry
                .cloudwatch
                .and_then(|c| c.log_retention_policy_in_days)
            {
                def.log_retention_days = Some(check::retention(days).map_err(|m| {
                    self.at(
                        &[
                            base[0],
                            base[1],
                            base[2],
                            Seg::Key("cloudwatch"),
                            Seg::Key("log_retention_policy_in_days"),
                        ],
                        m,
                    )
                })?);
            }
            if loaded.functions.iter().any(|f| f.name == def.name) {
                return Err(self.at(
                    &join(&lp, &[Seg::Key("name")]),
                    format!("function {name} is defined twice: rename one"),
                ));
            }
            loaded.functions.push(def);
        }
        Ok(loaded)
    }

    fn storage(&self, segs: &[Seg<'_>], io: &Io) -> Result<Storage, DefinitionError> {
        let key = |k: &'static str| [segs, &[Seg::Key(k)]].concat();
        let provider = io.storage_provider.as_deref().unwrap_or("s3");
        if provider != "s3" && !provider.starts_with("s3.") {
            return Err(self.at(
                &key("storage_provider"),
                format!("storage provider {provider:?} is not supported: scar-tui functions read and write S3 (write `s3`)"),
            ));
        }
        let path = io
            .path
            .as_deref()
            .ok_or_else(|| self.at(segs, "no `path`: write `path: BUCKET[/FOLDER]`".into()))?;
        let mut storage = Storage::parse_path(path).map_err(|m| self.at(&key("path"), m))?;
        storage.suffixes = TextList::items(&io.suffix);
        for s in &storage.suffixes {
            check::suffix(s).map_err(|m| self.at(&key("suffix"), m))?;
        }
        Ok(storage)
    }

    fn legacy(&self, doc: LegacyDoc) -> Result<Loaded, DefinitionError> {
        let mut loaded = Loaded::default();
        for (name, f) in doc.functions {
            let base = [Seg::Key("functions"), Seg::Key(name.as_str())];
            let key = |k: &'static str| [base[0], base[1], Seg::Key(k)];
            check::name(&name).map_err(|m| self.at(&base, m))?;
            let image = f.image.ok_or_else(|| {
                self.at(
                    &base,
                    format!("function {name} has no image: add `image: REPOSITORY[:TAG]`"),
                )
            })?;
            check::image(&image).map_err(|m| self.at(&key("image"), m))?;
            let rel = f.init_script.ok_or_else(|| {
                self.at(
                    &base,
                    format!("function {name} has no init_script: add `init_script: SCRIPT.sh`"),
                )
            })?;
            let script = self.script(&key("init_script"), &rel)?;
            let mut def = FunctionDefinition::new(name.clone(), image.trim(), script);
            if let Some(m) = f.memory {
                def.memory = check::memory(m).map_err(|e| self.at(&key("memory"), e))?;
            }
            if let Some(t) = f.timeout {
                def.timeout = check::timeout(t).map_err(|e| self.at(&key("timeout"), e))?;
            }
            if let Some(s3) = f.s3
                && let Some(bucket) = s3.input_bucket
            {
                check::bucket(&bucket).map_err(|m| self.at(&key("s3"), m))?;
                // SCAR 1.x's convention: files land in BUCKET/input, results go to BUCKET/output.
                let input = Storage {
                    bucket: bucket.clone(),
                    prefix: folder(s3.input_folder.as_deref().unwrap_or("input")),
                    suffixes: Vec::new(),
                };
                let out_bucket = s3.output_bucket.unwrap_or(bucket);
                check::bucket(&out_bucket).map_err(|m| self.at(&key("s3"), m))?;
                let output = Storage {
                    bucket: out_bucket,
                    prefix: folder(s3.output_folder.as_deref().unwrap_or("output")),
                    suffixes: Vec::new(),
                };
                check::no_loop(Some(&input), &output).map_err(|m| self.at(&key("s3"), m))?;
                def.input = Some(input);
                def.outputs.push(output);
            }
            loaded.functions.push(def);
        }
        if loaded.functions.is_empty() {
            return Err(self.at(
                &[Seg::Key("functions")],
                "no functions under `functions:`".into(),
            ));
        }
        Ok(loaded)
    }
}

/// `base` then `more`.
fn join<'a>(base: &[Seg<'a>], more: &[Seg<'a>]) -> Vec<Seg<'a>> {
    [base, more].concat()
}

/// serde_yaml's message without its " at line N column M" marks.
fn strip_marks(message: &str) -> String {
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
fn locate(text: &str, segs: &[Seg<'_>]) -> (usize, usize) {
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

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "functions:
  aws:
  - lambda:
      name: first
      memory: 64
      container:
        image: grycap/ffmpeg
  - lambda:
      name: second
      input:
      - storage_provider: minio
        path: b/in
";

    #[test]
    fn locate_walks_blocks() {
        let p = |segs: &[Seg<'_>]| locate(SAMPLE, segs);
        let l0 = [
            Seg::Key("functions"),
            Seg::Key("aws"),
            Seg::Index(0),
            Seg::Key("lambda"),
        ];
        assert_eq!(p(&l0), (3, 5));
        assert_eq!(p(&[&l0[..], &[Seg::Key("memory")]].concat()), (5, 15));
        let l1 = [
            Seg::Key("functions"),
            Seg::Key("aws"),
            Seg::Index(1),
            Seg::Key("lambda"),
        ];
        assert_eq!(p(&[&l1[..], &[Seg::Key("name")]].concat()), (9, 13));
        assert_eq!(
            p(&[
                &l1[..],
                &[
                    Seg::Key("input"),
                    Seg::Index(0),
                    Seg::Key("storage_provider")
                ]
            ]
            .concat()),
            (11, 27)
        );
        assert_eq!(
            p(&[
                &l1[..],
                &[Seg::Key("input"), Seg::Index(0), Seg::Key("path")]
            ]
            .concat()),
            (12, 15)
        );
    }

    #[test]
    fn marks_are_stripped() {
        assert_eq!(
            strip_marks(
                "functions.aws[0]: invalid type: string \"x\", expected i64 at line 5 column 15"
            ),
            "functions.aws[0]: invalid type: string \"x\", expected i64"
        );
    }

    fn parse_in(dir: &Path, yaml: &str) -> Result<Loaded, DefinitionError> {
        std::fs::write(dir.join("s.sh"), "echo hi\n").unwrap();
        let p = dir.join("f.yaml");
        std::fs::write(&p, yaml).unwrap();
        parse(yaml, &p)
    }

    #[test]
    fn current_shape() {
        let dir = tempfile::tempdir().unwrap();
        let loaded = parse_in(
            dir.path(),
            "functions:
  aws:
  - lambda:
      name: f
      memory: 1024
      init_script: s.sh
      environment:
        Variables:
          A: 1
      container:
        image: grycap/ffmpeg
        timeout_threshold: 5
        environment:
          Variables:
            B: two
      input:
      - storage_provider: s3
        path: bkt/in
        suffix: [.avi]
      output:
      - storage_provider: s3.my_s3
        path: bkt/out
        prefix: [result-]
    iam:
      role: arn:aws:iam::123456789012:role/scar
    cloudwatch:
      log_retention_policy_in_days: 30
  oscar:
  - my_oscar:
      name: x
",
        )
        .unwrap();
        let f = &loaded.functions[0];
        assert_eq!((f.name.as_str(), f.memory), ("f", 1024));
        assert_eq!(f.environment["A"], "1");
        assert_eq!(f.environment["B"], "two");
        assert_eq!(f.environment["SCAR_TIMEOUT_RESERVE_S"], "5");
        let input = f.input.as_ref().unwrap();
        assert_eq!(
            (input.bucket.as_str(), input.prefix.as_str()),
            ("bkt", "in/")
        );
        assert_eq!(input.suffixes, vec![".avi".to_owned()]);
        assert_eq!(f.outputs[0].prefix, "out/");
        assert_eq!(
            f.role.as_deref(),
            Some("arn:aws:iam::123456789012:role/scar")
        );
        assert_eq!(f.log_retention_days, Some(30));
        assert_eq!(loaded.warnings.len(), 2, "{:?}", loaded.warnings);
    }

    #[test]
    fn legacy_shape() {
        let dir = tempfile::tempdir().unwrap();
        let loaded = parse_in(
            dir.path(),
            "functions:\n  scar-imagemagick:\n    image: grycap/imagemagick\n    init_script: s.sh\n    s3:\n      input_bucket: scar-im\n",
        )
        .unwrap();
        let f = &loaded.functions[0];
        assert_eq!(f.input.as_ref().unwrap().prefix, "input/");
        assert_eq!(f.outputs[0].prefix, "output/");
    }

    #[test]
    fn errors_have_positions() {
        let dir = tempfile::tempdir().unwrap();
        let e = parse_in(dir.path(), SAMPLE).unwrap_err().to_string();
        assert!(e.contains("f.yaml:3:5:"), "{e}");
        assert!(e.contains("no init_script"), "{e}");
        let bad_provider = SAMPLE.replace("      memory: 64\n", "      init_script: s.sh\n").replace(
            "  - lambda:\n      name: second\n",
            "  - lambda:\n      name: second\n      init_script: s.sh\n      container: {image: x}\n",
        );
        let e = parse_in(dir.path(), &bad_provider).unwrap_err().to_string();
        assert!(e.contains(":13:27:") && e.contains("minio"), "{e}");
        let e = parse_in(
            dir.path(),
            "functions:\n  aws:\n  - lambda:\n      name: [x\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("f.yaml:"), "{e}");
        let e = parse_in(
            dir.path(),
            "functions:\n  aws:\n  - lambda:\n      name: f\n      memory: lots\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("f.yaml:5:15:"), "{e}");
    }
}
