//! Federated integrations: one SAML identity provider whose responses' roles become
//! federated sessions in bulk, kept in step by re-syncing through the shared reconcile
//! ([`crate::sync`], source [`SyncSource::SamlIntegration`]).
//!
//! A sync reads one response (never stored: it is a bearer secret), offers every role
//! it grants ([`RoleOffer`]), and keeps as sessions the roles the user picks plus those
//! already synced that the response still grants: a role the provider stopped granting
//! goes (kept and reported while live), a role it newly grants is offered and added
//! only when picked, and the user's renames and profile choices stay, as in every sync.

use chrono::Utc;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use rolehop_model::federation::SamlIntegration;
use rolehop_model::problem::Missing;

use super::{RolePair, SamlResponse};
use crate::engine::Engine;
use crate::error::EngineError;
use crate::model::{IntegrationId, SamlRole, SessionKind};
use crate::sync::{NameTemplate, SyncEntry, SyncKey, SyncReport, SyncSource};
use crate::validate::{Arn, ValidationError};
use crate::workspace::Workspace;

/// What `saml add` (and the window's dialog) asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct NewSamlIntegration {
    pub name: String,
    pub idp_url: String,
    pub region: Option<String>,
    pub profile_template: Option<String>,
    pub duration: Option<u32>,
}

/// One role a response grants, as offered to the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct RoleOffer {
    pub role_arn: String,
    pub principal_arn: String,
    pub account_id: String,
    /// The account's name where the workspace already knows it (another sync named
    /// it), else `None`.
    pub account_name: Option<String>,
    /// The role's name (with its path, if any), as the ARN has it after `role/`.
    pub role_name: String,
    /// The session this integration already made for the role, by name.
    pub session: Option<String>,
}

/// Which roles of a response become sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SamlPick {
    /// Every role the response grants.
    All,
    /// These role ARNs (each must be granted), besides the roles already synced.
    Roles(Vec<String>),
}

/// What a federated sync did, and what it offered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct SamlSyncReport {
    pub integration: String,
    pub sync: SyncReport,
    /// Every role the response granted.
    pub offered: Vec<RoleOffer>,
    /// Granted roles that are not sessions after the sync (not picked).
    pub not_picked: Vec<RoleOffer>,
}

fn no_such(name: &str) -> EngineError {
    EngineError::NotFound {
        what: Missing::Integration,
        message: format!("no federated integration named '{name}'"),
    }
}

fn source_of(i: &SamlIntegration) -> SyncSource {
    SyncSource::SamlIntegration { integration: i.id }
}

fn template_of(i: &SamlIntegration) -> Result<NameTemplate, ValidationError> {
    match &i.profile_template {
        Some(t) => NameTemplate::parse("profile_template", t),
        None => Ok(NameTemplate::default()),
    }
}

/// The integration `name` (or id).
pub fn find<'w>(ws: &'w Workspace, name: &str) -> Result<&'w SamlIntegration, EngineError> {
    let by_id = name.parse::<Uuid>().ok().map(IntegrationId);
    ws.saml_integrations
        .iter()
        .find(|i| Some(i.id) == by_id)
        .or_else(|| ws.saml_integrations.iter().find(|i| i.name == name))
        .ok_or_else(|| no_such(name))
}

/// The sync key of a granted pair: the role's account and its name after `role/`.
fn key_of(pair: &RolePair) -> SyncKey {
    let resource = Arn::parse("role_arn", &pair.role_arn)
        .map(|a| a.resource)
        .unwrap_or_default();
    SyncKey {
        account_id: Arn::account_of(&pair.role_arn)
            .unwrap_or_default()
            .to_owned(),
        role_name: resource
            .strip_prefix("role/")
            .unwrap_or(resource)
            .to_owned(),
    }
}

/// The names the workspace already knows for accounts: from any sync's origin (an
/// Organization, IAM Identity Center) or an SSO role.
fn known_account_name(ws: &Workspace, account_id: &str) -> Option<String> {
    ws.sessions.iter().find_map(|s| {
        if let Some(o) = &s.origin
            && o.key.account_id == account_id
            && o.account_name != account_id
            && !o.account_name.is_empty()
        {
            return Some(o.account_name.clone());
        }
        match &s.session.kind {
            SessionKind::SsoRole(r) if r.account_id == account_id => r.account_name.clone(),
            _ => None,
        }
    })
}

