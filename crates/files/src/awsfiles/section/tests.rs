//! The section editor against hand-made fixtures and generated files: every change it
//! makes, withdrawn, leaves the bytes it started from.

use proptest::prelude::*;

use super::*;

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

const FIXTURES: &[(&str, &[u8])] = &[
    ("credentials-handmade", fixture!("credentials-handmade")),
    ("credentials-duplicates", fixture!("credentials-duplicates")),
    ("credentials-crlf-bom", fixture!("credentials-crlf-bom")),
    ("credentials-empty", fixture!("credentials-empty")),
    ("config-handmade", fixture!("config-handmade")),
    ("config-duplicates", fixture!("config-duplicates")),
    ("config-crlf-bom", fixture!("config-crlf-bom")),
    ("config-crlf", fixture!("config-crlf")),
];

fn want(name: &'static str, value: &str, secret: bool, yields: bool) -> Want {
    Want {
        name,
        value: Zeroizing::new(value.to_owned()),
        secret,
        yields_to_user: yields,
    }
}

fn credential_wants(akid: &str) -> Vec<Want> {
    vec![
        want("aws_access_key_id", akid, false, false),
        want("aws_secret_access_key", "tmp/secret", true, false),
        want("aws_session_token", "tmp-token", true, false),
        want("aws_expiration", "2030-01-01T00:00:00Z", false, false),
    ]
}

fn config_wants() -> Vec<Want> {
    vec![
        want(
            "credential_process",
            "\"/bin/rolehop\" credential-process 42",
            false,
            false,
        ),
        want("region", "ap-south-1", false, true),
    ]
}

/// Keys that make the AWS tools look past Rolehop's (the delivery's own list is longer).
fn shadows(key: &str, has: &dyn Fn(&str) -> bool) -> bool {
    match key {
        "role_arn" => true,
        "source_profile" => has("role_arn"),
        _ => key.starts_with("sso_"),
    }
}

fn rule_for(role: FileRole) -> Conflicts {
    match role {
        FileRole::Credentials => Conflicts::AnyUserKey,
        FileRole::Config => Conflicts::SameKeyOr(shadows),
    }
}

struct Delivered {
    claim: SectionClaim,
    saved: Option<Vec<u8>>,
}

fn deliver(
    doc: &mut Document,
    role: FileRole,
    profile: &str,
    wants: Vec<Want>,
    take_over: bool,
) -> Result<Delivered, UserOwned> {
    let target = Target { role, profile };
    let rule = rule_for(role);
    let prepared = target.prepare(doc, &SectionClaim::default(), wants, rule, take_over)?;
    let saved = prepared.taken_bytes(doc).map(|b| b.to_vec());
    let account = saved.as_ref().map(|_| "account".to_owned());
    let claim = target.execute(doc, SectionClaim::default(), prepared, account);
    Ok(Delivered { claim, saved })
}

/// Withdraws as a later process would: the file re-read, the claim from JSON.
fn withdraw_in_new_process(
    bytes: &[u8],
    role: FileRole,
    profile: &str,
    delivered: Delivered,
) -> Vec<u8> {
    let mut doc = Document::parse(bytes);
    let json = serde_json::to_string(&delivered.claim).unwrap();
    let claim = serde_json::from_str(&json).unwrap();
    let target = Target { role, profile };
    let claim = target.verify(&doc, claim);
    target.withdraw(&mut doc, claim, delivered.saved.as_deref());
    doc.to_bytes()
}

fn keys_of(doc: &Document, role: FileRole, profile: &str) -> Vec<(String, String)> {
    let outline = Outline::of_sections(doc, |n| role.section_is_profile(n, profile));
    outline
        .sections
        .into_iter()
        .flat_map(|s| s.keys)
        .map(|k| (k.name, value_at(doc, k.line).to_string()))
        .collect()
}

fn text(doc: &Document) -> String {
    String::from_utf8(doc.to_bytes()).unwrap()
}

#[test]
fn new_profile_is_appended_after_a_blank_line_and_withdrawn_byte_for_byte() {
    for (name, bytes) in FIXTURES
        .iter()
        .filter(|(n, _)| n.starts_with("credentials"))
    {
        let mut doc = Document::parse(bytes);
        let delivered = deliver(
            &mut doc,
            FileRole::Credentials,
            "rolehop-new",
            credential_wants("ASIA1"),
            false,
        )
        .unwrap_or_else(|_| panic!("{name}: refused"));
        let keys = keys_of(&doc, FileRole::Credentials, "rolehop-new");
        assert_eq!(
            keys[0],
            ("aws_access_key_id".into(), "ASIA1".into()),
            "{name}"
        );
        assert_eq!(keys.len(), 4, "{name}");
        assert!(delivered.claim.added_header, "{name}");
        assert!(
            doc.to_bytes().starts_with(bytes),
            "{name}: the user's bytes come first"
        );
        let after = withdraw_in_new_process(
            &doc.to_bytes(),
            FileRole::Credentials,
            "rolehop-new",
            delivered,
        );
        assert_eq!(after, *bytes, "{name}");
    }
}

