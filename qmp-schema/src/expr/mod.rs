//! Per-expression structural checks (the behaviour of QEMU's `expr.py`).
//!
//! Every definition expression is checked on its own: which keys a meta
//! type allows and requires, naming rules, `if` conditions, features, member
//! and type-reference syntax, flags. A checked expression is normalised into
//! a [`Def`], which the schema pass ([`crate::schema`]) turns into entities.
//!
//! Errors are reported at the expression's line (where its `{` is), as QEMU
//! does, with the context line `In <meta> '<name>'` once the name is known;
//! the diagnostic's span points at the offending token itself.
//!
//! The parts follow `expr.py`: names (`names`), `if` conditions
//! (`conditions`), types, members, features and enums (`types`), unions and
//! alternates (`unions`); `legacy` is the checker of the releases that had
//! simple unions. Which release-gated rules apply is [`Rules`], read from
//! the rule table ([`crate::rules`]).

use std::fmt;

use crate::ast::{Dict, Doc, DocSectionKind, Expr, Value, ValueKind};
use crate::diag::{Diagnostic, DiagnosticKind};
use crate::model::{IfCond, Pragma};
use crate::options::Level;
use crate::rules::Rule;
use crate::source::{SourceMap, Span};

/// The language rules in force, each read from the rule table
/// ([`crate::rules::RULES`]) for one level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rules {
    /// [`Rule::SimpleUnions`]: QEMU 5's expression checker (simple unions,
    /// `if` as a list of strings, names checked for validity only).
    pub legacy: bool,
    /// [`Rule::NamingRules`] (also applied by the QEMU 5 checker, for
    /// QEMU 6.0 and 6.1).
    pub naming: bool,
    /// [`Rule::CoroutineFlag`].
    pub coroutine: bool,
    /// [`Rule::MemberDocsRequired`].
    pub member_docs: bool,
    /// [`Rule::UnstableFeature`].
    pub unstable_feature: bool,
    /// [`Rule::ConditionalArgsBoxed`].
    pub conditional_args_boxed: bool,
    /// [`Rule::DocStrictParser`]: `Returns`/`Errors` section checks.
    pub strict_docs: bool,
}

impl Rules {
    /// The rules of `level`.
    pub fn at(level: Level) -> Self {
        Self {
            legacy: level.has(Rule::SimpleUnions),
            naming: level.has(Rule::NamingRules),
            coroutine: level.has(Rule::CoroutineFlag),
            member_docs: level.has(Rule::MemberDocsRequired),
            unstable_feature: level.has(Rule::UnstableFeature),
            conditional_args_boxed: level.has(Rule::ConditionalArgsBoxed),
            strict_docs: level.has(Rule::DocStrictParser),
        }
    }

    /// The keys a definition of `meta` must have and the ones it may have.
    fn keys(self, meta: Meta) -> (&'static [&'static str], &'static [&'static str]) {
        const COMMAND: &[&str] = &[
            "data",
            "returns",
            "boxed",
            "if",
            "features",
            "gen",
            "success-response",
            "allow-oob",
            "allow-preconfig",
            "coroutine",
        ];
        match meta {
            Meta::Enum => (&["enum", "data"], &["if", "features", "prefix"]),
            Meta::Struct => (&["struct", "data"], &["base", "if", "features"]),
            // Simple unions have neither `base` nor `discriminator`.
            Meta::Union if self.legacy => (
                &["union", "data"],
                &["base", "discriminator", "if", "features"],
            ),
            Meta::Union => (
                &["union", "base", "discriminator", "data"],
                &["if", "features"],
            ),
            Meta::Alternate => (&["alternate", "data"], &["if", "features"]),
            Meta::Command if self.coroutine => (&["command"], COMMAND),
            Meta::Command => (&["command"], &COMMAND[..COMMAND.len() - 1]),
            Meta::Event => (&["event"], &["data", "boxed", "if", "features"]),
        }
    }
}

