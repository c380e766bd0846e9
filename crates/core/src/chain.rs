//! Credentials for any session, as a chain of small providers that wrap each other
//! (aws-vault's shape): the IAM user's keys from the keychain, a session-token provider
//! around them, an assume-role provider around any parent, and a cache around each hop.
//! A chain of any depth is just composition.
//!
//! The cache is single-flight per session: two starts whose chains share an MFA user
//! wait on the same lock, so the second finds the first's token and nobody is asked
//! twice. Cached credentials live in memory and in the keychain (a new CLI process
//! reuses a token the desktop app obtained, and never re-prompts). Across processes, an
//! MFA user's hop also takes that user's lock file before prompting ([`crate::mfa_lock`])
//! and looks in the keychain again once it holds it: of several processes needing one
//! MFA user at once, one prompts and the others use its token.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use tracing::Instrument;
use zeroize::Zeroizing;

use crate::credentials::Credentials;
use crate::keychain::{Keychain, KeychainError};
use crate::login_session::{self, LoginToken, SigninClient};
use crate::mfa::{MfaError, MfaPrompt, MfaRequest};
use crate::model::{
    ChainedRole, DEFAULT_ROLE_SECONDS, Failure, FailureCode, IamUser, SamlRole, Session, SessionId,
    SessionKind, SsoRole,
};
use crate::saml::SamlResponse;
use crate::sso::{Integration, LoginStatus, SsoAccess, SsoPortal, TokenError};
use crate::sts::{AssumeRoleParams, MfaToken, SamlParams, StsClient, StsError};
use crate::validate;
use crate::workspace::{StoredSession, Workspace};

/// Keychain account holding an IAM user's long-lived keys.
pub fn access_keys_account(id: SessionId) -> String {
    format!("access-keys:{id}")
}

/// Keychain account holding a session's cached temporary credentials.
pub fn cache_account(id: SessionId) -> String {
    format!("cached-credentials:{id}")
}

/// Why a chain could not produce credentials, and at which hop.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{hop}: {cause}")]
pub struct ChainError {
    /// Name of the session (hop) that failed.
    pub hop: String,
    pub cause: ChainFailure,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ChainFailure {
    #[error(transparent)]
    Sts(StsError),
    #[error(transparent)]
    Mfa(MfaError),
    #[error("the MFA code {0}")]
    BadMfaCode(String),
    #[error(transparent)]
    Keychain(KeychainError),
    #[error("no access keys in the keychain for this IAM user; add them again")]
    MissingKeys,
    #[error("its parent session no longer exists")]
    MissingParent,
    /// The SSO portal's token is missing, expired or refused: a person must log in.
    #[error("{0}")]
    SsoLogin(String),
    #[error("its IAM Identity Center integration no longer exists")]
    MissingIntegration,
    /// A federated hop has no SAML response, or one that does not grant its role.
    #[error("{0}")]
    SamlSignIn(String),
    /// The console sign-in session's token is missing, ended or refused: a person must
    /// sign in with `aws login` again, and import it.
    #[error(
        "{0}; sign in again with `rolehop session login <session>` (or `aws login`, then \
         `rolehop import aws-config`)"
    )]
    ConsoleLogin(String),
}

impl ChainError {
    /// The failure as shown on a session: a code and a message naming the hop when the
    /// failure was further up the chain than `target`.
    pub fn failure(&self, target: &str) -> Failure {
        let code = match &self.cause {
            ChainFailure::Sts(e) => FailureCode::from_code(&e.code),
            ChainFailure::Mfa(MfaError::Cancelled) => FailureCode::MfaCancelled,
            ChainFailure::Mfa(MfaError::Timeout { .. }) => FailureCode::MfaTimeout,
            ChainFailure::Mfa(MfaError::Unavailable(_)) => FailureCode::MfaRequired,
            ChainFailure::BadMfaCode(_) => FailureCode::InvalidMfaCode,
            ChainFailure::Keychain(_) => FailureCode::KeychainError,
            ChainFailure::MissingKeys => FailureCode::MissingAccessKeys,
            ChainFailure::MissingParent | ChainFailure::MissingIntegration => {
                FailureCode::MissingParent
            }
            ChainFailure::SsoLogin(_) => FailureCode::SsoLoginRequired,
            ChainFailure::SamlSignIn(_) => FailureCode::SamlSignInRequired,
            ChainFailure::ConsoleLogin(_) => FailureCode::ConsoleLoginRequired,
        };
        let detail = match &self.cause {
            ChainFailure::Sts(e) => e.message.clone(),
            other => other.to_string(),
        };
        let message = if self.hop == target {
            detail
        } else {
            format!("via '{}': {detail}", self.hop)
        };
        Failure::new(code, message)
    }
}

/// How a resolution may behave.
#[derive(Clone)]
pub struct ResolveOptions {
    /// Who answers MFA requests for this resolution.
    pub mfa: Arc<dyn MfaPrompt>,
    pub mfa_timeout: Duration,
    /// The session the user asked for (named in MFA prompts).
    pub for_session: String,
    /// Skip the cache for this session (rotation wants fresh credentials for the leaf).
    pub refresh: Option<SessionId>,
    /// Credentials must stay valid at least this long to be reused.
    pub min_validity: chrono::Duration,
    /// The SAML response a federated hop of this resolution signs in with, when one
    /// was given (a secret of this start only: never cached or stored).
    pub saml: Option<Arc<SamlResponse>>,
}

