//! The reconcile's rules, one table row each: every row syncs a workspace prepared by
//! its `setup` to its accounts and checks the report, then the workspace.

use super::*;
use crate::model::{ChainedRole, IamUser, ProfileName, Session, SessionId, SessionState};
use crate::sync::Declared;
use crate::workspace::{StoredSession, Workspace};

const ROLE: &str = "Admin";

/// A workspace with the management account's session `mgmt`, the `via` of every sync.
fn workspace() -> (Workspace, SessionId) {
    let mut ws = Workspace::default();
    let via = SessionId::new();
    ws.add_session(Session {
        console: Default::default(),
        id: via,
        name: "mgmt".into(),
        profile: ProfileName::parse("mgmt").unwrap(),
        region: None,
        kind: SessionKind::IamUser(IamUser {
            mfa_serial: None,
            session_duration: 3600,
            account_id: Some("999999999999".into()),
        }),
    })
    .unwrap();
    (ws, via)
}

fn source(via: SessionId) -> SyncSource {
    SyncSource::Organization {
        via,
        role_name: ROLE.into(),
    }
}

fn role_kind(via: SessionId, account_id: &str) -> SessionKind {
    SessionKind::Role(ChainedRole {
        parent: via,
        role_arn: format!("arn:aws:iam::{account_id}:role/{ROLE}"),
        role_session_name: None,
        external_id: None,
        duration: None,
        source_identity: None,
        tags: Vec::new(),
        transitive_tag_keys: Vec::new(),
    })
}

fn entries(via: SessionId, accounts: &[(&str, &str)]) -> Vec<SyncEntry> {
    accounts
        .iter()
        .map(|(id, name)| SyncEntry {
            key: SyncKey {
                account_id: (*id).into(),
                role_name: ROLE.into(),
            },
            account_name: (*name).into(),
            region: None,
            kind: role_kind(via, id),
            declared: None,
        })
        .collect()
}

fn sync(ws: &mut Workspace, via: SessionId, accounts: &[(&str, &str)]) -> SyncReport {
    let plan = SyncPlan::new(
        ws,
        &source(via),
        &NameTemplate::default(),
        &entries(via, accounts),
    )
    .unwrap();
    let planned = plan.report().clone();
    let report = plan.apply(ws).unwrap();
    assert_eq!(report, planned, "apply does what the plan said");
    report
}

fn by_account<'a>(ws: &'a Workspace, account_id: &str) -> &'a StoredSession {
    ws.sessions
        .iter()
        .find(|s| {
            s.origin
                .as_ref()
                .is_some_and(|o| o.key.account_id == account_id)
        })
        .unwrap_or_else(|| panic!("no session for {account_id}"))
}

fn edit(ws: &mut Workspace, account_id: &str, change: impl FnOnce(&mut Session)) {
    let id = by_account(ws, account_id).session.id;
    let mut s = ws.get(id).unwrap().session.clone();
    change(&mut s);
    ws.replace_session(s).unwrap();
}

fn set_state(ws: &mut Workspace, account_id: &str, state: SessionState) {
    let id = by_account(ws, account_id).session.id;
    ws.set_state(id, state);
}

fn names(items: &[SyncedSession]) -> Vec<&str> {
    items.iter().map(|i| i.name.as_str()).collect()
}

fn active() -> SessionState {
    SessionState::Active {
        expires_at: chrono::Utc::now(),
    }
}

const A: &str = "111111111111";
const B: &str = "222222222222";
const C: &str = "333333333333";

/// One rule: the workspace after the first sync of `first` and `setup`, synced to
/// `then`, must report `expect` and pass `check`.
struct Case {
    rule: &'static str,
    first: &'static [(&'static str, &'static str)],
    setup: fn(&mut Workspace, SessionId),
    then: &'static [(&'static str, &'static str)],
    /// Names added, updated, removed, kept (unchanged), kept because live, kept as a
    /// parent.
    expect: [&'static [&'static str]; 6],
    check: fn(&Workspace),
}

fn nothing(_: &mut Workspace, _: SessionId) {}
fn no_check(_: &Workspace) {}

