//! Runs the console's [`Effect`]s as tokio tasks that report with
//! [`Msg`]s, so that the frame never waits on the network. Refresh kinds
//! keep one task each, newest wins (asyncgit's rule); actions run side by
//! side; one batch at a time.
//!
//! The live tail, on AWS, is a StartLiveTail session (CloudWatch pushes
//! new lines and says when it sampled them); where that cannot start or
//! ends (the local cloud does not serve it, an account without the
//! permission, a session past its three hours), it polls FilterLogEvents
//! with `startTime` a few seconds before the newest line seen and drops
//! the event ids it already has (as `aws logs tail --follow` does): one
//! request per poll per function, within the account's 5 per second.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;

use crate::app::batch::BatchOptions;
use crate::app::batch_run::RunOptions;
use crate::app::completion::TrackerOptions;
use crate::app::{deploy, preheat};
use crate::aws::{Backend, Cloud};
use crate::backend::ConnectOptions;

use super::msg::{Effect, Msg};
use super::state::{BackendInfo, LogEntry, Side};

mod actions;
mod batch;
mod refresh;
mod tail;

use actions::{deploy_file, invoke, make_demo};
use batch::batch;
use refresh::{list, list_functions, stats};
pub use tail::TAIL_OVERLAP_MS;
use tail::tail;

/// Settings of the tasks.
#[derive(Debug, Clone)]
pub struct TaskOptions {
    /// How to reconnect (`:profile`, `:region`).
    pub connect: ConnectOptions,
    /// Batch journals.
    pub journal_dir: PathBuf,
    /// Where the demo image and files go.
    pub work_dir: PathBuf,
    /// Objects listed per side at most.
    pub max_objects: usize,
    /// Tail poll interval.
    pub logs_interval: Duration,
    /// Lines one poll hands over at most (the rest count as sampled).
    pub max_lines_per_poll: usize,
    /// Environments idle longer than this are not counted warm.
    pub keep_warm_ms: i64,
    /// Window of the per-function figures, seconds.
    pub stats_window_s: i32,
    /// Sample files the demo uploads.
    pub demo_samples: usize,
}

/// What describes a cloud in the header.
pub fn backend_info(cloud: &Cloud) -> BackendInfo {
    BackendInfo {
        backend: cloud.backend.to_string(),
        profile: cloud.profile.clone(),
        region: cloud.region.clone(),
        endpoint: cloud.endpoint.clone(),
    }
}

/// The task runner.
pub struct Tasks {
    cloud: Arc<Mutex<Cloud>>,
    tx: UnboundedSender<Msg>,
    opts: TaskOptions,
    slots: HashMap<&'static str, JoinHandle<()>>,
}

impl Drop for Tasks {
    fn drop(&mut self) {
        for (_, h) in self.slots.drain() {
            h.abort();
        }
    }
}

fn text<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

impl Tasks {
    /// Tasks over `cloud`, reporting on `tx`.
    pub fn new(cloud: Cloud, tx: UnboundedSender<Msg>, opts: TaskOptions) -> Tasks {
        Tasks {
            cloud: Arc::new(Mutex::new(cloud)),
            tx,
            opts,
            slots: HashMap::new(),
        }
    }

