//! The checks every definition passes, whatever it was written in: each
//! returns a message that names the problem and the fix, and the caller
//! adds where (file:line:column, or the flag).
//!
//! The limits are AWS's, so that a definition that passes here is not
//! refused later by Lambda, S3 or CloudWatch Logs halfway through a deploy.

use super::Storage;

/// Variables the deploy sets itself: a definition must not.
const SET_BY_DEPLOY: &[(&str, &str)] = &[
    ("SCAR_IMAGE", "set the image with `image`"),
    ("SCAR_RUNTIME", "set the runtime with `runtime`"),
    ("SCAR_OUTPUTS", "list outputs under `[[outputs]]`"),
    ("SCAR_INPUT", "set the input under `[input]`"),
    (
        "SCAR_SCRIPT",
        "set the script with `script` or `script_inline`",
    ),
];

/// A Lambda function name: 1 to 64 of `[A-Za-z0-9-_]`.
pub fn name(name: &str) -> Result<(), String> {
    if scar_contract::function::is_valid_function_name(name) {
        Ok(())
    } else {
        Err(format!(
            "function name {name:?} is not valid: use 1 to 64 letters, digits, '-' or '_'"
        ))
    }
}

/// An image reference: not empty, no spaces.
pub fn image(image: &str) -> Result<(), String> {
    let i = image.trim();
    if i.is_empty() || i.contains(char::is_whitespace) {
        return Err(format!(
            "image {image:?} is not a reference: write grycap/ffmpeg, docker://HOST/REPO:TAG, oci:PATH[:TAG] or docker-archive:PATH"
        ));
    }
    Ok(())
}

/// A script: something to run.
pub fn script(text: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err("the script is empty: write the commands to run on each input file".into());
    }
    Ok(())
}

fn range(what: &str, value: i64, min: i64, max: i64, unit: &str) -> Result<u32, String> {
    if value < min || value > max {
        return Err(format!(
            "{what} {value} is out of range: use {min} to {max} {unit}"
        ));
    }
    Ok(value as u32)
}

/// Memory, MB: 128 to 10240 (Lambda's limits).
pub fn memory(mb: i64) -> Result<u32, String> {
    range("memory", mb, 128, 10_240, "MB")
}

/// Timeout, s: 1 to 900 (Lambda's limits).
pub fn timeout(s: i64) -> Result<u32, String> {
    range("timeout", s, 1, 900, "seconds")
}

/// `/tmp` size, MB: 512 to 10240 (Lambda's limits).
pub fn ephemeral_storage(mb: i64) -> Result<u32, String> {
    range("ephemeral_storage", mb, 512, 10_240, "MB")
}

/// Reserved concurrency: 0 (stops the function) or more.
pub fn reserved_concurrency(n: i64) -> Result<u32, String> {
    range(
        "reserved_concurrency",
        n,
        0,
        100_000,
        "(0 stops every invocation)",
    )
}

/// CloudWatch Logs' allowed retention periods, in days.
pub const RETENTION_DAYS: &[i64] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// A log retention CloudWatch Logs accepts.
pub fn retention(days: i64) -> Result<u32, String> {
    if RETENTION_DAYS.contains(&days) {
        return Ok(days as u32);
    }
    let list: Vec<String> = RETENTION_DAYS.iter().map(i64::to_string).collect();
    Err(format!(
        "log_retention_days {days} is not a period CloudWatch Logs keeps: use one of {}",
        list.join(", ")
    ))
}

/// A function variable: a valid name, not one AWS or the deploy owns.
pub fn env_var(key: &str, _value: &str) -> Result<(), String> {
    let mut chars = key.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(format!(
            "variable name {key:?} is not valid: start with a letter, then letters, digits or '_'"
        ));
    }
    if key.starts_with("AWS_") {
        return Err(format!(
            "variable {key} is reserved by AWS Lambda: rename it"
        ));
    }
    if let Some((_, fix)) = SET_BY_DEPLOY.iter().find(|(k, _)| *k == key) {
        return Err(format!(
            "variable {key} is set by the deploy: {fix} instead"
        ));
    }
    Ok(())
}