/// Every role of `roles` (a response's grants), as offered for integration `i`, in the response's
/// order (each pair once).
pub fn offers(ws: &Workspace, i: &SamlIntegration, roles: &[RolePair]) -> Vec<RoleOffer> {
    let source = source_of(i);
    let mut seen = std::collections::HashSet::new();
    roles
        .iter()
        .filter(|p| seen.insert((p.role_arn.as_str(), p.principal_arn.as_str())))
        .map(|p| {
            let key = key_of(p);
            let session = ws
                .sessions
                .iter()
                .find(|s| {
                    s.origin
                        .as_ref()
                        .is_some_and(|o| o.source == source && o.key == key)
                })
                .map(|s| s.session.name.clone());
            RoleOffer {
                role_arn: p.role_arn.clone(),
                principal_arn: p.principal_arn.clone(),
                account_name: known_account_name(ws, &key.account_id),
                account_id: key.account_id,
                role_name: key.role_name,
                session,
            }
        })
        .collect()
}

/// The offers whose account id, account name, role name or ARN holds `typed`, ignoring
/// case (the picker's filter).
pub fn filter_offers<'o>(offers: &'o [RoleOffer], typed: &str) -> Vec<&'o RoleOffer> {
    offers.iter().filter(|o| o.matches(typed)).collect()
}

impl RoleOffer {
    /// Whether its account id, account name, role name or ARN holds `typed`, ignoring
    /// case ([`filter_offers`]' test for one offer).
    pub fn matches(&self, typed: &str) -> bool {
        let typed = typed.trim().to_lowercase();
        typed.is_empty()
            || [
                self.account_id.as_str(),
                self.account_name.as_deref().unwrap_or(""),
                self.role_name.as_str(),
                self.role_arn.as_str(),
            ]
            .iter()
            .any(|field| field.to_lowercase().contains(&typed))
    }
}

/// The entries of a sync: the offers picked, plus those already synced (which the
/// response still grants).
fn entries(i: &SamlIntegration, offers: &[RoleOffer], pick: &SamlPick) -> Vec<SyncEntry> {
    offers
        .iter()
        .filter(|o| {
            o.session.is_some()
                || match pick {
                    SamlPick::All => true,
                    SamlPick::Roles(arns) => arns.contains(&o.role_arn),
                }
        })
        .map(|o| SyncEntry {
            key: SyncKey {
                account_id: o.account_id.clone(),
                role_name: o.role_name.clone(),
            },
            account_name: o
                .account_name
                .clone()
                .unwrap_or_else(|| o.account_id.clone()),
            region: i.region.clone(),
            kind: SessionKind::Saml(SamlRole {
                idp_url: i.idp_url.clone(),
                role_arn: o.role_arn.clone(),
                principal_arn: o.principal_arn.clone(),
                duration: i.duration,
            }),
            declared: None,
        })
        .collect()
}

