//! The local cloud's CloudWatch Logs, driven only through the real
//! aws-sdk-cloudwatchlogs client: groups and streams, PutLogEvents and its
//! rejections, GetLogEvents and FilterLogEvents pagination and patterns,
//! DescribeLogStreams ordering, retention, SigV4, state across restarts,
//! and StartLiveTail's event stream (also through the console's client).

use std::collections::HashSet;

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata;
use aws_sdk_cloudwatchlogs::types::{FilteredLogEvent, InputLogEvent, OrderBy};

use crate::util::{self, Cloud};

const GROUP: &str = "/aws/lambda/logs-demo";
const DAY_MS: i64 = 86_400_000;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64
}

fn event(timestamp: i64, message: impl Into<String>) -> InputLogEvent {
    InputLogEvent::builder()
        .timestamp(timestamp)
        .message(message)
        .build()
        .expect("timestamp and message set")
}

async fn put(client: &Client, stream: &str, events: Vec<InputLogEvent>) {
    client
        .put_log_events()
        .log_group_name(GROUP)
        .log_stream_name(stream)
        .set_log_events(Some(events))
        .send()
        .await
        .expect("PutLogEvents");
}

/// Every message of a stream, oldest first, paging forward by `limit`
/// until the token repeats (the end, as on AWS).
async fn read_forward(client: &Client, stream: &str, limit: i32) -> (Vec<String>, usize) {
    let (mut out, mut pages, mut token) = (Vec::new(), 0, None::<String>);
    loop {
        let r = client
            .get_log_events()
            .log_group_name(GROUP)
            .log_stream_name(stream)
            .start_from_head(true)
            .limit(limit)
            .set_next_token(token.clone())
            .send()
            .await
            .expect("GetLogEvents");
        pages += 1;
        out.extend(
            r.events()
                .iter()
                .map(|e| e.message().unwrap_or("").to_owned()),
        );
        let next = r.next_forward_token().map(str::to_owned);
        assert!(next.is_some(), "nextForwardToken is always set");
        if next == token {
            return (out, pages);
        }
        token = next;
    }
}

/// Every FilterLogEvents hit, following `nextToken` until it is absent.
async fn filter_all(
    client: &Client,
    pattern: &str,
    limit: i32,
    customize: impl Fn(
        aws_sdk_cloudwatchlogs::operation::filter_log_events::builders::FilterLogEventsFluentBuilder,
    ) -> aws_sdk_cloudwatchlogs::operation::filter_log_events::builders::FilterLogEventsFluentBuilder,
) -> (Vec<FilteredLogEvent>, usize) {
    let (mut out, mut pages, mut token) = (Vec::new(), 0, None::<String>);
    loop {
        let req = client
            .filter_log_events()
            .log_group_name(GROUP)
            .filter_pattern(pattern)
            .limit(limit)
            .set_next_token(token.take());
        let r = customize(req).send().await.expect("FilterLogEvents");
        pages += 1;
        out.extend(r.events().iter().cloned());
        match r.next_token() {
            Some(t) => token = Some(t.to_owned()),
            None => return (out, pages),
        }
        assert!(pages < 1000, "FilterLogEvents never ends");
    }
}

/// Creates `group` and its `streams`.
async fn group_with_streams(client: &Client, group: &str, streams: &[&str]) {
    client
        .create_log_group()
        .log_group_name(group)
        .send()
        .await
        .expect("CreateLogGroup");
    for s in streams {
        client
            .create_log_stream()
            .log_group_name(group)
            .log_stream_name(*s)
            .send()
            .await
            .expect("CreateLogStream");
    }
}

