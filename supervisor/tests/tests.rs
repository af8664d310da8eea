//! Integration tests of the `scar-supervisor` binary, built as one test
//! binary: the one-shot `run` mode (image sources, cache, unpack safety,
//! timeouts, runtimes, bad input, a really full disk) and the Lambda
//! custom-runtime mode (S3 staging against an in-process S3 server). Every
//! test drives the real binary as a child process with its own temporary
//! folders and, where it pulls, its own `docker-registry`.
//!
//! The test modules live in `cases/` (named with `#[path]`) rather than
//! beside this file, because Cargo would build every `tests/*.rs` as a test
//! binary of its own.

mod support;

#[path = "cases/bad_input.rs"]
mod bad_input;
#[path = "cases/cache.rs"]
mod cache;
#[path = "cases/disk_full.rs"]
mod disk_full;
#[path = "cases/fixtures.rs"]
mod fixtures;
#[path = "cases/lambda_mode.rs"]
mod lambda_mode;
#[path = "cases/oneshot.rs"]
mod oneshot;
#[path = "cases/runtimes.rs"]
mod runtimes;
#[path = "cases/staging.rs"]
mod staging;
#[path = "cases/unpack_safety.rs"]
mod unpack_safety;
