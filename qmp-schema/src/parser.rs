//! The QAPI schema source parser.
//!
//! Reads a schema file and everything it includes into a flat list of
//! [`Item`]s, behaving like QEMU's own parser (`scripts/qapi/parser.py`):
//! the same syntax, the same `include` and `pragma` handling, the same doc
//! comment rules, and the same error messages at the same lines. QEMU
//! reports `FILE:LINE:COL` for lexical errors and `FILE:LINE` for the
//! others; every diagnostic here has QEMU's line and a column of its own.
//!
//! The grammar checks (which keys a definition may have, name rules, ...)
//! are not done here; see the checker.
//!
//! Choices beyond QEMU:
//! - files that are not UTF-8 are rejected with the line and column of the
//!   first bad byte (QEMU fails with a Python traceback);
//! - a byte order mark is rejected with a clear message (QEMU reports a
//!   stray character);
//! - files larger than [`Limits::max_file_size`](crate::Limits::max_file_size), nesting deeper than
//!   [`Limits::max_depth`](crate::Limits::max_depth) and includes nested deeper than
//!   [`Limits::max_include_depth`](crate::Limits::max_include_depth) are rejected (QEMU has no limits);
//! - `\r\n` and lone `\r` line ends are read as `\n` (as Python does).

use std::collections::HashSet;
use std::fmt;
use std::path::{Component, Path, PathBuf};

use crate::ast::{Dict, Directive, Doc, Expr, Item, Key, Parsed, Value, ValueKind};
use crate::diag::{Diagnostic, DiagnosticKind};
use crate::lexer::{LexError, Lexer, TokKind, Token};
use crate::model::Pragma;
use crate::options::{Level, ParseOptions};
use crate::rules::Rule;
use crate::source::{FileId, SourceFile, SourceMap, Span};

/// A parse failure: the diagnostic and every file read up to the failure,
/// so that the diagnostic can be rendered with a source snippet
/// ([`render_rich`](crate::diag::render_rich)).
#[derive(Debug, Clone)]
pub struct ParseError {
    /// What went wrong, and where.
    pub diagnostic: Box<Diagnostic>,
    /// The files read so far (including the one with the error, when it
    /// could be read).
    pub sources: SourceMap,
}

impl ParseError {
    /// The diagnostic rendered for a terminal, with a source snippet.
    pub fn render_rich(&self, color: bool) -> String {
        crate::diag::render_rich(&self.diagnostic, &self.sources, color)
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.diagnostic, f)
    }
}

impl std::error::Error for ParseError {}

impl From<ParseError> for Diagnostic {
    fn from(e: ParseError) -> Self {
        *e.diagnostic
    }
}

/// Parses the schema file at `path` and everything it includes.
///
/// The file name in diagnostics is `path` as given; included files are
/// named by joining the including file's directory with the include's
/// text, like QEMU does. The language level is `opts.level`, or else read
/// from the QEMU tree's `VERSION` file (see [`Level::detect`]).
pub fn parse_file(path: &Path, opts: &ParseOptions) -> Result<Parsed, ParseError> {
    let level = opts.level_for(path);
    let name = path.to_string_lossy().into_owned();
    let ctx = Ctx::new(opts, level);
    let text = match read_source(path, opts) {
        Ok(text) => text,
        Err(ReadError::Io(e)) => {
            return Err(ctx.fail(Diagnostic::file(
                DiagnosticKind::Io,
                format!("can't read schema file '{name}': {}", strerror(&e)),
                name,
            )));
        }
        Err(ReadError::TooBig(size)) => {
            return Err(ctx.fail(Diagnostic::file(
                DiagnosticKind::Limit,
                too_big_message(size, opts),
                name,
            )));
        }
        Err(ReadError::Utf8 { bytes, error }) => {
            let diag = utf8_diagnostic(&name, &bytes, &error);
            return Err(ctx.fail(diag));
        }
    };
    ctx.run(name, path.to_path_buf(), text)
}

