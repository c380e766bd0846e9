//! A scheduler clock the test moves: an in-memory fake, because no real peer can
//! suspend the machine or make hours pass in seconds.
//!
//! Each of the scheduler's sleeps moves the clock forward by the wait at once, so
//! simulated hours of rotation take the seconds the STS calls take. Past its end the
//! clock stops: a sleep then waits until the test drops the scheduler, and
//! [`SteppedClock::reached_end`] tells the test that every try before the end is done
//! (the scheduler only sleeps between its rounds of tries).

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rolehop_core::rotation::Clock;
use tokio::sync::Notify;

type OnMove = Box<dyn Fn(chrono::Duration) + Send + Sync>;

pub struct SteppedClock {
    now: Mutex<DateTime<Utc>>,
    end: DateTime<Utc>,
    ended: Notify,
    /// Told the clock's lead over the wall clock after each move.
    on_move: OnMove,
}

impl SteppedClock {
    /// A clock at the wall clock's now that stops `span` later.
    pub fn new(span: chrono::Duration) -> Self {
        Self::with_on_move(span, |_| {})
    }

    /// Like [`SteppedClock::new`]; `on_move` is told the clock's lead over the wall
    /// clock after every move (to move STS's time with it, see
    /// [`crate::fault_proxy::FaultProxy::shift_time`]).
    pub fn with_on_move(
        span: chrono::Duration,
        on_move: impl Fn(chrono::Duration) + Send + Sync + 'static,
    ) -> Self {
        Self::starting_at(Utc::now(), span, on_move)
    }

    /// A clock at `start` (where another one ended) that stops `span` later.
    pub fn starting_at(
        start: DateTime<Utc>,
        span: chrono::Duration,
        on_move: impl Fn(chrono::Duration) + Send + Sync + 'static,
    ) -> Self {
        Self {
            now: Mutex::new(start),
            end: start + span,
            ended: Notify::new(),
            on_move: Box::new(on_move),
        }
    }

    /// Waits until the scheduler sleeps past the clock's end.
    pub async fn reached_end(&self) {
        self.ended.notified().await
    }
}

impl Clock for SteppedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().expect("clock")
    }

    fn sleep(&self, wait: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        let moved = {
            let mut now = self.now.lock().expect("clock");
            if *now >= self.end {
                None
            } else {
                *now =
                    (*now + chrono::Duration::from_std(wait).expect("a short wait")).min(self.end);
                Some(*now)
            }
        };
        match moved {
            Some(now) => {
                (self.on_move)(now - Utc::now());
                Box::pin(std::future::ready(()))
            }
            None => {
                self.ended.notify_one();
                Box::pin(std::future::pending())
            }
        }
    }
}
