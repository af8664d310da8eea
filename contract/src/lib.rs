//! scar-contract: the names and shapes that the console, the local cloud and
//! the in-function supervisor must agree on, each defined once.
//!
//! It holds the clock every time comparison goes through ([`time`]), the
//! date formats AWS writes, the container runtimes' names ([`runtime`]), and
//! what a function's environment carries for the supervisor ([`function`]). It must stay tiny and must never depend on any
//! other crate of this workspace, nor on a cloud SDK, a terminal library or
//! an async runtime: the supervisor links it into a static binary that runs
//! as PID 1 of arbitrary images.
#![deny(missing_docs)]

pub mod function;
pub mod runtime;
pub mod time;
