//! A lossless, line-based model of an INI file: the bytes of every line and of its
//! terminator, and whether the file starts with a UTF-8 byte order mark.
//!
//! This layer knows nothing about sections or keys (that reading is in
//! [`super::dialect`]); it only guarantees that `Document::parse(b).to_bytes() == b` for
//! *any* byte string, UTF-8 or not, and that inserting and then removing the same lines
//! gives the original bytes back, terminators included. The one subtle case is a file whose
//! last line has no terminator: appending after it must give that line one, and removing
//! the appended lines must take it away again, which `insert_lines`/`remove_lines` do
//! without the caller having to remember anything.

use zeroize::{Zeroize, Zeroizing};

/// How a line ends. Python's universal newlines (which botocore reads with) and every
/// other AWS SDK accept all three; a file may mix them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Eol {
    /// The last line of a file that does not end with a newline.
    None,
    Lf,
    CrLf,
    Cr,
}

impl Eol {
    pub fn as_bytes(self) -> &'static [u8] {
        match self {
            Eol::None => b"",
            Eol::Lf => b"\n",
            Eol::CrLf => b"\r\n",
            Eol::Cr => b"\r",
        }
    }
}

/// Where a line's bytes are: in the file as read (most lines), or owned (lines Rolehop
/// wrote or changed, and lines split off a fragment). Owned bytes are wiped when dropped,
/// wherever the line goes: they may be a key line or a set-aside section.
#[derive(Clone)]
enum Bytes {
    Read { start: usize, end: usize },
    Owned(Zeroizing<Vec<u8>>),
}

/// One line: its bytes without the terminator, and the terminator. A line made with
/// [`Line::new`] owns its bytes; the lines of a parsed document point into its buffer
/// (read them through [`Document::raw`]).
#[derive(Clone)]
pub struct Line {
    bytes: Bytes,
    pub eol: Eol,
}

impl Line {
    pub fn new(raw: Vec<u8>, eol: Eol) -> Self {
        Self {
            bytes: Bytes::Owned(Zeroizing::new(raw)),
            eol,
        }
    }
}

// Lines of the credentials file hold secrets: never print them.
impl std::fmt::Debug for Line {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Line({:?})", self.eol)
    }
}

/// A line as seen through its document.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct LineRef<'a> {
    pub raw: &'a [u8],
    pub eol: Eol,
}

impl std::fmt::Debug for LineRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Line({} bytes, {:?})", self.raw.len(), self.eol)
    }
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A whole file as lines. Dropping it wipes the bytes (the credentials file holds keys).
///
/// The file as read stays in one buffer that lines point into, so reading a file of
/// thousands of lines costs one allocation, not one per line.
#[derive(Clone, Default)]
pub struct Document {
    /// The file as read, byte order mark included.
    buf: Vec<u8>,
    bom: bool,
    lines: Vec<Line>,
    /// The terminator new lines get: the file's first one, else `\n`. Fixed at parse time
    /// so that removing lines cannot change what a later insertion uses.
    style: Option<Eol>,
}

impl std::fmt::Debug for Document {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Document({} lines, bom: {})", self.lines.len(), self.bom)
    }
}

impl Drop for Document {
    fn drop(&mut self) {
        // Owned lines wipe themselves.
        self.buf.zeroize();
    }
}

impl Document {
    /// Splits `input` into lines. Never fails: every byte string is a document.
    pub fn parse(input: &[u8]) -> Self {
        Self::parse_owned(input.to_vec())
    }

    /// [`Document::parse`], keeping `input` as the document's buffer.
    pub fn parse_owned(input: Vec<u8>) -> Self {
        let bom = input.starts_with(BOM);
        let offset = if bom { BOM.len() } else { 0 };
        let lines = split(&input[offset..], |start, end| Bytes::Read {
            start: start + offset,
            end: end + offset,
        });
        let style = lines.iter().map(|l| l.eol).find(|e| *e != Eol::None);
        Self {
            buf: input,
            bom,
            lines,
            style,
        }
    }

    /// The bytes the document was parsed from.
    pub fn original(&self) -> &[u8] {
        &self.buf
    }

    /// The exact bytes of the document.
    pub fn to_bytes(&self) -> Vec<u8> {
        let len = self
            .lines
            .iter()
            .map(|l| self.raw_of(l).len() + 2)
            .sum::<usize>()
            + 3;
        let mut out = Vec::with_capacity(len);
        if self.bom {
            out.extend_from_slice(BOM);
        }
        self.append_bytes_of(&self.lines, &mut out);
        out
    }

    fn raw_of<'a>(&'a self, line: &'a Line) -> &'a [u8] {
        match &line.bytes {
            Bytes::Read { start, end } => &self.buf[*start..*end],
            Bytes::Owned(raw) => raw,
        }
    }

    /// Line `index`'s bytes, without its terminator.
    pub fn raw(&self, index: usize) -> &[u8] {
        self.raw_of(&self.lines[index])
    }