/// Meta types of definitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Meta {
    Enum,
    Struct,
    Union,
    Alternate,
    Command,
    Event,
}

impl Meta {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Meta::Enum => "enum",
            Meta::Struct => "struct",
            Meta::Union => "union",
            Meta::Alternate => "alternate",
            Meta::Command => "command",
            Meta::Event => "event",
        }
    }

    const ALL: [Meta; 6] = [
        Meta::Enum,
        Meta::Struct,
        Meta::Union,
        Meta::Alternate,
        Meta::Command,
        Meta::Event,
    ];
}

/// A reference to a type: `'Name'` or `['Name']`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TypeRef {
    pub name: String,
    pub array: bool,
    pub span: Span,
}

/// A normalised feature.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NFeature {
    pub name: String,
    pub span: Span,
    pub cond: Option<IfCond>,
}

/// A normalised object member.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NMember {
    pub name: String,
    pub optional: bool,
    pub ty: TypeRef,
    pub cond: Option<IfCond>,
    pub features: Vec<NFeature>,
    pub span: Span,
}

/// A normalised enum value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NValue {
    pub name: String,
    pub span: Span,
    pub cond: Option<IfCond>,
    pub features: Vec<NFeature>,
}

/// A normalised union or alternate branch.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NBranch {
    pub name: String,
    pub ty: TypeRef,
    pub cond: Option<IfCond>,
    pub span: Span,
}

/// Command / event data, union base: a type name or inline members.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Data {
    Name(String, Span),
    Inline(Vec<NMember>),
}

/// What a definition says, by meta type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Body {
    Enum {
        values: Vec<NValue>,
        prefix: Option<String>,
    },
    Struct {
        base: Option<(String, Span)>,
        members: Vec<NMember>,
    },
    Union {
        base: Option<Data>,
        discriminator: Option<String>,
        branches: Vec<NBranch>,
    },
    Alternate {
        branches: Vec<NBranch>,
    },
    Command {
        data: Option<Data>,
        returns: Option<TypeRef>,
        generate: bool,
        success_response: bool,
        boxed: bool,
        allow_oob: bool,
        allow_preconfig: bool,
        coroutine: bool,
    },
    Event {
        data: Option<Data>,
        boxed: bool,
    },
}

/// A checked, normalised definition.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Def {
    pub meta: Meta,
    pub name: String,
    /// The expression's span (its `{`): QEMU's error location.
    pub span: Span,
    /// Index of the doc block in the schema's list of docs.
    pub doc: Option<usize>,
    pub cond: Option<IfCond>,
    pub features: Vec<NFeature>,
    pub body: Body,
}

/// `<source> member '<name>'`, formatted only when an error needs it.
#[derive(Clone, Copy)]
struct MemberSource<'a>(&'a str, &'a str);

impl fmt::Display for MemberSource<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} member '{}'", self.0, self.1)
    }
}

/// Builds diagnostics located like QEMU's.
pub(crate) struct Reporter<'a> {
    pub sources: &'a SourceMap,
}

impl Reporter<'_> {
    /// A diagnostic reported at QEMU's location `at` (line of `at`), whose
    /// precise span is `precise`, with optional `In <meta> '<name>'` context.
    pub fn diag(
        &self,
        kind: DiagnosticKind,
        at: Span,
        precise: Span,
        context: Option<(&str, &str)>,
        message: impl Into<String>,
    ) -> Diagnostic {
        let file = self.sources.get(at.file);
        let mut d = Diagnostic::new(kind, message, file.name.clone(), precise);
        d.line = at.line;
        d.col = if precise.file == at.file && precise.line == at.line {
            precise.col
        } else {
            at.col
        };
        if let Some((meta, name)) = context {
            d.context = Some(format!("In {meta} '{name}'"));
        }
        d.included_from = self.include_chain(at);
        d
    }

    /// The chain of includes leading to `at`'s file, outermost first.
    pub fn include_chain(&self, at: Span) -> Vec<(String, u32)> {
        let mut chain = Vec::new();
        let mut cur = self.sources.get(at.file).included_from;
        let mut guard = 0;
        while let Some(sp) = cur {
            let f = self.sources.get(sp.file);
            chain.push((f.name.clone(), sp.line));
            cur = f.included_from;
            guard += 1;
            if guard > 1000 {
                break;
            }
        }
        chain.reverse();
        chain
    }
}

