//! What the engine's rule tests share: a workspace home in a temporary directory and
//! keyring-core's mock store as its keychain (no D-Bus in these tests; the end-to-end
//! suite runs the same rules against a real gnome-keyring).

use std::collections::HashMap;
use std::sync::Arc;

use keyring_core::api::CredentialStoreApi;
use rolehop_core::EngineConfig;
use rolehop_core::keychain::KeychainStore;

pub struct MockHome {
    pub home: tempfile::TempDir,
    pub store: Arc<keyring_core::mock::Store>,
    service: &'static str,
}

impl MockHome {
    pub fn new(service: &'static str) -> MockHome {
        MockHome {
            home: tempfile::tempdir().unwrap(),
            store: keyring_core::mock::Store::new().unwrap(),
            service,
        }
    }

    /// An engine configuration on this home and store.
    pub fn config(&self) -> EngineConfig {
        EngineConfig {
            home: self.home.path().join("rolehop"),
            keychain_service: self.service.to_owned(),
            keychain_store: KeychainStore::Custom(self.store.clone()),
            ..EngineConfig::from_env()
        }
    }

    /// The secrets the keychain holds for the service, or for one `account` of it (the
    /// mock store keeps deleted entries, empty: those are left out).
    pub fn secrets(&self, account: Option<&str>) -> Vec<String> {
        let mut spec = HashMap::from([("service", self.service)]);
        if let Some(account) = account {
            spec.insert("user", account);
        }
        self.store
            .search(&spec)
            .unwrap()
            .iter()
            .filter_map(|e| e.get_password().ok())
            .filter(|p| !p.is_empty())
            .collect()
    }
}
