//! Issue 27, part 5: the console per session. A session's browser (the default one, a
//! Chrome/Chromium/Brave/Edge profile, a Firefox container), destination and region,
//! set with `session add/edit` and overridden per call by `rolehop console`'s flags;
//! a sign-out of the session last signed in to that profile or container before a
//! sign-in as another; the sign-in token on no command line.
//!
//! The browsers are recording stand-ins on `PATH` ([`rolehop_e2e::browsers`]) that open
//! what they are given, so the one-time loopback address's redirect is followed to the
//! federation stand-in ([`rolehop_e2e::federation`]), which records the sign-out page
//! and the sign-in in the order the browser asked for them.

use std::time::Duration;

use rolehop_e2e::browsers::{Launch, RecordingBrowsers};
use rolehop_e2e::federation::{Federation, query, value};

use crate::cli::{Run, World};

const TOKEN: &str = "part5-probe-token";

struct Scene {
    world: World,
    federation: Federation,
    browsers: RecordingBrowsers,
    /// Every request the federation stand-in got so far, in order.
    seen: std::cell::RefCell<Vec<String>>,
}

/// The seed's story with `production` started (so no console call needs an MFA code),
/// the federation stand-in answering a sign-in token, and the browsers installed.
fn scene() -> Scene {
    let world = World::start();
    world.seed_story();
    world
        .rolehop(&["session", "start", "production", "--mfa-code", "123456"])
        .ok();
    Scene {
        world,
        federation: Federation::answering("200 OK", r#"{"SigninToken":"part5-probe-token"}"#),
        browsers: RecordingBrowsers::install().expect("the stand-in browsers"),
        seen: Default::default(),
    }
}

impl Scene {
    fn rolehop(&self, args: &[&str]) -> Run {
        let path = self.browsers.path();
        self.world.rolehop_with(
            args,
            &[
                ("ROLEHOP_FEDERATION_URL", &self.federation.url),
                ("PATH", &path),
            ],
            None,
        )
    }

    /// `session add role` of `readonly`, chained from alice, with `console` flags.
    fn add_readonly(&self, console: &[&str]) -> Run {
        let add = [
            "session",
            "add",
            "role",
            "--name",
            "readonly",
            "--parent",
            "alice",
            "--role-arn",
            "arn:aws:iam::123456789012:role/ReadOnly",
            "--profile",
            "readonly",
        ];
        self.rolehop(&[add.as_slice(), console].concat())
    }

    fn console(&self, args: &[&str]) -> Run {
        self.rolehop(&[&["console"], args].concat())
    }

    /// The federation requests so far, waiting until there are `count` sign-ins
    /// (`Action=login`, asked by a browser) in all.
    fn until_logins(&self, count: usize) -> Vec<String> {
        let logins = |seen: &[String]| seen.iter().filter(|r| is_login(r)).count();
        while logins(&self.seen.borrow()) < count {
            let next = self
                .federation
                .requests
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| {
                    panic!(
                        "no sign-in #{count}; seen {:?}; browsers: {:?} {}",
                        self.seen.borrow(),
                        self.browsers.launches(),
                        self.browsers.errors()
                    )
                });
            self.seen.borrow_mut().push(next);
        }
        self.seen.borrow().clone()
    }

    /// The sign-in's `Destination`, the `count`th sign-in's.
    fn destination(&self, count: usize) -> String {
        let seen = self.until_logins(count);
        let login = seen.iter().filter(|r| is_login(r)).nth(count - 1).unwrap();
        value(&query(login), "Destination").to_owned()
    }

    fn console_of(&self, session: &str) -> serde_json::Value {
        let list = self
            .world
            .rolehop(&["session", "list", "--json"])
            .ok()
            .json();
        list.as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == session)
            .unwrap_or_else(|| panic!("no {session} in {list}"))["console"]
            .clone()
    }

    fn workspace_bytes(&self) -> Vec<u8> {
        std::fs::read(
            self.world
                .peers
                .home()
                .rolehop_home()
                .join("workspace.json"),
        )
        .expect("the workspace file")
    }
}

