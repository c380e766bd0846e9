//! Amazon Resource Names, split once. Every place that needs an ARN's account (a
//! session's account column, the account of an MFA device, an import) asks [`Arn`], so
//! the rules of the format live here and nowhere else.

use super::{ValidationError, iam_name_chars, is_account_id};

/// The partitions AWS has: the commercial regions, China, GovCloud and the isolated ones.
const PARTITIONS: [&str; 5] = ["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b"];

/// An ARN split into its parts: `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`. It
/// borrows the text it was parsed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    /// Empty for global services such as IAM.
    pub region: &'a str,
    /// Empty for resources that belong to no account (an S3 bucket); else 12 digits.
    pub account: &'a str,
    pub resource: &'a str,
}

/// What an IAM ARN names: the checks on its resource and the example an error shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IamResource {
    Role,
    User,
    MfaDevice,
    /// An IAM identity provider for SAML 2.0 (`saml-provider/NAME`).
    SamlProvider,
}

impl IamResource {
    fn prefix(self) -> &'static str {
        match self {
            Self::Role => "role/",
            Self::User => "user/",
            Self::MfaDevice => "mfa/",
            Self::SamlProvider => "saml-provider/",
        }
    }

    fn example(self) -> &'static str {
        match self {
            Self::Role => "arn:aws:iam::123456789012:role/Name",
            Self::User => "arn:aws:iam::123456789012:user/name",
            Self::MfaDevice => "arn:aws:iam::123456789012:mfa/device",
            Self::SamlProvider => "arn:aws:iam::123456789012:saml-provider/Okta",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Self::Role => "role",
            Self::User => "user",
            Self::MfaDevice => "MFA device",
            Self::SamlProvider => "SAML provider",
        }
    }

    /// IAM's longest name: 64 for roles and users, 226 for virtual MFA devices.
    fn max_name(self) -> usize {
        match self {
            Self::Role | Self::User => 64,
            Self::MfaDevice => 226,
            Self::SamlProvider => 128,
        }
    }

    fn what(self) -> &'static str {
        match self {
            Self::Role => "a role ARN (resource 'role/NAME')",
            Self::User => "a user ARN (resource 'user/NAME')",
            Self::MfaDevice => "an MFA device ARN (resource 'mfa/NAME')",
            Self::SamlProvider => "a SAML provider ARN (resource 'saml-provider/NAME')",
        }
    }
}

impl<'a> Arn<'a> {
    /// Parses any ARN; an error names `field`.
    pub fn parse(field: &str, arn: &'a str) -> Result<Self, ValidationError> {
        Self::split(field, arn, "arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE")
    }

    /// Parses an IAM ARN of the given resource: global (no region), in an account, with a
    /// well-formed name and path; an error names `field`.
    pub fn parse_iam(
        field: &str,
        arn: &'a str,
        resource: IamResource,
    ) -> Result<Self, ValidationError> {
        let example = resource.example();
        let parsed = Self::split(field, arn, &format!("e.g. {example}"))?;
        if parsed.service != "iam" || !parsed.region.is_empty() {
            return Err(ValidationError::new(
                field,
                format!("must be an IAM ARN (e.g. {example})"),
            ));
        }
        if parsed.account.is_empty() {
            return Err(ValidationError::new(
                field,
                "must name an account of 12 digits",
            ));
        }
        let Some(path) = parsed.resource.strip_prefix(resource.prefix()) else {
            return Err(ValidationError::new(
                field,
                format!("must be {}", resource.what()),
            ));
        };
        let mut segments: Vec<&str> = path.split('/').collect();
        let name = segments.pop().unwrap_or_default();
        if name.len() > resource.max_name() || !iam_name_chars(name) {
            return Err(ValidationError::new(
                field,
                format!(
                    "has an invalid {} name (1–{} of [A-Za-z0-9+=,.@_-])",
                    resource.noun(),
                    resource.max_name()
                ),
            ));
        }
        if segments.iter().any(|s| !iam_name_chars(s)) {
            return Err(ValidationError::new(
                field,
                format!("has an invalid {} path", resource.noun()),
            ));
        }
        Ok(parsed)
    }

    /// The account id in `text` when it is an ARN naming one (a hardware MFA serial, or
    /// an S3 bucket's ARN, names none).
    pub fn account_of(text: &'a str) -> Option<&'a str> {
        Self::parse("arn", text).ok()?.account_id()
    }

    /// The 12-digit account id, when the ARN names one.
    pub fn account_id(&self) -> Option<&'a str> {
        Some(self.account).filter(|a| !a.is_empty())
    }

