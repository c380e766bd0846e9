//! Rolehop's edits to one profile's section of one AWS file: put its keys in, change
//! them, take them out, and nothing else.
//!
//! Which lines are Rolehop's is decided by a [`SectionClaim`] from the ledger, checked
//! against the file: a key line is Rolehop's only when its name and value match the claim.
//! Everything else in the section is the user's. New keys go after the section's last key
//! (after its indented sub-keys, before trailing comments); a new section goes at the end
//! of the file, after a blank line Rolehop also records. Taking over a user's section
//! removes its body (header kept, so the section stays where the user put it) for the
//! caller to keep in the keychain; withdrawing puts those bytes back under the header.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use zeroize::Zeroizing;

use super::dialect::{FileRole, KeySpan, Outline, value_at};
use super::ini::{Document, Eol, split_lines};
use super::ledger::{KeyClaim, SectionClaim};

/// A key Rolehop wants in the section.
pub struct Want {
    pub name: &'static str,
    pub value: Zeroizing<String>,
    /// Never recorded in the ledger (the secret access key, the session token).
    pub secret: bool,
    /// Left out when the user's section already sets the key (`region`).
    pub yields_to_user: bool,
}

/// The user's own lines stand where Rolehop would write (see [`Target::prepare`]).
#[derive(Debug)]
pub struct UserOwned {
    /// The user's keys in the way, when only some are ([`Conflicts::SameKeyOr`]); empty
    /// when the section as a whole is the user's ([`Conflicts::AnyUserKey`]).
    pub keys: Vec<String>,
}

/// What of the user's section a take-over removes, to be kept (in the keychain) and put
/// back when the session stops.
#[derive(Debug, Clone)]
pub enum TakeOver {
    /// The section's whole body, below its header.
    Body(Range<usize>),
    /// Some of its lines (keys with their continuation lines), in ascending order.
    Lines { header: usize, lines: Vec<usize> },
}

/// A change that passed its checks and cannot fail any more.
pub struct Prepared {
    wants: Vec<Want>,
    /// What of the user's section to take over (save [`Prepared::taken_bytes`] first,
    /// then execute).
    pub take_over: Option<TakeOver>,
    /// The profile's sections as `prepare` read them, when still true for `execute`.
    outline: Option<Outline>,
}

impl Prepared {
    /// The exact bytes the take-over removes (what the caller keeps), if any.
    pub fn taken_bytes(&self, doc: &Document) -> Option<Zeroizing<Vec<u8>>> {
        Some(match self.take_over.as_ref()? {
            TakeOver::Body(range) => doc.bytes_of(range.clone()),
            TakeOver::Lines { lines, .. } => doc.bytes_of_lines(lines),
        })
    }
}

/// Whether a user's key gets in the way of Rolehop's, besides having a wanted key's
/// name: the key's name, and whether the profile's sections have a user key of a name.
pub type Shadows = fn(&str, &dyn Fn(&str) -> bool) -> bool;

/// How strict [`Target::prepare`] is about the user's keys in the section.
#[derive(Debug, Clone, Copy)]
pub enum Conflicts {
    /// Any key of the user's in the section refuses (the credentials file: the user's keys
    /// would be mixed with, or shadow, Rolehop's). A take-over takes the whole body.
    AnyUserKey,
    /// A user key of the same name as a wanted key refuses, and one that `Shadows` says
    /// would make the AWS tools look past Rolehop's (`role_arn`, `sso_*`...). A take-over
    /// sets aside just those keys.
    SameKeyOr(Shadows),
}

/// One profile in one file.
pub struct Target<'a> {
    pub role: FileRole,
    pub profile: &'a str,
}

/// Whether a line holds only whitespace (no copy made: the line may hold a secret).
fn is_blank(raw: &[u8]) -> bool {
    std::str::from_utf8(raw).is_ok_and(|text| text.trim().is_empty())
}

