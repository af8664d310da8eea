//! Function definitions: what `init` deploys.
//!
//! Two sources, one model ([`FunctionDefinition`]):
//! - our TOML files (documented by `config/function.example.toml`), read
//!   with spans so that every error names the file, line and column, and
//!   unknown keys are refused by name;
//! - SCAR's own YAML function files ([`scar_yaml`]), so that SCAR users'
//!   `scar init -f scar.yaml` works unchanged as `scar-tui init -f scar.yaml`.
//!
//! The checks ([`check`]) are shared with the command-line flags of `init`
//! and `update`, which report the flag instead of a position.

pub mod check;
pub mod scar_yaml;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use toml::Spanned;

/// Memory when a definition names none (MB): SCAR's default.
pub const DEFAULT_MEMORY: u32 = 512;
/// Timeout when a definition names none (s): SCAR's default.
pub const DEFAULT_TIMEOUT: u32 = 300;
/// `/tmp` size when a definition names none (MB): Lambda's default.
pub const DEFAULT_EPHEMERAL_STORAGE: u32 = 512;

pub use scar_contract::runtime::Runtime;

pub use scar_contract::function::{Storage, folder};

/// Where the script comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Script {
    /// A file (its path resolved against the definition's folder), already read.
    File {
        /// The resolved path.
        path: PathBuf,
        /// Its text.
        #[serde(skip)]
        text: String,
    },
    /// Written in the definition.
    Inline {
        /// The text.
        #[serde(skip)]
        text: String,
    },
    /// The one the deployed function already has (`update` without `--script`).
    Deployed,
}

impl Script {
    /// The script's text, unless it is the deployed one.
    pub fn text(&self) -> Option<&str> {
        match self {
            Script::File { text, .. } | Script::Inline { text } => Some(text),
            Script::Deployed => None,
        }
    }
}

/// One function, whatever file or flags it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FunctionDefinition {
    /// Lambda function name.
    pub name: String,
    /// Image reference (`grycap/ffmpeg`, `docker://HOST/REPO:TAG`, `oci:PATH[:TAG]`, `docker-archive:PATH`).
    pub image: String,
    /// The script run inside the container on each input file.
    pub script: Script,
    /// Memory (MB, 128 to 10240).
    pub memory: u32,
    /// Timeout (s, 1 to 900).
    pub timeout: u32,
    /// `/tmp` size (MB, 512 to 10240): the image cache lives there.
    pub ephemeral_storage: u32,
    /// The function's own variables, passed to the script.
    pub environment: BTreeMap<String, String>,
    /// The input: objects created there trigger the function.
    pub input: Option<Storage>,
    /// Where output files go.
    pub outputs: Vec<Storage>,
    /// The container runtime.
    pub runtime: Runtime,
    /// Reserved concurrency, if any.
    pub reserved_concurrency: Option<u32>,
    /// IAM role ARN (the local backend has a default).
    pub role: Option<String>,
    /// Log retention of `/aws/lambda/NAME` (days), if any.
    pub log_retention_days: Option<u32>,
}

impl FunctionDefinition {
    /// A definition with the defaults and nothing else.
    pub fn new(
        name: impl Into<String>,
        image: impl Into<String>,
        script: Script,
    ) -> FunctionDefinition {
        FunctionDefinition {
            name: name.into(),
            image: image.into(),
            script,
            memory: DEFAULT_MEMORY,
            timeout: DEFAULT_TIMEOUT,
            ephemeral_storage: DEFAULT_EPHEMERAL_STORAGE,
            environment: BTreeMap::new(),
            input: None,
            outputs: Vec::new(),
            runtime: Runtime::Auto,
            reserved_concurrency: None,
            role: None,
            log_retention_days: None,
        }
    }