type ProvideFuture<'a> = Pin<Box<dyn Future<Output = Result<Credentials, ChainError>> + Send + 'a>>;

/// One hop of a chain.
pub trait ProvideCredentials: Send + Sync {
    fn provide<'a>(&'a self, opts: &'a ResolveOptions) -> ProvideFuture<'a>;
}

/// The memory half of the cache plus the per-session single-flight locks.
#[derive(Default)]
struct CacheState {
    memory: Mutex<Memory>,
    locks: Mutex<HashMap<SessionId, Arc<tokio::sync::Mutex<()>>>>,
    /// Keychain writes still in flight (write-behind: the caller does not wait for the
    /// keychain's disk write; [`ChainResolver::flush`] does).
    writes: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

/// Credentials in memory, and how many times each session's were dropped.
///
/// A resolution notes a session's drop count when its hop begins and caches what it
/// got (in memory, then in the keychain) only if the count is unchanged: credentials
/// fetched or read while [`ChainResolver::drop_cached`] ran (a logout during a
/// background rotation) are used by that resolution but never cached again.
#[derive(Default)]
struct Memory {
    credentials: HashMap<SessionId, Credentials>,
    drops: HashMap<SessionId, u64>,
}

impl Memory {
    fn drops(&self, id: SessionId) -> u64 {
        self.drops.get(&id).copied().unwrap_or(0)
    }

    fn valid(&self, id: SessionId, now: chrono::DateTime<Utc>, min: chrono::Duration) -> bool {
        self.credentials
            .get(&id)
            .is_some_and(|c| c.valid_for(now, min))
    }
}

impl CacheState {
    fn memory(&self) -> std::sync::MutexGuard<'_, Memory> {
        self.memory.lock().expect("cache")
    }

    /// Drops `ids`' credentials from memory and counts the drop: what a resolution in
    /// flight gets for them is not cached.
    fn drop_from_memory(&self, ids: &[SessionId]) {
        let mut memory = self.memory();
        for id in ids {
            memory.credentials.remove(id);
            *memory.drops.entry(*id).or_default() += 1;
        }
    }

    /// Keeps `creds` for `id` in memory unless its copies were dropped since `seen`.
    fn remember(&self, id: SessionId, seen: u64, creds: &Credentials) -> bool {
        let mut memory = self.memory();
        let current = memory.drops(id) == seen;
        if current {
            memory.credentials.insert(id, creds.clone());
        }
        current
    }
}

/// Builds provider chains for sessions and owns what they share.
#[derive(Clone)]
pub struct ChainResolver {
    sts: Arc<StsClient>,
    sso: SsoAccess,
    signin: SigninClient,
    keychain: Keychain,
    cache: Arc<CacheState>,
    /// Where MFA users' lock files live; `None`: prompts are single-flight within this
    /// process only.
    mfa_locks: Option<Arc<std::path::Path>>,
}

impl ChainResolver {
    pub fn new(sts: Arc<StsClient>, keychain: Keychain) -> Self {
        Self {
            sts,
            sso: SsoAccess::new(SsoPortal::default(), keychain.clone()),
            signin: SigninClient::default(),
            keychain,
            cache: Arc::default(),
            mfa_locks: None,
        }
    }

    /// Takes MFA users' lock files in `dir` (see [`crate::mfa_lock`]), so processes
    /// sharing this directory prompt once per MFA user.
    pub fn with_mfa_lock_dir(mut self, dir: std::path::PathBuf) -> Self {
        self.mfa_locks = Some(dir.into());
        self
    }

    pub fn sts(&self) -> &StsClient {
        &self.sts
    }

    /// The `signin` service the console sign-in hops refresh through.
    pub fn signin(&self) -> &SigninClient {
        &self.signin
    }

    /// The IAM Identity Center tokens and portal the SSO role hops use.
    pub fn sso(&self) -> &SsoAccess {
        &self.sso
    }

    /// Credentials for session `id`, reusing every valid cached hop.
    pub async fn resolve(
        &self,
        ws: &Workspace,
        id: SessionId,
        opts: &ResolveOptions,
    ) -> Result<Credentials, ChainError> {
        let ahead = self
            .read_ahead(ws, id, opts.refresh, opts.min_validity)
            .await;
        self.resolve_read_ahead(ws, id, opts, ahead).await
    }

    /// Reads from the keychain, in one batch, what resolving `id` may need: every hop's
    /// cache entry up to the first hop valid in memory, and the IAM user's keys. What is
    /// needed is decided now (from `ws` and the memory cache), so the returned future
    /// owns all it uses: a start runs it while its claim is being written. A failed
    /// batch only means each hop reads (and reports) its own entry.
    pub fn read_ahead(
        &self,
        ws: &Workspace,
        id: SessionId,
        refresh: Option<SessionId>,
        min_validity: chrono::Duration,
    ) -> impl Future<Output = ReadAhead> + Send + use<> {
        let prefetched = Prefetched::deferring_writes();
        let (accounts, user) = self.cache_lookups(ws, id, refresh, min_validity);
        // The MFA user's lock stamp is read before the keychain is (see
        // `CachedProvider::take_prompt_lock`).
        if let Some(user) = user
            && let Some(path) = self.mfa_lock_path(&user.session)
        {
            let seen = crate::mfa_lock::stamp(&path);
            let mut stamps = prefetched.stamps.lock().expect("stamps");
            stamps.insert(user.session.id, seen);
        }
        let keychain = self.keychain.clone();
        async move {
            if !accounts.is_empty()
                && let Ok(found) = keychain.get_many_async(&accounts).await
            {
                prefetched.put(accounts.into_iter().zip(found));
            }
            ReadAhead(Arc::new(prefetched))
        }
    }

