//! AWS's SAML sign-in endpoints: where an identity provider's page posts the
//! `SAMLResponse` (`https://signin.aws.amazon.com/saml`, its regional forms
//! `https://<region>.signin.aws.amazon.com/saml`, GovCloud's and China's). The desktop's
//! login window takes the response from a post to one of them and lets nothing reach
//! them; the response reader accepts them as audiences, as AWS does.

/// The sign-in hosts of AWS's partitions; a regional endpoint is a subdomain of one.
const HOSTS: [&str; 3] = [
    "signin.aws.amazon.com",
    "signin.amazonaws-us-gov.com",
    "signin.amazonaws.cn",
];

/// Whether `url` is an AWS SAML sign-in endpoint: https, an AWS sign-in host (or a
/// regional subdomain of one), the path `/saml` or below it (`/saml/acs/...`, the
/// per-provider form). Query and fragment do not matter.
pub fn is_aws_saml_endpoint(url: &str) -> bool {
    let Ok(url) = url::Url::parse(url) else {
        return false;
    };
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let path = url.path();
    url.scheme() == "https"
        && (path == "/saml" || path.starts_with("/saml/"))
        && HOSTS
            .iter()
            .any(|h| host == *h || host.ends_with(&format!(".{h}")))
}

#[cfg(test)]
mod tests {
    use super::is_aws_saml_endpoint;

    #[test]
    fn part2_every_partitions_saml_endpoint_is_recognised() {
        for url in [
            "https://signin.aws.amazon.com/saml",
            "https://us-east-1.signin.aws.amazon.com/saml",
            "https://eu-west-3.signin.aws.amazon.com/saml?x=1",
            "https://SIGNIN.AWS.AMAZON.COM/saml",
            "https://signin.aws.amazon.com/saml/acs/SAMLSP4SHN3UIS2D558H46",
            "https://signin.amazonaws-us-gov.com/saml",
            "https://signin.amazonaws.cn/saml",
        ] {
            assert!(is_aws_saml_endpoint(url), "{url}");
        }
    }

    #[test]
    fn part2_lookalikes_and_other_pages_are_not_aws_endpoints() {
        for url in [
            "http://signin.aws.amazon.com/saml",
            "https://signin.aws.amazon.com/",
            "https://signin.aws.amazon.com/samlx",
            "https://signin.aws.amazon.com.evil.example/saml",
            "https://evilsignin.aws.amazon.com/saml",
            "https://idp.example.com/saml",
            "rolehop-saml://capture?SAMLResponse=x",
            "not a url",
        ] {
            assert!(!is_aws_saml_endpoint(url), "{url}");
        }
    }
}
