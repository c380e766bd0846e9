//! `AwsFilesDelivery` on real files in a temp directory. The take-over tests keep the
//! user's sections in keyring-core's mock store because unit tests have no Secret
//! Service; the end-to-end suite runs the same path against gnome-keyring.

use std::collections::HashMap;
use std::fs;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use keyring_core::api::CredentialStoreApi;

use super::*;
use crate::credentials::Credentials;
use crate::keychain::KeychainStore;
use crate::model::SessionId;

macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/awsfiles/",
            $name
        ))
        .as_slice()
    };
}

const SERVICE: &str = "rolehop-unit-tests";

/// The keychain's entries that hold a secret (the mock store keeps deleted ones, empty).
struct Vault {
    store: Arc<keyring_core::mock::Store>,
    keychain: Keychain,
}

impl Vault {
    fn len(&self) -> usize {
        let spec = HashMap::from([("service", SERVICE)]);
        let entries = self.store.search(&spec).unwrap();
        entries.iter().filter(|e| e.get_password().is_ok()).count()
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn save(&self, account: &str, bytes: &[u8]) -> Result<(), String> {
        SectionVault(self.keychain.clone()).save(account, bytes)
    }
}

struct Env {
    dir: tempfile::TempDir,
    vault: Vault,
}

impl Env {
    fn new(credentials: Option<&[u8]>, config: Option<&[u8]>) -> Env {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join(".aws")).unwrap();
        if let Some(bytes) = credentials {
            fs::write(dir.path().join(".aws/credentials"), bytes).unwrap();
        }
        if let Some(bytes) = config {
            fs::write(dir.path().join(".aws/config"), bytes).unwrap();
        }
        let store = keyring_core::mock::Store::new().unwrap();
        let keychain = Keychain::in_store(SERVICE, KeychainStore::Custom(store.clone()));
        Env {
            dir,
            vault: Vault { store, keychain },
        }
    }

    fn config(&self) -> AwsFilesConfig {
        AwsFilesConfig {
            credentials_file: self.dir.path().join(".aws/credentials"),
            config_file: self.dir.path().join(".aws/config"),
            state_dir: self.dir.path().join("state"),
            keychain: self.vault.keychain.clone(),
            rolehop_binary: PathBuf::from("/opt/Rolehop Apps/rolehop"),
        }
    }

    /// A fresh delivery, as a new process would build it.
    fn delivery(&self) -> AwsFilesDelivery {
        AwsFilesDelivery::new(self.config())
    }

    fn credentials(&self) -> Vec<u8> {
        fs::read(self.dir.path().join(".aws/credentials")).unwrap_or_default()
    }

    fn config_bytes(&self) -> Vec<u8> {
        fs::read(self.dir.path().join(".aws/config")).unwrap_or_default()
    }

    fn ledger(&self) -> String {
        fs::read_to_string(self.dir.path().join("state").join(LEDGER_FILE)).unwrap_or_default()
    }
}

fn profile(name: &str) -> ProfileName {
    ProfileName::parse(name).unwrap()
}

const SECRET: &str = "tmp/secret/NEVERELSEWHERE0000000000000";
const TOKEN: &str = "IQoJb3JpZ2luX2VjEJ-token-NEVERELSEWHERE";