    fn cloud(&self) -> Cloud {
        match self.cloud.lock() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Replaces the task of `kind` (the newest request wins).
    fn slot(&mut self, kind: &'static str, fut: impl Future<Output = ()> + Send + 'static) {
        if let Some(old) = self.slots.insert(kind, tokio::spawn(fut)) {
            old.abort();
        }
    }

    /// Starts an effect.
    pub fn run(&mut self, effect: Effect) {
        let cloud = self.cloud();
        let tx = self.tx.clone();
        let label = effect.label().unwrap_or_default();
        let done = move |tx: &UnboundedSender<Msg>, result: Result<String, String>, select| {
            let _ = tx.send(Msg::Done {
                what: label.clone(),
                result,
                select,
            });
        };
        match effect {
            Effect::RefreshFunctions => self.slot("functions", async move {
                let r = list_functions(&cloud).await;
                let _ = tx.send(Msg::Functions(r));
            }),
            Effect::RefreshStats(names) => {
                let window = self.opts.stats_window_s;
                let keep_warm = self.opts.keep_warm_ms;
                self.slot("stats", async move {
                    let r = stats(&cloud, &names, window, keep_warm).await;
                    let _ = tx.send(Msg::Stats(r));
                })
            }
            Effect::RefreshObjects {
                function,
                input,
                outputs,
            } => {
                let max = self.opts.max_objects;
                self.slot("objects", async move {
                    let inputs = match &input {
                        Some(i) => list(&cloud, &i.bucket, &i.prefix, max)
                            .await
                            .map(|v| v.into_iter().filter(|o| i.takes(&o.key)).collect()),
                        None => Ok(Vec::new()),
                    };
                    let _ = tx.send(Msg::Objects {
                        function: function.clone(),
                        side: Side::Input,
                        result: inputs,
                    });
                    let mut outs = Ok(Vec::new());
                    for (bucket, prefix) in &outputs {
                        match list(&cloud, bucket, prefix, max).await {
                            Ok(mut v) => {
                                if let Ok(o) = &mut outs {
                                    o.append(&mut v);
                                }
                            }
                            Err(e) => {
                                outs = Err(e);
                                break;
                            }
                        }
                    }
                    let _ = tx.send(Msg::Objects {
                        function,
                        side: Side::Output,
                        result: outs,
                    });
                })
            }
            Effect::Tail { function, since_ms } => match function {
                None => {
                    if let Some(h) = self.slots.remove("tail") {
                        h.abort();
                    }
                }
                Some(f) => {
                    let (every, max) = (self.opts.logs_interval, self.opts.max_lines_per_poll);
                    self.slot("tail", tail(cloud, tx, f, since_ms, every, max));
                }
            },
            Effect::RequestLogs {
                function,
                request_id,
            } => self.slot("request", async move {
                let r = cloud
                    .request_lines(&function, &request_id)
                    .await
                    .map(|v| {
                        v.into_iter()
                            .map(|l| LogEntry {
                                timestamp: l.timestamp,
                                stream: l.stream,
                                message: l.message,
                            })
                            .collect()
                    })
                    .map_err(text);
                let _ = tx.send(Msg::RequestLines {
                    request_id,
                    result: r,
                });
            }),
            Effect::Deploy(def) => {
                tokio::spawn(async move {
                    let name = def.name.clone();
                    match deploy::deploy(&cloud, &def).await {
                        Ok(r) => done(&tx, Ok(format!("{} {name}", r.action)), Some(name)),
                        Err(e) => done(&tx, Err(e.to_string()), None),
                    }
                });
            }
            Effect::DeployFile(path) => {
                tokio::spawn(async move {
                    let r = deploy_file(&cloud, path).await;
                    match r {
                        Ok((text, first)) => done(&tx, Ok(text), first),
                        Err(e) => done(&tx, Err(e), None),
                    }
                });
            }
            Effect::Demo => {
                let work = self.opts.work_dir.join("demo");
                let n = self.opts.demo_samples;
                tokio::spawn(async move {
                    match make_demo(&cloud, &work, n).await {
                        Ok(text) => done(&tx, Ok(text), Some("demo".into())),
                        Err(e) => done(&tx, Err(e), None),
                    }
                });
            }
            Effect::Preheat { function, n } => {
                tokio::spawn(async move {
                    let r = match preheat::preheat(&cloud, &function, n).await {
                        Ok(r) if r.warm > 0 => Ok(format!(
                            "preheated {function}: {} of {} warm ({} already cached) in {} ms",
                            r.warm, r.requested, r.already_cached, r.elapsed_ms
                        )),
                        Ok(r) => Err(r
                            .errors
                            .first()
                            .cloned()
                            .unwrap_or_else(|| "no environment answered".into())),
                        Err(e) => Err(e.to_string()),
                    };
                    done(&tx, r, None);
                });
            }
            Effect::Upload {
                function,
                input,
                paths,
            } => {
                tokio::spawn(async move {
                    let r = async {
                        cloud.ensure_bucket(&input.bucket).await.map_err(text)?;
                        let t = Arc::new(crate::aws::transfer::Transfer::default());
                        let s = cloud
                            .put_paths(&input.bucket, &input.prefix, &paths, 16, t)
                            .await
                            .map_err(text)?;
                        Ok::<_, String>(format!(
                            "uploaded {} file(s), {} bytes, to s3://{}/{} ({function})",
                            s.files, s.bytes, input.bucket, input.prefix
                        ))
                    }
                    .await;
                    done(&tx, r, None);
                });
            }
            Effect::BatchRun { function } => {
                if self.slots.get("batch").is_some_and(|h| !h.is_finished()) {
                    done(
                        &tx,
                        Err("a batch is already running: wait for it to finish".into()),
                        None,
                    );
                    return;
                }
                let opts = RunOptions {
                    batch: BatchOptions::default(),
                    retry_failed: false,
                    fresh: true,
                    settle: Duration::from_secs(10),
                    journal_dir: self.opts.journal_dir.clone(),
                    tracker: TrackerOptions::for_backend(cloud.backend),
                };
                self.slot("batch", async move {
                    let r = batch(&cloud, &tx, &function, &opts).await;
                    done(&tx, r, None);
                });
            }
            Effect::Invoke {
                function,
                bucket,
                keys,
            } => {
                tokio::spawn(async move {
                    let r = invoke(&cloud, &function, &bucket, &keys).await;
                    done(&tx, r, None);
                });
            }
            Effect::Delete(names) => {
                tokio::spawn(async move {
                    let r = deploy::remove::remove(&cloud, &names, false)
                        .await
                        .map(|s| {
                            format!(
                                "deleted {}",
                                s.functions
                                    .iter()
                                    .map(|f| f.name.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )
                        })
                        .map_err(text);
                    done(&tx, r, None);
                });
            }
            Effect::Reconnect { profile, region } => {
                let mut opts = self.opts.connect.clone();
                if profile.is_some() {
                    opts.profile = profile;
                }
                if region.is_some() {
                    opts.region = region;
                }
                let shared = self.cloud.clone();
                self.slot("reconnect", async move {
                    match crate::backend::connect(opts).await {
                        Ok(c) => {
                            let info = backend_info(&c);
                            if let Ok(mut g) = shared.lock() {
                                *g = c;
                            }
                            let _ = tx.send(Msg::Reconnected(Ok(info)));
                            done(&tx, Ok("connected".into()), None);
                        }
                        Err(e) => done(&tx, Err(e.to_string()), None),
                    }
                });
            }
        }
    }
}

/// Where batch journals live for a cloud: `<base>/batch/<backend>`.
pub fn journal_dir(base: &std::path::Path, cloud: &Cloud) -> PathBuf {
    let sub = match (cloud.backend, &cloud.profile) {
        (Backend::Local, _) => "local".to_owned(),
        (Backend::Aws, Some(p)) => format!("aws-{}-{p}", cloud.region),
        (Backend::Aws, None) => format!("aws-{}", cloud.region),
    };
    base.join("batch").join(sub)
}
