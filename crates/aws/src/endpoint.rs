//! Where a service's calls go. Never where the shared AWS files say (Rolehop manages
//! their profiles; a profile must not steer Rolehop's own clients): only Rolehop's own
//! setting or the SDKs' `AWS_ENDPOINT_URL_<SERVICE>` then `AWS_ENDPOINT_URL`, and only
//! over https, or plain http to a loopback address (LocalStack, moto). A signed request
//! carries the caller's access key id, and answers carry temporary keys and tokens.

use std::net::IpAddr;

use super::{AwsError, Service};
use rolehop_model::display_text;

/// Where `service`'s calls go: `None` for AWS's own endpoint of the call's region, else
/// the URL of `setting` (Rolehop's own), else of `AWS_ENDPOINT_URL_<ID>`, else of
/// `AWS_ENDPOINT_URL`, read through `env`. Never from the shared AWS files. Honours
/// `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` as the SDKs do (it turns the environment's
/// endpoints off, not Rolehop's setting). Refuses anything but https, or http to a
/// loopback address, naming where it came from.
pub fn resolve_endpoint(
    service: &Service,
    setting: Option<&str>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<String>, AwsError> {
    if let Some(url) = setting {
        let source = format!("the {}_endpoint setting", service.id.to_ascii_lowercase());
        return check_endpoint(&source, url).map(Some);
    }
    let ignored = env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    if ignored {
        return Ok(None);
    }
    let own = format!("AWS_ENDPOINT_URL_{}", service.id);
    for name in [own.as_str(), "AWS_ENDPOINT_URL"] {
        if let Some(url) = env(name).filter(|v| !v.is_empty()) {
            return check_endpoint(name, &url).map(Some);
        }
    }
    Ok(None)
}

/// `url` if it is https, or http to a loopback address; else why not, naming `source`.
/// Every endpoint Rolehop sends a credential to passes this (the AWS clients', and the
/// console's federation endpoint, which receives a session's secret key).
pub fn check_endpoint(source: &str, url: &str) -> Result<String, AwsError> {
    let refuse = |why: &str| AwsError {
        code: "InvalidEndpoint".into(),
        message: display_text::capped(format!("{source} = {url}: {why}")),
    };
    let parsed = url::Url::parse(url).map_err(|e| refuse(&format!("not a URL ({e})")))?;
    let loopback = match parsed.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => return Err(refuse("the URL names no host")),
    };
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(refuse("the URL must not hold a user name or password"));
    }
    match parsed.scheme() {
        "https" => Ok(url.to_owned()),
        "http" if loopback => Ok(url.to_owned()),
        "http" => Err(refuse(
            "plain http is only allowed to a loopback address (127.0.0.1, ::1, localhost); \
             use https",
        )),
        other => Err(refuse(&format!("the scheme must be https, not {other}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STS: Service = Service::new("STS", "STS");
    const SSO_OIDC: Service = Service::new("SSO_OIDC", "SSO OIDC");
    const IAM: Service = Service::new("IAM", "IAM");
    const ORGANIZATIONS: Service = Service::new("ORGANIZATIONS", "AWS Organizations");

    fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn endpoint_comes_from_the_setting_then_the_service_variable_then_the_global_one() {
        for service in [STS, SSO_OIDC, IAM, ORGANIZATIONS] {
            let own = format!("AWS_ENDPOINT_URL_{}", service.id);
            let env = env_of(&[
                (&own, "http://127.0.0.1:5000"),
                ("AWS_ENDPOINT_URL", "https://global.example"),
            ]);
            assert_eq!(
                resolve_endpoint(&service, Some("https://setting.example"), &env).unwrap(),
                Some("https://setting.example".into())
            );
            assert_eq!(
                resolve_endpoint(&service, None, &env).unwrap(),
                Some("http://127.0.0.1:5000".into()),
                "{own}"
            );
            let global = env_of(&[("AWS_ENDPOINT_URL", "https://global.example")]);
            assert_eq!(
                resolve_endpoint(&service, None, global).unwrap(),
                Some("https://global.example".into())
            );
            assert_eq!(resolve_endpoint(&service, None, env_of(&[])).unwrap(), None);
        }
    }

    #[test]
    fn another_services_variable_is_not_this_ones() {
        let env = env_of(&[
            ("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:5000"),
            ("AWS_ENDPOINT_URL_SSO", "http://127.0.0.1:5001"),
        ]);
        assert_eq!(resolve_endpoint(&IAM, None, &env).unwrap(), None);
        // SSO's variable is not a prefix match for SSO OIDC's.
        assert_eq!(resolve_endpoint(&SSO_OIDC, None, &env).unwrap(), None);
    }

    #[test]
    fn ignore_configured_endpoint_urls_turns_the_environment_off_not_the_setting() {
        let env = env_of(&[
            ("AWS_ENDPOINT_URL_IAM", "http://127.0.0.1:5000"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:5001"),
            ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"),
        ]);
        assert_eq!(resolve_endpoint(&IAM, None, &env).unwrap(), None);
        assert_eq!(
            resolve_endpoint(&IAM, Some("http://[::1]:4566"), &env).unwrap(),
            Some("http://[::1]:4566".into())
        );
    }

    #[test]
    fn plain_http_is_refused_unless_it_goes_to_a_loopback_address() {
        for ok in [
            "http://127.0.0.1:5000",
            "http://127.9.8.7",
            "http://[::1]:80/",
            "http://localhost:4566",
            "https://sts.example.com",
        ] {
            let env = env_of(&[("AWS_ENDPOINT_URL_STS", ok)]);
            assert!(resolve_endpoint(&STS, None, env).is_ok(), "{ok}");
        }
        for service in [STS, SSO_OIDC, IAM, ORGANIZATIONS] {
            let own = format!("AWS_ENDPOINT_URL_{}", service.id);
            let env = env_of(&[(&own, "http://example.com")]);
            let err = resolve_endpoint(&service, None, env).unwrap_err();
            assert_eq!(err.code, "InvalidEndpoint");
            assert!(
                err.message
                    .starts_with(&format!("{own} = http://example.com: plain http")),
                "{}",
                err.message
            );
        }
        for bad in [
            "http://10.0.0.1",
            "http://127.0.0.1.example.com",
            "ftp://127.0.0.1",
            "https://user:pw@sts.example.com",
            "not a url",
        ] {
            let env = env_of(&[("AWS_ENDPOINT_URL", bad)]);
            let err = resolve_endpoint(&ORGANIZATIONS, None, env).unwrap_err();
            assert!(
                err.message.starts_with("AWS_ENDPOINT_URL = "),
                "{bad}: {err}"
            );
        }
        let err = resolve_endpoint(&STS, Some("http://example.com"), env_of(&[])).unwrap_err();
        assert!(err.message.starts_with("the sts_endpoint setting"), "{err}");
        let err = resolve_endpoint(&IAM, Some("http://example.com"), env_of(&[])).unwrap_err();
        assert!(err.message.starts_with("the iam_endpoint setting"), "{err}");
    }
}
