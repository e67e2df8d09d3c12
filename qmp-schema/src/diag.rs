//! Diagnostics: errors with a location, printed like QEMU prints them.
//!
//! The plain rendering (the [`Display`](std::fmt::Display) impl) is what
//! tools and `build.rs` output use:
//!
//! ```text
//! In file included from main.json:3:
//! sub.json: In struct 'Foo':
//! sub.json:7:5: 'data' member 'bar' uses unknown type 'Baz'
//! ```
//!
//! QEMU prints `FILE:LINE:`; we add the column.

use std::fmt;

use crate::source::Span;

/// What kind of problem a diagnostic reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DiagnosticKind {
    /// A file could not be read (missing, unreadable, not UTF-8).
    Io,
    /// The text is not valid QAPI syntax (or not valid JSON, for
    /// introspection replies).
    Syntax,
    /// A doc comment is malformed or does not match the definition.
    Doc,
    /// The expressions are well-formed but break a rule of the language.
    Semantic,
    /// A limit was exceeded (file size, nesting depth, include depth).
    Limit,
}

/// One error with its location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// What kind of problem this is.
    pub kind: DiagnosticKind,
    /// The message, without location (QEMU's wording where QEMU has one).
    pub message: String,
    /// The file's display name (as named by the user or the include).
    pub file: String,
    /// Where exactly; `None` when the problem is with a file as a whole.
    pub span: Option<Span>,
    /// The line QEMU reports (usually `span.line`, but QEMU reports many
    /// semantic errors at the start of the definition).
    pub line: u32,
    /// The column reported with `line`.
    pub col: u32,
    /// QEMU's context line, e.g. `In struct 'Foo'` (printed as
    /// `FILE: In struct 'Foo':`).
    pub context: Option<String>,
    /// The chain of includes that led to `file`, outermost first, as
    /// `(file, line)`.
    pub included_from: Vec<(String, u32)>,
    /// Notes printed after the message (`note: ...`), such as the QEMU
    /// release whose rules accept the schema.
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// A diagnostic at a span.
    pub fn new(
        kind: DiagnosticKind,
        message: impl Into<String>,
        file: impl Into<String>,
        span: Span,
    ) -> Self {
        Self {
            kind,
            message: message.into(),
            file: file.into(),
            span: Some(span),
            line: span.line,
            col: span.col,
            context: None,
            included_from: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// A diagnostic about a whole file (line and column 0 are not printed).
    pub fn file(kind: DiagnosticKind, message: impl Into<String>, file: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            file: file.into(),
            span: None,
            line: 0,
            col: 0,
            context: None,
            included_from: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Sets QEMU's context line (`In struct 'Foo'`).
    pub fn with_context(mut self, context: impl Into<String>) -> Self {
        self.context = Some(context.into());
        self
    }

    /// `FILE:LINE:COL` (or `FILE` for whole-file problems).
    pub fn location(&self) -> String {
        if self.line == 0 {
            self.file.clone()
        } else if self.col == 0 {
            format!("{}:{}", self.file, self.line)
        } else {
            format!("{}:{}:{}", self.file, self.line, self.col)
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (file, line) in &self.included_from {
            writeln!(f, "In file included from {file}:{line}:")?;
        }
        if let Some(ctx) = &self.context {
            writeln!(f, "{}: {}:", self.file, ctx)?;
        }
        write!(f, "{}: {}", self.location(), self.message)?;
        for note in &self.notes {
            write!(f, "\nnote: {note}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostic {}

/// Renders a diagnostic for a terminal: the plain form's context lines,
/// then `error: message`, the location, and the source line with a caret
/// under the offending text (when the text is in `sources`).
///
/// ```text
/// error: expected ':'
///   --> missing-colon.json:1:10
///    |
///  1 | { 'enum' 'foo', 'data': [] }
///    |          ^^^^^
/// ```
pub fn render_rich(diag: &Diagnostic, sources: &crate::source::SourceMap, color: bool) -> String {
    use std::fmt::Write as _;

    let (bold, red, blue, reset) = if color {
        ("\x1b[1m", "\x1b[1;31m", "\x1b[1;34m", "\x1b[0m")
    } else {
        ("", "", "", "")
    };
    let mut out = String::new();
    for (file, line) in &diag.included_from {
        let _ = writeln!(out, "In file included from {file}:{line}:");
    }
    if let Some(ctx) = &diag.context {
        let _ = writeln!(out, "{}: {}:", diag.file, ctx);
    }
    let _ = writeln!(out, "{red}error{reset}{bold}: {}{reset}", diag.message);
    let _ = write!(out, "  {blue}-->{reset} {}", diag.location());
    let snippet = diag.span.and_then(|span| {
        let file = sources.try_get(span.file)?;
        snippet_line(&file.text, span, diag.line, diag.col)
    });
    if let Some((line_text, caret_col, caret_len)) = snippet {
        let num = diag.line.to_string();
        let pad = " ".repeat(num.len());
        let _ = writeln!(out);
        let _ = writeln!(out, "{pad} {blue}|{reset}");
        let _ = writeln!(out, "{blue}{num} |{reset} {line_text}");
        let _ = write!(
            out,
            "{pad} {blue}|{reset} {}{red}{}{reset}",
            " ".repeat(caret_col),
            "^".repeat(caret_len)
        );
    }
    for note in &diag.notes {
        let _ = write!(out, "\n  {blue}={reset} {bold}note{reset}: {note}");
    }
    out
}

/// The text of line `line` (tabs expanded to spaces), and the caret's
/// offset and width in display columns: under the span when it starts on
/// that line, else under column `col` of the line.
fn snippet_line(text: &str, span: Span, line: u32, col: u32) -> Option<(String, usize, usize)> {
    if line == 0 {
        return None;
    }
    let expand = |s: &str| -> String { s.replace('\t', "    ") };
    let start = usize::try_from(span.start).ok()?;
    if span.line == line && start <= text.len() && text.is_char_boundary(start) {
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let end = usize::try_from(span.end).ok()?.clamp(start, line_end);
        let end = if text.is_char_boundary(end) {
            end
        } else {
            line_end
        };
        let before = expand(&text[line_start..start]).chars().count();
        let width = expand(&text[start..end]).chars().count().max(1);
        let shown = expand(&text[line_start..line_end]);
        return Some((shown, before, width));
    }
    // The reported line differs from the span's (QEMU reports some errors
    // at the start of a definition): point at the column on that line.
    let shown = text.split('\n').nth(usize::try_from(line).ok()? - 1)?;
    let upto: String = shown.chars().take(col.saturating_sub(1) as usize).collect();
    Some((expand(shown), expand(&upto).chars().count(), 1))
}

#[cfg(test)]
mod render_tests {
    use super::*;
    use crate::source::{FileId, SourceFile, SourceMap};

    fn sources(text: &str) -> SourceMap {
        let mut m = SourceMap::new();
        m.add(SourceFile {
            name: "t.json".into(),
            path: "t.json".into(),
            text: text.into(),
            included_from: None,
        });
        m
    }

    fn span(start: u32, end: u32, line: u32, col: u32) -> Span {
        Span {
            file: FileId(0),
            start,
            end,
            line,
            col,
        }
    }

    #[test]
    fn caret_under_span() {
        let m = sources("{ 'a':\n\t'b' }\n");
        let d = Diagnostic::new(DiagnosticKind::Syntax, "oops", "t.json", span(8, 11, 2, 2));
        let r = render_rich(&d, &m, false);
        assert!(r.ends_with("2 |     'b' }\n  |     ^^^"), "{r}");
    }

    #[test]
    fn reported_line_differs_from_span() {
        let m = sources("{ 'a':\n  'b' }\n");
        let mut d = Diagnostic::new(
            DiagnosticKind::Semantic,
            "oops",
            "t.json",
            span(9, 12, 2, 3),
        );
        d.line = 1;
        d.col = 1;
        let r = render_rich(&d, &m, false);
        assert!(r.ends_with("1 | { 'a':\n  | ^"), "{r}");
    }

    #[test]
    fn no_snippet_without_text() {
        let d = Diagnostic::file(DiagnosticKind::Io, "can't read", "gone.json");
        let r = render_rich(&d, &SourceMap::new(), false);
        assert_eq!(r, "error: can't read\n  --> gone.json");
        // A span into a file the map does not have is ignored, not a panic.
        let d = Diagnostic::new(DiagnosticKind::Syntax, "x", "t.json", span(0, 1, 1, 1));
        assert!(!render_rich(&d, &SourceMap::new(), false).contains('|'));
    }
}