    /// Line `index`, if there is one.
    pub fn get(&self, index: usize) -> Option<LineRef<'_>> {
        self.lines.get(index).map(|line| LineRef {
            raw: self.raw_of(line),
            eol: line.eol,
        })
    }

    /// The last line, if any.
    pub fn last(&self) -> Option<LineRef<'_>> {
        self.len().checked_sub(1).and_then(|i| self.get(i))
    }

    /// Every line, in order.
    pub fn iter(&self) -> impl Iterator<Item = LineRef<'_>> {
        self.lines.iter().map(|line| LineRef {
            raw: self.raw_of(line),
            eol: line.eol,
        })
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The terminator Rolehop's own lines get in this file.
    pub fn eol_style(&self) -> Eol {
        self.style.unwrap_or(Eol::Lf)
    }

    /// A line of Rolehop's, ended the way this file ends its lines.
    pub fn new_line(&self, raw: Vec<u8>) -> Line {
        Line::new(raw, self.eol_style())
    }

    /// Replaces the bytes of line `index`, keeping its terminator.
    pub fn set_raw(&mut self, index: usize, raw: Vec<u8>) {
        self.lines[index].bytes = Bytes::Owned(Zeroizing::new(raw));
    }

    /// Inserts `new` before line `at` (`at == len()` appends).
    ///
    /// Appending after a last line that has no terminator gives that line one and takes
    /// the terminator off the last inserted line, so the file still ends the way it did;
    /// [`Document::remove_lines`] undoes exactly that. Lines inserted before another line
    /// always end with a terminator.
    pub fn insert_lines(&mut self, at: usize, mut new: Vec<Line>) {
        let Some(last_new) = new.last_mut() else {
            return;
        };
        let style = self.eol_style();
        if at == self.lines.len() {
            if let Some(prev) = self.lines.last_mut()
                && prev.eol == Eol::None
            {
                prev.eol = style;
                last_new.eol = Eol::None;
            }
        } else if last_new.eol == Eol::None {
            last_new.eol = style;
        }
        // Only the last line of a document may lack a terminator.
        let n = new.len();
        for line in &mut new[..n - 1] {
            if line.eol == Eol::None {
                line.eol = style;
            }
        }
        // A lone `\r` followed by an empty `\n` line would read back as one `\r\n`:
        // keep every junction the way a parse would find it.
        let is_empty = |doc: &Self, line: &Line| doc.raw_of(line).is_empty();
        let mut prev = at.checked_sub(1).map(|i| self.lines[i].eol);
        for line in &mut new {
            if prev == Some(Eol::Cr) && is_empty(self, line) && line.eol == Eol::Lf {
                line.eol = Eol::Cr;
            }
            prev = Some(line.eol);
        }
        if let Some(next) = self.get(at)
            && next.raw.is_empty()
            && next.eol == Eol::Lf
            && let Some(last) = new.last_mut()
            && last.eol == Eol::Cr
        {
            last.eol = Eol::CrLf;
        }
        self.lines.splice(at..at, new);
    }

    /// Removes lines `range` and leaves every other line's terminator as it is (for
    /// cutting out a body that goes back in later at the same place).
    pub fn cut_lines(&mut self, range: std::ops::Range<usize>) {
        self.lines.drain(range);
    }

    /// Removes lines `range`. When they were the end of the file and the file did not end
    /// with a newline, the line now last loses its terminator: the inverse of appending.
    pub fn remove_lines(&mut self, range: std::ops::Range<usize>) {
        if range.is_empty() {
            return;
        }
        let at_end = range.end == self.lines.len();
        let unterminated = self.lines[range.end - 1].eol == Eol::None;
        let start = range.start;
        self.cut_lines(range);
        if at_end && unterminated && start > 0 {
            self.lines[start - 1].eol = Eol::None;
        }
    }

    /// The exact bytes of lines `range`, terminators included; wiped on drop.
    pub fn bytes_of(&self, range: std::ops::Range<usize>) -> Zeroizing<Vec<u8>> {
        let lines = &self.lines[range];
        let len = lines.iter().map(|l| self.raw_of(l).len() + 2).sum();
        // Sized up front: growing would leave unwiped copies behind.
        let mut out = Zeroizing::new(Vec::with_capacity(len));
        self.append_bytes_of(lines, &mut out);
        out
    }

    /// The exact bytes of the lines at `indices`, in that order; wiped on drop.
    pub fn bytes_of_lines(&self, indices: &[usize]) -> Zeroizing<Vec<u8>> {
        let len = indices.iter().map(|&i| self.raw(i).len() + 2).sum();
        let mut out = Zeroizing::new(Vec::with_capacity(len));
        for &i in indices {
            self.append_bytes_of(&self.lines[i..i + 1], &mut out);
        }
        out
    }

    fn append_bytes_of(&self, lines: &[Line], out: &mut Vec<u8>) {
        for line in lines {
            out.extend_from_slice(self.raw_of(line));
            out.extend_from_slice(line.eol.as_bytes());
        }
    }
}

