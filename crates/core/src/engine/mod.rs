//! The engine: the one place where sessions are added, edited, started, stopped and
//! rotated. The CLI and the desktop shell call these methods and render the events;
//! every rule lives here or in the modules this one composes (workspace rules, claims,
//! the provider chain, the keychain, the delivery).
//!
//! Every workspace rule is checked inside the locked update that acts on it
//! ([`WorkspaceStore::update`]), so the CLI and the app can never both pass a check on
//! stale state. This module opens the engine and reads; [`sessions`] adds, edits and
//! removes sessions; [`lifecycle`] starts, stops, toggles and rotates them; [`forget`]
//! is the one place that drops cached copies of credentials.

mod builder;
mod click;
mod federated_sign_in;
mod forget;
mod inputs;
mod lifecycle;
mod login;
mod recent;
mod sessions;
mod signer;
mod sso;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast;

pub use self::builder::{EngineBuilder, RunningEngine};
pub use self::click::ClickAction;
pub use self::federated_sign_in::FederatedSignIn;
pub(crate) use self::forget::Forget;
pub use self::inputs::{AccessKeys, NewIamUser, NewRole, NewSamlRole, StartOptions};
pub(crate) use self::lifecycle::Asking as MfaAsking;
pub use self::login::{ConsoleSignInFor, NewConsoleSignIn, NewLoginSession, PendingConsoleSignIn};
pub(crate) use self::signer::SignedWith;
pub use self::sso::{NewSsoRole, PendingLogin};
use crate::chain::ChainResolver;
use crate::delivery::Delivery;
use crate::error::EngineError;
use crate::events::{EngineEvent, EventBus};
use crate::kernel_cache::KernelCache;
use crate::keychain::{DEFAULT_SERVICE, Keychain, KeychainStore};
use crate::mfa::MfaPrompt;
use crate::model::{Profile, SessionId, SessionView, Settings};
use crate::reference::SessionRef;
use crate::store::WorkspaceStore;
use crate::sts::{StsApi, StsClient};
use crate::validate;
use crate::workspace::Workspace;

/// Where the engine keeps its things and how it reaches AWS.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Rolehop's home: the workspace file and the AWS-files ledger.
    pub home: PathBuf,
    /// Keychain service name for all of Rolehop's entries.
    pub keychain_service: String,
    /// Which store the keychain is (the platform's by default; keyring-core's mock store
    /// in unit tests of the engine's rules).
    pub keychain_store: KeychainStore,
    /// STS endpoint override; `None` reads `AWS_ENDPOINT_URL(_STS)`
    /// (the endpoint rule of [`crate::aws`]).
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
            keychain_store: KeychainStore::Platform,
            sts_endpoint: None,
            mfa_timeout: Duration::from_secs(300),
        }
    }

    /// The workspace's runtime directory (`<home>/run`, 0700): the MFA users' lock files
    /// ([`crate::mfa_lock`]) and the desktop app's MFA channel ([`crate::agent`]).
    pub fn runtime_dir(&self) -> PathBuf {
        self.home.join("run")
    }

    /// The workspace as it is on disk, read without opening an engine: no directory
    /// created, no lock taken, no keychain, no network. For shell completion.
    pub fn read_workspace(&self) -> Result<Workspace, EngineError> {
        Ok(WorkspaceStore::read_unlocked(self.home.clone())?)
    }

    /// The keychain this configuration names: its service in its store. The engine and
    /// the delivery it is given should share it.
    pub fn keychain(&self) -> Keychain {
        Keychain::in_store(self.keychain_service.clone(), self.keychain_store.clone())
    }
}

/// The engine. Cheap to share behind an `Arc`; all methods take `&self`.
pub struct Engine {
    config: EngineConfig,
    store: Arc<WorkspaceStore>,
    keychain: Keychain,
    resolver: ChainResolver,
    /// Active sessions' credentials in the kernel keyring, in front of the keychain.
    kernel: KernelCache,
    delivery: Arc<dyn Delivery>,
    mfa: Arc<dyn MfaPrompt>,
    events: EventBus,
    /// Asked by rotation for a new SAML response (see [`crate::saml::sign_in`]).
    saml_sign_in: Option<Arc<dyn crate::saml::SamlSignIn>>,
}

