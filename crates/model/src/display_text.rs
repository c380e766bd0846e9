//! Text Rolehop did not write, made safe to show: AWS error messages, values read from
//! `~/.aws/config`, IAM's answers (policies, user names, key statuses), names echoed in
//! errors. A terminal obeys escape sequences (an OSC sequence can retitle the window,
//! write the clipboard or hide what follows; U+009B alone is a CSI on some terminals),
//! and a desktop notification daemon reads markup in the body; so the CLI passes every
//! line it prints through [`for_terminal`], the desktop shell passes notification text
//! through [`for_notification`], and messages stored on a failed session are capped by
//! [`capped`] (a hostile or broken endpoint must not fill the workspace file).
//! [`for_terminal`] is the one filter: C0 and C1 controls, bidirectional overrides, and
//! a length cap ([`MAX_SHOWN_BYTES`]), so no answer fills a screen either.

/// The longest stored failure message, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 1024;

/// The longest text [`for_terminal`] shows, in bytes (after escaping): four stored
/// messages' worth, room for any line Rolehop composes around one.
pub const MAX_SHOWN_BYTES: usize = 4 * MAX_MESSAGE_BYTES;

/// `text` with every control character rendered visibly: ESC as `\e`, other C0/C1
/// controls and DEL as `\xNN`, bidirectional overrides as `\u{NNNN}`. Line breaks and tabs
/// become a space, so a message stays on one line. Printable text is unchanged, up to
/// [`MAX_SHOWN_BYTES`]: longer text is cut there, ending in `…`.
pub fn for_terminal(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_SHOWN_BYTES));
    let ellipsis = '…';
    for c in text.chars() {
        if out.len() > MAX_SHOWN_BYTES - 16 {
            // Room left for the longest escape (`\u{NNNNN}`) and the ellipsis.
            out.push(ellipsis);
            return out;
        }
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            '\x1b' => out.push_str("\\e"),
            // `char::is_control` is C0, DEL and C1: all below U+0100.
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            // Bidirectional overrides and isolates reorder what follows on screen
            // (the "Trojan Source" trick): shown by code, like controls.
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

/// `text` for a desktop notification's title or body: markup characters escaped (the
/// freedesktop notification spec lets servers read a subset of HTML in the body), and
/// control characters shown as [`for_terminal`] shows them.
pub fn for_notification(text: &str) -> String {
    let mut markup = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => markup.push_str("&amp;"),
            '<' => markup.push_str("&lt;"),
            '>' => markup.push_str("&gt;"),
            c => markup.push(c),
        }
    }
    // Escaping adds no control character, and the cap then holds for the result.
    for_terminal(&markup)
}

/// `message` cut to at most [`MAX_MESSAGE_BYTES`] bytes (on a character boundary),
/// ending in `…` when cut.
pub fn capped(mut message: String) -> String {
    if message.len() <= MAX_MESSAGE_BYTES {
        return message;
    }
    let ellipsis = '…';
    let mut end = MAX_MESSAGE_BYTES - ellipsis.len_utf8();
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    message.truncate(end);
    message.push(ellipsis);
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_text_shows_escape_sequences_instead_of_obeying_them() {
        let shown = for_terminal("denied \x1b]0;pwned\x07 \x1b[2J\u{9b}31m");
        assert_eq!(shown, "denied \\e]0;pwned\\x07 \\e[2J\\x9b31m");
        assert!(!shown.chars().any(char::is_control));
    }

    #[test]
    fn terminal_text_stays_on_one_line_and_keeps_printable_text() {
        assert_eq!(for_terminal("a\r\nb\tc"), "a  b c");
        assert_eq!(
            for_terminal("Rôle 'prod' — accès refusé"),
            "Rôle 'prod' — accès refusé"
        );
        assert_eq!(for_terminal("x\u{202e}y\u{7f}"), "x\\u{202e}y\\x7f");
    }

    #[test]
    fn terminal_text_is_capped() {
        let long = format!("AccessDenied: {}", "\u{9b}x".repeat(10_000));
        let shown = for_terminal(&long);
        assert!(shown.len() <= MAX_SHOWN_BYTES, "{} bytes", shown.len());
        assert!(shown.starts_with("AccessDenied: \\x9bx"));
        assert!(shown.ends_with('…'));
        let fits = "a".repeat(MAX_SHOWN_BYTES - 16);
        assert_eq!(for_terminal(&fits), fits);
        assert!(for_notification(&"<".repeat(MAX_SHOWN_BYTES)).len() <= MAX_SHOWN_BYTES);
    }

    #[test]
    fn notification_text_escapes_markup_and_controls() {
        assert_eq!(
            for_notification("<b>a</b> & <a href=\"x\">\x1b]8;;x\x07"),
            "&lt;b&gt;a&lt;/b&gt; &amp; &lt;a href=\"x\"&gt;\\e]8;;x\\x07"
        );
    }

    #[test]
    fn capped_messages_stop_at_a_kibibyte_on_a_character_boundary() {
        assert_eq!(capped("short".into()), "short");
        let exact = "a".repeat(MAX_MESSAGE_BYTES);
        assert_eq!(capped(exact.clone()), exact);
        let long = "é".repeat(MAX_MESSAGE_BYTES);
        let cut = capped(long);
        assert!(cut.len() <= MAX_MESSAGE_BYTES);
        assert!(cut.ends_with('…'));
        assert!(cut.trim_end_matches('…').chars().all(|c| c == 'é'));
    }
}
