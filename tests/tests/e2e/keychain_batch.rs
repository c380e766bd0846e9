//! The batched keychain read (`Keychain::get_many_async`, crates/core/src/secret_service.rs)
//! against a real gnome-keyring: it returns exactly what keyring-core and secret-tool
//! wrote, in the order asked, through its own encrypted session, and leaves what it
//! cannot answer to keyring-core with keyring-core's error.
//!
//! Each test exports its keyring into the process before any thread exists: run with
//! nextest (one process per test), as CI does.

use std::error::Error;
use std::process::{Command, Stdio};

use rolehop_core::keychain::Keychain;
use rolehop_e2e::SecretService;

type TestResult = Result<(), Box<dyn Error>>;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn plain(found: Vec<Option<zeroize::Zeroizing<String>>>) -> Vec<Option<String>> {
    found
        .into_iter()
        .map(|s| s.map(|s| s.as_str().to_owned()))
        .collect()
}

#[test]
fn a_batch_returns_what_keyring_core_and_secret_tool_wrote_in_the_order_asked() -> TestResult {
    let keyring = SecretService::start()?;
    // SAFETY: first thing in the test, before any thread.
    unsafe { keyring.export_to_this_process() };
    let service = "rolehop-test-batch";
    let keychain = Keychain::new(service);
    // Longer than one AES block, and not ASCII: padding and UTF-8 both matter.
    let long = format!("{{\"secret\":\"{}ü\"}}", "k".repeat(200));
    keychain.set("cached-credentials:one", &long)?;
    keychain.set("access-keys:two", "s")?;
    keyring.store(service, "written-by-another-client", "from secret-tool")?;
    // Same account under another service: never returned.
    Keychain::new("rolehop-test-batch-other").set("access-keys:two", "other service")?;

    let accounts = [
        "access-keys:two",
        "no-such-account",
        "cached-credentials:one",
        "written-by-another-client",
    ]
    .map(str::to_owned);
    let rt = runtime();
    let found = rt.block_on(keychain.get_many_async(&accounts))?;
    // The batch itself answered: no entry was left to keyring-core's one-by-one path.
    let batched = rt.block_on(keychain.get_many_batched_only(&accounts))?;

    assert_eq!(plain(batched), plain(found.clone()));
    assert_eq!(
        plain(found),
        vec![
            Some("s".to_owned()),
            None,
            Some(long),
            Some("from secret-tool".to_owned()),
        ]
    );
    Ok(())
}

#[test]
fn a_later_batch_on_the_same_keychain_sees_later_writes() -> TestResult {
    let keyring = SecretService::start()?;
    // SAFETY: first thing in the test, before any thread.
    unsafe { keyring.export_to_this_process() };
    let keychain = Keychain::new("rolehop-test-batch-later");
    let accounts = ["a".to_owned(), "b".to_owned()];
    let rt = runtime();

    // The batch path only, so that a fallback to keyring-core cannot hide a stale session.
    keychain.set("a", "first")?;
    let before = rt.block_on(keychain.get_many_batched_only(&accounts))?;
    keychain.set("a", "second")?;
    keychain.set("b", "new")?;
    let after = rt.block_on(keychain.get_many_batched_only(&accounts))?;
    keychain.delete("a")?;
    let deleted = rt.block_on(keychain.get_many_batched_only(&accounts))?;

    assert_eq!(plain(before), vec![Some("first".to_owned()), None]);
    assert_eq!(
        plain(after),
        vec![Some("second".to_owned()), Some("new".to_owned())]
    );
    assert_eq!(plain(deleted), vec![None, Some("new".to_owned())]);
    Ok(())
}

#[test]
fn an_account_matched_by_two_items_fails_as_a_single_read_does() -> TestResult {
    let keyring = SecretService::start()?;
    // SAFETY: first thing in the test, before any thread.
    unsafe { keyring.export_to_this_process() };
    let service = "rolehop-test-batch-ambiguous";
    keyring.store(service, "twice", "one")?;
    // A second item whose attributes include the same service and username.
    let status = Command::new("secret-tool")
        .args(["store", "--label", "second", "service", service])
        .args(["username", "twice", "extra", "attribute"])
        .envs(keyring.env())
        .stdin(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().expect("stdin").write_all(b"two")?;
            child.wait()
        })?;
    assert!(status.success(), "secret-tool store failed");
    let keychain = Keychain::new(service);
    keychain.set("fine", "ok")?;

    let single = keychain.get("twice").expect_err("two items match");
    let batch = runtime()
        .block_on(keychain.get_many_async(&["fine".to_owned(), "twice".to_owned()]))
        .expect_err("two items match");

    assert_eq!(batch, single);
    // The batch path itself leaves that entry to keyring-core rather than pick one.
    assert!(
        runtime()
            .block_on(keychain.get_many_batched_only(&["twice".to_owned()]))
            .is_err()
    );
    Ok(())
}
