//! The QAPI schema lexer: a hand-written byte-level scanner.
//!
//! Tokens and their rules follow QEMU's schema parser:
//!
//! - `{ } [ ] : ,` are single-byte tokens;
//! - `'...'` strings hold printable ASCII only, and the only escape is
//!   `\\` (QEMU dropped all others);
//! - `true` and `false` are literals (`null` left the QAPI language in QEMU
//!   4.2 and is read only when asked for), recognised by prefix like QEMU does (`truex` is `true` then a stray
//!   `x`);
//! - `#` starts a comment running to the end of the line; a comment that
//!   starts with `##` opens a doc comment block, and inside such a block the
//!   parser asks for comment tokens;
//! - whitespace is whatever Python's `str.isspace()` accepts (QEMU skips
//!   it); anything else is a "stray" character.
//!
//! Lines are counted on `\n` only; the reader normalises `\r\n` and `\r`
//! to `\n` first, as Python's universal-newline mode does for QEMU.

/// What a token is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokKind {
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Colon,
    Comma,
    /// A string literal's value.
    Str(String),
    True,
    False,
    /// `null` (only when the lexer is asked to accept it; no QAPI release
    /// this crate reads has it).
    Null,
    /// A comment returned in doc mode; the text runs from `#` up to (not
    /// including) the newline.
    Comment,
    Eof,
}

/// A token with its location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: TokKind,
    /// Byte offset of the first byte.
    pub start: u32,
    /// Byte offset one past the last byte.
    pub end: u32,
    /// 1-based line.
    pub line: u32,
    /// 1-based column in characters.
    pub col: u32,
}

/// A lexical error: QEMU's message and where it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LexError {
    pub message: String,
    /// Byte range of the offending text.
    pub start: u32,
    pub end: u32,
    pub line: u32,
    pub col: u32,
}

/// Whether `c` is whitespace for Python's `str.isspace()` (which QEMU's
/// lexer and doc comment rules use).
pub(crate) fn py_isspace(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n'
            | '\x0b'
            | '\x0c'
            | '\r'
            | '\x1c'..='\x1f'
            | ' '
            | '\u{85}'
            | '\u{a0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200a}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202f}'
            | '\u{205f}'
            | '\u{3000}'
    )
}

/// `s` without trailing Python whitespace (`str.rstrip()`).
pub(crate) fn py_rstrip(s: &str) -> &str {
    match s.as_bytes().last() {
        // Most lines end in a visible ASCII character.
        Some(&b) if b.is_ascii_graphic() => s,
        _ => s.trim_end_matches(py_isspace),
    }
}

/// `s` without leading and trailing Python whitespace (`str.strip()`).
pub(crate) fn py_strip(s: &str) -> &str {
    s.trim_matches(py_isspace)
}

/// The number of leading Python-whitespace characters of `s`.
pub(crate) fn py_indent(s: &str) -> usize {
    let spaces = s.bytes().take_while(|&b| b == b' ').count();
    match s.as_bytes().get(spaces) {
        Some(&b) if b.is_ascii_graphic() => spaces,
        None => spaces,
        _ => s.chars().take_while(|&c| py_isspace(c)).count(),
    }
}

