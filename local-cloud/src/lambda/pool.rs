//! The environment pool, Lambda's scheduler: per function, warm
//! environments are reused, new ones started on demand up to the
//! concurrency limit (reserved per function, the rest of the account's
//! shared), idle ones frozen, stale or dead ones retired, and those idle
//! past the keep-warm period reaped.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::environment::{Environment, Spawn};
use super::functions::FunctionConfig;
use super::{ApiError, Lambda};

/// One function's environments.
#[derive(Debug)]
pub(super) struct FunctionState {
    pub(super) config: FunctionConfig,
    pub(super) idle: Vec<Arc<Environment>>,
    pub(super) busy: u32,
    pub(super) starting: u32,
    /// Async invocations waiting for one of its environments.
    pub(super) waiting: u32,
}

impl FunctionState {
    pub(super) fn new(config: FunctionConfig) -> FunctionState {
        FunctionState {
            config,
            idle: Vec::new(),
            busy: 0,
            starting: 0,
            waiting: 0,
        }
    }

    /// Freezes idle environments beyond those a waiting invocation is
    /// about to take.
    fn freeze_surplus(&self) {
        let mut keep = self.waiting as usize;
        for e in &self.idle {
            if keep > 0 && !e.is_frozen() {
                keep -= 1;
            } else {
                e.freeze();
            }
        }
    }
}

#[derive(Debug, Default)]
pub(super) struct Inner {
    pub(super) functions: HashMap<String, FunctionState>,
}

/// Uncounts an abandoned wait for an environment (see [`Lambda::acquire`]).
struct WaitGuard<'a> {
    lambda: &'a Lambda,
    name: &'a str,
    counted: bool,
}

impl Drop for WaitGuard<'_> {
    fn drop(&mut self) {
        if !self.counted {
            return;
        }
        let mut inner = self.lambda.lock();
        if let Some(f) = inner.functions.get_mut(self.name) {
            f.waiting = f.waiting.saturating_sub(1);
            f.freeze_surplus();
        }
    }
}

/// An environment reserved for one invocation.
pub(super) enum Lease {
    Warm(Arc<Environment>),
    Cold(Spawn),
}

impl Lambda {
    /// How many invocations of a function may run at once.
    pub fn function_limit(&self, name: &str) -> u32 {
        let inner = self.lock();
        let unreserved = Self::unreserved_limit(&inner, self.settings.account_concurrency);
        inner
            .functions
            .get(name)
            .map_or(1, |f| f.config.reserved_concurrency.unwrap_or(unreserved))
    }

    pub(super) fn unreserved_limit(inner: &Inner, account: u32) -> u32 {
        let reserved: u32 = inner
            .functions
            .values()
            .filter_map(|f| f.config.reserved_concurrency)
            .sum();
        account.saturating_sub(reserved).max(1)
    }

    /// Reserves an environment: a warm one, else a new one within the
    /// limits. Synchronous callers are throttled at the limit; async ones
    /// (`wait`) wait for a release.
    pub(super) async fn acquire(&self, name: &str, wait: bool) -> Result<Lease, ApiError> {
        // Counted among the function's waiters from the first miss until
        // served; the guard uncounts an abandoned wait.
        let mut guard = WaitGuard {
            lambda: self,
            name,
            counted: false,
        };
        loop {
            let notified = self.released.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let (decision, dead) = self.try_acquire(name, wait, &mut guard.counted)?;
            for e in dead {
                e.destroy();
            }
            match decision {
                Some(lease) => return Ok(lease),
                None if wait => notified.await,
                None => return Err(ApiError::throttled()),
            }
        }
    }

