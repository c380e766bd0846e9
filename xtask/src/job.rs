//! A job is a list of named steps, each with a header, a timing and a verdict, and a
//! summary at the end. Steps after a failed one still run (one CI run reports every
//! broken check), unless the job stops on purpose (see [`Job::failed`]).

use std::time::{Duration, Instant};

use anyhow::{Result, bail};

pub struct Job {
    name: &'static str,
    outcomes: Vec<Outcome>,
}

struct Outcome {
    step: String,
    error: Option<String>,
    took: Duration,
}

impl Job {
    pub fn new(name: &'static str) -> Self {
        Self {
            name,
            outcomes: Vec::new(),
        }
    }

    /// Runs one step under a header, and records how it went.
    pub fn step(&mut self, step: impl Into<String>, action: impl FnOnce() -> Result<()>) {
        let step = step.into();
        println!("\n==> [{} {}] {step}", self.name, self.outcomes.len() + 1);
        let started = Instant::now();
        let result = action();
        let took = started.elapsed();
        let error = match result {
            Ok(()) => {
                println!("<== {step}: ok ({})", seconds(took));
                None
            }
            Err(e) => {
                println!("<== {step}: FAILED ({}): {e:#}", seconds(took));
                Some(format!("{e:#}"))
            }
        };
        self.outcomes.push(Outcome { step, error, took });
    }

    /// Whether a step has failed so far: a job checks this before steps that cannot
    /// work without the earlier ones (no tests without their peers installed).
    pub fn failed(&self) -> bool {
        self.outcomes.iter().any(|o| o.error.is_some())
    }

    /// Prints the summary; fails if any step failed.
    pub fn finish(self) -> Result<()> {
        println!("\n==> {} summary", self.name);
        for outcome in &self.outcomes {
            let verdict = if outcome.error.is_some() {
                "FAILED"
            } else {
                "ok"
            };
            println!(
                "  {verdict:<6} {:>8}  {}",
                seconds(outcome.took),
                outcome.step
            );
        }
        let failed: Vec<&str> = self
            .outcomes
            .iter()
            .filter(|o| o.error.is_some())
            .map(|o| o.step.as_str())
            .collect();
        if failed.is_empty() {
            println!("{}: all {} steps ok", self.name, self.outcomes.len());
            Ok(())
        } else {
            bail!(
                "{}: {} of {} steps failed: {}",
                self.name,
                failed.len(),
                self.outcomes.len(),
                failed.join(", ")
            )
        }
    }
}

fn seconds(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}