fn is_login(request: &str) -> bool {
    request.contains("Action=login")
}

fn is_logout(request: &str) -> bool {
    request.starts_with("/oauth?Action=logout")
}

fn loopback(launch: &Launch) -> bool {
    launch.url.starts_with("http://127.0.0.1:") && !launch.url.contains("Action=")
}

#[test]
fn part5_session_add_and_edit_keep_the_console_choice_and_list_json_shows_it() {
    let s = scene();
    let edited = s
        .rolehop(&[
            "session",
            "edit",
            "role",
            "production",
            "--console-browser",
            "chrome",
            "--console-browser-profile",
            "Profile 1",
            "--console-destination",
            "/cloudformation/home",
            "--console-region",
            "eu-central-1",
        ])
        .ok();
    assert!(
        edited
            .stdout
            .contains("console: chrome (profile Profile 1), /cloudformation/home, eu-central-1"),
        "{edited:?}"
    );
    assert_eq!(
        s.console_of("production"),
        serde_json::json!({
            "browser": {"kind": "chrome", "profile": "Profile 1"},
            "destination": "/cloudformation/home",
            "region": "eu-central-1",
        })
    );
    // An empty destination goes back to the home page; the rest stays.
    s.rolehop(&[
        "session",
        "edit",
        "role",
        "production",
        "--console-destination",
        "",
    ])
    .ok();
    assert_eq!(
        s.console_of("production"),
        serde_json::json!({
            "browser": {"kind": "chrome", "profile": "Profile 1"},
            "destination": null,
            "region": "eu-central-1",
        })
    );
    // At creation, and on an IAM user.
    assert_eq!(
        s.console_of("codebuild"),
        serde_json::json!({"browser": {"kind": "default"}, "destination": null, "region": null})
    );
    s.add_readonly(&[
        "--console-browser",
        "firefox",
        "--console-container",
        "Prod ops",
        "--console-destination",
        "s3",
    ])
    .ok();
    assert_eq!(
        s.console_of("readonly"),
        serde_json::json!({
            "browser": {"kind": "firefox", "container": "Prod ops"},
            "destination": "s3",
            "region": null,
        })
    );
    s.rolehop(&[
        "session",
        "edit",
        "iam-user",
        "alice",
        "--console-browser",
        "brave",
        "--console-browser-profile",
        "Default",
    ])
    .ok();
    assert_eq!(
        s.console_of("alice")["browser"],
        serde_json::json!({"kind": "brave", "profile": "Default"})
    );
}