#[test]
fn the_file_keeps_its_line_endings_for_rolehops_lines() {
    let mut doc = Document::parse(fixture!("credentials-crlf-bom"));
    deliver(
        &mut doc,
        FileRole::Credentials,
        "p",
        credential_wants("ASIA1"),
        false,
    )
    .unwrap();
    let bytes = doc.to_bytes();
    assert!(bytes.ends_with(b"\r\n[p]\r\naws_access_key_id = ASIA1\r\naws_secret_access_key = tmp/secret\r\naws_session_token = tmp-token\r\naws_expiration = 2030-01-01T00:00:00Z\r\n"));
    assert!(bytes.starts_with(b"\xEF\xBB\xBF[default]\r\n"));
}

#[test]
fn a_file_without_final_newline_keeps_none_and_gets_it_back_exactly() {
    let original = fixture!("credentials-handmade");
    assert!(!original.ends_with(b"\n"));
    let mut doc = Document::parse(original);
    let delivered = deliver(
        &mut doc,
        FileRole::Credentials,
        "p",
        credential_wants("ASIA1"),
        false,
    )
    .unwrap();
    let bytes = doc.to_bytes();
    assert!(bytes.ends_with(b"\n\n[p]\naws_access_key_id = ASIA1\naws_secret_access_key = tmp/secret\naws_session_token = tmp-token\naws_expiration = 2030-01-01T00:00:00Z"));
    assert_eq!(
        withdraw_in_new_process(&bytes, FileRole::Credentials, "p", delivered),
        original
    );
}

#[test]
fn users_own_keys_in_the_credentials_file_refuse_the_profile() {
    for profile in ["default", "legacy", "spaced", "ci"] {
        let mut doc = Document::parse(fixture!("credentials-handmade"));
        let refused = deliver(
            &mut doc,
            FileRole::Credentials,
            profile,
            credential_wants("ASIA1"),
            false,
        );
        assert!(refused.is_err(), "{profile}");
        assert_eq!(
            doc.to_bytes(),
            fixture!("credentials-handmade"),
            "{profile}: unchanged"
        );
        // Even when Rolehop would write nothing there (credential_process mode): the user's
        // keys would shadow the config file's credential_process.
        assert!(deliver(&mut doc, FileRole::Credentials, profile, vec![], false).is_err());
    }
}

#[test]
fn a_users_empty_section_receives_the_keys_and_keeps_its_comment() {
    let original = fixture!("credentials-handmade");
    let mut doc = Document::parse(original);
    let delivered = deliver(
        &mut doc,
        FileRole::Credentials,
        "empty-by-user",
        credential_wants("ASIA9"),
        false,
    )
    .unwrap();
    assert!(!delivered.claim.added_header);
    // Right under the header: the comment and blank line after it stay where they were.
    assert!(text(&doc).contains(
        "[empty-by-user]\naws_access_key_id = ASIA9\naws_secret_access_key = tmp/secret\n\
         aws_session_token = tmp-token\naws_expiration = 2030-01-01T00:00:00Z\n\
         # the user left this section empty on purpose\n\n[ci]"
    ));
    assert_eq!(
        withdraw_in_new_process(
            &doc.to_bytes(),
            FileRole::Credentials,
            "empty-by-user",
            delivered
        ),
        original
    );
}

#[test]
fn take_over_saves_the_users_section_and_puts_it_back_byte_for_byte() {
    for (name, bytes) in FIXTURES
        .iter()
        .filter(|(n, _)| n.starts_with("credentials-"))
    {
        let mut doc = Document::parse(bytes);
        let Ok(delivered) = deliver(
            &mut doc,
            FileRole::Credentials,
            "default",
            credential_wants("ASIA7"),
            true,
        ) else {
            assert_eq!(*name, "credentials-empty");
            continue;
        };
        if *name == "credentials-empty" {
            assert!(delivered.saved.is_none());
        } else {
            let saved = String::from_utf8(delivered.saved.clone().unwrap()).unwrap();
            assert!(
                saved.contains("aws_access_key_id = AKIAUSERDEFAULT"),
                "{name}"
            );
            let keys = keys_of(&doc, FileRole::Credentials, "default");
            assert_eq!(keys.len(), 4, "{name}: only Rolehop's keys: {keys:?}");
            assert!(!text(&doc).contains("AKIAUSERDEFAULT"), "{name}");
        }
        let after =
            withdraw_in_new_process(&doc.to_bytes(), FileRole::Credentials, "default", delivered);
        assert_eq!(after, *bytes, "{name}");
    }
}

