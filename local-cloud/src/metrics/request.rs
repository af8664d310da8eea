//! Reading operation inputs field by field, with CloudWatch's error codes
//! and messages that name the field in the API's own dotted form
//! (`MetricData.member.1.Value`), whichever protocol the request came in.

use super::stats::{Stat, Unit};
use super::wire::Node;

/// A request CloudWatch would refuse: its error code (awsQuery's, which the
/// SDKs map to their exception types) and a message naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    /// `InvalidParameterValue`, `MissingParameter`, `InvalidParameterCombination`...
    pub code: &'static str,
    /// What is wrong, naming the field.
    pub message: String,
}

impl ApiError {
    /// `InvalidParameterValue`.
    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError {
            code: "InvalidParameterValue",
            message: message.into(),
        }
    }

    /// `MissingParameter` for `field`.
    pub fn missing(field: &str) -> ApiError {
        ApiError {
            code: "MissingParameter",
            message: format!("The parameter {field} is required."),
        }
    }

    /// `InvalidParameterCombination`.
    pub fn combination(message: impl Into<String>) -> ApiError {
        ApiError {
            code: "InvalidParameterCombination",
            message: message.into(),
        }
    }
}

/// A result or a CloudWatch error.
pub type ApiResult<T> = Result<T, ApiError>;

/// An optional string.
pub fn opt_str<'a>(n: &'a Node, field: &str) -> ApiResult<Option<&'a str>> {
    if n.is_null() {
        return Ok(None);
    }
    n.as_str()
        .map(Some)
        .ok_or_else(|| ApiError::invalid(format!("The parameter {field} must be a string.")))
}

/// A required name-like string of 1 to `max` characters.
pub fn req_name<'a>(n: &'a Node, field: &str, max: usize) -> ApiResult<&'a str> {
    let s = opt_str(n, field)?.ok_or_else(|| ApiError::missing(field))?;
    check_len(s, field, max)?;
    Ok(s)
}

/// An optional name-like string of 1 to `max` characters.
pub fn opt_name<'a>(n: &'a Node, field: &str, max: usize) -> ApiResult<Option<&'a str>> {
    let s = opt_str(n, field)?;
    if let Some(s) = s {
        check_len(s, field, max)?;
    }
    Ok(s)
}

fn check_len(s: &str, field: &str, max: usize) -> ApiResult<()> {
    let len = s.chars().count();
    if len == 0 || len > max {
        return Err(ApiError::invalid(format!(
            "The parameter {field} must be between 1 and {max} characters long (got {len})."
        )));
    }
    Ok(())
}

/// An optional number.
pub fn opt_f64(n: &Node, field: &str) -> ApiResult<Option<f64>> {
    if n.is_null() {
        return Ok(None);
    }
    n.as_f64()
        .map(Some)
        .ok_or_else(|| ApiError::invalid(format!("The parameter {field} must be a number.")))
}

/// An optional whole number.
pub fn opt_i64(n: &Node, field: &str) -> ApiResult<Option<i64>> {
    if n.is_null() {
        return Ok(None);
    }
    n.as_i64()
        .map(Some)
        .ok_or_else(|| ApiError::invalid(format!("The parameter {field} must be an integer.")))
}

/// An optional boolean.
pub fn opt_bool(n: &Node, field: &str) -> ApiResult<Option<bool>> {
    if n.is_null() {
        return Ok(None);
    }
    n.as_bool()
        .map(Some)
        .ok_or_else(|| ApiError::invalid(format!("The parameter {field} must be true or false.")))
}

/// An optional timestamp, in ms.
pub fn opt_time(n: &Node, field: &str) -> ApiResult<Option<i64>> {
    if n.is_null() {
        return Ok(None);
    }
    n.as_time_ms().map(Some).ok_or_else(|| {
        ApiError::invalid(format!(
            "The parameter {field} must be a timestamp (ISO 8601 such as 2026-11-26T10:00:00Z, or epoch seconds)."
        ))
    })
}

/// A required timestamp, in ms.
pub fn req_time(n: &Node, field: &str) -> ApiResult<i64> {
    opt_time(n, field)?.ok_or_else(|| ApiError::missing(field))
}

/// A list (absent is empty).
pub fn list<'a>(n: &'a Node, field: &str) -> ApiResult<&'a [Node]> {
    n.as_list()
        .ok_or_else(|| ApiError::invalid(format!("The parameter {field} must be a list.")))
}