    fn split(field: &str, arn: &'a str, expected: &str) -> Result<Self, ValidationError> {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let [prefix, partition, service, region, account, resource] = parts[..] else {
            return Err(ValidationError::new(
                field,
                format!("is not an ARN (expected {expected})"),
            ));
        };
        if prefix != "arn" {
            return Err(ValidationError::new(
                field,
                format!("is not an ARN (expected {expected})"),
            ));
        }
        if !PARTITIONS.contains(&partition) {
            return Err(ValidationError::new(
                field,
                format!("has an unknown partition '{partition}'"),
            ));
        }
        let word = |s: &str| {
            s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        };
        if service.is_empty() || !word(service) {
            return Err(ValidationError::new(
                field,
                "must name a service (e.g. iam)",
            ));
        }
        if !word(region) {
            return Err(ValidationError::new(
                field,
                format!("has an invalid region '{region}'"),
            ));
        }
        if !account.is_empty() && !is_account_id(account) {
            return Err(ValidationError::new(
                field,
                "must name an account of 12 digits",
            ));
        }
        if resource.is_empty() || resource.chars().any(char::is_control) {
            return Err(ValidationError::new(field, "must name a resource"));
        }
        Ok(Self {
            partition,
            service,
            region,
            account,
            resource,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_users_and_mfa_devices_parse_into_their_parts() {
        let role = Arn::parse_iam(
            "role_arn",
            "arn:aws:iam::123456789012:role/a/b/Deploy",
            IamResource::Role,
        )
        .unwrap();
        assert_eq!(
            role,
            Arn {
                partition: "aws",
                service: "iam",
                region: "",
                account: "123456789012",
                resource: "role/a/b/Deploy",
            }
        );
        let user = Arn::parse_iam(
            "arn",
            "arn:aws:iam::210987654321:user/alice",
            IamResource::User,
        )
        .unwrap();
        assert_eq!(user.account_id(), Some("210987654321"));
        assert_eq!(user.resource, "user/alice");
        let mfa = Arn::parse_iam(
            "mfa_serial",
            "arn:aws:iam::111111111111:mfa/alice",
            IamResource::MfaDevice,
        )
        .unwrap();
        assert_eq!(mfa.account_id(), Some("111111111111"));
    }

    #[test]
    fn china_and_govcloud_partitions_are_known() {
        let cn = Arn::parse_iam(
            "role_arn",
            "arn:aws-cn:iam::123456789012:role/R",
            IamResource::Role,
        )
        .unwrap();
        assert_eq!(cn.partition, "aws-cn");
        let gov = Arn::parse_iam(
            "mfa_serial",
            "arn:aws-us-gov:iam::123456789012:mfa/dev",
            IamResource::MfaDevice,
        )
        .unwrap();
        assert_eq!(gov.partition, "aws-us-gov");
        assert_eq!(gov.account_id(), Some("123456789012"));
    }

    #[test]
    fn arns_of_other_services_keep_region_and_may_have_no_account() {
        let topic = Arn::parse("arn", "arn:aws:sns:eu-west-1:123456789012:alerts").unwrap();
        assert_eq!(
            (topic.service, topic.region, topic.account_id()),
            ("sns", "eu-west-1", Some("123456789012"))
        );
        let bucket = Arn::parse("arn", "arn:aws:s3:::my-bucket/key:with:colons").unwrap();
        assert_eq!(bucket.account_id(), None);
        assert_eq!(bucket.resource, "my-bucket/key:with:colons");
    }

    #[test]
    fn account_of_reads_arns_and_nothing_else() {
        assert_eq!(
            Arn::account_of("arn:aws:iam::123456789012:mfa/alice"),
            Some("123456789012")
        );
        assert_eq!(Arn::account_of("GAHT12345678"), None, "a hardware serial");
        assert_eq!(Arn::account_of("arn:aws:iam::12345:mfa/alice"), None);
        assert_eq!(Arn::account_of("arn:aws:s3:::bucket"), None);
    }

    #[test]
    fn malformed_arns_are_refused_naming_the_field() {
        for (bad, why) in [
            ("role/X", "is not an ARN"),
            ("", "is not an ARN"),
            ("arn:aws:iam::123456789012", "is not an ARN"),
            ("urn:aws:iam::123456789012:role/X", "is not an ARN"),
            (
                "arn:foo:iam::123456789012:role/X",
                "unknown partition 'foo'",
            ),
            ("arn:aws:IAM::123456789012:role/X", "must name a service"),
            ("arn:aws::eu-west-1:123456789012:x", "must name a service"),
            ("arn:aws:sns:EU_WEST:123456789012:x", "invalid region"),
            ("arn:aws:iam::12345678901:role/X", "account of 12 digits"),
            ("arn:aws:iam::1234567890123:role/X", "account of 12 digits"),
            ("arn:aws:iam::12345678901a:role/X", "account of 12 digits"),
            ("arn:aws:iam::123456789012:", "must name a resource"),
        ] {
            let err = Arn::parse("some_arn", bad).unwrap_err();
            assert_eq!(err.field, "some_arn", "{bad}");
            assert!(err.message.contains(why), "{bad}: {}", err.message);
        }
    }

    #[test]
    fn iam_arns_of_the_wrong_shape_are_refused_naming_the_field() {
        for (bad, resource, why) in [
            (
                "arn:aws:s3::123456789012:role/X",
                IamResource::Role,
                "must be an IAM ARN",
            ),
            (
                "arn:aws:iam:us-east-1:123456789012:role/X",
                IamResource::Role,
                "must be an IAM ARN",
            ),
            (
                "arn:aws:iam:::role/X",
                IamResource::Role,
                "account of 12 digits",
            ),
            (
                "arn:aws:iam::123456789012:user/X",
                IamResource::Role,
                "must be a role ARN",
            ),
            (
                "arn:aws:iam::123456789012:role/",
                IamResource::Role,
                "invalid role name",
            ),
            (
                "arn:aws:iam::123456789012:role/a b/X",
                IamResource::Role,
                "invalid role path",
            ),
            (
                "arn:aws:iam::123456789012:role/alice",
                IamResource::MfaDevice,
                "must be an MFA device ARN",
            ),
            (
                "arn:aws:iam::123456789012:mfa/alice",
                IamResource::User,
                "must be a user ARN",
            ),
            ("not-an-arn", IamResource::Role, "e.g. arn:aws:iam::"),
        ] {
            let err = Arn::parse_iam("the_field", bad, resource).unwrap_err();
            assert_eq!(err.field, "the_field", "{bad}");
            assert!(err.message.contains(why), "{bad}: {}", err.message);
        }
    }
}