#[test]
fn part5_bad_console_choices_are_refused_naming_the_field_and_change_nothing() {
    let s = scene();
    let before = s.workspace_bytes();
    let edit =
        |extra: &[&str]| s.rolehop(&[&["session", "edit", "role", "production"], extra].concat());
    for (args, field) in [
        (
            vec![
                "--console-browser",
                "opera",
                "--console-browser-profile",
                "x",
            ],
            "console_browser",
        ),
        (
            vec!["--console-browser", "chrome"],
            "console_browser_profile",
        ),
        (
            vec!["--console-browser", "edge", "--console-browser-profile", ""],
            "console_browser_profile",
        ),
        (
            vec![
                "--console-browser",
                "firefox",
                "--console-container",
                "a&url=x",
            ],
            "console_container",
        ),
        (
            vec![
                "--console-browser",
                "firefox",
                "--console-container",
                "50%+",
            ],
            "console_container",
        ),
        (
            vec!["--console-destination", "s3/../iam"],
            "console_destination",
        ),
        (
            vec!["--console-destination", "//evil.example/x"],
            "console_destination",
        ),
        (vec!["--console-region", "mars-1"], "console_region"),
    ] {
        let refused = edit(&args).fails_with(3);
        assert!(
            refused.stderr.starts_with(&format!("rolehop: {field}: ")),
            "{args:?}: {refused:?}"
        );
    }
    let added = s
        .add_readonly(&["--console-browser", "firefox", "--console-container", ""])
        .fails_with(3);
    assert!(
        added.stderr.starts_with("rolehop: console_container: "),
        "{added:?}"
    );
    for (args, field) in [
        (vec!["--browser", "opera"], "browser"),
        (vec!["--browser", "chromium"], "browser_profile"),
        (
            vec!["--browser", "firefox", "--container", "a#b"],
            "container",
        ),
        (vec!["--path", "s3"], "path"),
        (vec!["--service", "/s3/buckets"], "service"),
        (vec!["--path", "/s3/../iam"], "path"),
    ] {
        let refused = s
            .console(&[&["production"], args.as_slice()].concat())
            .fails_with(3);
        assert!(
            refused.stderr.starts_with(&format!("rolehop: {field}: ")),
            "{args:?}: {refused:?}"
        );
    }
    assert_eq!(
        s.workspace_bytes(),
        before,
        "a refusal changed the workspace"
    );
    assert!(s.browsers.launches().is_empty(), "a browser was started");
    assert!(
        s.federation.requests.try_recv().is_err(),
        "the federation endpoint was asked"
    );
}

#[test]
fn part5_each_browser_opens_the_sign_in_in_its_profile_or_container() {
    let s = scene();
    let cases = [
        ("chrome", "--browser-profile", "Profile 1", "google-chrome"),
        ("chromium", "--browser-profile", "Default", "chromium"),
        ("brave", "--browser-profile", "Work", "brave-browser"),
        ("edge", "--browser-profile", "Profile 2", "microsoft-edge"),
        ("firefox", "--container", "Prod ops", "firefox"),
    ];
    for (i, (browser, flag, place, program)) in cases.into_iter().enumerate() {
        let run = s
            .console(&[
                "production",
                "--browser",
                browser,
                flag,
                place,
                "--path",
                "/s3/buckets",
                "--region",
                "eu-central-1",
            ])
            .ok();
        let kind = if browser == "firefox" {
            "container"
        } else {
            "profile"
        };
        assert!(
            run.stderr.contains(&format!(
                "opened the console for 'production' in {browser} ({kind} {place})"
            )),
            "{run:?}"
        );
        assert!(!run.stderr.contains("signed"), "{run:?}");
        assert_eq!(
            s.destination(i + 1),
            "https://console.aws.amazon.com/s3/buckets?region=eu-central-1"
        );
        let launches = s.browsers.launches();
        assert_eq!(launches.len(), i + 1, "{launches:?}");
        let launch = &launches[i];
        assert_eq!(launch.program, program);
        assert!(loopback(launch), "{launch:?}");
        if browser == "firefox" {
            assert_eq!(launch.container.as_deref(), Some(place));
            assert_eq!(launch.argv.len(), 1, "{launch:?}");
            assert!(
                launch.argv[0]
                    .starts_with("ext+container:name=Prod+ops&url=http%3A%2F%2F127.0.0.1%3A"),
                "{launch:?}"
            );
        } else {
            assert_eq!(
                launch.argv,
                [format!("--profile-directory={place}"), launch.url.clone()]
            );
        }
    }
    assert!(s.browsers.errors().is_empty(), "{}", s.browsers.errors());
}

