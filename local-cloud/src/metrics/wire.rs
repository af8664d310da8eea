//! CloudWatch's three wire formats, mapped to one request tree and from one
//! response tree, so every operation is written once.
//!
//! - rpcv2Cbor (aws-sdk-cloudwatch 1.100+): a CBOR map with the JSON API's
//!   member names; timestamps are tag 1 epoch seconds
//!   (<https://smithy.io/2.0/additional-specs/protocols/smithy-rpc-v2.html>).
//! - awsJson1_0 (AWS CLI, boto3): JSON with epoch-second timestamps.
//! - awsQuery: form fields such as `MetricData.member.1.Dimensions.member.2.Name`,
//!   ISO 8601 timestamps; responses in XML with lists as `<member>` elements
//!   and maps as `<entry><key/><value/></entry>`.
//!
//! Requests become a [`Node`] tree whose accessors accept each format's
//! spelling of a value (a CBOR float, a JSON number or a form string);
//! responses are an [`Out`] tree rendered to CBOR, JSON or XML.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::protocol::xml_escape;
use scar_contract::time::{iso8601_compact as format_iso8601, parse_iso8601};

/// A request value in any of the three formats.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// Absent or null.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number.
    Num(f64),
    /// A string (every awsQuery value starts as one).
    Str(String),
    /// A timestamp, seconds since the epoch.
    Time(f64),
    /// A list.
    List(Vec<Node>),
    /// A structure or map.
    Map(Vec<(String, Node)>),
}

static NULL: Node = Node::Null;

/// A request body that is not the protocol's encoding (CloudWatch's
/// `SerializationException`).
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// Not CBOR.
    #[error("invalid CBOR body: {0}")]
    Cbor(String),
    /// Not JSON.
    #[error("invalid JSON body: {0}")]
    Json(#[from] serde_json::Error),
}

impl Node {
    /// The member `key` of a structure, or `Null`.
    pub fn get(&self, key: &str) -> &Node {
        match self {
            Node::Map(m) => m
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v)
                .unwrap_or(&NULL),
            _ => &NULL,
        }
    }

    /// True for `Null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Node::Null)
    }

    /// A string value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A number, from a number or a numeric string.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Node::Num(n) => Some(*n),
            Node::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// A whole number.
    pub fn as_i64(&self) -> Option<i64> {
        let f = self.as_f64()?;
        (f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
    }

    /// A boolean, from a boolean or `true`/`false`.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Node::Bool(b) => Some(*b),
            Node::Str(s) if s == "true" => Some(true),
            Node::Str(s) if s == "false" => Some(false),
            _ => None,
        }
    }

    /// A timestamp in milliseconds since the epoch: CBOR tag 1, a JSON
    /// number of epoch seconds, or an ISO 8601 (or numeric) form string.
    pub fn as_time_ms(&self) -> Option<i64> {
        let secs = match self {
            Node::Time(s) | Node::Num(s) => *s,
            Node::Str(s) => {
                return parse_iso8601(s)
                    .or_else(|| s.parse::<f64>().ok().map(|f| (f * 1000.0).round() as i64));
            }
            _ => return None,
        };
        secs.is_finite().then(|| (secs * 1000.0).round() as i64)
    }

    /// A list's items; `Null` and awsQuery's empty string are the empty list.
    pub fn as_list(&self) -> Option<&[Node]> {
        match self {
            Node::List(l) => Some(l),
            Node::Null => Some(&[]),
            Node::Str(s) if s.is_empty() => Some(&[]),
            _ => None,
        }
    }

    /// Reads a rpcv2Cbor body (empty means an empty structure).
    pub fn from_cbor(body: &[u8]) -> Result<Node, BodyError> {
        if body.is_empty() {
            return Ok(Node::Map(Vec::new()));
        }
        let v: ciborium::Value =
            ciborium::from_reader(body).map_err(|e| BodyError::Cbor(e.to_string()))?;
        Ok(Node::from_cbor_value(v))
    }

    fn from_cbor_value(v: ciborium::Value) -> Node {
        use ciborium::Value as V;
        match v {
            V::Null => Node::Null,
            V::Bool(b) => Node::Bool(b),
            V::Integer(i) => Node::Num(i128::from(i) as f64),
            V::Float(f) => Node::Num(f),
            V::Text(s) => Node::Str(s),
            V::Bytes(b) => Node::Str(String::from_utf8_lossy(&b).into_owned()),
            V::Tag(1, inner) => match *inner {
                V::Integer(i) => Node::Time(i128::from(i) as f64),
                V::Float(f) => Node::Time(f),
                other => Node::from_cbor_value(other),
            },
            V::Tag(_, inner) => Node::from_cbor_value(*inner),
            V::Array(a) => Node::List(a.into_iter().map(Node::from_cbor_value).collect()),
            V::Map(m) => Node::Map(
                m.into_iter()
                    .filter_map(|(k, v)| match k {
                        V::Text(k) => Some((k, Node::from_cbor_value(v))),
                        _ => None,
                    })
                    .collect(),
            ),
            _ => Node::Null,
        }
    }

    /// Reads an awsJson1_0 body (empty means an empty structure).
    pub fn from_json(body: &[u8]) -> Result<Node, BodyError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Node::Map(Vec::new()));
        }
        let v: serde_json::Value = serde_json::from_slice(body).map_err(BodyError::Json)?;
        Ok(Node::from_json_value(v))
    }

    fn from_json_value(v: serde_json::Value) -> Node {
        use serde_json::Value as V;
        match v {
            V::Null => Node::Null,
            V::Bool(b) => Node::Bool(b),
            V::Number(n) => n.as_f64().map(Node::Num).unwrap_or(Node::Null),
            V::String(s) => Node::Str(s),
            V::Array(a) => Node::List(a.into_iter().map(Node::from_json_value).collect()),
            V::Object(o) => Node::Map(
                o.into_iter()
                    .map(|(k, v)| (k, Node::from_json_value(v)))
                    .collect(),
            ),
        }
    }

    /// Reads an awsQuery form body: the `Action` and the other fields as a tree.
    pub fn from_form(body: &[u8]) -> (Option<String>, Node) {
        let mut root = Form::Map(BTreeMap::new());
        let mut action = None;
        for pair in body.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
            let (k, v) = match pair.iter().position(|&b| b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &b""[..]),
            };
            let (k, v) = (form_decode(k), form_decode(v));
            if k == "Action" {
                action = Some(v);
            } else if k != "Version" {
                root.insert(&k.split('.').collect::<Vec<_>>(), v);
            }
        }
        (action, root.into_node())
    }
}

