//! scar-tui: run container images as serverless file processors, from a
//! terminal console. This library holds what the binary and the tests
//! share: the domain core ([`app`], no terminal code), the one layer that
//! talks to a cloud, local or AWS ([`aws`]), the switch that picks which
//! ([`backend`]), the console's model ([`console`]), its views and its
//! terminal loop.
//!
//! It must never reach the local cloud (`scar-local`) except through
//! [`backend`]: `aws` speaks AWS's APIs to whatever endpoint it is given,
//! so the in-process cloud, `local serve` and AWS behave alike.
#![deny(missing_docs)]

pub mod app;
pub mod aws;
pub mod backend;
pub mod console;
pub mod tui;
pub mod views;
