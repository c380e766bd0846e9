//! The reading and local checks of a SAML response, on responses written here (the
//! signed ones a real provider makes are read in the `cli_saml` end-to-end suite).

use base64::Engine as _;
use chrono::{Duration, TimeZone, Utc};

use super::*;

const ROLE_A: &str = "arn:aws:iam::123456789012:role/Admin";
const ROLE_B: &str = "arn:aws:iam::123456789012:role/ReadOnly";
const IDP: &str = "arn:aws:iam::123456789012:saml-provider/Corp";
const OTHER_IDP: &str = "arn:aws:iam::123456789012:saml-provider/Other";

struct Doc {
    roles: Vec<String>,
    audience: &'static str,
    not_on_or_after: &'static str,
    signature: bool,
    duration: Option<&'static str>,
}

impl Default for Doc {
    fn default() -> Self {
        Self {
            roles: vec![format!("{ROLE_A},{IDP}"), format!("{IDP},{ROLE_B}")],
            audience: AWS_AUDIENCE,
            not_on_or_after: "2030-01-01T00:05:00Z",
            signature: true,
            duration: Some("1800"),
        }
    }
}

impl Doc {
    fn xml(&self) -> String {
        let sig = if self.signature {
            "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignedInfo/></ds:Signature>"
        } else {
            ""
        };
        let roles: String = self
            .roles
            .iter()
            .map(|r| format!("<saml:AttributeValue>{r}</saml:AttributeValue>"))
            .collect();
        let role_attr = if self.roles.is_empty() {
            String::new()
        } else {
            format!("<saml:Attribute Name=\"{ROLE_ATTRIBUTE}\">{roles}</saml:Attribute>")
        };
        let duration = self
            .duration
            .map(|d| {
                format!(
                    "<saml:Attribute Name=\"{SESSION_DURATION_ATTRIBUTE}\"><saml:AttributeValue>{d}</saml:AttributeValue></saml:Attribute>"
                )
            })
            .unwrap_or_default();
        format!(
            r#"<?xml version="1.0"?>
<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" Destination="https://signin.aws.amazon.com/saml">
  <saml:Issuer>http://idp.example</saml:Issuer>
  <samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>
  <saml:Assertion>
    <saml:Issuer>http://idp.example</saml:Issuer>
    {sig}
    <saml:Subject><saml:NameID>alice</saml:NameID>
      <saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">
        <saml:SubjectConfirmationData NotOnOrAfter="{noa}" Recipient="https://signin.aws.amazon.com/saml"/>
      </saml:SubjectConfirmation></saml:Subject>
    <saml:Conditions NotBefore="2029-12-31T23:55:00Z" NotOnOrAfter="2030-01-01T01:00:00Z">
      <saml:AudienceRestriction><saml:Audience>{aud}</saml:Audience></saml:AudienceRestriction>
    </saml:Conditions>
    <saml:AttributeStatement>
      {role_attr}
      <saml:Attribute Name="{ROLE_SESSION_NAME_ATTRIBUTE}"><saml:AttributeValue>alice@example.com</saml:AttributeValue></saml:Attribute>
      {duration}
    </saml:AttributeStatement>
  </saml:Assertion>
</samlp:Response>"#,
            noa = self.not_on_or_after,
            aud = self.audience,
        )
    }

    fn encoded(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.xml())
    }
}

fn before_expiry() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap()
}

#[test]
fn part3_reads_every_role_pair_in_either_order_the_session_name_and_duration() {
    let r = SamlResponse::parse(&Doc::default().encoded()).unwrap();
    assert_eq!(
        r.roles,
        vec![
            RolePair {
                role_arn: ROLE_A.into(),
                principal_arn: IDP.into()
            },
            RolePair {
                role_arn: ROLE_B.into(),
                principal_arn: IDP.into()
            },
        ]
    );
    assert_eq!(r.role_session_name.as_deref(), Some("alice@example.com"));
    assert_eq!(r.session_duration, Some(1800));
    // The earlier of the subject confirmation's and the conditions' ends.
    assert_eq!(
        r.not_on_or_after,
        Some(before_expiry() + Duration::minutes(5))
    );
    assert!(r.signed);
    r.check_for(ROLE_B, IDP, before_expiry()).unwrap();
}

#[test]
fn part3_base64_with_line_breaks_as_tools_wrap_it_is_read() {
    let wrapped: String = Doc::default()
        .encoded()
        .as_bytes()
        .chunks(76)
        .map(|c| format!("{}\n", std::str::from_utf8(c).unwrap()))
        .collect();
    assert_eq!(SamlResponse::parse(&wrapped).unwrap().roles.len(), 2);
}

