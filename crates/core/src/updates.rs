//! When the desktop app may ask Rolehop's update server for a newer version: never with
//! the setting off ([`Settings::check_for_updates`]), on its own at most once a day, and
//! whenever the person asks. The answer and the record of the check are one locked
//! workspace update, so an app and a CLI writing the workspace meanwhile lose nothing
//! and two checks cannot both pass as the day's first. What the server says, and the
//! signature of what it offers, are the desktop shell's (tauri-plugin-updater).

use chrono::{DateTime, Duration, Utc};

use crate::engine::Engine;
use crate::error::EngineError;
use crate::model::Settings;

/// The least time between two checks the app makes on its own.
pub const CHECK_INTERVAL: Duration = Duration::hours(24);

/// Who asks for the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateCheck {
    /// The app, on its own (at launch): at most once per [`CHECK_INTERVAL`].
    Automatic,
    /// The person ("Check for updates").
    OnDemand,
}

/// Whether to ask the update server now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckVerdict {
    /// Ask: the check is recorded as made now.
    Ask,
    /// The setting is off: ask nothing.
    Off,
    /// An automatic check within a day of the last one: ask nothing.
    NotDue { last_checked: DateTime<Utc> },
}

/// The rule, on its own: what a check of `kind` at `now` may do after one at `last`.
/// A last check in the future (the clock was set back) does not hold the next one off.
pub fn verdict(
    settings: &Settings,
    last: Option<DateTime<Utc>>,
    kind: UpdateCheck,
    now: DateTime<Utc>,
) -> CheckVerdict {
    if !settings.check_for_updates {
        return CheckVerdict::Off;
    }
    match (kind, last) {
        (UpdateCheck::Automatic, Some(last)) if last <= now && now - last < CHECK_INTERVAL => {
            CheckVerdict::NotDue { last_checked: last }
        }
        _ => CheckVerdict::Ask,
    }
}

impl Engine {
    /// Decides whether the app may ask for a newer version now and, if so, records the
    /// check as made at `now`, in one locked workspace update.
    pub async fn begin_update_check(
        &self,
        kind: UpdateCheck,
        now: DateTime<Utc>,
    ) -> Result<CheckVerdict, EngineError> {
        self.update(move |ws| {
            let verdict = verdict(&ws.settings, ws.last_update_check, kind, now);
            if verdict == CheckVerdict::Ask {
                ws.last_update_check = Some(now);
            }
            Ok(verdict)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hours: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap() + Duration::hours(hours)
    }

    #[test]
    fn part4_the_first_automatic_check_asks() {
        let on = Settings::default();
        assert_eq!(
            verdict(&on, None, UpdateCheck::Automatic, at(0)),
            CheckVerdict::Ask
        );
    }

    #[test]
    fn part4_automatic_checks_ask_at_most_once_a_day() {
        let on = Settings::default();
        let last = Some(at(0));
        assert_eq!(
            verdict(&on, last, UpdateCheck::Automatic, at(23)),
            CheckVerdict::NotDue {
                last_checked: at(0)
            }
        );
        assert_eq!(
            verdict(&on, last, UpdateCheck::Automatic, at(24)),
            CheckVerdict::Ask
        );
    }

    #[test]
    fn part4_an_on_demand_check_asks_within_the_day() {
        let on = Settings::default();
        assert_eq!(
            verdict(&on, Some(at(0)), UpdateCheck::OnDemand, at(1)),
            CheckVerdict::Ask
        );
    }

    #[test]
    fn part4_the_setting_off_asks_nothing_even_on_demand() {
        let off = Settings {
            check_for_updates: false,
            ..Settings::default()
        };
        for kind in [UpdateCheck::Automatic, UpdateCheck::OnDemand] {
            assert_eq!(verdict(&off, None, kind, at(0)), CheckVerdict::Off);
        }
    }

    #[test]
    fn part4_a_last_check_in_the_future_does_not_hold_checks_off() {
        let on = Settings::default();
        assert_eq!(
            verdict(&on, Some(at(48)), UpdateCheck::Automatic, at(0)),
            CheckVerdict::Ask
        );
    }
}
