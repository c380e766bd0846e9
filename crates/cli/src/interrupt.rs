//! Ctrl-C and SIGTERM. A command interrupted mid-start must not leave its session
//! pending: the start is dropped, the engine ends the starts this process had in flight
//! (back to active if the session was, else failed as `Interrupted`), the terminal gets
//! its echo back if a hidden prompt was asking, and the process exits with the shell's
//! convention for the signal (130 for SIGINT, 143 for SIGTERM).
//!
//! A process killed outright (SIGKILL, a crash) cannot do this; its claim records its
//! owner, so the next reader shows the session as it was before (`rolehop_core::claims`).

use std::future::Future;

use rolehop_core::Engine;

use crate::commands::Outcome;
use crate::failure::{Exit, Failure};

/// The signal that interrupted a command.
#[derive(Debug, Clone, Copy)]
enum Signal {
    Interrupt,
    Terminate,
}

/// Runs `work` until it ends or SIGINT / SIGTERM arrives; on a signal, `work` is
/// dropped and the starts it had in flight are ended before the failure is returned.
pub async fn guard(engine: &Engine, work: impl Future<Output = Outcome>) -> Outcome {
    // Installed before `work` is first polled: from here on a signal is ours to handle.
    let signals = Signals::install();
    let terminal = terminal::Saved::now();
    let signal = tokio::select! {
        outcome = work => return outcome,
        signal = signals.next() => signal,
    };
    terminal.restore();
    let (exit, name) = match signal {
        Signal::Interrupt => (Exit::Interrupted, "interrupted"),
        Signal::Terminate => (Exit::Terminated, "terminated"),
    };
    let message = match engine.interrupt_starts().await {
        Ok(ended) if ended.is_empty() => name.to_owned(),
        Ok(ended) => {
            let ended: Vec<String> = ended
                .iter()
                .map(|v| format!("'{}' is {}", v.session.name, v.state.label()))
                .collect();
            format!(
                "{name} before the start finished; nothing was delivered: {}",
                ended.join(", ")
            )
        }
        // The claim names this process: the next reader settles it once we are gone.
        Err(e) => format!("{name}; the start in flight could not be ended here ({e})"),
    };
    Err(Failure::new(exit, message))
}

#[cfg(unix)]
struct Signals {
    interrupt: Option<tokio::signal::unix::Signal>,
    terminate: Option<tokio::signal::unix::Signal>,
}

#[cfg(unix)]
impl Signals {
    fn install() -> Self {
        use tokio::signal::unix::{SignalKind, signal};
        Self {
            interrupt: signal(SignalKind::interrupt()).ok(),
            terminate: signal(SignalKind::terminate()).ok(),
        }
    }

    async fn next(mut self) -> Signal {
        async fn recv(s: &mut Option<tokio::signal::unix::Signal>) {
            match s {
                Some(s) => {
                    s.recv().await;
                }
                // Not installed: the signal keeps its default action.
                None => std::future::pending().await,
            }
        }
        tokio::select! {
            () = recv(&mut self.interrupt) => Signal::Interrupt,
            () = recv(&mut self.terminate) => Signal::Terminate,
        }
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn install() -> Self {
        Self
    }

    async fn next(self) -> Signal {
        match tokio::signal::ctrl_c().await {
            Ok(()) => Signal::Interrupt,
            Err(_) => std::future::pending().await,
        }
    }
}

/// The controlling terminal's settings, saved before a hidden prompt can change them:
/// a prompt interrupted mid-read never gets to turn echo back on itself.
#[cfg(unix)]
mod terminal {
    use std::fs::File;
    use std::io::Write;
    use std::os::fd::AsRawFd;

    pub struct Saved(Option<(File, libc::termios)>);

    impl Saved {
        pub fn now() -> Self {
            let Ok(tty) = File::options().read(true).write(true).open("/dev/tty") else {
                return Self(None);
            };
            let mut termios = std::mem::MaybeUninit::<libc::termios>::uninit();
            // SAFETY: `tty` is an open descriptor and `termios` is written by the call.
            if unsafe { libc::tcgetattr(tty.as_raw_fd(), termios.as_mut_ptr()) } != 0 {
                return Self(None);
            }
            // SAFETY: tcgetattr succeeded, so `termios` is initialised.
            Self(Some((tty, unsafe { termios.assume_init() })))
        }

        /// Puts the settings back; if echo was off (a prompt was asking), ends the
        /// prompt's line so the message starts on its own.
        pub fn restore(&self) {
            let Some((tty, saved)) = &self.0 else { return };
            let mut now = std::mem::MaybeUninit::<libc::termios>::uninit();
            // SAFETY: as in `now`; `saved` came from tcgetattr on the same terminal.
            unsafe {
                let echo_was_off = libc::tcgetattr(tty.as_raw_fd(), now.as_mut_ptr()) == 0
                    && now.assume_init().c_lflag & libc::ECHO == 0
                    && saved.c_lflag & libc::ECHO != 0;
                libc::tcsetattr(tty.as_raw_fd(), libc::TCSANOW, saved);
                if echo_was_off {
                    let _ = (&*tty).write_all(b"\n");
                }
            }
        }
    }
}

#[cfg(not(unix))]
mod terminal {
    pub struct Saved;

    impl Saved {
        pub fn now() -> Self {
            Self
        }

        pub fn restore(&self) {}
    }
}