    /// One attempt at [`Self::acquire`], under the lock: a lease, or `None`
    /// at the limit; plus environments found dead or stale. `counted` says
    /// whether the caller is among the function's waiters, and is kept up
    /// to date.
    fn try_acquire(
        &self,
        name: &str,
        wait: bool,
        counted: &mut bool,
    ) -> Result<(Option<Lease>, Vec<Arc<Environment>>), ApiError> {
        let mut inner = self.lock();
        let unreserved = Self::unreserved_limit(&inner, self.settings.account_concurrency);
        let account_busy: u32 = inner.functions.values().map(|f| f.busy + f.starting).sum();
        let f = inner
            .functions
            .get_mut(name)
            .ok_or_else(|| ApiError::not_found(&self.settings.region, name))?;
        let generation = f.config.generation;
        let (live, dead): (Vec<_>, Vec<_>) = f
            .idle
            .drain(..)
            .partition(|e| !e.is_dead() && e.generation == generation);
        f.idle = live;
        let limit = f.config.reserved_concurrency.unwrap_or(unreserved);
        let served = |f: &mut FunctionState, counted: &mut bool| {
            if std::mem::take(counted) {
                f.waiting = f.waiting.saturating_sub(1);
            }
        };
        // An environment left running for a waiter first: no thaw needed.
        let pick = f
            .idle
            .iter()
            .rposition(|e| !e.is_frozen())
            .or_else(|| f.idle.len().checked_sub(1));
        if let Some(i) = pick {
            let env = f.idle.remove(i);
            f.busy += 1;
            served(f, counted);
            return Ok((Some(Lease::Warm(env)), dead));
        }
        if limit > 0
            && f.busy + f.starting < limit
            && account_busy < self.settings.account_concurrency
        {
            f.starting += 1;
            served(f, counted);
            let cfg = f.config.clone();
            drop(inner);
            return Ok((Some(Lease::Cold(self.spawn_spec(&cfg))), dead));
        }
        if limit == 0 && wait {
            // Reserved concurrency 0 stops the function: waiting cannot help.
            served(f, counted);
            return Err(ApiError::throttled());
        }
        if wait && !*counted {
            f.waiting += 1;
            *counted = true;
        }
        Ok((None, dead))
    }

    pub(super) fn release(
        &self,
        name: &str,
        env: Option<Arc<Environment>>,
        was_cold: bool,
        healthy: bool,
    ) {
        let mut destroy = None;
        {
            let mut inner = self.lock();
            let unreserved = Self::unreserved_limit(&inner, self.settings.account_concurrency);
            match inner.functions.get_mut(name) {
                Some(f) => {
                    if was_cold && env.is_none() {
                        f.starting = f.starting.saturating_sub(1);
                    } else {
                        f.busy = f.busy.saturating_sub(1);
                    }
                    if let Some(env) = env {
                        let limit = f.config.reserved_concurrency.unwrap_or(unreserved) as usize;
                        if healthy
                            && !env.is_dead()
                            && env.generation == f.config.generation
                            && f.idle.len() + ((f.busy + f.starting) as usize) < limit
                        {
                            // Frozen while idle, as on Lambda; but not when
                            // an invocation is waiting to take it at once
                            // (a backlog of events), which would thaw it
                            // right away.
                            f.idle.push(env);
                            f.freeze_surplus();
                        } else {
                            destroy = Some(env);
                        }
                    }
                }
                None => destroy = env,
            }
        }
        if let Some(e) = destroy {
            e.destroy();
        }
        self.released.notify_waiters();
    }

    /// Destroys idle environments unused for longer than the keep-warm period.
    /// Returns how long until the next idle one is due.
    pub(super) fn reap(&self) -> Option<Duration> {
        let keep = self.settings.keep_warm.as_millis() as i64;
        let now = self.settings.clock.now_ms();
        let mut next: Option<Duration> = None;
        let expired: Vec<_> = {
            let mut inner = self.lock();
            let mut out = Vec::new();
            for f in inner.functions.values_mut() {
                let (old, fresh): (Vec<_>, Vec<_>) = f
                    .idle
                    .drain(..)
                    .partition(|e| now - e.last_used_ms() >= keep || e.is_dead());
                for e in &fresh {
                    let due = Duration::from_millis((e.last_used_ms() + keep - now).max(0) as u64);
                    next = Some(next.map_or(due, |n| n.min(due)));
                }
                f.idle = fresh;
                out.extend(old);
            }
            out
        };
        for e in expired {
            e.destroy();
        }
        next
    }
}

/// Reaps idle environments when their keep-warm period ends.
pub(super) async fn reaper(lambda: std::sync::Weak<Lambda>, mut stop: watch::Receiver<bool>) {
    loop {
        let next = match lambda.upgrade() {
            Some(l) => l.reap(),
            None => return,
        };
        // Wake at the next expiry, or after a while to notice new idle ones.
        // (A test clock moved forward is noticed within that while too.)
        let wait = next
            .unwrap_or(Duration::from_millis(500))
            .min(Duration::from_millis(500));
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
    }
}
