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

type R<T> = Result<T, Box<Diagnostic>>;

impl ExprChecker<'_> {
    fn err(&self, cx: Cx<'_>, precise: Span, msg: impl Into<String>) -> Box<Diagnostic> {
        Box::new(
            self.rep
                .diag(DiagnosticKind::Semantic, cx.at, precise, cx.defn, msg),
        )
    }

    fn check_name_is_str<'v>(&self, cx: Cx<'_>, v: &'v Value, source: &str) -> R<&'v str> {
        v.as_str()
            .ok_or_else(|| self.err(cx, v.span, format!("{source} requires a string name")))
    }

    fn check_name_str<'n>(
        &self,
        cx: Cx<'_>,
        name: &'n str,
        sp: Span,
        source: impl fmt::Display + Copy,
    ) -> R<&'n str> {
        match name_stem(name) {
            Some(stem) if !c_name_starts_with(name, "q_") => Ok(stem),
            _ => Err(self.err(cx, sp, format!("{source} has an invalid name"))),
        }
    }

    fn check_name_upper(
        &self,
        cx: Cx<'_>,
        name: &str,
        sp: Span,
        source: impl fmt::Display + Copy,
    ) -> R<()> {
        let stem = self.check_name_str(cx, name, sp, source)?;
        if stem.chars().any(|c| c.is_ascii_lowercase() || c == '-') {
            return Err(self.err(
                cx,
                sp,
                format!("name of {source} must not use lowercase or '-'"),
            ));
        }
        Ok(())
    }

    fn check_name_lower(
        &self,
        cx: Cx<'_>,
        name: &str,
        sp: Span,
        source: impl fmt::Display + Copy,
        permit_upper: bool,
        permit_underscore: bool,
    ) -> R<()> {
        let stem = self.check_name_str(cx, name, sp, source)?;
        if (!permit_upper && stem.chars().any(|c| c.is_ascii_uppercase()))
            || (!permit_underscore && stem.contains('_'))
        {
            return Err(self.err(
                cx,
                sp,
                format!("name of {source} must not use uppercase or '_'"),
            ));
        }
        Ok(())
    }

    fn check_name_camel(
        &self,
        cx: Cx<'_>,
        name: &str,
        sp: Span,
        source: impl fmt::Display + Copy,
    ) -> R<()> {
        let stem = self.check_name_str(cx, name, sp, source)?;
        // [A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*
        let ok = stem.starts_with(|c: char| c.is_ascii_uppercase())
            && stem.chars().all(|c| c.is_ascii_alphanumeric())
            && stem[1..].chars().any(|c| c.is_ascii_lowercase());
        if !ok {
            return Err(self.err(cx, sp, format!("name of {source} must use CamelCase")));
        }
        Ok(())
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

    fn check_if(
        &self,
        cx: Cx<'_>,
        dict: &Dict,
        source: impl fmt::Display + Copy,
    ) -> R<Option<IfCond>> {
        let Some(v) = dict.get("if") else {
            return Ok(None);
        };
        if self.rules.legacy {
            return self.check_if_legacy(cx, v, source).map(Some);
        }
        self.check_if_cond(cx, v, source).map(Some)
    }

    fn check_if_legacy(
        &self,
        cx: Cx<'_>,
        v: &Value,
        source: impl fmt::Display + Copy,
    ) -> R<IfCond> {
        let one = |v: &Value| -> R<String> {
            let Some(s) = v.as_str() else {
                return Err(self.err(
                    cx,
                    v.span,
                    format!("'if' condition of {source} must be a string or a list of strings"),
                ));
            };
            if s.trim().is_empty() {
                return Err(self.err(
                    cx,
                    v.span,
                    format!("'if' condition '{s}' of {source} makes no sense"),
                ));
            }
            Ok(s.to_owned())
        };
        match &v.kind {
            ValueKind::List(items) => {
                if items.is_empty() {
                    return Err(self.err(
                        cx,
                        v.span,
                        format!("'if' condition [] of {source} is useless"),
                    ));
                }
                let mut out = Vec::new();
                for it in items {
                    out.push(IfCond::Name(one(it)?));
                }
                Ok(IfCond::All(out))
            }
            _ => Ok(IfCond::Name(one(v)?)),
        }
    }

    fn check_if_cond(&self, cx: Cx<'_>, v: &Value, source: impl fmt::Display + Copy) -> R<IfCond> {
        match &v.kind {
            ValueKind::Str(s) => {
                let ok = s.starts_with(|c: char| c.is_ascii_uppercase())
                    && s.chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
                if !ok {
                    return Err(self.err(
                        cx,
                        v.span,
                        format!("'if' condition '{s}' of {source} is not a valid identifier"),
                    ));
                }
                Ok(IfCond::Name(s.clone()))
            }
            ValueKind::Dict(d) => {
                let src = format!("'if' condition of {source}");
                self.check_keys(cx, d, v.span, &src, &[], &["all", "any", "not"])?;
                if d.entries.len() != 1 {
                    return Err(self.err(
                        cx,
                        v.span,
                        format!("'if' condition of {source} has conflicting keys"),
                    ));
                }
                let (k, val) = &d.entries[0];
                match k.name.as_str() {
                    "not" => Ok(IfCond::Not(Box::new(self.check_if_cond(cx, val, source)?))),
                    op => {
                        let Some(items) = val.as_list() else {
                            return Err(self.err(
                                cx,
                                val.span,
                                format!("'{op}' condition of {source} must be an array"),
                            ));
                        };
                        if items.is_empty() {
                            return Err(self.err(
                                cx,
                                val.span,
                                format!("'if' condition [] of {source} is useless"),
                            ));
                        }
                        let mut out = Vec::new();
                        for it in items {
                            out.push(self.check_if_cond(cx, it, source)?);
                        }
                        Ok(if op == "all" {
                            IfCond::All(out)
                        } else {
                            IfCond::Any(out)
                        })
                    }
                }
            }
            _ => Err(self.err(
                cx,
                v.span,
                format!("'if' condition of {source} must be a string or an object"),
            )),
        }
    }

    fn check_features(&self, cx: Cx<'_>, v: Option<&Value>) -> R<Vec<NFeature>> {
        let Some(v) = v else {
            return Ok(Vec::new());
        };
        let Some(items) = v.as_list() else {
            return Err(self.err(cx, v.span, "'features' must be an array"));
        };
        let mut out = Vec::new();
        for f in items {
            let source = "'features' member";
            let (name_v, dict) = match &f.kind {
                ValueKind::Dict(d) => {
                    self.check_keys(cx, d, f.span, source, &["name"], &["if"])?;
                    (d.get("name").unwrap_or(f), Some(d))
                }
                _ => (f, None),
            };
            let name = self.check_name_is_str(cx, name_v, source)?;
            let source = format!("{source} '{name}'");
            if self.rules.legacy {
                self.check_name_legacy(cx, name, name_v.span, &source, false, false, false)?;
            } else {
                self.check_name_lower(cx, name, name_v.span, &source, false, false)?;
            }
            let cond = match dict {
                Some(d) => self.check_if(cx, d, &source)?,
                None => None,
            };
            out.push(NFeature {
                name: name.to_owned(),
                span: name_v.span,
                cond,
            });
        }
        Ok(out)
    }

    fn check_type_name(
        &self,
        cx: Cx<'_>,
        v: &Value,
        source: impl fmt::Display + Copy,
    ) -> R<(String, Span)> {
        match v.as_str() {
            Some(s) => Ok((s.to_owned(), v.span)),
            None => Err(self.err(cx, v.span, format!("{source} should be a type name"))),
        }
    }

    fn check_type_name_or_array(
        &self,
        cx: Cx<'_>,
        v: &Value,
        source: impl fmt::Display + Copy,
    ) -> R<TypeRef> {
        match &v.kind {
            ValueKind::Str(s) => Ok(TypeRef {
                name: s.clone(),
                array: false,
                span: v.span,
            }),
            ValueKind::List(items) => match items.as_slice() {
                [one] if one.as_str().is_some() => Ok(TypeRef {
                    name: one.as_str().unwrap_or_default().to_owned(),
                    array: true,
                    span: one.span,
                }),
                _ => Err(self.err(
                    cx,
                    v.span,
                    format!("{source}: array type must contain single type name"),
                )),
            },
            _ => Err(self.err(
                cx,
                v.span,
                format!("{source} should be a type name or array"),
            )),
        }
    }

    /// A member's value, normalised to a dictionary view: `(type, dict)`.
    fn member_dict(v: &Value) -> (Option<&Value>, Option<&Dict>) {
        match &v.kind {
            ValueKind::Dict(d) => (d.get("type"), Some(d)),
            _ => (Some(v), None),
        }
    }

    fn check_type_implicit(
        &self,
        cx: Cx<'_>,
        v: &Value,
        source: &str,
        parent: Option<&str>,
    ) -> R<Vec<NMember>> {
        let Some(d) = v.as_dict() else {
            return Err(self.err(
                cx,
                v.span,
                format!("{source} should be an object or type name"),
            ));
        };
        let permissive =
            parent.is_some_and(|p| self.pragma.member_name_exceptions.iter().any(|e| e == p));
        let mut out = Vec::new();
        for (key, arg) in &d.entries {
            let key_source = MemberSource(source, &key.name);
            let (name, optional) = match key.name.strip_prefix('*') {
                Some(n) => (n, true),
                None => (key.name.as_str(), false),
            };
            self.check_name_lower(cx, name, key.span, key_source, permissive, permissive)?;
            if name == "u" || c_name_starts_with(name, "has_") {
                return Err(self.err(cx, key.span, format!("{key_source} uses reserved name")));
            }
            let (ty, dict) = Self::member_dict(arg);
            let mut cond = None;
            let mut features = Vec::new();
            if let Some(dict) = dict {
                self.check_keys(
                    cx,
                    dict,
                    arg.span,
                    key_source,
                    &["type"],
                    &["if", "features"],
                )?;
                cond = self.check_if(cx, dict, key_source)?;
                features = self.check_features(cx, dict.get("features"))?;
            }
            let ty = ty.unwrap_or(arg);
            let ty = self.check_type_name_or_array(cx, ty, key_source)?;
            out.push(NMember {
                name: name.to_owned(),
                optional,
                ty,
                cond,
                features,
                span: key.span,
            });
        }
        Ok(out)
    }

    fn check_data_or_implicit(
        &self,
        cx: Cx<'_>,
        v: Option<&Value>,
        source: &str,
        parent: Option<&str>,
    ) -> R<Option<Data>> {
        match v {
            None => Ok(None),
            Some(v) => match &v.kind {
                ValueKind::Str(s) => Ok(Some(Data::Name(s.clone(), v.span))),
                _ => Ok(Some(Data::Inline(
                    self.check_type_implicit(cx, v, source, parent)?,
                ))),
            },
        }
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
                let permit_us = self.rules.legacy
                    || self
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

    /// QEMU 5.1's name check: a valid name, and no upper case unless
    /// permitted.
    #[allow(clippy::too_many_arguments)]
    fn check_name_legacy(
        &self,
        cx: Cx<'_>,
        name: &str,
        sp: Span,
        source: &str,
        allow_optional: bool,
        enum_member: bool,
        permit_upper: bool,
    ) -> R<()> {
        let mut member = name.to_owned();
        if allow_optional && let Some(n) = name.strip_prefix('*') {
            member = n.to_owned();
        }
        if enum_member && member.starts_with(|c: char| c.is_ascii_digit()) {
            member = format!("D{member}");
        }
        if name_stem(&member).is_none() || c_name_starts_with(&member, "q_") {
            return Err(self.err(cx, sp, format!("{source} has an invalid name")));
        }
        if !permit_upper && name.to_lowercase() != name {
            return Err(self.err(cx, sp, format!("{source} uses uppercase in name")));
        }
        Ok(())
    }

    /// QEMU 5.1's `check_type()`: `allow_dict` is `Some(parent)` when an
    /// inline object is allowed.
    fn check_type_legacy(
        &self,
        cx: Cx<'_>,
        v: Option<&Value>,
        source: &str,
        allow_array: bool,
        allow_dict: Option<Option<&str>>,
    ) -> R<Option<Data>> {
        let Some(v) = v else { return Ok(None) };
        match &v.kind {
            ValueKind::Null => Ok(None),
            ValueKind::List(items) => {
                if !allow_array {
                    return Err(self.err(cx, v.span, format!("{source} cannot be an array")));
                }
                match items.as_slice() {
                    [one] if one.as_str().is_some() => Ok(Some(Data::Name(
                        one.as_str().unwrap_or_default().to_owned(),
                        one.span,
                    ))),
                    _ => Err(self.err(
                        cx,
                        v.span,
                        format!("{source}: array type must contain single type name"),
                    )),
                }
            }
            ValueKind::Str(s) => Ok(Some(Data::Name(s.clone(), v.span))),
            _ => {
                let Some(parent) = allow_dict else {
                    return Err(self.err(cx, v.span, format!("{source} should be a type name")));
                };
                let Some(d) = v.as_dict() else {
                    return Err(self.err(
                        cx,
                        v.span,
                        format!("{source} should be an object or type name"),
                    ));
                };
                let permit_upper = parent
                    .is_some_and(|p| self.pragma.member_name_exceptions.iter().any(|e| e == p));
                let mut out = Vec::new();
                for (key, arg) in &d.entries {
                    let key_source = format!("{source} member '{}'", key.name);
                    self.check_name_legacy(
                        cx,
                        &key.name,
                        key.span,
                        &key_source,
                        true,
                        false,
                        permit_upper,
                    )?;
                    let cn = c_name(&key.name, false);
                    if cn == "u" || cn.starts_with("has_") {
                        return Err(self.err(
                            cx,
                            key.span,
                            format!("{key_source} uses reserved name"),
                        ));
                    }
                    let (ty, dict) = Self::member_dict(arg);
                    let mut cond = None;
                    let mut features = Vec::new();
                    if let Some(dict) = dict {
                        self.check_keys(
                            cx,
                            dict,
                            arg.span,
                            &key_source,
                            &["type"],
                            &["if", "features"],
                        )?;
                        cond = self.check_if(cx, dict, &key_source)?;
                        features = self.check_features(cx, dict.get("features"))?;
                    }
                    let ty = self.type_ref_legacy(cx, ty.unwrap_or(arg), &key_source, true)?;
                    let (name, optional) = match key.name.strip_prefix('*') {
                        Some(n) => (n, true),
                        None => (key.name.as_str(), false),
                    };
                    out.push(NMember {
                        name: name.to_owned(),
                        optional,
                        ty,
                        cond,
                        features,
                        span: key.span,
                    });
                }
                Ok(Some(Data::Inline(out)))
            }
        }
    }

    fn type_ref_legacy(
        &self,
        cx: Cx<'_>,
        v: &Value,
        source: &str,
        allow_array: bool,
    ) -> R<TypeRef> {
        match self.check_type_legacy(cx, Some(v), source, allow_array, None)? {
            Some(Data::Name(name, span)) => Ok(TypeRef {
                name,
                array: v.as_list().is_some(),
                span,
            }),
            _ => Err(self.err(cx, v.span, format!("{source} should be a type name"))),
        }
    }

    fn check_branches_legacy(&self, cx: Cx<'_>, data: &Dict, allow_array: bool) -> R<Vec<NBranch>> {
        let mut out = Vec::new();
        for (key, value) in &data.entries {
            let source = format!("'data' member '{}'", key.name);
            self.check_name_legacy(cx, &key.name, key.span, &source, false, false, false)?;
            let (ty, dict) = Self::member_dict(value);
            let mut cond = None;
            if let Some(dict) = dict {
                self.check_keys(cx, dict, value.span, &source, &["type"], &["if"])?;
                cond = self.check_if(cx, dict, &source)?;
            }
            let ty = self.type_ref_legacy(cx, ty.unwrap_or(value), &source, allow_array)?;
            out.push(NBranch {
                name: key.name.clone(),
                ty,
                cond,
                span: key.span,
            });
        }
        Ok(out)
    }

    /// `check_exprs()` by QEMU 5.1's rules.
    fn check_expr_legacy<'e>(
        &self,
        expr: &'e Expr,
        doc_index: Option<usize>,
        mut cx: Cx<'e>,
    ) -> R<Def> {
        let d = &expr.dict;
        let order = [
            Meta::Enum,
            Meta::Union,
            Meta::Alternate,
            Meta::Struct,
            Meta::Command,
            Meta::Event,
        ];
        let Some(meta) = order.into_iter().find(|m| d.contains(m.as_str())) else {
            return Err(self.err(cx, expr.span, "expression is missing metatype"));
        };
        let m = meta.as_str();
        let (_, name_v) = d.entry(m).unwrap_or_else(|| unreachable!());
        let name = self.check_name_is_str(cx, name_v, &format!("'{m}'"))?;
        cx.defn = Some((m, name));
        let nsp = name_v.span;
        self.check_name_legacy(cx, name, nsp, m, false, false, true)?;
        for suffix in ["Kind", "List"] {
            if name.ends_with(suffix) {
                return Err(self.err(cx, nsp, format!("{m} name should not end in '{suffix}'")));
            }
        }
        if let Some(doc) = &expr.doc {
            if doc.symbol.as_deref() != Some(name) {
                let sym = doc.symbol.as_deref().unwrap_or("None");
                return Err(self.err(cx, cx.at, format!("documentation comment is for '{sym}'")));
            }
            if meta != Meta::Command
                && doc
                    .sections
                    .iter()
                    .any(|s| s.kind == DocSectionKind::Returns)
            {
                let at = doc.span.unwrap_or(cx.at);
                return Err(Box::new(self.rep.diag(
                    DiagnosticKind::Doc,
                    at,
                    at,
                    None,
                    "'Returns:' is only valid for commands",
                )));
            }
        } else if self.pragma.doc_required {
            return Err(self.err(cx, expr.span, "documentation comment required"));
        }
        let (required, optional) = self.rules.keys(meta);
        self.check_keys(cx, d, expr.span, m, required, optional)?;
        let not_null = |v: &&Value| v.kind != ValueKind::Null;
        let body = match meta {
            Meta::Enum => self.check_enum(cx, d, name)?,
            Meta::Union => {
                let data = d.get("data").unwrap_or_else(|| unreachable!());
                let base_v = d.get("base").filter(not_null);
                let disc_v = d.get("discriminator").filter(not_null);
                let (base, discriminator) = match disc_v {
                    None => {
                        if base_v.is_some() {
                            return Err(self.err(cx, cx.at, "'base' requires 'discriminator'"));
                        }
                        (None, None)
                    }
                    Some(dv) => {
                        let base =
                            self.check_type_legacy(cx, base_v, "'base'", false, Some(Some(name)))?;
                        if base_v.is_none_or(|b| !Self::truthy(b)) {
                            return Err(self.err(cx, cx.at, "'discriminator' requires 'base'"));
                        }
                        let disc = self.check_name_is_str(cx, dv, "'discriminator'")?;
                        (base, Some(disc.to_owned()))
                    }
                };
                let Some(members) = data.as_dict() else {
                    return Err(self.err(cx, data.span, "'data' must be an object"));
                };
                let branches = self.check_branches_legacy(cx, members, base.is_none())?;
                Body::Union {
                    base,
                    discriminator,
                    branches,
                }
            }
            Meta::Alternate => {
                let data = d.get("data").unwrap_or_else(|| unreachable!());
                if !Self::truthy(data) {
                    return Err(self.err(cx, data.span, "'data' must not be empty"));
                }
                let Some(members) = data.as_dict() else {
                    return Err(self.err(cx, data.span, "'data' must be an object"));
                };
                Body::Alternate {
                    branches: self.check_branches_legacy(cx, members, false)?,
                }
            }
            Meta::Struct => {
                let members = match self.check_type_legacy(
                    cx,
                    d.get("data"),
                    "'data'",
                    false,
                    Some(Some(name)),
                )? {
                    Some(Data::Inline(ms)) => ms,
                    Some(Data::Name(_, sp)) => {
                        return Err(self.err(cx, sp, "'data' should be an object or type name"));
                    }
                    None => Vec::new(),
                };
                let base = match self.check_type_legacy(cx, d.get("base"), "'base'", false, None)? {
                    Some(Data::Name(n, sp)) => Some((n, sp)),
                    _ => None,
                };
                Body::Struct { base, members }
            }
            Meta::Command => {
                let boxed = d.get("boxed").is_some_and(Self::truthy);
                let args = d.get("data").filter(not_null);
                if boxed && args.is_none() {
                    return Err(self.err(cx, cx.at, "'boxed': true requires 'data'"));
                }
                let data =
                    self.check_type_legacy(cx, args, "'data'", false, (!boxed).then_some(None))?;
                let returns = match d.get("returns").filter(not_null) {
                    Some(r) => Some(self.type_ref_legacy(cx, r, "'returns'", true)?),
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
                    boxed,
                    allow_oob: d.get("allow-oob").is_some_and(Self::truthy),
                    allow_preconfig: d.get("allow-preconfig").is_some_and(Self::truthy),
                    coroutine: d.get("coroutine").is_some_and(Self::truthy),
                }
            }
            Meta::Event => {
                let boxed = d.get("boxed").is_some_and(Self::truthy);
                let args = d.get("data").filter(not_null);
                if boxed && args.is_none() {
                    return Err(self.err(cx, cx.at, "'boxed': true requires 'data'"));
                }
                let data =
                    self.check_type_legacy(cx, args, "'data'", false, (!boxed).then_some(None))?;
                Body::Event { data, boxed }
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

    fn check_enum(&self, cx: Cx<'_>, d: &Dict, name: &str) -> R<Body> {
        let data = d.get("data").unwrap_or_else(|| unreachable!());
        let Some(items) = data.as_list() else {
            return Err(self.err(cx, data.span, "'data' must be an array"));
        };
        let prefix = match d.get("prefix") {
            None => None,
            Some(p) => match p.as_str() {
                Some(s) => Some(s.to_owned()),
                None => return Err(self.err(cx, p.span, "'prefix' must be a string")),
            },
        };
        let permissive = self.pragma.member_name_exceptions.iter().any(|e| e == name);
        let mut values = Vec::new();
        for item in items {
            let source = "'data' member";
            let (name_v, dict) = match &item.kind {
                ValueKind::Dict(md) => {
                    let optional: &[&str] = if self.rules.legacy {
                        &["if"]
                    } else {
                        &["if", "features"]
                    };
                    self.check_keys(cx, md, item.span, source, &["name"], optional)?;
                    (md.get("name").unwrap_or(item), Some(md))
                }
                _ => (item, None),
            };
            let mname = self.check_name_is_str(cx, name_v, source)?;
            let source = MemberSource("'data'", mname);
            let checked: std::borrow::Cow<'_, str> =
                if mname.starts_with(|c: char| c.is_ascii_digit()) {
                    format!("d{mname}").into()
                } else {
                    mname.into()
                };
            if self.rules.legacy {
                self.check_name_legacy(
                    cx,
                    mname,
                    name_v.span,
                    &source.to_string(),
                    false,
                    true,
                    permissive,
                )?;
            } else {
                self.check_name_lower(cx, &checked, name_v.span, source, permissive, permissive)?;
            }
            let (cond, features) = match dict {
                Some(md) => (
                    self.check_if(cx, md, source)?,
                    self.check_features(cx, md.get("features"))?,
                ),
                None => (None, Vec::new()),
            };
            values.push(NValue {
                name: mname.to_owned(),
                span: name_v.span,
                cond,
                features,
            });
        }
        Ok(Body::Enum { values, prefix })
    }

    fn check_branches(
        &self,
        cx: Cx<'_>,
        data: &Dict,
        check_names: bool,
        arrays: bool,
    ) -> R<Vec<NBranch>> {
        let mut out = Vec::new();
        for (key, value) in &data.entries {
            let source = MemberSource("'data'", &key.name);
            if check_names {
                self.check_name_lower(cx, &key.name, key.span, source, false, false)?;
            }
            let (ty, dict) = Self::member_dict(value);
            let mut cond = None;
            if let Some(dict) = dict {
                self.check_keys(cx, dict, value.span, source, &["type"], &["if"])?;
                cond = self.check_if(cx, dict, source)?;
            }
            let ty = ty.unwrap_or(value);
            let ty = if arrays {
                self.check_type_name_or_array(cx, ty, source)?
            } else {
                let (name, span) = self.check_type_name(cx, ty, source)?;
                TypeRef {
                    name,
                    array: false,
                    span,
                }
            };
            out.push(NBranch {
                name: key.name.clone(),
                ty,
                cond,
                span: key.span,
            });
        }
        Ok(out)
    }

    fn check_union(&self, cx: Cx<'_>, d: &Dict, name: &str) -> R<Body> {
        let base = self.check_data_or_implicit(cx, d.get("base"), "'base'", Some(name))?;
        let discriminator = match d.get("discriminator") {
            None => None,
            Some(v) => Some(self.check_name_is_str(cx, v, "'discriminator'")?.to_owned()),
        };
        let data = d.get("data").unwrap_or_else(|| unreachable!());
        let Some(members) = data.as_dict() else {
            return Err(self.err(cx, data.span, "'data' must be an object"));
        };
        if self.rules.legacy && discriminator.is_none() {
            if base.is_some() {
                return Err(self.err(cx, cx.at, "'base' requires 'discriminator'"));
            }
            // A simple union: branch names are members of an implicit enum.
            let branches = self.check_branches(cx, members, true, true)?;
            return Ok(Body::Union {
                base,
                discriminator,
                branches,
            });
        }
        if self.rules.legacy && base.is_none() {
            return Err(self.err(cx, cx.at, "'discriminator' requires 'base'"));
        }
        let branches = self.check_branches(cx, members, false, false)?;
        Ok(Body::Union {
            base,
            discriminator,
            branches,
        })
    }

    fn check_alternate(&self, cx: Cx<'_>, d: &Dict) -> R<Body> {
        let data = d.get("data").unwrap_or_else(|| unreachable!());
        if !Self::truthy(data) {
            return Err(self.err(cx, data.span, "'data' must not be empty"));
        }
        let Some(members) = data.as_dict() else {
            return Err(self.err(cx, data.span, "'data' must be an object"));
        };
        let branches = self.check_branches(cx, members, true, true)?;
        Ok(Body::Alternate { branches })
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
