//! The engine: the one place where sessions are added, started, stopped and rotated.
//! The CLI and the desktop shell call these methods and render the events; every rule
//! lives here or in the modules this one composes (workspace rules, the provider chain,
//! the keychain, the delivery).
//!
//! Flow of a start: validate the input → stop whichever session holds the profile →
//! mark the session pending → resolve its chain (cached hops reused, MFA asked at most
//! once) → hand the credentials to the delivery → mark it active with its expiry. Any
//! failure marks only that session failed, with the AWS error's code and message.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::broadcast;
use zeroize::Zeroizing;

use crate::chain::{ChainResolver, ResolveOptions, access_keys_account};
use crate::credentials::Credentials;
use crate::delivery::{Delivery, DeliveryError, Handover};
use crate::error::EngineError;
use crate::events::{EngineEvent, EventBus};
use crate::keychain::{DEFAULT_SERVICE, Keychain};
use crate::mfa::{MfaPrompt, NoPrompt, OneCode};
use crate::model::{
    ChainedRole, DEFAULT_USER_SESSION_SECONDS, Failure, IamUser, Profile, ProfileName, Session,
    SessionId, SessionKind, SessionState, SessionView, Settings,
};
use crate::state_writer::StateWriter;
use crate::store::WorkspaceStore;
use crate::sts::StsClient;
use crate::validate::{self, ValidationError};
use crate::workspace::Workspace;

/// Where the engine keeps its things and how it reaches AWS.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Rolehop's home: the workspace file and the AWS-files ledger.
    pub home: PathBuf,
    /// Keychain service name for all of Rolehop's entries.
    pub keychain_service: String,
    /// STS endpoint override; `None` lets aws-config read `AWS_ENDPOINT_URL(_STS)`.
    pub sts_endpoint: Option<String>,
    /// How long an MFA prompt may stay unanswered.
    pub mfa_timeout: Duration,
}

impl EngineConfig {
    /// `ROLEHOP_HOME` (else the platform config dir + `rolehop`) and
    /// `ROLEHOP_KEYCHAIN_SERVICE` (else `rolehop`).
    pub fn from_env() -> Self {
        let home = std::env::var_os("ROLEHOP_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| dirs::config_dir().map(|d| d.join("rolehop")))
            .unwrap_or_else(|| PathBuf::from(".rolehop"));
        let keychain_service = std::env::var("ROLEHOP_KEYCHAIN_SERVICE")
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| DEFAULT_SERVICE.to_owned());
        Self {
            home,
            keychain_service,
            sts_endpoint: None,
            mfa_timeout: Duration::from_secs(300),
        }
    }
}

/// A new IAM user session.
#[derive(Debug, Clone, Default)]
pub struct NewIamUser {
    pub name: String,
    pub profile: String,
    pub region: Option<String>,
    pub mfa_serial: Option<String>,
    pub session_duration: Option<u32>,
}

/// A new chained role session. `parent` is a session name or id.
#[derive(Debug, Clone, Default)]
pub struct NewRole {
    pub name: String,
    pub profile: String,
    pub region: Option<String>,
    pub parent: String,
    pub role_arn: String,
    pub role_session_name: Option<String>,
    pub external_id: Option<String>,
    pub duration: Option<u32>,
    pub source_identity: Option<String>,
}

/// An IAM user's long-lived keys, as entered. Goes to the keychain and nowhere else.
#[derive(Clone)]
pub struct AccessKeys {
    pub access_key_id: String,
    pub secret_access_key: Zeroizing<String>,
}

impl std::fmt::Debug for AccessKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccessKeys(<redacted>)")
    }
}

/// How to start a session.
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    /// An MFA code given up front (`--mfa-code`); else the engine's prompt is asked.
    pub mfa_code: Option<Zeroizing<String>>,
    /// Replace a profile section the user wrote themselves, until the session stops.
    pub take_over: bool,
}