    /// [`Self::resolve`] with the keychain reads of a [`Self::read_ahead`] of the same
    /// session.
    pub async fn resolve_read_ahead(
        &self,
        ws: &Workspace,
        id: SessionId,
        opts: &ResolveOptions,
        ahead: ReadAhead,
    ) -> Result<Credentials, ChainError> {
        let prefetched = ahead.0;
        let provider = self.provider_at(ws, id, 0, &prefetched)?;
        let resolved = provider.provide(opts).await;
        // The hops' keychain cache writes start once the chain is resolved, not while
        // its later STS calls run (they would compete with them for the CPU), and even
        // when a later hop failed: a fresh MFA session token is worth keeping.
        write_behind(
            &self.keychain,
            self.cache.clone(),
            prefetched.take_deferred(),
        );
        resolved
    }

    /// The keychain entries a resolution of `id` may read, nearest hop first: every
    /// hop's cache entry up to the first whose credentials are valid in memory
    /// (`refresh` skips its hop's), and the keys of the IAM user if the walk reaches it
    /// (it may need them for a new token); with that user.
    fn cache_lookups<'w>(
        &self,
        ws: &'w Workspace,
        id: SessionId,
        refresh: Option<SessionId>,
        min_validity: chrono::Duration,
    ) -> (Vec<String>, Option<&'w StoredSession>) {
        let now = Utc::now();
        let memory = self.cache.memory();
        let (mut accounts, mut user) = (Vec::new(), None);
        let mut hop = ws.get(id);
        let mut depth = 0;
        while let Some(stored) = hop.filter(|_| depth <= ws.sessions.len()) {
            let id = stored.session.id;
            if refresh != Some(id) {
                if memory.valid(id, now, min_validity) {
                    break;
                }
                accounts.push(cache_account(id));
            }
            match stored.session.kind {
                SessionKind::IamUser(_) => {
                    accounts.push(access_keys_account(id));
                    user = Some(stored);
                }
                SessionKind::LoginSession(_) => accounts.push(login_session::token_account(id)),
                SessionKind::Role(_) | SessionKind::SsoRole(_) | SessionKind::Saml(_) => {}
            }
            hop = stored.session.kind.parent().and_then(|p| ws.get(p));
            depth += 1;
        }
        (accounts, user)
    }

    /// The lock file of `session` if it is an IAM user with an MFA device and this
    /// resolver takes MFA locks (see [`crate::mfa_lock`]).
    fn mfa_lock_path(&self, session: &Session) -> Option<std::path::PathBuf> {
        match (&session.kind, &self.mfa_locks) {
            (SessionKind::IamUser(user), Some(dir)) if user.mfa_serial.is_some() => {
                Some(crate::mfa_lock::lock_path(dir, session.id))
            }
            _ => None,
        }
    }

    /// Waits until every cached credential is written to the keychain.
    pub async fn flush(&self) {
        let writes = std::mem::take(&mut *self.cache.writes.lock().expect("cache writes"));
        for w in writes {
            let _ = w.await;
        }
    }

    /// Drops sessions' cached credentials from memory and from the keychain, in the
    /// order given, going on past a failed deletion (each is given back). A resolution
    /// in flight in this process caches nothing more for them (see [`Memory`]), and the
    /// keychain writes already queued are waited for first, so none puts a copy back.
    ///
    /// Which sessions, and when, is the engine's to decide, in one place
    /// (`engine/forget.rs`); nothing else in the core calls this.
    pub async fn drop_cached(&self, ids: &[SessionId]) -> Vec<(SessionId, KeychainError)> {
        self.cache.drop_from_memory(ids);
        self.flush().await;
        let mut failed = Vec::new();
        for id in ids {
            if let Err(e) = self.keychain.delete_async(&cache_account(*id)).await {
                failed.push((*id, e));
            }
        }
        failed
    }

    /// Drops one session's cached credentials (memory and keychain): a cold chain for
    /// a benchmark. The engine drops copies through `Engine::forget_copies` only.
    #[cfg(feature = "test-support")]
    pub async fn forget(&self, id: SessionId) -> Result<(), KeychainError> {
        match self.drop_cached(&[id]).await.pop() {
            Some((_, e)) => Err(e),
            None => Ok(()),
        }
    }

    fn provider_at(
        &self,
        ws: &Workspace,
        id: SessionId,
        depth: usize,
        prefetched: &Arc<Prefetched>,
    ) -> Result<Box<dyn ProvideCredentials>, ChainError> {
        // The workspace refuses cycles; the depth guard only protects against a
        // hand-edited file.
        let Some(stored) = ws.get(id).filter(|_| depth <= ws.sessions.len()) else {
            return Err(ChainError {
                hop: id.to_string(),
                cause: ChainFailure::MissingParent,
            });
        };
        let session = stored.session.clone();
        let region = ws.region_of(&session);
        let inner: Box<dyn ProvideCredentials> = match &session.kind {
            SessionKind::IamUser(user) => Box::new(SessionTokenProvider {
                user: user.clone(),
                session: session.clone(),
                region,
                keychain: self.keychain.clone(),
                prefetched: prefetched.clone(),
                sts: self.sts.clone(),
            }),
            SessionKind::Role(role) => Box::new(AssumeRoleProvider {
                parent: self
                    .provider_at(ws, role.parent, depth + 1, prefetched)
                    .map_err(|e| ChainError {
                        hop: session.name.clone(),
                        cause: e.cause,
                    })?,
                role: role.clone(),
                session: session.clone(),
                region,
                sts: self.sts.clone(),
            }),
            SessionKind::SsoRole(role) => Box::new(SsoRoleProvider {
                integration: ws.integration_by_id(role.integration).cloned(),
                role: role.clone(),
                session: session.clone(),
                sso: self.sso.clone(),
            }),
            SessionKind::Saml(role) => Box::new(SamlRoleProvider {
                role: role.clone(),
                session: session.clone(),
                region,
                sts: self.sts.clone(),
            }),
            SessionKind::LoginSession(_) => Box::new(LoginSessionProvider {
                session: session.clone(),
                region,
                keychain: self.keychain.clone(),
                prefetched: prefetched.clone(),
                signin: self.signin.clone(),
            }),
        };
        // The lock's stamp is read now, before this hop first looks in the keychain
        // (see `CachedProvider::take_prompt_lock`).
        let prompt_lock = self.mfa_lock_path(&session).map(|path| {
            let ahead = prefetched
                .stamps
                .lock()
                .expect("stamps")
                .remove(&session.id);
            let seen = ahead.unwrap_or_else(|| crate::mfa_lock::stamp(&path));
            PromptLock { path, seen }
        });
        Ok(Box::new(CachedProvider {
            session,
            inner,
            keychain: self.keychain.clone(),
            cache: self.cache.clone(),
            prefetched: prefetched.clone(),
            prompt_lock,
        }))
    }
}

