//! The composition root: the one place that wires an engine. A shell hands the builder
//! its MFA prompt and says whether started sessions reach the AWS files; the builder
//! makes the keychain, the STS client, the kernel-keyring copy and the delivery, and
//! [`EngineBuilder::run`] starts the background work (rotation, the workspace watcher, the
//! catalogs' moved-on check and the MFA channel) that lives as long as the returned [`RunningEngine`].
//!
//! The shells subscribe to [`Engine::subscribe`] for events: that is their sink.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::task::JoinHandle;

use super::{Engine, EngineConfig};
use crate::app_sign_in::SignInWindow;
use crate::awsfiles::{AwsFilesConfig, AwsFilesDelivery};
use crate::catalog::CatalogWatcher;
use crate::delivery::{Delivery, NoDelivery};
use crate::error::EngineError;
use crate::mfa::MfaPrompt;
use crate::rotation::{RotationScheduler, WorkspaceWatcher};
use crate::sts::StsApi;

/// How an engine is made: see the module docs.
pub struct EngineBuilder {
    config: EngineConfig,
    prompt: Arc<dyn MfaPrompt>,
    delivery: Arc<dyn Delivery>,
    sts: Option<Arc<dyn StsApi>>,
    saml_sign_in: Option<Arc<dyn crate::saml::SamlSignIn>>,
    sign_in_window: Option<Arc<dyn SignInWindow>>,
}

impl Engine {
    /// An engine on `config`, asking MFA codes through `prompt`. Started sessions reach
    /// no file until [`EngineBuilder::aws_files`] says so.
    pub fn builder(config: EngineConfig, prompt: Arc<dyn MfaPrompt>) -> EngineBuilder {
        EngineBuilder {
            config,
            prompt,
            delivery: Arc::new(NoDelivery),
            sts: None,
            saml_sign_in: None,
            sign_in_window: None,
        }
    }
}

impl EngineBuilder {
    /// Started sessions' credentials go to the shared AWS files (`AWS_CONFIG_FILE`,
    /// `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/`); `credential_process` lines run
    /// `cli`, an absolute path. Without one, credential_process mode is refused and
    /// credentials-file mode still works.
    pub fn aws_files(mut self, cli: Option<PathBuf>) -> Self {
        let files = AwsFilesConfig::from_env(
            self.config.home.clone(),
            self.config.keychain(),
            cli.unwrap_or_default(),
        );
        self.delivery = Arc::new(AwsFilesDelivery::new(files));
        self
    }

    /// Started sessions' credentials go to `delivery` (a test's recorder, or files of
    /// the test's choosing).
    pub fn delivery(mut self, delivery: Arc<dyn Delivery>) -> Self {
        self.delivery = delivery;
        self
    }

    /// STS answered by `sts` instead of AWS: the seam of the engine's rule tests
    /// (`crate::testing`), which need no STS peer.
    #[cfg(feature = "test-support")]
    pub fn sts(mut self, sts: Arc<dyn StsApi>) -> Self {
        self.sts = Some(sts);
        self
    }

    /// How rotation gets a new SAML response for a federated session near its expiry
    /// without asking (the desktop's hidden login window). Without one, such a session
    /// stays active until it expires and the user is told once.
    pub fn saml_sign_in(mut self, sign_in: Arc<dyn crate::saml::SamlSignIn>) -> Self {
        self.saml_sign_in = Some(sign_in);
        self
    }

    /// The app's login window, with which the MFA channel of [`EngineBuilder::run`]
    /// also answers the command line's federated sign-ins ([`crate::app_sign_in`]).
    pub fn sign_in_window(mut self, window: Arc<dyn SignInWindow>) -> Self {
        self.sign_in_window = Some(window);
        self
    }

    /// The engine alone: no background work. Short-lived hosts (the CLI) use this.
    pub async fn open(self) -> Result<Engine, EngineError> {
        let mut engine =
            Engine::assemble(self.config, self.prompt, self.delivery, self.sts).await?;
        engine.saml_sign_in = self.saml_sign_in;
        Ok(engine)
    }

    /// The engine with its background work: sessions rotated before they expire,
    /// another process's changes to the workspace announced, and (on Unix) the MFA
    /// channel on which Rolehop's command line asks this process's prompt for codes.
    /// A channel that cannot open is logged; the rest runs without it.
    pub async fn run(self) -> Result<RunningEngine, EngineError> {
        let prompt = self.prompt.clone();
        let sign_in_window = self.sign_in_window.clone();
        let engine = Arc::new(self.open().await?);
        let tasks = vec![
            RotationScheduler::spawn(engine.clone()),
            WorkspaceWatcher::spawn(engine.clone()),
            CatalogWatcher::spawn(engine.clone(), CatalogWatcher::every_from_env()),
        ];
        #[cfg(unix)]
        let mfa_channel = {
            let config = engine.config();
            // The channel checks each request against this engine's workspace.
            let started = crate::agent::AgentServer::start_with_sign_in(
                config.runtime_dir(),
                engine.clone(),
                prompt,
                config.mfa_timeout,
                sign_in_window,
            );
            match started.await {
                Ok(server) => Some(server),
                Err(e) => {
                    tracing::warn!(
                        "the command line cannot ask for MFA codes through this app: {e}"
                    );
                    None
                }
            }
        };
        #[cfg(not(unix))]
        drop((prompt, sign_in_window));
        Ok(RunningEngine {
            engine,
            tasks,
            #[cfg(unix)]
            mfa_channel: std::sync::Mutex::new(mfa_channel),
        })
    }
}

/// An engine and its background work. Dropping it (or [`RunningEngine::shut_down`])
/// stops the work and closes the MFA channel (its socket and secret file removed).
pub struct RunningEngine {
    engine: Arc<Engine>,
    tasks: Vec<JoinHandle<()>>,
    #[cfg(unix)]
    mfa_channel: std::sync::Mutex<Option<crate::agent::AgentServer>>,
}

impl RunningEngine {
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// Whether the command line can ask this process's prompt for MFA codes.
    pub fn has_mfa_channel(&self) -> bool {
        #[cfg(unix)]
        return self.mfa_channel.lock().expect("mfa channel").is_some();
        #[cfg(not(unix))]
        false
    }

    /// Stops the background work and closes the MFA channel now (an app's exit, where
    /// the value itself may never be dropped).
    pub fn shut_down(&self) {
        for task in &self.tasks {
            task.abort();
        }
        #[cfg(unix)]
        self.mfa_channel.lock().expect("mfa channel").take();
    }
}

impl Drop for RunningEngine {
    fn drop(&mut self) {
        self.shut_down();
    }
}