/// An optional unit, one of CloudWatch's standard units.
pub fn opt_unit(n: &Node, field: &str) -> ApiResult<Option<Unit>> {
    match opt_str(n, field)? {
        None => Ok(None),
        Some(u) => Unit::parse(u).map(Some).ok_or_else(|| {
            ApiError::invalid(format!(
                "The value {u} for parameter {field} is invalid: use a CloudWatch standard unit such as Count, Milliseconds, Bytes or None."
            ))
        }),
    }
}

/// A dimension list `[{Name, Value}]` (at most 30, names unique), sorted by name.
pub fn dimensions(n: &Node, field: &str) -> ApiResult<Vec<(String, String)>> {
    let items = list(n, field)?;
    if items.len() > 30 {
        return Err(ApiError::invalid(format!(
            "The collection {field} must not have a size greater than 30."
        )));
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, d) in items.iter().enumerate() {
        let p = format!("{field}.member.{}", i + 1);
        let name = req_name(d.get("Name"), &format!("{p}.Name"), 255)?;
        let value = req_name(d.get("Value"), &format!("{p}.Value"), 1024)?;
        out.push((name.to_owned(), value.to_owned()));
    }
    out.sort();
    if let Some(w) = out.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(ApiError::invalid(format!(
            "The dimension {} appears more than once in {field}.",
            w[0].0
        )));
    }
    Ok(out)
}

/// A period in seconds: 1, 5, 10, 20, 30 (high resolution) or a multiple of 60.
pub fn period(n: &Node, field: &str) -> ApiResult<i64> {
    let p = opt_i64(n, field)?.ok_or_else(|| ApiError::missing(field))?;
    if p < 1 || (p < 60 && ![1, 5, 10, 20, 30].contains(&p)) || (p >= 60 && p % 60 != 0) {
        return Err(ApiError::invalid(format!(
            "The parameter {field} must be 1, 5, 10, 20, 30 or a multiple of 60 (got {p})."
        )));
    }
    Ok(p)
}

/// A statistic name: the five standard ones or a percentile `pNN.NN`.
pub fn stat(n: &Node, field: &str) -> ApiResult<(Stat, String)> {
    let s = opt_str(n, field)?.ok_or_else(|| ApiError::missing(field))?;
    Stat::parse(s).map(|st| (st, s.to_owned())).ok_or_else(|| {
        ApiError::invalid(format!(
            "The value {s} for parameter {field} is invalid: use SampleCount, Average, Sum, Minimum, Maximum or a percentile such as p95 or p99.9."
        ))
    })
}

/// StartTime and EndTime, required, start before end.
pub fn time_range(input: &Node) -> ApiResult<(i64, i64)> {
    let start = req_time(input.get("StartTime"), "StartTime")?;
    let end = req_time(input.get("EndTime"), "EndTime")?;
    if start >= end {
        return Err(ApiError::invalid(
            "The parameter StartTime must be less than the parameter EndTime.",
        ));
    }
    Ok((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(items: Vec<(&str, Node)>) -> Node {
        Node::Map(items.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }

    #[test]
    fn dimensions_are_checked_and_sorted() {
        let d = |n: &str, v: &str| {
            map(vec![
                ("Name", Node::Str(n.into())),
                ("Value", Node::Str(v.into())),
            ])
        };
        let ok = Node::List(vec![d("b", "2"), d("a", "1")]);
        assert_eq!(
            dimensions(&ok, "Dimensions").unwrap(),
            vec![("a".into(), "1".into()), ("b".into(), "2".into())]
        );
        let dup = Node::List(vec![d("a", "1"), d("a", "2")]);
        assert_eq!(
            dimensions(&dup, "Dimensions").unwrap_err().code,
            "InvalidParameterValue"
        );
        let missing = Node::List(vec![map(vec![("Name", Node::Str("a".into()))])]);
        let e = dimensions(&missing, "Dimensions").unwrap_err();
        assert_eq!(e.code, "MissingParameter");
        assert!(
            e.message.contains("Dimensions.member.1.Value"),
            "{}",
            e.message
        );
    }

    #[test]
    fn periods() {
        for ok in [1, 5, 60, 300, 86_400] {
            assert_eq!(period(&Node::Num(ok as f64), "Period"), Ok(ok));
        }
        for bad in [0, 7, 61, -60] {
            assert_eq!(
                period(&Node::Num(bad as f64), "Period").unwrap_err().code,
                "InvalidParameterValue"
            );
        }
        assert_eq!(period(&Node::Str("300".into()), "Period"), Ok(300));
        assert_eq!(
            period(&Node::Null, "Period").unwrap_err().code,
            "MissingParameter"
        );
    }
}