fn handover(name: &str, akid: &str, mode: DeliveryMode) -> Handover {
    Handover {
        profile: profile(name),
        session: SessionId::new(),
        credentials: Credentials {
            access_key_id: akid.to_owned(),
            secret_access_key: Zeroizing::new(SECRET.to_owned()),
            session_token: Some(Zeroizing::new(TOKEN.to_owned())),
            expiration: Some(Utc.with_ymd_and_hms(2030, 1, 2, 3, 4, 5).unwrap()),
        },
        region: Some("eu-west-3".to_owned()),
        mode,
        take_over: false,
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn start_then_stop_in_another_process_leaves_both_files_byte_identical() {
    let env = Env::new(
        Some(fixture!("credentials-handmade")),
        Some(fixture!("config-handmade")),
    );
    // The fixture's production assumes a role of its own: taken over, it goes aside.
    let mut h = handover("production", "ASIASTART1", DeliveryMode::CredentialsFile);
    h.take_over = true;
    env.delivery().deliver(&h).unwrap();
    let creds = text(&env.credentials());
    assert!(creds.ends_with(&format!(
        "\n\n[production]\naws_access_key_id = ASIASTART1\naws_secret_access_key = {SECRET}\naws_session_token = {TOKEN}\naws_expiration = 2030-01-02T03:04:05Z"
    )));
    assert!(text(&env.config_bytes()).contains("  addressing_style = path\nregion = eu-west-3\n"));

    env.delivery().withdraw(&profile("production")).unwrap();
    assert_eq!(env.credentials(), fixture!("credentials-handmade"));
    assert_eq!(env.config_bytes(), fixture!("config-handmade"));
    assert!(!env.ledger().contains("production"));
}

#[test]
fn the_ledger_holds_no_secret() {
    let env = Env::new(None, None);
    env.delivery()
        .deliver(&handover(
            "p",
            "ASIAPUBLICID",
            DeliveryMode::CredentialsFile,
        ))
        .unwrap();
    let ledger = env.ledger();
    assert!(ledger.contains("ASIAPUBLICID"), "{ledger}");
    assert!(!ledger.contains("NEVERELSEWHERE"), "{ledger}");
}

#[test]
fn a_profile_the_user_wrote_is_refused_with_an_error_naming_it_and_nothing_changes() {
    let env = Env::new(
        Some(fixture!("credentials-handmade")),
        Some(fixture!("config-handmade")),
    );
    let err = env
        .delivery()
        .deliver(&handover("ci", "ASIA1", DeliveryMode::CredentialsFile))
        .unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, DeliveryError::ProfileOwnedByUser { .. }));
    assert!(
        message.contains("'ci'")
            && message.contains(".aws/credentials")
            && message.contains("take-over"),
        "{message}"
    );
    assert!(!message.contains("ci/secret"), "{message}");
    assert_eq!(env.credentials(), fixture!("credentials-handmade"));
    assert_eq!(env.config_bytes(), fixture!("config-handmade"));
    assert!(!env.ledger().contains("\"ci\""));
}

#[test]
fn take_over_keeps_the_users_section_in_the_vault_and_puts_it_back() {
    let env = Env::new(
        Some(fixture!("credentials-handmade")),
        Some(fixture!("config-handmade")),
    );
    let mut h = handover("ci", "ASIATAKEN", DeliveryMode::CredentialsFile);
    h.take_over = true;
    env.delivery().deliver(&h).unwrap();
    let creds = text(&env.credentials());
    assert!(!creds.contains("AKIAUSERCI"), "{creds}");
    assert!(creds.contains("[ci]\naws_access_key_id = ASIATAKEN"));
    assert_eq!(env.vault.len(), 1);
    assert!(
        !env.ledger().contains("AKIAUSERCI"),
        "the user's keys stay out of the ledger"
    );

    // A refresh does not save the user's section again, nor ask for take-over again.
    let mut refresh = handover("ci", "ASIATAKEN2", DeliveryMode::CredentialsFile);
    refresh.session = h.session;
    env.delivery().deliver(&refresh).unwrap();
    assert_eq!(env.vault.len(), 1);

    env.delivery().withdraw(&profile("ci")).unwrap();
    assert_eq!(env.credentials(), fixture!("credentials-handmade"));
    assert_eq!(env.config_bytes(), fixture!("config-handmade"));
    assert!(env.vault.is_empty());
}

#[test]
fn credential_process_mode_writes_a_quoted_command_and_no_key_on_disk() {
    let env = Env::new(
        Some(fixture!("credentials-handmade")),
        Some(fixture!("config-crlf")),
    );
    let h = handover("dev", "ASIA1", DeliveryMode::CredentialProcess);
    env.delivery().deliver(&h).unwrap();
    assert_eq!(env.credentials(), fixture!("credentials-handmade"));
    let config = text(&env.config_bytes());
    assert!(
        config.ends_with(&format!(
            "[profile work]\r\noutput = yaml\r\n\r\n[profile dev]\r\ncredential_process = \"/opt/Rolehop Apps/rolehop\" credential-process {}\r\nregion = eu-west-3",
            h.session
        )),
        "{config:?}"
    );
    env.delivery().withdraw(&profile("dev")).unwrap();
    assert_eq!(env.config_bytes(), fixture!("config-crlf"));
}

#[test]
fn switching_mode_moves_the_delivery_and_leaves_nothing_behind() {
    let env = Env::new(
        Some(fixture!("credentials-crlf-bom")),
        Some(fixture!("config-handmade")),
    );
    let delivery = env.delivery();
    delivery
        .deliver(&handover("p", "ASIA1", DeliveryMode::CredentialsFile))
        .unwrap();
    delivery
        .deliver(&handover("p", "ASIA2", DeliveryMode::CredentialProcess))
        .unwrap();
    assert_eq!(env.credentials(), fixture!("credentials-crlf-bom"));
    assert!(text(&env.config_bytes()).contains("credential_process = "));
    delivery
        .deliver(&handover("p", "ASIA3", DeliveryMode::CredentialsFile))
        .unwrap();
    assert!(!text(&env.config_bytes()).contains("credential_process = \""));
    delivery.withdraw(&profile("p")).unwrap();
    assert_eq!(env.credentials(), fixture!("credentials-crlf-bom"));
    assert_eq!(env.config_bytes(), fixture!("config-handmade"));
    let ledger: Ledger = serde_json::from_str(&env.ledger()).unwrap();
    assert!(ledger.files.is_empty(), "{ledger:?}");
}

