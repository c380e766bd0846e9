//! The session picker: `rolehop exec` and `rolehop session start` without a SESSION, on
//! a terminal. Type to filter (the core's [`SessionFilter`], as `session list --filter`
//! and the window's search box), ↑/↓ to move, Enter to pick; Escape or Ctrl-C cancels
//! and changes nothing. The most recently used sessions come first.
//!
//! Written on the terminal's own raw mode (termios, as the MFA prompt's rpassword does)
//! rather than a terminal crate: it reads a few keys and redraws a dozen lines. It draws
//! on `/dev/tty`, so standard output stays the command's.

use rolehop_core::filter::SessionFilter;
use rolehop_core::model::{SessionKind, SessionView};

use crate::failure::{Exit, Failure};

/// How many sessions the picker shows at once.
const ROWS: usize = 10;

/// The failure of a command that needs a SESSION and has no terminal to pick one on.
pub fn missing_session(usage: &str) -> Failure {
    Failure::new(
        Exit::Usage,
        format!(
            "the required argument <SESSION> was not provided (and there is no terminal to pick one on); usage: {usage}"
        ),
    )
}

/// Whether the picker can run: a person at a terminal.
pub fn available() -> bool {
    use std::io::IsTerminal;
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// What a key does to the picker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Key {
    Char(char),
    Backspace,
    ClearLine,
    Up,
    Down,
    Enter,
    Cancel,
    Ignored,
}

/// The typed query, what matches it and which match is highlighted: the keys every
/// picker shares (typing, Backspace, Ctrl-U, ↑/↓). Pickers over other things (the role
/// picker of `saml sync`) use it too.
pub(crate) struct Query {
    pub text: String,
    pub matches: Vec<usize>,
    pub selected: usize,
}

impl Query {
    pub fn new(matches: Vec<usize>) -> Self {
        Self {
            text: String::new(),
            matches,
            selected: 0,
        }
    }

    /// Applies an editing or moving key (`refilter` gives the matches of a new text);
    /// `false` for any other key, left to the picker.
    pub fn edit(&mut self, key: &Key, refilter: impl Fn(&str) -> Vec<usize>) -> bool {
        match key {
            Key::Char(c) => self.text.push(*c),
            Key::Backspace => {
                self.text.pop();
            }
            Key::ClearLine => self.text.clear(),
            Key::Up => {
                self.selected = self.selected.saturating_sub(1);
                return true;
            }
            Key::Down => {
                if self.selected + 1 < self.matches.len() {
                    self.selected += 1;
                }
                return true;
            }
            _ => return false,
        }
        self.matches = refilter(&self.text);
        self.selected = 0;
        true
    }

    /// The highlighted match.
    pub fn highlighted(&self) -> Option<usize> {
        self.matches.get(self.selected).copied()
    }

    /// The matches shown (at most `rows`, the highlighted one among them), each with
    /// whether it is the highlighted one.
    pub fn visible(&self, rows: usize) -> impl Iterator<Item = (bool, usize)> + '_ {
        let first = self.selected.saturating_sub(rows - 1);
        self.matches
            .iter()
            .enumerate()
            .skip(first)
            .take(rows)
            .map(|(row, &i)| (row == self.selected, i))
    }
}

/// A picker the terminal drives: keys in, lines out, until it is done.
pub(crate) trait Pick {
    type Picked;
    /// Applies a key: `Some(Some(_))` picked, `Some(None)` cancelled, `None` goes on.
    fn press(&mut self, key: Key) -> Option<Option<Self::Picked>>;
    /// The lines to draw.
    fn lines(&self) -> Vec<String>;
}

/// Runs `picker` on the terminal until it is done (`Ok(None)`: cancelled); `what` names
/// it in an error.
pub(crate) fn on_terminal<P: Pick>(
    picker: &mut P,
    what: &str,
) -> Result<Option<P::Picked>, Failure> {
    let trouble =
        |e: std::io::Error| Failure::new(Exit::Unexpected, format!("cannot show the {what}: {e}"));
    let mut tty = raw::Terminal::open().map_err(trouble)?;
    let mut drawn = 0;
    let chosen = loop {
        let lines = picker.lines();
        tty.redraw(drawn, &lines).map_err(trouble)?;
        drawn = lines.len();
        let key = tty.key().map_err(trouble)?;
        if let Some(outcome) = picker.press(key) {
            break outcome;
        }
    };
    tty.redraw(drawn, &[]).map_err(trouble)?;
    Ok(chosen)
}

/// The session picker's state.
struct Picker<'a> {
    sessions: &'a [SessionView],
    query: Query,
}