/// Each picked ARN must be one the response grants (named in the refusal, field `role`).
fn check_picks(roles: &[RolePair], pick: &SamlPick) -> Result<(), ValidationError> {
    let SamlPick::Roles(arns) = pick else {
        return Ok(());
    };
    for arn in arns {
        if !roles.iter().any(|p| &p.role_arn == arn) {
            let granted: Vec<&str> = roles.iter().map(|p| p.role_arn.as_str()).collect();
            return Err(ValidationError::new(
                "role",
                format!(
                    "{arn} is not granted by the SAML response; it grants {}",
                    granted.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

impl Engine {
    /// Adds a federated integration (nothing is asked of the provider).
    pub async fn add_saml_integration(
        &self,
        spec: NewSamlIntegration,
    ) -> Result<SamlIntegration, EngineError> {
        let integration = SamlIntegration {
            id: IntegrationId::new(),
            name: spec.name.trim().to_owned(),
            idp_url: spec.idp_url.trim().to_owned(),
            region: spec.region.map(|r| r.trim().to_owned()),
            profile_template: spec.profile_template,
            duration: spec.duration,
        };
        integration.check()?;
        template_of(&integration)?;
        if integration.name.parse::<Uuid>().is_ok() {
            return Err(ValidationError::new("name", "must not look like an id").into());
        }
        let added = integration.clone();
        self.update(move |ws| {
            if ws.saml_integrations.iter().any(|i| i.name == added.name) {
                return Err(ValidationError::new(
                    "name",
                    format!(
                        "a federated integration named '{}' already exists",
                        added.name
                    ),
                )
                .into());
            }
            ws.saml_integrations.push(added);
            Ok(())
        })
        .await?;
        self.events()
            .publish(crate::events::EngineEvent::WorkspaceChanged);
        Ok(integration)
    }

    pub async fn saml_integrations(&self) -> Result<Vec<SamlIntegration>, EngineError> {
        Ok(self.workspace().await?.saml_integrations)
    }

    /// The roles `posted` (a base64 SAML response) grants, as offered for integration
    /// `name`. The response is read and checked (AWS's audience, not expired), never
    /// stored.
    pub async fn saml_offers(
        &self,
        name: &str,
        posted: &str,
    ) -> Result<Vec<RoleOffer>, EngineError> {
        let response = SamlResponse::parse(posted)?;
        response.check_current(Utc::now())?;
        let ws = self.workspace().await?;
        let i = find(&ws, name)?;
        Ok(offers(&ws, i, &response.roles))
    }

    /// Syncs integration `name` with the roles `posted` grants: the picked ones and
    /// those already synced become (or stay) federated sessions, through the shared
    /// reconcile in one locked update (nothing is written when nothing changed).
    pub async fn saml_sync(
        &self,
        name: &str,
        posted: &str,
        pick: SamlPick,
    ) -> Result<SamlSyncReport, EngineError> {
        let response = SamlResponse::parse(posted)?;
        response.check_current(Utc::now())?;
        check_picks(&response.roles, &pick)?;
        let ws = self.workspace().await?;
        let integration = find(&ws, name)?.clone();
        let template = template_of(&integration)?;
        let source = source_of(&integration);
        let for_entries = integration.clone();
        let granted = response.roles.clone();
        let (sync, ()) = self
            .sync_with(source, template, move |ws| {
                // Read again inside the lock: another process may have synced meanwhile.
                let i = find(ws, &for_entries.name)?.clone();
                let offered = offers(ws, &i, &response.roles);
                Ok((entries(&i, &offered, &pick), ()))
            })
            .await?;
        let ws = self.workspace().await?;
        // As the sync left them: each offer names its session now.
        let offered = offers(&ws, &integration, &granted);
        let not_picked = offered
            .iter()
            .filter(|o| o.session.is_none())
            .cloned()
            .collect();
        Ok(SamlSyncReport {
            integration: integration.name,
            sync,
            offered,
            not_picked,
        })
    }

    /// Removes integration `name`: its sessions go as a sync granting nothing would
    /// take them (live ones and parents of the user's own roles are kept and reported,
    /// no longer synced).
    pub async fn remove_saml_integration(&self, name: &str) -> Result<SyncReport, EngineError> {
        let ws = self.workspace().await?;
        let integration = find(&ws, name)?.clone();
        let id = integration.id;
        let (report, ()) = self
            .sync_with(
                source_of(&integration),
                NameTemplate::default(),
                move |ws| {
                    let before = ws.saml_integrations.len();
                    ws.saml_integrations.retain(|i| i.id != id);
                    if ws.saml_integrations.len() == before {
                        return Err(no_such(&integration.name));
                    }
                    Ok((Vec::new(), ()))
                },
            )
            .await?;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(account: &str, role: &str) -> RolePair {
        RolePair {
            role_arn: format!("arn:aws:iam::{account}:role/{role}"),
            principal_arn: format!("arn:aws:iam::{account}:saml-provider/Corp"),
        }
    }

    fn integration() -> SamlIntegration {
        SamlIntegration {
            id: IntegrationId::new(),
            name: "corp".into(),
            idp_url: "https://idp.example.test/sso/aws".into(),
            region: None,
            profile_template: None,
            duration: None,
        }
    }

    #[test]
    fn part3_every_granted_role_is_offered_with_its_account_and_a_typed_name_filters_them() {
        let granted = [
            pair("111111111111", "Admin"),
            pair("111111111111", "ReadOnly"),
            pair("222222222222", "teams/Deploy"),
            pair("111111111111", "Admin"),
        ];
        let offered = offers(&Workspace::default(), &integration(), &granted);
        let names: Vec<_> = offered
            .iter()
            .map(|o| (o.account_id.as_str(), o.role_name.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("111111111111", "Admin"),
                ("111111111111", "ReadOnly"),
                ("222222222222", "teams/Deploy")
            ]
        );
        let found: Vec<_> = filter_offers(&offered, "deploy")
            .iter()
            .map(|o| o.role_arn.as_str())
            .collect();
        assert_eq!(found, ["arn:aws:iam::222222222222:role/teams/Deploy"]);
        assert_eq!(filter_offers(&offered, "1111").len(), 2);
        assert_eq!(filter_offers(&offered, "").len(), 3);
    }

    #[test]
    fn part3_a_pick_the_response_does_not_grant_is_refused_naming_role() {
        let err = check_picks(
            &[pair("111111111111", "Admin")],
            &SamlPick::Roles(vec!["arn:aws:iam::111111111111:role/Other".into()]),
        )
        .unwrap_err();
        assert_eq!(err.field, "role");
        assert!(err.to_string().contains("role/Other"), "{err}");
    }
}