#[test]
fn take_over_of_the_last_section_of_a_file_without_final_newline() {
    let original = fixture!("credentials-handmade");
    let mut doc = Document::parse(original);
    let delivered = deliver(
        &mut doc,
        FileRole::Credentials,
        "ci",
        credential_wants("ASIA7"),
        true,
    )
    .unwrap();
    assert!(text(&doc).ends_with("[ci]\naws_access_key_id = ASIA7\naws_secret_access_key = tmp/secret\naws_session_token = tmp-token\naws_expiration = 2030-01-01T00:00:00Z\n"));
    assert_eq!(
        withdraw_in_new_process(&doc.to_bytes(), FileRole::Credentials, "ci", delivered),
        original
    );
}

#[test]
fn region_goes_under_the_users_profile_after_its_sub_keys_and_only_it_is_removed() {
    let original = fixture!("config-handmade");
    let mut doc = Document::parse(original);
    let delivered = deliver(
        &mut doc,
        FileRole::Config,
        "production",
        vec![want("region", "eu-west-3", false, true)],
        // The fixture's production assumes a role: taken over, it goes aside.
        true,
    )
    .unwrap();
    assert!(!delivered.claim.added_header);
    assert!(text(&doc).contains(
        "[profile production]\n; no region here: Rolehop may add one, and must take only that away again\ns3 =\n  addressing_style = path\nregion = eu-west-3\n\n[profile staging]"
    ));
    assert_eq!(
        withdraw_in_new_process(&doc.to_bytes(), FileRole::Config, "production", delivered),
        original
    );
}

#[test]
fn the_users_region_wins_and_nothing_is_written() {
    let original = fixture!("config-handmade");
    for profile in ["default", "staging"] {
        let mut doc = Document::parse(original);
        let delivered = deliver(
            &mut doc,
            FileRole::Config,
            profile,
            vec![want("region", "eu-west-3", false, true)],
            false,
        )
        .unwrap();
        assert!(delivered.claim.is_empty(), "{profile}");
        assert_eq!(doc.to_bytes(), original, "{profile}");
    }
}

#[test]
fn credential_process_is_added_to_a_new_config_profile_and_removed() {
    for (name, bytes) in FIXTURES.iter().filter(|(n, _)| n.starts_with("config")) {
        let mut doc = Document::parse(bytes);
        let delivered = deliver(
            &mut doc,
            FileRole::Config,
            "rolehop dev",
            config_wants(),
            false,
        )
        .unwrap();
        assert!(text(&doc).contains("[profile \"rolehop dev\"]"), "{name}");
        assert_eq!(
            keys_of(&doc, FileRole::Config, "rolehop dev").len(),
            2,
            "{name}"
        );
        let after =
            withdraw_in_new_process(&doc.to_bytes(), FileRole::Config, "rolehop dev", delivered);
        assert_eq!(after, *bytes, "{name}");
    }
}

#[test]
fn a_users_own_credential_process_refuses_unless_taken_over() {
    let original = fixture!("config-handmade");
    let mut doc = Document::parse(original);
    assert!(deliver(&mut doc, FileRole::Config, "tooling", config_wants(), false).is_err());
    let delivered = deliver(&mut doc, FileRole::Config, "tooling", config_wants(), true).unwrap();
    // Only the user's credential_process goes aside: their region stays, and wins.
    assert_eq!(
        keys_of(&doc, FileRole::Config, "tooling"),
        [
            ("region".into(), "us-east-1".into()),
            (
                "credential_process".into(),
                "\"/bin/rolehop\" credential-process 42".into()
            ),
        ]
    );
    assert_eq!(
        delivered.saved.as_deref(),
        Some(&b"credential_process = /usr/local/bin/my-own-helper --profile tooling\n"[..])
    );
    assert_eq!(
        withdraw_in_new_process(&doc.to_bytes(), FileRole::Config, "tooling", delivered),
        original
    );
}