#[test]
fn a_refresh_rewrites_the_keys_in_place_and_the_old_claim_is_forgotten() {
    let env = Env::new(Some(fixture!("credentials-handmade")), None);
    let delivery = env.delivery();
    delivery
        .deliver(&handover("p", "ASIAOLD", DeliveryMode::CredentialsFile))
        .unwrap();
    let before = env.credentials().len();
    delivery
        .deliver(&handover("p", "ASIANEW", DeliveryMode::CredentialsFile))
        .unwrap();
    assert_eq!(env.credentials().len(), before);
    assert!(!text(&env.credentials()).contains("ASIAOLD"));
    assert!(!env.ledger().contains("ASIAOLD"));
    delivery.withdraw(&profile("p")).unwrap();
    assert_eq!(env.credentials(), fixture!("credentials-handmade"));
}

#[test]
#[cfg(unix)]
fn missing_directory_and_files_are_created_private() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new(None, None);
    fs::remove_dir(env.dir.path().join(".aws")).unwrap();
    env.delivery()
        .deliver(&handover("p", "ASIA1", DeliveryMode::CredentialsFile))
        .unwrap();
    let mode = |p: &str| {
        fs::metadata(env.dir.path().join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(".aws"), 0o700);
    assert_eq!(mode(".aws/credentials"), 0o600);
    assert_eq!(mode(".aws/config"), 0o600);
    assert!(text(&env.config_bytes()).starts_with("[profile p]\nregion = eu-west-3\n"));
}

#[test]
#[cfg(unix)]
fn the_mode_of_an_existing_file_is_kept() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new(Some(b""), Some(fixture!("config-handmade")));
    let config = env.dir.path().join(".aws/config");
    fs::set_permissions(&config, fs::Permissions::from_mode(0o644)).unwrap();
    env.delivery()
        .deliver(&handover("p", "ASIA1", DeliveryMode::CredentialsFile))
        .unwrap();
    assert_eq!(
        fs::metadata(&config).unwrap().permissions().mode() & 0o777,
        0o644
    );
}

#[test]
#[cfg(unix)]
fn a_symlinked_credentials_file_stays_a_symlink() {
    let env = Env::new(None, None);
    let real = env.dir.path().join("dotfiles-credentials");
    fs::write(&real, fixture!("credentials-handmade")).unwrap();
    std::os::unix::fs::symlink(&real, env.dir.path().join(".aws/credentials")).unwrap();
    env.delivery()
        .deliver(&handover("p", "ASIA1", DeliveryMode::CredentialsFile))
        .unwrap();
    let link = env.dir.path().join(".aws/credentials");
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(text(&fs::read(&real).unwrap()).contains("ASIA1"));
    env.delivery().withdraw(&profile("p")).unwrap();
    assert_eq!(fs::read(&real).unwrap(), fixture!("credentials-handmade"));
}

#[test]
fn a_claim_left_by_a_crash_before_the_file_write_never_removes_the_users_lines() {
    // The ledger was written (it claims [ci] and region under [profile staging]) and then
    // the process died before the files were replaced; since, the user wrote their own
    // [ci] keys and the same region by hand. Their lines are not Rolehop's.
    let env = Env::new(
        Some(fixture!("credentials-handmade")),
        Some(fixture!("config-handmade")),
    );
    let mut ledger = Ledger::default();
    let mut creds = SectionClaim {
        added_header: true,
        added_blank_before: true,
        ..Default::default()
    };
    creds.keys.insert(
        "aws_access_key_id".into(),
        super::super::ledger::KeyClaim::Values(["ASIANEVERWRITTEN".to_owned()].into()),
    );
    creds.keys.insert(
        "aws_secret_access_key".into(),
        super::super::ledger::KeyClaim::Secret,
    );
    let mut config = SectionClaim::default();
    config.keys.insert(
        "region".into(),
        super::super::ledger::KeyClaim::Values(["eu-central-1".to_owned()].into()),
    );
    let cfg = env.config();
    ledger.set_claim(&ledger_key(&cfg.credentials_file), "ci", Some(creds));
    ledger.set_claim(&ledger_key(&cfg.config_file), "staging", Some(config));
    fs::create_dir_all(&cfg.state_dir).unwrap();
    fs::write(cfg.state_dir.join(LEDGER_FILE), ledger.to_json()).unwrap();

    env.delivery().withdraw(&profile("ci")).unwrap();
    env.delivery().withdraw(&profile("staging")).unwrap();
    assert_eq!(env.credentials(), fixture!("credentials-handmade"));
    assert_eq!(env.config_bytes(), fixture!("config-handmade"));
    // And the user's [ci] is still theirs: starting it is refused.
    assert!(
        env.delivery()
            .deliver(&handover("ci", "ASIA1", DeliveryMode::CredentialsFile))
            .is_err()
    );
}

