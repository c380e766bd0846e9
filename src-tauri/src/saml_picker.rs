//! The window's federated role picker: the SAML responses its sign-ins captured, held
//! in the shell in memory only until the person picks roles.
//!
//! "Sign in and choose roles" opens the login window ([`crate::saml_login`]); the
//! response it captures stays here, under an opaque one-time [`SamlHandle`]. The main
//! window gets the handle and the offered roles ([`SamlOffers`]), never the response:
//! "Add selected" sends the handle back with the picked ARNs and the handle is taken
//! (used once); closing the dialog forgets it. A new sign-in for the same integration
//! replaces the response held for it.

use std::collections::HashMap;
use std::sync::Mutex;

use rolehop_core::saml::integration::RoleOffer;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zeroize::Zeroizing;

/// An opaque, one-time name for a response the shell holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export, type = "string"))]
pub struct SamlHandle(Uuid);

/// What the main window gets from a sign-in: the handle and the roles offered.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct SamlOffers {
    pub handle: SamlHandle,
    pub integration: String,
    pub offers: Vec<RoleOffer>,
}

/// A response held for integration `integration`.
pub struct Held {
    pub integration: String,
    pub response: Zeroizing<String>,
}

/// The responses held for the role picker, by handle.
#[derive(Default)]
pub struct SamlResponses {
    held: Mutex<HashMap<SamlHandle, Held>>,
}

impl SamlResponses {
    fn held(&self) -> std::sync::MutexGuard<'_, HashMap<SamlHandle, Held>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Holds `response` for `integration` (dropping one held for it before) and names it
    /// by a new handle.
    pub fn hold(&self, integration: &str, response: Zeroizing<String>) -> SamlHandle {
        let handle = SamlHandle(Uuid::new_v4());
        let mut held = self.held();
        held.retain(|_, h| h.integration != integration);
        held.insert(
            handle,
            Held {
                integration: integration.to_owned(),
                response,
            },
        );
        handle
    }

    /// The response `handle` names, no longer held: a handle is used once.
    pub fn take(&self, handle: SamlHandle) -> Option<Held> {
        self.held().remove(&handle)
    }

    /// Drops the response `handle` names (the dialog closed); `false` if none was held.
    pub fn forget(&self, handle: SamlHandle) -> bool {
        self.held().remove(&handle).is_some()
    }

    /// How many responses are held.
    pub fn len(&self) -> usize {
        self.held().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(text: &str) -> Zeroizing<String> {
        Zeroizing::new(text.to_owned())
    }

    #[test]
    fn part3_a_handle_gives_its_response_once() {
        let responses = SamlResponses::default();
        let handle = responses.hold("corp", response("PHNhbWw+"));
        let held = responses.take(handle).expect("held");
        assert_eq!(held.integration, "corp");
        assert_eq!(held.response.as_str(), "PHNhbWw+");
        assert!(responses.take(handle).is_none(), "a handle is used once");
        assert!(responses.is_empty());
    }

    #[test]
    fn part3_forgetting_a_handle_drops_its_response() {
        let responses = SamlResponses::default();
        let handle = responses.hold("corp", response("PHNhbWw+"));
        assert!(responses.forget(handle));
        assert!(responses.take(handle).is_none());
        assert!(!responses.forget(handle));
        assert!(responses.is_empty());
    }

    #[test]
    fn part3_a_new_sign_in_replaces_the_response_held_for_its_integration() {
        let responses = SamlResponses::default();
        let first = responses.hold("corp", response("first"));
        let other = responses.hold("lab", response("other"));
        let second = responses.hold("corp", response("second"));
        assert_ne!(first, second);
        assert!(responses.take(first).is_none());
        assert_eq!(responses.take(second).unwrap().response.as_str(), "second");
        assert_eq!(responses.take(other).unwrap().response.as_str(), "other");
    }

    #[test]
    fn part3_what_the_main_window_gets_holds_no_response() {
        let responses = SamlResponses::default();
        let secret = "PHNhbWxwOlJlc3BvbnNlIHNlY3JldD0ieWVzIi8+";
        let handle = responses.hold("corp", response(secret));
        let offers = SamlOffers {
            handle,
            integration: "corp".into(),
            offers: vec![RoleOffer {
                role_arn: "arn:aws:iam::111111111111:role/Dev".into(),
                principal_arn: "arn:aws:iam::111111111111:saml-provider/corp".into(),
                account_id: "111111111111".into(),
                account_name: None,
                role_name: "Dev".into(),
                session: None,
            }],
        };
        let json = serde_json::to_string(&offers).unwrap();
        assert!(!json.contains(secret), "{json}");
        assert!(json.contains(&handle.0.to_string()), "{json}");
    }
}