#[test]
fn refresh_rewrites_rolehops_lines_in_place() {
    let mut doc = Document::parse(fixture!("credentials-handmade"));
    let first = deliver(
        &mut doc,
        FileRole::Credentials,
        "p",
        credential_wants("ASIA1"),
        false,
    )
    .unwrap();
    let target = Target {
        role: FileRole::Credentials,
        profile: "p",
    };
    let claim = target.verify(&doc, first.claim);
    let prepared = target
        .prepare(
            &doc,
            &claim,
            credential_wants("ASIA2"),
            Conflicts::AnyUserKey,
            false,
        )
        .unwrap();
    let len = doc.len();
    let claim = target.execute(&mut doc, claim, prepared, None);
    assert_eq!(doc.len(), len);
    assert_eq!(keys_of(&doc, FileRole::Credentials, "p")[0].1, "ASIA2");
    assert!(!text(&doc).contains("ASIA1"));
    let after = withdraw_in_new_process(
        &doc.to_bytes(),
        FileRole::Credentials,
        "p",
        Delivered { claim, saved: None },
    );
    assert_eq!(after, fixture!("credentials-handmade"));
}

#[test]
fn a_claim_the_file_does_not_bear_out_removes_nothing() {
    // The ledger says Rolehop wrote ASIA1 under [default], but the user's own key is there.
    let original = fixture!("credentials-handmade");
    let mut claim = SectionClaim::default();
    claim.keys.insert(
        "aws_access_key_id".into(),
        KeyClaim::Values(BTreeSet::from(["ASIA1".to_owned()])),
    );
    claim
        .keys
        .insert("aws_secret_access_key".into(), KeyClaim::Secret);
    claim.added_header = true;
    let target = Target {
        role: FileRole::Credentials,
        profile: "default",
    };
    let mut doc = Document::parse(original);
    let verified = target.verify(&doc, claim);
    assert!(verified.is_empty());
    target.withdraw(&mut doc, verified, None);
    assert_eq!(doc.to_bytes(), original);
}

#[test]
fn keys_go_before_an_indented_header_without_swallowing_it() {
    let original = b"[p]\n  [q]\nk = v\n";
    let mut doc = Document::parse(original);
    let delivered = deliver(
        &mut doc,
        FileRole::Credentials,
        "p",
        credential_wants("ASIA1"),
        false,
    )
    .unwrap();
    let outline = Outline::of(&doc);
    assert_eq!(outline.sections.len(), 2, "{}", text(&doc));
    assert_eq!(
        keys_of(&doc, FileRole::Credentials, "q"),
        [("k".into(), "v".into())]
    );
    assert_eq!(
        withdraw_in_new_process(&doc.to_bytes(), FileRole::Credentials, "p", delivered),
        original
    );
}

// ---- generated files ----

fn eol() -> impl Strategy<Value = &'static str> {
    prop_oneof![4 => Just("\n"), 2 => Just("\r\n"), 1 => Just("\r")]
}

fn aws_line() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        Just("p"),
        Just("prod"),
        Just("default"),
        Just("my prod"),
        Just("x")
    ];
    let key = prop_oneof![
        Just("aws_access_key_id"),
        Just("aws_secret_access_key"),
        Just("region"),
        Just("credential_process"),
        Just("output"),
        Just("s3"),
        Just("REGION"),
        Just("role_arn"),
        Just("source_profile"),
        Just("sso_session"),
    ];
    let space = prop_oneof![Just(""), Just(" "), Just("   "), Just("\t")];
    prop_oneof![
        (space.clone(), name.clone(), space.clone()).prop_map(|(a, n, b)| format!("[{a}{n}{b}]")),
        name.clone().prop_map(|n| format!("[profile {n}]")),
        name.clone().prop_map(|n| format!("[sso-session {n}]")),
        Just("[services s]".to_owned()),
        (
            key.clone(),
            space.clone(),
            prop_oneof![Just("="), Just(":")],
            space.clone(),
            "[a-zA-Z0-9/+]{0,8}"
        )
            .prop_map(|(k, a, d, b, v)| format!("{k}{a}{d}{b}{v}")),
        (space.clone(), key).prop_map(|(s, k)| format!("  {s}{k} = 20")),
        (
            space.clone(),
            prop_oneof![Just("#"), Just(";")],
            "[ a-z]{0,8}"
        )
            .prop_map(|(s, c, t)| format!("{s}{c}{t}")),
        space.prop_map(|s| s.to_owned()),
        "[a-z =\\[\\]]{0,8}",
    ]
}

fn aws_file() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<bool>(),
        proptest::collection::vec((aws_line(), eol()), 0..24),
        any::<bool>(),
    )
        .prop_map(|(bom, lines, final_newline)| {
            let mut out = Vec::new();
            if bom {
                out.extend_from_slice(b"\xEF\xBB\xBF");
            }
            let n = lines.len();
            for (i, (line, eol)) in lines.into_iter().enumerate() {
                out.extend_from_slice(line.as_bytes());
                if i + 1 < n || final_newline {
                    out.extend_from_slice(eol.as_bytes());
                }
            }
            out
        })
}