fn messages(events: &[FilteredLogEvent]) -> Vec<&str> {
    events.iter().map(|e| e.message().unwrap_or("")).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn groups_streams_events_filters_and_retention() {
    let cloud = Cloud::start().await;
    let client = util::logs(cloud.get(), None);

    // Groups and streams, with AWS's errors.
    client
        .create_log_group()
        .log_group_name(GROUP)
        .send()
        .await
        .expect("CreateLogGroup");
    let e = client
        .create_log_group()
        .log_group_name(GROUP)
        .send()
        .await
        .expect_err("exists");
    assert_eq!(e.code(), Some("ResourceAlreadyExistsException"), "{e:?}");
    let e = client
        .create_log_group()
        .log_group_name("bad name!")
        .send()
        .await
        .expect_err("name");
    assert_eq!(e.code(), Some("InvalidParameterException"), "{e:?}");
    for s in ["a", "b", "c"] {
        client
            .create_log_stream()
            .log_group_name(GROUP)
            .log_stream_name(s)
            .send()
            .await
            .expect("CreateLogStream");
    }
    let e = client
        .create_log_stream()
        .log_group_name(GROUP)
        .log_stream_name("a")
        .send()
        .await
        .expect_err("exists");
    assert_eq!(e.code(), Some("ResourceAlreadyExistsException"), "{e:?}");

    // 30 events in a and b, interleaved in time; one later event in c.
    let t0 = now_ms() - 60_000;
    let level = |i: i64| if i % 3 == 0 { "ERROR" } else { "INFO" };
    put(
        &client,
        "a",
        (0..30)
            .map(|i| event(t0 + 2 * i, format!("a{i} {} disk full", level(i))))
            .collect(),
    )
    .await;
    put(
        &client,
        "b",
        (0..30)
            .map(|i| event(t0 + 2 * i + 1, format!("b{i} {} net down", level(i))))
            .collect(),
    )
    .await;
    put(
        &client,
        "c",
        vec![event(t0 + 1000, "c0 WARN \"quoted\" RequestId: 42")],
    )
    .await;

    // PutLogEvents' own checks.
    let e = client
        .put_log_events()
        .log_group_name(GROUP)
        .log_stream_name("a")
        .log_events(event(t0 + 5, "later"))
        .log_events(event(t0 + 4, "earlier"))
        .send()
        .await
        .expect_err("unsorted");
    assert_eq!(e.code(), Some("InvalidParameterException"), "{e:?}");
    let e = client
        .put_log_events()
        .log_group_name(GROUP)
        .log_stream_name("missing")
        .log_events(event(t0, "x"))
        .send()
        .await
        .expect_err("no stream");
    assert_eq!(e.code(), Some("ResourceNotFoundException"), "{e:?}");
    let r = client
        .put_log_events()
        .log_group_name(GROUP)
        .log_stream_name("c")
        .log_events(event(now_ms() - 14 * DAY_MS - 3_600_000, "too old"))
        .log_events(event(now_ms() - 14 * DAY_MS - 3_599_999, "too old too"))
        .log_events(event(
            now_ms() - 14 * DAY_MS + 3_600_000,
            "old but accepted",
        ))
        .send()
        .await
        .expect("PutLogEvents with rejections");
    let rejected = r.rejected_log_events_info().expect("rejectedLogEventsInfo");
    assert_eq!(rejected.too_old_log_event_end_index(), Some(2));
    assert_eq!(rejected.too_new_log_event_start_index(), None);
    assert!(r.next_sequence_token().is_some());
    let r = client
        .put_log_events()
        .log_group_name(GROUP)
        .log_stream_name("c")
        .log_events(event(now_ms() + 3 * 3_600_000, "too new"))
        .send()
        .await
        .expect("PutLogEvents too new");
    let rejected = r.rejected_log_events_info().expect("rejectedLogEventsInfo");
    assert_eq!(rejected.too_new_log_event_start_index(), Some(0));

    // GetLogEvents: forward pages of 7 until the token repeats.
    let (a, pages) = read_forward(&client, "a", 7).await;
    let expected: Vec<String> = (0..30)
        .map(|i| format!("a{i} {} disk full", level(i)))
        .collect();
    assert_eq!(a, expected);
    assert_eq!(pages, 6, "5 pages of events, then the repeated token");
    // By default the newest events come first; the backward token pages back.
    let r = client
        .get_log_events()
        .log_group_name(GROUP)
        .log_stream_name("a")
        .limit(4)
        .send()
        .await
        .expect("GetLogEvents tail");
    let tail: Vec<&str> = r
        .events()
        .iter()
        .map(|e| e.message().unwrap_or(""))
        .collect();
    assert_eq!(
        tail,
        expected[26..]
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );
    let back = client
        .get_log_events()
        .log_group_name(GROUP)
        .log_stream_name("a")
        .limit(4)
        .set_next_token(r.next_backward_token().map(str::to_owned))
        .send()
        .await
        .expect("GetLogEvents back");
    assert_eq!(back.events()[0].message(), Some(expected[22].as_str()));
    assert!(back.events()[0].ingestion_time().is_some());
    // A time range: [t0 + 10, t0 + 20) holds a5..a9.
    let r = client
        .get_log_events()
        .log_group_name(GROUP)
        .log_stream_name("a")
        .start_from_head(true)
        .start_time(t0 + 10)
        .end_time(t0 + 20)
        .send()
        .await
        .expect("GetLogEvents range");
    assert_eq!(r.events().len(), 5);
    let e = client
        .get_log_events()
        .log_group_name(GROUP)
        .log_stream_name("a")
        .next_token("garbage")
        .send()
        .await
        .expect_err("bad token");
    assert_eq!(e.code(), Some("InvalidParameterException"), "{e:?}");

    // FilterLogEvents: interleaved across streams, paged by 4.
    let (errors, pages) = filter_all(&client, "ERROR", 4, |r| r).await;
    assert_eq!(errors.len(), 20, "{:?}", messages(&errors));
    assert_eq!(pages, 5);
    let ts: Vec<i64> = errors.iter().map(|e| e.timestamp().unwrap_or(0)).collect();
    assert!(
        ts.windows(2).all(|w| w[0] <= w[1]),
        "interleaved by time: {ts:?}"
    );
    assert_eq!(errors[0].log_stream_name(), Some("a"));
    assert_eq!(errors[1].log_stream_name(), Some("b"));
    let ids: HashSet<&str> = errors.iter().filter_map(|e| e.event_id()).collect();
    assert_eq!(ids.len(), 20, "unique eventIds");
    // Patterns: all terms, phrases, alternatives, exclusions.
    let (hits, _) = filter_all(&client, "ERROR disk", 100, |r| r).await;
    assert_eq!(hits.len(), 10);
    let (hits, _) = filter_all(&client, "\"net down\" -INFO", 100, |r| r).await;
    assert_eq!(hits.len(), 10);
    assert!(
        messages(&hits)
            .iter()
            .all(|m| m.starts_with('b') && m.contains("ERROR"))
    );
    let (hits, _) = filter_all(&client, "?WARN ?accepted", 100, |r| r).await;
    assert_eq!(
        messages(&hits),
        ["old but accepted", "c0 WARN \"quoted\" RequestId: 42"]
    );
    let (hits, _) = filter_all(&client, "\"RequestId: 42\"", 100, |r| r).await;
    assert_eq!(hits.len(), 1);
    let (hits, _) = filter_all(&client, "error", 100, |r| r).await;
    assert!(hits.is_empty(), "terms are case-sensitive");
    // Stream selection and time range.
    let (hits, _) = filter_all(&client, "", 100, |r| r.log_stream_names("b")).await;
    assert_eq!(hits.len(), 30);
    let (hits, _) = filter_all(&client, "ERROR", 100, |r| r.log_stream_name_prefix("a")).await;
    assert_eq!(hits.len(), 10);
    let (hits, _) = filter_all(&client, "", 100, |r| {
        r.start_time(t0 + 10).end_time(t0 + 13)
    })
    .await;
    assert_eq!(
        messages(&hits),
        [
            "a5 INFO disk full",
            "b5 INFO net down",
            "a6 ERROR disk full",
            "b6 ERROR net down"
        ]
    );
    let e = client
        .filter_log_events()
        .log_group_name(GROUP)
        .filter_pattern("{ $.level = \"ERROR\" }")
        .send()
        .await
        .expect_err("JSON patterns");
    assert_eq!(e.code(), Some("InvalidParameterException"), "{e:?}");
    assert!(e.message().unwrap_or("").contains("not supported"), "{e:?}");

    // DescribeLogStreams by LastEventTime, newest first, one per page.
    let mut names = Vec::new();
    let mut token = None;
    loop {
        let r = client
            .describe_log_streams()
            .log_group_name(GROUP)
            .order_by(OrderBy::LastEventTime)
            .descending(true)
            .limit(1)
            .set_next_token(token)
            .send()
            .await
            .expect("DescribeLogStreams");
        for s in r.log_streams() {
            names.push(s.log_stream_name().unwrap_or("").to_owned());
            assert!(s.arn().unwrap_or("").ends_with(&format!(
                "log-group:{GROUP}:log-stream:{}",
                names.last().unwrap()
            )));
            assert!(s.first_event_timestamp().is_some() && s.last_ingestion_time().is_some());
        }
        token = r.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(names, ["c", "b", "a"]);
    let e = client
        .describe_log_streams()
        .log_group_name(GROUP)
        .order_by(OrderBy::LastEventTime)
        .log_stream_name_prefix("a")
        .send()
        .await
        .expect_err("prefix with LastEventTime");
    assert_eq!(e.code(), Some("InvalidParameterException"), "{e:?}");

    // DescribeLogGroups: prefix and pagination.
    for g in ["/other/x", "/other/y"] {
        client
            .create_log_group()
            .log_group_name(g)
            .send()
            .await
            .expect("CreateLogGroup");
    }
    let r = client
        .describe_log_groups()
        .log_group_name_prefix("/other/")
        .limit(1)
        .send()
        .await
        .expect("groups");
    assert_eq!(r.log_groups()[0].log_group_name(), Some("/other/x"));
    let r2 = client
        .describe_log_groups()
        .log_group_name_prefix("/other/")
        .limit(1)
        .set_next_token(r.next_token().map(str::to_owned))
        .send()
        .await
        .expect("groups page 2");
    assert_eq!(r2.log_groups()[0].log_group_name(), Some("/other/y"));
    assert!(r2.next_token().is_none());
    let all = client.describe_log_groups().send().await.expect("groups");
    let demo = all
        .log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(GROUP))
        .expect("demo group");
    assert_eq!(
        demo.arn(),
        Some(
            format!(
                "arn:aws:logs:{}:000000000000:log-group:{GROUP}:*",
                cloud.get().region()
            )
            .as_str()
        )
    );
    assert!(demo.creation_time().is_some() && demo.stored_bytes().unwrap_or(0) > 0);
    assert_eq!(demo.retention_in_days(), None);

    // Retention: invalid values refused; 1 day drops the 14-day-old event.
    let e = client
        .put_retention_policy()
        .log_group_name(GROUP)
        .retention_in_days(2)
        .send()
        .await
        .expect_err("2 days is not a valid retention");
    assert_eq!(e.code(), Some("InvalidParameterException"), "{e:?}");
    client
        .put_retention_policy()
        .log_group_name(GROUP)
        .retention_in_days(1)
        .send()
        .await
        .expect("retention");
    let (hits, _) = filter_all(&client, "accepted", 100, |r| r).await;
    assert!(hits.is_empty(), "expired by retention");
    let r = client
        .describe_log_groups()
        .log_group_name_prefix(GROUP)
        .send()
        .await
        .expect("groups");
    assert_eq!(r.log_groups()[0].retention_in_days(), Some(1));
    client
        .delete_retention_policy()
        .log_group_name(GROUP)
        .send()
        .await
        .expect("DeleteRetentionPolicy");

    // Deletes.
    client
        .delete_log_stream()
        .log_group_name(GROUP)
        .log_stream_name("c")
        .send()
        .await
        .expect("DeleteLogStream");
    client
        .delete_log_group()
        .log_group_name("/other/x")
        .send()
        .await
        .expect("DeleteLogGroup");
    let e = client
        .delete_log_group()
        .log_group_name("/other/x")
        .send()
        .await
        .expect_err("gone");
    assert_eq!(e.code(), Some("ResourceNotFoundException"), "{e:?}");
    let e = client
        .get_log_events()
        .log_group_name(GROUP)
        .log_stream_name("c")
        .send()
        .await
        .expect_err("stream gone");
    assert_eq!(e.code(), Some("ResourceNotFoundException"), "{e:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_secret_is_refused() {
    let cloud = Cloud::start().await;
    let bad = util::logs(cloud.get(), Some("not-the-secret"));
    let e = bad
        .create_log_group()
        .log_group_name(GROUP)
        .send()
        .await
        .expect_err("wrong key");
    assert_eq!(e.code(), Some("InvalidSignatureException"), "{e:?}");
    // Nothing was created.
    let good = util::logs(cloud.get(), None);
    let r = good
        .describe_log_groups()
        .send()
        .await
        .expect("DescribeLogGroups");
    assert!(r.log_groups().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn state_survives_a_restart() {
    let mut cloud = Cloud::start().await;
    let client = util::logs(cloud.get(), None);
    client
        .create_log_group()
        .log_group_name(GROUP)
        .send()
        .await
        .expect("CreateLogGroup");
    client
        .create_log_stream()
        .log_group_name(GROUP)
        .log_stream_name("s")
        .send()
        .await
        .expect("stream");
    client
        .create_log_stream()
        .log_group_name(GROUP)
        .log_stream_name("empty")
        .send()
        .await
        .expect("stream");
    client
        .put_retention_policy()
        .log_group_name(GROUP)
        .retention_in_days(7)
        .send()
        .await
        .expect("retention");
    let t0 = now_ms();
    put(
        &client,
        "s",
        (0..50)
            .map(|i| event(t0 + i, format!("before {i}")))
            .collect(),
    )
    .await;
    let (before, _) = filter_all(&client, "", 1000, |r| r).await;

    cloud.restart().await;
    let client = util::logs(cloud.get(), None);
    let (after, _) = filter_all(&client, "", 1000, |r| r).await;
    assert_eq!(after, before, "same events, ids and ingestion times");
    let r = client.describe_log_groups().send().await.expect("groups");
    assert_eq!(r.log_groups().len(), 1);
    assert_eq!(r.log_groups()[0].retention_in_days(), Some(7));
    let r = client
        .describe_log_streams()
        .log_group_name(GROUP)
        .send()
        .await
        .expect("streams");
    let names: Vec<&str> = r
        .log_streams()
        .iter()
        .filter_map(|s| s.log_stream_name())
        .collect();
    assert_eq!(names, ["empty", "s"]);

    // Appends continue with new ids after the restart.
    put(&client, "s", vec![event(t0 + 100, "after")]).await;
    let (all, _) = filter_all(&client, "", 1000, |r| r).await;
    assert_eq!(all.len(), 51);
    let ids: HashSet<&str> = all.iter().filter_map(|e| e.event_id()).collect();
    assert_eq!(ids.len(), 51);
    let (msgs, _) = read_forward(&client, "s", 10_000).await;
    assert_eq!(msgs.last().map(String::as_str), Some("after"));
}

/// StartLiveTail through the SDK's event-stream client: a session start,
/// then updates carrying only the events appended after it that match the
/// pattern, tagged with the identifier the client gave; an unknown group is
/// refused with AWS's error before any stream starts.
#[tokio::test]
async fn live_tail_pushes_matching_events_as_they_are_appended() {
    use aws_sdk_cloudwatchlogs::types::StartLiveTailResponseStream as S;
    use scar_tui::aws::host_prefix::StripHostPrefix;

    let cloud = Cloud::start().await;
    let plain = util::logs(cloud.get(), None);
    // The SDK sends StartLiveTail to a `stream-` host prefix; the console's
    // clients take it off for the loopback endpoint, and so does this one.
    let client = Client::from_conf(
        plain
            .config()
            .to_builder()
            .interceptor(StripHostPrefix::new(cloud.get().endpoint()).expect("endpoint"))
            .build(),
    );
    group_with_streams(&client, GROUP, &["s1", "s2"]).await;
    put(
        &client,
        "s1",
        vec![event(now_ms(), "ERROR before the session")],
    )
    .await;

    let err = client
        .start_live_tail()
        .log_group_identifiers("arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/nope")
        .send()
        .await
        .expect_err("unknown group");
    assert_eq!(err.code(), Some("ResourceNotFoundException"), "{err:?}");

    let arn = format!(
        "arn:aws:logs:{}:000000000000:log-group:{GROUP}",
        cloud.get().region()
    );
    let mut out = client
        .start_live_tail()
        .log_group_identifiers(&arn)
        .log_event_filter_pattern("ERROR")
        .send()
        .await
        .expect("StartLiveTail");
    match out.response_stream.recv().await.expect("first event") {
        Some(S::SessionStart(start)) => {
            assert_eq!(start.log_group_identifiers(), std::slice::from_ref(&arn));
            assert_eq!(start.log_event_filter_pattern(), Some("ERROR"));
            assert!(start.session_id().is_some_and(|id| !id.is_empty()));
        }
        other => panic!("expected sessionStart first, got {other:?}"),
    }

    let t = now_ms();
    put(
        &client,
        "s1",
        vec![event(t, "ERROR one"), event(t + 1, "fine")],
    )
    .await;
    put(&client, "s2", vec![event(t + 2, "ERROR two")]).await;
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while got.len() < 2 {
        let ev = tokio::time::timeout_at(deadline, out.response_stream.recv())
            .await
            .expect("updates within 20 s")
            .expect("stream open");
        match ev {
            Some(S::SessionUpdate(u)) => {
                assert_eq!(u.session_metadata().map(|m| m.sampled()), Some(false));
                for r in u.session_results() {
                    assert_eq!(r.log_group_identifier(), Some(arn.as_str()));
                    got.push((
                        r.log_stream_name().unwrap_or_default().to_owned(),
                        r.message().unwrap_or_default().to_owned(),
                        r.timestamp().unwrap_or_default(),
                    ));
                }
            }
            other => panic!("expected updates, got {other:?}"),
        }
    }
    got.sort();
    assert_eq!(
        got,
        [
            ("s1".to_owned(), "ERROR one".to_owned(), t),
            ("s2".to_owned(), "ERROR two".to_owned(), t + 2),
        ]
    );
}

/// The console's own live tail client (`scar_tui::aws::Cloud`, whose local
/// clients take the SDK's `stream-` host prefix off) follows a function's
/// log group on the local cloud through StartLiveTail.
#[tokio::test]
async fn console_live_tail_client_follows_a_function_group() {
    let cloud = Cloud::start().await;
    let console = scar_tui::backend::clients_for(cloud.get());
    let function_arn = format!(
        "arn:aws:lambda:{}:000000000000:function:live",
        cloud.get().region()
    );
    let arn = scar_tui::aws::logs::log_group_arn(&function_arn).expect("group arn");
    let client = util::logs(cloud.get(), None);
    group_with_streams(&client, "/aws/lambda/live", &["env-1"]).await;
    let mut session = console.live_tail(&arn).await.expect("live tail starts");
    let t = now_ms();
    client
        .put_log_events()
        .log_group_name("/aws/lambda/live")
        .log_stream_name("env-1")
        .log_events(event(t, "START RequestId: 1 Version: $LATEST"))
        .send()
        .await
        .expect("put");
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let batch = tokio::time::timeout_at(deadline, session.next())
            .await
            .expect("a batch within 20 s")
            .expect("no stream error")
            .expect("session open");
        assert!(!batch.sampled);
        if let Some(line) = batch.lines.first() {
            assert_eq!(
                (line.timestamp, line.stream.as_str(), line.message.as_str()),
                (t, "env-1", "START RequestId: 1 Version: $LATEST")
            );
            break;
        }
    }
}
