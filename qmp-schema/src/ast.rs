//! The parse tree: what the QAPI source parser produces and the checker
//! consumes.
//!
//! This mirrors QEMU's `QAPIExpression`: each top-level expression is a
//! dictionary whose values are strings, booleans, lists or dictionaries
//! (the QAPI language has no numbers and no `null`). Unlike QEMU's, every
//! key and value keeps its own [`Span`], so diagnostics can point at the
//! exact offending token. `include` and `pragma` directives are handled by
//! the parser and still appear here (as [`Directive`]s) so that tools such as
//! the facts-only extractor can reproduce the file structure.

use crate::source::Span;

/// A value in a QAPI expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    /// What the value is.
    pub kind: ValueKind,
    /// Where it is, from its first to its last byte.
    pub span: Span,
}

/// The kinds of values the QAPI language has.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueKind {
    /// `'text'`
    Str(String),
    /// `true` / `false`
    Bool(bool),
    /// `[ ... ]`
    List(Vec<Value>),
    /// `{ 'key': value, ... }`
    Dict(Dict),
    /// `null`: only the language before QEMU 6.0 has it (where QEMU's
    /// checks mostly treat it as an absent value).
    Null,
}

/// A dictionary, in source order. Keys are unique (the parser rejects
/// duplicates, as QEMU does).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Dict {
    /// The entries in source order.
    pub entries: Vec<(Key, Value)>,
}

/// A dictionary key.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    /// The key's text.
    pub name: String,
    /// Where the key's string literal is.
    pub span: Span,
}

impl Dict {
    /// The value for `key`, if present.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(_, v)| v)
    }

    /// The entry for `key`, if present.
    pub fn entry(&self, key: &str) -> Option<(&Key, &Value)> {
        self.entries
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(k, v)| (k, v))
    }

    /// Whether `key` is present.
    pub fn contains(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The keys in source order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k.name.as_str())
    }
}

impl Value {
    /// The string, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            ValueKind::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The dictionary, if this is one.
    pub fn as_dict(&self) -> Option<&Dict> {
        match &self.kind {
            ValueKind::Dict(d) => Some(d),
            _ => None,
        }
    }

    /// The list, if this is one.
    pub fn as_list(&self) -> Option<&[Value]> {
        match &self.kind {
            ValueKind::List(l) => Some(l),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match &self.kind {
            ValueKind::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

/// One top-level item of a parsed file, in source order.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// A definition expression (`struct`, `enum`, `command`, ...), with the
    /// doc comment block attached to it, if any.
    Expr(Expr),
    /// `{ 'include': 'file.json' }` or `{ 'pragma': {...} }`.
    Directive(Directive),
    /// A free-form doc comment block (not attached to a definition), such as
    /// a section heading.
    Doc(Doc),
}

/// A definition expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// The expression's dictionary.
    pub dict: Dict,
    /// Where the expression starts (its `{`); QEMU reports most semantic
    /// errors at this line.
    pub span: Span,
    /// The definition doc comment block, if one precedes it.
    pub doc: Option<Doc>,
}

/// An `include` or `pragma` directive.
#[derive(Debug, Clone, PartialEq)]
pub struct Directive {
    /// The directive's dictionary, as written.
    pub dict: Dict,
    /// Where the directive starts.
    pub span: Span,
}

/// A `##` doc comment block, as parsed (mirrors QEMU's `QAPIDoc`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Doc {
    /// Where the block's first line (`##`) is.
    pub span: Option<Span>,
    /// The symbol a definition doc block documents (`# @name:` on its first
    /// line), or `None` for a free-form block.
    pub symbol: Option<String>,
    /// All sections in textual order. The first is always the untagged body
    /// section (possibly empty).
    pub sections: Vec<DocSection>,
}

/// One section of a doc comment block.
#[derive(Debug, Clone, PartialEq)]
pub struct DocSection {
    /// What kind of section this is.
    pub kind: DocSectionKind,
    /// For member and feature sections, the member or feature name.
    pub name: Option<String>,
    /// The section's text without its tag, with trailing newlines removed.
    pub text: String,
    /// Where the section begins.
    pub span: Option<Span>,
    /// The tag as written for sections of the older language that QEMU 10
    /// no longer has (`Note`, `Notes`, `Example`, `Examples`); such
    /// sections have kind [`DocSectionKind::Plain`]. `None` otherwise.
    pub tag: Option<String>,
}

/// The kinds of doc sections (QEMU's `QAPIDoc.Kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocSectionKind {
    /// Untagged text.
    Plain,
    /// `@member: ...`
    Member,
    /// `@feature: ...` under `Features:`
    Feature,
    /// `Returns: ...`
    Returns,
    /// `Errors: ...`
    Errors,
    /// `Since: ...`
    Since,
    /// `TODO: ...`
    Todo,
}

impl Doc {
    /// The text of the `Since:` section, trimmed, if there is one.
    pub fn since(&self) -> Option<&str> {
        self.sections
            .iter()
            .find(|s| s.kind == DocSectionKind::Since)
            .map(|s| s.text.trim())
    }

    /// The description of a member (`@name:` section), if documented.
    pub fn member(&self, name: &str) -> Option<&DocSection> {
        self.sections
            .iter()
            .find(|s| s.kind == DocSectionKind::Member && s.name.as_deref() == Some(name))
    }

    /// The description of a feature, if documented.
    pub fn feature(&self, name: &str) -> Option<&DocSection> {
        self.sections
            .iter()
            .find(|s| s.kind == DocSectionKind::Feature && s.name.as_deref() == Some(name))
    }

    /// The body (first, untagged) section's text.
    pub fn body(&self) -> &str {
        self.sections.first().map_or("", |s| s.text.as_str())
    }
}

/// The result of parsing a schema file and everything it includes.
///
/// Like QEMU's parser, items are flat and in reading order: an `include`
/// directive is immediately followed by the items of the included file
/// (unless that file was already included, in which case nothing follows).
/// Each item's span names the file it came from.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    /// Every file read.
    pub sources: crate::source::SourceMap,
    /// All items of all files, in reading order.
    pub items: Vec<Item>,
    /// The pragmas in effect after reading everything.
    pub pragma: crate::model::Pragma,
    /// The language level the files were read with.
    pub level: crate::options::Level,
}