const CASES: &[Case] = &[
    Case {
        rule: "a first sync adds one session per account, named from the template",
        first: &[],
        setup: nothing,
        then: &[(A, "Prod"), (B, "Staging Env")],
        expect: [
            &["Prod-Admin", "Staging-Env-Admin"],
            &[],
            &[],
            &[],
            &[],
            &[],
        ],
        check: |ws| {
            let s = by_account(ws, A);
            assert_eq!(s.session.profile.as_str(), "Prod-Admin");
            assert!(ws.profile("Prod-Admin").is_some());
            let SessionKind::Role(r) = &s.session.kind else {
                panic!("a role")
            };
            assert_eq!(r.role_arn, format!("arn:aws:iam::{A}:role/Admin"));
            assert_eq!(ws.view(s).account_name.as_deref(), Some("Prod"));
        },
    },
    Case {
        rule: "the same accounts again change nothing",
        first: &[(A, "Prod"), (B, "Staging")],
        setup: nothing,
        then: &[(A, "Prod"), (B, "Staging")],
        expect: [&[], &[], &[], &["Prod-Admin", "Staging-Admin"], &[], &[]],
        check: no_check,
    },
    Case {
        rule: "a renamed account renames its session and profile",
        first: &[(A, "Prod")],
        setup: nothing,
        then: &[(A, "Production")],
        expect: [&[], &["Production-Admin"], &[], &[], &[], &[]],
        check: |ws| {
            let s = by_account(ws, A);
            assert_eq!(s.session.profile.as_str(), "Production-Admin");
            assert_eq!(s.origin.as_ref().unwrap().account_name, "Production");
            assert!(ws.profile("Prod-Admin").is_none(), "the old profile went");
        },
    },
    Case {
        rule: "a session the user renamed keeps its name; its profile follows the account",
        first: &[(A, "Prod")],
        setup: |ws, _| edit(ws, A, |s| s.name = "my-prod".into()),
        then: &[(A, "Production")],
        expect: [&[], &["my-prod"], &[], &[], &[], &[]],
        check: |ws| {
            let s = by_account(ws, A);
            assert_eq!(s.session.profile.as_str(), "Production-Admin");
        },
    },
    Case {
        rule: "a renamed session is kept as it is when the account did not change",
        first: &[(A, "Prod")],
        setup: |ws, _| edit(ws, A, |s| s.name = "my-prod".into()),
        then: &[(A, "Prod")],
        expect: [&[], &[], &[], &["my-prod"], &[], &[]],
        check: no_check,
    },
    Case {
        rule: "a profile the user chose stays; the name follows the account",
        first: &[(A, "Prod")],
        setup: |ws, _| edit(ws, A, |s| s.profile = ProfileName::parse("prod").unwrap()),
        then: &[(A, "Production")],
        expect: [&[], &["Production-Admin"], &[], &[], &[], &[]],
        check: |ws| assert_eq!(by_account(ws, A).session.profile.as_str(), "prod"),
    },
    Case {
        rule: "a region the user chose stays",
        first: &[(A, "Prod")],
        setup: |ws, _| edit(ws, A, |s| s.region = Some("eu-west-1".into())),
        then: &[(A, "Production")],
        expect: [&[], &["Production-Admin"], &[], &[], &[], &[]],
        check: |ws| {
            assert_eq!(
                by_account(ws, A).session.region.as_deref(),
                Some("eu-west-1")
            )
        },
    },
    Case {
        rule: "an account that left is removed, with its profile",
        first: &[(A, "Prod"), (B, "Staging")],
        setup: nothing,
        then: &[(A, "Prod")],
        expect: [&[], &[], &["Staging-Admin"], &["Prod-Admin"], &[], &[]],
        check: |ws| {
            assert_eq!(ws.sessions.len(), 2);
            assert!(ws.profile("Staging-Admin").is_none());
        },
    },
    Case {
        rule: "a failed session of an account that left is removed",
        first: &[(A, "Prod")],
        setup: |ws, _| {
            let failure = crate::model::Failure::new(
                crate::model::FailureCode::Aws {
                    code: "AccessDenied".into(),
                },
                "no",
            );
            set_state(ws, A, SessionState::Failed(failure));
        },
        then: &[],
        expect: [&[], &[], &["Prod-Admin"], &[], &[], &[]],
        check: |ws| assert_eq!(ws.sessions.len(), 1),
    },
    Case {
        rule: "an active session of an account that left is kept and reported",
        first: &[(A, "Prod")],
        setup: |ws, _| set_state(ws, A, active()),
        then: &[],
        expect: [&[], &[], &[], &[], &["Prod-Admin"], &[]],
        check: |ws| assert!(ws.profile("Prod-Admin").is_some()),
    },
    Case {
        rule: "a starting session of an account that left is kept and reported",
        first: &[(A, "Prod")],
        setup: |ws, _| set_state(ws, A, SessionState::Pending),
        then: &[],
        expect: [&[], &[], &[], &[], &["Prod-Admin"], &[]],
        check: no_check,
    },
    Case {
        rule: "a session others chain from is kept and reported with its children",
        first: &[(A, "Prod")],
        setup: |ws, _| {
            let parent = by_account(ws, A).session.id;
            ws.add_session(Session {
                console: Default::default(),
                id: SessionId::new(),
                name: "deeper".into(),
                profile: ProfileName::parse("deeper").unwrap(),
                region: None,
                kind: SessionKind::Role(ChainedRole {
                    parent,
                    role_arn: format!("arn:aws:iam::{A}:role/Deeper"),
                    role_session_name: None,
                    external_id: None,
                    duration: None,
                    source_identity: None,
                    tags: Vec::new(),
                    transitive_tag_keys: Vec::new(),
                }),
            })
            .unwrap();
        },
        then: &[],
        expect: [&[], &[], &[], &[], &[], &["Prod-Admin"]],
        check: |ws| assert_eq!(ws.sessions.len(), 3),
    },
    Case {
        rule: "two accounts of one name: the second by key gets its account id",
        first: &[],
        setup: nothing,
        then: &[(B, "Dev"), (A, "Dev")],
        expect: [
            &["Dev-Admin", "Dev-Admin-222222222222"],
            &[],
            &[],
            &[],
            &[],
            &[],
        ],
        check: no_check,
    },
    Case {
        rule: "a name held by the user's own session is not taken over",
        first: &[],
        setup: |ws, via| {
            ws.add_session(Session {
                console: Default::default(),
                id: SessionId::new(),
                name: "Prod-Admin".into(),
                profile: ProfileName::parse("mine").unwrap(),
                region: None,
                kind: role_kind(via, C),
            })
            .unwrap();
        },
        then: &[(A, "Prod")],
        expect: [&["Prod-Admin-111111111111"], &[], &[], &[], &[], &[]],
        check: no_check,
    },
    Case {
        rule: "a profile held by the user's own session is not shared",
        first: &[],
        setup: |ws, _| {
            ws.add_profile("Prod-Admin").unwrap();
            let via = ws.find("mgmt").unwrap().session.id;
            let mut s = ws.get(via).unwrap().session.clone();
            s.profile = ProfileName::parse("Prod-Admin").unwrap();
            ws.replace_session(s).unwrap();
        },
        then: &[(A, "Prod")],
        expect: [&["Prod-Admin-111111111111"], &[], &[], &[], &[], &[]],
        check: no_check,
    },
    Case {
        rule: "a name freed by a removal in the same sync goes to the new account",
        first: &[(A, "Dev"), (B, "Dev")],
        setup: nothing,
        then: &[(B, "Dev")],
        expect: [&[], &["Dev-Admin"], &["Dev-Admin"], &[], &[], &[]],
        check: no_check,
    },
    Case {
        rule: "an active session keeps its profile; the name follows",
        first: &[(A, "Prod")],
        setup: |ws, _| set_state(ws, A, active()),
        then: &[(A, "Production")],
        expect: [&[], &["Production-Admin"], &[], &[], &[], &[]],
        check: |ws| {
            let s = by_account(ws, A);
            assert_eq!(s.session.profile.as_str(), "Prod-Admin");
            let synced = &s.origin.as_ref().unwrap().synced;
            assert_eq!(synced.profile.as_str(), "Prod-Admin", "retried later");
        },
    },
];