#[test]
fn a_take_over_interrupted_before_the_file_write_is_forgotten_and_its_copy_deleted() {
    let env = Env::new(Some(fixture!("credentials-handmade")), None);
    let cfg = env.config();
    let key = ledger_key(&cfg.credentials_file);
    let account = account_for(&key, "ci");
    let body = b"aws_access_key_id = AKIAUSERCI0000000001\naws_secret_access_key = ci/secret/0000000000000000000000000000000\ntoolkit_artifact_guid=0c6b2e38-4f9d-4a0e-9f3f-2a4f8b7c1d11";
    env.vault.save(&account, body).unwrap();
    let mut ledger = Ledger::default();
    let mut claim = SectionClaim {
        taken_over: Some(account),
        ..Default::default()
    };
    claim.keys.insert(
        "aws_access_key_id".into(),
        super::super::ledger::KeyClaim::Values(["ASIANEVERWRITTEN".to_owned()].into()),
    );
    ledger.set_claim(&key, "ci", Some(claim));
    fs::create_dir_all(&cfg.state_dir).unwrap();
    fs::write(cfg.state_dir.join(LEDGER_FILE), ledger.to_json()).unwrap();

    env.delivery().withdraw(&profile("ci")).unwrap();
    assert_eq!(
        env.credentials(),
        fixture!("credentials-handmade"),
        "not restored twice"
    );
    assert!(env.vault.is_empty());
}

#[test]
fn a_value_with_a_line_break_is_refused_before_anything_is_written() {
    let env = Env::new(
        Some(fixture!("credentials-handmade")),
        Some(fixture!("config-handmade")),
    );
    let mut h = handover("p", "ASIA1", DeliveryMode::CredentialsFile);
    h.region = Some("eu-west-1\n[default]".to_owned());
    let err = env.delivery().deliver(&h).unwrap_err();
    assert!(
        matches!(&err, DeliveryError::InvalidValue { key, .. } if key == "region"),
        "{err}"
    );
    assert_eq!(env.credentials(), fixture!("credentials-handmade"));
}

#[test]
fn an_unreadable_ledger_stops_every_change() {
    let env = Env::new(Some(fixture!("credentials-handmade")), None);
    let cfg = env.config();
    fs::create_dir_all(&cfg.state_dir).unwrap();
    fs::write(cfg.state_dir.join(LEDGER_FILE), b"{garbage").unwrap();
    let err = env
        .delivery()
        .deliver(&handover("p", "ASIA1", DeliveryMode::CredentialsFile))
        .unwrap_err();
    assert!(err.to_string().contains("ledger"), "{err}");
    assert_eq!(env.credentials(), fixture!("credentials-handmade"));
}

#[test]
fn withdrawing_a_profile_never_delivered_writes_nothing() {
    let env = Env::new(
        Some(fixture!("credentials-handmade")),
        Some(fixture!("config-handmade")),
    );
    let delivery = env.delivery();
    delivery.withdraw(&profile("default")).unwrap();
    assert_eq!(delivery.writes(), 0);
    assert_eq!(env.credentials(), fixture!("credentials-handmade"));
}

