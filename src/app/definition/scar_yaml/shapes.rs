//! The serde shapes of SCAR's YAML files: the current `functions.aws[]`
//! document and the older `functions.NAME` one, with the loose scalars and
//! lists SCAR accepts. Only what is read lives here; turning these into
//! [`FunctionDefinition`](super::super::FunctionDefinition)s, with checks
//! and positions, is the parent module's job.

use std::collections::BTreeMap;

use serde::Deserialize;

/// A YAML scalar read as text (`KEY: 80` is the string "80", as SCAR passes it).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(super) enum Scalar {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Scalar {
    pub(super) fn text(&self) -> String {
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
pub(super) enum TextList {
    One(String),
    Many(Vec<String>),
}

impl TextList {
    pub(super) fn items(list: &Option<TextList>) -> Vec<String> {
        match list {
            None => Vec::new(),
            Some(TextList::One(s)) => vec![s.clone()],
            Some(TextList::Many(v)) => v.clone(),
        }
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct Doc {
    pub(super) functions: Providers,
}

#[derive(Debug, Deserialize)]
pub(super) struct Providers {
    pub(super) aws: Option<Vec<AwsEntry>>,
    pub(super) oscar: Option<serde_yaml::Value>,
}

#[derive(Debug, Deserialize)]
pub(super) struct AwsEntry {
    pub(super) lambda: Option<Lambda>,
    pub(super) iam: Option<Iam>,
    pub(super) cloudwatch: Option<Cloudwatch>,
    pub(super) batch: Option<serde_yaml::Value>,
    pub(super) api_gateway: Option<serde_yaml::Value>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Iam {
    pub(super) role: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Cloudwatch {
    pub(super) log_retention_policy_in_days: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Vars {
    #[serde(rename = "Variables")]
    pub(super) variables: Option<BTreeMap<String, Scalar>>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Container {
    pub(super) image: Option<String>,
    pub(super) environment: Option<Vars>,
    pub(super) timeout_threshold: Option<Scalar>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Io {
    pub(super) storage_provider: Option<String>,
    pub(super) path: Option<String>,
    pub(super) prefix: Option<TextList>,
    pub(super) suffix: Option<TextList>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Lambda {
    pub(super) name: Option<String>,
    pub(super) memory: Option<i64>,
    pub(super) timeout: Option<i64>,
    pub(super) init_script: Option<String>,
    pub(super) environment: Option<Vars>,
    pub(super) container: Option<Container>,
    pub(super) input: Option<Vec<Io>>,
    pub(super) output: Option<Vec<Io>>,
    pub(super) execution_mode: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct LegacyDoc {
    pub(super) functions: BTreeMap<String, LegacyFunction>,
}

#[derive(Debug, Deserialize)]
pub(super) struct LegacyFunction {
    pub(super) image: Option<String>,
    pub(super) init_script: Option<String>,
    pub(super) memory: Option<i64>,
    pub(super) timeout: Option<i64>,
    pub(super) s3: Option<LegacyS3>,
}

#[derive(Debug, Deserialize)]
pub(super) struct LegacyS3 {
    pub(super) input_bucket: Option<String>,
    pub(super) input_folder: Option<String>,
    pub(super) output_bucket: Option<String>,
    pub(super) output_folder: Option<String>,
}