/// A keychain cache entry to write.
struct CacheWrite {
    account: String,
    json: Zeroizing<String>,
    /// The session and its drop count when its hop began: a write whose session's
    /// copies were dropped since is not made.
    session: SessionId,
    drops: u64,
    /// The MFA user's prompt lock, held until the token is stored (and then stamped):
    /// another process waiting on it must find the token once it is released.
    lock: Option<crate::durable::LockFile>,
}

/// Writes fresh credentials to the keychain in the background, one after another
/// ([`ChainResolver::flush`] waits for them). A failed write only costs a later re-fetch
/// (or, for an MFA token, a prompt in the process that waited on its lock).
fn write_behind(keychain: &Keychain, cache: Arc<CacheState>, entries: Vec<CacheWrite>) {
    if entries.is_empty() {
        return;
    }
    let keychain = keychain.clone();
    let state = cache.clone();
    let write = tokio::spawn(async move {
        for entry in entries {
            if state.memory().drops(entry.session) != entry.drops {
                tracing::debug!("not cached: the session's copies were dropped meanwhile");
                continue;
            }
            match keychain.set_async(&entry.account, entry.json).await {
                Ok(()) => {
                    if let Some(lock) = &entry.lock {
                        crate::mfa_lock::mark_stored(lock);
                    }
                }
                Err(e) => tracing::warn!("could not cache credentials in the keychain: {e}"),
            }
            // An MFA user's lock is released here, after its token's write.
        }
    });
    let mut writes = cache.writes.lock().expect("cache writes");
    writes.retain(|w| !w.is_finished());
    writes.push(write);
}

/// One resolution's keychain traffic: the entries read ahead in one batch (each taken
/// once by the hop that needs it; a hop whose entry was not read ahead reads it
/// itself), and, when deferring, the cache writes its hops queue for the end.
#[derive(Default)]
struct Prefetched {
    found: Mutex<HashMap<String, Option<Zeroizing<String>>>>,
    deferred: Mutex<Option<Vec<CacheWrite>>>,
    /// MFA users' lock stamps, as read before the batch.
    stamps: Mutex<HashMap<SessionId, Option<Vec<u8>>>>,
}

/// The keychain reads of one resolution, made ahead of it ([`ChainResolver::read_ahead`]).
pub struct ReadAhead(Arc<Prefetched>);

impl Prefetched {
    fn deferring_writes() -> Self {
        Self {
            deferred: Mutex::new(Some(Vec::new())),
            ..Self::default()
        }
    }

    fn put(&self, found: impl IntoIterator<Item = (String, Option<Zeroizing<String>>)>) {
        self.found.lock().expect("prefetched").extend(found);
    }

    /// Queues a cache write for the end of the resolution; gives it back when this
    /// resolution does not defer its writes.
    fn defer(&self, write: CacheWrite) -> Option<CacheWrite> {
        match self.deferred.lock().expect("deferred writes").as_mut() {
            Some(queue) => {
                queue.push(write);
                None
            }
            None => Some(write),
        }
    }

    fn take_deferred(&self) -> Vec<CacheWrite> {
        self.deferred
            .lock()
            .expect("deferred writes")
            .take()
            .unwrap_or_default()
    }

    async fn get(
        &self,
        keychain: &Keychain,
        account: String,
    ) -> Result<Option<Zeroizing<String>>, KeychainError> {
        let ahead = self.found.lock().expect("prefetched").remove(&account);
        match ahead {
            Some(found) => Ok(found),
            None => Ok(keychain.get_many_async(&[account]).await?.pop().flatten()),
        }
    }
}

/// Caches a hop's credentials in memory and in the keychain, single-flight.
struct CachedProvider {
    session: Session,
    inner: Box<dyn ProvideCredentials>,
    keychain: Keychain,
    cache: Arc<CacheState>,
    prefetched: Arc<Prefetched>,
    /// The MFA user's lock file, for a hop that may prompt.
    prompt_lock: Option<PromptLock>,
}

