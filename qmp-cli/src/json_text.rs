//! Printing JSON text received from the server without decoding it.
//!
//! `qmp call` and `qmp events` print what the server sent, re-laid out
//! (compact or pretty) straight from the text: no `serde_json::Value` is
//! built, so every value is kept exactly, including those a `Value` cannot
//! hold (a lone surrogate escape `"\ud800"`, a number like `1e400`), and a
//! huge reply costs no more memory than its text. Members keep the
//! server's order. Control characters that JSON allows raw inside strings
//! (DEL, C1) are escaped as `\uXXXX`, so guest-influenced strings cannot
//! drive the terminal; the value is unchanged.
//!
//! The input must be one valid JSON value (the client's envelope parser
//! has checked it); on anything else the output is unspecified but the
//! function does not panic.

use std::io::{self, Write};

/// Writes the JSON value `text`, compactly or pretty-printed (two-space
/// indent, like `serde_json::to_string_pretty`).
pub fn write_json(out: &mut dyn Write, text: &str, pretty: bool) -> io::Result<()> {
    let b = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    // Where the current run of bytes to copy verbatim starts.
    let newline = |out: &mut dyn Write, depth: usize| -> io::Result<()> {
        out.write_all(b"\n")?;
        for _ in 0..depth {
            out.write_all(b"  ")?;
        }
        Ok(())
    };
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'"' => {
                let end = string_end(b, i);
                write_string(out, &text[i..end])?;
                i = end;
            }
            b'{' | b'[' => {
                let close = if c == b'{' { b'}' } else { b']' };
                let next = skip_ws(b, i + 1);
                if next < b.len() && b[next] == close {
                    out.write_all(&[c, close])?;
                    i = next + 1;
                } else {
                    out.write_all(&[c])?;
                    depth += 1;
                    if pretty {
                        newline(out, depth)?;
                    }
                    i += 1;
                }
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if pretty {
                    newline(out, depth)?;
                }
                out.write_all(&[c])?;
                i += 1;
            }
            b',' => {
                out.write_all(b",")?;
                if pretty {
                    newline(out, depth)?;
                }
                i += 1;
            }
            b':' => {
                out.write_all(if pretty { b": " } else { b":" })?;
                i += 1;
            }
            _ => {
                // A number or literal: copy up to the next delimiter.
                let start = i;
                while i < b.len()
                    && !matches!(
                        b[i],
                        b' ' | b'\t'
                            | b'\r'
                            | b'\n'
                            | b','
                            | b':'
                            | b'{'
                            | b'}'
                            | b'['
                            | b']'
                            | b'"'
                    )
                {
                    i += 1;
                }
                out.write_all(&b[start..i])?;
            }
        }
    }
    Ok(())
}

/// The index just past the string starting at `b[start] == b'"'`.
fn string_end(b: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\r' | b'\n') {
        i += 1;
    }
    i
}

/// Writes a JSON string token (quotes included) verbatim, escaping the
/// control characters JSON allows raw (DEL and C1).
fn write_string(out: &mut dyn Write, s: &str) -> io::Result<()> {
    if !s.chars().any(char::is_control) {
        return out.write_all(s.as_bytes());
    }
    let mut buf = [0u8; 4];
    for ch in s.chars() {
        if ch.is_control() {
            write!(out, "\\u{:04x}", ch as u32)?;
        } else {
            out.write_all(ch.encode_utf8(&mut buf).as_bytes())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn render(text: &str, pretty: bool) -> String {
        let mut out = Vec::new();
        write_json(&mut out, text, pretty).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn keeps_unrepresentable_values_exactly() {
        let text = "{ \"a\" : \"abc\\ud800def\",\n \"n\": 1e400, \"e\": [ ], \"o\": {} }";
        assert_eq!(
            render(text, false),
            r#"{"a":"abc\ud800def","n":1e400,"e":[],"o":{}}"#
        );
        assert_eq!(
            render(text, true),
            "{\n  \"a\": \"abc\\ud800def\",\n  \"n\": 1e400,\n  \"e\": [],\n  \"o\": {}\n}"
        );
    }

    #[test]
    fn escapes_raw_c1_and_del() {
        assert_eq!(
            render("[\"x\u{9b}y\u{7f}\", \"\\\"}\"]", false),
            "[\"x\\u009by\\u007f\",\"\\\"}\"]"
        );
    }

    proptest! {
        /// Compact and pretty output match serde_json's own (with
        /// `Value`'s sorted keys, so the input is generated sorted).
        #[test]
        fn matches_serde_json(v in json_value()) {
            let text = serde_json::to_string_pretty(&v).unwrap();
            prop_assert_eq!(render(&text, false), serde_json::to_string(&v).unwrap());
            let compact = serde_json::to_string(&v).unwrap();
            prop_assert_eq!(render(&compact, true), text);
        }
    }

    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        use serde_json::Value;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            "[a-z\"\\\\ ,:{}\\[\\]é]{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-z]{0,3}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }
}
