//! QAPI doc comment text → rustdoc Markdown.
//!
//! QAPI doc comments are reStructuredText with QAPI extensions (`@member`
//! references). The conversion is deliberately small and safe: it must
//! never produce doctests (indented blocks would be compiled as Rust), broken
//! intra-doc links or HTML, so literal blocks (`::` paragraphs) become
//! ```` ```text ```` fences, `@name` becomes `` `name` ``, rST ``` ``literal`` ```
//! becomes a code span, and `[`, `]`, `<`, `>` outside code are escaped.

/// Converts one doc section's text.
pub fn to_markdown(text: &str) -> String {
    let mut out = String::new();
    let mut in_literal = false;
    let mut literal_indent = 0usize;
    let mut expect_literal = false;
    let mut in_item = false;
    // A QMP example (`-> {...}` / `<- {...}` lines) outside a literal
    // block: fenced as text, up to the next blank line.
    let mut example_indent: Option<usize> = None;
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim();
        if let Some(base) = example_indent {
            if trimmed.is_empty() {
                out.push_str("```\n\n");
                example_indent = None;
            } else {
                out.push_str(&line[base.min(indent)..]);
                out.push('\n');
            }
            continue;
        }
        if !in_literal && is_qmp_example(trimmed) {
            example_indent = Some(indent);
            in_item = false;
            expect_literal = false;
            out.push_str("```text\n");
            out.push_str(trimmed);
            out.push('\n');
            continue;
        }
        if !in_literal && trimmed == ".. qmp-example::" {
            // QEMU 9.1+: the directive introduces an indented example.
            out.push_str("Example:\n");
            expect_literal = true;
            continue;
        }
        if in_literal {
            if trimmed.is_empty() {
                out.push('\n');
                continue;
            }
            if indent >= literal_indent {
                out.push_str(&line[literal_indent.min(line.len())..]);
                out.push('\n');
                continue;
            }
            // Dedent ends the block (drop trailing blank lines inside it).
            while out.ends_with("\n\n") {
                out.pop();
            }
            out.push_str("```\n\n");
            in_literal = false;
        }
        if expect_literal && !trimmed.is_empty() {
            expect_literal = false;
            if indent > 0 {
                in_literal = true;
                literal_indent = indent;
                out.push_str("```text\n");
                out.push_str(&line[indent..]);
                out.push('\n');
                continue;
            }
        }
        if trimmed.is_empty() {
            in_item = false;
            out.push('\n');
            continue;
        }
        let is_item = trimmed.starts_with("- ")
            || trimmed.starts_with("* ")
            || trimmed.starts_with("#. ")
            || trimmed
                .split_once(". ")
                .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if in_item && !is_item {
            out.push_str("  ");
        }
        in_item |= is_item;
        let mut text_line = inline(trimmed);
        if trimmed.ends_with("::") {
            expect_literal = true;
            text_line.truncate(text_line.len() - 1);
            if text_line.ends_with(':') && text_line.trim() == ":" {
                text_line.clear();
            }
        }
        out.push_str(&text_line);
        out.push('\n');
    }
    if in_literal {
        while out.ends_with("\n\n") {
            out.pop();
        }
        out.push_str("```\n");
    }
    if example_indent.is_some() {
        out.push_str("```\n");
    }
    out.trim_end().to_owned()
}

/// Whether a line starts a QMP example: a command sent (`->`) or a reply
/// or event received (`<-`).
fn is_qmp_example(trimmed: &str) -> bool {
    ["-> ", "<- "].iter().any(|p| trimmed.starts_with(p)) || trimmed == "->" || trimmed == "<-"
}

