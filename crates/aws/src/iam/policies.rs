//! The identity policies of an IAM user or role, as `trust check` needs them to evaluate
//! the caller's side of a hop: inline and attached, and for a user its groups' inline
//! and attached, every listing walked page by page ([`crate::AwsClient::all_pages`]),
//! each managed policy read at its default version.
//!
//! All or nothing: one refused or failed call fails the whole read, naming the action
//! it needed. A partial set would be worse than none: the evaluator would take a
//! missing Allow for a refusal.

use aws_sdk_iam::Client;

use crate::credentials::Credentials;
use crate::iam::{IamClient, IamError};

/// Whose identity policies are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity<'a> {
    /// An IAM user, by name: its own policies and its groups'.
    User(&'a str),
    /// An IAM role, by name (without its path).
    Role(&'a str),
}

/// One identity policy as IAM stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityPolicy {
    /// Where it came from: `inline policy 'deploy' of role CodeBuildRole`, or a
    /// managed policy's ARN and version.
    pub source: String,
    /// The document, URL-encoded as IAM's query API returns it (rolehop-policy's
    /// `PolicyDocument::parse_from_iam` reads either form).
    pub document: String,
}

/// An identity-policy read that failed: the IAM action it needed, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("iam:{action} failed ({cause})")]
pub struct PolicyReadError {
    pub action: &'static str,
    pub cause: IamError,
}

