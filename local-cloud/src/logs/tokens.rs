//! Pagination tokens and time ranges of the read operations. Tokens are
//! positions, not offsets: a GetLogEvents token is a direction and an event
//! key (`f/TS/ID`, `b/TS/ID`), a FilterLogEvents token the key of the last
//! event returned (`e/TS/ID`), a listing token the last name returned
//! (`n/NAME`). Appends in between never make a page repeat or skip events.

use super::model::Key;
use super::query::{Cursor, MAX_KEY, MIN_KEY};
use super::wire::ApiError;

/// Encodes a GetLogEvents cursor: `f/TS/ID` or `b/TS/ID`.
pub(super) fn cursor_token(c: Cursor) -> String {
    match c {
        Cursor::After((t, id)) => format!("f/{t}/{id}"),
        Cursor::Before((t, id)) => format!("b/{t}/{id}"),
    }
}

fn bad_token() -> ApiError {
    ApiError::invalid("The specified nextToken is invalid.")
}

fn parse_key(s: &str) -> Result<Key, ApiError> {
    let (t, id) = s.split_once('/').ok_or_else(bad_token)?;
    Ok((
        t.parse().map_err(|_| bad_token())?,
        id.parse().map_err(|_| bad_token())?,
    ))
}

/// Decodes a GetLogEvents token.
pub(super) fn parse_cursor(token: &str) -> Result<Cursor, ApiError> {
    if let Some(rest) = token.strip_prefix("f/") {
        Ok(Cursor::After(parse_key(rest)?))
    } else if let Some(rest) = token.strip_prefix("b/") {
        Ok(Cursor::Before(parse_key(rest)?))
    } else {
        Err(bad_token())
    }
}

/// Encodes a FilterLogEvents token (resume after this key).
pub(super) fn key_token(k: Key) -> String {
    format!("e/{}/{}", k.0, k.1)
}

/// Decodes a FilterLogEvents token; no token starts before everything.
pub(super) fn parse_key_token(token: Option<&str>) -> Result<Key, ApiError> {
    match token {
        None => Ok(MIN_KEY),
        Some(t) => parse_key(t.strip_prefix("e/").ok_or_else(bad_token)?),
    }
}

/// Encodes a listing token (resume after this name, or this sort key).
pub(super) fn name_token(name: &str) -> String {
    format!("n/{name}")
}

/// Decodes a listing token.
pub(super) fn parse_name_token(token: Option<&str>) -> Result<Option<&str>, ApiError> {
    token
        .map(|t| t.strip_prefix("n/").ok_or_else(bad_token))
        .transpose()
}

/// The key range `[start, end)` or `[start, end]` (ms), never earlier than
/// `cutoff` (retention).
pub(super) fn time_range(
    start: Option<i64>,
    end: Option<i64>,
    end_inclusive: bool,
    cutoff: i64,
) -> (Key, Key) {
    let lo = (start.unwrap_or(i64::MIN).max(cutoff), 0);
    let hi = match end {
        None => MAX_KEY,
        Some(e) if end_inclusive => (e, u64::MAX),
        Some(e) => super::query::pred((e, 0)),
    };
    (lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_garbage_is_refused() {
        for c in [
            Cursor::After((5, 7)),
            Cursor::Before((-1, u64::MAX)),
            Cursor::After(MIN_KEY),
        ] {
            assert_eq!(parse_cursor(&cursor_token(c)).unwrap(), c);
        }
        assert_eq!(parse_key_token(Some(&key_token((9, 3)))).unwrap(), (9, 3));
        assert_eq!(parse_key_token(None).unwrap(), MIN_KEY);
        assert_eq!(
            parse_name_token(Some(&name_token("a/b"))).unwrap(),
            Some("a/b")
        );
        for bad in ["", "x/1/2", "f/1", "f/a/2", "e/1/-2"] {
            assert_eq!(
                parse_cursor(bad).unwrap_err().kind,
                "InvalidParameterException",
                "{bad}"
            );
        }
        assert!(parse_key_token(Some("f/1/2")).is_err());
        assert!(parse_name_token(Some("abc")).is_err());
    }

    #[test]
    fn time_ranges() {
        assert_eq!(time_range(None, None, false, i64::MIN), (MIN_KEY, MAX_KEY));
        assert_eq!(
            time_range(Some(5), Some(9), false, 0),
            ((5, 0), (8, u64::MAX))
        );
        assert_eq!(
            time_range(Some(5), Some(9), true, 0),
            ((5, 0), (9, u64::MAX))
        );
        assert_eq!(time_range(Some(5), None, true, 7), ((7, 0), MAX_KEY));
    }
}
