//! Reading a followed catalog's text: a local file, or `catalog.toml` at the root of a
//! git repository fetched with the user's own `git` (their credentials, their SSH
//! agent, their signing configuration), into a bare repository in the workspace's
//! directory. Blocking: callers run it on the blocking pool.
//!
//! Nothing secret is ever put on git's command line: Rolehop passes only what the user
//! typed as the source (refused if it holds a password) and the ref. With
//! `require_signed`, the fetched commit must pass `git verify-commit` (GPG, or SSH
//! signatures with `gpg.format=ssh` and the user's `gpg.ssh.allowedSignersFile`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rolehop_model::catalog::{FILE_IN_REPOSITORY, Location, MAX_BYTES};

use crate::validate::ValidationError;

/// A catalog's text and, from git, the commit it was read at.
pub(crate) struct Fetched {
    pub text: String,
    pub commit: Option<String>,
}

/// What `catalog add` was given: an existing file is a file; anything else (a directory,
/// a URL) is a git repository.
pub(crate) fn locate(source: &str) -> Result<Location, ValidationError> {
    if source.is_empty() {
        return Err(ValidationError::new("source", "must not be empty"));
    }
    if source.starts_with('-') {
        return Err(ValidationError::new("source", "must not start with '-'"));
    }
    if source.chars().any(char::is_control) {
        return Err(ValidationError::new(
            "source",
            "must not contain control characters",
        ));
    }
    let path = Path::new(source);
    if path.is_file() {
        let absolute = std::path::absolute(path)
            .map_err(|e| ValidationError::new("source", format!("cannot be resolved: {e}")))?;
        return Ok(Location::File(absolute.to_string_lossy().into_owned()));
    }
    if path.is_dir() {
        let absolute = std::path::absolute(path)
            .map_err(|e| ValidationError::new("source", format!("cannot be resolved: {e}")))?;
        return Ok(Location::Git(absolute.to_string_lossy().into_owned()));
    }
    if let Ok(url) = url::Url::parse(source) {
        if url.password().is_some() {
            return Err(ValidationError::new(
                "source",
                "must not hold a password: let git's credential helper or SSH agent supply it",
            ));
        }
        if matches!(url.scheme(), "http" | "https") && url.path().ends_with(".toml") {
            return super::download::locate(&url);
        }
    }
    Ok(Location::Git(source.to_owned()))
}

/// Reads the catalog at `location`; a git repository is fetched into `cache`.
pub(crate) fn fetch(
    location: &Location,
    git_ref: Option<&str>,
    require_signed: bool,
    cache: &Path,
) -> Result<Fetched, ValidationError> {
    match location {
        Location::File(path) => {
            if require_signed {
                return Err(ValidationError::new(
                    "require_signed",
                    "only a git repository's commits carry signatures; this catalog is a file",
                ));
            }
            read_file(Path::new(path)).map(|text| Fetched {
                commit: Some(content_hash(&text)),
                text,
            })
        }
        Location::Git(url) => fetch_git(url, git_ref, require_signed, cache),
        Location::Https(_) => unreachable!("an https source is downloaded, not fetched"),
    }
}

