//! Where the AWS files are: `AWS_SHARED_CREDENTIALS_FILE` and `AWS_CONFIG_FILE` when set
//! (with a leading `~` expanded, as botocore does), else `~/.aws/credentials` and
//! `~/.aws/config` under the platform's home directory.

use std::path::{Path, PathBuf};

/// The shared credentials file.
pub fn credentials_file() -> PathBuf {
    from_env("AWS_SHARED_CREDENTIALS_FILE", "credentials")
}

/// The shared config file.
pub fn config_file() -> PathBuf {
    from_env("AWS_CONFIG_FILE", "config")
}

fn from_env(var: &str, default_name: &str) -> PathBuf {
    let home = dirs::home_dir().unwrap_or_default();
    match std::env::var_os(var).filter(|v| !v.is_empty()) {
        Some(value) => expand_home(Path::new(&value), &home),
        None => home.join(".aws").join(default_name),
    }
}

/// `~` and `~/...` relative to `home`; anything else unchanged.
pub fn expand_home(path: &Path, home: &Path) -> PathBuf {
    match path.strip_prefix("~") {
        Ok(rest) => home.join(rest),
        Err(_) => path.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tilde_is_expanded_like_botocore() {
        let home = Path::new("/home/u");
        assert_eq!(
            expand_home(Path::new("~/creds"), home),
            Path::new("/home/u/creds")
        );
        assert_eq!(expand_home(Path::new("~"), home), Path::new("/home/u"));
        assert_eq!(
            expand_home(Path::new("/etc/creds"), home),
            Path::new("/etc/creds")
        );
        assert_eq!(
            expand_home(Path::new("~other/x"), home),
            Path::new("~other/x")
        );
    }
}
