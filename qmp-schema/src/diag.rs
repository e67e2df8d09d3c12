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
        write!(f, "{}: {}", self.location(), self.message)
    }
}

impl std::error::Error for Diagnostic {}