#[test]
fn each_reconcile_rule_holds_and_a_second_run_changes_nothing() {
    for case in CASES {
        let (mut ws, via) = workspace();
        sync(&mut ws, via, case.first);
        (case.setup)(&mut ws, via);
        let report = sync(&mut ws, via, case.then);
        let kept_parent: Vec<&str> = report
            .kept_parent
            .iter()
            .map(|k| k.session.name.as_str())
            .collect();
        let got: [Vec<&str>; 6] = [
            names(&report.added),
            names(&report.updated),
            names(&report.removed),
            names(&report.kept),
            names(&report.kept_live),
            kept_parent,
        ];
        assert_eq!(got, case.expect.map(<[&str]>::to_vec), "{}", case.rule);
        let c = report.counts;
        assert_eq!(
            [c.added, c.updated, c.removed, c.kept],
            [
                case.expect[0].len(),
                case.expect[1].len(),
                case.expect[2].len(),
                case.expect[3].len() + case.expect[4].len() + case.expect[5].len()
            ]
            .map(|n| n as u32),
            "{}: counts",
            case.rule
        );
        (case.check)(&ws);
        // Idempotent: the same accounts again plan nothing and leave the workspace equal.
        let before = ws.clone();
        let again = sync(&mut ws, via, case.then);
        assert!(!again.changed(), "{}: second run {again:?}", case.rule);
        assert_eq!(
            ws, before,
            "{}: second run changed the workspace",
            case.rule
        );
    }
}