#[test]
fn sessions_started_together_are_written_in_a_few_commits() {
    let env = Env::new(
        Some(fixture!("credentials-handmade")),
        Some(fixture!("config-handmade")),
    );
    let delivery = Arc::new(env.delivery());
    let barrier = Arc::new(std::sync::Barrier::new(50));
    let threads: Vec<_> = (0..50)
        .map(|i| {
            let (delivery, barrier) = (delivery.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                delivery.deliver(&handover(
                    &format!("batch-{i}"),
                    &format!("ASIA{i}"),
                    DeliveryMode::CredentialsFile,
                ))
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap().unwrap();
    }
    let creds = text(&env.credentials());
    for i in 0..50 {
        assert!(
            creds.contains(&format!("[batch-{i}]\naws_access_key_id = ASIA{i}\n")),
            "batch-{i}"
        );
    }
    assert!(
        delivery.commits() < 25,
        "{} commits for 50 sessions",
        delivery.commits()
    );
    let profiles: Vec<ProfileName> = (0..50).map(|i| profile(&format!("batch-{i}"))).collect();
    std::thread::scope(|s| {
        for p in &profiles {
            let delivery = &delivery;
            s.spawn(move || delivery.withdraw(p).unwrap());
        }
    });
    assert_eq!(env.credentials(), fixture!("credentials-handmade"));
    assert_eq!(env.config_bytes(), fixture!("config-handmade"));
}

#[test]
fn one_refused_session_in_a_batch_does_not_fail_the_others() {
    let env = Env::new(Some(fixture!("credentials-handmade")), None);
    let delivery = Arc::new(env.delivery());
    // Both released at once, so they queue for the same commit.
    let barrier = std::sync::Barrier::new(2);
    std::thread::scope(|s| {
        let ok = s.spawn(|| {
            barrier.wait();
            delivery.deliver(&handover("fine", "ASIA1", DeliveryMode::CredentialsFile))
        });
        let refused = s.spawn(|| {
            barrier.wait();
            delivery.deliver(&handover("default", "ASIA2", DeliveryMode::CredentialsFile))
        });
        assert!(ok.join().unwrap().is_ok());
        assert!(matches!(
            refused.join().unwrap(),
            Err(DeliveryError::ProfileOwnedByUser { .. })
        ));
    });
    assert!(text(&env.credentials()).contains("[fine]"));
}

// ---- config sections that would win over Rolehop's credentials ----

const ASSUME_ROLE: &[u8] = fixture!("config-assume-role");
const SSO: &[u8] = fixture!("config-sso");
const OWN_PROCESS: &[u8] = fixture!("config-credential-process");
const WEB_IDENTITY: &[u8] = b"[profile production]\nrole_arn = arn:aws:iam::123456789012:role/Ci\nweb_identity_token_file = /var/run/token\nregion = eu-west-1\n";
const STATIC_KEYS: &[u8] = b"[profile production]\naws_access_key_id = AKIAUSERCONFIG000001\naws_secret_access_key = config/secret/NEVERELSEWHERE\nregion = eu-west-1\n";

/// Starts production on `config` without take-over and returns the error's message,
/// checking that nothing was written.
fn refused(config: &[u8], mode: DeliveryMode) -> String {
    let env = Env::new(Some(fixture!("credentials-handmade")), Some(config));
    let err = env
        .delivery()
        .deliver(&handover("production", "ASIAREFUSED", mode))
        .unwrap_err();
    assert!(
        matches!(err, DeliveryError::ProfileOwnedByUser { .. }),
        "{err}"
    );
    assert_eq!(env.credentials(), fixture!("credentials-handmade"));
    assert_eq!(env.config_bytes(), config);
    assert!(!env.ledger().contains("production"));
    assert!(env.vault.is_empty());
    let message = err.to_string();
    assert!(
        message.contains("profile 'production' in ")
            && message.contains(".aws/config sets ")
            && message.contains("take-over"),
        "{message}"
    );
    assert!(!message.contains("NEVERELSEWHERE"), "{message}");
    message
}

#[test]
fn an_assumed_role_in_the_users_config_refuses_both_modes_naming_its_keys() {
    for mode in [
        DeliveryMode::CredentialsFile,
        DeliveryMode::CredentialProcess,
    ] {
        let message = refused(ASSUME_ROLE, mode);
        assert!(
            message.contains("sets role_arn, source_profile: "),
            "{message}"
        );
        assert!(!message.contains("mfa_serial"), "{message}");
    }
}

#[test]
fn web_identity_in_the_users_config_refuses_both_modes() {
    for mode in [
        DeliveryMode::CredentialsFile,
        DeliveryMode::CredentialProcess,
    ] {
        let message = refused(WEB_IDENTITY, mode);
        assert!(
            message.contains("sets role_arn, web_identity_token_file: "),
            "{message}"
        );
    }
}

#[test]
fn sso_keys_in_the_users_config_refuse_both_modes() {
    for mode in [
        DeliveryMode::CredentialsFile,
        DeliveryMode::CredentialProcess,
    ] {
        let message = refused(SSO, mode);
        assert!(
            message.contains("sets sso_session, sso_account_id, sso_role_name: "),
            "{message}"
        );
    }
}

#[test]
fn the_users_credential_process_or_static_keys_refuse_credential_process_mode_only() {
    let message = refused(OWN_PROCESS, DeliveryMode::CredentialProcess);
    assert!(message.contains("sets credential_process: "), "{message}");
    let message = refused(STATIC_KEYS, DeliveryMode::CredentialProcess);
    assert!(
        message.contains("sets aws_access_key_id, aws_secret_access_key: "),
        "{message}"
    );
    // The shared credentials file comes before both: nothing to set aside.
    for config in [OWN_PROCESS, STATIC_KEYS] {
        let env = Env::new(None, Some(config));
        let h = handover("production", "ASIAFILE", DeliveryMode::CredentialsFile);
        env.delivery().deliver(&h).unwrap();
        assert_eq!(env.config_bytes(), config, "the user's region is kept");
        env.delivery().withdraw(&profile("production")).unwrap();
        assert_eq!(env.config_bytes(), config);
    }
}

#[test]
fn a_source_profile_without_a_role_is_not_in_the_way() {
    let config = b"[profile production]\nsource_profile = default\n";
    let env = Env::new(None, Some(config));
    let h = handover("production", "ASIAFILE", DeliveryMode::CredentialsFile);
    env.delivery().deliver(&h).unwrap();
    env.delivery().withdraw(&profile("production")).unwrap();
    assert_eq!(env.config_bytes(), config);
}

/// Takes production over on `config`, checks what is left in the config file, refreshes,
/// and stops in another process: both files come back byte for byte.
fn take_over_and_stop(config: &[u8], mode: DeliveryMode, gone: &[&str], kept: &[&str]) {
    let env = Env::new(Some(fixture!("credentials-handmade")), Some(config));
    let mut h = handover("production", "ASIATAKEN", mode);
    h.take_over = true;
    env.delivery().deliver(&h).unwrap();
    let during = text(&env.config_bytes());
    for line in gone {
        assert!(!during.contains(line), "{line} set aside: {during}");
    }
    for line in kept {
        assert!(during.contains(line), "{line} kept: {during}");
    }
    assert_eq!(env.vault.len(), 1);
    let ledger = env.ledger();
    assert!(ledger.contains("\"set_aside\""), "{ledger}");
    assert!(!ledger.contains("NEVERELSEWHERE"), "{ledger}");
    if mode == DeliveryMode::CredentialProcess {
        assert!(during.contains("credential_process = \"/opt/Rolehop Apps/rolehop\""));
        assert_eq!(env.credentials(), fixture!("credentials-handmade"));
    } else {
        assert!(text(&env.credentials()).contains("aws_access_key_id = ASIATAKEN"));
    }

    // A refresh neither saves the user's keys again nor asks for take-over again.
    let mut refresh = handover("production", "ASIATAKEN2", mode);
    refresh.session = h.session;
    env.delivery().deliver(&refresh).unwrap();
    assert_eq!(env.vault.len(), 1);
    assert_eq!(
        text(&env.config_bytes())
            .matches("credential_process")
            .count(),
        during.matches("credential_process").count()
    );

    env.delivery().withdraw(&profile("production")).unwrap();
    assert_eq!(env.credentials(), fixture!("credentials-handmade"));
    assert_eq!(text(&env.config_bytes()), text(config));
    assert!(env.vault.is_empty());
    assert!(!env.ledger().contains("production"));
}

#[test]
fn take_over_sets_an_assumed_role_aside_and_puts_it_back_byte_for_byte() {
    for mode in [
        DeliveryMode::CredentialsFile,
        DeliveryMode::CredentialProcess,
    ] {
        take_over_and_stop(
            ASSUME_ROLE,
            mode,
            &["role_arn", "source_profile"],
            &[
                "; the deploy role in the production account\ns3 =\n  addressing_style = path\nmfa_serial = arn:aws:iam::111111111111:mfa/alice\nregion = eu-central-1\n",
            ],
        );
    }
}

#[test]
fn take_over_sets_sso_keys_aside_and_puts_them_back_byte_for_byte() {
    for mode in [
        DeliveryMode::CredentialsFile,
        DeliveryMode::CredentialProcess,
    ] {
        take_over_and_stop(
            SSO,
            mode,
            &["sso_session", "sso_account_id", "sso_role_name"],
            &[
                "sso_start_url = https://corp.awsapps.com/start",
                "[profile production]\nregion = eu-west-1\noutput = table",
            ],
        );
    }
}

#[test]
fn take_over_sets_the_users_credential_process_aside_and_puts_it_back_byte_for_byte() {
    take_over_and_stop(
        OWN_PROCESS,
        DeliveryMode::CredentialProcess,
        &["my-own-helper"],
        &["[profile production]\r\nregion = us-east-1\r\ncredential_process = \"/opt"],
    );
    take_over_and_stop(
        STATIC_KEYS,
        DeliveryMode::CredentialProcess,
        &["AKIAUSERCONFIG", "NEVERELSEWHERE"],
        &["region = eu-west-1\n"],
    );
    take_over_and_stop(
        WEB_IDENTITY,
        DeliveryMode::CredentialsFile,
        &["role_arn", "web_identity_token_file"],
        &["[profile production]\nregion = eu-west-1\n"],
    );
}

#[test]
fn a_set_aside_interrupted_before_the_file_write_is_forgotten_and_its_copy_deleted() {
    let env = Env::new(None, Some(ASSUME_ROLE));
    let cfg = env.config();
    let key = ledger_key(&cfg.config_file);
    let account = account_for(&key, "production");
    let lines =
        b"role_arn = arn:aws:iam::123456789012:role/ResourceDeployCAR\nsource_profile = default\n";
    env.vault.save(&account, lines).unwrap();
    let mut ledger = Ledger::default();
    let mut claim = SectionClaim {
        taken_over: Some(account),
        set_aside: vec![1, 4],
        ..Default::default()
    };
    claim.keys.insert(
        "region".into(),
        super::super::ledger::KeyClaim::Values(["eu-west-3".to_owned()].into()),
    );
    ledger.set_claim(&key, "production", Some(claim));
    fs::create_dir_all(&cfg.state_dir).unwrap();
    fs::write(cfg.state_dir.join(LEDGER_FILE), ledger.to_json()).unwrap();

    env.delivery().withdraw(&profile("production")).unwrap();
    assert_eq!(env.config_bytes(), ASSUME_ROLE, "not put back twice");
    assert!(env.vault.is_empty());
    assert!(!env.ledger().contains("production"));
}

#[test]
fn a_set_aside_withdrawn_after_a_crash_before_the_ledger_shrank_is_not_put_back_twice() {
    let env = Env::new(None, Some(ASSUME_ROLE));
    let mut h = handover("production", "ASIATAKEN", DeliveryMode::CredentialsFile);
    h.take_over = true;
    env.delivery().deliver(&h).unwrap();
    let ledger = env.ledger();
    env.delivery().withdraw(&profile("production")).unwrap();
    assert_eq!(env.config_bytes(), ASSUME_ROLE);
    // As if the process died after writing the files, before the shrunk ledger: the
    // keychain copy is still there too.
    fs::write(env.config().state_dir.join(LEDGER_FILE), ledger).unwrap();
    let cfg = env.config();
    let account = account_for(&ledger_key(&cfg.config_file), "production");
    env.vault
        .save(&account, b"role_arn = arn:aws:iam::123456789012:role/ResourceDeployCAR\nsource_profile = default\n")
        .unwrap();
    env.delivery().withdraw(&profile("production")).unwrap();
    assert_eq!(env.config_bytes(), ASSUME_ROLE);
    assert!(env.vault.is_empty());
}

// ---- files in shared places, and files that are not files ----

#[cfg(unix)]
use crate::durable::test_files::{give_away, make_fifo, mode_of, set_mode, without_hanging};

/// Starts profile `p` in credentials-file mode, which must fail: the error's message.
#[cfg(unix)]
fn refused_start(env: &Env) -> String {
    let h = handover("p", "ASIA1", DeliveryMode::CredentialsFile);
    env.delivery().deliver(&h).unwrap_err().to_string()
}

#[test]
#[cfg(unix)]
fn a_world_readable_credentials_file_becomes_private_once_it_holds_keys() {
    let env = Env::new(
        Some(fixture!("credentials-handmade")),
        Some(fixture!("config-handmade")),
    );
    let credentials = env.dir.path().join(".aws/credentials");
    let config = env.dir.path().join(".aws/config");
    set_mode(&credentials, 0o644);
    set_mode(&config, 0o644);
    env.delivery()
        .deliver(&handover("p", "ASIA1", DeliveryMode::CredentialsFile))
        .unwrap();
    assert_eq!(mode_of(&credentials), 0o600);
    assert_eq!(mode_of(&config), 0o644, "the config file keeps its mode");
    env.delivery().withdraw(&profile("p")).unwrap();
    assert_eq!(env.credentials(), fixture!("credentials-handmade"));
    assert_eq!(
        mode_of(&credentials),
        0o600,
        "it still holds the user's keys"
    );
}

#[test]
#[cfg(unix)]
fn a_credentials_file_without_secrets_keeps_its_mode() {
    let env = Env::new(Some(b"[p]\nregion = eu-west-1\n"), None);
    let credentials = env.dir.path().join(".aws/credentials");
    set_mode(&credentials, 0o644);
    let h = handover("q", "ASIA1", DeliveryMode::CredentialProcess);
    env.delivery().deliver(&h).unwrap();
    env.delivery().withdraw(&profile("q")).unwrap();
    assert_eq!(mode_of(&credentials), 0o644);
}

#[test]
#[cfg(unix)]
fn a_fifo_in_place_of_the_credentials_file_is_refused_without_hanging() {
    let env = Env::new(None, Some(fixture!("config-handmade")));
    let credentials = env.dir.path().join(".aws/credentials");
    make_fifo(&credentials);
    let delivery = Arc::new(env.delivery());
    let d = delivery.clone();
    let err =
        without_hanging(move || d.deliver(&handover("p", "ASIA1", DeliveryMode::CredentialsFile)))
            .unwrap_err()
            .to_string();
    assert!(
        err.contains(&credentials.display().to_string()) && err.contains("named pipe"),
        "{err}"
    );
    assert_eq!(env.config_bytes(), fixture!("config-handmade"));
    // The lock was let go: once the file is a file again, the next call goes through.
    fs::remove_file(&credentials).unwrap();
    without_hanging(move || {
        delivery.deliver(&handover("p", "ASIA1", DeliveryMode::CredentialsFile))
    })
    .unwrap();
}

#[test]
#[cfg(unix)]
fn an_oversized_credentials_file_is_refused_naming_it_and_left_alone() {
    let mut huge = fixture!("credentials-handmade").to_vec();
    huge.resize(16 * 1024 * 1024 + 1, b'#');
    let env = Env::new(Some(&huge), None);
    let err = without_hanging({
        let delivery = env.delivery();
        move || delivery.deliver(&handover("p", "ASIA1", DeliveryMode::CredentialsFile))
    })
    .unwrap_err()
    .to_string();
    assert!(
        err.contains(".aws/credentials") && err.contains("larger than 16 MiB"),
        "{err}"
    );
    assert!(env.credentials() == huge);
    assert!(!env.ledger().contains("\"p\""));
}

#[test]
#[cfg(unix)]
fn a_credentials_file_in_a_directory_everyone_can_write_is_refused() {
    let env = Env::new(Some(fixture!("credentials-handmade")), None);
    set_mode(&env.dir.path().join(".aws"), 0o777);
    let err = refused_start(&env);
    assert!(err.contains("can be written by every user"), "{err}");
    assert_eq!(env.credentials(), fixture!("credentials-handmade"));
}

#[test]
#[cfg(unix)]
fn a_link_to_a_credentials_file_of_another_user_is_refused_and_not_written() {
    let env = Env::new(None, None);
    let theirs = env.dir.path().join("their-credentials");
    fs::write(&theirs, fixture!("credentials-handmade")).unwrap();
    if !give_away(&theirs) {
        return;
    }
    std::os::unix::fs::symlink(&theirs, env.dir.path().join(".aws/credentials")).unwrap();
    let err = refused_start(&env);
    assert!(err.contains("belongs to another user"), "{err}");
    assert_eq!(fs::read(&theirs).unwrap(), fixture!("credentials-handmade"));
}

#[test]
#[cfg(unix)]
fn a_state_directory_others_can_write_is_refused_naming_it() {
    let env = Env::new(Some(fixture!("credentials-handmade")), None);
    let state = env.config().state_dir;
    fs::create_dir(&state).unwrap();
    set_mode(&state, 0o777);
    let err = refused_start(&env);
    assert!(
        err.contains(&state.display().to_string()) && err.contains("chmod 700"),
        "{err}"
    );
    assert_eq!(env.credentials(), fixture!("credentials-handmade"));
    assert_eq!(mode_of(&state), 0o777);
}

#[test]
#[cfg(unix)]
fn a_lock_file_planted_as_a_link_is_refused() {
    let env = Env::new(Some(fixture!("credentials-handmade")), None);
    let state = env.config().state_dir;
    fs::create_dir(&state).unwrap();
    set_mode(&state, 0o700);
    let elsewhere = env.dir.path().join("elsewhere");
    std::os::unix::fs::symlink(&elsewhere, lock_path(&state)).unwrap();
    let err = refused_start(&env);
    assert!(err.contains("is a symbolic link"), "{err}");
    assert!(!elsewhere.exists());
    assert_eq!(env.credentials(), fixture!("credentials-handmade"));
}
