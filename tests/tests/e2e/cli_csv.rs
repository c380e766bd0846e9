//! Part 2 of issue 27: `session add iam-user --from-csv FILE` reads the access-key file
//! the AWS console downloads (`<user>_accessKeys.csv`: a UTF-8 byte-order mark, the
//! header `Access key ID,Secret access key`, CRLF line ends). The keys end up in the
//! keychain (gnome-keyring, read with `secret-tool`) and nowhere else Rolehop writes;
//! the file stays as it was; moto, checking keys, accepts a start signed with them. A malformed file
//! is refused naming its line, and nothing is added.

use std::path::{Path, PathBuf};

use crate::cli::World;

/// The console's file for `id`/`secret`, byte for byte as it writes it.
fn console_csv(id: &str, secret: &str) -> Vec<u8> {
    format!("\u{feff}Access key ID,Secret access key\r\n{id},{secret}\r\n").into_bytes()
}

fn write_csv(world: &World, name: &str, bytes: &[u8]) -> PathBuf {
    let dir = world.peers.home().root().join("downloads");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Every file under `dir` (but `except`) whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &str, except: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            found.extend(files_containing(&path, needle, except));
        } else if kind.is_file()
            && path != except
            && std::fs::read(&path)
                .is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
        {
            found.push(path);
        }
    }
    found
}

#[test]
fn from_csv_stores_the_console_keys_only_in_the_keychain() {
    let world = World::start();
    let bob = world.peers.moto().create_user("bob").expect("moto user");
    let bytes = console_csv(&bob.access_key_id, &bob.secret_access_key);
    let csv = write_csv(&world, "bob_accessKeys.csv", &bytes);
    let csv_arg = csv.to_str().unwrap();

    world
        .rolehop(&[
            "session",
            "add",
            "iam-user",
            "--name",
            "bob",
            "--profile",
            "bob",
            "--region",
            "us-east-1",
            "--from-csv",
            csv_arg,
        ])
        .ok();

    let keychain = world
        .peers
        .secret_service()
        .search_all(world.peers.home().keychain_service())
        .unwrap();
    assert!(
        keychain.contains(&bob.secret_access_key),
        "the secret is not in the keychain"
    );
    assert_eq!(std::fs::read(&csv).unwrap(), bytes, "the file changed");
    let copies = files_containing(world.peers.home().root(), &bob.secret_access_key, &csv);
    assert!(copies.is_empty(), "the secret was copied to {copies:?}");

    // The keys are the user's: with moto checking keys and signatures (unknown keys are
    // refused as InvalidClientTokenId), the start's GetSessionToken, signed with them,
    // is accepted. (moto does not accept the session token it hands out back as a
    // caller, so the AWS CLI cannot go on from there.)
    world.peers.moto().enable_auth().expect("moto auth");
    world.rolehop(&["session", "start", "bob"]).ok();
}

/// `session add iam-user` of a session `bad` with `--from-csv FILE`.
fn add_bad(world: &World, file: &str) -> crate::cli::Run {
    world.rolehop(&[
        "session",
        "add",
        "iam-user",
        "--name",
        "bad",
        "--profile",
        "bad",
        "--from-csv",
        file,
    ])
}

#[test]
fn from_csv_malformed_files_are_refused_naming_the_line() {
    let world = World::start();
    let id = "AKIAIOSFODNN7EXAMPLE";
    let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    let workspace = world.peers.home().rolehop_home().join("workspace.json");
    let before = std::fs::read(&workspace).ok();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", vec![], "line 1: the file is empty"),
        (
            "wrong header",
            format!("User,Key\r\n{id},{secret}\r\n").into_bytes(),
            "line 1: expected the header",
        ),
        (
            "header only",
            b"\xef\xbb\xbfAccess key ID,Secret access key\r\n".to_vec(),
            "line 2: no access key",
        ),
        (
            "missing secret",
            format!("Access key ID,Secret access key\r\n{id}\r\n").into_bytes(),
            "line 2: 1 fields where the header has 2",
        ),
        (
            "two keys",
            format!("Access key ID,Secret access key\r\n{id},{secret}\r\n{id},{secret}\r\n")
                .into_bytes(),
            "line 3: a second access key",
        ),
        (
            "bad key id",
            format!("Access key ID,Secret access key\r\nnot-a-key,{secret}\r\n").into_bytes(),
            "line 2: access_key_id:",
        ),
        (
            "not text",
            b"Access key ID,Secret access key\r\n\xff\xfe\r\n".to_vec(),
            "line 2: is not UTF-8",
        ),
    ];
    for (what, bytes, says) in cases {
        let csv = write_csv(&world, "bad_accessKeys.csv", &bytes);
        let run = add_bad(&world, csv.to_str().unwrap()).fails_with(3);
        assert!(
            run.stderr.contains(&format!("csv: {says}")),
            "{what}: {}",
            run.stderr
        );
        assert!(
            !run.stderr.contains(secret),
            "{what}: the secret in the message"
        );
        assert_eq!(
            std::fs::read(&workspace).ok(),
            before,
            "{what}: the workspace changed"
        );
    }
    let missing = add_bad(&world, "/nonexistent/bob_accessKeys.csv").fails_with(3);
    assert!(missing.stderr.contains("csv: "), "{}", missing.stderr);
    let keychain = world
        .peers
        .secret_service()
        .search_all(world.peers.home().keychain_service())
        .unwrap_or_default();
    assert!(!keychain.contains("access-keys:"), "{keychain}");
}