#[test]
fn a_deferred_profile_change_arrives_once_the_session_stops() {
    let (mut ws, via) = workspace();
    sync(&mut ws, via, &[(A, "Prod")]);
    set_state(&mut ws, A, active());
    sync(&mut ws, via, &[(A, "Production")]);
    set_state(&mut ws, A, SessionState::Inactive);
    let report = sync(&mut ws, via, &[(A, "Production")]);
    assert_eq!(names(&report.updated), ["Production-Admin"]);
    assert_eq!(
        by_account(&ws, A).session.profile.as_str(),
        "Production-Admin"
    );
    assert!(ws.profile("Prod-Admin").is_none());
}

#[test]
fn an_account_that_left_is_removed_once_its_session_stops() {
    let (mut ws, via) = workspace();
    sync(&mut ws, via, &[(A, "Prod")]);
    set_state(&mut ws, A, active());
    assert_eq!(sync(&mut ws, via, &[]).counts.removed, 0);
    set_state(&mut ws, A, SessionState::Inactive);
    assert_eq!(names(&sync(&mut ws, via, &[]).removed), ["Prod-Admin"]);
}

#[test]
fn another_source_never_touches_these_sessions() {
    let (mut ws, via) = workspace();
    sync(&mut ws, via, &[(A, "Prod")]);
    let other = SyncSource::Organization {
        via,
        role_name: "ReadOnly".into(),
    };
    let plan = SyncPlan::new(&ws, &other, &NameTemplate::default(), &[]).unwrap();
    assert_eq!(plan.report(), &SyncReport::default());
    assert_eq!(ws.sessions.len(), 2);
}

#[test]
fn a_bad_region_from_the_source_is_refused_naming_it_and_changes_nothing() {
    let (mut ws, via) = workspace();
    sync(&mut ws, via, &[(A, "Prod")]);
    let mut bad = entries(via, &[(A, "Prod"), (B, "Staging")]);
    bad[1].region = Some("nowhere".into());
    let err = SyncPlan::new(&ws, &source(via), &NameTemplate::default(), &bad).unwrap_err();
    assert_eq!(err.field, "region");
}

#[test]
fn an_entry_the_workspace_refuses_fails_the_whole_apply() {
    let (ws, via) = workspace();
    let mut bad = entries(via, &[(A, "Prod"), (B, "Staging")]);
    let SessionKind::Role(r) = &mut bad[1].kind else {
        unreachable!()
    };
    r.role_arn = "not an arn".into();
    let plan = SyncPlan::new(&ws, &source(via), &NameTemplate::default(), &bad).unwrap();
    // The engine applies inside its locked update, which writes nothing on an error.
    let err = plan.apply(&mut ws.clone()).unwrap_err();
    assert!(err.to_string().contains("role_arn"), "{err}");
}