// ---------------------------------------------------------------------
// Names

/// C, C++ and GCC keywords and a few polluted names, which QEMU's
/// `c_name()` protects with a `q_` prefix.
fn is_reserved_word(s: &str) -> bool {
    matches!(
        s,
        "auto"
            | "break"
            | "case"
            | "char"
            | "const"
            | "continue"
            | "default"
            | "do"
            | "double"
            | "else"
            | "enum"
            | "extern"
            | "float"
            | "for"
            | "goto"
            | "if"
            | "int"
            | "long"
            | "register"
            | "return"
            | "short"
            | "signed"
            | "sizeof"
            | "static"
            | "struct"
            | "switch"
            | "typedef"
            | "union"
            | "unsigned"
            | "void"
            | "volatile"
            | "while"
            | "inline"
            | "restrict"
            | "_Bool"
            | "_Complex"
            | "_Imaginary"
            | "_Alignas"
            | "_Alignof"
            | "_Atomic"
            | "_Generic"
            | "_Noreturn"
            | "_Static_assert"
            | "_Thread_local"
            | "asm"
            | "typeof"
            | "bool"
            | "catch"
            | "class"
            | "const_cast"
            | "delete"
            | "dynamic_cast"
            | "explicit"
            | "false"
            | "friend"
            | "mutable"
            | "namespace"
            | "new"
            | "operator"
            | "private"
            | "protected"
            | "public"
            | "reinterpret_cast"
            | "static_cast"
            | "template"
            | "this"
            | "throw"
            | "true"
            | "try"
            | "typeid"
            | "typename"
            | "using"
            | "virtual"
            | "wchar_t"
            | "and"
            | "and_eq"
            | "bitand"
            | "bitor"
            | "compl"
            | "not"
            | "not_eq"
            | "or"
            | "or_eq"
            | "xor"
            | "xor_eq"
            | "unix"
            | "errno"
            | "mips"
            | "sparc"
            | "i386"
            | "linux"
    )
}

/// QEMU's `c_name()`: maps a name to a C identifier.
pub(crate) fn c_name(name: &str, protect: bool) -> std::borrow::Cow<'_, str> {
    let mapped: std::borrow::Cow<'_, str> =
        if name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') {
            std::borrow::Cow::Borrowed(name)
        } else {
            name.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '_' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect::<String>()
                .into()
        };
    if protect && (is_reserved_word(&mapped) || mapped.starts_with(|c: char| c.is_ascii_digit())) {
        return format!("q_{mapped}").into();
    }
    mapped
}

/// `c_name(name, true)` as a set or map key, compared and hashed without
/// building the mapped string.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CName<'a> {
    name: &'a str,
    /// Whether `c_name` adds the `q_` prefix.
    prefixed: bool,
}

/// Longer than every reserved word, so longer names need no check.
const MAX_RESERVED_LEN: usize = 24;

impl<'a> CName<'a> {
    pub(crate) fn new(name: &'a str) -> Self {
        let plain = name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_');
        let prefixed = if name.starts_with(|c: char| c.is_ascii_digit()) {
            true
        } else if plain {
            is_reserved_word(name)
        } else if name.len() <= MAX_RESERVED_LEN {
            // Reserved words are ASCII: map into a small buffer.
            let mut buf = [0u8; MAX_RESERVED_LEN];
            let mut n = 0;
            for c in name.chars() {
                buf[n] = map_c_char(c);
                n += 1;
            }
            std::str::from_utf8(&buf[..n]).is_ok_and(is_reserved_word)
        } else {
            false
        };
        Self { name, prefixed }
    }