/// The engine. Cheap to share behind an `Arc`; all methods take `&self`.
pub struct Engine {
    config: EngineConfig,
    store: Arc<WorkspaceStore>,
    keychain: Keychain,
    resolver: ChainResolver,
    delivery: Arc<dyn Delivery>,
    mfa: Arc<dyn MfaPrompt>,
    events: EventBus,
    states: StateWriter,
}

impl Engine {
    /// Opens the engine on `config.home`, with `mfa` answering MFA prompts and
    /// `delivery` putting credentials in place.
    pub async fn open(
        config: EngineConfig,
        mfa: Arc<dyn MfaPrompt>,
        delivery: Arc<dyn Delivery>,
    ) -> Result<Self, EngineError> {
        let home = config.home.clone();
        let store = tokio::task::spawn_blocking(move || WorkspaceStore::open(home))
            .await
            .expect("store task")?;
        let keychain = Keychain::new(config.keychain_service.clone());
        let sts = Arc::new(StsClient::new(config.sts_endpoint.as_deref()).await);
        let store = Arc::new(store);
        Ok(Self {
            resolver: ChainResolver::new(sts, keychain.clone()),
            states: StateWriter::spawn(store.clone()),
            config,
            store,
            keychain,
            delivery,
            mfa,
            events: EventBus::default(),
        })
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    pub fn keychain(&self) -> &Keychain {
        &self.keychain
    }

    pub fn resolver(&self) -> &ChainResolver {
        &self.resolver
    }

    /// Every state change and workspace change from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.events.subscribe()
    }

    pub(crate) fn events(&self) -> &EventBus {
        &self.events
    }

    /// The workspace as it is on disk now (with this engine's queued states written).
    pub async fn workspace(&self) -> Result<Workspace, EngineError> {
        self.states.flush().await?;
        let store = self.store.clone();
        Ok(tokio::task::spawn_blocking(move || store.load())
            .await
            .expect("store task")?)
    }

    /// Whether another process changed the workspace since this engine last looked.
    pub fn workspace_changed_on_disk(&self) -> bool {
        self.store.changed_on_disk()
    }

    /// How many changes by another process this engine has read so far: a watcher
    /// compares it with the count it last saw, as another read may have come first.
    pub fn workspace_external_changes(&self) -> u64 {
        self.store.external_changes()
    }