/// The lexer over one file's text.
pub(crate) struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    /// Next byte to read.
    cursor: usize,
    /// Current line (1-based) and the byte offset where it starts.
    line: u32,
    line_start: usize,
    /// Whether the current line has a non-ASCII character before `cursor`
    /// (columns then need counting in characters).
    line_non_ascii: bool,
    /// Accept the `null` literal (old language).
    allow_null: bool,
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(src: &'a str, allow_null: bool) -> Self {
        Self {
            src,
            bytes: src.as_bytes(),
            cursor: 0,
            line: 1,
            line_start: 0,
            line_non_ascii: false,
            allow_null,
        }
    }

    /// The text.
    pub(crate) fn src(&self) -> &'a str {
        self.src
    }

    fn col_of(&self, pos: usize) -> u32 {
        let col = if self.line_non_ascii {
            self.src[self.line_start..pos].chars().count()
        } else {
            pos - self.line_start
        };
        u32::try_from(col + 1).unwrap_or(u32::MAX)
    }

    fn token(&self, kind: TokKind, start: usize, end: usize) -> Token {
        Token {
            kind,
            start: start as u32,
            end: end as u32,
            line: self.line,
            col: self.col_of(start),
        }
    }

    fn error(&self, message: impl Into<String>, start: usize, end: usize) -> LexError {
        LexError {
            message: message.into(),
            start: start as u32,
            end: end as u32,
            line: self.line,
            col: self.col_of(start),
        }
    }

    /// Reads the next token. With `skip_comment` false, comments are
    /// returned as [`TokKind::Comment`]; a comment starting with `##` is
    /// always returned (it opens a doc block).
    pub(crate) fn next(&mut self, mut skip_comment: bool) -> Result<Token, LexError> {
        let bytes = self.bytes;
        loop {
            let pos = self.cursor;
            let Some(&b) = bytes.get(pos) else {
                // QEMU appends a newline to text lacking one; the end of
                // input is then on the current line.
                return Ok(self.token(TokKind::Eof, pos, pos));
            };
            self.cursor = pos + 1;
            match b {
                b'#' => {
                    if bytes.get(pos + 1) == Some(&b'#') {
                        skip_comment = false;
                    }
                    let end = memchr::memchr(b'\n', &bytes[pos..]).map_or(bytes.len(), |i| pos + i);
                    if !skip_comment {
                        // A comment may contain non-ASCII text; the
                        // column of its `#` is unaffected.
                        let tok = self.token(TokKind::Comment, pos, end);
                        self.cursor = end;
                        return Ok(tok);
                    }
                    self.cursor = end;
                }
                b'{' => return Ok(self.token(TokKind::LBrace, pos, pos + 1)),
                b'}' => return Ok(self.token(TokKind::RBrace, pos, pos + 1)),
                b'[' => return Ok(self.token(TokKind::LBracket, pos, pos + 1)),
                b']' => return Ok(self.token(TokKind::RBracket, pos, pos + 1)),
                b':' => return Ok(self.token(TokKind::Colon, pos, pos + 1)),
                b',' => return Ok(self.token(TokKind::Comma, pos, pos + 1)),
                b'\'' => return self.string(pos),
                b'\n' => {
                    if pos + 1 == bytes.len() {
                        return Ok(self.token(TokKind::Eof, pos, pos));
                    }
                    self.line += 1;
                    self.line_start = pos + 1;
                    self.line_non_ascii = false;
                }
                b' ' | b'\t' | b'\r' | 0x0b | 0x0c | 0x1c..=0x1f => {}
                _ if bytes[pos..].starts_with(b"true") => {
                    self.cursor = pos + 4;
                    return Ok(self.token(TokKind::True, pos, pos + 4));
                }
                _ if bytes[pos..].starts_with(b"false") => {
                    self.cursor = pos + 5;
                    return Ok(self.token(TokKind::False, pos, pos + 5));
                }
                _ if self.allow_null && bytes[pos..].starts_with(b"null") => {
                    self.cursor = pos + 4;
                    return Ok(self.token(TokKind::Null, pos, pos + 4));
                }
                _ if b < 0x80 => return Err(self.stray(pos)),
                _ => {
                    let c = self.src[pos..].chars().next().unwrap_or('\u{fffd}');
                    if c == '\u{feff}' {
                        return Err(self.error(
                            "byte order mark (U+FEFF) not allowed; QEMU rejects it as a stray character",
                            pos,
                            pos + c.len_utf8(),
                        ));
                    }
                    if !py_isspace(c) {
                        return Err(self.stray(pos));
                    }
                    self.line_non_ascii = true;
                    self.cursor = pos + c.len_utf8();
                }
            }
        }
    }

    /// QEMU's "stray" error: the text up to the next structural character,
    /// whitespace or quote.
    fn stray(&self, pos: usize) -> LexError {
        let rest = &self.src[pos..];
        let len = rest
            .char_indices()
            .find(|&(_, c)| matches!(c, '[' | ']' | '{' | '}' | ':' | ',' | '\'') || py_isspace(c))
            .map_or(rest.len(), |(i, _)| i);
        let word = &rest[..len];
        self.error(format!("stray '{word}'"), pos, pos + len)
    }

    /// Scans a string literal whose opening quote is at `start`.
    fn string(&mut self, start: usize) -> Result<Token, LexError> {
        let bytes = self.bytes;
        let mut i = start + 1;
        // Fast path: scan plain printable ASCII.
        let mut value = String::new();
        let mut seg = i;
        loop {
            let Some(&b) = bytes.get(i) else {
                return Err(self.error("missing terminating \"'\"", start, i));
            };
            match b {
                b'\'' => {
                    if value.is_empty() {
                        // No escapes: one exact allocation.
                        value = self.src[seg..i].to_owned();
                    } else {
                        value.push_str(&self.src[seg..i]);
                    }
                    self.cursor = i + 1;
                    let mut tok = self.token(TokKind::Str(String::new()), start, i + 1);
                    tok.kind = TokKind::Str(value);
                    return Ok(tok);
                }
                b'\n' => return Err(self.error("missing terminating \"'\"", start, i)),
                b'\\' => {
                    value.push_str(&self.src[seg..i]);
                    match bytes.get(i + 1) {
                        None | Some(b'\n') => {
                            return Err(self.error("missing terminating \"'\"", start, i + 1));
                        }
                        Some(b'\\') => {
                            value.push('\\');
                            i += 2;
                            seg = i;
                        }
                        Some(_) => {
                            let c = self.src[i + 1..].chars().next().unwrap_or('\u{fffd}');
                            return Err(self.error(
                                format!("unknown escape \\{c}"),
                                i,
                                i + 1 + c.len_utf8(),
                            ));
                        }
                    }
                }
                0x20..=0x7e => i += 1,
                _ => {
                    let len = self.src[i..].chars().next().map_or(1, char::len_utf8);
                    return Err(self.error("funny character in string", i, i + len));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<TokKind> {
        let mut lx = Lexer::new(src, false);
        let mut out = Vec::new();
        loop {
            let t = lx.next(true).expect("lexes");
            if t.kind == TokKind::Eof {
                return out;
            }
            out.push(t.kind);
        }
    }

    fn err(src: &str) -> LexError {
        let mut lx = Lexer::new(src, false);
        loop {
            match lx.next(true) {
                Ok(t) if t.kind == TokKind::Eof => panic!("no error in {src:?}"),
                Ok(_) => {}
                Err(e) => return e,
            }
        }
    }

    #[test]
    fn tokens() {
        assert_eq!(
            kinds("{ 'a': [ true, false ] } # c\n"),
            vec![
                TokKind::LBrace,
                TokKind::Str("a".into()),
                TokKind::Colon,
                TokKind::LBracket,
                TokKind::True,
                TokKind::Comma,
                TokKind::False,
                TokKind::RBracket,
                TokKind::RBrace,
            ]
        );
        assert_eq!(kinds(r"'a\\b'"), vec![TokKind::Str(r"a\b".into())]);
        assert_eq!(kinds("\u{a0}\x1c'x'"), vec![TokKind::Str("x".into())]);
    }

    #[test]
    fn literal_prefix_like_qemu() {
        let mut lx = Lexer::new("truex", false);
        assert_eq!(lx.next(true).unwrap().kind, TokKind::True);
        assert_eq!(lx.next(true).unwrap_err().message, "stray 'x'");
    }

    #[test]
    fn null_only_when_allowed() {
        assert_eq!(err("null").message, "stray 'null'");
        let mut lx = Lexer::new("null", true);
        assert_eq!(lx.next(true).unwrap().kind, TokKind::Null);
    }

    #[test]
    fn errors() {
        let e = err("\n  'abc\n");
        assert_eq!(e.message, "missing terminating \"'\"");
        assert_eq!((e.line, e.col), (2, 3));
        let e = err("'a\\x'");
        assert_eq!(e.message, "unknown escape \\x");
        assert_eq!(e.col, 3);
        assert_eq!(err("'a\\'").message, "unknown escape \\'");
        assert_eq!(err("'a\\").message, "missing terminating \"'\"");
        assert_eq!(err("'\u{7f}'").message, "funny character in string");
        assert_eq!(err("'é'").message, "funny character in string");
        assert_eq!(err("{ 123 }").message, "stray '123'");
        assert_eq!(err("\u{feff}{}").line, 1);
        let e = err("\u{a0}\u{a0}foo: ");
        assert_eq!(e.message, "stray 'foo'");
        assert_eq!(e.col, 3);
    }

    #[test]
    fn comments_in_doc_mode() {
        let mut lx = Lexer::new("## x\n# y\n{", false);
        let t = lx.next(true).unwrap();
        assert_eq!(
            (t.kind, &lx.src()[t.start as usize..t.end as usize]),
            (TokKind::Comment, "## x")
        );
        let t = lx.next(false).unwrap();
        assert_eq!((t.kind, t.line), (TokKind::Comment, 2));
        assert_eq!(lx.next(false).unwrap().kind, TokKind::LBrace);
    }

    #[test]
    fn python_whitespace() {
        assert!(py_isspace('\x1f'));
        assert!(!py_isspace('\u{200b}'));
        assert_eq!(py_rstrip("a \u{3000}"), "a");
        assert_eq!(py_indent("  \tx "), 3);
        assert_eq!(py_strip("  x "), "x");
        assert_eq!(py_rstrip("ab"), "ab");
        assert_eq!(py_rstrip("a\u{a0}"), "a");
        assert_eq!(py_rstrip("é"), "é");
        assert_eq!(py_indent("  x"), 2);
        assert_eq!(py_indent("   "), 3);
        assert_eq!(py_indent(" \u{a0}x"), 2);
        assert_eq!(py_indent("é"), 0);
    }
}
