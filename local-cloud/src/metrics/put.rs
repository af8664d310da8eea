//! PutMetricData: validates the whole request first, so a bad datum
//! rejects the call and nothing is half-recorded, as on CloudWatch
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html>).
//!
//! A datum carries one of Value, Values (with optional Counts) or
//! StatisticValues. Timestamps may lie up to two weeks in the past and two
//! hours in the future. `AWS/` namespaces are reserved for AWS services: the
//! local Lambda records its own metrics through [`super::MetricStore::put`].

use super::request::{self, ApiError, ApiResult};
use super::stats::{Point, Unit};
use super::store::MetricId;
use super::wire::{Node, Out};

const MAX_DATA: usize = 1000;
const MAX_VALUES: usize = 150;
const PAST_MS: i64 = 14 * 24 * 3600 * 1000;
const FUTURE_MS: i64 = 2 * 3600 * 1000;
/// CloudWatch rejects values beyond ±2^360.
const MAX_MAGNITUDE: f64 = 2.348_542_582_773_833_3e108;

/// The points a PutMetricData request asks to record.
pub fn parse(input: &Node, now: i64) -> ApiResult<Vec<(MetricId, Point)>> {
    let namespace = request::req_name(input.get("Namespace"), "Namespace", 255)?;
    if namespace.starts_with("AWS/") {
        return Err(ApiError::invalid(format!(
            "The value {namespace} for parameter Namespace is invalid: namespaces starting with AWS/ are reserved for AWS services."
        )));
    }
    if namespace.starts_with(':') {
        return Err(ApiError::invalid(format!(
            "The value {namespace} for parameter Namespace is invalid: it must not start with a colon."
        )));
    }
    let data = request::list(input.get("MetricData"), "MetricData")?;
    if data.is_empty() {
        return Err(ApiError::missing("MetricData"));
    }
    if data.len() > MAX_DATA {
        return Err(ApiError::invalid(format!(
            "The collection MetricData must not have a size greater than {MAX_DATA}."
        )));
    }
    let mut out = Vec::with_capacity(data.len());
    for (i, d) in data.iter().enumerate() {
        let p = format!("MetricData.member.{}", i + 1);
        let name = request::req_name(d.get("MetricName"), &format!("{p}.MetricName"), 255)?;
        let dims = request::dimensions(d.get("Dimensions"), &format!("{p}.Dimensions"))?;
        let t = request::opt_time(d.get("Timestamp"), &format!("{p}.Timestamp"))?.unwrap_or(now);
        if t < now - PAST_MS || t > now + FUTURE_MS {
            return Err(ApiError::invalid(format!(
                "The parameter {p}.Timestamp must specify a time no more than two weeks in the past and no more than two hours in the future."
            )));
        }
        let unit = request::opt_unit(d.get("Unit"), &format!("{p}.Unit"))?.unwrap_or(Unit::NONE);
        let id = MetricId::new(namespace, name, dims);
        for point in points(d, &p, t, unit)? {
            out.push((id.clone(), point));
        }
    }
    Ok(out)
}

/// PutMetricData's (empty) result.
pub fn output() -> Out {
    Out::Struct(Vec::new())
}

fn finite(v: f64, field: &str) -> ApiResult<f64> {
    if v.is_finite() && v.abs() <= MAX_MAGNITUDE {
        Ok(v)
    } else {
        Err(ApiError::invalid(format!(
            "The value {v} for parameter {field} is invalid."
        )))
    }
}