/// An MFA user's lock file and its stamp as this hop first saw it.
struct PromptLock {
    path: std::path::PathBuf,
    seen: Option<Vec<u8>>,
}

impl CachedProvider {
    fn err(&self, cause: ChainFailure) -> ChainError {
        ChainError {
            hop: self.session.name.clone(),
            cause,
        }
    }

    async fn run(&self, opts: &ResolveOptions) -> Result<Credentials, ChainError> {
        let id = self.session.id;
        let lock = self
            .cache
            .locks
            .lock()
            .expect("cache locks")
            .entry(id)
            .or_default()
            .clone();
        let _flight = lock.lock().await;
        let now = Utc::now();
        let drops = self.cache.memory().drops(id);
        if opts.refresh != Some(id) {
            let hit = self.cache.memory().credentials.get(&id).cloned();
            if let Some(c) = hit.filter(|c| c.valid_for(now, opts.min_validity)) {
                tracing::debug!(hop = %self.session.name, "credentials reused from memory");
                return Ok(c);
            }
            let stored = self
                .prefetched
                .get(&self.keychain, cache_account(id))
                .await
                .map_err(|e| self.err(ChainFailure::Keychain(e)))?;
            if let Some(c) = self.remember_valid(stored, opts, drops) {
                tracing::debug!(hop = %self.session.name, "credentials reused from the keychain");
                return Ok(c);
            }
        }
        let held = match &self.prompt_lock {
            Some(lock) => match self.take_prompt_lock(lock, opts, drops).await? {
                Held::Cached(c) => return Ok(c),
                Held::Lock(lock) => Some(lock),
                Held::Unlocked => None,
            },
            None => None,
        };
        let fresh = self.inner.provide(opts).await?;
        if !self.cache.remember(id, drops, &fresh) {
            // Dropped while it was fetched (a logout, new keys): used, never cached.
            return Ok(fresh);
        }
        let json = Zeroizing::new(serde_json::to_string(&fresh).expect("credentials serialize"));
        // Write-behind: other processes find the token in the keychain a few ms later
        // (a short-lived host flushes before it exits); this one has it in memory now.
        // An MFA user's lock goes with the write: processes waiting on it look in the
        // keychain once it is released, so it is released only after the write.
        let write = CacheWrite {
            account: cache_account(id),
            json,
            session: id,
            drops,
            lock: held,
        };
        if let Some(now) = self.prefetched.defer(write) {
            write_behind(&self.keychain, self.cache.clone(), vec![now]);
        }
        Ok(fresh)
    }

    /// Stored credentials if they parse and stay valid long enough, kept in memory too
    /// (unless dropped since `drops` was read: then they are not used either, as the
    /// keychain read may have come before the deletion).
    fn remember_valid(
        &self,
        stored: Option<Zeroizing<String>>,
        opts: &ResolveOptions,
        drops: u64,
    ) -> Option<Credentials> {
        let c = serde_json::from_str::<Credentials>(&stored?).ok()?;
        if !c.valid_for(Utc::now(), opts.min_validity) {
            return None;
        }
        self.cache.remember(self.session.id, drops, &c).then_some(c)
    }

    /// Takes the MFA user's lock file before prompting, then looks in the keychain
    /// again if another process stored a token since this hop first looked: a process
    /// that held the lock has usually just stored the token this one needs.
    async fn take_prompt_lock(
        &self,
        prompt: &PromptLock,
        opts: &ResolveOptions,
        drops: u64,
    ) -> Result<Held, ChainError> {
        use crate::mfa_lock::{Taken, take};
        let taken = take(prompt.path.clone(), opts.mfa_timeout, &self.session.name)
            .await
            .map_err(|waited| {
                self.err(ChainFailure::Mfa(MfaError::Timeout {
                    seconds: waited.0.as_secs(),
                }))
            })?;
        let lock = match taken {
            Taken::Held(lock) => lock,
            Taken::Unusable(e) => {
                tracing::warn!(
                    hop = %self.session.name,
                    "cannot use the MFA lock file ({e}); another Rolehop process may ask for the same code"
                );
                return Ok(Held::Unlocked);
            }
        };
        // Looked again under the lock, whether this process waited or not, when the
        // lock's stamp changed since it was read (before this hop's first look): a
        // holder stamps the lock after storing a token and before letting go, so an
        // unchanged stamp means no token was stored since that look.
        let stored_since = crate::mfa_lock::stamp(&prompt.path) != prompt.seen;
        if stored_since && opts.refresh != Some(self.session.id) {
            let stored = self
                .keychain
                .get_many_async(&[cache_account(self.session.id)])
                .await
                .map_err(|e| self.err(ChainFailure::Keychain(e)))?
                .pop()
                .flatten();
            if let Some(c) = self.remember_valid(stored, opts, drops) {
                tracing::info!(hop = %self.session.name, "MFA session token from the other process reused");
                return Ok(Held::Cached(c));
            }
        }
        Ok(Held::Lock(lock))
    }
}

impl ProvideCredentials for CachedProvider {
    fn provide<'a>(&'a self, opts: &'a ResolveOptions) -> ProvideFuture<'a> {
        Box::pin(self.run(opts))
    }
}

/// What taking an MFA user's prompt lock gave.
enum Held {
    /// Another process's fresh token, found under the lock: no prompt.
    Cached(Credentials),
    /// The lock, held until the new token is in the keychain.
    Lock(crate::durable::LockFile),
    /// No lock file to be had: prompt as a single process would.
    Unlocked,
}

