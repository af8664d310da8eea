//! scar-tui: run container images as serverless file processors, from a
//! terminal console. This library holds the parts the binary and the tests
//! share: today the embedded local cloud ([`local`]).
#![deny(missing_docs)]

pub mod local;
