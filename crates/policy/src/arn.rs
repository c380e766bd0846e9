//! What the evaluator reads of an ARN beyond its parts: the account a principal
//! delegates to, a role's name without its path, an assumed-role session's role.
//!
//! The parts themselves, and the partitions (`aws`, `aws-cn`, `aws-us-gov` and the
//! isolated ones), are the vocabulary's [`Arn`]: the one place ARNs are split. Here a
//! malformed ARN in a policy simply names nothing.

pub use rolehop_model::validate::Arn;

/// An ARN a policy or a request carries, or `None` when it is not one.
pub fn parse(text: &str) -> Option<Arn<'_>> {
    Arn::parse("arn", text).ok()
}

/// The roles a principal ARN can play.
pub trait PrincipalArn<'a> {
    /// The account this ARN names as a principal (`arn:PARTITION:iam::ACCOUNT:root`).
    fn account_root(&self) -> Option<&'a str>;
    /// The name of an IAM role (`role/PATH/NAME` → `NAME`), if this is one.
    fn role_name(&self) -> Option<&'a str>;
    /// The role of an assumed-role session (`assumed-role/NAME/SESSION` → `NAME`).
    fn assumed_role_name(&self) -> Option<&'a str>;
}

impl<'a> PrincipalArn<'a> for Arn<'a> {
    fn account_root(&self) -> Option<&'a str> {
        (self.service == "iam" && self.resource == "root")
            .then_some(self.account)
            .filter(|a| !a.is_empty())
    }

    fn role_name(&self) -> Option<&'a str> {
        let inner = self.resource.strip_prefix("role/")?;
        (self.service == "iam").then(|| inner.rsplit('/').next().unwrap_or(inner))
    }

    fn assumed_role_name(&self) -> Option<&'a str> {
        let inner = self.resource.strip_prefix("assumed-role/")?;
        (self.service == "sts").then(|| inner.split('/').next().unwrap_or(inner))
    }
}

/// Whether `text` is a 12-digit account id.
pub fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_partitions_name_their_account_roots_and_others_do_not_parse() {
        for partition in ["aws", "aws-cn", "aws-us-gov"] {
            let text = format!("arn:{partition}:iam::123456789012:root");
            let arn = parse(&text).unwrap();
            assert_eq!(arn.partition, partition);
            assert_eq!(arn.account_root(), Some("123456789012"));
        }
        assert_eq!(parse("arn:aws-xx:iam::123456789012:root"), None);
        assert_eq!(parse("arn:aws:iam::123456789012"), None);
    }

    #[test]
    fn roles_are_named_without_their_path_and_sessions_by_their_role() {
        let arn = parse("arn:aws:iam::123456789012:role/a/b/Name").unwrap();
        assert_eq!(arn.role_name(), Some("Name"));
        let arn = parse("arn:aws:sts::123456789012:assumed-role/Name/s:x").unwrap();
        assert_eq!(arn.resource, "assumed-role/Name/s:x");
        assert_eq!(arn.assumed_role_name(), Some("Name"));
    }
}
