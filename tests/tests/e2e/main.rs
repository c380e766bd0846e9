//! Rolehop's end-to-end suites, as one test binary (ripgrep's `tests/` is built the same
//! way): each suite is a module, so a test is named `suite::test_name`
//! (`cargo nextest run -p rolehop-e2e -E 'test(/^cli_story::/)'` runs one suite), and the
//! core, the AWS SDKs and the harness are linked once instead of once per suite.
//!
//! Every test still runs in its own process under cargo-nextest, which the suites rely
//! on: a test points this process's session bus at its private keyring, or sets its
//! environment, before any thread starts (`SecretService::export_to_this_process`).

// What the suites share.
mod cli;
mod desktop;
mod engine;
mod org;
mod sts;

// The suites.
mod awsfiles_peers;
mod awsfiles_processes;
mod cache_invalidation;
mod cli_catalog;
mod cli_completions;
mod cli_console;
mod cli_console_browser;
mod cli_csv;
mod cli_disk;
mod cli_exec;
mod cli_import;
mod cli_interrupts;
mod cli_kernel_cache;
mod cli_keychain;
mod cli_login_session;
mod cli_logs;
mod cli_manage;
mod cli_mfa_shared;
mod cli_org;
mod cli_picker;
mod cli_race;
mod cli_refusals;
mod cli_rotate_keys;
mod cli_saml;
mod cli_security;
mod cli_server;
mod cli_sso;
mod cli_story;
mod cli_tags;
mod cli_trust;
mod cli_trust_explain;
mod desktop_app;
mod desktop_catalog;
mod desktop_close;
mod desktop_console_browser;
mod desktop_csv;
mod desktop_guide;
mod desktop_interrupts;
mod desktop_keys;
mod desktop_login_session;
mod desktop_org;
mod desktop_saml;
mod desktop_saml_edges;
mod desktop_sso;
mod desktop_tags;
mod desktop_trust;
mod desktop_updates;
mod endpoint_policy;
mod engine_chain;
mod keychain_batch;
/// Ignored in `cargo xtask test`: `cargo xtask bundle --check` runs it on the packages.
mod package;
mod peers_smoke;
mod policy_lint;
/// About two minutes; `.config/nextest.toml` gives it a longer timeout.
mod rotation_soak;
mod saml_peer;
mod sandbox_stop;
mod service_faults;
mod session_token_rules;
mod sso_peer;
mod sts_faults;
