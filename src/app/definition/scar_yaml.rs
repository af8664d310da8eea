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
//!
//! This file turns the documents into definitions; the serde shapes are in
//! [`shapes`], the positions of errors in [`position`].

use std::path::Path;

use super::{DefinitionError, FunctionDefinition, Loaded, Script, Storage, check, folder};

mod position;
mod shapes;

use position::{Seg, join, locate, strip_marks};
use shapes::{Doc, Io, LegacyDoc, TextList};

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
        let mut storage =
            Storage::parse_path(path).map_err(|e| self.at(&key("path"), e.to_string()))?;
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

#[cfg(test)]
mod tests;
