//! CloudWatch Logs filter patterns for unstructured events, as FilterLogEvents
//! applies them
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html>):
//!
//! - `ERROR Exception`: every term must appear (case-sensitive);
//! - `"RequestId: 42"`: a quoted phrase is one term, spaces included;
//! - `?ERROR ?WARN`: at least one of the `?` terms must appear;
//! - `-DEBUG`: the term must not appear;
//! - empty or `""`: every event matches.
//!
//! Terms may be mixed: all plain terms, one of the `?` terms (if any) and
//! none of the `-` terms. JSON (`{ $.x = 1 }`), space-delimited (`[a, b]`)
//! and regex (`%...%`) patterns are refused with a clear message rather than
//! answered wrongly.

/// A parsed filter pattern.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterPattern {
    all: Vec<String>,
    any: Vec<String>,
    none: Vec<String>,
}

/// Why a pattern was refused: the text of AWS's `InvalidParameterException`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid filter pattern {pattern:?}: {reason}")]
pub struct PatternError {
    /// The pattern as given.
    pub pattern: String,
    /// What is wrong with it.
    pub reason: String,
}

impl FilterPattern {
    /// Parses a pattern; `None` or blank matches everything.
    pub fn parse(pattern: Option<&str>) -> Result<FilterPattern, PatternError> {
        let text = pattern.unwrap_or("").trim();
        let refuse = |reason: &str| PatternError {
            pattern: text.to_owned(),
            reason: reason.to_owned(),
        };
        if text.starts_with('{') {
            return Err(refuse(
                "JSON filter patterns ({ $.field = value }) are not supported by the local cloud; use terms or \"quoted phrases\"",
            ));
        }
        if text.starts_with('[') {
            return Err(refuse(
                "space-delimited filter patterns ([a, b, ...]) are not supported by the local cloud; use terms or \"quoted phrases\"",
            ));
        }
        if text.len() >= 2 && text.starts_with('%') && text.ends_with('%') {
            return Err(refuse(
                "regex filter patterns (%...%) are not supported by the local cloud; use terms or \"quoted phrases\"",
            ));
        }
        let mut out = FilterPattern::default();
        let mut chars = text.chars().peekable();
        loop {
            while chars.next_if(|c| c.is_whitespace()).is_some() {}
            let Some(&first) = chars.peek() else { break };
            let prefixed = matches!(first, '?' | '-');
            if prefixed {
                chars.next();
            }
            let term = if chars.peek() == Some(&'"') {
                chars.next();
                let mut term = String::new();
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c) => term.push(c),
                            None => return Err(refuse("unterminated quoted phrase")),
                        },
                        Some(c) => term.push(c),
                        None => return Err(refuse("unterminated quoted phrase")),
                    }
                }
                term
            } else {
                let mut term = String::new();
                while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                    term.push(c);
                }
                term
            };
            // `""` means "everything": an empty plain term adds nothing.
            if term.is_empty() {
                if prefixed {
                    return Err(refuse("`?` and `-` must be followed by a term"));
                }
                continue;
            }
            match first {
                '?' => out.any.push(term),
                '-' => out.none.push(term),
                _ => out.all.push(term),
            }
        }
        Ok(out)
    }

    /// True if `message` matches.
    pub fn matches(&self, message: &str) -> bool {
        self.all.iter().all(|t| message.contains(t.as_str()))
            && (self.any.is_empty() || self.any.iter().any(|t| message.contains(t.as_str())))
            && !self.none.iter().any(|t| message.contains(t.as_str()))
    }

    /// True if every message matches (no terms at all).
    pub fn matches_everything(&self) -> bool {
        self.all.is_empty() && self.any.is_empty() && self.none.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> FilterPattern {
        FilterPattern::parse(Some(s)).unwrap()
    }

    #[test]
    fn empty_matches_everything() {
        for s in ["", "  ", "\"\""] {
            assert!(p(s).matches_everything(), "{s:?}");
            assert!(p(s).matches("anything"));
        }
        assert!(FilterPattern::parse(None).unwrap().matches(""));
    }

    #[test]
    fn plain_terms_all_must_appear_case_sensitive() {
        let f = p("ERROR Exception");
        assert!(f.matches("ERROR: NullPointerException at x"));
        assert!(!f.matches("ERROR: nothing"));
        assert!(!f.matches("error: Exception"));
    }

    #[test]
    fn quoted_phrase_is_one_term() {
        let f = p("\"RequestId: 42\" END");
        assert!(f.matches("END RequestId: 42"));
        assert!(!f.matches("END RequestId: 43 42"));
        let esc = p(r#""say \"hi\"""#);
        assert!(esc.matches(r#"they say "hi" here"#));
    }

    #[test]
    fn optional_terms_any_must_appear() {
        let f = p("?ERROR ?WARN");
        assert!(f.matches("WARN disk"));
        assert!(f.matches("ERROR disk"));
        assert!(!f.matches("INFO disk"));
        let mixed = p("disk ?ERROR ?WARN");
        assert!(mixed.matches("WARN disk"));
        assert!(!mixed.matches("WARN net"));
    }

    #[test]
    fn excluded_terms() {
        let f = p("ERROR -Exiting");
        assert!(f.matches("ERROR one"));
        assert!(!f.matches("ERROR Exiting now"));
        let only = p("-\"Billed Duration\"");
        assert!(only.matches("START RequestId"));
        assert!(!only.matches("REPORT Billed Duration: 3 ms"));
    }

    #[test]
    fn unsupported_forms_are_refused_clearly() {
        for s in [
            "{ $.level = \"ERROR\" }",
            "[ip, user]",
            "%ERR.*%",
            "\"open",
            "ok ?",
        ] {
            let e = FilterPattern::parse(Some(s)).unwrap_err();
            assert!(!e.reason.is_empty(), "{s}");
            assert!(e.to_string().contains("Invalid filter pattern"));
        }
    }
}