impl Engine {
    /// Opens the engine on `config.home`, with `mfa` answering MFA prompts,
    /// `delivery` putting credentials in place and `sts` (else AWS's) answering STS
    /// calls. Only [`EngineBuilder`] calls this.
    async fn assemble(
        config: EngineConfig,
        mfa: Arc<dyn MfaPrompt>,
        delivery: Arc<dyn Delivery>,
        sts: Option<Arc<dyn StsApi>>,
    ) -> Result<Self, EngineError> {
        let home = config.home.clone();
        let store = tokio::task::spawn_blocking(move || WorkspaceStore::open(home))
            .await
            .expect("store task")?;
        let keychain = config.keychain();
        let sts = Arc::new(match sts {
            Some(api) => StsClient::answered_by(api),
            None => StsClient::new(config.sts_endpoint.as_deref()).await,
        });
        let store = Arc::new(store);
        // Only in front of the platform's keychain: a test's mock store keeps nothing
        // outside the process.
        let kernel = match config.keychain_store {
            KeychainStore::Platform => KernelCache::new(&config.keychain_service, &config.home),
            KeychainStore::Custom(_) => KernelCache::off(),
        };
        Ok(Self {
            resolver: ChainResolver::new(sts, keychain.clone())
                .with_mfa_lock_dir(config.runtime_dir()),
            kernel,
            config,
            store,
            keychain,
            delivery,
            mfa,
            events: EventBus::default(),
            saml_sign_in: None,
        })
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    pub(crate) fn keychain(&self) -> &Keychain {
        &self.keychain
    }

    pub(crate) fn resolver(&self) -> &ChainResolver {
        &self.resolver
    }

    /// The kernel keyring copy of active sessions' credentials.
    #[cfg(feature = "test-support")]
    pub(crate) fn kernel_cache(&self) -> &KernelCache {
        &self.kernel
    }

    /// Every state change and workspace change from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.events.subscribe()
    }

    pub(crate) fn events(&self) -> &EventBus {
        &self.events
    }

    /// The workspace as it is on disk now, a start whose process died shown as it was
    /// before that start (see [`crate::claims`]).
    pub async fn workspace(&self) -> Result<Workspace, EngineError> {
        let store = self.store.clone();
        let mut ws = tokio::task::spawn_blocking(move || store.load())
            .await
            .expect("store task")?;
        ws.settle_abandoned();
        Ok(ws)
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

    /// Applies `change` to the freshest workspace under the workspace lock (a blocking
    /// task): the checks and the act of every rule happen inside one of these. A change
    /// that also edits the AWS files takes their lock inside this one, never the reverse.
    pub(crate) async fn update<T: Send + 'static>(
        &self,
        change: impl FnOnce(&mut Workspace) -> Result<T, EngineError> + Send + 'static,
    ) -> Result<T, EngineError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            store.update(|ws| {
                // The rules see what readers see: an abandoned start is undone first.
                ws.settle_abandoned();
                change(ws)
            })
        })
        .await
        .expect("store task")
    }

    pub async fn profiles(&self) -> Result<Vec<Profile>, EngineError> {
        Ok(self.workspace().await?.profiles)
    }

    pub async fn sessions(&self) -> Result<Vec<SessionView>, EngineError> {
        Ok(self.workspace().await?.views())
    }

    pub async fn session(
        &self,
        session: impl Into<SessionRef>,
    ) -> Result<SessionView, EngineError> {
        let selector = session.into();
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
        validate::rotation_margin("rotation_margin_seconds", settings.rotation_margin_seconds)?;
        let s = settings.clone();
        let ws = self
            .update(move |ws| {
                ws.settings = s;
                Ok(ws.clone())
            })
            .await?;
        if !settings.mfa_sessions_in_kernel_keyring {
            // Kept out from now on: the copies already there go too.
            for stored in ws
                .sessions
                .iter()
                .filter(|s| matches!(s.session.kind, crate::model::SessionKind::IamUser(_)))
            {
                self.forget_copies(Forget::Superseded(stored.session.id))
                    .await;
            }
        }
        self.events.publish(EngineEvent::WorkspaceChanged);
        Ok(settings)
    }

    pub async fn add_profile(&self, name: &str) -> Result<Profile, EngineError> {
        let name = name.to_owned();
        let p = self.update(move |ws| Ok(ws.add_profile(&name)?)).await?;
        self.events.publish(EngineEvent::WorkspaceChanged);
        Ok(p)
    }

    pub async fn rename_profile(&self, old: &str, new: &str) -> Result<(), EngineError> {
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
        let (name, to) = (name.to_owned(), reassign_to.map(str::to_owned));
        self.update(move |ws| Ok(ws.remove_profile(&name, to.as_deref())?))
            .await?;
        self.events.publish(EngineEvent::WorkspaceChanged);
        Ok(())
    }

    /// Waits until every cached credential of this engine is in the keychain.
    /// Short-lived hosts (the CLI) call this before they exit.
    pub async fn flush(&self) -> Result<(), EngineError> {
        self.resolver.flush().await;
        Ok(())
    }

    /// Publishes the state of `view`'s session.
    fn announce_view(&self, view: &SessionView) {
        tracing::info!(session = %view.session.name, state = ?view.state, "session state");
        self.events.publish(EngineEvent::SessionState {
            session: view.session.id,
            name: view.session.name.clone(),
            state: view.state.clone(),
        });
    }

    /// Publishes the state `ws` holds for each of `ids`.
    fn announce(&self, ws: &Workspace, ids: impl IntoIterator<Item = SessionId>) {
        for id in ids {
            if let Some(s) = ws.get(id) {
                tracing::info!(session = %s.session.name, state = ?s.state, "session state");
                self.events.publish(EngineEvent::SessionState {
                    session: id,
                    name: s.session.name.clone(),
                    state: s.state.clone(),
                });
            }
        }
    }
}
