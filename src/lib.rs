//! scar-tui: run container images as serverless file processors, from a
//! terminal console. This library holds what the binary and the tests
//! share: the embedded local cloud ([`local`]) and the one layer that talks
//! to a cloud, local or AWS ([`aws`]).
#![deny(missing_docs)]

pub mod app;
pub mod aws;
pub mod local;
pub mod tui;
pub mod views;