    /// Every check, for definitions built from flags; errors name the flag.
    pub fn validate(&self) -> Result<(), DefinitionError> {
        let field = |flag: &str, r: Result<(), String>| {
            r.map_err(|message| DefinitionError::Field {
                field: flag.to_owned(),
                message,
            })
        };
        field("--name", check::name(&self.name))?;
        field("--image", check::image(&self.image))?;
        if let Some(t) = self.script.text() {
            field("--script", check::script(t))?;
        }
        field("--memory", check::memory(i64::from(self.memory)).map(drop))?;
        field(
            "--timeout",
            check::timeout(i64::from(self.timeout)).map(drop),
        )?;
        field(
            "--ephemeral-storage",
            check::ephemeral_storage(i64::from(self.ephemeral_storage)).map(drop),
        )?;
        for (k, v) in &self.environment {
            field("--env", check::env_var(k, v))?;
        }
        if let Some(i) = &self.input {
            field("--input", check::bucket(&i.bucket))?;
            for s in &i.suffixes {
                field("--input-suffix", check::suffix(s))?;
            }
        }
        for o in &self.outputs {
            field("--output", check::bucket(&o.bucket))?;
            field("--output", check::no_loop(self.input.as_ref(), o))?;
        }
        if let Some(r) = &self.role {
            field("--role", check::role(r))?;
        }
        if let Some(d) = self.log_retention_days {
            field(
                "--log-retention-days",
                check::retention(i64::from(d)).map(drop),
            )?;
        }
        Ok(())
    }
}

/// What a definition file held.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    /// The functions, in file order.
    pub functions: Vec<FunctionDefinition>,
    /// What was read but not used (SCAR features with no counterpart here).
    pub warnings: Vec<String>,
}