#[test]
fn origins_round_trip_and_sessions_without_one_keep_their_bytes() {
    let (mut ws, via) = workspace();
    let plain = serde_json::to_string(&ws).unwrap();
    assert!(
        !plain.contains("origin"),
        "no origin key on unsynced sessions"
    );
    sync(&mut ws, via, &[(A, "Prod")]);
    let text = serde_json::to_string(&ws).unwrap();
    let again: Workspace = serde_json::from_str(&text).unwrap();
    assert_eq!(again, ws);
    let origin = serde_json::to_value(&by_account(&ws, A).origin).unwrap();
    assert_eq!(origin["source"]["type"], "organization");
    assert_eq!(origin["key"]["account_id"], A);
}

/// Issue 23, finding 9: account names from Organizations and IAM Identity Center are
/// kept as AWS allows them (printable ASCII, at most 50 characters): a look-alike letter,
/// a control character or a bidi override becomes `?`, a longer name is cut.
#[test]
fn account_names_are_kept_as_printable_ascii_of_at_most_50_characters() {
    use crate::sync::{MAX_ACCOUNT_NAME_CHARS, account_name};
    assert_eq!(account_name("Production (EU)"), "Production (EU)");
    // A Cyrillic `а` in "pаyments", an escape, a right-to-left override.
    assert_eq!(account_name("p\u{0430}yments"), "p?yments");
    assert_eq!(account_name("ops\u{1b}[31m"), "ops?[31m");
    assert_eq!(account_name("\u{202e}dorp"), "?dorp");
    let long = "a".repeat(500);
    assert_eq!(account_name(&long).chars().count(), MAX_ACCOUNT_NAME_CHARS);
}

/// A declared entry (a catalog's): `name` instead of the template, `id` on add, and a
/// kind the source changes on re-sync.
fn declared(via: SessionId, account_id: &str, name: &str, id: SessionId) -> SyncEntry {
    let mut e = entries(via, &[(account_id, "team")]).remove(0);
    e.declared = Some(Declared {
        name: name.into(),
        id,
    });
    e
}

fn sync_entries(ws: &mut Workspace, via: SessionId, entries: &[SyncEntry]) -> SyncReport {
    let plan = SyncPlan::new(ws, &source(via), &NameTemplate::default(), entries).unwrap();
    plan.apply(ws).unwrap()
}

#[test]
fn part2_a_declared_entry_is_added_with_its_name_and_id_and_its_kind_follows_the_source() {
    let (mut ws, via) = workspace();
    let id = SessionId::new();
    let first = declared(via, "111111111111", "codebuild", id);
    let report = sync_entries(&mut ws, via, std::slice::from_ref(&first));
    assert_eq!(names(&report.added), ["codebuild"]);
    assert_eq!(
        ws.get(id)
            .expect("added under the declared id")
            .session
            .name,
        "codebuild"
    );

    // The source changes the role (an external id): the session follows.
    let mut changed = declared(via, "111111111111", "codebuild", SessionId::new());
    let SessionKind::Role(r) = &mut changed.kind else {
        unreachable!()
    };
    r.external_id = Some("team-2".into());
    let report = sync_entries(&mut ws, via, std::slice::from_ref(&changed));
    assert_eq!(report.counts.updated, 1, "{report:?}");
    let SessionKind::Role(now) = &ws.get(id).unwrap().session.kind else {
        unreachable!()
    };
    assert_eq!(now.external_id.as_deref(), Some("team-2"));

    // Not under a live session: its credentials came from the role as it was.
    ws.set_state(id, active());
    let mut again = changed.clone();
    let SessionKind::Role(r) = &mut again.kind else {
        unreachable!()
    };
    r.external_id = Some("team-3".into());
    let report = sync_entries(&mut ws, via, &[again]);
    assert_eq!(report.counts.updated, 0, "{report:?}");
    let SessionKind::Role(now) = &ws.get(id).unwrap().session.kind else {
        unreachable!()
    };
    assert_eq!(now.external_id.as_deref(), Some("team-2"));

    // An undeclared entry's kind is never changed by a re-sync (organizations, SSO).
    let (mut ws, via) = workspace();
    sync(&mut ws, via, &[("222222222222", "Prod")]);
    let mut e = entries(via, &[("222222222222", "Prod")]).remove(0);
    let SessionKind::Role(r) = &mut e.kind else {
        unreachable!()
    };
    r.external_id = Some("ignored".into());
    let report = sync_entries(&mut ws, via, &[e]);
    assert_eq!(report.counts.updated, 0);
}
