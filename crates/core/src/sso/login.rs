//! The OAuth device authorization flow's polling (RFC 8628, as IAM Identity Center runs
//! it): `CreateToken` at once, then every `interval` until the person approves in their
//! browser. `AuthorizationPendingException` means "not yet", `SlowDownException` adds
//! five seconds to the interval for the rest of the login, and the device code's expiry
//! ends it. The time and the waits come from a [`Clock`], so the rules are tested
//! without waiting; the portal call is a function, so they are tested without a portal.

use std::future::Future;
use std::time::Duration;

use crate::rotation::Clock;

use super::portal::{DeviceAuthorization, PortalError, PortalToken};

/// What `slow_down` adds to the interval (RFC 8628 §3.5).
pub const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);

/// Why a device login ended without a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginError {
    /// Nobody approved the code before it expired.
    #[error("the code {user_code} expired before it was approved; run the login again")]
    Expired { user_code: String },
    /// The person refused, or the portal refused the client.
    #[error("{}: {}", .0.code, .0.message)]
    Refused(PortalError),
}

/// Polls `create_token` as the device flow says until it gives a token, the code
/// expires, or the portal refuses. `create_token` is called with the clock's time.
pub async fn poll_for_token<F, Fut>(
    clock: &dyn Clock,
    device: &DeviceAuthorization,
    mut create_token: F,
) -> Result<PortalToken, LoginError>
where
    F: FnMut(chrono::DateTime<chrono::Utc>) -> Fut,
    Fut: Future<Output = Result<PortalToken, PortalError>>,
{
    let expired = || LoginError::Expired {
        user_code: device.user_code.clone(),
    };
    let mut interval = device.interval;
    loop {
        match create_token(clock.now()).await {
            Ok(token) => return Ok(token),
            Err(e) if e.code == "AuthorizationPendingException" => {}
            Err(e) if e.code == "SlowDownException" => interval += SLOW_DOWN_STEP,
            Err(e) if e.code == "ExpiredTokenException" => return Err(expired()),
            Err(e) => return Err(LoginError::Refused(e)),
        }
        let due = clock.now() + chrono::Duration::from_std(interval).expect("seconds");
        if due >= device.expires_at {
            return Err(expired());
        }
        // The clock may return early (the system clock caps each wait): wait until due.
        while let Ok(left) = (due - clock.now()).to_std() {
            if left.is_zero() {
                break;
            }
            clock.sleep(left).await;
        }
    }
}

#[cfg(test)]
mod tests {
    //! The portal's answers are scripted and the clock is in memory: no peer can
    //! make time pass, and these pin the pacing rules (the stand-in in `tests/` proves
    //! the same flow against the real SDK end to end).

    use std::collections::VecDeque;
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Mutex;

    use chrono::{DateTime, Utc};
    use zeroize::Zeroizing;

    use super::*;

    /// A clock that advances only when slept on, and records each wait.
    struct FakeClock {
        now: Mutex<DateTime<Utc>>,
        waits: Mutex<Vec<Duration>>,
    }

    impl Clock for FakeClock {
        fn now(&self) -> DateTime<Utc> {
            *self.now.lock().unwrap()
        }
        fn sleep(&self, wait: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
            *self.now.lock().unwrap() += chrono::Duration::from_std(wait).unwrap();
            self.waits.lock().unwrap().push(wait);
            Box::pin(async {})
        }
    }

    fn start() -> (FakeClock, DeviceAuthorization) {
        let now = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
        let device = DeviceAuthorization {
            verification_uri: "https://device.sso.eu-west-1.amazonaws.com/".into(),
            verification_uri_complete: None,
            user_code: "ABCD-EFGH".into(),
            expires_at: now + chrono::Duration::seconds(60),
            interval: Duration::from_secs(2),
            device_code: Zeroizing::new("device".into()),
        };
        let clock = FakeClock {
            now: Mutex::new(now),
            waits: Mutex::default(),
        };
        (clock, device)
    }

    fn error(code: &str) -> PortalError {
        PortalError {
            code: code.into(),
            message: format!("{code} message"),
        }
    }

    fn token() -> PortalToken {
        PortalToken {
            access_token: Zeroizing::new("access".into()),
            refresh_token: None,
            expires_at: Utc::now(),
            flow: Default::default(),
        }
    }

    /// Runs the poll against `answers`; gives the outcome, the calls' times (seconds
    /// from the start) and the waits.
    async fn run(
        answers: Vec<Result<PortalToken, PortalError>>,
    ) -> (Result<PortalToken, LoginError>, Vec<i64>, Vec<u64>) {
        let (clock, device) = start();
        let t0 = clock.now();
        let answers = Mutex::new(VecDeque::from(answers));
        let calls = Mutex::new(Vec::new());
        let outcome = poll_for_token(&clock, &device, |now| {
            calls.lock().unwrap().push((now - t0).num_seconds());
            let next = answers
                .lock()
                .unwrap()
                .pop_front()
                .unwrap_or_else(|| Err(error("AuthorizationPendingException")));
            async move { next }
        })
        .await;
        let waits = clock
            .waits
            .lock()
            .unwrap()
            .iter()
            .map(|w| w.as_secs())
            .collect();
        (outcome, calls.into_inner().unwrap(), waits)
    }

    #[tokio::test]
    async fn polls_at_once_then_every_interval_while_pending() {
        let (outcome, calls, waits) = run(vec![
            Err(error("AuthorizationPendingException")),
            Err(error("AuthorizationPendingException")),
            Ok(token()),
        ])
        .await;
        assert!(outcome.is_ok());
        assert_eq!(calls, [0, 2, 4]);
        assert_eq!(waits, [2, 2]);
    }

    #[tokio::test]
    async fn slow_down_adds_five_seconds_for_the_rest_of_the_login() {
        let (outcome, calls, _) = run(vec![
            Err(error("SlowDownException")),
            Err(error("AuthorizationPendingException")),
            Err(error("SlowDownException")),
            Ok(token()),
        ])
        .await;
        assert!(outcome.is_ok());
        assert_eq!(calls, [0, 7, 14, 26]);
    }

    #[tokio::test]
    async fn the_code_expiring_ends_the_login_without_polling_past_it() {
        let (outcome, calls, _) = run(vec![]).await;
        assert_eq!(
            outcome.unwrap_err(),
            LoginError::Expired {
                user_code: "ABCD-EFGH".into()
            }
        );
        // 60 s of validity, every 2 s: the last poll is at 58 s.
        assert_eq!(calls.last(), Some(&58));
        let (outcome, calls, _) = run(vec![Err(error("ExpiredTokenException"))]).await;
        assert!(matches!(outcome, Err(LoginError::Expired { .. })));
        assert_eq!(calls, [0]);
    }

    #[tokio::test]
    async fn a_refusal_ends_the_login_with_the_portals_words() {
        let (outcome, calls, _) = run(vec![Err(error("AccessDeniedException"))]).await;
        let e = outcome.unwrap_err();
        assert_eq!(
            e.to_string(),
            "AccessDeniedException: AccessDeniedException message"
        );
        assert_eq!(calls, [0]);
    }
}
