//! An environment's output: its stdout and stderr pipes, line by line,
//! and Lambda's own START/END/REPORT lines, into its log stream in order.
//!
//! One pump task per pipe forwards complete lines to one writer task, which
//! appends whatever is queued in one batch. Lambda logs everything a
//! function printed before answering ahead of its `END` line; the pumps
//! make that exact without waiting on a clock: [`Output::drain`] asks each
//! pump to forward every byte its pipe holds at that moment (`FIONREAD`),
//! and the `END` line is queued only once both have.

use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;
use std::time::Duration;

use scar_contract::time::Clock;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::{mpsc, oneshot};

use crate::logs::{LogEvent, LogStore};

/// Longest line forwarded whole; longer ones are cut (as before the
/// pumps read raw chunks: Lambda cuts long lines too).
const MAX_LINE: usize = 256 * 1024;

/// Longest a drain waits for a pump: only a failure (a pump task gone
/// astray) reaches it, since a drain reads bytes already in the pipe.
const DRAIN_BOUND: Duration = Duration::from_secs(2);

/// A message to the log writer, processed in order.
#[derive(Debug)]
enum LogMsg {
    Line(i64, String),
    /// A line written by Lambda itself (START/END/REPORT).
    Own(i64, String, Capture),
}

/// What a line of Lambda's own does to the invocation's log tail.
#[derive(Debug)]
pub enum Capture {
    /// Nothing.
    None,
    /// Starts capturing (START).
    Begin,
    /// Ends capturing and hands over what was captured (REPORT).
    End(oneshot::Sender<String>),
}

/// The writing side of an environment's log stream.
#[derive(Debug)]
pub struct Output {
    log: mpsc::UnboundedSender<LogMsg>,
    drains: Vec<mpsc::UnboundedSender<oneshot::Sender<()>>>,
    clock: Clock,
}

impl Output {
    /// Starts the writer task for `group`/`stream`.
    pub fn start(logs: Arc<LogStore>, group: String, stream: String) -> Output {
        let (log, rx) = mpsc::unbounded_channel();
        let clock = logs.clock().clone();
        tokio::spawn(write_logs(logs, group, stream, rx));
        Output {
            log,
            drains: Vec::new(),
            clock,
        }
    }

    /// Starts a pump for one of the process's pipes.
    pub fn pump<R: AsyncRead + AsRawFd + Unpin + Send + 'static>(&mut self, pipe: R) {
        let (drain_tx, drain_rx) = mpsc::unbounded_channel();
        self.drains.push(drain_tx);
        tokio::spawn(pump(pipe, self.log.clone(), drain_rx, self.clock.clone()));
    }

    /// Queues a line of Lambda's own, stamped now.
    pub fn own_line(&self, text: String, capture: Capture) {
        let _ = self
            .log
            .send(LogMsg::Own(self.clock.now_ms(), text, capture));
    }

    /// Returns once every byte the pipes held when called has been read and
    /// its lines queued ahead of anything queued afterwards.
    pub async fn drain(&self) {
        let acks: Vec<_> = self
            .drains
            .iter()
            .filter_map(|d| {
                let (tx, rx) = oneshot::channel();
                d.send(tx).ok().map(|()| rx)
            })
            .collect();
        // A pump that ended (EOF) drops its request: the ack fails at once.
        let _ = tokio::time::timeout(DRAIN_BOUND, futures_util::future::join_all(acks)).await;
    }
}

/// Bytes waiting in a pipe.
fn unread(fd: RawFd) -> usize {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int; `fd` is the pipe the caller owns.
    let r = unsafe { libc::ioctl(fd, libc::FIONREAD, &mut n) };
    if r < 0 { 0 } else { n.max(0) as usize }
}

/// Sends the complete lines of `pending` (and a cut of an over-long one);
/// false once the writer is gone.
fn forward_lines(
    pending: &mut Vec<u8>,
    tx: &mpsc::UnboundedSender<LogMsg>,
    at_eof: bool,
    ts: i64,
) -> bool {
    let mut start = 0;
    loop {
        let rest = &pending[start..];
        let end = match rest.iter().position(|&b| b == b'\n') {
            Some(i) if i < MAX_LINE => i + 1,
            _ if rest.len() >= MAX_LINE => MAX_LINE,
            _ if at_eof && !rest.is_empty() => rest.len(),
            _ => break,
        };
        let line = String::from_utf8_lossy(&rest[..end])
            .trim_end_matches(['\n', '\r'])
            .to_owned();
        start += end;
        if tx.send(LogMsg::Line(ts, line)).is_err() {
            return false;
        }
    }
    pending.drain(..start);
    true
}