/// Converts inline markup of one line.
fn inline(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    let mut rest = line;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("``")
            && let Some(end) = after.find("``")
        {
            let code = &after[..end];
            if code.contains('`') {
                out.push_str("`` ");
                out.push_str(code);
                out.push_str(" ``");
            } else {
                out.push('`');
                out.push_str(code);
                out.push('`');
            }
            rest = &after[end + 2..];
            continue;
        }
        // URLs become autolinks (rustdoc warns about bare URLs), with or
        // without rST's angle brackets around them.
        let bracketed = rest.starts_with("<http://") || rest.starts_with("<https://");
        if bracketed || rest.starts_with("http://") || rest.starts_with("https://") {
            let body = if bracketed { &rest[1..] } else { rest };
            let end = body
                .find(|c: char| c.is_whitespace() || matches!(c, '>' | '"' | '\'' | '`' | ')'))
                .unwrap_or(body.len());
            let url = body[..end].trim_end_matches(['.', ',', ';', ':']);
            out.push('<');
            out.push_str(url);
            out.push('>');
            let consumed = usize::from(bracketed) + url.len();
            rest = &rest[consumed..];
            if bracketed && rest.starts_with('>') {
                rest = &rest[1..];
            }
            continue;
        }
        let c = rest.chars().next().expect("non-empty");
        if c == '@' {
            let name: String = rest[1..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                .collect();
            let name = name.trim_end_matches('.');
            if !name.is_empty() {
                out.push('`');
                out.push_str(name);
                out.push('`');
                rest = &rest[1 + name.len()..];
                continue;
            }
        }
        match c {
            '[' | ']' | '<' | '>' | '*' | '_' | '\\' | '#' if !out.is_empty() || c != '*' => {
                out.push('\\');
                out.push(c);
            }
            '`' => out.push('\''),
            _ => out.push(c),
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Splits every multi-line `#[doc = "..."]` attribute of a parsed file into
/// one attribute per line, so `prettyplease` prints `///` lines.
///
/// The emitter writes a doc block as one attribute: building and parsing
/// one token group per block instead of one per line is a good part of the
/// generation time for a documented schema.
pub(crate) fn split_doc_lines(file: &mut syn::File) {
    for item in &mut file.items {
        split_in_item(item);
    }
}

fn split_in_item(item: &mut syn::Item) {
    use syn::{Fields, ImplItem, Item, TraitItem};
    fn fields(f: &mut Fields) {
        for field in f.iter_mut() {
            split_attrs(&mut field.attrs);
        }
    }
    match item {
        Item::Struct(s) => {
            split_attrs(&mut s.attrs);
            fields(&mut s.fields);
        }
        Item::Enum(e) => {
            split_attrs(&mut e.attrs);
            for v in &mut e.variants {
                split_attrs(&mut v.attrs);
                fields(&mut v.fields);
            }
        }
        Item::Impl(i) => {
            split_attrs(&mut i.attrs);
            for it in &mut i.items {
                match it {
                    ImplItem::Fn(f) => split_attrs(&mut f.attrs),
                    ImplItem::Const(c) => split_attrs(&mut c.attrs),
                    ImplItem::Type(t) => split_attrs(&mut t.attrs),
                    _ => {}
                }
            }
        }
        Item::Trait(t) => {
            split_attrs(&mut t.attrs);
            for it in &mut t.items {
                match it {
                    TraitItem::Fn(f) => split_attrs(&mut f.attrs),
                    TraitItem::Const(c) => split_attrs(&mut c.attrs),
                    TraitItem::Type(t) => split_attrs(&mut t.attrs),
                    _ => {}
                }
            }
        }
        Item::Mod(m) => {
            split_attrs(&mut m.attrs);
            for it in m.content.iter_mut().flat_map(|(_, items)| items) {
                split_in_item(it);
            }
        }
        Item::Const(c) => split_attrs(&mut c.attrs),
        Item::Static(s) => split_attrs(&mut s.attrs),
        Item::Macro(m) => split_attrs(&mut m.attrs),
        Item::Type(t) => split_attrs(&mut t.attrs),
        Item::Fn(f) => split_attrs(&mut f.attrs),
        Item::Use(u) => split_attrs(&mut u.attrs),
        _ => {}
    }
}

/// A string literal for doc text, raw (`r"..."`, with as many `#` as the
/// text needs) when it can be: doc blocks are most of the literal text the
/// generator writes, and raw literals need no escaping on the way out nor
/// unescaping when `syn` and `prettyplease` read them back. Text a raw
/// literal cannot hold (a carriage return) gets an ordinary literal.
pub(crate) fn raw_lit(text: &str) -> proc_macro2::Literal {
    if !text.contains('\r') {
        let mut hashes = usize::from(text.contains('"'));
        while hashes > 0 && text.contains(&format!("\"{}", "#".repeat(hashes))) {
            hashes += 1;
        }
        let h = "#".repeat(hashes);
        if let Ok(lit) = format!("r{h}\"{text}\"{h}").parse() {
            return lit;
        }
    }
    proc_macro2::Literal::string(text)
}

fn with_span(mut lit: proc_macro2::Literal, span: proc_macro2::Span) -> proc_macro2::Literal {
    lit.set_span(span);
    lit
}

fn split_attrs(attrs: &mut Vec<syn::Attribute>) {
    let mut i = 0;
    while i < attrs.len() {
        let lines = match &attrs[i].meta {
            syn::Meta::NameValue(nv) if nv.path.is_ident("doc") => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some((s.value(), s.span(), (nv.path.clone(), nv.eq_token))),
                _ => None,
            },
            _ => None,
        };
        let Some((text, span, (path, eq_token))) = lines.filter(|(t, _, _)| t.contains('\n'))
        else {
            i += 1;
            continue;
        };
        let a = attrs.remove(i);
        let split: Vec<syn::Attribute> = text
            .split('\n')
            .map(|line| syn::Attribute {
                pound_token: a.pound_token,
                style: a.style,
                bracket_token: a.bracket_token,
                meta: syn::Meta::NameValue(syn::MetaNameValue {
                    path: path.clone(),
                    eq_token,
                    value: syn::Expr::Lit(syn::ExprLit {
                        attrs: Vec::new(),
                        lit: syn::Lit::new(with_span(raw_lit(line), span)),
                    }),
                }),
            })
            .collect();
        let n = split.len();
        attrs.splice(i..i, split);
        i += n;
    }
}

#[cfg(test)]
mod tests {
    use super::{raw_lit, split_doc_lines, to_markdown};

    #[test]
    fn members_and_literals() {
        assert_eq!(to_markdown("Set @foo to ``x[0]``."), "Set `foo` to `x[0]`.");
        assert_eq!(to_markdown("a <b> [c]"), "a \\<b\\> \\[c\\]");
        let text = "Example::\n\n    -> { \"execute\": \"x\" }\n    <- {}\n\nAfter.";
        assert_eq!(
            to_markdown(text),
            "Example:\n\n```text\n-> { \"execute\": \"x\" }\n<- {}\n```\n\nAfter."
        );
    }

    #[test]
    fn qmp_examples_become_text_fences() {
        // QEMU 5.2: an `Example:` section with unindented lines.
        let text = "-> { \"execute\": \"query-status\" }\n<- { \"return\": { \"running\": true,\n                 \"status\": \"running\" } }\n\nThen more.";
        assert_eq!(
            to_markdown(text),
            "```text\n-> { \"execute\": \"query-status\" }\n<- { \"return\": { \"running\": true,\n                 \"status\": \"running\" } }\n```\n\nThen more."
        );
        // QEMU 9.1+: the `.. qmp-example::` directive.
        let text =
            ".. qmp-example::\n\n    -> { \"execute\": \"stop\" }\n    <- { \"return\": {} }";
        assert_eq!(
            to_markdown(text),
            "Example:\n\n```text\n-> { \"execute\": \"stop\" }\n<- { \"return\": {} }\n```"
        );
    }

    #[test]
    fn urls_become_autolinks() {
        assert_eq!(
            to_markdown("see https://a.org/x_y.html."),
            "see <https://a.org/x_y.html>."
        );
        assert_eq!(
            to_markdown("see <http://zlib.net/>"),
            "see <http://zlib.net/>"
        );
    }

    #[test]
    fn list_continuations_are_indented() {
        assert_eq!(
            to_markdown("- If a thing,\n  GenericError\n- Else\n\nDone"),
            "- If a thing,\n  GenericError\n- Else\n\nDone"
        );
    }

    #[test]
    fn indented_text_never_becomes_a_doctest() {
        let md = to_markdown("Intro:\n\n    let x = 1;\n");
        assert!(!md.lines().any(|l| l.starts_with("    ")), "{md}");
    }

    #[test]
    fn raw_literals_hold_any_text_and_read_back_unchanged() {
        for text in [
            "plain",
            "",
            "with \"quotes\"",
            "a \"# and a \"## inside",
            "back\\slash and \\n escapes stay text",
            "carriage\rreturn",
            "multi\nline",
            "unicode: é ✓",
        ] {
            let lit = raw_lit(text);
            match syn::Lit::new(lit.clone()) {
                syn::Lit::Str(s) => assert_eq!(s.value(), text, "{lit}"),
                _ => panic!("{text:?} gave a non-string literal {lit}"),
            }
            if !text.contains('\r') {
                assert!(lit.to_string().starts_with('r'), "{lit} should be raw");
            }
        }
    }

    #[test]
    fn multi_line_doc_attributes_are_split_into_lines() {
        let text = raw_lit(" first\n\n second");
        let mut file: syn::File = syn::parse_quote! {
            #[doc = #text]
            #[derive(Debug)]
            pub struct S {
                #[doc = #text]
                pub a: u8,
            }
        };
        split_doc_lines(&mut file);
        let out = prettyplease::unparse(&file);
        assert_eq!(
            out,
            "/// first\n///\n/// second\n#[derive(Debug)]\npub struct S {\n    /// first\n    ///\n    /// second\n    pub a: u8,\n}\n"
        );
    }
}