impl<'a> Picker<'a> {
    fn new(sessions: &'a [SessionView]) -> Self {
        Self {
            sessions,
            query: Query::new(Self::matching(sessions, "")),
        }
    }

    fn matching(sessions: &[SessionView], text: &str) -> Vec<usize> {
        let filter = SessionFilter {
            profile: None,
            text: Some(text.to_owned()),
        };
        (0..sessions.len())
            .filter(|&i| filter.matches(&sessions[i]))
            .collect()
    }
}

impl<'a> Pick for Picker<'a> {
    type Picked = &'a SessionView;

    fn press(&mut self, key: Key) -> Option<Option<&'a SessionView>> {
        let sessions = self.sessions;
        if self.query.edit(&key, |text| Self::matching(sessions, text)) {
            return None;
        }
        match key {
            Key::Enter => self.query.highlighted().map(|i| Some(&sessions[i])),
            Key::Cancel => Some(None),
            _ => None,
        }
    }

    /// The question with the query, then the visible matches.
    fn lines(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "Pick a session (type to filter, ↑/↓, Enter; Esc cancels): {}",
            self.query.text
        )];
        if self.query.matches.is_empty() {
            lines.push("  (no session matches)".into());
        }
        for (highlighted, i) in self.query.visible(ROWS) {
            let marker = if highlighted { '>' } else { ' ' };
            lines.push(format!("{marker} {}", describe(&self.sessions[i])));
        }
        lines
    }
}

/// One row: name, profile, account, role.
fn describe(view: &SessionView) -> String {
    let role = match &view.session.kind {
        SessionKind::Role(r) => r.role_arn.rsplit('/').next().unwrap_or_default(),
        SessionKind::IamUser(_) => "IAM user",
        SessionKind::SsoRole(r) => r.role_name.as_str(),
        SessionKind::Saml(r) => r.role_arn.rsplit('/').next().unwrap_or_default(),
        SessionKind::LoginSession(_) => "console sign-in",
    };
    format!(
        "{:<24} {:<20} {:<12} {role}",
        view.session.name,
        view.session.profile,
        view.account_id.as_deref().unwrap_or("-")
    )
}

/// Runs the picker over `sessions` (most recently used first) on the terminal. `Ok(None)`
/// when cancelled.
pub fn pick(sessions: &[SessionView]) -> Result<Option<SessionView>, Failure> {
    let chosen = on_terminal(&mut Picker::new(sessions), "session picker")?;
    Ok(chosen.cloned())
}

/// The failure of a cancelled pick.
pub fn cancelled() -> Failure {
    Failure::new(
        Exit::Interrupted,
        "no session picked: cancelled, nothing changed",
    )
}

#[cfg(unix)]
mod raw {
    use std::fs::File;
    use std::io::{Read, Write};
    use std::os::fd::AsRawFd;

    use super::Key;

    /// The terminal in raw mode (no line editing, no echo, Ctrl-C as a key) until dropped.
    pub struct Terminal {
        tty: File,
        saved: libc::termios,
    }

    impl Terminal {
        pub fn open() -> std::io::Result<Self> {
            let tty = File::options().read(true).write(true).open("/dev/tty")?;
            let mut termios = std::mem::MaybeUninit::<libc::termios>::uninit();
            // SAFETY: `tty` is open; tcgetattr writes `termios` when it returns 0.
            let saved = unsafe {
                if libc::tcgetattr(tty.as_raw_fd(), termios.as_mut_ptr()) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                termios.assume_init()
            };
            let mut raw = saved;
            raw.c_lflag &= !(libc::ICANON | libc::ECHO | libc::ISIG | libc::IEXTEN);
            raw.c_iflag &= !(libc::IXON | libc::ICRNL);
            raw.c_cc[libc::VMIN] = 1;
            raw.c_cc[libc::VTIME] = 0;
            // SAFETY: as above; `raw` is a complete termios.
            if unsafe { libc::tcsetattr(tty.as_raw_fd(), libc::TCSANOW, &raw) } != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(Self { tty, saved })
        }

        fn byte(&mut self) -> std::io::Result<u8> {
            let mut b = [0u8; 1];
            self.tty.read_exact(&mut b)?;
            Ok(b[0])
        }

