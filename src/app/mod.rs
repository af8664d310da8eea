//! The application core, with no terminal code: function definitions,
//! deployment, batch runs, preheating, and the parsing of what functions
//! log (START/END/REPORT and metrics lines, joined by request id). The
//! headless commands and the console both drive these.

pub mod batch;
pub mod batch_run;
pub mod completion;
pub mod definition;
pub mod demo;
pub mod deploy;
pub mod failures;
pub mod journal;
pub mod preheat;
pub mod report;
