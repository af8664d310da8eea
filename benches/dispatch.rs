//! Dispatch-rate benchmark (being written).

fn main() {}