/// `application/x-www-form-urlencoded` decoding (`+` is a space).
fn form_decode(s: &[u8]) -> String {
    let plus: Vec<u8> = s
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    percent_encoding::percent_decode(&plus)
        .decode_utf8_lossy()
        .into_owned()
}

/// The awsQuery fields while they are being gathered.
enum Form {
    Leaf(String),
    Map(BTreeMap<String, Form>),
    List(BTreeMap<u64, Form>),
}

impl Form {
    fn insert(&mut self, path: &[&str], value: String) {
        let Some((first, rest)) = path.split_first() else {
            *self = Form::Leaf(value);
            return;
        };
        // `X.member.N` is a list item; anything else a structure member.
        if *first == "member"
            && let Some((n, rest)) = rest.split_first()
            && let Ok(i) = n.parse::<u64>()
        {
            if !matches!(self, Form::List(_)) {
                *self = Form::List(BTreeMap::new());
            }
            if let Form::List(l) = self {
                l.entry(i)
                    .or_insert_with(|| Form::Map(BTreeMap::new()))
                    .insert(rest, value);
            }
            return;
        }
        if !matches!(self, Form::Map(_)) {
            *self = Form::Map(BTreeMap::new());
        }
        if let Form::Map(m) = self {
            m.entry((*first).to_owned())
                .or_insert_with(|| Form::Map(BTreeMap::new()))
                .insert(rest, value);
        }
    }

    fn into_node(self) -> Node {
        match self {
            Form::Leaf(s) => Node::Str(s),
            Form::Map(m) => Node::Map(m.into_iter().map(|(k, v)| (k, v.into_node())).collect()),
            Form::List(l) => Node::List(l.into_values().map(Form::into_node).collect()),
        }
    }
}

/// A response value, rendered in the request's protocol.
#[derive(Debug, Clone, PartialEq)]
pub enum Out {
    /// A string.
    Str(String),
    /// A double.
    Num(f64),
    /// A timestamp, milliseconds since the epoch.
    Time(i64),
    /// A list.
    List(Vec<Out>),
    /// A structure (members in order).
    Struct(Vec<(&'static str, Out)>),
    /// A map with string keys (ExtendedStatistics).
    Dict(Vec<(String, Out)>),
}

impl Out {
    /// As CBOR: doubles as floats and timestamps as tag 1 epoch seconds,
    /// the types the SDK's decoder insists on.
    pub fn to_cbor(&self) -> ciborium::Value {
        use ciborium::Value as V;
        match self {
            Out::Str(s) => V::Text(s.clone()),
            Out::Num(n) => V::Float(*n),
            Out::Time(ms) => V::Tag(1, Box::new(V::Float(*ms as f64 / 1000.0))),
            Out::List(l) => V::Array(l.iter().map(Out::to_cbor).collect()),
            Out::Struct(m) => V::Map(
                m.iter()
                    .map(|(k, v)| (V::Text((*k).to_owned()), v.to_cbor()))
                    .collect(),
            ),
            Out::Dict(m) => V::Map(
                m.iter()
                    .map(|(k, v)| (V::Text(k.clone()), v.to_cbor()))
                    .collect(),
            ),
        }
    }

    /// As awsJson1_0: timestamps as epoch seconds.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as V;
        let num = |f: f64| {
            serde_json::Number::from_f64(f)
                .map(V::Number)
                .unwrap_or(V::Null)
        };
        match self {
            Out::Str(s) => V::String(s.clone()),
            Out::Num(n) => num(*n),
            Out::Time(ms) if ms % 1000 == 0 => V::from(ms / 1000),
            Out::Time(ms) => num(*ms as f64 / 1000.0),
            Out::List(l) => V::Array(l.iter().map(Out::to_json).collect()),
            Out::Struct(m) => V::Object(
                m.iter()
                    .map(|(k, v)| ((*k).to_owned(), v.to_json()))
                    .collect(),
            ),
            Out::Dict(m) => V::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()),
        }
    }

