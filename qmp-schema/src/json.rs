//! A small JSON parser that remembers where every value is.
//!
//! `serde_json` forgets positions, but diagnostics about a saved
//! `query-qmp-schema` reply or a facts-only snapshot must point at the
//! offending element. This parser keeps a byte range for every value and
//! every object key. It is strict RFC 8259 JSON (no comments, no trailing
//! commas), rejects duplicate object keys, limits nesting depth, and never
//! panics on any input.

use std::fmt;

use crate::source::{FileId, Span};

/// Maximum nesting depth of arrays and objects.
pub const MAX_DEPTH: usize = 128;

/// A JSON value with its byte range in the text.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonValue {
    /// What the value is.
    pub kind: JsonKind,
    /// Byte offset of its first byte.
    pub start: u32,
    /// Byte offset one past its last byte.
    pub end: u32,
}

/// The kinds of JSON values.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonKind {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number, as written.
    Number(String),
    /// A string, unescaped.
    Str(String),
    /// An array.
    Array(Vec<JsonValue>),
    /// An object, entries in text order (keys are unique).
    Object(Vec<(JsonKey, JsonValue)>),
}

/// An object key with its byte range (including the quotes).
#[derive(Debug, Clone, PartialEq)]
pub struct JsonKey {
    /// The unescaped key.
    pub name: String,
    /// Byte offset of the opening quote.
    pub start: u32,
    /// Byte offset one past the closing quote.
    pub end: u32,
}

impl JsonValue {
    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            JsonKind::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The elements, if this is an array.
    pub fn as_array(&self) -> Option<&[JsonValue]> {
        match &self.kind {
            JsonKind::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The entries, if this is an object.
    pub fn as_object(&self) -> Option<&[(JsonKey, JsonValue)]> {
        match &self.kind {
            JsonKind::Object(o) => Some(o),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match &self.kind {
            JsonKind::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// For an object, the value of `key`.
    pub fn get(&self, key: &str) -> Option<&JsonValue> {
        self.as_object()?
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(_, v)| v)
    }

    /// A short description of the value's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            JsonKind::Null => "null",
            JsonKind::Bool(_) => "boolean",
            JsonKind::Number(_) => "number",
            JsonKind::Str(_) => "string",
            JsonKind::Array(_) => "array",
            JsonKind::Object(_) => "object",
        }
    }
}

/// A syntax error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    /// What is wrong.
    pub message: String,
    /// Byte offset where it was found.
    pub offset: u32,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.message, self.offset)
    }
}

impl std::error::Error for JsonError {}