/// The whitespace a line starts with (as configparser measures indentation).
fn leading_space(raw: &[u8]) -> &[u8] {
    // Whitespace is valid UTF-8, so it lies in the line's first valid stretch (read in
    // place: no copy of a line that may hold a secret).
    let valid = raw.utf8_chunks().next().map_or("", |chunk| chunk.valid());
    let width: usize = valid
        .chars()
        .take_while(|c| c.is_whitespace() || ('\x1c'..='\x1f').contains(c))
        .map(char::len_utf8)
        .sum();
    &raw[..width]
}

fn trim_start(raw: &[u8]) -> &[u8] {
    &raw[leading_space(raw).len()..]
}

/// `name = value`, after `indent`. Built in one allocation that becomes the line (which
/// wipes it): the value may be a secret, and no copy of it is left behind.
fn key_line(indent: &[u8], want: &Want) -> Vec<u8> {
    let mut line = Vec::with_capacity(indent.len() + want.name.len() + want.value.len() + 3);
    line.extend_from_slice(indent);
    line.extend_from_slice(want.name.as_bytes());
    line.extend_from_slice(b" = ");
    line.extend_from_slice(want.value.as_bytes());
    line
}

impl Target<'_> {
    /// The sections of this profile (duplicates included), in file order.
    fn outline(&self, doc: &Document) -> Outline {
        Outline::of_sections(doc, |name| self.role.section_is_profile(name, self.profile))
    }

    /// The key lines `claim` bears out: key name → line index.
    fn owned(
        &self,
        doc: &Document,
        outline: &Outline,
        claim: &SectionClaim,
    ) -> BTreeMap<String, usize> {
        let mut owned = BTreeMap::new();
        let mut key_id_section = None;
        for (name, claim) in &claim.keys {
            let KeyClaim::Values(values) = claim else {
                continue;
            };
            // The line must also be spelled the way Rolehop writes it: a user's own
            // `region=eu-west-1` is never taken for Rolehop's `region = eu-west-1`.
            let written_by_rolehop = |k: &KeySpan| {
                let value = value_at(doc, k.line);
                let raw = trim_start(doc.raw(k.line));
                &k.name == name
                    && values.contains(value.as_str())
                    && raw.len() == name.len() + 3 + value.len()
                    && raw.starts_with(name.as_bytes())
                    && raw[name.len()..].starts_with(b" = ")
                    && raw.ends_with(value.as_bytes())
            };
            let found = outline.sections.iter().enumerate().find_map(|(s, span)| {
                span.keys
                    .iter()
                    .find(|k| written_by_rolehop(k))
                    .map(|k| (s, k.line))
            });
            if let Some((section, line)) = found {
                owned.insert(name.clone(), line);
                if name == "aws_access_key_id" {
                    key_id_section = Some(section);
                }
            }
        }
        if let Some(section) = key_id_section {
            for (name, claim) in &claim.keys {
                if *claim != KeyClaim::Secret {
                    continue;
                }
                if let Some(k) = outline.sections[section]
                    .keys
                    .iter()
                    .find(|k| &k.name == name)
                {
                    owned.insert(name.clone(), k.line);
                }
            }
        }
        owned
    }

    /// `claim` narrowed to what the file bears out.
    pub fn verify(&self, doc: &Document, claim: SectionClaim) -> SectionClaim {
        self.verify_reading(doc, claim).0
    }

    /// [`Target::verify`], and the profile's sections as read for it (valid until the
    /// document changes), to pass on to [`Target::prepare_with`] or
    /// [`Target::withdraw_with`].
    pub fn verify_reading(
        &self,
        doc: &Document,
        mut claim: SectionClaim,
    ) -> (SectionClaim, Outline) {
        let outline = self.outline(doc);
        let owned = self.owned(doc, &outline, &claim);
        claim.keys = std::mem::take(&mut claim.keys)
            .into_iter()
            .filter_map(|(name, key)| {
                let line = *owned.get(&name)?;
                let key = match key {
                    KeyClaim::Values(_) => {
                        KeyClaim::Values(BTreeSet::from([value_at(doc, line).to_string()]))
                    }
                    KeyClaim::Secret => KeyClaim::Secret,
                };
                Some((name, key))
            })
            .collect();
        if claim.keys.is_empty() {
            claim.added_header = false;
            claim.added_blank_before = false;
        }
        (claim, outline)
    }

    /// Checks that `wants` can be written without touching the user's keys, and finds the
    /// section to take over when it cannot and `take_over` allows it.
    pub fn prepare(
        &self,
        doc: &Document,
        claim: &SectionClaim,
        wants: Vec<Want>,
        rule: Conflicts,
        take_over: bool,
    ) -> Result<Prepared, UserOwned> {
        self.prepare_with(doc, self.outline(doc), claim, wants, rule, take_over)
    }

    /// [`Target::prepare`] with the sections already read from `doc`.
    pub fn prepare_with(
        &self,
        doc: &Document,
        outline: Outline,
        claim: &SectionClaim,
        wants: Vec<Want>,
        rule: Conflicts,
        take_over: bool,
    ) -> Result<Prepared, UserOwned> {
        let owned: BTreeSet<usize> = self.owned(doc, &outline, claim).into_values().collect();
        let user_keys = |skip: Option<usize>| -> Vec<&KeySpan> {
            outline
                .sections
                .iter()
                .enumerate()
                .filter(|(s, _)| Some(*s) != skip)
                .flat_map(|(_, span)| &span.keys)
                .filter(|k| !owned.contains(&k.line))
                .collect()
        };
        // The user's keys in the way of `wants`.
        let in_the_way = |user: &[&KeySpan], wants: &[Want]| -> Vec<KeySpan> {
            let named = |k: &KeySpan| wants.iter().any(|w| !w.yields_to_user && k.name == w.name);
            let has = |name: &str| user.iter().any(|k| k.name == name);
            user.iter()
                .filter(|k| match rule {
                    Conflicts::AnyUserKey => owned.is_empty() || named(k),
                    Conflicts::SameKeyOr(shadows) => named(k) || shadows(&k.name, &has),
                })
                .map(|k| (*k).clone())
                .collect()
        };
        let keep = |user: &[&KeySpan], wants: Vec<Want>| -> Vec<Want> {
            wants
                .into_iter()
                .filter(|w| !(w.yields_to_user && user.iter().any(|k| k.name == w.name)))
                .collect()
        };

        let user = user_keys(None);
        let blocking = in_the_way(&user, &wants);
        if blocking.is_empty() {
            let wants = keep(&user, wants);
            return Ok(Prepared {
                wants,
                take_over: None,
                outline: Some(outline),
            });
        }
        let refused = || {
            let mut keys: Vec<String> = Vec::new();
            if let Conflicts::SameKeyOr(_) = rule {
                for k in &blocking {
                    if !keys.contains(&k.name) {
                        keys.push(k.name.clone());
                    }
                }
            }
            UserOwned { keys }
        };
        if !take_over || claim.taken_over.is_some() {
            return Err(refused());
        }
        // Take over the first section of the name (where Rolehop writes, and where the body
        // goes back), if Rolehop has nothing in it and no other section of that name (a
        // duplicate, which botocore rejects anyway) would still be in the way.
        let section = 0;
        let span = outline.sections.first().ok_or_else(refused)?;
        if span.keys.iter().any(|k| owned.contains(&k.line)) {
            return Err(refused());
        }
        let rest = user_keys(Some(section));
        if !in_the_way(&rest, &wants).is_empty() {
            return Err(refused());
        }
        // Keys in the way only together (`role_arn` in the first section, `source_profile`
        // in a duplicate) are set aside relative to the first section and go back there,
        // so every one of them must be in it.
        if blocking
            .iter()
            .any(|k| k.line <= span.header || k.line >= span.end)
        {
            return Err(refused());
        }
        // A line of the user's that would join the line before it once written (empty,
        // after a lone `\r`: together a `\r\n`) goes with what is taken.
        let joins = |before: usize, at: usize| {
            doc.get(before).is_some_and(|l| l.eol == Eol::Cr)
                && doc
                    .get(at)
                    .is_some_and(|l| l.raw.is_empty() && l.eol == Eol::Lf)
        };
        let (take_over, left) = match rule {
            Conflicts::AnyUserKey => {
                let mut end = span.content_end;
                while joins(span.header, end) {
                    end += 1;
                }
                (TakeOver::Body(span.header + 1..end), rest)
            }
            Conflicts::SameKeyOr(_) => {
                let mut lines: BTreeSet<usize> =
                    blocking.iter().flat_map(|k| k.line..k.end).collect();
                // Cutting a run of lines makes the line before it meet the line after it.
                loop {
                    let joined: Vec<usize> = lines
                        .iter()
                        .filter(|&&l| !lines.contains(&(l - 1)))
                        .filter_map(|&first| {
                            let end = (first..).find(|l| !lines.contains(l))?;
                            (end < span.end && joins(first - 1, end)).then_some(end)
                        })
                        .collect();
                    if joined.is_empty() {
                        break;
                    }
                    lines.extend(joined);
                }
                let left: Vec<&KeySpan> = user
                    .iter()
                    .filter(|k| !lines.contains(&k.line))
                    .copied()
                    .collect();
                let lines = lines.into_iter().collect();
                let header = span.header;
                (TakeOver::Lines { header, lines }, left)
            }
        };
        Ok(Prepared {
            wants: keep(&left, wants),
            take_over: Some(take_over),
            // Cutting lines moves lines: execute reads the file again.
            outline: None,
        })
    }

    /// Applies a prepared change and returns the new claim. `taken_over_account` is where
    /// the caller saved the body of `prepared.take_over`.
    pub fn execute(
        &self,
        doc: &mut Document,
        mut claim: SectionClaim,
        prepared: Prepared,
        taken_over_account: Option<String>,
    ) -> SectionClaim {
        match prepared.take_over {
            Some(TakeOver::Body(range)) => {
                doc.cut_lines(range);
                claim.taken_over = taken_over_account;
                claim.set_aside = Vec::new();
            }
            Some(TakeOver::Lines { header, lines }) => {
                for &line in lines.iter().rev() {
                    doc.cut_lines(line..line + 1);
                }
                claim.taken_over = taken_over_account;
                claim.set_aside = lines.iter().map(|line| line - header - 1).collect();
            }
            None => {}
        }
        let wants = prepared.wants;
        let mut outline = prepared.outline.unwrap_or_else(|| self.outline(doc));
        let owned = self.owned(doc, &outline, &claim);

        for want in &wants {
            if let Some(&line) = owned.get(want.name) {
                // Same indentation as before, so the line's role does not change.
                let raw = key_line(leading_space(doc.raw(line)), want);
                doc.set_raw(line, raw);
            }
        }
        let mut unwanted: Vec<usize> = owned
            .iter()
            .filter(|(name, _)| !wants.iter().any(|w| w.name == name.as_str()))
            .map(|(_, &line)| line)
            .collect();
        unwanted.sort_unstable();
        if !unwanted.is_empty() {
            for &line in unwanted.iter().rev() {
                doc.remove_lines(line..line + 1);
            }
            outline = self.outline(doc);
        }

        let missing: Vec<&Want> = wants
            .iter()
            .filter(|w| !owned.contains_key(w.name))
            .collect();
        if !missing.is_empty() {
            match outline.sections.first() {
                Some(span) => {
                    // Indented like the header that follows, so that it stays a header (a
                    // line indented deeper than the key before it would continue that key).
                    let indent = doc.get(span.end).map_or(&[][..], |l| leading_space(l.raw));
                    let lines = missing
                        .into_iter()
                        .map(|want| doc.new_line(key_line(indent, want)))
                        .collect();
                    doc.insert_lines(span.content_end, lines);
                }
                None => {
                    let blank = doc.last().is_some_and(|l| !is_blank(l.raw));
                    let mut block = Vec::new();
                    if blank {
                        block.push(doc.new_line(Vec::new()));
                    }
                    block.push(doc.new_line(self.role.header_for(self.profile).into_bytes()));
                    block.extend(
                        missing
                            .into_iter()
                            .map(|want| doc.new_line(key_line(&[], want))),
                    );
                    doc.insert_lines(doc.len(), block);
                    claim.added_header = true;
                    claim.added_blank_before = blank;
                }
            }
        }

        if wants.is_empty() && claim.added_header {
            self.remove_added_header(doc, &outline, &claim);
            claim.added_header = false;
            claim.added_blank_before = false;
        }
        claim.keys = wants
            .iter()
            .map(|w| {
                let key = if w.secret {
                    KeyClaim::Secret
                } else {
                    KeyClaim::Values(BTreeSet::from([w.value.to_string()]))
                };
                (w.name.to_owned(), key)
            })
            .collect();
        claim
    }

    /// Removes the header Rolehop added once nothing but blank lines and comments is under
    /// it, and the blank line it put before it.
    fn remove_added_header(&self, doc: &mut Document, outline: &Outline, claim: &SectionClaim) {
        let Some(span) = outline
            .sections
            .iter()
            .rev()
            .find(|span| span.content_end == span.header + 1)
        else {
            return;
        };
        let header = span.header;
        let start = if claim.added_blank_before && header > 0 && is_blank(doc.raw(header - 1)) {
            header - 1
        } else {
            header
        };
        doc.remove_lines(start..header + 1);
    }

    /// Takes out everything `claim` bears out and puts `saved_body` (a taken-over section,
    /// or the lines `claim.set_aside` says where to put) back under the profile's header.
    pub fn withdraw(&self, doc: &mut Document, claim: SectionClaim, saved_body: Option<&[u8]>) {
        self.withdraw_with(doc, None, claim, saved_body);
    }

    /// [`Target::withdraw`] with the sections already read from `doc`, if they were.
    pub fn withdraw_with(
        &self,
        doc: &mut Document,
        outline: Option<Outline>,
        claim: SectionClaim,
        saved_body: Option<&[u8]>,
    ) {
        let prepared = Prepared {
            wants: Vec::new(),
            take_over: None,
            outline,
        };
        let set_aside = claim.set_aside.clone();
        self.execute(doc, claim, prepared, None);
        let Some(body) = saved_body else {
            return;
        };
        match self.outline(doc).sections.first() {
            Some(span) if !set_aside.is_empty() => {
                // In ascending order, each line goes back to its index in the section as
                // the user wrote it; lines the user removed meanwhile leave the later ones
                // at the section's end.
                let lines = split_lines(body).into_iter().enumerate();
                for (end, (i, line)) in (span.end..).zip(lines) {
                    let at = set_aside
                        .get(i)
                        .map_or(end, |&index| (span.header + 1 + index).min(end));
                    doc.insert_lines(at, vec![line]);
                }
            }
            Some(span) => doc.insert_lines(span.header + 1, split_lines(body)),
            // The user deleted the header meanwhile: their section comes back at the end.
            None => {
                let mut block = Vec::new();
                if doc.last().is_some_and(|l| !is_blank(l.raw)) {
                    block.push(doc.new_line(Vec::new()));
                }
                block.push(doc.new_line(self.role.header_for(self.profile).into_bytes()));
                block.extend(split_lines(body));
                doc.insert_lines(doc.len(), block);
            }
        }
    }

    /// Whether what was taken over, `saved`, is in the file (the take-over never reached
    /// it, or was already undone): the section's body, or with `set_aside`, each of its
    /// set-aside lines that is not blank.
    pub fn saved_in_place(
        &self,
        doc: &Document,
        outline: &Outline,
        saved: &[u8],
        set_aside: &[usize],
    ) -> bool {
        outline.sections.first().is_some_and(|span| {
            if set_aside.is_empty() {
                let body = doc.bytes_of(span.header + 1..span.end);
                return body.starts_with(saved);
            }
            let lines = Document::parse(saved);
            (0..lines.len())
                .map(|i| lines.raw(i))
                .filter(|raw| !is_blank(raw))
                .all(|raw| (span.header + 1..span.end).any(|l| doc.raw(l) == raw))
        })
    }
}

#[cfg(test)]
mod tests;
