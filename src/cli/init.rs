//! `scar-tui init -f FILE` (our TOML, or SCAR's YAML) or
//! `scar-tui init --name N --image I --script S [...]`: create or update
//! functions from a definition.

use std::path::PathBuf;

use color_eyre::eyre::WrapErr;
use scar_tui::app::definition::{self, DefinitionError, FunctionDefinition, Script, Storage};
use scar_tui::app::deploy::{self, DeployReport};

use crate::Global;

/// Arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// A definition file: TOML (config/function.example.toml) or SCAR's YAML.
    #[arg(short = 'f', long = "file", value_name = "FILE",
          conflicts_with_all = ["name", "image", "script", "script_inline", "memory", "timeout", "ephemeral_storage",
                                "env", "input", "input_suffix", "output", "runtime", "reserved_concurrency",
                                "log_retention_days"])]
    pub file: Option<PathBuf>,
    /// Function name.
    #[arg(long, required_unless_present = "file")]
    pub name: Option<String>,
    /// Image reference (grycap/ffmpeg, docker://HOST/REPO:TAG, oci:PATH[:TAG], docker-archive:PATH).
    #[arg(long, required_unless_present = "file")]
    pub image: Option<String>,
    /// The script run in the container on each input file.
    #[arg(long, value_name = "PATH", required_unless_present_any = ["file", "script_inline"])]
    pub script: Option<PathBuf>,
    /// The script, written on the command line.
    #[arg(long, value_name = "TEXT", conflicts_with = "script")]
    pub script_inline: Option<String>,
    /// Memory (MB).
    #[arg(long)]
    pub memory: Option<u32>,
    /// Timeout (s).
    #[arg(long)]
    pub timeout: Option<u32>,
    /// `/tmp` size (MB).
    #[arg(long)]
    pub ephemeral_storage: Option<u32>,
    /// A variable for the script (repeatable).
    #[arg(long, value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// The input: objects created here trigger the function.
    #[arg(long, value_name = "BUCKET[/PREFIX]")]
    pub input: Option<String>,
    /// Only input keys ending so (repeatable).
    #[arg(long, value_name = "SUFFIX", requires = "input")]
    pub input_suffix: Vec<String>,
    /// Where output files go (repeatable).
    #[arg(long, value_name = "BUCKET[/PREFIX]")]
    pub output: Vec<String>,
    /// Container runtime: auto, userns, proot or host.
    #[arg(long)]
    pub runtime: Option<String>,
    /// Reserved concurrency.
    #[arg(long)]
    pub reserved_concurrency: Option<u32>,
    /// IAM role ARN (with -f: for functions whose file names none).
    #[arg(long)]
    pub role: Option<String>,
    /// Log retention (days).
    #[arg(long)]
    pub log_retention_days: Option<u32>,
}

/// Parses `KEY=VALUE`.
pub fn parse_env(pair: &str) -> Result<(String, String), DefinitionError> {
    match pair.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(DefinitionError::Field {
            field: "--env".into(),
            message: format!("{pair:?} is not KEY=VALUE"),
        }),
    }
}

/// Parses `BUCKET[/PREFIX]` for flag `flag`.
pub fn parse_storage(flag: &str, text: &str) -> Result<Storage, DefinitionError> {
    Storage::parse_path(text).map_err(|e| DefinitionError::Field {
        field: flag.into(),
        message: e.to_string(),
    })
}

/// Reads a script file for flag `--script`.
pub fn read_script(path: &std::path::Path) -> Result<Script, DefinitionError> {
    let text = std::fs::read_to_string(path).map_err(|e| DefinitionError::Field {
        field: "--script".into(),
        message: format!("cannot read {} ({e})", path.display()),
    })?;
    Ok(Script::File {
        path: path.to_owned(),
        text,
    })
}

fn field(flag: &str) -> impl Fn(String) -> DefinitionError + '_ {
    move |message| DefinitionError::Field {
        field: flag.into(),
        message,
    }
}

fn from_flags(a: &Args) -> Result<FunctionDefinition, DefinitionError> {
    let script = match (&a.script, &a.script_inline) {
        (Some(p), _) => read_script(p)?,
        (None, Some(t)) => Script::Inline { text: t.clone() },
        (None, None) => return Err(field("--script")("required".into())),
    };
    let mut def = FunctionDefinition::new(
        a.name.clone().unwrap_or_default(),
        a.image.clone().unwrap_or_default(),
        script,
    );
    if let Some(m) = a.memory {
        def.memory = m;
    }
    if let Some(t) = a.timeout {
        def.timeout = t;
    }
    if let Some(e) = a.ephemeral_storage {
        def.ephemeral_storage = e;
    }
    for pair in &a.env {
        let (k, v) = parse_env(pair)?;
        def.environment.insert(k, v);
    }
    if let Some(i) = &a.input {
        let mut input = parse_storage("--input", i)?;
        input.suffixes = a.input_suffix.clone();
        def.input = Some(input);
    }
    for o in &a.output {
        def.outputs.push(parse_storage("--output", o)?);
    }
    if let Some(r) = &a.runtime {
        def.runtime = r
            .parse()
            .map_err(|e: scar_contract::runtime::UnknownRuntime| {
                field("--runtime")(e.to_string())
            })?;
    }
    def.reserved_concurrency = a.reserved_concurrency;
    def.role = a.role.clone();
    def.log_retention_days = a.log_retention_days;
    def.validate()?;
    Ok(def)
}

/// Prints one deploy report as a line per fact.
pub fn print_report(r: &DeployReport) {
    println!("{} {} ({}, code {})", r.action, r.name, r.state, r.code);
    println!("  arn      {}", r.arn);
    println!("  image    {}", r.image);
    println!(
        "  memory   {} MB, timeout {} s, runtime {}",
        r.memory, r.timeout, r.runtime
    );
    println!("  role     {}", r.role);
    if let Some(i) = &r.input {
        println!("  input    {i} ({} notification entries)", r.notifications);
    }
    for o in &r.outputs {
        println!("  output   {o}");
    }
    if let Some(f) = &r.failure_records {
        println!("  failures {f} (events that failed every attempt)");
    }
    if !r.buckets_created.is_empty() {
        println!("  created  buckets {}", r.buckets_created.join(", "));
    }
    for w in &r.warnings {
        eprintln!("warning: {w}");
    }
    if let Some(deploy::package::Bootstrap::Wrapper(p)) = &r.bootstrap {
        println!(
            "  bootstrap  wrapper running the debug supervisor at {}",
            p.display()
        );
    }
}

/// Runs it.
pub async fn run(g: &Global, a: Args) -> color_eyre::Result<()> {
    let (mut functions, warnings) = match &a.file {
        Some(path) => {
            let loaded = definition::load(path)?;
            (loaded.functions, loaded.warnings)
        }
        None => (vec![from_flags(&a)?], Vec::new()),
    };
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    for f in &mut functions {
        if f.role.is_none() {
            f.role = a.role.clone();
        }
        // Before connecting: a missing role on aws is a definition problem,
        // not a cloud one.
        deploy::resolve_role(f, g.backend())?;
    }
    let cloud = super::connect(g).await?;
    let mut reports = Vec::new();
    for f in &functions {
        let r = deploy::deploy(&cloud, f)
            .await
            .wrap_err_with(|| format!("deploying {}", f.name))?;
        if !g.json {
            print_report(&r);
        }
        reports.push(r);
    }
    if g.json {
        super::print_json(&reports)?;
    }
    Ok(())
}
