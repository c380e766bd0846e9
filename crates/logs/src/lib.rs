//! Rolehop's log lines: which level a user asks for (`ROLEHOP_LOG`, or a host's own
//! default) and the one rule every host shares, that no secret is ever written.
//!
//! The CLI writes to stderr and the desktop app to a daily file; both build their
//! subscriber here, so the rule cannot differ between them.
//!
//! **Secrets never.** Rolehop's own lines (`rolehop*` targets) name sessions, actions,
//! durations and request ids, never a key, token or MFA code. Other crates are another
//! matter: at debug and trace level the AWS SDK logs whole HTTP requests and responses
//! (`aws_smithy_runtime`: the `x-amz-security-token` header, a `GetSessionToken` body
//! with its `TokenCode`, an STS answer with its `SecretAccessKey`), `aws_sigv4` its
//! canonical request, zbus the Secret Service messages, Tauri the IPC payloads. So
//! every target that is not Rolehop's is capped at [`FOREIGN_CAP`] by [`Ceiling`]
//! whatever the user asks: an allow-list, so a crate added later cannot leak by default.
//!
//! **Private files.** The desktop's daily files ([`DailyFile`]) are 0600 in a 0700
//! directory (see [`file`]).

use std::io::Write;

pub mod file;
pub use file::DailyFile;

pub use tracing::level_filters::LevelFilter;
use tracing::subscriber::Interest;
use tracing::{Metadata, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::{EnvFilter, Registry};

/// The environment variable holding a user's filter (`debug`, `rolehop_core=trace`...).
pub const ENV: &str = "ROLEHOP_LOG";

/// The most any crate other than Rolehop's own may log.
pub const FOREIGN_CAP: LevelFilter = LevelFilter::INFO;

/// What a host was asked to log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Rolehop's own lines at this level and no other crate's: the CLI's quiet default
    /// (the SDK's warning about a missing `~/.aws/config` is noise on every call).
    Own(LevelFilter),
    /// One level for everything (the desktop's default, or the CLI's `-v`).
    Level(LevelFilter),
    /// An [`EnvFilter`] directive as the user wrote it in [`ENV`].
    Directives(String),
}

impl Request {
    /// `ROLEHOP_LOG` when it is set and not empty, else `default`.
    pub fn from_env_or(default: Self) -> Self {
        match std::env::var(ENV) {
            Ok(spec) if !spec.trim().is_empty() => Self::Directives(spec),
            _ => default,
        }
    }
}

/// What a subscriber lets through: an optional user filter, under a [`Ceiling`].
#[derive(Debug)]
pub struct Choice {
    filter: Option<EnvFilter>,
    ceiling: Ceiling,
    /// Why `ROLEHOP_LOG` was ignored, for the host to show.
    pub warning: Option<String>,
}

/// The filter for `request`. Targets a user's directives do not name log at
/// `fallback` unless they set a level for all (`debug,rolehop_core=trace`). Directives
/// that do not parse are ignored with a warning naming [`ENV`], and `fallback` applies.
///
/// A plain level builds no `EnvFilter`: the CLI's hot path (`credential-process`) pays
/// next to nothing for a log it was not asked for.
pub fn choose(request: &Request, fallback: LevelFilter) -> Choice {
    let plain = |ceiling| Choice {
        filter: None,
        ceiling,
        warning: None,
    };
    match request {
        Request::Own(level) => plain(Ceiling::new(*level, LevelFilter::OFF)),
        Request::Level(level) => plain(Ceiling::new(*level, *level)),
        Request::Directives(spec) => match EnvFilter::builder().parse(spec) {
            Ok(filter) => {
                let sets_all = spec
                    .split(',')
                    .any(|d| d.trim().parse::<LevelFilter>().is_ok());
                Choice {
                    filter: Some(if sets_all {
                        filter
                    } else {
                        filter.add_directive(fallback.into())
                    }),
                    ceiling: Ceiling::new(LevelFilter::TRACE, LevelFilter::TRACE),
                    warning: None,
                }
            }
            Err(e) => Choice {
                warning: Some(format!(
                    "ignoring {ENV}={spec:?} ({e}); logging at {fallback}"
                )),
                ..plain(Ceiling::new(fallback, fallback))
            },
        },
    }
}

/// The most Rolehop's own lines (`rolehop*` targets) and every other crate's may log.
/// The other crates' level never exceeds [`FOREIGN_CAP`], whatever was asked: this
/// layer is the "secrets never" rule.
#[derive(Debug, Clone, Copy)]
pub struct Ceiling {
    own: LevelFilter,
    foreign: LevelFilter,
}

impl Ceiling {
    pub fn new(own: LevelFilter, foreign: LevelFilter) -> Self {
        Self {
            own,
            foreign: foreign.min(FOREIGN_CAP),
        }
    }

