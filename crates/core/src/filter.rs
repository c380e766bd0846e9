//! Which sessions a list shows: by profile and by free text (which also finds an SSO
//! role by its account name, role name and integration). One definition, so the
//! CLI's `session list --profile P --filter TEXT` and the desktop UI agree.

use crate::model::{SessionKind, SessionView};

/// A filter on session views; an empty filter matches every session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionFilter {
    /// Only sessions bound to this profile (exact name).
    pub profile: Option<String>,
    /// Only sessions whose name, profile, role ARN, account id or account name, or (SSO
    /// roles) role name or integration contains this text, ignoring case.
    pub text: Option<String>,
}

impl SessionFilter {
    pub fn matches(&self, view: &SessionView) -> bool {
        if let Some(p) = &self.profile
            && view.session.profile.as_str() != p
        {
            return false;
        }
        let Some(text) = self
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        else {
            return true;
        };
        let needle = text.to_lowercase();
        let (role_arn, sso) = match &view.session.kind {
            SessionKind::Role(r) => (Some(r.role_arn.as_str()), None),
            SessionKind::Saml(r) => (Some(r.role_arn.as_str()), None),
            SessionKind::IamUser(_) => (None, None),
            SessionKind::LoginSession(l) => (Some(l.login_session.as_str()), None),
            SessionKind::SsoRole(r) => (None, Some(r)),
        };
        [
            Some(view.session.name.as_str()),
            Some(view.session.profile.as_str()),
            role_arn,
            view.account_id.as_deref(),
            view.account_name.as_deref(),
            sso.map(|r| r.role_name.as_str()),
            view.integration.as_deref(),
        ]
        .into_iter()
        .flatten()
        .any(|field| field.to_lowercase().contains(&needle))
    }
}

#[cfg(test)]
mod tests {
    //! The cases live in `tests/fixtures/filter-cases.json`, which the UI's Vitest suite
    //! (`ui/src/lib/filters.test.ts`) runs too: the two filters cannot drift apart.

    use serde::Deserialize;

    use super::*;
    use crate::model::{
        ChainedRole, DEFAULT_USER_SESSION_SECONDS, IamUser, ProfileName, Session, SessionId,
        SessionState, SsoRole,
    };
    use crate::sso::IntegrationId;

    const CASES: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/filter-cases.json"
    ));

    #[derive(Deserialize)]
    struct Cases {
        sessions: Vec<CaseSession>,
        cases: Vec<Case>,
    }

    /// A session as the cases write it: only what a filter looks at.
    #[derive(Deserialize)]
    struct CaseSession {
        name: String,
        profile: String,
        kind: String,
        role_arn: Option<String>,
        account_id: Option<String>,
        account_name: Option<String>,
        role_name: Option<String>,
        integration: Option<String>,
        region: Option<String>,
    }

    #[derive(Deserialize)]
    struct Case {
        case: String,
        /// "ui": the case uses filters only the window has.
        only: Option<String>,
        filter: CaseFilter,
        expected: Vec<String>,
    }

    /// The window's filters; this filter has `text` and one profile of them.
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct CaseFilter {
        text: Option<String>,
        #[serde(default)]
        profiles: Vec<String>,
        kind: Option<String>,
        region: Option<String>,
        state: Option<String>,
    }

    impl CaseSession {
        /// The view; the state is left inactive, as this filter never reads it.
        fn view(&self) -> SessionView {
            let kind = match self.kind.as_str() {
                "iam-user" => SessionKind::IamUser(IamUser {
                    mfa_serial: None,
                    session_duration: DEFAULT_USER_SESSION_SECONDS,
                    account_id: self.account_id.clone(),
                }),
                "role" => SessionKind::Role(ChainedRole {
                    parent: SessionId::new(),
                    role_arn: self.role_arn.clone().expect("a role case has a role_arn"),
                    role_session_name: None,
                    external_id: None,
                    duration: None,
                    source_identity: None,
                    tags: Vec::new(),
                    transitive_tag_keys: Vec::new(),
                }),
                "sso-role" => SessionKind::SsoRole(SsoRole {
                    integration: IntegrationId::new(),
                    account_id: self.account_id.clone().expect("an SSO case has an account"),
                    account_name: self.account_name.clone(),
                    role_name: self.role_name.clone().expect("an SSO case has a role name"),
                }),
                other => panic!("unknown kind {other:?} in the filter cases"),
            };
            SessionView {
                session: Session {
                    console: Default::default(),
                    id: SessionId::new(),
                    name: self.name.clone(),
                    profile: ProfileName::parse(&self.profile).expect("a valid profile name"),
                    region: self.region.clone(),
                    kind,
                },
                state: SessionState::Inactive,
                account_id: self.account_id.clone(),
                account_name: self.account_name.clone(),
                effective_region: self.region.clone(),
                chain: vec![self.name.clone()],
                integration: self.integration.clone(),
            }
        }
    }

    impl Case {
        /// This case as a `SessionFilter`; a case not marked "only ui" must be one.
        fn session_filter(&self) -> Option<SessionFilter> {
            if self.only.as_deref() == Some("ui") {
                return None;
            }
            let f = &self.filter;
            assert!(
                f.profiles.len() <= 1
                    && f.kind.is_none()
                    && f.region.is_none()
                    && f.state.is_none(),
                "case {:?} uses a filter SessionFilter lacks: mark it \"only\": \"ui\"",
                self.case
            );
            Some(SessionFilter {
                profile: f.profiles.first().cloned(),
                text: f.text.clone(),
            })
        }
    }

    #[test]
    fn shared_filter_cases_pass_the_sessions_the_ui_filter_passes() {
        let shared: Cases = serde_json::from_str(CASES).expect("filter-cases.json parses");
        let views: Vec<SessionView> = shared.sessions.iter().map(CaseSession::view).collect();
        let mut ran = 0;
        for case in &shared.cases {
            let Some(filter) = case.session_filter() else {
                continue;
            };
            let passed: Vec<&str> = views
                .iter()
                .filter(|v| filter.matches(v))
                .map(|v| v.session.name.as_str())
                .collect();
            assert_eq!(passed, case.expected, "case {:?}", case.case);
            ran += 1;
        }
        // The text and profile cases are most of the file: none may be skipped quietly.
        assert!(ran >= 20, "only {ran} shared filter cases ran");
    }
}
