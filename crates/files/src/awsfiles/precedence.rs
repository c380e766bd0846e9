//! Which of the user's keys in a `[profile P]` section of the config file make the AWS
//! tools take P's credentials from somewhere other than what Rolehop delivers.
//!
//! botocore (the AWS CLI, boto3) resolves a profile's credentials in this order:
//! assume role (`role_arn`, with `source_profile` or `credential_source`), web identity
//! (`web_identity_token_file`), IAM Identity Center (`sso_*`), then the shared credentials
//! file, then an `aws login` console session (`login_session`), then
//! `credential_process`, then static keys in the config file. Other SDKs (Go,
//! Java) read the config file's static keys before the credentials file. So a key of the
//! user's that comes earlier than Rolehop's delivery shadows it, and the delivery is
//! refused (or those keys are set aside by a take-over).

use super::section::Conflicts;
use rolehop_model::session::DeliveryMode;

/// How the user's keys in the config file conflict with a delivery in `mode`.
pub fn config_conflicts(mode: DeliveryMode) -> Conflicts {
    Conflicts::SameKeyOr(match mode {
        DeliveryMode::CredentialsFile => outranks_credentials_file,
        DeliveryMode::CredentialProcess => outranks_credential_process,
    })
}

/// Whether a user's `key` in a `[profile P]` section makes botocore take P's
/// credentials from elsewhere before it reads the shared credentials file. `has` says
/// whether the profile has a key of the user's of a name.
pub fn outranks_credentials_file(key: &str, has: &dyn Fn(&str) -> bool) -> bool {
    match key {
        "role_arn" | "web_identity_token_file" => true,
        "source_profile" | "credential_source" => has("role_arn"),
        _ => key.starts_with("sso_"),
    }
}

/// [`outranks_credentials_file`] for a `credential_process` line, which comes after the
/// credentials file and after `login_session` (botocore 1.44's `LoginProvider`); and
/// static keys, which other SDKs (Go, Java) read before it.
pub fn outranks_credential_process(key: &str, has: &dyn Fn(&str) -> bool) -> bool {
    outranks_credentials_file(key, has)
        || matches!(
            key,
            "aws_access_key_id" | "aws_secret_access_key" | "aws_session_token" | "login_session"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_profile_outranks_only_beside_a_role() {
        assert!(outranks_credentials_file("source_profile", &|k| k == "role_arn"));
        assert!(!outranks_credentials_file("source_profile", &|_| false));
        assert!(outranks_credentials_file("sso_start_url", &|_| false));
        assert!(!outranks_credentials_file("region", &|_| true));
    }

    #[test]
    fn static_keys_outrank_credential_process_but_not_the_credentials_file() {
        let none = |_: &str| false;
        assert!(outranks_credential_process("aws_access_key_id", &none));
        assert!(!outranks_credentials_file("aws_access_key_id", &none));
        assert!(!outranks_credential_process("credential_process", &none));
    }

    #[test]
    fn part2_a_login_session_outranks_credential_process_but_not_the_credentials_file() {
        let none = |_: &str| false;
        assert!(outranks_credential_process("login_session", &none));
        assert!(!outranks_credentials_file("login_session", &none));
    }
}
