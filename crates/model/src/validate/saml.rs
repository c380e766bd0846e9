//! The rules of a federated (SAML 2.0) session's fields: the identity provider's
//! sign-in URL, the SAML provider's ARN in IAM, and the duration asked of
//! `AssumeRoleWithSAML`.

use super::arn::{Arn, IamResource};
use super::{Result, ValidationError, in_range};

/// The identity provider's IdP-initiated sign-in URL for the AWS app (an Okta embed
/// link, Entra's user access URL, ADFS's `IdpInitiatedSignOn`...): `https://` with a
/// host, no user name or password, at most 2048 characters. Plain `http://` only on a
/// loopback address (a provider on this machine, as the test peers are): a password
/// typed on a page reached over the network must never travel in clear.
pub fn idp_url(field: &str, url: &str) -> Result {
    let refuse = |why: &str| Err(ValidationError::new(field, why.to_owned()));
    if url.len() > 2048 {
        return refuse("must be at most 2048 characters");
    }
    let Ok(parsed) = url::Url::parse(url) else {
        return refuse("must be a URL such as https://my-org.okta.com/home/amazon_aws/0oa1/272");
    };
    let loopback = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    match parsed.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return refuse("must start with https:// (http:// only on this machine's loopback)"),
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return refuse("names no host");
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return refuse("must not hold a user name or password");
    }
    Ok(())
}

/// `arn:aws:iam::123456789012:saml-provider/Name`, the `PrincipalArn` of
/// `AssumeRoleWithSAML`.
pub fn saml_provider_arn(field: &str, arn: &str) -> Result {
    Arn::parse_iam(field, arn, IamResource::SamlProvider).map(drop)
}

/// `AssumeRoleWithSAML` durations: 900–43200 s (the role's maximum and the
/// assertion's `SessionDuration` may lower it further; AWS caps at the smallest).
pub fn saml_duration(field: &str, seconds: u32) -> Result {
    in_range(field, seconds, 900, 43_200, "for a federated role")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part1_idp_urls_must_be_https_or_loopback_http() {
        idp_url(
            "idp_url",
            "https://my-org.okta.com/home/amazon_aws/0oa1/272",
        )
        .unwrap();
        idp_url("idp_url", "http://127.0.0.1:8443/idp/init?sp=aws").unwrap();
        idp_url("idp_url", "http://localhost:9000/sso").unwrap();
        for bad in [
            "http://idp.example.com/sso",
            "idp.example.com/sso",
            "https://user:pw@idp.example.com/",
            "ftp://idp.example.com/",
            "",
        ] {
            let e = idp_url("idp_url", bad).unwrap_err();
            assert_eq!(e.field, "idp_url", "{bad}");
        }
    }

    #[test]
    fn part1_saml_provider_arns_name_a_saml_provider() {
        saml_provider_arn(
            "principal_arn",
            "arn:aws:iam::123456789012:saml-provider/Okta",
        )
        .unwrap();
        for bad in [
            "arn:aws:iam::123456789012:role/Okta",
            "arn:aws:iam::123456789012:saml-provider/",
            "arn:aws:iam::12345:saml-provider/Okta",
            "arn:aws:sts::123456789012:saml-provider/Okta",
            "Okta",
        ] {
            let e = saml_provider_arn("principal_arn", bad).unwrap_err();
            assert_eq!(e.field, "principal_arn", "{bad}");
        }
    }

    #[test]
    fn part1_saml_durations_are_900_to_43200_seconds() {
        saml_duration("duration", 900).unwrap();
        saml_duration("duration", 43_200).unwrap();
        assert_eq!(
            saml_duration("duration", 899).unwrap_err().field,
            "duration"
        );
        assert_eq!(
            saml_duration("duration", 43_201).unwrap_err().field,
            "duration"
        );
    }
}