/// The points of one datum from its Value, Values and Counts, or StatisticValues.
fn points(d: &Node, p: &str, t: i64, unit: Unit) -> ApiResult<Vec<Point>> {
    let value = request::opt_f64(d.get("Value"), &format!("{p}.Value"))?;
    let values = request::list(d.get("Values"), &format!("{p}.Values"))?;
    let counts = request::list(d.get("Counts"), &format!("{p}.Counts"))?;
    let set = d.get("StatisticValues");
    let given = usize::from(value.is_some())
        + usize::from(!values.is_empty())
        + usize::from(!set.is_null());
    if given > 1 {
        return Err(ApiError::combination(format!(
            "The parameters {p}.Value, {p}.Values and {p}.StatisticValues are mutually exclusive."
        )));
    }
    if !counts.is_empty() && values.is_empty() {
        return Err(ApiError::combination(format!(
            "The parameter {p}.Counts requires {p}.Values."
        )));
    }
    if let Some(v) = value {
        return Ok(vec![Point::value(
            t,
            finite(v, &format!("{p}.Value"))?,
            unit,
        )]);
    }
    if !values.is_empty() {
        if values.len() > MAX_VALUES {
            return Err(ApiError::invalid(format!(
                "The collection {p}.Values must not have a size greater than {MAX_VALUES}."
            )));
        }
        if !counts.is_empty() && counts.len() != values.len() {
            return Err(ApiError::invalid(format!(
                "The parameters {p}.Values and {p}.Counts must be arrays of the same size."
            )));
        }
        let mut out = Vec::with_capacity(values.len());
        for (j, v) in values.iter().enumerate() {
            let vf = format!("{p}.Values.member.{}", j + 1);
            let v = finite(
                request::opt_f64(v, &vf)?.ok_or_else(|| ApiError::missing(&vf))?,
                &vf,
            )?;
            let count = match counts.get(j) {
                None => 1.0,
                Some(c) => {
                    let cf = format!("{p}.Counts.member.{}", j + 1);
                    let c = finite(
                        request::opt_f64(c, &cf)?.ok_or_else(|| ApiError::missing(&cf))?,
                        &cf,
                    )?;
                    if c < 0.0 {
                        return Err(ApiError::invalid(format!(
                            "The value {c} for parameter {cf} is invalid."
                        )));
                    }
                    c
                }
            };
            // A count of zero means the value was not seen.
            if count > 0.0 {
                out.push(Point::repeated(t, v, count, unit));
            }
        }
        return Ok(out);
    }
    if !set.is_null() {
        let sp = format!("{p}.StatisticValues");
        let field = |name: &str| -> ApiResult<f64> {
            let f = format!("{sp}.{name}");
            finite(
                request::opt_f64(set.get(name), &f)?.ok_or_else(|| ApiError::missing(&f))?,
                &f,
            )
        };
        let (count, sum, min, max) = (
            field("SampleCount")?,
            field("Sum")?,
            field("Minimum")?,
            field("Maximum")?,
        );
        if count <= 0.0 {
            return Err(ApiError::invalid(format!(
                "The value {count} for parameter {sp}.SampleCount is invalid: it must be greater than zero."
            )));
        }
        if min > max {
            return Err(ApiError::invalid(format!(
                "The parameter {sp}.Minimum must not be greater than {sp}.Maximum."
            )));
        }
        return Ok(vec![Point {
            timestamp: t,
            count,
            sum,
            min,
            max,
            unit,
        }]);
    }
    Err(ApiError::missing(&format!("{p}.Value")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(body: &str) -> Node {
        Node::from_form(body.as_bytes()).1
    }

    const NOW: i64 = 1_795_687_200_000;

    #[test]
    fn value_values_and_sets() {
        let n = form(
            "Namespace=App&MetricData.member.1.MetricName=A&MetricData.member.1.Value=2&MetricData.member.1.Unit=Count\
&MetricData.member.2.MetricName=B&MetricData.member.2.Values.member.1=1&MetricData.member.2.Values.member.2=5\
&MetricData.member.2.Counts.member.1=3&MetricData.member.2.Counts.member.2=0\
&MetricData.member.3.MetricName=C&MetricData.member.3.StatisticValues.SampleCount=4\
&MetricData.member.3.StatisticValues.Sum=10&MetricData.member.3.StatisticValues.Minimum=1\
&MetricData.member.3.StatisticValues.Maximum=4&MetricData.member.3.Timestamp=2026-11-26T09:59:00Z",
        );
        let pts = parse(&n, NOW).unwrap();
        assert_eq!(pts.len(), 3);
        assert_eq!(
            pts[0].1,
            Point::value(NOW, 2.0, Unit::parse_lenient("Count"))
        );
        assert_eq!(pts[1].1, Point::repeated(NOW, 1.0, 3.0, Unit::NONE));
        assert_eq!(
            (pts[2].1.count, pts[2].1.sum, pts[2].1.timestamp),
            (4.0, 10.0, NOW - 60_000)
        );
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (
                "MetricData.member.1.MetricName=A&MetricData.member.1.Value=1",
                "MissingParameter",
                "Namespace",
            ),
            (
                "Namespace=AWS/Lambda&MetricData.member.1.MetricName=A&MetricData.member.1.Value=1",
                "InvalidParameterValue",
                "AWS/",
            ),
            ("Namespace=N", "MissingParameter", "MetricData"),
            (
                "Namespace=N&MetricData.member.1.Value=1",
                "MissingParameter",
                "MetricData.member.1.MetricName",
            ),
            (
                "Namespace=N&MetricData.member.1.MetricName=A",
                "MissingParameter",
                "MetricData.member.1.Value",
            ),
            (
                "Namespace=N&MetricData.member.1.MetricName=A&MetricData.member.1.Value=1&MetricData.member.1.Values.member.1=1",
                "InvalidParameterCombination",
                "mutually exclusive",
            ),
            (
                "Namespace=N&MetricData.member.1.MetricName=A&MetricData.member.1.Value=x",
                "InvalidParameterValue",
                "MetricData.member.1.Value",
            ),
            (
                "Namespace=N&MetricData.member.1.MetricName=A&MetricData.member.1.Value=1&MetricData.member.1.Unit=Furlongs",
                "InvalidParameterValue",
                "MetricData.member.1.Unit",
            ),
            (
                "Namespace=N&MetricData.member.1.MetricName=A&MetricData.member.1.Value=1&MetricData.member.1.Timestamp=2020-01-01T00:00:00Z",
                "InvalidParameterValue",
                "two weeks",
            ),
            (
                "Namespace=N&MetricData.member.1.MetricName=A&MetricData.member.1.Values.member.1=1&MetricData.member.1.Counts.member.1=1&MetricData.member.1.Counts.member.2=1",
                "InvalidParameterValue",
                "same size",
            ),
            (
                "Namespace=N&MetricData.member.1.MetricName=A&MetricData.member.1.StatisticValues.SampleCount=1",
                "MissingParameter",
                "StatisticValues.Sum",
            ),
        ];
        for (body, code, needle) in cases {
            let e = parse(&form(body), NOW).unwrap_err();
            assert_eq!(e.code, code, "{body}: {e}");
            assert!(e.message.contains(needle), "{body}: {e}");
        }
        // NaN can only come through CBOR or JSON numbers.
        let n = Node::Map(vec![
            ("Namespace".into(), Node::Str("N".into())),
            (
                "MetricData".into(),
                Node::List(vec![Node::Map(vec![
                    ("MetricName".into(), Node::Str("A".into())),
                    ("Value".into(), Node::Num(f64::NAN)),
                ])]),
            ),
        ]);
        assert_eq!(parse(&n, NOW).unwrap_err().code, "InvalidParameterValue");
    }
}