/// What holds policies: a user, a group or a role.
#[derive(Debug, Clone, Copy)]
enum Holder<'a> {
    User(&'a str),
    Group(&'a str),
    Role(&'a str),
}

impl Holder<'_> {
    fn describe(self) -> String {
        match self {
            Holder::User(n) => format!("user {n}"),
            Holder::Group(n) => format!("group {n}"),
            Holder::Role(n) => format!("role {n}"),
        }
    }
}

/// The next page's marker of an IAM listing: IAM says `IsTruncated` and gives a marker.
fn next_marker(truncated: bool, marker: Option<String>) -> Option<String> {
    marker.filter(|_| truncated)
}

fn failed(action: &'static str) -> impl Fn(IamError) -> PolicyReadError {
    move |cause| PolicyReadError { action, cause }
}

/// One IAM listing of a user's, group's or role's policies, walked page by page: the
/// SDK operation `$op` with `$holder_field` = `$holder`, the items of each page's
/// `$list` field taken by `$items`. (The SDK's builders share no trait, so the three
/// holders' calls differ only in names: a macro writes them once.)
macro_rules! listing {
    ($self:ident, $signer:ident, $action:literal, $op:ident, $holder_field:ident, $holder:ident,
     $list:ident, $items:ident) => {
        $self
            .client()
            .all_pages(
                $action,
                None,
                Some($signer),
                |iam: &Client, call, marker| {
                    iam.$op()
                        .$holder_field($holder)
                        .set_marker(marker)
                        .customize()
                        .config_override(call)
                        .send()
                },
                |out| {
                    let next = next_marker(out.is_truncated, out.marker);
                    ($items(out.$list), next)
                },
            )
            .await
            .map_err(failed($action))
    };
}

/// One inline policy's document: `$op` with `$holder_field` = `$holder` and the policy's
/// name.
macro_rules! inline_get {
    ($self:ident, $signer:ident, $action:literal, $op:ident, $holder_field:ident, $holder:ident,
     $name:ident) => {
        $self
            .client()
            .call($action, None, Some($signer), |iam, call| {
                iam.$op()
                    .$holder_field($holder)
                    .policy_name($name)
                    .customize()
                    .config_override(call)
                    .send()
            })
            .await
            .map(|out| out.policy_document)
            .map_err(failed($action))
    };
}

impl IamClient {
    /// Every identity policy of `identity`, signed with `signer` (the identity's own
    /// credentials: a user or role may read its own policies when its policy allows).
    pub async fn identity_policies(
        &self,
        signer: &Credentials,
        identity: Identity<'_>,
    ) -> Result<Vec<IdentityPolicy>, PolicyReadError> {
        let mut holders = match identity {
            Identity::User(name) => vec![Holder::User(name)],
            Identity::Role(name) => vec![Holder::Role(name)],
        };
        let groups = match identity {
            Identity::User(name) => self.groups_for_user(signer, name).await?,
            Identity::Role(_) => Vec::new(),
        };
        holders.extend(groups.iter().map(|g| Holder::Group(g)));
        let mut out = Vec::new();
        let mut managed: Vec<String> = Vec::new();
        for holder in holders {
            let names = self.inline_names(signer, holder).await?;
            let inline = names.iter().map(|n| self.inline_policy(signer, holder, n));
            out.extend(futures_util::future::try_join_all(inline).await?);
            for arn in self.attached_arns(signer, holder).await? {
                // A managed policy attached to the user and to one of its groups counts once.
                if !managed.contains(&arn) {
                    managed.push(arn);
                }
            }
        }
        let attached = managed.iter().map(|arn| self.managed_policy(signer, arn));
        out.extend(futures_util::future::try_join_all(attached).await?);
        Ok(out)
    }

    async fn groups_for_user(
        &self,
        signer: &Credentials,
        user: &str,
    ) -> Result<Vec<String>, PolicyReadError> {
        let names = |groups: Vec<aws_sdk_iam::types::Group>| {
            groups.into_iter().map(|g| g.group_name).collect::<Vec<_>>()
        };
        listing!(
            self,
            signer,
            "ListGroupsForUser",
            list_groups_for_user,
            user_name,
            user,
            groups,
            names
        )
    }

    /// The names of `holder`'s inline policies.
    async fn inline_names(
        &self,
        signer: &Credentials,
        holder: Holder<'_>,
    ) -> Result<Vec<String>, PolicyReadError> {
        let names = |names: Vec<String>| names;
        match holder {
            Holder::User(n) => {
                listing!(
                    self,
                    signer,
                    "ListUserPolicies",
                    list_user_policies,
                    user_name,
                    n,
                    policy_names,
                    names
                )
            }
            Holder::Group(n) => {
                listing!(
                    self,
                    signer,
                    "ListGroupPolicies",
                    list_group_policies,
                    group_name,
                    n,
                    policy_names,
                    names
                )
            }
            Holder::Role(n) => {
                listing!(
                    self,
                    signer,
                    "ListRolePolicies",
                    list_role_policies,
                    role_name,
                    n,
                    policy_names,
                    names
                )
            }
        }
    }

    /// One inline policy of `holder`.
    async fn inline_policy(
        &self,
        signer: &Credentials,
        holder: Holder<'_>,
        name: &str,
    ) -> Result<IdentityPolicy, PolicyReadError> {
        let document = match holder {
            Holder::User(n) => {
                inline_get!(
                    self,
                    signer,
                    "GetUserPolicy",
                    get_user_policy,
                    user_name,
                    n,
                    name
                )
            }
            Holder::Group(n) => {
                inline_get!(
                    self,
                    signer,
                    "GetGroupPolicy",
                    get_group_policy,
                    group_name,
                    n,
                    name
                )
            }
            Holder::Role(n) => {
                inline_get!(
                    self,
                    signer,
                    "GetRolePolicy",
                    get_role_policy,
                    role_name,
                    n,
                    name
                )
            }
        }?;
        Ok(IdentityPolicy {
            source: format!("inline policy '{name}' of {}", holder.describe()),
            document,
        })
    }

    /// The ARNs of the managed policies attached to `holder`.
    async fn attached_arns(
        &self,
        signer: &Credentials,
        holder: Holder<'_>,
    ) -> Result<Vec<String>, PolicyReadError> {
        let arns = |policies: Option<Vec<aws_sdk_iam::types::AttachedPolicy>>| {
            (policies.unwrap_or_default().into_iter())
                .filter_map(|p| p.policy_arn)
                .collect::<Vec<_>>()
        };
        match holder {
            Holder::User(n) => listing!(
                self,
                signer,
                "ListAttachedUserPolicies",
                list_attached_user_policies,
                user_name,
                n,
                attached_policies,
                arns
            ),
            Holder::Group(n) => listing!(
                self,
                signer,
                "ListAttachedGroupPolicies",
                list_attached_group_policies,
                group_name,
                n,
                attached_policies,
                arns
            ),
            Holder::Role(n) => listing!(
                self,
                signer,
                "ListAttachedRolePolicies",
                list_attached_role_policies,
                role_name,
                n,
                attached_policies,
                arns
            ),
        }
    }

    /// A managed policy's document at its default version (`GetPolicy`, then
    /// `GetPolicyVersion`).
    async fn managed_policy(
        &self,
        signer: &Credentials,
        arn: &str,
    ) -> Result<IdentityPolicy, PolicyReadError> {
        let client = self.client();
        let policy = client
            .call("GetPolicy", None, Some(signer), |iam, call| {
                iam.get_policy()
                    .policy_arn(arn)
                    .customize()
                    .config_override(call)
                    .send()
            })
            .await
            .map_err(failed("GetPolicy"))?;
        let version =
            (policy.policy.and_then(|p| p.default_version_id)).ok_or_else(|| PolicyReadError {
                action: "GetPolicy",
                cause: IamError::invalid_response(format!(
                    "IAM gave no default version for the policy {arn}"
                )),
            })?;
        let out = client
            .call("GetPolicyVersion", None, Some(signer), |iam, call| {
                iam.get_policy_version()
                    .policy_arn(arn)
                    .version_id(&version)
                    .customize()
                    .config_override(call)
                    .send()
            })
            .await
            .map_err(failed("GetPolicyVersion"))?;
        let document =
            (out.policy_version.and_then(|v| v.document)).ok_or_else(|| PolicyReadError {
                action: "GetPolicyVersion",
                cause: IamError::invalid_response(format!(
                    "IAM gave no document for {arn} version {version}"
                )),
            })?;
        Ok(IdentityPolicy {
            source: format!("{arn} ({version})"),
            document,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listing_goes_on_only_while_iam_says_it_is_truncated() {
        assert_eq!(next_marker(true, Some("m".into())), Some("m".into()));
        assert_eq!(next_marker(false, Some("m".into())), None);
        assert_eq!(next_marker(true, None), None);
    }

    #[test]
    fn a_refused_read_names_the_action_it_needed() {
        let e = PolicyReadError {
            action: "ListRolePolicies",
            cause: IamError {
                code: "AccessDenied".into(),
                message: "not allowed".into(),
            },
        };
        assert_eq!(
            e.to_string(),
            "iam:ListRolePolicies failed (AccessDenied: not allowed)"
        );
    }
}