/// An S3 bucket name, by S3's naming rules.
pub fn bucket(name: &str) -> Result<(), String> {
    scar_contract::function::check_bucket(name).map_err(|e| e.to_string())
}

/// A suffix filter: not empty.
pub fn suffix(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("empty suffix: remove it (no suffixes means every key)".into());
    }
    Ok(())
}

/// An IAM role ARN.
pub fn role(arn: &str) -> Result<(), String> {
    let ok = arn.starts_with("arn:aws") && arn.contains(":iam::") && arn.contains(":role/");
    if ok {
        Ok(())
    } else {
        Err(format!(
            "role {arn:?} is not an IAM role ARN: write arn:aws:iam::ACCOUNT:role/NAME"
        ))
    }
}

/// Refuses an output that would trigger the function again: the same
/// bucket as the input, inside its prefix, with suffixes the input takes.
pub fn no_loop(input: Option<&Storage>, output: &Storage) -> Result<(), String> {
    let Some(input) = input else {
        return Ok(());
    };
    if input.bucket != output.bucket {
        return Ok(());
    }
    let prefixes_meet =
        output.prefix.starts_with(&input.prefix) || input.prefix.starts_with(&output.prefix);
    // Outputs without suffixes may write anything; an input without suffixes takes anything.
    let suffixes_meet = input.suffixes.is_empty()
        || output.suffixes.is_empty()
        || output.suffixes.iter().any(|o| {
            input
                .suffixes
                .iter()
                .any(|i| o.ends_with(i.as_str()) || i.ends_with(o.as_str()))
        });
    if prefixes_meet && suffixes_meet {
        return Err(format!(
            "output {} would trigger the function again (its input is {}): use another bucket or a prefix outside the input's",
            output.describe(),
            input.describe()
        ));
    }
    Ok(())
}

/// The candidate nearest to `word` (at most two edits away), for "did you mean".
pub fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_follow_aws() {
        assert!(name("scar-ffmpeg_1").is_ok());
        assert!(name("bad name").is_err());
        assert!(memory(127).is_err());
        assert_eq!(memory(2048), Ok(2048));
        assert!(timeout(901).is_err());
        assert!(retention(30).is_ok());
        assert!(retention(31).unwrap_err().contains("30"));
        assert!(bucket("my.bucket-1").is_ok());
        assert!(bucket("My_Bucket").is_err());
        assert!(bucket("192.168.0.1").is_err());
        assert!(env_var("AWS_REGION", "x").is_err());
        assert!(env_var("SCAR_IMAGE", "x").unwrap_err().contains("`image`"));
        assert!(env_var("SCAR_TIMEOUT_RESERVE_S", "5").is_ok());
        assert!(role("arn:aws:iam::123456789012:role/x").is_ok());
        assert!(role("x").is_err());
    }

    #[test]
    fn loops_are_refused() {
        let s = |b: &str, p: &str, sx: &[&str]| Storage {
            bucket: b.into(),
            prefix: p.into(),
            suffixes: sx.iter().map(|s| (*s).to_owned()).collect(),
        };
        assert!(no_loop(Some(&s("b", "in/", &[])), &s("b", "in/out/", &[])).is_err());
        assert!(no_loop(Some(&s("b", "", &[])), &s("b", "out/", &[])).is_err());
        assert!(no_loop(Some(&s("b", "in/", &[])), &s("b", "out/", &[])).is_ok());
        assert!(no_loop(Some(&s("b", "", &[".jpg"])), &s("b", "", &[".txt"])).is_ok());
        assert!(no_loop(Some(&s("a", "", &[])), &s("b", "", &[])).is_ok());
    }

    #[test]
    fn did_you_mean() {
        assert_eq!(closest("memroy", &["memory", "timeout"]), Some("memory"));
        assert_eq!(closest("zzzzzz", &["memory"]), None);
    }
}
