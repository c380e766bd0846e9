// Every command the web UI may call, written once. From this list come:
// - the Tauri registration (`commands::handler()`) and each command's function, which
//   calls `<module>::<name>` with the same arguments (the compiler checks each entry
//   against its function);
// - the app manifest's `allow-<command>` permissions (`build.rs` includes this file);
// - `capabilities/main.json`, which grants exactly those permissions, and the typed
//   TypeScript API `ui/src/bindings/commands.ts` (argument and result types from the
//   Rust types through ts-rs), both written by `cargo xtask bindings` and checked by
//   `cargo xtask test` ("TypeScript bindings are up to date").
//
// An entry: doc comment, `module::name(argument: Type, ...) -> Result type;`. Arguments
// are named as the UI sends them (snake_case); the shell's state reaches the function
// as its first argument, a `Ctx`. Every command answers `Result<T, ErrorPayload>`.
commands! {
    /// Hands the shell the UI's event channel and returns the state to start from.
    sessions::subscribe(events: UiEvents) -> Snapshot;
    /// The engine's one toggle: starts an inactive or failed session, stops an active or
    /// pending one. Resolves when that is done; progress arrives as events.
    sessions::toggle_session(id: SessionId) -> SessionView;
    sessions::add_iam_user(spec: NewIamUser, keys: KeysInput) -> SessionView;
    /// `add_iam_user` with the keys from the AWS console's access-key CSV, its text as
    /// the dialog read the picked or dropped file (the CLI's `--from-csv`).
    sessions::add_iam_user_from_csv(spec: NewIamUser, csv: KeysCsv) -> SessionView;
    sessions::add_role(spec: NewRole) -> SessionView;
    /// A federated (SAML) role: the provider's sign-in URL, the role and the SAML
    /// provider's ARNs (the CLI's `session add saml`).
    sessions::add_saml_role(spec: NewSamlRole) -> SessionView;
    /// Edits a session of either kind: fields left out of `changes` keep their values,
    /// `null` clears one; `keys` (IAM users) replace the stored ones.
    sessions::edit_session(id: SessionId, changes: SessionChanges, keys: Option<KeysInput>) -> SessionView;
    /// Removes a session (with `cascade`, the roles chained from it too); returns the
    /// ids removed.
    sessions::remove_session(id: SessionId, cascade: bool) -> Vec<SessionId>;
    /// Answers a queued MFA request with a code or a cancel.
    sessions::answer_mfa(request_id: uuid::Uuid, answer: MfaAnswer) -> ();

    workspace::add_profile(name: String) -> Profile;
    workspace::rename_profile(name: String, new_name: String) -> ();
    /// Removes a profile, moving its sessions to `reassign_to`.
    workspace::remove_profile(name: String, reassign_to: Option<String>) -> ();
    workspace::update_settings(settings: Settings) -> Settings;
    /// First run: what `import_aws_config` would do with the user's AWS files, changing
    /// nothing (the CLI's `import aws-config --dry-run --import-keys`).
    workspace::scan_aws_config() -> ImportReport;
    /// First run: the CLI's `import aws-config` (with `--import-keys` when
    /// `import_keys`). Keys are only ever copied to the keychain: the files keep every byte.
    workspace::import_aws_config(import_keys: bool) -> ImportReport;
    /// Whether the app starts at login (minimised to the tray): the platform's own record.
    workspace::start_at_login() -> bool;
    workspace::set_start_at_login(enabled: bool) -> bool;

    /// Quits the app (the window's Quit and `Ctrl+Q`), as the tray's "Quit Rolehop" does.
    window::quit_app() -> ();
    /// The answer to a close with no tray (`close-asked`): kept as the close setting,
    /// then acted on (quit, or hide the window and keep running).
    window::choose_close(choice: CloseChoice) -> ();

    /// Asks the update server for a newer version when the core allows it (the setting
    /// on; `on_demand`, or the launch check once a day); a newer version is offered only
    /// once its package matched its signature.
    updates::check_for_updates(on_demand: bool) -> UpdateStatus;
    /// Installs the version the last check offered, where the app's package allows.
    updates::install_update() -> UpdateStatus;
    /// Opens the offered version's download link in the browser (an app not from a package).
    updates::open_update_download() -> ();

    /// What each hop of a role session's chain needs from IAM (the CLI's `trust show`).
    iam::trust_needs(id: SessionId) -> Vec<HopNeeds>;
    /// The role's trust policy read with `iam:GetRole` and evaluated for its hop (the
    /// CLI's `trust check`).
    iam::trust_check(id: SessionId) -> CheckReport;
    /// An IAM user's access keys as IAM lists them, with their ages, their ids masked.
    /// Never asks for an MFA code.
    iam::access_keys(id: SessionId) -> AccessKeyReport;
    /// Rotates an IAM user's access key (the MFA dialog asks if a code is needed).
    iam::rotate_access_key(id: SessionId) -> RotatedKeys;
    /// The CLI's `org sync`: one role session per active member account of the
    /// organization `request.via` can list; the report says what changed.
    iam::org_sync(request: OrgSyncRequest) -> SyncReport;

    /// Opens the AWS console signed in as the session, in the default browser (the
    /// sign-in URL never reaches the web view).
    browser::open_console(id: SessionId) -> ();
    /// Opens the waiting SSO login's verification URL (the shell holds it) in the
    /// default browser.
    browser::sso_open_browser(id: IntegrationId) -> ();

    /// The IAM Identity Center integrations with their login status.
    sso::integrations() -> Vec<Integration>;
    /// The CLI's `sso add`.
    sso::add_integration(spec: NewIntegration) -> Integration;
    /// Edits an integration (a new start URL, region or scopes drop its login).
    sso::edit_integration(id: IntegrationId, changes: IntegrationChanges) -> Integration;
    /// The CLI's `sso remove [--cascade]`: returns the ids of the sessions removed with it.
    sso::remove_integration(id: IntegrationId, cascade: bool) -> Vec<SessionId>;
    /// Step 1 of the CLI's `sso login`: the URL (and a device login's code) to show at
    /// once; a browser login's page is opened. The login goes on until `sso_login_wait`
    /// has its result or `sso_login_cancel` ends it.
    sso::sso_login_start(id: IntegrationId, flow: LoginFlow) -> LoginPrompt;
    /// The result of the login `sso_login_start` began: the integration, logged in.
    sso::sso_login_wait(id: IntegrationId) -> Integration;
    sso::sso_login_cancel(id: IntegrationId) -> ();
    /// The CLI's `sso logout`.
    sso::sso_logout(id: IntegrationId) -> Integration;
    /// The CLI's `sso sync [--profile-template]`; the report's counts say what changed.
    sso::sso_sync(id: IntegrationId, profile_template: Option<String>) -> SyncReport;

    /// The federated (SAML) integrations (the CLI's `saml list`).
    saml::saml_integrations() -> Vec<SamlIntegration>;
    /// The CLI's `saml add`.
    saml::add_saml_integration(spec: NewSamlIntegration) -> SamlIntegration;
    /// Opens the login window on integration `name`'s provider and, once it posted, the
    /// roles its response grants with a one-time handle; the response stays in the shell.
    saml::saml_sign_in(name: String) -> SamlOffers;
    /// The CLI's `saml sync --role ARN...` with the response `handle` names (used once).
    saml::saml_pick(handle: SamlHandle, roles: Vec<String>) -> SamlSyncReport;
    /// Drops the response `handle` names (the role picker closed).
    saml::saml_forget(handle: SamlHandle) -> ();
    /// "Sign in again" for an active federated session (or a role chained from one)
    /// waiting for a sign-in: the login window on its provider, and with the response a
    /// start that renews it. Closing the window leaves it active until its expiry.
    saml::saml_renew(session: SessionId) -> SessionView;

    /// The team catalogs followed (the CLI's `catalog list`).
    catalog::catalogs() -> Vec<CatalogView>;
    /// What an add, a binding or a sync of a catalog (the CLI's `catalog add`, `bind`,
    /// `sync`) would do: the plan its sync would apply, nothing changed.
    catalog::catalog_preview(change: CatalogChange) -> CatalogSyncReport;
    /// Makes the previewed change, refused (nothing changed) if the catalog's source
    /// moved on from `previewed`, the version the preview read.
    catalog::catalog_confirm(change: CatalogChange, previewed: Option<String>) -> CatalogSyncReport;
    /// The CLI's `catalog remove`.
    catalog::catalog_remove(name: String) -> SyncReport;
    /// Whether each followed catalog's source moved on since its last sync (asked of
    /// git, nothing fetched); the app also checks on a slow timer and says so as the
    /// `catalog-moved-on` event.
    catalog::catalog_news() -> Vec<CatalogNews>;
}
