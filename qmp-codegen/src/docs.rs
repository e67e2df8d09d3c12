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
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim();
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
    out.trim_end().to_owned()
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

#[cfg(test)]
mod tests {
    use super::to_markdown;

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
}
