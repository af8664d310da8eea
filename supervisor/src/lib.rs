//! `scar-supervisor`: the in-function half of scar-tui.
//!
//! It turns one invocation event into one run of a shell script inside a
//! container image: the image is pulled into the function's `/tmp` (and kept
//! there for warm invocations), the input is staged in, the script runs, the
//! outputs are staged out and one metrics line is printed. The same code
//! serves the Lambda Runtime API ([`lambda`]) and a one-shot local run
//! ([`oneshot`]).
#![deny(missing_docs)]

pub mod cache;
pub mod config;
pub mod container;
mod decode;
pub mod event;
pub mod image;
pub mod invocation;
pub mod lambda;
mod layout;
pub mod metrics;
pub mod oneshot;
pub mod reference;
mod registry;
pub mod stage;
pub mod unpack;