/// Like [`parse_file`], for the file's text already read (as UTF-8, within
/// the size limit) by the caller.
pub(crate) fn parse_file_text(
    path: &Path,
    text: String,
    opts: &ParseOptions,
) -> Result<Parsed, ParseError> {
    let level = opts.level_for(path);
    let name = path.to_string_lossy().into_owned();
    Ctx::new(opts, level).run(name, path.to_path_buf(), normalize_newlines(text))
}

/// Parses schema text held in memory; `name` is the file name used in
/// diagnostics and to resolve `include` directives (relative to its
/// directory, like a file of that name). The language level is
/// `opts.level`, or else detected from `name`'s location.
pub fn parse_str(name: &str, text: &str, opts: &ParseOptions) -> Result<Parsed, ParseError> {
    let level = opts.level_for(Path::new(name));
    let ctx = Ctx::new(opts, level);
    if text.len() as u64 > max_file_size(opts) {
        return Err(ctx.fail(Diagnostic::file(
            DiagnosticKind::Limit,
            too_big_message(text.len() as u64, opts),
            name,
        )));
    }
    ctx.run(
        name.to_owned(),
        PathBuf::from(name),
        normalize_newlines(text.to_owned()),
    )
}

/// The size limit; spans hold 32-bit offsets, so never above 4 GiB.
fn max_file_size(opts: &ParseOptions) -> u64 {
    opts.limits.max_file_size.min(u64::from(u32::MAX))
}

fn too_big_message(size: u64, opts: &ParseOptions) -> String {
    format!(
        "file is too large ({size} bytes; the limit is {} bytes)",
        max_file_size(opts)
    )
}

enum ReadError {
    Io(std::io::Error),
    TooBig(u64),
    Utf8 {
        bytes: Vec<u8>,
        error: std::str::Utf8Error,
    },
}

fn read_source(path: &Path, opts: &ParseOptions) -> Result<String, ReadError> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(ReadError::Io)?;
    let meta = file.metadata().map_err(ReadError::Io)?;
    if meta.is_dir() {
        return Err(ReadError::Io(std::io::Error::from_raw_os_error(21)));
    }
    let limit = max_file_size(opts);
    if meta.len() > limit {
        return Err(ReadError::TooBig(meta.len()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // Read at most one byte more than the limit (the file may grow).
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooBig(bytes.len() as u64));
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(normalize_newlines(text)),
        Err(e) => {
            let error = e.utf8_error();
            Err(ReadError::Utf8 {
                bytes: e.into_bytes(),
                error,
            })
        }
    }
}

/// `\r\n` and lone `\r` → `\n`, as Python's universal newlines do.
fn normalize_newlines(text: String) -> String {
    if !text.as_bytes().contains(&b'\r') {
        return text;
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' {
            if chars.peek() == Some(&'\n') {
                chars.next();
            }
            out.push('\n');
        } else {
            out.push(c);
        }
    }
    out
}

fn utf8_diagnostic(name: &str, bytes: &[u8], error: &std::str::Utf8Error) -> Diagnostic {
    let at = error.valid_up_to();
    let before = &bytes[..at];
    let line = before.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    // The prefix is valid UTF-8, so this counts characters.
    let col = String::from_utf8_lossy(&bytes[line_start..at])
        .chars()
        .count() as u32
        + 1;
    let mut d = Diagnostic::file(
        DiagnosticKind::Io,
        format!(
            "invalid UTF-8 (byte 0x{:02x} at offset {at}); schema files must be UTF-8",
            bytes[at]
        ),
        name,
    );
    d.line = line;
    d.col = col;
    d
}

/// `strerror()`-style text of an I/O error, as Python prints it.
pub(crate) fn strerror(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_owned(),
        None => s,
    }
}

/// Python's `os.path.dirname`.
fn py_dirname(p: &str) -> &str {
    let i = p.rfind('/').map_or(0, |i| i + 1);
    let head = &p[..i];
    if !head.is_empty() && head.bytes().any(|b| b != b'/') {
        head.trim_end_matches('/')
    } else {
        head
    }
}

/// Python's `os.path.join(a, b)` for two parts.
fn py_join(a: &str, b: &str) -> String {
    if b.starts_with('/') || a.is_empty() {
        b.to_owned()
    } else if a.ends_with('/') {
        format!("{a}{b}")
    } else {
        format!("{a}/{b}")
    }
}