#[test]
fn part6_a_response_without_a_role_attribute_is_refused_naming_it() {
    let doc = Doc {
        roles: vec![],
        ..Doc::default()
    };
    let e = SamlResponse::parse(&doc.encoded()).unwrap_err();
    assert_eq!(e.field, "assertion");
    assert!(e.message.contains("no Role attribute"), "{e}");
}

#[test]
fn part6_an_unsigned_response_is_refused() {
    let doc = Doc {
        signature: false,
        ..Doc::default()
    };
    let e = SamlResponse::parse(&doc.encoded()).unwrap_err();
    assert!(e.message.contains("not signed"), "{e}");
}

#[test]
fn part6_an_expired_response_is_refused_naming_not_on_or_after() {
    let r = SamlResponse::parse(&Doc::default().encoded()).unwrap();
    let late = before_expiry() + Duration::minutes(5);
    let e = r.check_for(ROLE_A, IDP, late).unwrap_err();
    assert_eq!(e.field, "assertion");
    assert!(
        e.message
            .contains("expired at 2030-01-01T00:05:00Z (NotOnOrAfter)"),
        "{e}"
    );
}

#[test]
fn part6_another_audience_than_aws_is_refused_naming_it() {
    let doc = Doc {
        audience: "https://app.example.com/saml/metadata",
        ..Doc::default()
    };
    let r = SamlResponse::parse(&doc.encoded()).unwrap();
    let e = r.check_for(ROLE_A, IDP, before_expiry()).unwrap_err();
    assert!(
        e.message.contains("https://app.example.com/saml/metadata"),
        "{e}"
    );
    assert!(e.message.contains(AWS_AUDIENCE), "{e}");
    // AWS's regional sign-in endpoints are AWS's audience too.
    let regional = Doc {
        audience: "https://eu-west-1.signin.aws.amazon.com/saml",
        ..Doc::default()
    };
    SamlResponse::parse(&regional.encoded())
        .unwrap()
        .check_for(ROLE_A, IDP, before_expiry())
        .unwrap();
}

#[test]
fn part6_a_role_listed_with_another_provider_is_refused_naming_both() {
    let r = SamlResponse::parse(&Doc::default().encoded()).unwrap();
    let e = r.check_for(ROLE_A, OTHER_IDP, before_expiry()).unwrap_err();
    assert!(
        e.message.contains(&format!(
            "lists role {ROLE_A} with provider {IDP}, not {OTHER_IDP}"
        )),
        "{e}"
    );
}

#[test]
fn part6_a_role_not_listed_is_refused_naming_those_that_are() {
    let r = SamlResponse::parse(&Doc::default().encoded()).unwrap();
    let other = "arn:aws:iam::123456789012:role/Billing";
    let e = r.check_for(other, IDP, before_expiry()).unwrap_err();
    assert!(
        e.message.contains(&format!("does not list role {other}")),
        "{e}"
    );
    assert!(
        e.message.contains(ROLE_A) && e.message.contains(ROLE_B),
        "{e}"
    );
}

#[test]
fn part6_not_base64_not_xml_and_a_malformed_role_value_are_refused() {
    assert!(
        SamlResponse::parse("not base64!")
            .unwrap_err()
            .message
            .contains("not base64")
    );
    let html = base64::engine::general_purpose::STANDARD.encode("<html><body/></html>");
    assert!(
        SamlResponse::parse(&html)
            .unwrap_err()
            .message
            .contains("<html>")
    );
    let doc = Doc {
        roles: vec![ROLE_A.into()],
        ..Doc::default()
    };
    let e = SamlResponse::parse(&doc.encoded()).unwrap_err();
    assert!(e.message.contains("number 1"), "{e}");
    let doc = Doc {
        duration: Some("99999"),
        ..Doc::default()
    };
    assert!(
        SamlResponse::parse(&doc.encoded())
            .unwrap_err()
            .message
            .contains("SessionDuration")
    );
}

#[test]
fn part6_errors_and_debug_never_hold_the_response() {
    let encoded = Doc {
        roles: vec![],
        ..Doc::default()
    }
    .encoded();
    let e = SamlResponse::parse(&encoded).unwrap_err();
    assert!(!e.message.contains(&encoded[..40]));
    let r = SamlResponse::parse(&Doc::default().encoded()).unwrap();
    let shown = format!("{r:?}");
    assert!(!shown.contains(&Doc::default().encoded()[..40]), "{shown}");
    assert!(!shown.contains("alice@example.com"), "{shown}");
}