#[test]
fn part5_the_sessions_settings_choose_browser_page_and_region_and_flags_override_them() {
    let s = scene();
    s.rolehop(&[
        "session",
        "edit",
        "role",
        "production",
        "--console-browser",
        "brave",
        "--console-browser-profile",
        "Work",
        "--console-destination",
        "cloudformation",
        "--console-region",
        "eu-central-1",
    ])
    .ok();
    s.console(&["production"]).ok();
    assert_eq!(
        s.destination(1),
        "https://console.aws.amazon.com/cloudformation/home?region=eu-central-1"
    );
    s.console(&["production", "--service", "ec2", "--region", "us-west-2"])
        .ok();
    assert_eq!(
        s.destination(2),
        "https://console.aws.amazon.com/ec2/home?region=us-west-2"
    );
    for launch in s.browsers.launches() {
        assert_eq!(launch.program, "brave-browser");
        assert_eq!(launch.argv[0], "--profile-directory=Work");
    }
    // Without a console region the session's own region (production's eu-west-1) applies.
    s.rolehop(&[
        "session",
        "edit",
        "role",
        "production",
        "--console-region",
        "",
    ])
    .ok();
    s.console(&["production"]).ok();
    assert_eq!(
        s.destination(3),
        "https://console.aws.amazon.com/cloudformation/home?region=eu-west-1"
    );
}

#[test]
fn part5_signing_in_as_another_session_signs_the_previous_one_out_first() {
    let s = scene();
    for session in ["codebuild", "production"] {
        s.rolehop(&[
            "session",
            "edit",
            "role",
            session,
            "--console-browser",
            "firefox",
            "--console-container",
            "Work",
        ])
        .ok();
    }
    let first = s.console(&["codebuild"]).ok();
    assert!(!first.stderr.contains("signed"), "{first:?}");
    s.until_logins(1);

    let second = s.console(&["production"]).ok();
    assert!(
        second
            .stderr
            .contains("signed 'codebuild' out of the console in firefox (container Work) first"),
        "{second:?}"
    );
    let seen = s.until_logins(2);
    let logout = seen.iter().position(|r| is_logout(r));
    let second_login = seen
        .iter()
        .enumerate()
        .filter(|(_, r)| is_login(r))
        .nth(1)
        .map(|(i, _)| i);
    assert!(
        matches!((logout, second_login), (Some(out), Some(login)) if out < login),
        "the sign-out is not before the second sign-in: {seen:?}"
    );
    let launches = s.browsers.launches();
    assert_eq!(launches.len(), 3, "{launches:?}");
    // The sign-out page opened in the same container, before the sign-in address.
    assert_eq!(launches[1].program, "firefox");
    assert_eq!(launches[1].container.as_deref(), Some("Work"));
    assert!(
        launches[1].url.ends_with("/oauth?Action=logout"),
        "{:?}",
        launches[1]
    );
    assert!(loopback(&launches[2]), "{:?}", launches[2]);
    assert_eq!(launches[2].container.as_deref(), Some("Work"));

    // The same session again, or another container, or --no-sign-out: no sign-out.
    let again = s.console(&["production"]).ok();
    assert!(!again.stderr.contains("signed"), "{again:?}");
    let elsewhere = s
        .console(&["codebuild", "--browser", "firefox", "--container", "Other"])
        .ok();
    assert!(!elsewhere.stderr.contains("signed"), "{elsewhere:?}");
    let kept = s.console(&["codebuild", "--no-sign-out"]).ok();
    assert!(!kept.stderr.contains("signed"), "{kept:?}");
    let seen = s.until_logins(5);
    assert_eq!(seen.iter().filter(|r| is_logout(r)).count(), 1, "{seen:?}");
    assert_eq!(s.browsers.launches().len(), 6);
}