    /// Whether a line from `meta` may be written.
    pub fn allows(&self, meta: &Metadata<'_>) -> bool {
        let ceiling = if meta.target().starts_with("rolehop") {
            self.own
        } else {
            self.foreign
        };
        *meta.level() <= ceiling
    }
}

impl<S: Subscriber> Layer<S> for Ceiling {
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        // Decided once per call site: a refused one costs nothing afterwards.
        if self.allows(meta) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, meta: &Metadata<'_>, _: Context<'_, S>) -> bool {
        self.allows(meta)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(self.own.max(self.foreign))
    }
}

/// A subscriber writing plain-text lines (no colours) to `writer`, as `choice` allows.
pub fn subscriber<W>(writer: W, choice: Choice) -> impl Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    Registry::default()
        .with(choice.filter)
        .with(choice.ceiling)
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(writer),
        )
}

/// Installs [`subscriber`] for `request` as the process's subscriber. A warning about
/// `ROLEHOP_LOG` goes to `writer` first. Fails only if one is already installed.
pub fn install<W>(
    writer: W,
    request: &Request,
    fallback: LevelFilter,
) -> Result<(), tracing::subscriber::SetGlobalDefaultError>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let choice = choose(request, fallback);
    if let Some(warning) = &choice.warning {
        let _ = writeln!(writer.make_writer(), "rolehop: {warning}");
    }
    tracing::subscriber::set_global_default(subscriber(writer, choice))
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Lines written in memory, to read back what a subscriber let through.
    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'w> MakeWriter<'w> for Lines {
        type Writer = Lines;
        fn make_writer(&'w self) -> Self::Writer {
            self.clone()
        }
    }

    fn written(request: Request, emit: impl FnOnce()) -> String {
        let lines = Lines::default();
        let choice = choose(&request, LevelFilter::WARN);
        assert_eq!(choice.warning, None);
        tracing::subscriber::with_default(subscriber(lines.clone(), choice), emit);
        String::from_utf8(lines.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn the_sdks_trace_lines_are_dropped_even_when_asked_for_by_name() {
        let asked = [
            Request::Level(LevelFilter::TRACE),
            Request::Directives("trace".into()),
            Request::Directives("aws_smithy_runtime=trace".into()),
            Request::Directives("aws_smithy_runtime::client::orchestrator=trace,trace".into()),
        ];
        for spec in asked {
            let log = written(spec.clone(), || {
                tracing::trace!(target: "aws_smithy_runtime::client::orchestrator", "SECRET-T");
                tracing::debug!(target: "aws_sigv4::http_request", "SECRET-D");
                tracing::debug!(target: "zbus::connection", "SECRET-Z");
                tracing::info!(target: "aws_smithy_runtime::client", "sdk info kept");
            });
            assert!(!log.contains("SECRET"), "{spec:?}: {log}");
            assert!(log.contains("sdk info kept"), "{spec:?}: {log}");
        }
    }

    #[test]
    fn rolehops_own_lines_follow_the_level_asked_for() {
        let log = written(Request::Directives("rolehop_core=trace".into()), || {
            tracing::trace!(target: "rolehop_core::chain", "own trace");
            tracing::info!(target: "rolehop_desktop", "other rolehop info");
            tracing::warn!(target: "rolehop_desktop", "other rolehop warning");
        });
        assert!(log.contains("own trace"), "{log}");
        assert!(!log.contains("other rolehop info"), "{log}");
        assert!(log.contains("other rolehop warning"), "{log}");

        let quiet = written(Request::Own(LevelFilter::WARN), || {
            tracing::info!(target: "rolehop_core::engine", "not asked for");
            tracing::warn!(target: "aws_runtime::env_config", "not Rolehop's");
            tracing::warn!(target: "rolehop_core::chain", "a warning of Rolehop's");
        });
        assert!(!quiet.contains("not asked for"), "{quiet}");
        assert!(!quiet.contains("not Rolehop's"), "{quiet}");
        assert!(quiet.contains("a warning of Rolehop's"), "{quiet}");

        let everything = written(
            Request::Directives("debug,rolehop_core=trace".into()),
            || {
                tracing::debug!(target: "rolehop_desktop", "a debug line of the app");
            },
        );
        assert!(
            everything.contains("a debug line of the app"),
            "{everything}"
        );
    }

    #[test]
    fn a_filter_that_does_not_parse_is_named_and_the_fallback_applies() {
        let choice = choose(
            &Request::Directives("rolehop_core=loud".into()),
            LevelFilter::INFO,
        );
        let warning = choice.warning.clone().expect("a warning");
        assert!(warning.contains("ROLEHOP_LOG"), "{warning}");
        assert!(choice.filter.is_none());
        assert_eq!(
            Layer::<Registry>::max_level_hint(&choice.ceiling),
            Some(LevelFilter::INFO)
        );
    }
}
