//! Which sessions a list shows: by profile and by free text. One definition, so the
//! CLI's `session list --profile P --filter TEXT` and the desktop UI agree.

use crate::model::{SessionKind, SessionView};

/// A filter on session views; an empty filter matches every session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionFilter {
    /// Only sessions bound to this profile (exact name).
    pub profile: Option<String>,
    /// Only sessions whose name, profile, role ARN or account contains this text,
    /// ignoring case.
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
        let role_arn = match &view.session.kind {
            SessionKind::Role(r) => Some(r.role_arn.as_str()),
            SessionKind::IamUser(_) => None,
        };
        [
            Some(view.session.name.as_str()),
            Some(view.session.profile.as_str()),
            role_arn,
            view.account_id.as_deref(),
        ]
        .into_iter()
        .flatten()
        .any(|field| field.to_lowercase().contains(&needle))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ChainedRole, ProfileName, Session, SessionId, SessionState};
    use crate::validate::Arn;

    fn role_view(name: &str, profile: &str, arn: &str) -> SessionView {
        SessionView {
            session: Session {
                id: SessionId::new(),
                name: name.into(),
                profile: ProfileName::parse(profile).unwrap(),
                region: None,
                kind: SessionKind::Role(ChainedRole {
                    parent: SessionId::new(),
                    role_arn: arn.into(),
                    role_session_name: None,
                    external_id: None,
                    duration: None,
                    source_identity: None,
                }),
            },
            state: SessionState::Inactive,
            account_id: Arn::account_of(arn).map(str::to_owned),
            effective_region: None,
            chain: vec![name.into()],
        }
    }

    #[test]
    fn text_matches_name_profile_role_arn_and_account_ignoring_case() {
        let v = role_view(
            "deploy",
            "production",
            "arn:aws:iam::210987654321:role/ResourceDeployCAR",
        );
        for text in ["DEPLOY", "product", "resourcedeploycar", "210987654321"] {
            let f = SessionFilter {
                text: Some(text.into()),
                ..Default::default()
            };
            assert!(f.matches(&v), "{text} should match");
        }
        let f = SessionFilter {
            text: Some("staging".into()),
            ..Default::default()
        };
        assert!(!f.matches(&v));
    }

    #[test]
    fn profile_must_match_exactly() {
        let v = role_view("deploy", "production", "arn:aws:iam::210987654321:role/R");
        let f = |p: &str| SessionFilter {
            profile: Some(p.into()),
            text: None,
        };
        assert!(f("production").matches(&v));
        assert!(!f("prod").matches(&v));
        assert!(SessionFilter::default().matches(&v));
    }
}