    fn bytes(&self) -> impl Iterator<Item = u8> + '_ {
        let prefix: &[u8] = if self.prefixed { b"q_" } else { b"" };
        prefix
            .iter()
            .copied()
            .chain(self.name.chars().map(map_c_char))
    }
}

/// Whether `c_name(name, false)` starts with `prefix` (ASCII letters,
/// digits and `_`), without building it.
pub(crate) fn c_name_starts_with(name: &str, prefix: &str) -> bool {
    name.chars()
        .map(map_c_char)
        .take(prefix.len())
        .eq(prefix.bytes())
}

/// What `c_name` maps a character to.
fn map_c_char(c: char) -> u8 {
    if c.is_ascii_alphanumeric() || c == '_' {
        c as u8
    } else {
        b'_'
    }
}

impl PartialEq for CName<'_> {
    fn eq(&self, other: &Self) -> bool {
        (self.name == other.name && self.prefixed == other.prefixed)
            || self.bytes().eq(other.bytes())
    }
}

impl Eq for CName<'_> {}

impl std::hash::Hash for CName<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // The mapped bytes, eight at a time (mapping is idempotent, so
        // bytes already mapped hash alike).
        fn feed<H: std::hash::Hasher>(state: &mut H, bytes: &[u8]) {
            let mut chunks = bytes.chunks_exact(8);
            for c in &mut chunks {
                let mut w = [0u8; 8];
                for (d, &b) in w.iter_mut().zip(c) {
                    *d = map_c_byte(b);
                }
                state.write_u64(u64::from_le_bytes(w));
            }
            for &b in chunks.remainder() {
                state.write_u8(map_c_byte(b));
            }
            state.write_u8(0xff);
        }
        if !self.prefixed && self.name.is_ascii() {
            feed(state, self.name.as_bytes());
        } else {
            // Rare: build the mapped name.
            let mapped: Vec<u8> = self.bytes().collect();
            feed(state, &mapped);
        }
    }
}

/// What `c_name` maps an ASCII character to.
fn map_c_byte(b: u8) -> u8 {
    if b.is_ascii_alphanumeric() || b == b'_' {
        b
    } else {
        b'_'
    }
}

fn is_stem(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Matches QEMU's valid-name pattern `(__RFQDN_)?(x-)?stem`; returns the stem.
pub(crate) fn name_stem(name: &str) -> Option<&str> {
    let after_x = |rest: &str| -> Option<usize> {
        // Offset of the stem within `rest`.
        if rest.len() > 2 && rest[..2].eq_ignore_ascii_case("x-") && is_stem(&rest[2..]) {
            Some(2)
        } else if is_stem(rest) {
            Some(0)
        } else {
            None
        }
    };
    if let Some(rest) = name.strip_prefix("__") {
        let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'));
        if let Some(end) = end
            && end > 0
            && rest[end..].starts_with('_')
        {
            let after = &rest[end + 1..];
            if let Some(off) = after_x(after) {
                return Some(&after[off..]);
            }
        }
    }
    after_x(name).map(|off| &name[off..])
}

// ---------------------------------------------------------------------
// The checker

pub(crate) struct ExprChecker<'a> {
    pub rep: Reporter<'a>,
    pub pragma: &'a Pragma,
    pub rules: Rules,
}

/// Per-expression context for error reporting.
#[derive(Clone, Copy)]
struct Cx<'e> {
    at: Span,
    defn: Option<(&'static str, &'e str)>,
}

mod conditions;
mod legacy;
mod names;
mod types;
mod unions;

type R<T> = Result<T, Box<Diagnostic>>;