/// `GetSessionToken` with the IAM user's keys, asking for MFA when the user has a device.
struct SessionTokenProvider {
    user: IamUser,
    session: Session,
    region: Option<String>,
    keychain: Keychain,
    /// The keys come from the resolution's batch when it read them ahead.
    prefetched: Arc<Prefetched>,
    sts: Arc<StsClient>,
}

impl SessionTokenProvider {
    fn err(&self, cause: ChainFailure) -> ChainError {
        ChainError {
            hop: self.session.name.clone(),
            cause,
        }
    }

    #[tracing::instrument(name = "sts", skip_all, fields(hop = %self.session.name))]
    async fn run(&self, opts: &ResolveOptions) -> Result<Credentials, ChainError> {
        let keys = self
            .prefetched
            .get(&self.keychain, access_keys_account(self.session.id))
            .await
            .map_err(|e| self.err(ChainFailure::Keychain(e)))?
            .ok_or_else(|| self.err(ChainFailure::MissingKeys))?;
        let keys: Credentials =
            serde_json::from_str(&keys).map_err(|_| self.err(ChainFailure::MissingKeys))?;
        let code = match &self.user.mfa_serial {
            None => None,
            Some(serial) => {
                let request = MfaRequest {
                    request_id: uuid::Uuid::new_v4(),
                    session: self.session.id,
                    session_name: self.session.name.clone(),
                    mfa_serial: serial.clone(),
                    for_session: opts.for_session.clone(),
                };
                let code = tokio::time::timeout(opts.mfa_timeout, opts.mfa.ask(request))
                    .await
                    .map_err(|_| {
                        self.err(ChainFailure::Mfa(MfaError::Timeout {
                            seconds: opts.mfa_timeout.as_secs(),
                        }))
                    })?
                    .map_err(|e| self.err(ChainFailure::Mfa(e)))?;
                validate::mfa_code("mfa_code", &code)
                    .map_err(|e| self.err(ChainFailure::BadMfaCode(e.message)))?;
                Some((serial.as_str(), code))
            }
        };
        self.sts
            .get_session_token(
                &keys,
                self.region.as_deref(),
                self.user.session_duration,
                code.as_ref()
                    .map(|(serial, code)| MfaToken { serial, code }),
            )
            .await
            .map_err(|e| self.err(ChainFailure::Sts(e)))
    }
}

impl ProvideCredentials for SessionTokenProvider {
    fn provide<'a>(&'a self, opts: &'a ResolveOptions) -> ProvideFuture<'a> {
        Box::pin(self.run(opts))
    }
}

/// `AssumeRole` signed with whatever the parent hop provides.
struct AssumeRoleProvider {
    parent: Box<dyn ProvideCredentials>,
    role: ChainedRole,
    session: Session,
    region: Option<String>,
    sts: Arc<StsClient>,
}

impl AssumeRoleProvider {
    async fn run(&self, opts: &ResolveOptions) -> Result<Credentials, ChainError> {
        let parent = self.parent.provide(opts).await?;
        let default_name = default_role_session_name(&self.session.name);
        let params = AssumeRoleParams {
            role_arn: &self.role.role_arn,
            role_session_name: self
                .role
                .role_session_name
                .as_deref()
                .unwrap_or(&default_name),
            external_id: self.role.external_id.as_deref(),
            duration_seconds: self.role.duration.unwrap_or(DEFAULT_ROLE_SECONDS),
            source_identity: self.role.source_identity.as_deref(),
            tags: &self.role.tags,
            transitive_tag_keys: &self.role.transitive_tag_keys,
        };
        self.sts
            .assume_role(&parent, self.region.as_deref(), &params)
            .instrument(tracing::info_span!("sts", hop = %self.session.name))
            .await
            .map_err(|e| ChainError {
                hop: self.session.name.clone(),
                cause: ChainFailure::Sts(e),
            })
    }
}

impl ProvideCredentials for AssumeRoleProvider {
    fn provide<'a>(&'a self, opts: &'a ResolveOptions) -> ProvideFuture<'a> {
        Box::pin(self.run(opts))
    }
}

/// `GetRoleCredentials` with the integration's portal token (refreshed when due). No
/// MFA: the portal login was the second factor.
struct SsoRoleProvider {
    integration: Option<Integration>,
    role: SsoRole,
    session: Session,
    sso: SsoAccess,
}

impl SsoRoleProvider {
    #[tracing::instrument(name = "sso", skip_all, fields(hop = %self.session.name))]
    async fn run(&self) -> Result<Credentials, ChainError> {
        let err = |cause| ChainError {
            hop: self.session.name.clone(),
            cause,
        };
        let integration = self
            .integration
            .as_ref()
            .ok_or_else(|| err(ChainFailure::MissingIntegration))?;
        let token = self
            .sso
            .access_token(integration)
            .await
            .map_err(|e| match e {
                TokenError::LoginRequired(message) => err(ChainFailure::SsoLogin(message)),
                TokenError::Keychain(k) => err(ChainFailure::Keychain(k)),
                TokenError::Portal(p) => err(ChainFailure::Sts(p)),
            })?;
        self.sso
            .portal()
            .role_credentials(
                &integration.region,
                &token,
                &self.role.account_id,
                &self.role.role_name,
            )
            .await
            .map_err(|e| {
                // The portal no longer takes the token (revoked, or expired early): the
                // integration needs a new login, and says so.
                if e.code == "UnauthorizedException" {
                    self.sso.note(
                        integration.id,
                        LoginStatus::LoginAgain {
                            message: e.message.clone(),
                        },
                    );
                }
                err(ChainFailure::Sts(e))
            })
    }
}