/// Splits bytes at `\n`, `\r\n` and lone `\r`, keeping each terminator. A byte order
/// mark is *not* looked for: this is also used on fragments of a file.
pub fn split_lines(input: &[u8]) -> Vec<Line> {
    split(input, |start, end| {
        Bytes::Owned(Zeroizing::new(input[start..end].to_vec()))
    })
}

/// The lines of `input`, their bytes made by `bytes(start, end)` from offsets into it.
fn split(input: &[u8], bytes: impl Fn(usize, usize) -> Bytes) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut pos = 0;
    while pos < input.len() {
        let rest = &input[pos..];
        match rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            None => {
                lines.push(Line {
                    bytes: bytes(pos, input.len()),
                    eol: Eol::None,
                });
                break;
            }
            Some(i) => {
                let (eol, width) = match (rest[i], rest.get(i + 1)) {
                    (b'\n', _) => (Eol::Lf, 1),
                    (_, Some(b'\n')) => (Eol::CrLf, 2),
                    _ => (Eol::Cr, 1),
                };
                lines.push(Line {
                    bytes: bytes(pos, pos + i),
                    eol,
                });
                pos += i + width;
            }
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn line(s: &str) -> Line {
        Line::new(s.as_bytes().to_vec(), Eol::Lf)
    }

    #[test]
    fn parse_keeps_every_kind_of_terminator_and_the_bom() {
        let input = b"\xEF\xBB\xBF[a]\r\nk = v\rx\n\nlast";
        let doc = Document::parse(input);
        assert_eq!(doc.len(), 5);
        let eols: Vec<Eol> = doc.iter().map(|l| l.eol).collect();
        assert_eq!(eols, [Eol::CrLf, Eol::Cr, Eol::Lf, Eol::Lf, Eol::None]);
        assert_eq!(doc.raw(1), b"k = v");
        assert_eq!(doc.to_bytes(), input);
        assert_eq!(doc.eol_style(), Eol::CrLf);
    }

    #[test]
    fn appending_after_an_unterminated_last_line_is_undone_by_removing() {
        let original = b"[a]\r\nk = v";
        let mut doc = Document::parse(original);
        doc.insert_lines(2, vec![line(""), line("[b]"), line("x = 1")]);
        assert_eq!(doc.to_bytes(), b"[a]\r\nk = v\r\n\n[b]\nx = 1");
        doc.remove_lines(2..5);
        assert_eq!(doc.to_bytes(), original);
    }

    #[test]
    fn removing_lines_one_by_one_from_the_end_restores_an_unterminated_file() {
        let original = b"x";
        let mut doc = Document::parse(original);
        doc.insert_lines(1, vec![line(""), line("[b]"), line("k = 1")]);
        for i in (1..4).rev() {
            doc.remove_lines(i..i + 1);
        }
        assert_eq!(doc.to_bytes(), original);
    }

    #[test]
    fn lines_inserted_in_the_middle_always_end_with_a_newline() {
        let mut doc = Document::parse(b"a\nb\n");
        doc.insert_lines(1, vec![Line::new(b"mid".to_vec(), Eol::None)]);
        assert_eq!(doc.to_bytes(), b"a\nmid\nb\n");
    }

    #[test]
    fn an_empty_line_inserted_after_a_lone_cr_does_not_merge_into_crlf() {
        let mut doc = Document::parse(b"a\rb\r");
        doc.insert_lines(2, vec![line(""), line("[p]")]);
        let bytes = doc.to_bytes();
        assert_eq!(Document::parse(&bytes).len(), 4);
        doc.remove_lines(2..4);
        assert_eq!(doc.to_bytes(), b"a\rb\r");
    }

    proptest! {
        #[test]
        fn any_bytes_round_trip_exactly(input in proptest::collection::vec(any::<u8>(), 0..400)) {
            prop_assert_eq!(Document::parse(&input).to_bytes(), input);
        }

        #[test]
        fn insert_then_remove_is_the_identity(
            input in "[a-z=\\[\\] \r\n]{0,60}",
            at_end in any::<bool>(),
            pos in 0usize..20,
            n in 1usize..4,
        ) {
            let mut doc = Document::parse(input.as_bytes());
            let at = if at_end { doc.len() } else { pos.min(doc.len()) };
            let new = (0..n)
                // An empty first line (a separator) when it is not the last one.
                .map(|i| doc.new_line(if i == 0 && n > 1 { Vec::new() } else { format!("k{i} = v").into_bytes() }))
                .collect();
            doc.insert_lines(at, new);
            // What is written reads back as the same lines.
            let reread = Document::parse(&doc.to_bytes());
            prop_assert!(reread.iter().eq(doc.iter()));
            doc.remove_lines(at..at + n);
            prop_assert_eq!(doc.to_bytes(), input.as_bytes());
        }
    }
}