/// The sign-in URL carries a SigninToken that signs anyone in for 15 minutes; a command
/// line is readable by every local user. Every stand-in browser scanned every process's
/// command line when it started: through the default browser, a Chromium profile, a
/// Firefox container and a sign-out, none holds the token or the session's keys.
#[test]
fn part5_no_token_or_key_is_in_any_argv_of_the_flow() {
    let s = scene();
    let cached = s
        .world
        .rolehop(&["credential-process", "production"])
        .ok()
        .json();
    let secrets = [
        TOKEN.to_owned(),
        "SigninToken".to_owned(),
        cached["SecretAccessKey"].as_str().unwrap().to_owned(),
        cached["SessionToken"].as_str().unwrap().to_owned(),
    ];
    s.console(&["codebuild"]).ok();
    s.console(&["production"]).ok(); // signs codebuild out of the default browser
    s.console(&["production", "--browser", "edge", "--browser-profile", "P"])
        .ok();
    s.console(&["codebuild", "--browser", "edge", "--browser-profile", "P"])
        .ok(); // signs production out of Edge's profile P
    s.console(&["codebuild", "--browser", "firefox", "--container", "C"])
        .ok();
    // The secrets first: whatever else went wrong, no command line may hold one.
    let launches = s.browsers.wait_for(7);
    for launch in &launches {
        let own = launch.argv.join(" ");
        assert!(
            launch.cmdlines.iter().any(|c| c.contains(&own)),
            "the scan did not see the browser's own command line: {launch:?}"
        );
        for secret in &secrets {
            assert!(
                !own.contains(secret.as_str()),
                "argv holds a secret: {launch:?}"
            );
            assert!(
                !launch.cmdlines.iter().any(|c| c.contains(secret.as_str())),
                "a command line holds a secret while {} ran",
                launch.program
            );
        }
    }
    let seen = s.until_logins(5);
    assert_eq!(seen.iter().filter(|r| is_logout(r)).count(), 2, "{seen:?}");
    assert_eq!(launches.len(), 7, "{launches:?}");
    assert_eq!(
        launches
            .iter()
            .map(|l| l.program.as_str())
            .collect::<Vec<_>>(),
        [
            "xdg-open",
            "xdg-open",
            "xdg-open",
            "microsoft-edge",
            "microsoft-edge",
            "microsoft-edge",
            "firefox"
        ]
    );
}

/// IAM Identity Center roles (most of them made by a sync) take console settings too:
/// at `session add sso-role` and with `session edit sso-role`, which changes nothing
/// else of theirs.
#[test]
fn part5_an_sso_role_takes_console_settings_at_add_and_edit() {
    let world = World::start_without_peers();
    world
        .rolehop(&[
            "sso",
            "add",
            "--name",
            "acme",
            "--start-url",
            "https://acme.awsapps.com/start",
            "--region",
            "eu-west-1",
        ])
        .ok();
    world
        .rolehop(&[
            "session",
            "add",
            "sso-role",
            "--name",
            "admin",
            "--sso",
            "acme",
            "--account-id",
            "111122223333",
            "--role-name",
            "AdministratorAccess",
            "--profile",
            "admin",
            "--console-browser",
            "edge",
            "--console-browser-profile",
            "Work",
        ])
        .ok();
    let listed = |world: &World| {
        let list = world.rolehop(&["session", "list", "--json"]).ok().json();
        list[0].clone()
    };
    let before = listed(&world);
    assert_eq!(
        before["console"]["browser"],
        serde_json::json!({"kind": "edge", "profile": "Work"})
    );
    world
        .rolehop(&[
            "session",
            "edit",
            "sso-role",
            "admin",
            "--console-destination",
            "/iam/home#/roles",
            "--console-region",
            "us-east-2",
        ])
        .ok();
    let after = listed(&world);
    assert_eq!(
        after["console"],
        serde_json::json!({
            "browser": {"kind": "edge", "profile": "Work"},
            "destination": "/iam/home#/roles",
            "region": "us-east-2",
        })
    );
    for key in ["kind", "profile", "region", "name", "id"] {
        assert_eq!(before[key], after[key], "{key}");
    }
    let refused = world
        .rolehop(&[
            "session",
            "edit",
            "sso-role",
            "admin",
            "--console-browser",
            "chromium",
        ])
        .fails_with(3);
    assert!(
        refused
            .stderr
            .starts_with("rolehop: console_browser_profile: "),
        "{refused:?}"
    );
    assert_eq!(listed(&world), after);
}
