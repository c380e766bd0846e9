//! The command line's log: standard error only (standard output carries answers such
//! as `credential-process`'s JSON). Rolehop's own warnings by default, `-v` info,
//! `-vv` debug, `-vvv` trace, or `ROLEHOP_LOG`'s filter when no `-v` is given. What
//! may never be written is decided by `rolehop-logs`.

use rolehop_logs::{LevelFilter, Request};

/// What is logged when nothing is asked: only what went wrong in Rolehop and was not
/// reported otherwise (a failed command says why on its own, in one line).
const DEFAULT: Request = Request::Own(LevelFilter::WARN);
/// Where a `ROLEHOP_LOG` filter names no level for all: other crates' warnings.
const FALLBACK: LevelFilter = LevelFilter::WARN;

/// Installs the stderr subscriber for `verbose` (the count of `-v`).
pub fn install(verbose: u8) {
    let request = match verbose {
        0 => Request::from_env_or(DEFAULT),
        1 => Request::Level(LevelFilter::INFO),
        2 => Request::Level(LevelFilter::DEBUG),
        _ => Request::Level(LevelFilter::TRACE),
    };
    // The first subscriber of this process: installing it cannot fail.
    let _ = rolehop_logs::install(std::io::stderr, &request, FALLBACK);
}