/// Parses a complete JSON text (one value, optional surrounding
/// whitespace).
pub fn parse(text: &str) -> Result<JsonValue, JsonError> {
    if text.len() >= u32::MAX as usize {
        return Err(JsonError {
            message: "text too large (4 GiB or more)".into(),
            offset: 0,
        });
    }
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        pos: 0,
    };
    p.ws();
    let v = p.value(0)?;
    p.ws();
    if p.pos < p.s.len() {
        return Err(p.err("unexpected text after the JSON value"));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn err(&self, message: impl Into<String>) -> JsonError {
        JsonError {
            message: message.into(),
            offset: self.pos as u32,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<JsonValue, JsonError> {
        let start = self.pos as u32;
        let kind = match self.peek() {
            None => return Err(self.err("unexpected end of input, expected a value")),
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.array(depth)?,
            Some(b'"') => JsonKind::Str(self.string()?),
            Some(b't') => self.literal("true", JsonKind::Bool(true))?,
            Some(b'f') => self.literal("false", JsonKind::Bool(false))?,
            Some(b'n') => self.literal("null", JsonKind::Null)?,
            Some(b'-' | b'0'..=b'9') => self.number()?,
            Some(_) => return Err(self.err("expected a JSON value")),
        };
        Ok(JsonValue {
            kind,
            start,
            end: self.pos as u32,
        })
    }

    fn literal(&mut self, word: &str, kind: JsonKind) -> Result<JsonKind, JsonError> {
        if self.s[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(kind)
        } else {
            Err(self.err("expected a JSON value"))
        }
    }

    fn digits(&mut self) -> usize {
        let from = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - from
    }

    fn number(&mut self) -> Result<JsonKind, JsonError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.err("malformed number")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.err("malformed number: digits expected after '.'"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.err("malformed number: digits expected in exponent"));
            }
        }
        Ok(JsonKind::Number(self.text[start..self.pos].to_owned()))
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = match self.peek() {
                Some(c @ b'0'..=b'9') => c - b'0',
                Some(c @ b'a'..=b'f') => c - b'a' + 10,
                Some(c @ b'A'..=b'F') => c - b'A' + 10,
                _ => return Err(self.err("malformed \\u escape")),
            };
            v = v * 16 + u32::from(d);
            self.pos += 1;
        }
        Ok(v)
    }

    fn string(&mut self) -> Result<String, JsonError> {
        // at the opening quote
        self.pos += 1;
        let mut out = String::new();
        loop {
            let run_start = self.pos;
            while let Some(c) = self.peek() {
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            // Only ASCII bytes stop the run, so these are char boundaries.
            out.push_str(&self.text[run_start..self.pos]);
            match self.peek() {
                None => return Err(self.err("unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let c = self.peek().ok_or_else(|| self.err("unterminated string"))?;
                    self.pos += 1;
                    match c {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let cp = if (0xD800..0xDC00).contains(&hi) {
                                if !self.s[self.pos..].starts_with(b"\\u") {
                                    return Err(self.err("unpaired surrogate in \\u escape"));
                                }
                                self.pos += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.err("unpaired surrogate in \\u escape"));
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            let ch = char::from_u32(cp)
                                .ok_or_else(|| self.err("unpaired surrogate in \\u escape"))?;
                            out.push(ch);
                        }
                        _ => {
                            self.pos -= 1;
                            return Err(self.err("invalid escape in string"));
                        }
                    }
                }
                Some(_) => return Err(self.err("control character in string")),
            }
        }
    }

    fn enter(&self, depth: usize) -> Result<usize, JsonError> {
        if depth >= MAX_DEPTH {
            Err(self.err(format!("nesting deeper than {MAX_DEPTH} levels")))
        } else {
            Ok(depth + 1)
        }
    }

    fn array(&mut self, depth: usize) -> Result<JsonKind, JsonError> {
        let depth = self.enter(depth)?;
        self.pos += 1;
        let mut items = Vec::new();
        self.ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(JsonKind::Array(items));
        }
        loop {
            self.ws();
            items.push(self.value(depth)?);
            self.ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(JsonKind::Array(items));
                }
                _ => return Err(self.err("expected ',' or ']'")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<JsonKind, JsonError> {
        let depth = self.enter(depth)?;
        self.pos += 1;
        let mut entries: Vec<(JsonKey, JsonValue)> = Vec::new();
        self.ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(JsonKind::Object(entries));
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return Err(self.err("expected a string key"));
            }
            let kstart = self.pos as u32;
            let name = self.string()?;
            let key = JsonKey {
                name,
                start: kstart,
                end: self.pos as u32,
            };
            if entries.iter().any(|(k, _)| k.name == key.name) {
                return Err(JsonError {
                    message: format!("duplicate key '{}'", key.name),
                    offset: kstart,
                });
            }
            self.ws();
            if self.peek() != Some(b':') {
                return Err(self.err("expected ':'"));
            }
            self.pos += 1;
            self.ws();
            let v = self.value(depth)?;
            entries.push((key, v));
            self.ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(JsonKind::Object(entries));
                }
                _ => return Err(self.err("expected ',' or '}'")),
            }
        }
    }
}

/// Turns byte offsets into [`Span`]s (1-based line, column in characters).
#[derive(Debug, Clone)]
pub struct LineIndex<'a> {
    text: &'a str,
    file: FileId,
    line_starts: Vec<u32>,
    /// Per line: whether it is all ASCII (then columns are byte offsets,
    /// which keeps long one-line replies linear).
    ascii: Vec<bool>,
}

