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
pub struct UserOwned;

/// A change that passed its checks and cannot fail any more.
pub struct Prepared {
    wants: Vec<Want>,
    /// Body lines of the user's section to take over (save first, then execute).
    pub take_over: Option<Range<usize>>,
}

/// How strict [`Target::prepare`] is about the user's keys in the section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflicts {
    /// Any key of the user's in the section refuses (the credentials file: the user's keys
    /// would be mixed with, or shadow, Rolehop's).
    AnyUserKey,
    /// Only a user key of the same name as a wanted key refuses.
    SameKey,
}

/// One profile in one file.
pub struct Target<'a> {
    pub role: FileRole,
    pub profile: &'a str,
}

fn is_blank(raw: &[u8]) -> bool {
    String::from_utf8_lossy(raw).trim().is_empty()
}

/// The whitespace a line starts with (as configparser measures indentation).
fn leading_space(raw: &[u8]) -> &[u8] {
    let text = String::from_utf8_lossy(raw);
    let width: usize = text
        .chars()
        .take_while(|c| c.is_whitespace() || ('\x1c'..='\x1f').contains(c))
        .map(char::len_utf8)
        .sum();
    // Replacement characters are never whitespace, so the prefix is valid UTF-8 and has
    // the same length in `raw`.
    &raw[..width]
}

fn trim_start(raw: &[u8]) -> &[u8] {
    &raw[leading_space(raw).len()..]
}

fn key_line(want: &Want) -> Vec<u8> {
    let mut line = Vec::with_capacity(want.name.len() + want.value.len() + 3);
    line.extend_from_slice(want.name.as_bytes());
    line.extend_from_slice(b" = ");
    line.extend_from_slice(want.value.as_bytes());
    line
}