/// Where a definition problem is.
#[derive(Debug, thiserror::Error)]
pub enum DefinitionError {
    /// The file cannot be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A problem at a position of a file.
    #[error("{}:{line}:{column}: {message}", path.display())]
    At {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column (characters).
        column: usize,
        /// What is wrong and the fix.
        message: String,
    },
    /// A problem with a command-line flag.
    #[error("{field}: {message}")]
    Field {
        /// The flag (`--memory`).
        field: String,
        /// What is wrong and the fix.
        message: String,
    },
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// Reads a definition file: SCAR's YAML for `.yaml`/`.yml` (or any file
/// starting with a `functions:` key), our TOML otherwise.
pub fn load(path: &Path) -> Result<Loaded, DefinitionError> {
    let text = std::fs::read_to_string(path).map_err(|source| DefinitionError::Read {
        path: path.to_owned(),
        source,
    })?;
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let yaml = match ext {
        "yaml" | "yml" => true,
        "toml" => false,
        _ => text
            .lines()
            .map(str::trim_end)
            .find(|l| !l.is_empty() && !l.trim_start().starts_with('#'))
            .is_some_and(|l| l.starts_with("functions:")),
    };
    if yaml {
        scar_yaml::parse(&text, path)
    } else {
        from_toml(&text, path).map(|f| Loaded {
            functions: vec![f],
            warnings: Vec::new(),
        })
    }
}

/// Our TOML, as written; every value keeps its span.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawToml {
    name: Spanned<String>,
    image: Spanned<String>,
    script: Option<Spanned<String>>,
    script_inline: Option<Spanned<String>>,
    memory: Option<Spanned<i64>>,
    timeout: Option<Spanned<i64>>,
    ephemeral_storage: Option<Spanned<i64>>,
    #[serde(default)]
    environment: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
    input: Option<Spanned<RawStorage>>,
    #[serde(default)]
    outputs: Vec<Spanned<RawStorage>>,
    runtime: Option<Spanned<String>>,
    reserved_concurrency: Option<Spanned<i64>>,
    role: Option<Spanned<String>>,
    log_retention_days: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStorage {
    bucket: Spanned<String>,
    #[serde(default)]
    prefix: Option<Spanned<String>>,
    #[serde(default)]
    suffixes: Vec<Spanned<String>>,
}

/// The keys a TOML definition may hold, for "did you mean".
const TOML_KEYS: &[&str] = &[
    "name",
    "image",
    "script",
    "script_inline",
    "memory",
    "timeout",
    "ephemeral_storage",
    "environment",
    "input",
    "outputs",
    "runtime",
    "reserved_concurrency",
    "role",
    "log_retention_days",
    "bucket",
    "prefix",
    "suffixes",
];

/// Parses and checks one TOML definition; `path` is where it was read
/// from (for messages, and the base of a relative `script`).
pub fn from_toml(text: &str, path: &Path) -> Result<FunctionDefinition, DefinitionError> {
    let at = |span: std::ops::Range<usize>, message: String| {
        let (line, column) = line_column(text, span.start);
        DefinitionError::At {
            path: path.to_owned(),
            line,
            column,
            message,
        }
    };
    let raw: RawToml = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        at(span, explain_toml(e.message()))
    })?;
    let check = |v: &Spanned<String>, f: fn(&str) -> Result<(), String>| {
        f(v.get_ref()).map_err(|m| at(v.span(), m))
    };
    let number = |v: &Option<Spanned<i64>>, f: fn(i64) -> Result<u32, String>, default: u32| match v
    {
        Some(v) => f(*v.get_ref()).map_err(|m| at(v.span(), m)),
        None => Ok(default),
    };
    check(&raw.name, check::name)?;
    check(&raw.image, check::image)?;
    let script = match (&raw.script, &raw.script_inline) {
        (Some(_), Some(inline)) => {
            return Err(at(
                inline.span(),
                "both script and script_inline are set: keep one".into(),
            ));
        }
        (Some(file), None) => {
            let resolved = path.parent().unwrap_or(Path::new(".")).join(file.get_ref());
            let text = std::fs::read_to_string(&resolved).map_err(|e| {
                at(
                    file.span(),
                    format!(
                        "cannot read script {} ({e}); the path is relative to the definition file",
                        resolved.display()
                    ),
                )
            })?;
            check::script(&text).map_err(|m| at(file.span(), m))?;
            Script::File {
                path: resolved,
                text,
            }
        }
        (None, Some(inline)) => {
            check(inline, check::script)?;
            Script::Inline {
                text: inline.get_ref().clone(),
            }
        }
        (None, None) => {
            return Err(at(
                raw.name.span(),
                "no script: add `script = \"PATH\"` (relative to this file) or `script_inline = '''...'''`".into(),
            ));
        }
    };
    let mut def = FunctionDefinition::new(
        raw.name.get_ref().clone(),
        raw.image.get_ref().trim(),
        script,
    );
    def.memory = number(&raw.memory, check::memory, DEFAULT_MEMORY)?;
    def.timeout = number(&raw.timeout, check::timeout, DEFAULT_TIMEOUT)?;
    def.ephemeral_storage = number(
        &raw.ephemeral_storage,
        check::ephemeral_storage,
        DEFAULT_EPHEMERAL_STORAGE,
    )?;
    if let Some(env) = &raw.environment {
        for (k, v) in env.get_ref() {
            check::env_var(k, v.get_ref()).map_err(|m| at(v.span(), m))?;
            def.environment.insert(k.clone(), v.get_ref().clone());
        }
    }
    let storage = |s: &Spanned<RawStorage>| -> Result<Storage, DefinitionError> {
        let r = s.get_ref();
        check(&r.bucket, check::bucket)?;
        for suffix in &r.suffixes {
            check(suffix, check::suffix)?;
        }
        Ok(Storage {
            bucket: r.bucket.get_ref().clone(),
            prefix: r
                .prefix
                .as_ref()
                .map(|p| folder(p.get_ref()))
                .unwrap_or_default(),
            suffixes: r.suffixes.iter().map(|s| s.get_ref().clone()).collect(),
        })
    };
    if let Some(i) = &raw.input {
        def.input = Some(storage(i)?);
    }
    for o in &raw.outputs {
        let out = storage(o)?;
        check::no_loop(def.input.as_ref(), &out).map_err(|m| at(o.span(), m))?;
        def.outputs.push(out);
    }
    if let Some(r) = &raw.runtime {
        def.runtime = r
            .get_ref()
            .parse()
            .map_err(|e: scar_contract::runtime::UnknownRuntime| at(r.span(), e.to_string()))?;
    }
    if let Some(n) = &raw.reserved_concurrency {
        def.reserved_concurrency =
            Some(check::reserved_concurrency(*n.get_ref()).map_err(|m| at(n.span(), m))?);
    }
    if let Some(r) = &raw.role {
        check(r, check::role)?;
        def.role = Some(r.get_ref().clone());
    }
    if let Some(d) = &raw.log_retention_days {
        def.log_retention_days = Some(check::retention(*d.get_ref()).map_err(|m| at(d.span(), m))?);
    }
    Ok(def)
}

