//! Rolehop's engine in the test's own process, on the test's peers: what the suites that
//! drive `rolehop_core::Engine` directly share (engine_chain, sts_faults, rotation_soak,
//! cli_logs, cli_kernel_cache).
//!
//! The order matters and is kept here once: the peers start and this process's keychain
//! is pointed at the private keyring before any thread exists (nextest runs each test in
//! its own process), then a runtime starts, then the engine opens on it.
//! [`SeededEngine`] is where engine_chain's tests start: an engine holding the seed's
//! story, each test saying only what it changes.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rolehop_core::delivery::{Delivery, NoDelivery};
use rolehop_core::mfa::{MfaError, MfaFuture, MfaPrompt, MfaRequest};
use rolehop_core::{Engine, NewIamUser, NewRole};
use rolehop_e2e::Peers;
use zeroize::Zeroizing;

/// The staging account of the seed's story (alice and CodeBuildRole).
pub const STAGING: &str = "111111111111";
/// The production account of the seed's story (ResourceDeployCAR).
pub const PRODUCTION: &str = "222222222222";

/// moto and a private gnome-keyring, with this process's keychain pointed at the
/// keyring. Call it first thing in the test, before any thread exists.
pub fn peers() -> Peers {
    let peers = Peers::builder()
        .with_moto()
        .with_secret_service()
        .start()
        .expect("peers start");
    // SAFETY: the caller is first thing in its test, before any thread exists (nextest
    // runs each test in its own process).
    unsafe { peers.secret_service().export_to_this_process() };
    peers
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Answers MFA requests with a fixed answer (a code, or an error) after a delay, and
/// records the devices asked about: a test counts its prompts with it.
pub struct CountingPrompt {
    asked: Mutex<Vec<String>>,
    delay: Duration,
    answer: Result<&'static str, MfaError>,
}

impl CountingPrompt {
    /// Answers `code` at once.
    pub fn answering(code: &'static str) -> Arc<Self> {
        Self::answering_after(Duration::ZERO, code)
    }

    /// Answers `code` after `delay`, as a person typing it would.
    pub fn answering_after(delay: Duration, code: &'static str) -> Arc<Self> {
        Arc::new(Self {
            asked: Default::default(),
            delay,
            answer: Ok(code),
        })
    }

    /// Fails every request with `error` (a cancel, or a prompt that must not be asked).
    pub fn failing(error: MfaError) -> Arc<Self> {
        Arc::new(Self {
            asked: Default::default(),
            delay: Duration::ZERO,
            answer: Err(error),
        })
    }

    /// How many times a code was asked for.
    pub fn count(&self) -> usize {
        self.serials().len()
    }

    /// The MFA devices asked about, in order.
    pub fn serials(&self) -> Vec<String> {
        self.asked.lock().expect("asked").clone()
    }
}

impl MfaPrompt for CountingPrompt {
    fn ask(&self, request: MfaRequest) -> MfaFuture {
        self.asked.lock().expect("asked").push(request.mfa_serial);
        let (delay, answer) = (self.delay, self.answer.clone());
        Box::pin(async move {
            tokio::time::sleep(delay).await;
            answer.map(|c| Zeroizing::new(c.to_owned()))
        })
    }
}

/// An engine on `peers` (its home, its keychain service, STS at moto) that delivers
/// nothing and asks `prompt` for MFA codes, giving up after 30 s.
pub async fn open(peers: &Peers, prompt: Arc<dyn MfaPrompt>) -> Engine {
    let sts = Some(peers.moto().endpoint());
    open_with(peers, sts, prompt, Arc::new(NoDelivery)).await
}

async fn open_with(
    peers: &Peers,
    sts_endpoint: Option<String>,
    prompt: Arc<dyn MfaPrompt>,
    delivery: Arc<dyn Delivery>,
) -> Engine {
    let config = peers
        .home()
        .engine_config(sts_endpoint, Duration::from_secs(30));
    Engine::builder(config, prompt)
        .delivery(delivery)
        .open()
        .await
        .expect("engine opens")
}

/// alice's keys, as moto made them.
pub struct Seed {
    pub user_secret: String,
    pub user_key_id: String,
}

/// Adds the seed's story to `engine`: alice (IAM user with MFA, staging) →
/// CodeBuildRole (staging) → ResourceDeployCAR (production, session name `deployer`,
/// external id `rolehop-ext-1`), as sessions alice, codebuild and deploy.
pub async fn seed(engine: &Engine, peers: &Peers) -> Seed {
    let alice = peers.moto().create_user("alice").unwrap();
    engine
        .add_iam_user(
            NewIamUser {
                console: Default::default(),
                name: "alice".into(),
                profile: "staging-identity".into(),
                region: Some("eu-west-1".into()),
                mfa_serial: Some(format!("arn:aws:iam::{STAGING}:mfa/alice")),
                session_duration: Some(3600),
            },
            alice.access_keys(),
        )
        .await
        .unwrap();
    engine
        .add_role(NewRole {
            name: "codebuild".into(),
            profile: "staging-codebuild".into(),
            parent: "alice".into(),
            role_arn: format!("arn:aws:iam::{STAGING}:role/CodeBuildRole"),
            ..Default::default()
        })
        .await
        .unwrap();
    engine
        .add_role(NewRole {
            name: "deploy".into(),
            profile: "production".into(),
            parent: "codebuild".into(),
            role_arn: format!("arn:aws:iam::{PRODUCTION}:role/ResourceDeployCAR"),
            role_session_name: Some("deployer".into()),
            external_id: Some("rolehop-ext-1".into()),
            duration: Some(3600),
            ..Default::default()
        })
        .await
        .unwrap();
    Seed {
        user_secret: alice.secret_access_key,
        user_key_id: alice.access_key_id,
    }
}

/// What an engine_chain test starts from: its peers, an engine on them asking `prompt`
/// for MFA codes, and the seed's story in it (`seed` is `None` only for
/// [`Setup::without_seed`]). `SeededEngine::run` gives the usual one; `SeededEngine::setup`
/// changes a part of it first.
pub struct SeededEngine<'a> {
    pub peers: &'a Peers,
    pub engine: Engine,
    pub prompt: Arc<CountingPrompt>,
    pub seed: Option<Seed>,
}