impl<'a> LineIndex<'a> {
    /// Indexes `text`, which belongs to `file`.
    pub fn new(text: &'a str, file: FileId) -> Self {
        let mut line_starts = vec![0];
        let mut ascii = Vec::new();
        let mut line_ascii = true;
        for (i, b) in text.bytes().enumerate() {
            line_ascii &= b.is_ascii();
            if b == b'\n' {
                line_starts.push((i + 1) as u32);
                ascii.push(line_ascii);
                line_ascii = true;
            }
        }
        ascii.push(line_ascii);
        Self {
            text,
            file,
            line_starts,
            ascii,
        }
    }

    /// The span of bytes `start..end`.
    pub fn span(&self, start: u32, end: u32) -> Span {
        let line = self.line_starts.partition_point(|&s| s <= start).max(1);
        let ls = self.line_starts[line - 1] as usize;
        let st = (start as usize).min(self.text.len());
        let col = if self.ascii.get(line - 1).copied().unwrap_or(false) {
            st.saturating_sub(ls)
        } else {
            self.text
                .get(ls..st)
                .map_or(st.saturating_sub(ls), |s| s.chars().count())
        } + 1;
        Span {
            file: self.file,
            start,
            end,
            line: line as u32,
            col: col as u32,
        }
    }

    /// The span of a value.
    pub fn of(&self, v: &JsonValue) -> Span {
        self.span(v.start, v.end)
    }

    /// The span of a key.
    pub fn of_key(&self, k: &JsonKey) -> Span {
        self.span(k.start, k.end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions() {
        let t = "{\"a\": [1, -2.5e3, true],\n \"é\": \"x\\u00e9\\ud83d\\ude00\"}";
        let v = parse(t).unwrap();
        let o = v.as_object().unwrap();
        assert_eq!(o[0].0.name, "a");
        assert_eq!(o[1].0.name, "é");
        assert_eq!(o[1].1.as_str(), Some("xé😀"));
        let idx = LineIndex::new(t, FileId(0));
        let sp = idx.of(&o[1].1);
        assert_eq!((sp.line, sp.col), (2, 7));
        let arr = o[0].1.as_array().unwrap();
        assert_eq!(arr[1].kind, JsonKind::Number("-2.5e3".into()));
        assert_eq!(idx.of(&arr[2]).col, 19);
    }

    #[test]
    fn errors() {
        for bad in [
            "",
            "[",
            "[1,]",
            "{\"a\":1,}",
            "01",
            "1.",
            "\"\\x\"",
            "\"\\ud800\"",
            "{\"a\":1,\"a\":2}",
            "[] x",
            "nul",
            "\"a\nb\"",
            "-",
            "{1:2}",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} accepted");
        }
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(parse(&deep).unwrap_err().message.contains("nesting"));
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn agrees_with_serde_json() {
        let t = r#"{"x": [null, false, 0, 1e-2, "a\"b\\c\/d\b\f\n\r\t"], "y": {}}"#;
        let ours = parse(t).unwrap();
        let theirs: serde_json::Value = serde_json::from_str(t).unwrap();
        let s = ours.get("x").unwrap().as_array().unwrap()[4]
            .as_str()
            .unwrap();
        assert_eq!(s, theirs["x"][4].as_str().unwrap());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,64}") {
            let _ = parse(&s);
        }

        #[test]
        fn same_acceptance_as_serde(s in "[\\[\\]{}:,\"a0-9.eE+\\- \\\\ntrufls]{0,24}") {
            let ours = parse(&s);
            // serde_json accepts duplicate keys (last wins); we reject them.
            proptest::prop_assume!(!ours.as_ref().is_err_and(|e| e.message.starts_with("duplicate")));
            let ours = ours.is_ok();
            let theirs = serde_json::from_str::<serde_json::Value>(&s).is_ok();
            proptest::prop_assert_eq!(ours, theirs, "{:?}", s);
        }
    }
}