/// Forwards a pipe's lines to the log writer; on a drain request, first
/// reads what the pipe holds at that moment, then acknowledges.
async fn pump<R: AsyncRead + AsRawFd + Unpin>(
    mut pipe: R,
    tx: mpsc::UnboundedSender<LogMsg>,
    mut drains: mpsc::UnboundedReceiver<oneshot::Sender<()>>,
    clock: Clock,
) {
    let fd = pipe.as_raw_fd();
    let mut pending = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let mut drains_open = true;
    loop {
        // Both branches are cancel-safe: a read that loses the race has
        // consumed nothing.
        tokio::select! {
            r = pipe.read(&mut chunk) => match r {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    pending.extend_from_slice(&chunk[..n]);
                    if !forward_lines(&mut pending, &tx, false, clock.now_ms()) {
                        return;
                    }
                }
            },
            req = drains.recv(), if drains_open => match req {
                Some(ack) => {
                    // Only what is there now: a chatty background process
                    // must not keep the invocation from ending.
                    let mut left = unread(fd);
                    let mut eof = false;
                    while left > 0 {
                        let want = left.min(chunk.len());
                        match pipe.read(&mut chunk[..want]).await {
                            Ok(0) | Err(_) => {
                                eof = true;
                                break;
                            }
                            Ok(n) => {
                                left -= n;
                                pending.extend_from_slice(&chunk[..n]);
                            }
                        }
                    }
                    let alive = forward_lines(&mut pending, &tx, eof, clock.now_ms());
                    let _ = ack.send(());
                    if eof || !alive {
                        return;
                    }
                }
                None => drains_open = false,
            },
        }
    }
    forward_lines(&mut pending, &tx, true, clock.now_ms());
}

/// Writes lines to the log store in order, capturing an invocation's lines.
async fn write_logs(
    logs: Arc<LogStore>,
    group: String,
    stream: String,
    mut rx: mpsc::UnboundedReceiver<LogMsg>,
) {
    let mut capture: Option<String> = None;
    while let Some(first) = rx.recv().await {
        // Batch whatever is queued: one append per burst.
        let mut batch = vec![first];
        while let Ok(m) = rx.try_recv() {
            batch.push(m);
            if batch.len() >= 1000 {
                break;
            }
        }
        let mut events = Vec::with_capacity(batch.len());
        let mut finished = Vec::new();
        for m in batch {
            let (ts, text, cap) = match m {
                LogMsg::Line(ts, t) => (ts, t, Capture::None),
                LogMsg::Own(ts, t, c) => (ts, t, c),
            };
            if matches!(cap, Capture::Begin) {
                capture = Some(String::new());
            }
            if let Some(c) = capture.as_mut() {
                c.push_str(&text);
                c.push('\n');
            }
            if let Capture::End(tx) = cap {
                finished.push((tx, capture.take().unwrap_or_default()));
            }
            events.push(LogEvent {
                timestamp: ts,
                message: text,
            });
        }
        logs.append(&group, &stream, events);
        for (tx, text) in finished {
            let _ = tx.send(text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(rx: &mut mpsc::UnboundedReceiver<LogMsg>) -> Vec<String> {
        let mut out = Vec::new();
        while let Ok(LogMsg::Line(_, l)) = rx.try_recv() {
            out.push(l);
        }
        out
    }

    #[test]
    fn complete_lines_go_partial_ones_wait() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut pending = b"a\r\nb\nc".to_vec();
        assert!(forward_lines(&mut pending, &tx, false, 0));
        assert_eq!(lines(&mut rx), ["a", "b"]);
        assert_eq!(pending, b"c");
        assert!(forward_lines(&mut pending, &tx, true, 0));
        assert_eq!(lines(&mut rx), ["c"]);
        assert!(pending.is_empty());
    }

    #[test]
    fn long_lines_are_cut() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut pending = vec![b'x'; MAX_LINE + 3];
        pending.push(b'\n');
        assert!(forward_lines(&mut pending, &tx, false, 0));
        let got = lines(&mut rx);
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].len(), got[1].len()), (MAX_LINE, 3));
    }

    #[tokio::test]
    async fn drain_forwards_what_the_pipe_holds() {
        let (log, mut rx) = mpsc::unbounded_channel();
        let mut out = Output {
            log,
            drains: Vec::new(),
            clock: Clock::frozen(1_000),
        };
        let (mut writer, reader) = tokio::net::unix::pipe::pipe().unwrap();
        out.pump(reader);
        use tokio::io::AsyncWriteExt;
        writer.write_all(b"one\ntwo\n").await.unwrap();
        out.drain().await;
        out.own_line("END".into(), Capture::None);
        let mut got = Vec::new();
        for _ in 0..3 {
            match rx.recv().await.unwrap() {
                LogMsg::Line(_, l) => got.push(l),
                LogMsg::Own(_, l, _) => got.push(l),
            }
        }
        assert_eq!(got, ["one", "two", "END"]);
    }
}