impl SeededEngine<'_> {
    /// Runs `test` on the usual start: STS at moto, MFA answered with 123456, nothing
    /// delivered, the story seeded.
    pub fn run(test: impl AsyncFnOnce(SeededEngine<'_>)) {
        Self::setup().run(test)
    }

    /// The peers started, the engine not yet opened: a test may set its process's
    /// environment from the peers, and change the engine's parts, before `.run`.
    pub fn setup() -> Setup {
        let peers = peers();
        let sts_endpoint = Some(peers.moto().endpoint());
        Setup {
            peers,
            prompt: CountingPrompt::answering("123456"),
            sts_endpoint,
            delivery: Arc::new(NoDelivery),
            seeded: true,
        }
    }
}

/// A [`SeededEngine`] before its engine opens.
#[must_use = "call .run()"]
pub struct Setup {
    peers: Peers,
    prompt: Arc<CountingPrompt>,
    sts_endpoint: Option<String>,
    delivery: Arc<dyn Delivery>,
    seeded: bool,
}

impl Setup {
    pub fn peers(&self) -> &Peers {
        &self.peers
    }

    pub fn prompt(self, prompt: Arc<CountingPrompt>) -> Self {
        Self { prompt, ..self }
    }

    /// The engine's own STS endpoint setting (moto's by default).
    pub fn sts_endpoint(self, sts_endpoint: Option<String>) -> Self {
        Self {
            sts_endpoint,
            ..self
        }
    }

    pub fn delivery(self, delivery: Arc<dyn Delivery>) -> Self {
        Self { delivery, ..self }
    }

    /// No story: the engine starts empty.
    pub fn without_seed(self) -> Self {
        Self {
            seeded: false,
            ..self
        }
    }

    /// Starts the runtime (its threads start here, after the set-up above), opens the
    /// engine, seeds it, and runs `test` on it. The runtime, and any task the test left
    /// running, ends before the peers stop.
    pub fn run(self, test: impl AsyncFnOnce(SeededEngine<'_>)) {
        let Self {
            peers,
            prompt,
            sts_endpoint,
            delivery,
            seeded,
        } = self;
        // Declared after the peers, so dropped (its tasks with it) before them.
        let runtime = runtime();
        runtime.block_on(async {
            let engine = open_with(&peers, sts_endpoint, prompt.clone(), delivery).await;
            let seed = if seeded {
                Some(seed(&engine, &peers).await)
            } else {
                None
            };
            test(SeededEngine {
                peers: &peers,
                engine,
                prompt,
                seed,
            })
            .await
        });
    }
}
