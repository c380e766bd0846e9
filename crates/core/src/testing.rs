//! What the engine's tests reach that the shells may not (feature `test-support`; the
//! shells never turn it on, and `cargo xtask layers` fails if they name this module).
//!
//! - The engine's internals a test inspects: its keychain, its chain resolver (whose
//!   STS client reads who credentials act as), its kernel-keyring copy.
//! - [`ScriptedSts`]: STS answered in memory, for the engine's rule tests: rules that
//!   do not depend on what STS does (the workspace's states, claims, which copies are
//!   dropped when) run on the mock keychain with no STS peer. Every test of what STS
//!   does runs against moto.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{Duration, Utc};
use zeroize::Zeroizing;

use crate::Engine;
pub use crate::chain::{ChainResolver, cache_account};
use crate::credentials::Credentials;
pub use crate::kernel_cache::KernelCache;
use crate::keychain::Keychain;
pub use crate::sts::{
    AssumeRoleParams, MfaToken, SamlParams, StsApi, StsClient, StsError, StsFuture,
};

/// The engine's keychain (the one its delivery should share).
pub fn keychain(engine: &Engine) -> &Keychain {
    engine.keychain()
}

/// The engine's chain resolver: its STS client, its cached hops.
pub fn resolver(engine: &Engine) -> &ChainResolver {
    engine.resolver()
}

/// The engine's kernel-keyring copy of active sessions' credentials.
pub fn kernel_cache(engine: &Engine) -> &KernelCache {
    engine.kernel_cache()
}

/// STS in memory: every call with keys it was not told to refuse is answered with new,
/// distinct credentials valid for the duration asked; `AssumeRole` on a role ARN in
/// [`ScriptedSts::refuse_role`] answers AccessDenied, as AWS does when a trust policy
/// does not admit the caller. Each call is recorded by its operation and target.
#[derive(Default)]
pub struct ScriptedSts {
    refused_roles: Mutex<BTreeSet<String>>,
    calls: Mutex<Vec<String>>,
    issued: AtomicU64,
}

impl ScriptedSts {
    /// `AssumeRole` on `role_arn` is refused from now on.
    pub fn refuse_role(&self, role_arn: &str) {
        self.refused_roles
            .lock()
            .expect("refused roles")
            .insert(role_arn.to_owned());
    }

    /// The calls so far, in order: `AssumeRole <role arn>`, `GetSessionToken` or
    /// `GetSessionToken mfa`, `GetCallerIdentity`, `GetFederationToken <name>`,
    /// `AssumeRoleWithSAML <role arn> <seconds>`.
    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().expect("calls").clone()
    }

    fn record(&self, call: String) {
        self.calls.lock().expect("calls").push(call);
    }

    fn issue(&self, duration_seconds: u32) -> Credentials {
        let n = self.issued.fetch_add(1, Ordering::Relaxed);
        Credentials {
            access_key_id: format!("ASIASCRIPTED{n:08}"),
            secret_access_key: Zeroizing::new(format!("scripted-secret-{n}")),
            session_token: Some(Zeroizing::new(format!("scripted-token-{n}"))),
            expiration: Some(Utc::now() + Duration::seconds(i64::from(duration_seconds))),
        }
    }
}

impl StsApi for ScriptedSts {
    fn get_session_token<'a>(
        &'a self,
        _keys: &'a Credentials,
        _region: Option<&'a str>,
        duration_seconds: u32,
        mfa: Option<MfaToken<'a>>,
    ) -> StsFuture<'a, Credentials> {
        let call = if mfa.is_some() {
            "GetSessionToken mfa"
        } else {
            "GetSessionToken"
        };
        self.record(call.to_owned());
        let creds = self.issue(duration_seconds);
        Box::pin(async move { Ok(creds) })
    }

    fn assume_role<'a>(
        &'a self,
        _parent: &'a Credentials,
        _region: Option<&'a str>,
        params: &'a AssumeRoleParams<'a>,
    ) -> StsFuture<'a, Credentials> {
        self.record(format!("AssumeRole {}", params.role_arn));
        let refused = self
            .refused_roles
            .lock()
            .expect("refused roles")
            .contains(params.role_arn);
        let answer = if refused {
            Err(StsError {
                code: "AccessDenied".into(),
                message: format!(
                    "not authorized to perform sts:AssumeRole on {}",
                    params.role_arn
                ),
            })
        } else {
            Ok(self.issue(params.duration_seconds))
        };
        Box::pin(async move { answer })
    }

    fn assume_role_with_saml<'a>(
        &'a self,
        _region: Option<&'a str>,
        params: &'a SamlParams<'a>,
    ) -> StsFuture<'a, Credentials> {
        self.record(format!(
            "AssumeRoleWithSAML {} {}",
            params.role_arn, params.duration_seconds
        ));
        let creds = self.issue(params.duration_seconds);
        Box::pin(async move { Ok(creds) })
    }

    fn caller_arn<'a>(
        &'a self,
        creds: &'a Credentials,
        _region: Option<&'a str>,
    ) -> StsFuture<'a, String> {
        self.record("GetCallerIdentity".to_owned());
        let arn = format!("arn:aws:sts::000000000000:scripted/{}", creds.access_key_id);
        Box::pin(async move { Ok(arn) })
    }

    fn get_federation_token<'a>(
        &'a self,
        _keys: &'a Credentials,
        _region: Option<&'a str>,
        name: &'a str,
        _policy: &'a str,
        duration_seconds: u32,
    ) -> StsFuture<'a, Credentials> {
        self.record(format!("GetFederationToken {name}"));
        let creds = self.issue(duration_seconds);
        Box::pin(async move { Ok(creds) })
    }
}