    async fn update<T: Send + 'static>(
        &self,
        change: impl FnOnce(&mut Workspace) -> Result<T, EngineError> + Send + 'static,
    ) -> Result<T, EngineError> {
        self.states.flush().await?;
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || store.update(change))
            .await
            .expect("store task")
    }

    pub async fn profiles(&self) -> Result<Vec<Profile>, EngineError> {
        Ok(self.workspace().await?.profiles)
    }

    pub async fn sessions(&self) -> Result<Vec<SessionView>, EngineError> {
        Ok(self.workspace().await?.views())
    }

    pub async fn session(&self, selector: &str) -> Result<SessionView, EngineError> {
        let ws = self.workspace().await?;
        Ok(ws.view(ws.find(selector)?))
    }

    pub async fn settings(&self) -> Result<Settings, EngineError> {
        Ok(self.workspace().await?.settings)
    }

    pub async fn update_settings(&self, settings: Settings) -> Result<Settings, EngineError> {
        if let Some(r) = &settings.default_region {
            validate::region("default_region", r)?;
        }
        if !(60..=3_000).contains(&settings.rotation_margin_seconds) {
            return Err(
                ValidationError::new("rotation_margin_seconds", "must be 60–3000 seconds").into(),
            );
        }
        let s = settings.clone();
        self.update(move |ws| {
            ws.settings = s;
            Ok(())
        })
        .await?;
        self.events.publish(EngineEvent::WorkspaceChanged);
        Ok(settings)
    }

    pub async fn add_profile(&self, name: &str) -> Result<Profile, EngineError> {
        let name = name.to_owned();
        let p = self.update(move |ws| Ok(ws.add_profile(&name)?)).await?;
        self.events.publish(EngineEvent::WorkspaceChanged);
        Ok(p)
    }

    /// Refuses to `action` a profile while one of its sessions is active: its
    /// credentials are under that name in the AWS files.
    async fn refuse_if_profile_active(&self, name: &str, action: &str) -> Result<(), EngineError> {
        let ws = self.workspace().await?;
        if ws.sessions.iter().any(|s| {
            s.session.profile.as_str() == name && matches!(s.state, SessionState::Active { .. })
        }) {
            return Err(EngineError::Conflict(format!(
                "profile '{name}' has an active session; stop it before {action} the profile"
            )));
        }
        Ok(())
    }

    pub async fn rename_profile(&self, old: &str, new: &str) -> Result<(), EngineError> {
        self.refuse_if_profile_active(old, "renaming").await?;
        let (old, new) = (old.to_owned(), new.to_owned());
        self.update(move |ws| Ok(ws.rename_profile(&old, &new)?))
            .await?;
        self.events.publish(EngineEvent::WorkspaceChanged);
        Ok(())
    }

    /// Removes a profile, moving its sessions to `reassign_to` (required if it has any).
    pub async fn remove_profile(
        &self,
        name: &str,
        reassign_to: Option<&str>,
    ) -> Result<(), EngineError> {
        self.refuse_if_profile_active(name, "removing").await?;
        let (name, to) = (name.to_owned(), reassign_to.map(str::to_owned));
        self.update(move |ws| Ok(ws.remove_profile(&name, to.as_deref())?))
            .await?;
        self.events.publish(EngineEvent::WorkspaceChanged);
        Ok(())
    }

    fn user_session(spec: &NewIamUser, id: SessionId) -> Result<Session, EngineError> {
        if let Some(serial) = &spec.mfa_serial {
            validate::mfa_serial("mfa_serial", serial)?;
        }
        let account_id = spec
            .mfa_serial
            .as_deref()
            .and_then(|s| s.split(':').nth(4))
            .filter(|a| !a.is_empty())
            .map(str::to_owned);
        Ok(Session {
            id,
            name: spec.name.clone(),
            profile: ProfileName::parse(&spec.profile)?,
            region: spec.region.clone().filter(|r| !r.is_empty()),
            kind: SessionKind::IamUser(IamUser {
                mfa_serial: spec.mfa_serial.clone().filter(|s| !s.is_empty()),
                session_duration: spec
                    .session_duration
                    .unwrap_or(DEFAULT_USER_SESSION_SECONDS),
                account_id,
            }),
        })
    }

    fn check_keys(keys: &AccessKeys) -> Result<Zeroizing<String>, EngineError> {
        validate::access_key_id("access_key_id", &keys.access_key_id)?;
        validate::secret_access_key("secret_access_key", &keys.secret_access_key)?;
        let stored = Credentials {
            access_key_id: keys.access_key_id.clone(),
            secret_access_key: keys.secret_access_key.clone(),
            session_token: None,
            expiration: None,
        };
        Ok(Zeroizing::new(
            serde_json::to_string(&stored).expect("keys serialize"),
        ))
    }

    /// Adds an IAM user; its keys go to the keychain, the rest to the workspace.
    pub async fn add_iam_user(
        &self,
        spec: NewIamUser,
        keys: AccessKeys,
    ) -> Result<SessionView, EngineError> {
        let session = Self::user_session(&spec, SessionId::new())?;
        let secret = Self::check_keys(&keys)?;
        // Check every workspace rule before the keychain is touched.
        {
            let mut trial = self.workspace().await?;
            trial.add_session(session.clone())?;
        }
        let account = access_keys_account(session.id);
        self.keychain.set_async(&account, secret).await?;
        let s = session.clone();
        let added = self
            .update(move |ws| {
                ws.add_session(s.clone())?;
                Ok(ws.view(ws.get(s.id).expect("just added")))
            })
            .await;
        if added.is_err() {
            let _ = self.keychain.delete_async(&account).await;
        }
        self.events.publish(EngineEvent::WorkspaceChanged);
        added
    }

    /// Edits an IAM user (same id); new keys replace the old ones when given.
    pub async fn edit_iam_user(
        &self,
        selector: &str,
        spec: NewIamUser,
        keys: Option<AccessKeys>,
    ) -> Result<SessionView, EngineError> {
        let ws = self.workspace().await?;
        let current = ws.find(selector)?.session.clone();
        if !matches!(current.kind, SessionKind::IamUser(_)) {
            return Err(ValidationError::new(
                "kind",
                format!("session '{}' is not an IAM user", current.name),
            )
            .into());
        }
        let session = Self::user_session(&spec, current.id)?;
        let secret = keys.as_ref().map(Self::check_keys).transpose()?;
        let mut trial = ws.clone();
        trial.replace_session(session.clone())?;
        if let Some(secret) = secret {
            self.keychain
                .set_async(&access_keys_account(current.id), secret)
                .await?;
            self.resolver.forget(current.id).await?;
        }
        self.replace(session).await
    }

    fn role_session(ws: &Workspace, spec: &NewRole, id: SessionId) -> Result<Session, EngineError> {
        let parent = ws
            .find(&spec.parent)
            .map_err(|_| {
                ValidationError::new(
                    "parent",
                    format!("no session named or with id '{}'", spec.parent),
                )
            })?
            .session
            .id;
        let opt = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
        Ok(Session {
            id,
            name: spec.name.clone(),
            profile: ProfileName::parse(&spec.profile)?,
            region: opt(&spec.region),
            kind: SessionKind::Role(ChainedRole {
                parent,
                role_arn: spec.role_arn.clone(),
                role_session_name: opt(&spec.role_session_name),
                external_id: opt(&spec.external_id),
                duration: spec.duration,
                source_identity: opt(&spec.source_identity),
            }),
        })
    }

    /// Adds a role chained from `spec.parent` (any kind, any depth).
    pub async fn add_role(&self, spec: NewRole) -> Result<SessionView, EngineError> {
        let view = self
            .update(move |ws| {
                let session = Self::role_session(ws, &spec, SessionId::new())?;
                let id = session.id;
                ws.add_session(session)?;
                Ok(ws.view(ws.get(id).expect("just added")))
            })
            .await?;
        self.events.publish(EngineEvent::WorkspaceChanged);
        Ok(view)
    }

    /// Edits a chained role (same id).
    pub async fn edit_role(
        &self,
        selector: &str,
        spec: NewRole,
    ) -> Result<SessionView, EngineError> {
        let ws = self.workspace().await?;
        let current = ws.find(selector)?.session.clone();
        if !matches!(current.kind, SessionKind::Role(_)) {
            return Err(ValidationError::new(
                "kind",
                format!("session '{}' is not a role", current.name),
            )
            .into());
        }
        let session = Self::role_session(&ws, &spec, current.id)?;
        self.resolver.forget(current.id).await?;
        self.replace(session).await
    }

    async fn replace(&self, session: Session) -> Result<SessionView, EngineError> {
        let view = self
            .update(move |ws| {
                let id = session.id;
                ws.replace_session(session)?;
                Ok(ws.view(ws.get(id).expect("exists")))
            })
            .await?;
        self.events.publish(EngineEvent::WorkspaceChanged);
        Ok(view)
    }

    /// Removes a session (and, with `cascade`, the roles chained from it): stops what is
    /// active and deletes their secrets from the keychain.
    pub async fn remove_session(
        &self,
        selector: &str,
        cascade: bool,
    ) -> Result<Vec<SessionId>, EngineError> {
        let before = self.workspace().await?;
        let sel = selector.to_owned();
        let removed = self
            .update(move |ws| Ok(ws.remove_session(&sel, cascade)?))
            .await?;
        for id in &removed {
            if let Some(s) = before.get(*id) {
                if matches!(s.state, SessionState::Active { .. } | SessionState::Pending) {
                    self.withdraw(s.session.profile.clone()).await?;
                }
                if matches!(s.session.kind, SessionKind::IamUser(_)) {
                    self.keychain
                        .delete_async(&access_keys_account(*id))
                        .await?;
                }
            }
            self.resolver.forget(*id).await?;
        }
        self.events.publish(EngineEvent::WorkspaceChanged);
        Ok(removed)
    }

    /// Waits until every state change of this engine is on disk. Short-lived hosts
    /// (the CLI) call this before they exit.
    pub async fn flush(&self) -> Result<(), EngineError> {
        self.states.flush().await?;
        self.resolver.flush().await;
        Ok(())
    }

    /// Publishes a state change now and queues it for the workspace file.
    fn set_state(&self, ws: &Workspace, id: SessionId, state: SessionState) -> Option<SessionView> {
        let mut stored = ws.get(id)?.clone();
        tracing::info!(session = %stored.session.name, state = ?state, "session state");
        stored.state = state.clone();
        self.states.set(id, state.clone());
        self.events.publish(EngineEvent::SessionState {
            session: id,
            name: stored.session.name.clone(),
            state,
        });
        Some(ws.view(&stored))
    }

    fn resolve_options(
        &self,
        ws: &Workspace,
        target: &Session,
        mfa: Arc<dyn MfaPrompt>,
    ) -> ResolveOptions {
        ResolveOptions {
            mfa,
            mfa_timeout: self.config.mfa_timeout,
            for_session: target.name.clone(),
            refresh: None,
            min_validity: chrono::Duration::seconds(ws.settings.rotation_margin_seconds as i64),
        }
    }

    fn prompt_for(&self, code: Option<Zeroizing<String>>) -> Arc<dyn MfaPrompt> {
        match code {
            Some(code) => Arc::new(OneCode::new(code, self.mfa.clone())),
            None => self.mfa.clone(),
        }
    }

    async fn deliver(&self, handover: Handover) -> Result<(), DeliveryError> {
        let delivery = self.delivery.clone();
        tokio::task::spawn_blocking(move || delivery.deliver(&handover))
            .await
            .expect("delivery task")
    }

    async fn withdraw(&self, profile: ProfileName) -> Result<(), EngineError> {
        let delivery = self.delivery.clone();
        tokio::task::spawn_blocking(move || delivery.withdraw(&profile))
            .await
            .expect("delivery task")?;
        Ok(())
    }

    /// Starts a session: its credentials appear under its profile. Whichever session
    /// held the profile is stopped first.
    #[tracing::instrument(skip_all, fields(session = selector))]
    pub async fn start(
        &self,
        selector: &str,
        opts: StartOptions,
    ) -> Result<SessionView, EngineError> {
        if let Some(code) = &opts.mfa_code {
            validate::mfa_code("mfa_code", code)?;
        }
        let ws = self.workspace().await?;
        let target = ws.find(selector)?.session.clone();
        let holders: Vec<SessionId> = ws
            .sessions
            .iter()
            .filter(|s| {
                s.session.profile == target.profile
                    && s.session.id != target.id
                    && matches!(s.state, SessionState::Active { .. } | SessionState::Pending)
            })
            .map(|s| s.session.id)
            .collect();
        for id in holders {
            self.stop(&id.to_string()).await?;
        }
        self.set_state(&ws, target.id, SessionState::Pending);
        let options = self.resolve_options(&ws, &target, self.prompt_for(opts.mfa_code));
        let outcome = self
            .obtain_and_deliver(&ws, &target, &options, opts.take_over)
            .await;
        self.settle(&ws, &target, outcome)
    }

    async fn obtain_and_deliver(
        &self,
        ws: &Workspace,
        target: &Session,
        options: &ResolveOptions,
        take_over: bool,
    ) -> Result<SessionState, Failure> {
        let creds = self
            .resolver
            .resolve(ws, target.id, options)
            .await
            .map_err(|e| e.failure(&target.name))?;
        let expires_at = creds
            .expiration
            .unwrap_or_else(|| Utc::now() + chrono::Duration::hours(1));
        self.deliver(Handover {
            profile: target.profile.clone(),
            session: target.id,
            credentials: creds,
            region: ws.region_of(target),
            mode: ws.settings.delivery_mode,
            take_over,
        })
        .await
        .map_err(|e| Failure {
            code: match e {
                DeliveryError::ProfileOwnedByUser { .. } => "ProfileOwnedByUser".into(),
                _ => "DeliveryFailed".into(),
            },
            message: e.to_string(),
        })?;
        Ok(SessionState::Active { expires_at })
    }

    fn settle(
        &self,
        ws: &Workspace,
        target: &Session,
        outcome: Result<SessionState, Failure>,
    ) -> Result<SessionView, EngineError> {
        match outcome {
            Ok(state) => self.set_state(ws, target.id, state).ok_or_else(|| {
                EngineError::NotFound(format!("session '{}' was removed meanwhile", target.name))
            }),
            Err(failure) => {
                self.set_state(ws, target.id, SessionState::Failed(failure.clone()));
                Err(EngineError::SessionFailed {
                    session: target.name.clone(),
                    failure,
                })
            }
        }
    }

    /// Stops a session: what Rolehop wrote for its profile is removed.
    #[tracing::instrument(skip_all, fields(session = selector))]
    pub async fn stop(&self, selector: &str) -> Result<SessionView, EngineError> {
        let ws = self.workspace().await?;
        let target = ws.find(selector)?.session.clone();
        self.withdraw(target.profile.clone()).await?;
        self.set_state(&ws, target.id, SessionState::Inactive)
            .ok_or_else(|| {
                EngineError::NotFound(format!("session '{}' was removed meanwhile", target.name))
            })
    }

    /// Refreshes an active session's credentials without prompting: the cached user
    /// token is reused, so this asks for MFA zero times while it is valid.
    #[tracing::instrument(skip_all, fields(session = selector))]
    pub async fn rotate(&self, selector: &str) -> Result<SessionView, EngineError> {
        let ws = self.workspace().await?;
        let target = ws.find(selector)?.session.clone();
        let mut options = self.resolve_options(
            &ws,
            &target,
            Arc::new(NoPrompt(format!(
                "the MFA session behind '{}' expired; start the session again to enter a new code",
                target.name
            ))),
        );
        options.refresh = Some(target.id);
        let outcome = self.obtain_and_deliver(&ws, &target, &options, false).await;
        if let Err(f) = &outcome {
            self.events.publish(EngineEvent::RotationFailed {
                session: target.id,
                name: target.name.clone(),
                message: f.message.clone(),
            });
        }
        self.settle(&ws, &target, outcome)
    }

    /// A session's credentials, for `exec` and `credential-process`: cached hops are
    /// reused, nothing is written and no state changes. With `interactive` false the
    /// engine never prompts (a missing MFA token is an error telling what to do).
    #[tracing::instrument(skip_all, fields(session = selector))]
    pub async fn credentials(
        &self,
        selector: &str,
        mfa_code: Option<Zeroizing<String>>,
        interactive: bool,
    ) -> Result<(SessionView, Credentials), EngineError> {
        if let Some(code) = &mfa_code {
            validate::mfa_code("mfa_code", code)?;
        }
        let ws = self.workspace().await?;
        let stored = ws.find(selector)?;
        let target = stored.session.clone();
        let prompt: Arc<dyn MfaPrompt> = if interactive || mfa_code.is_some() {
            self.prompt_for(mfa_code)
        } else {
            Arc::new(NoPrompt(format!(
                "session '{}' needs an MFA code; run `rolehop session start {}` once to enter it",
                target.name, target.name
            )))
        };
        let options = self.resolve_options(&ws, &target, prompt);
        let creds = self
            .resolver
            .resolve(&ws, target.id, &options)
            .await
            .map_err(|e| EngineError::SessionFailed {
                session: target.name.clone(),
                failure: e.failure(&target.name),
            })?;
        Ok((ws.view(stored), creds))
    }
}
