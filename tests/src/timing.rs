//! The benches' arithmetic on timings: the median of a run and milliseconds to print.

use std::time::Duration;

/// The median of `runs` (the upper one of an even count); `runs` must not be empty.
pub fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

/// `d` in milliseconds.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