impl ProvideCredentials for SsoRoleProvider {
    fn provide<'a>(&'a self, _: &'a ResolveOptions) -> ProvideFuture<'a> {
        Box::pin(self.run())
    }
}

/// A federated role: `AssumeRoleWithSAML` with the SAML response the resolution was
/// given. Without one it fails asking for a sign-in: a person must sign in at the
/// identity provider (the login window, or `--assertion-file`); nothing here prompts.
struct SamlRoleProvider {
    role: SamlRole,
    session: Session,
    region: Option<String>,
    sts: Arc<StsClient>,
}

impl SamlRoleProvider {
    #[tracing::instrument(name = "saml", skip_all, fields(hop = %self.session.name))]
    async fn run(&self, opts: &ResolveOptions) -> Result<Credentials, ChainError> {
        let err = |message: String| ChainError {
            hop: self.session.name.clone(),
            cause: ChainFailure::SamlSignIn(message),
        };
        let Some(response) = opts.saml.as_deref() else {
            return Err(err(format!(
                "needs a SAML response from its identity provider ({}): sign in there and \
                 give the response with `rolehop session start {} --assertion-file FILE`",
                self.role.idp_url, self.session.name
            )));
        };
        // Checked again here: time passed since the start checked it.
        response
            .check_for(&self.role.role_arn, &self.role.principal_arn, Utc::now())
            .map_err(|e| err(format!("the SAML response {}", e.message)))?;
        let params = SamlParams {
            role_arn: &self.role.role_arn,
            principal_arn: &self.role.principal_arn,
            saml_assertion: response.encoded(),
            duration_seconds: saml_duration(&self.role, response),
        };
        self.sts
            .assume_role_with_saml(self.region.as_deref(), &params)
            .await
            .map_err(|e| ChainError {
                hop: self.session.name.clone(),
                cause: ChainFailure::Sts(e),
            })
    }
}

impl ProvideCredentials for SamlRoleProvider {
    fn provide<'a>(&'a self, opts: &'a ResolveOptions) -> ProvideFuture<'a> {
        Box::pin(self.run(opts))
    }
}

/// An `aws login` console session's credentials: those its token holds while they stay
/// valid long enough, else a refresh through the `signin` service. The refresh token is
/// good once, so the rotated token is in the keychain before its credentials are used.
struct LoginSessionProvider {
    session: Session,
    region: Option<String>,
    keychain: Keychain,
    /// The token comes from the resolution's batch when it read it ahead.
    prefetched: Arc<Prefetched>,
    signin: SigninClient,
}

impl LoginSessionProvider {
    fn err(&self, cause: ChainFailure) -> ChainError {
        ChainError {
            hop: self.session.name.clone(),
            cause,
        }
    }

    /// The token in the keychain, from the batch when `ahead`.
    async fn token(&self, ahead: bool) -> Result<LoginToken, ChainError> {
        let account = login_session::token_account(self.session.id);
        let text = if ahead {
            self.prefetched.get(&self.keychain, account).await
        } else {
            self.keychain.get_async(&account).await
        }
        .map_err(|e| self.err(ChainFailure::Keychain(e)))?
        .ok_or_else(|| {
            self.err(ChainFailure::ConsoleLogin(
                "no console sign-in token in the keychain".into(),
            ))
        })?;
        LoginToken::from_json(&text).map_err(|e| self.err(ChainFailure::ConsoleLogin(e)))
    }

    #[tracing::instrument(name = "signin", skip_all, fields(hop = %self.session.name))]
    async fn run(&self, opts: &ResolveOptions) -> Result<Credentials, ChainError> {
        let token = self.token(true).await?;
        let usable = |t: &LoginToken| {
            opts.refresh != Some(self.session.id)
                && t.credentials().valid_for(Utc::now(), opts.min_validity)
        };
        if usable(&token) {
            return Ok(token.credentials());
        }
        match self
            .signin
            .refresh(&token, self.region.as_deref(), Utc::now())
            .await
        {
            Ok(refreshed) => {
                self.keychain
                    .set_async(
                        &login_session::token_account(self.session.id),
                        refreshed.to_json(),
                    )
                    .await
                    .map_err(|e| self.err(ChainFailure::Keychain(e)))?;
                Ok(refreshed.credentials())
            }
            Err(e) if e.code == "AccessDeniedException" => {
                // Another process may have spent the refresh token first: its rotated
                // token is then in the keychain.
                let again = self.token(false).await?;
                if again.refresh_token != token.refresh_token
                    && again.credentials().valid_for(Utc::now(), opts.min_validity)
                {
                    return Ok(again.credentials());
                }
                Err(self.err(ChainFailure::ConsoleLogin(e.message)))
            }
            Err(e) => Err(self.err(ChainFailure::Sts(e))),
        }
    }
}

impl ProvideCredentials for LoginSessionProvider {
    fn provide<'a>(&'a self, opts: &'a ResolveOptions) -> ProvideFuture<'a> {
        Box::pin(self.run(opts))
    }
}

