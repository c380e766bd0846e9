//! `AwsFilesDelivery` on real files in a temp directory. The take-over tests use the
//! in-memory vault because unit tests have no Secret Service; the end-to-end suite runs
//! the same path against gnome-keyring.

use std::fs;
use std::sync::Arc;

use chrono::{TimeZone, Utc};

use super::*;
use crate::awsfiles::MemoryVault;
use crate::credentials::Credentials;
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

struct Env {
    dir: tempfile::TempDir,
    vault: Arc<MemoryVault>,
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
        Env {
            dir,
            vault: Arc::new(MemoryVault::default()),
        }
    }

    fn config(&self) -> AwsFilesConfig {
        AwsFilesConfig {
            credentials_file: self.dir.path().join(".aws/credentials"),
            config_file: self.dir.path().join(".aws/config"),
            state_dir: self.dir.path().join("state"),
            keychain: Keychain::new("rolehop-unit-tests-unused"),
            rolehop_binary: PathBuf::from("/opt/Rolehop Apps/rolehop"),
        }
    }

    /// A fresh delivery, as a new process would build it.
    fn delivery(&self) -> AwsFilesDelivery {
        AwsFilesDelivery::with_vault(self.config(), self.vault.clone())
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
    env.delivery()
        .deliver(&handover(
            "production",
            "ASIASTART1",
            DeliveryMode::CredentialsFile,
        ))
        .unwrap();
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
    std::thread::scope(|s| {
        let ok =
            s.spawn(|| delivery.deliver(&handover("fine", "ASIA1", DeliveryMode::CredentialsFile)));
        let refused = s.spawn(|| {
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