/// toml's message, with the fix for the usual mistakes.
fn explain_toml(message: &str) -> String {
    let message = message.trim();
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let key = rest.split('`').next().unwrap_or("");
        let hint = check::closest(key, TOML_KEYS)
            .map(|k| format!("did you mean `{k}`? "))
            .unwrap_or_default();
        return format!(
            "unknown key `{key}`: {hint}remove it or fix its spelling (config/function.example.toml lists every key)"
        );
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let key = rest.split('`').next().unwrap_or("");
        return format!(
            "missing key `{key}`: add `{key} = ...` (see config/function.example.toml)"
        );
    }
    if message.starts_with("invalid type") && message.contains("expected a string") {
        return format!("{message}: write the value in quotes");
    }
    message.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<FunctionDefinition, DefinitionError> {
        from_toml(text, Path::new("/nowhere/f.toml"))
    }

    #[test]
    fn line_column_counts_characters() {
        assert_eq!(line_column("ab\ncdé", 0), (1, 1));
        assert_eq!(line_column("ab\ncdé", 3), (2, 1));
        assert_eq!(line_column("ab\nédx", 6), (2, 3));
    }

    #[test]
    fn full_toml_definition() {
        let def = parse(
            r#"
name = "f"
image = "grycap/ffmpeg"
script_inline = "echo hi"
memory = 1024
timeout = 60
ephemeral_storage = 2048
runtime = "proot"
reserved_concurrency = 4
role = "arn:aws:iam::123456789012:role/r"
log_retention_days = 30
[environment]
A = "1"
[input]
bucket = "in-bucket"
prefix = "images"
suffixes = [".jpg"]
[[outputs]]
bucket = "out-bucket"
prefix = "gray/"
"#,
        )
        .unwrap();
        assert_eq!(def.memory, 1024);
        assert_eq!(def.runtime, Runtime::Proot);
        assert_eq!(def.input.as_ref().unwrap().prefix, "images/");
        assert_eq!(def.outputs[0].prefix, "gray/");
        assert_eq!(def.environment["A"], "1");
        assert_eq!(def.reserved_concurrency, Some(4));
        assert_eq!(def.log_retention_days, Some(30));
    }

    #[test]
    fn errors_name_line_column_and_fix() {
        let e =
            parse("name = \"f\"\nimage = \"i\"\nscript_inline = \"x\"\nmemroy = 5\n").unwrap_err();
        let s = e.to_string();
        assert!(
            s.starts_with("/nowhere/f.toml:4:1: unknown key `memroy`"),
            "{s}"
        );
        assert!(s.contains("did you mean `memory`"), "{s}");

        let e =
            parse("name = \"f\"\nimage = \"i\"\nscript_inline = \"x\"\nmemory = 64\n").unwrap_err();
        assert!(e.to_string().starts_with("/nowhere/f.toml:4:10: "), "{e}");

        let e =
            parse("name = \"f\"\nimage = \"i\"\nscript_inline = \"x\"\n[environment]\nQ = 80\n")
                .unwrap_err();
        assert!(e.to_string().contains("5:5"), "{e}");
        assert!(e.to_string().contains("quotes"), "{e}");

        let e = parse("name = \"f\"\nimage = \"i\"\n").unwrap_err();
        assert!(e.to_string().contains("no script"), "{e}");

        let e = parse("name = \"f\"\nimage = \"i\"\nscript_inline = \"x\"\n[input]\nbucket = \"bkt\"\n[[outputs]]\nbucket = \"bkt\"\n")
            .unwrap_err();
        assert!(e.to_string().contains(":6:1:"), "{e}");
        assert!(e.to_string().contains("trigger"), "{e}");

        let e = parse("name = \"f\nimage = 1").unwrap_err();
        assert!(e.to_string().starts_with("/nowhere/f.toml:1:"), "{e}");
    }

    #[test]
    fn the_examples_in_config_load() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let toml = load(&dir.join("function.example.toml")).unwrap();
        let f = &toml.functions[0];
        assert_eq!(f.name, "demo-upper");
        assert_eq!(f.outputs.len(), 2);
        assert!(f.script.text().unwrap().contains("tr 'a-z' 'A-Z'"));
        let yaml = load(&dir.join("scar-demo.yaml")).unwrap();
        assert_eq!(yaml.functions[0].name, "scar-demo-upper");
        assert!(yaml.warnings.is_empty(), "{:?}", yaml.warnings);
    }

    #[test]
    fn storage_paths() {
        let s = Storage::parse_path("s3://bucket/in").unwrap();
        assert_eq!((s.bucket.as_str(), s.prefix.as_str()), ("bucket", "in/"));
        assert_eq!(Storage::parse_path("bucket").unwrap().prefix, "");
        assert!(Storage::parse_path("Bad_Bucket").is_err());
    }
}