impl ExprChecker<'_> {
    fn err(&self, cx: Cx<'_>, precise: Span, msg: impl Into<String>) -> Box<Diagnostic> {
        Box::new(
            self.rep
                .diag(DiagnosticKind::Semantic, cx.at, precise, cx.defn, msg),
        )
    }

    fn check_keys(
        &self,
        cx: Cx<'_>,
        dict: &Dict,
        sp: Span,
        source: impl fmt::Display + Copy,
        required: &[&str],
        optional: &[&str],
    ) -> R<()> {
        let pprint = |mut v: Vec<&str>| {
            v.sort_unstable();
            v.dedup();
            v.iter()
                .map(|e| format!("'{e}'"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|k| !dict.contains(k))
            .collect();
        if !missing.is_empty() {
            let s = if missing.len() > 1 { "s" } else { "" };
            return Err(self.err(
                cx,
                sp,
                format!("{source} misses key{s} {}", pprint(missing)),
            ));
        }
        let unknown: Vec<(&str, Span)> = dict
            .entries
            .iter()
            .filter(|(k, _)| {
                !required.contains(&k.name.as_str()) && !optional.contains(&k.name.as_str())
            })
            .map(|(k, _)| (k.name.as_str(), k.span))
            .collect();
        if let Some(&(_, first)) = unknown.first() {
            let s = if unknown.len() > 1 { "s" } else { "" };
            let allowed: Vec<&str> = required.iter().chain(optional).copied().collect();
            return Err(self.err(
                cx,
                first,
                format!(
                    "{source} has unknown key{s} {}\nValid keys are {}.",
                    pprint(unknown.iter().map(|u| u.0).collect()),
                    pprint(allowed)
                ),
            ));
        }
        Ok(())
    }

    fn check_flags(&self, cx: Cx<'_>, d: &Dict) -> R<()> {
        for key in ["gen", "success-response"] {
            if let Some(v) = d.get(key)
                && v.as_bool() != Some(false)
            {
                return Err(self.err(cx, v.span, format!("flag '{key}' may only use false value")));
            }
        }
        for key in ["boxed", "allow-oob", "allow-preconfig", "coroutine"] {
            if let Some(v) = d.get(key)
                && v.as_bool() != Some(true)
            {
                return Err(self.err(cx, v.span, format!("flag '{key}' may only use true value")));
            }
        }
        if d.contains("allow-oob") && d.contains("coroutine") {
            return Err(self.err(
                cx,
                cx.at,
                "flags 'allow-oob' and 'coroutine' are incompatible",
            ));
        }
        Ok(())
    }

    /// Python truthiness of a value.
    fn truthy(v: &Value) -> bool {
        match &v.kind {
            ValueKind::Str(s) => !s.is_empty(),
            ValueKind::Bool(b) => *b,
            ValueKind::List(l) => !l.is_empty(),
            ValueKind::Dict(d) => !d.entries.is_empty(),
            ValueKind::Null => false,
        }
    }

    fn check_doc(&self, cx: Cx<'_>, doc: &Doc, name: &str, meta: Meta, has_returns: bool) -> R<()> {
        if doc.symbol.as_deref() != Some(name) {
            let sym = doc.symbol.as_deref().unwrap_or("None");
            return Err(self.err(
                cx,
                doc.span.unwrap_or(cx.at),
                format!("documentation comment is for '{sym}'"),
            ));
        }
        let sec = |k: DocSectionKind| doc.sections.iter().find(|s| s.kind == k);
        let sec_err = |s: &crate::ast::DocSection, msg: &str| {
            let at = s.span.or(doc.span).unwrap_or(cx.at);
            Box::new(
                self.rep
                    .diag(DiagnosticKind::Doc, at, at, None, msg.to_owned()),
            )
        };
        if !self.rules.strict_docs {
            // The doc parser of QEMU 5.2 to 8.2 checks only this.
            if meta != Meta::Command && sec(DocSectionKind::Returns).is_some() {
                let at = doc.span.unwrap_or(cx.at);
                return Err(Box::new(self.rep.diag(
                    DiagnosticKind::Doc,
                    at,
                    at,
                    None,
                    "'Returns:' is only valid for commands",
                )));
            }
            return Ok(());
        }
        if meta == Meta::Command {
            if let Some(s) = sec(DocSectionKind::Returns)
                && !has_returns
            {
                return Err(sec_err(
                    s,
                    "'Returns' section, but command doesn't return anything",
                ));
            }
        } else {
            if let Some(s) = sec(DocSectionKind::Returns) {
                return Err(sec_err(s, "'Returns' section is only valid for commands"));
            }
            if let Some(s) = sec(DocSectionKind::Errors) {
                return Err(sec_err(s, "'Errors' section is only valid for commands"));
            }
        }
        Ok(())
    }

    /// Checks one definition expression; `doc_index` is the index its doc
    /// block will have in the schema's doc list.
    pub fn check_expr(&self, expr: &Expr, doc_index: Option<usize>) -> R<Def> {
        let d = &expr.dict;
        let mut cx = Cx {
            at: expr.span,
            defn: None,
        };
        let metas: Vec<Meta> = Meta::ALL
            .iter()
            .copied()
            .filter(|m| d.contains(m.as_str()))
            .collect();
        if self.rules.legacy {
            return self.check_expr_legacy(expr, doc_index, cx);
        }
        let [meta] = metas.as_slice() else {
            return Err(self.err(
                cx,
                expr.span,
                "expression must have exactly one key 'enum', 'struct', 'union', 'alternate', 'command', 'event'",
            ));
        };
        let meta = *meta;
        let (_, name_v) = d.entry(meta.as_str()).unwrap_or_else(|| unreachable!());
        let name = self.check_name_is_str(cx, name_v, &format!("'{}'", meta.as_str()))?;
        cx.defn = Some((meta.as_str(), name));
        let nsp = name_v.span;
        match meta {
            Meta::Event => self.check_name_upper(cx, name, nsp, "event")?,
            Meta::Command => {
                let permit_us = self
                    .pragma
                    .command_name_exceptions
                    .iter()
                    .any(|e| e == name);
                self.check_name_lower(cx, name, nsp, "command", false, permit_us)?;
            }
            _ => {
                self.check_name_camel(cx, name, nsp, meta.as_str())?;
                if name.ends_with("List") {
                    return Err(self.err(
                        cx,
                        nsp,
                        format!("{} name should not end in 'List'", meta.as_str()),
                    ));
                }
            }
        }
        if let Some(doc) = &expr.doc {
            self.check_doc(cx, doc, name, meta, d.contains("returns"))?;
        } else if self.pragma.doc_required {
            return Err(self.err(cx, expr.span, "documentation comment required"));
        }
        let m = meta.as_str();
        let (required, optional) = self.rules.keys(meta);
        self.check_keys(cx, d, expr.span, m, required, optional)?;
        let body = match meta {
            Meta::Enum => self.check_enum(cx, d, name)?,
            Meta::Union => self.check_union(cx, d, name)?,
            Meta::Alternate => self.check_alternate(cx, d)?,
            Meta::Struct => {
                let data = d.get("data").unwrap_or_else(|| unreachable!());
                let members = self.check_type_implicit(cx, data, "'data'", Some(name))?;
                let base = match d.get("base") {
                    Some(b) => Some(self.check_type_name(cx, b, "'base'")?),
                    None => None,
                };
                Body::Struct { base, members }
            }
            Meta::Command => {
                let data = self.check_command_data(cx, d)?;
                let returns = match d.get("returns") {
                    Some(r) => Some(self.check_type_name_or_array(cx, r, "'returns'")?),
                    None => None,
                };
                Body::Command {
                    data,
                    returns,
                    generate: d.get("gen").and_then(Value::as_bool).unwrap_or(true),
                    success_response: d
                        .get("success-response")
                        .and_then(Value::as_bool)
                        .unwrap_or(true),
                    boxed: d.get("boxed").is_some_and(Self::truthy),
                    allow_oob: d.get("allow-oob").is_some_and(Self::truthy),
                    allow_preconfig: d.get("allow-preconfig").is_some_and(Self::truthy),
                    coroutine: d.get("coroutine").is_some_and(Self::truthy),
                }
            }
            Meta::Event => {
                let data = self.check_command_data(cx, d)?;
                Body::Event {
                    data,
                    boxed: d.get("boxed").is_some_and(Self::truthy),
                }
            }
        };
        let cond = self.check_if(cx, d, m)?;
        let features = self.check_features(cx, d.get("features"))?;
        self.check_flags(cx, d)?;
        Ok(Def {
            meta,
            name: name.to_owned(),
            span: expr.span,
            doc: doc_index,
            cond,
            features,
            body,
        })
    }

    fn check_command_data(&self, cx: Cx<'_>, d: &Dict) -> R<Option<Data>> {
        let args = d.get("data");
        if d.get("boxed").is_some_and(Self::truthy) {
            let Some(args) = args else {
                return Err(self.err(cx, cx.at, "'boxed': true requires 'data'"));
            };
            let (n, sp) = self.check_type_name(cx, args, "'data'")?;
            return Ok(Some(Data::Name(n, sp)));
        }
        self.check_data_or_implicit(cx, args, "'data'", None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems() {
        assert_eq!(name_stem("foo"), Some("foo"));
        assert_eq!(name_stem("x-foo"), Some("foo"));
        assert_eq!(name_stem("__com.redhat_x-foo"), Some("foo"));
        assert_eq!(name_stem("__com.redhat_foo"), Some("foo"));
        assert_eq!(name_stem("x-1"), Some("x-1"));
        assert_eq!(name_stem("__foo"), None);
        assert_eq!(name_stem("1foo"), None);
        assert_eq!(name_stem("a.b"), None);
        assert_eq!(name_stem(""), None);
    }

    #[test]
    fn c_name_keys_match_c_name() {
        let names = [
            "a-b.c",
            "a_b_c",
            "int",
            "q_int",
            "1a",
            "q_1a",
            "not-eq",
            "not_eq",
            "q_not_eq",
            "é-x",
            "__x",
            "x",
            "a-b",
            "a_b",
            "abcdefghijklmnopqrstuvwxyz-0123",
            "abcdefghijklmnopqrstuvwxyz_0123",
            "é",
            "-",
            "_",
            "éééééééééé",
            "__________",
        ];
        let hasher =
            std::hash::BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default();
        let hash = |n: &str| std::hash::BuildHasher::hash_one(&hasher, CName::new(n));
        for a in names {
            for b in names {
                assert_eq!(
                    CName::new(a) == CName::new(b),
                    c_name(a, true) == c_name(b, true),
                    "{a} vs {b}"
                );
                if CName::new(a) == CName::new(b) {
                    assert_eq!(hash(a), hash(b), "{a} vs {b}");
                }
            }
            let key: String = CName::new(a).bytes().map(char::from).collect();
            assert_eq!(key, c_name(a, true).replace(|c: char| !c.is_ascii(), "_"));
        }
    }

    #[test]
    fn c_name_prefixes() {
        for (name, prefix) in [
            ("has-x", "has_"),
            ("has_x", "has_"),
            ("hasx", "has_"),
            ("ha", "has_"),
            ("q-a", "q_"),
            ("qé", "q_"),
            ("q", "q_"),
        ] {
            assert_eq!(
                c_name_starts_with(name, prefix),
                c_name(name, false).starts_with(prefix),
                "{name}"
            );
        }
    }

    #[test]
    fn c_names() {
        assert_eq!(c_name("a-b.c", false), "a_b_c");
        assert_eq!(c_name("int", true), "q_int");
        assert_eq!(c_name("int", false), "int");
        assert_eq!(c_name("1a", true), "q_1a");
    }
}