        /// Whether another byte arrives within 50 ms: an escape sequence's rest comes
        /// at once, a lone Escape key has none.
        fn more_within_50ms(&self) -> bool {
            let mut fd = libc::pollfd {
                fd: self.tty.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd.
            unsafe { libc::poll(&mut fd, 1, 50) > 0 }
        }

        pub fn key(&mut self) -> std::io::Result<Key> {
            let key = match self.byte()? {
                b'\r' | b'\n' => Key::Enter,
                0x03 | 0x04 => Key::Cancel,
                0x7f | 0x08 => Key::Backspace,
                0x15 => Key::ClearLine,
                0x10 => Key::Up,
                0x0e => Key::Down,
                0x1b if !self.more_within_50ms() => Key::Cancel,
                0x1b => match (self.byte()?, self.byte()?) {
                    (b'[' | b'O', b'A') => Key::Up,
                    (b'[' | b'O', b'B') => Key::Down,
                    _ => Key::Ignored,
                },
                b if b.is_ascii_graphic() || b == b' ' => Key::Char(b as char),
                _ => Key::Ignored,
            };
            Ok(key)
        }

        /// Replaces the `previous` lines drawn with `lines`.
        pub fn redraw(&mut self, previous: usize, lines: &[String]) -> std::io::Result<()> {
            let mut out = String::new();
            if previous > 1 {
                out.push_str(&format!("\x1b[{}A", previous - 1));
            }
            out.push_str("\r\x1b[J");
            out.push_str(&lines.join("\r\n"));
            self.tty.write_all(out.as_bytes())?;
            self.tty.flush()
        }
    }

    impl Drop for Terminal {
        fn drop(&mut self) {
            // SAFETY: `saved` came from tcgetattr on this terminal.
            unsafe { libc::tcsetattr(self.tty.as_raw_fd(), libc::TCSANOW, &self.saved) };
        }
    }
}

#[cfg(not(unix))]
mod raw {
    use super::Key;

    pub struct Terminal;

    impl Terminal {
        pub fn open() -> std::io::Result<Self> {
            Err(std::io::Error::other(
                "the picker needs a Unix terminal here",
            ))
        }

        pub fn key(&mut self) -> std::io::Result<Key> {
            Ok(Key::Cancel)
        }

        pub fn redraw(&mut self, _: usize, _: &[String]) -> std::io::Result<()> {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use rolehop_core::model::{ChainedRole, IamUser, ProfileName, Session, SessionId};
    use rolehop_core::workspace::Workspace;

    use super::*;

    /// The views of roles `(name, arn)`, chained from one IAM user, as the engine
    /// makes them.
    fn roles(roles: &[(&str, &str)]) -> Vec<SessionView> {
        let mut ws = Workspace::default();
        let user = Session {
            console: Default::default(),
            id: SessionId::new(),
            name: "user".into(),
            profile: ProfileName::parse("user").unwrap(),
            region: None,
            kind: SessionKind::IamUser(IamUser {
                mfa_serial: None,
                session_duration: 3600,
                account_id: None,
            }),
        };
        let parent = user.id;
        ws.add_session(user).unwrap();
        for (name, arn) in roles {
            ws.add_session(Session {
                console: Default::default(),
                id: SessionId::new(),
                name: (*name).into(),
                profile: ProfileName::parse(name).unwrap(),
                region: None,
                kind: SessionKind::Role(ChainedRole {
                    parent,
                    role_arn: (*arn).into(),
                    role_session_name: None,
                    external_id: None,
                    duration: None,
                    source_identity: None,
                    tags: Vec::new(),
                    transitive_tag_keys: Vec::new(),
                }),
            })
            .unwrap();
        }
        ws.views().into_iter().skip(1).collect()
    }

    #[test]
    fn typing_filters_arrows_move_and_enter_picks_the_selected_match() {
        let sessions = roles(&[
            ("staging", "arn:aws:iam::111111111111:role/Dev"),
            ("prod-deploy", "arn:aws:iam::222222222222:role/Deploy"),
            ("prod-read", "arn:aws:iam::222222222222:role/Read"),
        ]);
        let mut picker = Picker::new(&sessions);
        for c in "prod".chars() {
            assert_eq!(picker.press(Key::Char(c)), None);
        }
        assert_eq!(picker.query.matches, [1, 2]);
        picker.press(Key::Down);
        picker.press(Key::Down);
        let picked = picker.press(Key::Enter).expect("done").expect("picked");
        assert_eq!(picked.session.name, "prod-read");
    }

    #[test]
    fn cancel_picks_nothing_and_enter_on_no_match_waits() {
        let sessions = roles(&[("staging", "arn:aws:iam::111111111111:role/Dev")]);
        let mut picker = Picker::new(&sessions);
        picker.press(Key::Char('x'));
        assert!(picker.query.matches.is_empty());
        assert_eq!(picker.press(Key::Enter), None);
        assert!(
            picker
                .lines()
                .iter()
                .any(|l| l.contains("no session matches"))
        );
        assert_eq!(picker.press(Key::Cancel), Some(None));
    }
}
