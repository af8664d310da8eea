//! Integration tests of scar-tui, built as one binary (ripgrep's layout):
//! shared helpers in `util`, one module per area.

mod util;

mod cli_batch;
mod cli_commands;
mod cli_deploy;
mod console_app;
mod console_tmux;
mod local_e2e;
mod local_lambda;
mod local_logs;
mod local_metrics;
mod local_s3;