/// The duration asked of `AssumeRoleWithSAML`: the session's (one hour when unset),
/// capped by the response's `SessionDuration`, which the provider sets as the longest
/// session it allows.
pub fn saml_duration(role: &SamlRole, response: &SamlResponse) -> u32 {
    let asked = role.duration.unwrap_or(DEFAULT_ROLE_SECONDS);
    response
        .session_duration
        .map_or(asked, |cap| asked.min(cap))
}

/// `rolehop-<session name>`, cut down to STS's alphabet and 64 characters.
pub fn default_role_session_name(session_name: &str) -> String {
    let cleaned: String = format!("rolehop-{session_name}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "+=,.@_-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    cleaned
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_role_session_names_are_valid() {
        for name in ["deploy", "prod deploy/ä", &"x".repeat(100)] {
            let n = default_role_session_name(name);
            validate::role_session_name("role_session_name", &n).unwrap();
        }
    }

    #[test]
    fn failures_name_the_hop_that_failed() {
        let e = ChainError {
            hop: "alice".into(),
            cause: ChainFailure::Sts(StsError {
                code: "InvalidClientTokenId".into(),
                message: "The security token included in the request is invalid.".into(),
            }),
        };
        let f = e.failure("deploy");
        assert_eq!(
            f.code,
            FailureCode::Aws {
                code: "InvalidClientTokenId".into()
            }
        );
        assert!(f.message.starts_with("via 'alice': "), "{}", f.message);
        assert!(!e.failure("alice").message.contains("via"));
    }

    #[test]
    fn each_cause_has_its_own_code() {
        let code = |cause| {
            ChainError {
                hop: "alice".into(),
                cause,
            }
            .failure("alice")
            .code
        };
        let sts = |c: &str| {
            ChainFailure::Sts(StsError {
                code: c.into(),
                message: "m".into(),
            })
        };
        assert_eq!(code(sts("StsTimeout")), FailureCode::StsTimeout);
        assert_eq!(code(sts("StsUnreachable")), FailureCode::StsUnreachable);
        assert_eq!(code(sts("InvalidResponse")), FailureCode::InvalidResponse);
        assert_eq!(
            code(ChainFailure::Mfa(MfaError::Cancelled)),
            FailureCode::MfaCancelled
        );
        assert_eq!(
            code(ChainFailure::Mfa(MfaError::Timeout { seconds: 5 })),
            FailureCode::MfaTimeout
        );
        assert_eq!(
            code(ChainFailure::BadMfaCode("must be 6 digits".into())),
            FailureCode::InvalidMfaCode
        );
        assert_eq!(
            code(ChainFailure::MissingKeys),
            FailureCode::MissingAccessKeys
        );
        assert_eq!(
            code(ChainFailure::MissingParent),
            FailureCode::MissingParent
        );
    }

    /// A hop whose session's copies are dropped (a logout, new keys) while its
    /// credentials are being fetched, as a background rotation may be.
    struct DroppedMeanwhile {
        cache: Arc<CacheState>,
        id: SessionId,
        drop: bool,
    }

    impl ProvideCredentials for DroppedMeanwhile {
        fn provide<'a>(&'a self, _: &'a ResolveOptions) -> ProvideFuture<'a> {
            Box::pin(async move {
                if self.drop {
                    self.cache.drop_from_memory(&[self.id]);
                }
                Ok(Credentials {
                    access_key_id: "ASIAFETCHED".into(),
                    secret_access_key: Zeroizing::new("secret".into()),
                    session_token: Some(Zeroizing::new("token".into())),
                    expiration: Some(Utc::now() + chrono::Duration::hours(1)),
                })
            })
        }
    }

    #[tokio::test]
    async fn credentials_fetched_while_their_copies_are_dropped_are_used_but_never_cached() {
        let keychain = Keychain::in_store("rolehop-test", crate::keychain::KeychainStore::mock());
        let cache = Arc::new(CacheState::default());
        let session = Session {
            console: Default::default(),
            id: SessionId::new(),
            name: "ops".into(),
            profile: crate::model::ProfileName::parse("ops").unwrap(),
            region: None,
            kind: SessionKind::IamUser(IamUser {
                mfa_serial: None,
                session_duration: 3600,
                account_id: None,
            }),
        };
        let opts = ResolveOptions {
            mfa: Arc::new(crate::mfa::NoPrompt("no prompt".into())),
            mfa_timeout: Duration::from_secs(1),
            for_session: "ops".into(),
            refresh: None,
            min_validity: chrono::Duration::minutes(5),
            saml: None,
        };
        let hop = |drop| CachedProvider {
            session: session.clone(),
            inner: Box::new(DroppedMeanwhile {
                cache: cache.clone(),
                id: session.id,
                drop,
            }),
            keychain: keychain.clone(),
            cache: cache.clone(),
            prefetched: Arc::default(),
            prompt_lock: None,
        };
        let account = cache_account(session.id);
        let flush = || async {
            let writes = std::mem::take(&mut *cache.writes.lock().unwrap());
            for w in writes {
                w.await.unwrap();
            }
        };

        let got = hop(true).provide(&opts).await.unwrap();
        assert_eq!(
            got.access_key_id, "ASIAFETCHED",
            "the resolution still uses them"
        );
        flush().await;
        assert!(!cache.memory().credentials.contains_key(&session.id));
        assert_eq!(keychain.get_async(&account).await.unwrap(), None);

        // Fetched with no drop meanwhile, they are cached as always.
        hop(false).provide(&opts).await.unwrap();
        flush().await;
        assert!(cache.memory().credentials.contains_key(&session.id));
        assert!(keychain.get_async(&account).await.unwrap().is_some());
    }
}
