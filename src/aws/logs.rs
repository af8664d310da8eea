//! Reading function logs: FilterLogEvents pages (within the read quota of
//! 5 requests per second per account), one request's lines through
//! GetLogEvents, and the log group's existence.

use super::{AwsError, Cloud};

/// One log event.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LogLine {
    /// ms since the epoch.
    pub timestamp: i64,
    /// The stream (one per execution environment).
    pub stream: String,
    /// The line.
    pub message: String,
    /// The event id (FilterLogEvents), for deduplication.
    pub event_id: String,
}

/// The log group of a function.
pub fn log_group(function: &str) -> String {
    format!("/aws/lambda/{function}")
}

impl Cloud {
    /// One page of a function's log events from `start_ms` on.
    pub async fn log_page(
        &self,
        function: &str,
        start_ms: Option<i64>,
        pattern: Option<&str>,
        token: Option<String>,
    ) -> Result<(Vec<LogLine>, Option<String>), AwsError> {
        let group = log_group(function);
        let out = self
            .logs
            .filter_log_events()
            .log_group_name(&group)
            .set_start_time(start_ms)
            .set_filter_pattern(pattern.map(str::to_owned))
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| AwsError::call("FilterLogEvents", &group, &e))?;
        let lines = out
            .events()
            .iter()
            .map(|e| LogLine {
                timestamp: e.timestamp().unwrap_or(0),
                stream: e.log_stream_name().unwrap_or_default().to_owned(),
                message: e.message().unwrap_or_default().to_owned(),
                event_id: e.event_id().unwrap_or_default().to_owned(),
            })
            .collect();
        Ok((lines, out.next_token().map(str::to_owned)))
    }

    /// Every log event of a function from `start_ms` on (all pages).
    pub async fn log_lines(
        &self,
        function: &str,
        start_ms: Option<i64>,
        pattern: Option<&str>,
    ) -> Result<Vec<LogLine>, AwsError> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let (mut lines, next) = self.log_page(function, start_ms, pattern, token).await?;
            out.append(&mut lines);
            match next {
                Some(t) => token = Some(t),
                None => return Ok(out),
            }
        }
    }

    /// Exactly one request's lines: from its START to its REPORT, in its stream.
    pub async fn request_lines(
        &self,
        function: &str,
        request_id: &str,
    ) -> Result<Vec<LogLine>, AwsError> {
        let marks = self
            .log_lines(
                function,
                None,
                Some(&format!("\"RequestId: {request_id}\"")),
            )
            .await?;
        let start = marks
            .iter()
            .find(|l| l.message.starts_with("START RequestId: "))
            .ok_or_else(|| AwsError::Call {
                op: "FilterLogEvents",
                target: log_group(function),
                code: "ResourceNotFoundException".into(),
                message: format!("no START line for request {request_id}; check the id with `scar-tui metrics {function}`"),
            })?;
        let end = marks
            .iter()
            .find(|l| l.message.starts_with("REPORT RequestId: ") && l.stream == start.stream)
            .map(|l| l.timestamp);
        let group = log_group(function);
        let mut lines = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .logs
                .get_log_events()
                .log_group_name(&group)
                .log_stream_name(&start.stream)
                .start_time(start.timestamp)
                .set_end_time(end.map(|e| e + 1))
                .start_from_head(true)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| AwsError::call("GetLogEvents", &group, &e))?;
            let events = out.events();
            for e in events {
                lines.push(LogLine {
                    timestamp: e.timestamp().unwrap_or(0),
                    stream: start.stream.clone(),
                    message: e.message().unwrap_or_default().to_owned(),
                    event_id: String::new(),
                });
            }
            let next = out.next_forward_token().map(str::to_owned);
            if events.is_empty() || next == token {
                break;
            }
            token = next;
        }
        // Cut at this request's own START and REPORT: a stream holds one
        // request at a time, so what lies between is exactly its output.
        let from = lines
            .iter()
            .position(|l| {
                l.message
                    .starts_with(&format!("START RequestId: {request_id}"))
            })
            .unwrap_or(0);
        let to = lines
            .iter()
            .position(|l| {
                l.message
                    .starts_with(&format!("REPORT RequestId: {request_id}"))
            })
            .map_or(lines.len(), |i| i + 1);
        Ok(lines
            .get(from..to)
            .map(<[LogLine]>::to_vec)
            .unwrap_or_default())
    }
}

/// A StartLiveTail session (AWS): batches of new lines as CloudWatch Logs
/// pushes them, for up to three hours.
#[derive(Debug)]
pub struct LiveTail {
    out: aws_sdk_cloudwatchlogs::operation::start_live_tail::StartLiveTailOutput,
    group: String,
}

/// One update of a live tail session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveBatch {
    /// The lines.
    pub lines: Vec<LogLine>,
    /// CloudWatch sampled this update (more than 500 events a second).
    pub sampled: bool,
}

/// The log group ARN of a function, from the function's ARN
/// (`arn:aws:lambda:REGION:ACCOUNT:function:NAME`): StartLiveTail takes
/// groups by ARN only.
pub fn log_group_arn(function_arn: &str) -> Option<String> {
    let parts: Vec<&str> = function_arn.split(':').collect();
    match parts.as_slice() {
        [
            "arn",
            partition,
            "lambda",
            region,
            account,
            "function",
            name,
            ..,
        ] => Some(format!(
            "arn:{partition}:logs:{region}:{account}:log-group:{}",
            log_group(name)
        )),
        _ => None,
    }
}

impl Cloud {
    /// Starts a live tail of a log group, given by ARN.
    pub async fn live_tail(&self, group_arn: &str) -> Result<LiveTail, AwsError> {
        let out = self
            .logs
            .start_live_tail()
            .log_group_identifiers(group_arn)
            .send()
            .await
            .map_err(|e| AwsError::call("StartLiveTail", group_arn, &e))?;
        Ok(LiveTail {
            out,
            group: group_arn.to_owned(),
        })
    }
}

impl LiveTail {
    /// The next update; `None` when the session ended.
    pub async fn next(&mut self) -> Result<Option<LiveBatch>, AwsError> {
        use aws_sdk_cloudwatchlogs::types::StartLiveTailResponseStream as S;
        loop {
            let ev = self.out.response_stream.recv().await.map_err(|e| {
                use aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata;
                AwsError::Call {
                    op: "StartLiveTail",
                    target: self.group.clone(),
                    code: e
                        .as_service_error()
                        .and_then(|s| s.code())
                        .unwrap_or("StreamError")
                        .to_owned(),
                    message: aws_sdk_cloudwatchlogs::error::DisplayErrorContext(&e).to_string(),
                }
            })?;
            match ev {
                None => return Ok(None),
                Some(S::SessionUpdate(u)) => {
                    return Ok(Some(LiveBatch {
                        sampled: u.session_metadata().is_some_and(|m| m.sampled()),
                        lines: u
                            .session_results()
                            .iter()
                            .map(|e| LogLine {
                                timestamp: e.timestamp().unwrap_or(0),
                                stream: e.log_stream_name().unwrap_or_default().to_owned(),
                                message: e.message().unwrap_or_default().to_owned(),
                                event_id: String::new(),
                            })
                            .collect(),
                    }));
                }
                // SessionStart, and kinds newer than this SDK: nothing to show.
                Some(_) => continue,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_group_arns_come_from_function_arns() {
        assert_eq!(
            log_group_arn("arn:aws:lambda:eu-west-1:123456789012:function:demo").as_deref(),
            Some("arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/demo")
        );
        assert_eq!(log_group_arn("demo"), None);
    }
}
