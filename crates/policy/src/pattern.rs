//! A policy value as IAM compares it: policy variables substituted (`${aws:username}`,
//! `${aws:PrincipalTag/team}`, a default after a comma, and the escapes `${*}`, `${?}`,
//! `${$}`), IAM's wildcards (`*` any run, `?` one character), and ARNs matched part
//! by part.
//!
//! A variable whose value the request does not know leaves the value unknown: the
//! caller answers "cannot tell", never compares the `${...}` text literally. Variables
//! exist only in documents of version 2012-10-17; in older ones `${` is plain text.

use crate::request::{Lookup, RequestContext};

/// One element of a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tok {
    Lit(char),
    /// `*`: any run of characters.
    Star,
    /// `?`: any one character.
    One,
}

/// A value with its variables substituted; `*` and `?` are wildcards only where the
/// policy wrote them, never where a variable or an escape put them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern(Vec<Tok>);

/// Why a value could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UnknownVariable(pub(crate) String);

impl Pattern {
    /// `text` with its wildcards and no variables.
    pub(crate) fn wild(text: &str) -> Self {
        Self(text.chars().map(wild_tok).collect())
    }

    /// `text` with its variables substituted from `ctx` (when `variables`), its
    /// wildcards kept.
    pub(crate) fn resolve(
        text: &str,
        ctx: &RequestContext,
        variables: bool,
    ) -> Result<Self, UnknownVariable> {
        if !variables {
            return Ok(Self::wild(text));
        }
        let mut toks = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            toks.extend(rest[..start].chars().map(wild_tok));
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                // An unclosed `${` is text.
                toks.extend(rest[start..].chars().map(wild_tok));
                return Ok(Self(toks));
            };
            let inner = &after[..end];
            match inner {
                "*" | "?" | "$" => toks.extend(inner.chars().map(Tok::Lit)),
                _ => {
                    let value = variable(inner, ctx)?;
                    toks.extend(value.chars().map(Tok::Lit));
                }
            }
            rest = &after[end + 1..];
        }
        toks.extend(rest.chars().map(wild_tok));
        Ok(Self(toks))
    }

    /// The text the pattern stands for when its wildcards are literal (the
    /// `...Equals` operators compare this).
    pub(crate) fn literal(&self) -> String {
        self.0
            .iter()
            .map(|t| match t {
                Tok::Lit(c) => *c,
                Tok::Star => '*',
                Tok::One => '?',
            })
            .collect()
    }

    /// Whether `text` matches, `*` and `?` being wildcards.
    pub(crate) fn matches(&self, text: &str, ignore_case: bool) -> bool {
        glob_toks(&self.0, &text.chars().collect::<Vec<_>>(), ignore_case)
    }

    /// IAM's ARN matching: each of the six colon-separated parts matched on its own,
    /// so a wildcard never spans a colon before the resource part; a pattern of fewer
    /// parts matches no ARN.
    pub(crate) fn matches_arn(&self, text: &str) -> bool {
        let mut parts: Vec<&[Tok]> = Vec::new();
        let mut rest: &[Tok] = &self.0;
        while parts.len() < 5 {
            let Some(i) = rest.iter().position(|t| *t == Tok::Lit(':')) else {
                return false;
            };
            parts.push(&rest[..i]);
            rest = &rest[i + 1..];
        }
        parts.push(rest);
        let values: Vec<&str> = text.splitn(6, ':').collect();
        values.len() == 6
            && parts
                .iter()
                .zip(&values)
                .all(|(p, v)| glob_toks(p, &v.chars().collect::<Vec<_>>(), false))
    }
}

fn wild_tok(c: char) -> Tok {
    match c {
        '*' => Tok::Star,
        '?' => Tok::One,
        c => Tok::Lit(c),
    }
}

/// A variable's value: `key` or `key, 'default'`.
fn variable(inner: &str, ctx: &RequestContext) -> Result<String, UnknownVariable> {
    let (key, default) = match inner.split_once(',') {
        Some((key, default)) => {
            let default = default.trim();
            let quoted = default
                .strip_prefix('\'')
                .and_then(|d| d.strip_suffix('\''));
            (key.trim(), quoted)
        }
        None => (inner.trim(), None),
    };
    match (ctx.lookup(key), default) {
        (Lookup::Value(v), _) => Ok(v),
        (Lookup::Absent, Some(d)) => Ok(d.to_owned()),
        _ => Err(UnknownVariable(format!("${{{key}}}"))),
    }
}

/// IAM's wildcards: `*` any run, `?` any one character.
pub fn glob(pattern: &str, text: &str, ignore_case: bool) -> bool {
    Pattern::wild(pattern).matches(text, ignore_case)
}

fn glob_toks(p: &[Tok], t: &[char], ignore_case: bool) -> bool {
    let eq = |a: char, b: char| {
        if ignore_case {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        let lit_or_one = match p.get(pi) {
            Some(Tok::One) => true,
            Some(Tok::Lit(c)) => eq(*c, t[ti]),
            _ => false,
        };
        if lit_or_one {
            pi += 1;
            ti += 1;
        } else if p.get(pi) == Some(&Tok::Star) {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == Tok::Star)
}