impl Target<'_> {
    fn matching(&self, outline: &Outline) -> Vec<usize> {
        outline.find(|name| self.role.section_is_profile(name, self.profile))
    }

    /// The key lines `claim` bears out: key name → line index.
    fn owned(
        &self,
        doc: &Document,
        outline: &Outline,
        claim: &SectionClaim,
    ) -> BTreeMap<String, usize> {
        let sections = self.matching(outline);
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
                let raw = trim_start(&doc.lines()[k.line].raw);
                &k.name == name
                    && values.contains(value.as_str())
                    && raw.len() == name.len() + 3 + value.len()
                    && raw.starts_with(name.as_bytes())
                    && raw[name.len()..].starts_with(b" = ")
                    && raw.ends_with(value.as_bytes())
            };
            let found = sections.iter().find_map(|&s| {
                outline.sections[s]
                    .keys
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
    pub fn verify(&self, doc: &Document, mut claim: SectionClaim) -> SectionClaim {
        let outline = Outline::of(doc);
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
        claim
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
        let outline = Outline::of(doc);
        let sections = self.matching(&outline);
        let owned: BTreeSet<usize> = self.owned(doc, &outline, claim).into_values().collect();
        let user_keys = |skip: Option<usize>| -> Vec<&KeySpan> {
            sections
                .iter()
                .filter(|&&s| Some(s) != skip)
                .flat_map(|&s| &outline.sections[s].keys)
                .filter(|k| !owned.contains(&k.line))
                .collect()
        };
        let conflicts = |user: &[&KeySpan], wants: &[Want]| {
            (rule == Conflicts::AnyUserKey && owned.is_empty() && !user.is_empty())
                || wants
                    .iter()
                    .any(|w| !w.yields_to_user && user.iter().any(|k| k.name == w.name))
        };
        let keep = |user: &[&KeySpan], wants: Vec<Want>| -> Vec<Want> {
            wants
                .into_iter()
                .filter(|w| !(w.yields_to_user && user.iter().any(|k| k.name == w.name)))
                .collect()
        };

        let user = user_keys(None);
        if !conflicts(&user, &wants) {
            return Ok(Prepared {
                wants: keep(&user, wants),
                take_over: None,
            });
        }
        if !take_over || claim.taken_over.is_some() {
            return Err(UserOwned);
        }
        // Take over the first section of the name (where Rolehop writes, and where the body
        // goes back), if Rolehop has nothing in it and no other section of that name (a
        // duplicate, which botocore rejects anyway) would still be in the way.
        let section = *sections.first().ok_or(UserOwned)?;
        let span = &outline.sections[section];
        if span.keys.iter().any(|k| owned.contains(&k.line)) {
            return Err(UserOwned);
        }
        let rest = user_keys(Some(section));
        if conflicts(&rest, &wants) {
            return Err(UserOwned);
        }
        // After a header ending in a lone `\r`, empty lines go with the body: left behind
        // they would join the header's `\r` into a `\r\n` once written.
        let mut end = span.content_end;
        let lines = doc.lines();
        while lines[span.header].eol == Eol::Cr
            && lines
                .get(end)
                .is_some_and(|l| l.raw.is_empty() && l.eol == Eol::Lf)
        {
            end += 1;
        }
        Ok(Prepared {
            wants: keep(&rest, wants),
            take_over: Some(span.header + 1..end),
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
        if let Some(range) = prepared.take_over {
            doc.cut_lines(range);
            claim.taken_over = taken_over_account;
        }
        let wants = prepared.wants;
        let outline = Outline::of(doc);
        let owned = self.owned(doc, &outline, &claim);

        for want in &wants {
            if let Some(&line) = owned.get(want.name) {
                doc.set_raw(line, key_line(want));
            }
        }
        let mut unwanted: Vec<usize> = owned
            .iter()
            .filter(|(name, _)| !wants.iter().any(|w| w.name == name.as_str()))
            .map(|(_, &line)| line)
            .collect();
        unwanted.sort_unstable();
        for line in unwanted.into_iter().rev() {
            doc.remove_lines(line..line + 1);
        }

        let missing: Vec<Vec<u8>> = wants
            .iter()
            .filter(|w| !owned.contains_key(w.name))
            .map(key_line)
            .collect();
        if !missing.is_empty() {
            let outline = Outline::of(doc);
            match self.matching(&outline).first() {
                Some(&s) => {
                    // Indented like the header that follows, so that it stays a header (a
                    // line indented deeper than the key before it would continue that key).
                    let span = &outline.sections[s];
                    let indent = doc
                        .lines()
                        .get(span.end)
                        .map_or(&[][..], |l| leading_space(&l.raw));
                    let lines = missing
                        .into_iter()
                        .map(|raw| doc.new_line([indent, &raw].concat()))
                        .collect();
                    doc.insert_lines(span.content_end, lines);
                }
                None => {
                    let blank = doc.lines().last().is_some_and(|l| !is_blank(&l.raw));
                    let mut block = Vec::new();
                    if blank {
                        block.push(doc.new_line(Vec::new()));
                    }
                    block.push(doc.new_line(self.role.header_for(self.profile).into_bytes()));
                    block.extend(missing.into_iter().map(|raw| doc.new_line(raw)));
                    doc.insert_lines(doc.len(), block);
                    claim.added_header = true;
                    claim.added_blank_before = blank;
                }
            }
        }

        if wants.is_empty() && claim.added_header {
            self.remove_added_header(doc, &claim);
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
    fn remove_added_header(&self, doc: &mut Document, claim: &SectionClaim) {
        let outline = Outline::of(doc);
        let Some(&s) = self
            .matching(&outline)
            .iter()
            .rev()
            .find(|&&s| outline.sections[s].content_end == outline.sections[s].header + 1)
        else {
            return;
        };
        let header = outline.sections[s].header;
        let start =
            if claim.added_blank_before && header > 0 && is_blank(&doc.lines()[header - 1].raw) {
                header - 1
            } else {
                header
            };
        doc.remove_lines(start..header + 1);
    }

    /// Takes out everything `claim` bears out and puts `saved_body` (a taken-over section)
    /// back under the profile's header.
    pub fn withdraw(&self, doc: &mut Document, claim: SectionClaim, saved_body: Option<&[u8]>) {
        let prepared = Prepared {
            wants: Vec::new(),
            take_over: None,
        };
        self.execute(doc, claim, prepared, None);
        let Some(body) = saved_body else {
            return;
        };
        let outline = Outline::of(doc);
        match self.matching(&outline).first() {
            Some(&s) => doc.insert_lines(outline.sections[s].header + 1, split_lines(body)),
            // The user deleted the header meanwhile: their section comes back at the end.
            None => {
                let mut block = Vec::new();
                if doc.lines().last().is_some_and(|l| !is_blank(&l.raw)) {
                    block.push(doc.new_line(Vec::new()));
                }
                block.push(doc.new_line(self.role.header_for(self.profile).into_bytes()));
                block.extend(split_lines(body));
                doc.insert_lines(doc.len(), block);
            }
        }
    }

    /// Whether the user's section body `saved` is in the file (the take-over never reached
    /// it, or was already undone).
    pub fn body_in_place(&self, doc: &Document, saved: &[u8]) -> bool {
        let outline = Outline::of(doc);
        self.matching(&outline).first().is_some_and(|&s| {
            let span = &outline.sections[s];
            let body = Zeroizing::new(doc.bytes_of(span.header + 1..span.end));
            body.starts_with(saved)
        })
    }
}

#[cfg(test)]
mod tests;
