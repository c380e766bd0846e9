//! The rules of an IAM Identity Center integration's fields: its start URL, its region
//! (one where AWS runs IAM Identity Center), its OAuth scopes, and its name.

use super::{Result, ValidationError};

/// The partitions where AWS runs IAM Identity Center: every commercial, China and
/// GovCloud region. A syntactically fine but unknown name (`eu-west-9`) is refused: the
/// device login would otherwise fail later with a DNS error nobody can act on.
const SSO_PARTITIONS: &[&str] = &["aws", "aws-cn", "aws-us-gov"];

/// A region of [`SSO_PARTITIONS`] that AWS lists (see [`super::REGIONS`]).
pub fn sso_region(field: &str, region: &str) -> Result {
    super::region(field, region)?;
    if super::REGIONS
        .iter()
        .any(|r| r.code == region && SSO_PARTITIONS.contains(&r.partition))
    {
        Ok(())
    } else {
        Err(ValidationError::new(
            field,
            format!("'{region}' is not a region where AWS runs IAM Identity Center"),
        ))
    }
}

/// The AWS access portal's URL: `https://`, a host, at most 512 characters.
pub fn start_url(field: &str, url: &str) -> Result {
    let refuse = |why: &str| Err(ValidationError::new(field, why.to_owned()));
    if url.len() > 512 {
        return refuse("must be at most 512 characters");
    }
    let Ok(parsed) = url::Url::parse(url) else {
        return refuse("must be a URL such as https://my-org.awsapps.com/start");
    };
    if parsed.scheme() != "https" {
        return refuse("must start with https:// (the portal is only served over https)");
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return refuse("names no host");
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return refuse("must not hold a user name or password");
    }
    Ok(())
}

/// OAuth scopes: at least one, each `[A-Za-z0-9:._-]`, 1–128 characters.
pub fn scopes(field: &str, scopes: &[String]) -> Result {
    if scopes.is_empty() {
        return Err(ValidationError::new(
            field,
            "needs at least one scope (sso:account:access)",
        ));
    }
    for s in scopes {
        let ok = !s.is_empty()
            && s.len() <= 128
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || ":._-/".contains(c));
        if !ok {
            return Err(ValidationError::new(
                field,
                format!("'{s}' is not an OAuth scope (e.g. sso:account:access)"),
            ));
        }
    }
    Ok(())
}

/// An integration's name: what `rolehop sso login NAME` is typed with, and the
/// `[sso-session NAME]` it may come from. 1–64 of letters, digits, `-`, `_`, `.`.
pub fn integration_name(field: &str, name: &str) -> Result {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if ok {
        Ok(())
    } else {
        Err(ValidationError::new(
            field,
            format!("'{name}' must be 1–64 letters, digits, '-', '_' or '.'"),
        ))
    }
}

/// A 12-digit AWS account id.
pub fn account_id(field: &str, id: &str) -> Result {
    if id.len() == 12 && id.chars().all(|c| c.is_ascii_digit()) {
        Ok(())
    } else {
        Err(ValidationError::new(
            field,
            format!("'{id}' is not an AWS account id (12 digits)"),
        ))
    }
}

/// A permission set's role name as the portal names it: 1–64 of `[\w+=,.@-]`.
pub fn sso_role_name(field: &str, name: &str) -> Result {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(ValidationError::new(
            field,
            format!("'{name}' is not a role name (1–64 letters, digits or _+=,.@-)"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_urls_must_be_https_with_a_host() {
        start_url("start_url", "https://my-org.awsapps.com/start").unwrap();
        start_url("start_url", "https://d-1234567890.awsapps.com/start/#").unwrap();
        for bad in [
            "http://my-org.awsapps.com/start",
            "my-org.awsapps.com/start",
            "https://user:pw@my-org.awsapps.com/start",
            "ftp://x",
            "",
        ] {
            let e = start_url("start_url", bad).unwrap_err();
            assert_eq!(e.field, "start_url", "{bad}");
        }
        let long = format!("https://x.example/{}", "a".repeat(600));
        assert!(start_url("start_url", &long).is_err());
    }

    #[test]
    fn sso_regions_must_be_real_ones() {
        sso_region("region", "eu-west-1").unwrap();
        sso_region("region", "us-gov-west-1").unwrap();
        for bad in ["eu-west-9", "moon-base-1", "EU-WEST-1", "eu_west_1", ""] {
            let e = sso_region("region", bad).unwrap_err();
            assert_eq!(e.field, "region", "{bad}");
        }
    }

    #[test]
    fn sso_regions_come_from_the_generated_table_s_commercial_china_and_govcloud_partitions() {
        for good in [
            "cn-north-1",
            "us-gov-east-1",
            "ap-southeast-7",
            "mx-central-1",
        ] {
            sso_region("region", good).unwrap();
        }
        // Listed by the SDK, but in a partition without IAM Identity Center.
        assert!(
            super::super::REGIONS
                .iter()
                .any(|r| r.code == "us-iso-east-1")
        );
        assert!(sso_region("region", "us-iso-east-1").is_err());
        // Every listed region passes the syntactic rule that every region field uses.
        for r in super::super::REGIONS {
            super::super::region("region", r.code).unwrap();
        }
    }

    #[test]
    fn scopes_need_one_and_a_scope_alphabet() {
        scopes("scopes", &["sso:account:access".into()]).unwrap();
        assert!(scopes("scopes", &[]).is_err());
        assert!(scopes("scopes", &["a b".into()]).is_err());
        assert!(scopes("scopes", &["x\n[profile y]".into()]).is_err());
    }

    #[test]
    fn integration_names_are_short_plain_words() {
        integration_name("name", "my-sso").unwrap();
        for bad in ["", "a b", "x]", &"a".repeat(65)] {
            assert_eq!(integration_name("name", bad).unwrap_err().field, "name");
        }
    }

    #[test]
    fn account_ids_and_role_names() {
        account_id("account_id", "123456789012").unwrap();
        assert!(account_id("account_id", "12345678901").is_err());
        assert!(account_id("account_id", "12345678901a").is_err());
        sso_role_name("role_name", "AdministratorAccess").unwrap();
        assert!(sso_role_name("role_name", "a/b").is_err());
        assert!(sso_role_name("role_name", "").is_err());
    }
}
