//! The SAML peers' fidelity, proven with boto3: pysaml2's identity provider signs in a
//! person through its login form and answers the IdP-initiated URL with a signed
//! SAMLResponse; the layer before moto's STS admits it for each role/provider pair it
//! lists (in either order) and refuses, as STS does, a role it does not list, another
//! provider, an expired, unsigned, tampered or misaddressed one. moto alone admits
//! them all, which is why the layer is there.

use rolehop_e2e::saml_idp::{PASSWORD, PROVIDER_ARN, USER, role_arn};
use rolehop_e2e::{MotoServer, SamlIdp, python};
use serde_json::json;

/// boto3's `assume_role_with_saml` at `endpoint`: `ok ROLE_ARN SECONDS` (the assumed
/// role's ARN and the credentials' lifetime, rounded) or `error CODE`.
fn assume(endpoint: &str, role: &str, provider: &str, assertion: &str, duration: u32) -> String {
    let script = r#"
import os, sys, datetime, boto3, botocore
sts = boto3.client("sts", endpoint_url=os.environ["STS"], region_name="us-east-1")
try:
    out = sts.assume_role_with_saml(RoleArn=os.environ["ROLE"], PrincipalArn=os.environ["PROVIDER"],
        SAMLAssertion=os.environ["ASSERTION"], DurationSeconds=int(os.environ["DURATION"]))
    left = out["Credentials"]["Expiration"] - datetime.datetime.now(datetime.timezone.utc)
    print("ok", out["AssumedRoleUser"]["Arn"], round(left.total_seconds() / 60) * 60)
except botocore.exceptions.ClientError as e:
    print("error", e.response["Error"]["Code"])
"#;
    let out = python(
        script,
        [
            ("STS", endpoint),
            ("ROLE", role),
            ("PROVIDER", provider),
            ("ASSERTION", assertion),
            ("DURATION", &duration.to_string()),
        ],
    )
    .expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn peers() -> (MotoServer, SamlIdp) {
    let moto = MotoServer::start().expect("moto starts");
    let idp = SamlIdp::start(&moto).expect("the SAML provider starts");
    (moto, idp)
}

#[test]
fn a_signed_in_person_s_assertion_admits_every_listed_pair_in_either_order() {
    let (_moto, idp) = peers();
    idp.offer_roles(&["Admin", "ReadOnly", "Billing"]).unwrap();
    let assertion = idp.sign_in(USER, PASSWORD).unwrap();
    for role in ["Admin", "ReadOnly", "Billing"] {
        assert_eq!(
            assume(
                &idp.sts_endpoint(),
                &role_arn(role),
                PROVIDER_ARN,
                &assertion,
                900
            ),
            format!("ok arn:aws:sts::123456789012:assumed-role/{role}/alice@example.test 900")
        );
    }
    assert_eq!(
        idp.sts_decisions(),
        ["Admin", "ReadOnly", "Billing"].map(|r| format!("accept {}", role_arn(r)))
    );
}

#[test]
fn the_login_form_refuses_a_wrong_password() {
    let (_moto, idp) = peers();
    idp.offer_roles(&["Admin"]).unwrap();
    assert!(idp.sign_in(USER, "wrong").is_err());
}

#[test]
fn the_layer_refuses_what_sts_refuses_and_moto_alone_admits_it() {
    let (moto, idp) = peers();
    idp.offer_roles(&["Admin"]).unwrap();
    let good = idp.sign_in(USER, PASSWORD).unwrap();
    let sts = idp.sts_endpoint();
    let other_provider = "arn:aws:iam::123456789012:saml-provider/Other";
    // A role the assertion does not list.
    assert_eq!(
        assume(&sts, &role_arn("Billing"), PROVIDER_ARN, &good, 900),
        "error AccessDenied"
    );
    // moto alone: any role, any provider.
    assert!(
        assume(
            &moto.endpoint(),
            &role_arn("Billing"),
            other_provider,
            &good,
            900
        )
        .starts_with("ok ")
    );
    // A provider IAM does not have.
    assert_eq!(
        assume(&sts, &role_arn("Admin"), other_provider, &good, 900),
        "error InvalidIdentityToken"
    );
    // Tampered after signing: another role written into the signed assertion.
    let xml = String::from_utf8(base64_decode(&good)).unwrap();
    let tampered = base64_encode(&xml.replace("role/Admin", "role/Billing"));
    assert_eq!(
        assume(&sts, &role_arn("Billing"), PROVIDER_ARN, &tampered, 900),
        "error InvalidIdentityToken"
    );
    // Unsigned, expired, and for another audience.
    for (change, code) in [
        (json!({ "signed": false }), "error InvalidIdentityToken"),
        (
            json!({ "lifetime_minutes": -1 }),
            "error ExpiredTokenException",
        ),
        (
            json!({ "audience": "https://app.example.test/saml/metadata" }),
            "error InvalidIdentityToken",
        ),
    ] {
        idp.configure(json!({ "signed": true, "lifetime_minutes": 5, "audience": "aws" }))
            .unwrap();
        idp.configure(change.clone()).unwrap();
        let bad = idp.sign_in(USER, PASSWORD).unwrap();
        assert_eq!(
            assume(&sts, &role_arn("Admin"), PROVIDER_ARN, &bad, 900),
            code,
            "{change}"
        );
        assert!(
            assume(
                &moto.endpoint(),
                &role_arn("Admin"),
                PROVIDER_ARN,
                &bad,
                900
            )
            .starts_with("ok ")
        );
    }
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("base64")
}

fn base64_encode(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}