/// A file catalog's version: `sha256:` and the hash of its text.
pub(crate) fn content_hash(text: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(text.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// The version the source holds now, without fetching it: a git repository's commit
/// at the followed ref (`git ls-remote`, the user's git and credentials; `None` when
/// the ref is a commit, which never moves), a file's content hash. A failure says only
/// that the source was not reached: git's message may repeat the URL, and a URL may
/// carry a token as its user name.
pub(crate) fn latest(
    location: &Location,
    git_ref: Option<&str>,
) -> Result<Option<String>, ValidationError> {
    let url = match location {
        Location::File(path) => return read_file(Path::new(path)).map(|t| Some(content_hash(&t))),
        Location::Git(url) => url,
        // Asking an https source means downloading it again: it is not watched, and
        // its sync compares the text's hash.
        Location::Https(_) => return Ok(None),
    };
    let mut c = Command::new("git");
    c.env("GIT_TERMINAL_PROMPT", "0")
        .args(["ls-remote", "--quiet", "--end-of-options", url])
        .arg(git_ref.unwrap_or("HEAD"));
    let out = run(c, "ls-remote")?;
    if !out.status.success() {
        return Err(ValidationError::new(
            "source",
            format!(
                "git could not reach the catalog's repository (ls-remote exited with {})",
                out.status.code().unwrap_or(-1)
            ),
        ));
    }
    Ok(remote_commit(
        &String::from_utf8_lossy(&out.stdout),
        git_ref,
    ))
}

/// The commit `git ls-remote`'s `listing` gives for `git_ref` as `git fetch` resolves
/// it: a tag before a branch, an annotated tag peeled to its commit.
fn remote_commit(listing: &str, git_ref: Option<&str>) -> Option<String> {
    let lines: Vec<(&str, &str)> = listing.lines().filter_map(|l| l.split_once('\t')).collect();
    let find = |name: &str| {
        lines
            .iter()
            .find(|(_, r)| *r == name)
            .map(|(sha, _)| (*sha).to_owned())
    };
    let Some(r) = git_ref else {
        return find("HEAD");
    };
    let wanted: Vec<String> = if r.starts_with("refs/") {
        vec![format!("{r}^{{}}"), r.to_owned()]
    } else {
        vec![
            format!("refs/tags/{r}^{{}}"),
            format!("refs/tags/{r}"),
            format!("refs/heads/{r}"),
        ]
    };
    wanted.iter().find_map(|w| find(w))
}

fn read_file(path: &Path) -> Result<String, ValidationError> {
    use std::io::Read;
    let refuse = |why: String| ValidationError::new("source", why);
    let file = std::fs::File::open(path)
        .map_err(|e| refuse(format!("cannot read {}: {e}", path.display())))?;
    let mut bytes = Vec::new();
    // One byte past the limit is enough to know the file is too big.
    file.take(MAX_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| refuse(format!("cannot read {}: {e}", path.display())))?;
    if bytes.len() > MAX_BYTES {
        return Err(ValidationError::new(
            "catalog",
            format!("the file is over {MAX_BYTES} bytes; a catalog may be at most 1 MiB"),
        ));
    }
    String::from_utf8(bytes).map_err(|_| ValidationError::new("catalog", "the file is not UTF-8"))
}

fn git(repo: &Path) -> Command {
    let mut c = Command::new("git");
    c.arg("-C").arg(repo);
    // Git must never stop to ask on a terminal the engine does not own.
    c.env("GIT_TERMINAL_PROMPT", "0");
    c
}

fn run(mut command: Command, what: &str) -> Result<Output, ValidationError> {
    let out = command.output().map_err(|e| {
        ValidationError::new(
            "source",
            format!("cannot run git ({what}): {e}; is git installed?"),
        )
    })?;
    Ok(out)
}

fn stderr_line(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no message")
        .trim()
        .to_owned()
}

fn fetch_git(
    url: &str,
    git_ref: Option<&str>,
    require_signed: bool,
    cache: &Path,
) -> Result<Fetched, ValidationError> {
    if let Some(r) = git_ref
        && (r.starts_with('-') || r.is_empty() || r.chars().any(|c| c.is_control() || c == ' '))
    {
        return Err(ValidationError::new(
            "ref",
            "must be a branch, tag or commit name",
        ));
    }
    let repo: PathBuf = cache.to_owned();
    if !repo.join("HEAD").is_file() {
        std::fs::create_dir_all(&repo).map_err(|e| {
            ValidationError::new("source", format!("cannot make {}: {e}", repo.display()))
        })?;
        let mut init = git(&repo);
        init.args(["init", "--bare", "--quiet"]);
        let out = run(init, "init")?;
        if !out.status.success() {
            return Err(ValidationError::new(
                "source",
                format!("git init: {}", stderr_line(&out)),
            ));
        }
    }
    let mut fetch = git(&repo);
    fetch
        .args(["fetch", "--quiet", "--no-tags", "--end-of-options", url])
        .arg(git_ref.unwrap_or("HEAD"));
    let out = run(fetch, "fetch")?;
    if !out.status.success() {
        return Err(ValidationError::new(
            "source",
            format!("git could not fetch the catalog: {}", stderr_line(&out)),
        ));
    }
    let mut parse = git(&repo);
    parse.args(["rev-parse", "--verify", "--quiet", "FETCH_HEAD^{commit}"]);
    let out = run(parse, "rev-parse")?;
    let commit = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if !out.status.success() || commit.is_empty() {
        return Err(ValidationError::new("ref", "names no commit"));
    }
    if require_signed {
        let mut verify = git(&repo);
        verify.args(["verify-commit", &commit]);
        let out = run(verify, "verify-commit")?;
        if !out.status.success() {
            return Err(ValidationError::new(
                "require_signed",
                format!(
                    "commit {} has no signature git accepts ({}); nothing was changed",
                    &commit[..commit.len().min(12)],
                    stderr_line(&out)
                ),
            ));
        }
    }
    let mut size = git(&repo);
    size.args(["cat-file", "-s", &format!("{commit}:{FILE_IN_REPOSITORY}")]);
    let out = run(size, "cat-file")?;
    if !out.status.success() {
        return Err(ValidationError::new(
            "source",
            format!(
                "the repository has no {FILE_IN_REPOSITORY} at its root (commit {})",
                &commit[..12]
            ),
        ));
    }
    let bytes: usize = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(usize::MAX);
    if bytes > MAX_BYTES {
        return Err(ValidationError::new(
            "catalog",
            format!(
                "the file is {bytes} bytes; a catalog may be at most {MAX_BYTES} bytes (1 MiB)"
            ),
        ));
    }
    let mut show = git(&repo);
    show.args([
        "cat-file",
        "blob",
        &format!("{commit}:{FILE_IN_REPOSITORY}"),
    ]);
    let out = run(show, "cat-file")?;
    if !out.status.success() {
        return Err(ValidationError::new(
            "source",
            format!("git: {}", stderr_line(&out)),
        ));
    }
    let text = String::from_utf8(out.stdout)
        .map_err(|_| ValidationError::new("catalog", "the file is not UTF-8"))?;
    Ok(Fetched {
        text,
        commit: Some(commit),
    })
}

#[cfg(test)]
mod tests {
    use super::remote_commit;

    const LISTING: &str = "aaaa\tHEAD\nbbbb\trefs/heads/main\ncccc\trefs/tags/v1\ndddd\trefs/tags/v1^{}\neeee\trefs/heads/v1\n";

    #[test]
    fn part4_the_remote_commit_is_the_one_fetch_would_read() {
        assert_eq!(remote_commit(LISTING, None).as_deref(), Some("aaaa"));
        assert_eq!(
            remote_commit(LISTING, Some("main")).as_deref(),
            Some("bbbb")
        );
        // An annotated tag is peeled, and a tag wins over a branch of the same name.
        assert_eq!(remote_commit(LISTING, Some("v1")).as_deref(), Some("dddd"));
        assert_eq!(
            remote_commit(LISTING, Some("refs/heads/v1")).as_deref(),
            Some("eeee")
        );
        // A commit as the ref is not listed: it never moves on.
        assert_eq!(remote_commit(LISTING, Some("0123abcd")), None);
    }
}