fn role() -> impl Strategy<Value = FileRole> {
    prop_oneof![Just(FileRole::Credentials), Just(FileRole::Config)]
}

fn profile() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("p"),
        Just("prod"),
        Just("default"),
        Just("my prod"),
        Just("new")
    ]
}

/// Deliver, check the keys are readable where the AWS tools look, withdraw in a "new
/// process", and demand the original bytes.
fn start_stop_is_identity(
    input: &[u8],
    role: FileRole,
    profile: &str,
    take_over: bool,
) -> Result<(), TestCaseError> {
    let wants = match role {
        FileRole::Credentials => credential_wants("ASIAGENERATED"),
        FileRole::Config => config_wants(),
    };
    let expected: Vec<&str> = wants.iter().map(|w| w.name).collect();
    let mut doc = Document::parse(input);
    let Ok(delivered) = deliver(&mut doc, role, profile, wants, take_over) else {
        prop_assert_eq!(doc.to_bytes(), input, "a refusal changes nothing");
        return Ok(());
    };
    let keys = keys_of(&doc, role, profile);
    if role == FileRole::Config {
        let has = |name: &str| keys.iter().any(|(k, _)| k == name);
        prop_assert!(
            !keys.iter().any(|(k, _)| shadows(k, &has)),
            "a key that outranks Rolehop's is left in {:?}",
            String::from_utf8_lossy(&doc.to_bytes())
        );
    }
    for name in expected {
        if name == "region" && !delivered.claim.keys.contains_key("region") {
            continue;
        }
        prop_assert!(
            keys.iter().any(|(k, _)| k == name),
            "{} missing in {:?}",
            name,
            String::from_utf8_lossy(&doc.to_bytes())
        );
    }
    let after = withdraw_in_new_process(&doc.to_bytes(), role, profile, delivered);
    prop_assert_eq!(after, input);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn generated_files_round_trip_without_edits(input in aws_file()) {
        prop_assert_eq!(Document::parse(&input).to_bytes(), input);
    }

    #[test]
    fn generated_files_are_identical_after_start_and_stop(
        input in aws_file(), role in role(), profile in profile(), take_over in any::<bool>()
    ) {
        start_stop_is_identity(&input, role, profile, take_over)?;
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_start_stop_is_identity(
        input in proptest::collection::vec(any::<u8>(), 0..300), role in role(), profile in profile(), take_over in any::<bool>()
    ) {
        start_stop_is_identity(&input, role, profile, take_over)?;
    }

    #[test]
    fn arbitrary_strings_never_panic_and_start_stop_is_identity(
        input in "(?s).{0,200}", role in role(), profile in profile(), take_over in any::<bool>()
    ) {
        start_stop_is_identity(input.as_bytes(), role, profile, take_over)?;
    }
}

#[test]
fn set_aside_keys_take_their_sub_lines_and_come_back_in_place() {
    let original: &[u8] = b"[profile p]\nregion = eu-west-1\nsso_session = corp\n  continued = yes\n# kept\nrole_arn = arn:aws:iam::1:role/R\nsource_profile = default\noutput = json";
    let mut doc = Document::parse(original);
    let delivered = deliver(&mut doc, FileRole::Config, "p", config_wants(), true).unwrap();
    assert_eq!(
        text(&doc),
        "[profile p]\nregion = eu-west-1\n# kept\noutput = json\ncredential_process = \"/bin/rolehop\" credential-process 42"
    );
    assert_eq!(delivered.claim.set_aside, [1, 2, 4, 5]);
    assert_eq!(
        withdraw_in_new_process(&doc.to_bytes(), FileRole::Config, "p", delivered),
        original
    );
}

#[test]
fn set_aside_lines_after_a_lone_cr_take_the_empty_line_that_would_join_it() {
    let original: &[u8] = b"[profile p]\rregion = x\rrole_arn = r\r\n\noutput = json\n";
    let mut doc = Document::parse(original);
    let delivered = deliver(&mut doc, FileRole::Config, "p", config_wants(), true).unwrap();
    let during = doc.to_bytes();
    assert_eq!(
        Document::parse(&during).len(),
        doc.len(),
        "the file reads back as the lines it was written as"
    );
    assert_eq!(
        withdraw_in_new_process(&during, FileRole::Config, "p", delivered),
        original
    );
}