    /// As awsQuery XML: the content of the element holding this value.
    pub fn to_xml(&self, out: &mut String) {
        match self {
            Out::Str(s) => out.push_str(&xml_escape(s)),
            Out::Num(n) => {
                let _ = write!(out, "{n}");
            }
            Out::Time(ms) => out.push_str(&format_iso8601(*ms)),
            Out::List(l) => {
                for item in l {
                    out.push_str("<member>");
                    item.to_xml(out);
                    out.push_str("</member>");
                }
            }
            Out::Struct(m) => {
                for (k, v) in m {
                    let _ = write!(out, "<{k}>");
                    v.to_xml(out);
                    let _ = write!(out, "</{k}>");
                }
            }
            Out::Dict(m) => {
                for (k, v) in m {
                    out.push_str("<entry><key>");
                    out.push_str(&xml_escape(k));
                    out.push_str("</key><value>");
                    v.to_xml(out);
                    out.push_str("</value></entry>");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_to_tree() {
        let body = b"Action=PutMetricData&Version=2010-08-01&Namespace=My%2FApp&MetricData.member.1.MetricName=Lat+ency\
&MetricData.member.1.Dimensions.member.2.Name=B&MetricData.member.1.Dimensions.member.1.Name=A\
&MetricData.member.1.Values.member.1=1.5&MetricData.member.2.MetricName=X&Statistics=";
        let (action, n) = Node::from_form(body);
        assert_eq!(action.as_deref(), Some("PutMetricData"));
        assert_eq!(n.get("Namespace").as_str(), Some("My/App"));
        let data = n.get("MetricData").as_list().unwrap();
        assert_eq!(data.len(), 2);
        assert_eq!(data[0].get("MetricName").as_str(), Some("Lat ency"));
        let dims = data[0].get("Dimensions").as_list().unwrap();
        assert_eq!(dims[0].get("Name").as_str(), Some("A"));
        assert_eq!(
            data[0].get("Values").as_list().unwrap()[0].as_f64(),
            Some(1.5)
        );
        assert_eq!(n.get("Statistics").as_list().map(<[Node]>::len), Some(0));
    }

    #[test]
    fn cbor_tags_and_indefinite_maps() {
        // {_ "T": 1(1.5e9), "L": [_ 1, 2.5] } with indefinite-length map and array.
        let mut b = vec![0xbf, 0x61, b'T', 0xc1, 0xfb];
        b.extend_from_slice(&1.5e9f64.to_be_bytes());
        b.extend_from_slice(&[0x61, b'L', 0x9f, 0x01, 0xf9, 0x41, 0x00, 0xff, 0xff]);
        let n = Node::from_cbor(&b).unwrap();
        assert_eq!(n.get("T"), &Node::Time(1.5e9));
        assert_eq!(n.get("T").as_time_ms(), Some(1_500_000_000_000));
        let l = n.get("L").as_list().unwrap();
        assert_eq!((l[0].as_f64(), l[1].as_f64()), (Some(1.0), Some(2.5)));
        assert!(Node::from_cbor(&[0xbf, 0x61]).is_err());
    }

    #[test]
    fn out_renders() {
        let o = Out::Struct(vec![
            ("Label", Out::Str("a<b".into())),
            (
                "Datapoints",
                Out::List(vec![Out::Struct(vec![
                    ("Timestamp", Out::Time(1_000)),
                    ("Sum", Out::Num(2.5)),
                ])]),
            ),
            ("Ext", Out::Dict(vec![("p50".into(), Out::Num(1.0))])),
        ]);
        let mut x = String::new();
        o.to_xml(&mut x);
        assert_eq!(
            x,
            "<Label>a&lt;b</Label><Datapoints><member><Timestamp>1970-01-01T00:00:01Z</Timestamp><Sum>2.5</Sum></member></Datapoints><Ext><entry><key>p50</key><value>1</value></entry></Ext>"
        );
        assert_eq!(
            o.to_json(),
            serde_json::json!({"Label": "a<b", "Datapoints": [{"Timestamp": 1, "Sum": 2.5}], "Ext": {"p50": 1.0}})
        );
        let c = o.to_cbor();
        let ciborium::Value::Map(m) = c else {
            panic!("not a map")
        };
        let ciborium::Value::Array(dp) = &m[1].1 else {
            panic!("not an array")
        };
        let ciborium::Value::Map(dp0) = &dp[0] else {
            panic!("not a map")
        };
        assert_eq!(
            dp0[0].1,
            ciborium::Value::Tag(1, Box::new(ciborium::Value::Float(1.0)))
        );
    }
}