/// Python's `os.path.abspath`: absolute and lexically normalised.
fn py_abspath(p: &Path) -> PathBuf {
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Shared state while reading a schema: every file, every item.
struct Ctx {
    opts: ParseOptions,
    level: Level,
    sources: SourceMap,
    items: Vec<Item>,
    pragma: Pragma,
    /// Absolute paths of all files read (QEMU reads each file once).
    included: HashSet<PathBuf>,
    /// The chain of files being read, outermost first: absolute path,
    /// display name, and the line of the include directive in that file
    /// (set while an include is being read).
    open: Vec<OpenFile>,
}

struct OpenFile {
    abs: PathBuf,
    name: String,
    include_line: u32,
}

type PResult<T> = Result<T, Box<Diagnostic>>;

impl Ctx {
    fn new(opts: &ParseOptions, level: Level) -> Self {
        Self {
            opts: *opts,
            level,
            sources: SourceMap::new(),
            items: Vec::new(),
            pragma: Pragma::default(),
            included: HashSet::new(),
            open: Vec::new(),
        }
    }

    fn fail(self, diagnostic: Diagnostic) -> ParseError {
        ParseError {
            diagnostic: Box::new(diagnostic),
            sources: self.sources,
        }
    }

    fn run(mut self, name: String, path: PathBuf, text: String) -> Result<Parsed, ParseError> {
        match self.read_file(name, path, text, None) {
            Ok(()) => Ok(Parsed {
                sources: self.sources,
                items: self.items,
                pragma: self.pragma,
                level: self.level,
            }),
            Err(diag) => Err(self.fail(*diag)),
        }
    }

    /// The include chain for a diagnostic in the innermost open file.
    fn chain(&self) -> Vec<(String, u32)> {
        let n = self.open.len().saturating_sub(1);
        self.open[..n]
            .iter()
            .map(|f| (f.name.clone(), f.include_line))
            .collect()
    }

    fn read_file(
        &mut self,
        name: String,
        path: PathBuf,
        text: String,
        included_from: Option<Span>,
    ) -> PResult<()> {
        let abs = py_abspath(&path);
        self.included.insert(abs.clone());
        let id = self.sources.add(SourceFile {
            name: name.clone(),
            path,
            text: String::new(),
            included_from,
        });
        self.open.push(OpenFile {
            abs,
            name: name.clone(),
            include_line: 0,
        });
        let result = FileParser::new(self, id, &name, &text).parse();
        self.open.pop();
        self.sources.set_text(id, text);
        result
    }
}

/// Parses one file.
pub(crate) struct FileParser<'a, 'c> {
    ctx: &'c mut Ctx,
    pub(crate) file: FileId,
    pub(crate) name: &'a str,
    pub(crate) lx: Lexer<'a>,
    /// The current token (QEMU's `tok`).
    pub(crate) tok: Token,
    /// End offset of the previous token.
    prev_end: u32,
    /// [`Rule::NullLiteral`]: `null`, and "expected '{'" at top level.
    legacy: bool,
    /// Inside a literal block of a doc comment, and the block's
    /// indentation ([`Rule::DocLineLength`] does not apply there).
    pub(crate) doc_literal: Option<usize>,
}

impl<'a, 'c> FileParser<'a, 'c> {
    fn new(ctx: &'c mut Ctx, file: FileId, name: &'a str, text: &'a str) -> Self {
        let legacy = ctx.level.has(Rule::NullLiteral);
        Self {
            ctx,
            file,
            name,
            lx: Lexer::new(text, legacy),
            tok: Token {
                kind: TokKind::Eof,
                start: 0,
                end: 0,
                line: 1,
                col: 1,
            },
            prev_end: 0,
            legacy,
            doc_literal: None,
        }
    }

    pub(crate) fn level(&self) -> Level {
        self.ctx.level
    }

    /// The span of the current token.
    pub(crate) fn tok_span(&self) -> Span {
        Span {
            file: self.file,
            start: self.tok.start,
            end: self.tok.end,
            line: self.tok.line,
            col: self.tok.col,
        }
    }

    /// A diagnostic at `span`, in this file.
    pub(crate) fn diag_at(
        &self,
        kind: DiagnosticKind,
        msg: impl Into<String>,
        span: Span,
    ) -> Box<Diagnostic> {
        let mut d = Diagnostic::new(kind, msg, self.name, span);
        d.included_from = self.ctx.chain();
        Box::new(d)
    }

    /// A diagnostic at the current token (QEMU's `QAPIParseError`).
    pub(crate) fn err_tok(&self, kind: DiagnosticKind, msg: impl Into<String>) -> Box<Diagnostic> {
        self.diag_at(kind, msg, self.tok_span())
    }

    fn lex_error(&self, e: LexError) -> Box<Diagnostic> {
        let span = Span {
            file: self.file,
            start: e.start,
            end: e.end,
            line: e.line,
            col: e.col,
        };
        self.diag_at(DiagnosticKind::Syntax, e.message, span)
    }

    /// Reads the next token (QEMU's `accept`).
    pub(crate) fn accept(&mut self, skip_comment: bool) -> PResult<()> {
        self.prev_end = self.tok.end;
        match self.lx.next(skip_comment) {
            Ok(t) => {
                self.tok = t;
                Ok(())
            }
            Err(e) => Err(self.lex_error(e)),
        }
    }

    /// The text of the current comment token.
    pub(crate) fn comment_text(&self) -> &'a str {
        &self.lx.src()[self.tok.start as usize..self.tok.end as usize]
    }

    fn parse(mut self) -> PResult<()> {
        self.accept(true)?;
        // The definition doc block waiting for its definition, and whether
        // the previous item was a free-form doc block (QEMU's `cur_doc`).
        let mut cur_doc: Option<Doc> = None;
        let mut freeform: Option<Span> = None;
        while self.tok.kind != TokKind::Eof {
            let start = self.tok_span();
            if self.tok.kind == TokKind::Comment {
                self.reject_expr_doc(cur_doc.take())?;
                freeform = None;
                for doc in self.get_doc()? {
                    if doc.symbol.is_some() {
                        cur_doc = Some(doc);
                    } else {
                        freeform = doc.span;
                        self.ctx.items.push(Item::Doc(doc));
                    }
                }
                continue;
            }
            if self.legacy && self.tok.kind != TokKind::LBrace {
                return Err(self.err_tok(DiagnosticKind::Syntax, "expected '{'"));
            }
            let value = self.get_value()?;
            let ValueKind::Dict(dict) = value.kind else {
                return Err(self.diag_at(
                    DiagnosticKind::Syntax,
                    "top-level expression must be an object",
                    start,
                ));
            };
            let span = value.span;
            if dict.contains("include") {
                self.reject_expr_doc(cur_doc.take())?;
                self.include(dict, span)?;
            } else if dict.contains("pragma") {
                self.reject_expr_doc(cur_doc.take())?;
                self.pragma(&dict, span)?;
                self.ctx
                    .items
                    .push(Item::Directive(Directive { dict, span }));
            } else {
                if let Some(at) = freeform {
                    return Err(self.diag_at(
                        DiagnosticKind::Doc,
                        "definition documentation required",
                        at,
                    ));
                }
                let doc = cur_doc.take();
                self.ctx.items.push(Item::Expr(Expr { dict, span, doc }));
            }
            freeform = None;
        }
        self.reject_expr_doc(cur_doc)
    }

    fn reject_expr_doc(&self, doc: Option<Doc>) -> PResult<()> {
        if let Some(doc) = doc
            && let Some(symbol) = &doc.symbol
        {
            let at = doc.span.unwrap_or_else(|| self.tok_span());
            return Err(self.diag_at(
                DiagnosticKind::Doc,
                format!("documentation for '{symbol}' is not followed by the definition"),
                at,
            ));
        }
        Ok(())
    }

    fn include(&mut self, dict: Dict, span: Span) -> PResult<()> {
        if dict.entries.len() != 1 {
            return Err(self.diag_at(
                DiagnosticKind::Semantic,
                "invalid 'include' directive",
                span,
            ));
        }
        let Some(include) = dict.entries[0].1.as_str().map(str::to_owned) else {
            return Err(self.diag_at(
                DiagnosticKind::Semantic,
                "value of 'include' must be a string",
                span,
            ));
        };
        let incl_name = py_join(py_dirname(self.name), &include);
        self.ctx
            .items
            .push(Item::Directive(Directive { dict, span }));
        let incl_path = PathBuf::from(&incl_name);
        let incl_abs = py_abspath(&incl_path);
        if self.ctx.open.iter().any(|f| f.abs == incl_abs) {
            return Err(self.diag_at(
                DiagnosticKind::Semantic,
                format!("inclusion loop for {include}"),
                span,
            ));
        }
        if self.ctx.included.contains(&incl_abs) {
            return Ok(());
        }
        if self.ctx.open.len() >= self.ctx.opts.limits.max_include_depth {
            return Err(self.diag_at(
                DiagnosticKind::Limit,
                format!(
                    "includes nested too deeply (the limit is {})",
                    self.ctx.opts.limits.max_include_depth
                ),
                span,
            ));
        }
        let text = match read_source(&incl_path, &self.ctx.opts) {
            Ok(text) => text,
            Err(ReadError::Io(e)) => {
                return Err(self.diag_at(
                    DiagnosticKind::Io,
                    format!("can't read include file '{incl_name}': {}", strerror(&e)),
                    span,
                ));
            }
            Err(ReadError::TooBig(size)) => {
                return Err(self.diag_at(
                    DiagnosticKind::Limit,
                    format!(
                        "can't read include file '{incl_name}': {}",
                        too_big_message(size, &self.ctx.opts)
                    ),
                    span,
                ));
            }
            Err(ReadError::Utf8 { bytes, error }) => {
                let mut d = utf8_diagnostic(&incl_name, &bytes, &error);
                let mut chain = self.ctx.chain();
                chain.push((self.name.to_owned(), span.line));
                d.included_from = chain;
                return Err(Box::new(d));
            }
        };
        if let Some(f) = self.ctx.open.last_mut() {
            f.include_line = span.line;
        }
        self.ctx.read_file(incl_name, incl_path, text, Some(span))
    }

    fn pragma(&mut self, dict: &Dict, span: Span) -> PResult<()> {
        if dict.entries.len() != 1 {
            return Err(self.diag_at(DiagnosticKind::Semantic, "invalid 'pragma' directive", span));
        }
        let Some(pragmas) = dict.entries[0].1.as_dict() else {
            return Err(self.diag_at(
                DiagnosticKind::Semantic,
                "value of 'pragma' must be an object",
                span,
            ));
        };
        let level = self.level();
        for (key, value) in &pragmas.entries {
            let name = key.name.as_str();
            let list = |p: &Self| -> PResult<Vec<String>> {
                value
                    .as_list()
                    .and_then(|l| l.iter().map(|v| v.as_str().map(str::to_owned)).collect())
                    .ok_or_else(|| {
                        p.diag_at(
                            DiagnosticKind::Semantic,
                            format!("pragma {name} must be a list of strings"),
                            span,
                        )
                    })
            };
            match name {
                "doc-required" => {
                    let Some(b) = value.as_bool() else {
                        return Err(self.diag_at(
                            DiagnosticKind::Semantic,
                            "pragma 'doc-required' must be boolean",
                            span,
                        ));
                    };
                    self.ctx.pragma.doc_required = b;
                }
                "command-name-exceptions" if level.has(Rule::PragmaExceptions) => {
                    self.ctx.pragma.command_name_exceptions = list(self)?;
                }
                "command-returns-exceptions" if level.has(Rule::PragmaExceptions) => {
                    self.ctx.pragma.command_returns_exceptions = list(self)?;
                }
                "documentation-exceptions" if level.has(Rule::MemberDocsRequired) => {
                    self.ctx.pragma.documentation_exceptions = list(self)?;
                }
                "member-name-exceptions" if level.has(Rule::PragmaExceptions) => {
                    self.ctx.pragma.member_name_exceptions = list(self)?;
                }
                "returns-whitelist" if level.has(Rule::PragmaWhitelists) => {
                    self.ctx.pragma.command_returns_exceptions = list(self)?;
                }
                "name-case-whitelist" if level.has(Rule::PragmaWhitelists) => {
                    self.ctx.pragma.member_name_exceptions = list(self)?;
                }
                _ => {
                    return Err(self.diag_at(
                        DiagnosticKind::Semantic,
                        format!("unknown pragma '{name}'"),
                        span,
                    ));
                }
            }
        }
        Ok(())
    }

    fn syntax(&self, msg: &str) -> Box<Diagnostic> {
        self.err_tok(DiagnosticKind::Syntax, msg)
    }

    fn expected_value(&self) -> Box<Diagnostic> {
        self.syntax(if self.legacy {
            "expected '{', '[', string, boolean or 'null'"
        } else {
            "expected '{', '[', string, or boolean"
        })
    }

    /// Span from `start` to the end of the previous token.
    fn span_from(&self, start: Span) -> Span {
        Span {
            end: self.prev_end,
            ..start
        }
    }

    /// Reads a key and its colon; the current token is a string.
    fn get_key(&mut self) -> PResult<Key> {
        let span = self.tok_span();
        let TokKind::Str(name) = std::mem::replace(&mut self.tok.kind, TokKind::Eof) else {
            return Err(self.syntax("expected string"));
        };
        self.accept(true)?;
        if self.tok.kind != TokKind::Colon {
            return Err(self.syntax("expected ':'"));
        }
        self.accept(true)?;
        Ok(Key { name, span })
    }

    fn is_value_start(&self) -> bool {
        matches!(
            self.tok.kind,
            TokKind::LBrace | TokKind::LBracket | TokKind::Str(_) | TokKind::True | TokKind::False
        ) || (self.legacy && self.tok.kind == TokKind::Null)
    }

    /// Parses one value (QEMU's `get_expr`), iteratively so that deep
    /// nesting cannot overflow the stack.
    fn get_value(&mut self) -> PResult<Value> {
        enum Frame {
            Dict(
                Span,
                Vec<(Key, Value)>,
                Option<Key>,
                Option<HashSet<String>>,
            ),
            List(Span, Vec<Value>),
        }
        let max_depth = self.ctx.opts.limits.max_depth;
        let mut stack: Vec<Frame> = Vec::new();
        'value: loop {
            let start = self.tok_span();
            let mut value = match &mut self.tok.kind {
                TokKind::LBrace | TokKind::LBracket => {
                    if stack.len() >= max_depth {
                        return Err(self.err_tok(
                            DiagnosticKind::Limit,
                            format!("nesting too deep (the limit is {max_depth} levels)"),
                        ));
                    }
                    let is_dict = self.tok.kind == TokKind::LBrace;
                    self.accept(true)?;
                    if is_dict {
                        if self.tok.kind == TokKind::RBrace {
                            self.accept(true)?;
                            Value {
                                kind: ValueKind::Dict(Dict::default()),
                                span: self.span_from(start),
                            }
                        } else if !matches!(self.tok.kind, TokKind::Str(_)) {
                            return Err(self.syntax("expected string or '}'"));
                        } else {
                            let key = self.get_key()?;
                            stack.push(Frame::Dict(start, Vec::new(), Some(key), None));
                            continue 'value;
                        }
                    } else if self.tok.kind == TokKind::RBracket {
                        self.accept(true)?;
                        Value {
                            kind: ValueKind::List(Vec::new()),
                            span: self.span_from(start),
                        }
                    } else if !self.is_value_start() {
                        return Err(self.syntax(if self.legacy {
                            "expected '{', '[', ']', string, boolean or 'null'"
                        } else {
                            "expected '{', '[', ']', string, or boolean"
                        }));
                    } else {
                        stack.push(Frame::List(start, Vec::new()));
                        continue 'value;
                    }
                }
                TokKind::Str(s) => {
                    let s = std::mem::take(s);
                    self.accept(true)?;
                    Value {
                        kind: ValueKind::Str(s),
                        span: self.span_from(start),
                    }
                }
                TokKind::True | TokKind::False => {
                    let b = self.tok.kind == TokKind::True;
                    self.accept(true)?;
                    Value {
                        kind: ValueKind::Bool(b),
                        span: self.span_from(start),
                    }
                }
                TokKind::Null if self.legacy => {
                    self.accept(true)?;
                    Value {
                        kind: ValueKind::Null,
                        span: self.span_from(start),
                    }
                }
                _ => return Err(self.expected_value()),
            };
            // Attach the finished value to the enclosing containers.
            loop {
                match stack.last_mut() {
                    None => return Ok(value),
                    Some(Frame::Dict(dstart, entries, pending, seen)) => {
                        let key = pending.take().expect("a dict frame has a pending key");
                        if let Some(seen) = seen {
                            seen.insert(key.name.clone());
                        }
                        entries.push((key, value));
                        match self.tok.kind {
                            TokKind::RBrace => {
                                self.accept(true)?;
                                let dstart = *dstart;
                                let Some(Frame::Dict(_, entries, _, _)) = stack.pop() else {
                                    unreachable!("top frame is a dict")
                                };
                                value = Value {
                                    kind: ValueKind::Dict(Dict { entries }),
                                    span: self.span_from(dstart),
                                };
                            }
                            TokKind::Comma => {
                                self.accept(true)?;
                                if !matches!(self.tok.kind, TokKind::Str(_)) {
                                    return Err(self.syntax("expected string"));
                                }
                                let k = self.get_key()?;
                                let dup = match seen {
                                    Some(seen) => seen.contains(&k.name),
                                    None => entries.iter().any(|(e, _)| e.name == k.name),
                                };
                                if dup {
                                    return Err(self.syntax(&format!("duplicate key '{}'", k.name)));
                                }
                                // Large dicts get a set for duplicate checks.
                                if seen.is_none() && entries.len() >= 32 {
                                    *seen =
                                        Some(entries.iter().map(|(e, _)| e.name.clone()).collect());
                                }
                                *pending = Some(k);
                                continue 'value;
                            }
                            _ => return Err(self.syntax("expected ',' or '}'")),
                        }
                    }
                    Some(Frame::List(_, items)) => {
                        items.push(value);
                        match self.tok.kind {
                            TokKind::RBracket => {
                                self.accept(true)?;
                                let Some(Frame::List(lstart, items)) = stack.pop() else {
                                    unreachable!("top frame is a list")
                                };
                                value = Value {
                                    kind: ValueKind::List(items),
                                    span: self.span_from(lstart),
                                };
                            }
                            TokKind::Comma => {
                                self.accept(true)?;
                                continue 'value;
                            }
                            _ => return Err(self.syntax("expected ',' or ']'")),
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_path_helpers() {
        assert_eq!(py_dirname("a.json"), "");
        assert_eq!(py_dirname("qapi/a.json"), "qapi");
        assert_eq!(py_dirname("a//b.json"), "a");
        assert_eq!(py_dirname("/a.json"), "/");
        assert_eq!(py_join("", "b.json"), "b.json");
        assert_eq!(py_join("qapi", "b.json"), "qapi/b.json");
        assert_eq!(py_join("/", "b.json"), "/b.json");
        assert_eq!(py_join("qapi", "/abs/b.json"), "/abs/b.json");
        assert_eq!(
            py_abspath(Path::new("/x/y/../z/./w.json")),
            PathBuf::from("/x/z/w.json")
        );
    }

    #[test]
    fn newlines() {
        assert_eq!(normalize_newlines("a\r\nb\rc\n".into()), "a\nb\nc\n");
        assert_eq!(normalize_newlines("é\r".into()), "é\n");
    }

    #[test]
    fn os_error_text() {
        let e = std::io::Error::from_raw_os_error(2);
        assert_eq!(strerror(&e), "No such file or directory");
    }

    #[test]
    fn utf8_location() {
        let bytes = [b"ab\ncd".as_slice(), &[0xff], b"e"].concat();
        let err = std::str::from_utf8(&bytes).unwrap_err();
        let d = utf8_diagnostic("f.json", &bytes, &err);
        assert_eq!((d.line, d.col), (2, 3));
        assert!(d.message.contains("0xff"));
    }
}
