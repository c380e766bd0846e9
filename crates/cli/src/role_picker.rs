//! The role picker of `rolehop saml sync` without `--role` or `--all`, on a terminal:
//! every role the SAML response grants, with its account; type to filter (the core's
//! `RoleOffer::matches`, as the bench measures), ↑/↓ to move, Space to mark or unmark,
//! Enter to keep the marked roles (the highlighted one when none is marked); Escape or
//! Ctrl-C cancels and changes nothing. Drawn with the session picker's terminal.

use std::collections::BTreeSet;

use rolehop_core::saml::RoleOffer;

use crate::failure::Failure;
use crate::picker::{Key, Pick, Query, on_terminal};

/// How many roles the picker shows at once.
const ROWS: usize = 12;

struct RolePicker<'a> {
    offers: &'a [RoleOffer],
    query: Query,
    marked: BTreeSet<usize>,
}

impl<'a> RolePicker<'a> {
    fn new(offers: &'a [RoleOffer]) -> Self {
        Self {
            offers,
            query: Query::new(Self::matching(offers, "")),
            marked: BTreeSet::new(),
        }
    }

    fn matching(offers: &[RoleOffer], text: &str) -> Vec<usize> {
        (0..offers.len())
            .filter(|&i| offers[i].matches(text))
            .collect()
    }
}

impl Pick for RolePicker<'_> {
    type Picked = Vec<String>;

    fn press(&mut self, key: Key) -> Option<Option<Vec<String>>> {
        let offers = self.offers;
        match key {
            Key::Char(' ') => {
                if let Some(i) = self.query.highlighted()
                    && !self.marked.remove(&i)
                {
                    self.marked.insert(i);
                }
                None
            }
            Key::Enter => {
                let picked: Vec<usize> = if self.marked.is_empty() {
                    self.query.highlighted().into_iter().collect()
                } else {
                    self.marked.iter().copied().collect()
                };
                (!picked.is_empty()).then(|| {
                    Some(
                        picked
                            .into_iter()
                            .map(|i| offers[i].role_arn.clone())
                            .collect(),
                    )
                })
            }
            Key::Cancel => Some(None),
            key => {
                self.query.edit(&key, |text| Self::matching(offers, text));
                None
            }
        }
    }

    fn lines(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "Pick roles to keep (type to filter, ↑/↓, Space marks, Enter keeps; Esc cancels): {}",
            self.query.text
        )];
        if self.query.matches.is_empty() {
            lines.push("  (no role matches)".into());
        }
        for (highlighted, i) in self.query.visible(ROWS) {
            let o = &self.offers[i];
            let cursor = if highlighted { '>' } else { ' ' };
            let mark = if self.marked.contains(&i) { 'x' } else { ' ' };
            let kept = o
                .session
                .as_deref()
                .map(|s| format!(" (kept as {s})"))
                .unwrap_or_default();
            lines.push(format!(
                "{cursor} [{mark}] {:<14} {:<20} {}{kept}",
                o.account_id,
                o.account_name.as_deref().unwrap_or("-"),
                o.role_arn
            ));
        }
        lines
    }
}

/// Runs the picker over `offers` on the terminal: the role ARNs picked, `Ok(None)` when
/// cancelled.
pub fn pick(offers: &[RoleOffer]) -> Result<Option<Vec<String>>, Failure> {
    on_terminal(&mut RolePicker::new(offers), "role picker")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(role: &str) -> RoleOffer {
        RoleOffer {
            role_arn: format!("arn:aws:iam::111111111111:role/{role}"),
            principal_arn: "arn:aws:iam::111111111111:saml-provider/Corp".into(),
            account_id: "111111111111".into(),
            account_name: None,
            role_name: role.into(),
            session: None,
        }
    }

    #[test]
    fn part3_space_marks_roles_across_filters_and_enter_keeps_the_marked_ones() {
        let offers = [offer("Admin"), offer("ReadOnly"), offer("Billing")];
        let mut picker = RolePicker::new(&offers);
        for key in [
            Key::Char('r'),
            Key::Char('e'),
            Key::Char('a'),
            Key::Char(' '),
        ] {
            assert_eq!(picker.press(key), None);
        }
        assert_eq!(picker.query.matches, [1]);
        picker.press(Key::ClearLine);
        picker.press(Key::Down);
        picker.press(Key::Down);
        picker.press(Key::Char(' '));
        let picked = picker.press(Key::Enter).unwrap().unwrap();
        assert_eq!(
            picked,
            [offers[1].role_arn.clone(), offers[2].role_arn.clone()]
        );
        // Enter with nothing marked keeps the highlighted one; Escape keeps none.
        let mut picker = RolePicker::new(&offers);
        assert_eq!(
            picker.press(Key::Enter),
            Some(Some(vec![offers[0].role_arn.clone()]))
        );
        assert_eq!(RolePicker::new(&offers).press(Key::Cancel), Some(None));
    }
}
