//! Rust names for QAPI names.
//!
//! * types and enum variants: `UpperCamelCase` (heck);
//! * fields and methods: `snake_case`;
//! * a name that starts with a digit after conversion gets a prefix (`V` for
//!   camel case, `_` for snake case);
//! * Rust keywords become raw identifiers (`r#type`) where the language
//!   allows it, otherwise (`self`, `Self`, `super`, `crate`, `_`) get a `_`
//!   suffix;
//! * clashes after conversion (`a-b` vs `a_b`) are resolved by
//!   [`Namer::unique`]: the first claimant keeps the name, later ones get
//!   a numeric suffix, in definition order, so the result is deterministic.

use std::collections::HashSet;

use heck::{ToSnakeCase, ToUpperCamelCase};
use proc_macro2::{Ident, Span};

/// Keywords that can be written as raw identifiers.
const RAW_OK: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "do", "dyn",
    "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let",
    "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref", "return",
    "static", "struct", "trait", "true", "try", "type", "typeof", "union", "unsafe", "unsized",
    "use", "virtual", "where", "while", "yield",
];

/// Keywords that cannot be raw identifiers.
const RAW_NOT_OK: &[&str] = &["self", "Self", "super", "crate", "_"];

/// Strips characters heck would drop silently, keeping word boundaries.
fn words(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// `UpperCamelCase` form of a QAPI name, as a string (not yet unique).
pub fn camel(name: &str) -> String {
    let mut s = words(name).to_upper_camel_case();
    if s.is_empty() {
        s.push('V');
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, 'V');
    }
    if RAW_NOT_OK.contains(&s.as_str()) {
        s.push('_');
    }
    s
}

/// `snake_case` form of a QAPI name, as a string (not yet unique).
pub fn snake(name: &str) -> String {
    let mut s = words(name).to_snake_case();
    if s.is_empty() {
        s.push('_');
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    if RAW_NOT_OK.contains(&s.as_str()) {
        s.push('_');
    }
    s
}

/// An identifier for a name produced by [`camel`] or [`snake`], raw when
/// it is a keyword.
pub fn ident(name: &str) -> Ident {
    if RAW_OK.contains(&name) {
        Ident::new_raw(name, Span::call_site())
    } else {
        Ident::new(name, Span::call_site())
    }
}

/// Hands out names unique within one scope.
#[derive(Debug, Default, Clone)]
pub struct Namer {
    taken: HashSet<String>,
}

impl Namer {
    /// A scope where `reserved` are already taken.
    pub fn with_reserved(reserved: &[&str]) -> Self {
        Self {
            taken: reserved.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    /// Whether `name` is taken.
    pub fn is_taken(&self, name: &str) -> bool {
        self.taken.contains(name)
    }

    /// Claims `base`, or `base` followed by the first free number from 2
    /// (with a `_` separator for snake case names).
    pub fn unique(&mut self, base: &str) -> String {
        if self.taken.insert(base.to_owned()) {
            return base.to_owned();
        }
        let sep = if base.contains('_') || base.starts_with(|c: char| c.is_ascii_lowercase()) {
            "_"
        } else {
            ""
        };
        (2..)
            .map(|n| format!("{base}{sep}{n}"))
            .find(|cand| self.taken.insert(cand.clone()))
            .expect("an unbounded range has a free name")
    }
}

/// Assigns unique snake-case names to a list of wire names, preferring the
/// wire name whose plain conversion is the name itself (so `a_b` keeps
/// `a_b` and `a-b` gets `a_b_2`, whatever their order).
pub fn unique_snake<'a>(wire: impl IntoIterator<Item = &'a str>, reserved: &[&str]) -> Vec<String> {
    let wire: Vec<&str> = wire.into_iter().collect();
    let mut namer = Namer::with_reserved(reserved);
    let bases: Vec<String> = wire.iter().map(|w| snake(w)).collect();
    let mut out = vec![String::new(); wire.len()];
    // First pass: exact matches claim their name.
    for (i, (w, b)) in wire.iter().zip(&bases).enumerate() {
        if *w == b && !namer.is_taken(b) {
            out[i] = namer.unique(b);
        }
    }
    for (i, b) in bases.iter().enumerate() {
        if out[i].is_empty() {
            out[i] = namer.unique(b);
        }
    }
    out
}

/// Like [`unique_snake`], for `UpperCamelCase` names (enum variants).
pub fn unique_camel<'a>(wire: impl IntoIterator<Item = &'a str>, reserved: &[&str]) -> Vec<String> {
    let mut namer = Namer::with_reserved(reserved);
    wire.into_iter().map(|w| namer.unique(&camel(w))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(camel("query-status"), "QueryStatus");
        assert_eq!(camel("__org.qemu_x-foo"), "OrgQemuXFoo");
        assert_eq!(camel("2_5"), "V25");
        assert_eq!(camel("self"), "Self_");
        assert_eq!(snake("nvme-io_uring"), "nvme_io_uring");
        assert_eq!(snake("__org.qemu_x-member2"), "org_qemu_x_member2");
        assert_eq!(snake("144"), "_144");
        assert_eq!(snake("self"), "self_");
        assert_eq!(ident("type").to_string(), "r#type");
        assert_eq!(ident("in").to_string(), "r#in");
        assert_eq!(ident("foo").to_string(), "foo");
    }

    #[test]
    fn clashes_are_deterministic() {
        assert_eq!(unique_snake(["a-b", "a_b"], &[]), ["a_b_2", "a_b"]);
        assert_eq!(unique_snake(["a_b", "a-b"], &[]), ["a_b", "a_b_2"]);
        assert_eq!(
            unique_camel(["a-b", "a_b", "AB"], &["Unknown"]),
            ["AB", "AB2", "Ab"]
        );
    }
}
