//! Doc comment blocks (`##` ... `##`).
//!
//! Two dialects, chosen by the language level:
//!
//! - **modern** (QEMU ≥ 9.0, [`Level::MODERN_DOC`]): the strict rules of
//!   QEMU 10 — a definition block starts with `@symbol:`, then member
//!   descriptions `@name:`, a `Features:` block of `@feature:` lines, tagged
//!   sections `Returns:`, `Errors:`, `Since:`, `TODO:`, plain paragraphs; a
//!   description continues on lines indented at least like its second
//!   line; `= Heading` only first in a free-form block. From QEMU 9.1
//!   ([`Level::NO_NOTE_SECTIONS`]) `Note:` and `Example:` sections are
//!   errors; before that they are kept as plain sections with a tag.
//! - **legacy** (older levels, modelled on QEMU 5.1): a permissive line
//!   classifier with `Note(s):` and `Example(s):` sections, no indentation
//!   rules, and its own error messages (`empty doc section 'X'`, ...).
//!   QEMU 5.2 to 8.2 had variants of this parser (rST indentation rules,
//!   kept leading whitespace); they are read with the 5.1 rules, which are
//!   more lenient about indentation but strip each line's whitespace
//!   (except in `Example` sections), so texts can differ from theirs in
//!   indentation, and an indented line starting with `@name:` inside a
//!   description is an error here (as in 5.1) where those releases took it
//!   as text.
//!
//! The result is a [`Doc`] whose sections are in textual order; for the
//! legacy dialect, `Note`/`Example` sections become plain sections with
//! their [`tag`](DocSection::tag).

use crate::ast::{Doc, DocSection, DocSectionKind};
use crate::diag::{Diagnostic, DiagnosticKind};
use crate::lexer::{TokKind, py_indent, py_rstrip, py_strip};
use crate::parser::FileParser;
use crate::rules::Rule;
use crate::source::Span;

type PResult<T> = Result<T, Box<Diagnostic>>;

/// `@name: text` at the start of a line (QEMU's `@([^:]*): *`): the name
/// and the text after the colon and any spaces.
fn at_name_colon(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix('@')?;
    let colon = rest.find(':')?;
    Some((&rest[..colon], rest[colon + 1..].trim_start_matches(' ')))
}

/// A tagged section line (QEMU's `(Returns|Errors|Since|Notes?|Examples?|TODO)(?!::): *`):
/// the tag and the text after it.
fn tagged_section(line: &str) -> Option<(&'static str, &str)> {
    const TAGS: [&str; 8] = [
        "Returns", "Errors", "Since", "Notes", "Note", "Examples", "Example", "TODO",
    ];
    TAGS.iter().find_map(|&tag| {
        let rest = line.strip_prefix(tag)?.strip_prefix(':')?;
        if rest.starts_with(':') {
            return None;
        }
        Some((tag, rest.trim_start_matches(' ')))
    })
}

fn kind_name(kind: DocSectionKind) -> &'static str {
    match kind {
        DocSectionKind::Plain => "Plain",
        DocSectionKind::Member => "Member",
        DocSectionKind::Feature => "Feature",
        DocSectionKind::Returns => "Returns",
        DocSectionKind::Errors => "Errors",
        DocSectionKind::Since => "Since",
        DocSectionKind::Todo => "Todo",
    }
}

fn section(kind: DocSectionKind, name: Option<String>, span: Span) -> DocSection {
    DocSection {
        kind,
        name,
        text: String::new(),
        span: Some(span),
        tag: None,
    }
}

/// A modern doc block under construction (QEMU's `QAPIDoc`).
///
/// Section texts are collected as borrowed lines and joined once at the
/// end, so each text is allocated exactly once.
struct Builder<'a> {
    span: Span,
    symbol: Option<String>,
    sections: Vec<DocSection>,
    /// Each line with the index of its section, in order.
    lines: Vec<(usize, &'a str)>,
    has_features: bool,
    has_returns: bool,
    has_errors: bool,
    has_since: bool,
}

impl<'a> Builder<'a> {
    /// A block whose lines go to `lines` (an empty buffer, reused across
    /// blocks so that collecting lines allocates only while it grows).
    fn new(span: Span, symbol: Option<String>, lines: Vec<(usize, &'a str)>) -> Self {
        let mut sections = Vec::with_capacity(4);
        sections.push(section(DocSectionKind::Plain, None, span));
        Self {
            span,
            symbol,
            sections,
            lines,
            has_features: false,
            has_returns: false,
            has_errors: false,
            has_since: false,
        }
    }

    /// Appends a line to the last section.
    fn append_line(&mut self, line: &'a str) {
        self.lines.push((self.sections.len() - 1, line));
    }

    /// Whether the last section has no text so far.
    fn last_is_empty(&self) -> bool {
        self.lines
            .last()
            .is_none_or(|&(i, _)| i != self.sections.len() - 1)
    }

    fn ensure_untagged_section(&mut self, span: Span) {
        if let Some(last) = self.sections.last()
            && last.kind == DocSectionKind::Plain
            && last.tag.is_none()
        {
            if self.last_is_empty() {
                if let Some(last) = self.sections.last_mut() {
                    last.span = Some(span);
                }
            }
            // QEMU appends a newline: an empty line.
            self.append_line("");
            return;
        }
        self.sections
            .push(section(DocSectionKind::Plain, None, span));
    }

    /// Sets each section's text: its lines joined by newlines, without
    /// leading and trailing empty lines (QEMU's `strip('\\n')`).
    fn fill_texts(&mut self) {
        let mut i = 0;
        while i < self.lines.len() {
            let idx = self.lines[i].0;
            let mut j = i;
            while j < self.lines.len() && self.lines[j].0 == idx {
                j += 1;
            }
            let group = &self.lines[i..j];
            let first = group.iter().position(|(_, l)| !l.is_empty());
            if let Some(first) = first {
                let last = group
                    .iter()
                    .rposition(|(_, l)| !l.is_empty())
                    .unwrap_or(first);
                let kept = &group[first..=last];
                let len = kept.iter().map(|(_, l)| l.len() + 1).sum::<usize>() - 1;
                let mut text = String::with_capacity(len);
                for (n, (_, l)) in kept.iter().enumerate() {
                    if n > 0 {
                        text.push('\n');
                    }
                    text.push_str(l);
                }
                self.sections[idx].text = text;
            }
            i = j;
        }
    }
}

impl<'a> FileParser<'a, '_> {
    fn doc_err(&self, msg: impl Into<String>) -> Box<Diagnostic> {
        self.err_tok(DiagnosticKind::Doc, msg)
    }

    /// Parses a doc comment block; the current token is a comment starting
    /// with `##`. On return the current token is the one after the block.
    ///
    /// Usually one block; QEMU 5.2 to 8.2 ([`Rule::DocHeadingSplitsBlock`])
    /// split a free-form block at each `=` heading that follows text.
    /// Returns the blocks split off before the last one (usually none, so
    /// no allocation) and the last block.
    pub(crate) fn get_doc(&mut self) -> PResult<(Vec<Doc>, Doc)> {
        if self.level().has(Rule::DocStrictParser) {
            Ok((Vec::new(), self.get_doc_modern()?))
        } else {
            self.get_doc_legacy()
        }
    }

    /// The current doc line (QEMU's `get_doc_line`): `None` at the closing
    /// `##`, else the text after `# `, right-stripped.
    fn get_doc_line(&mut self) -> PResult<Option<&'a str>> {
        if self.tok.kind != TokKind::Comment {
            return Err(self.doc_err("documentation comment must end with '##'"));
        }
        let val = self.comment_text();
        if val.starts_with("##") {
            if val != "##" {
                return Err(self.doc_err("junk after '##' at end of documentation comment"));
            }
            self.doc_literal = None;
            return Ok(None);
        }
        if val == "#" {
            return Ok(Some(""));
        }
        if !val[1..].starts_with(' ') {
            return Err(self.doc_err("missing space after #"));
        }
        let line = py_rstrip(&val[2..]);
        let level = self.level();
        if level.has(Rule::DocLineLength) || level.has(Rule::DocTwoSpaces) {
            self.check_doc_line_format(line)?;
        }
        Ok(Some(line))
    }

    /// QEMU 10.2's format rules for a doc line outside literal blocks
    /// ([`Rule::DocLineLength`], [`Rule::DocTwoSpaces`]). A line that is
    /// `::` alone or `.. qmp-example::` starts a literal block; it ends
    /// at the first non-blank line indented less than the block's first
    /// line, or with the comment.
    fn check_doc_line_format(&mut self, line: &str) -> PResult<()> {
        if is_literal_start(line) {
            self.doc_literal = Some(0);
        } else if let Some(block) = self.doc_literal
            && !line.is_empty()
        {
            let indent = py_indent(line);
            if block == 0 {
                self.doc_literal = Some(indent);
            } else if indent < block {
                self.doc_literal = None;
            }
        }
        if self.doc_literal.is_some() {
            return Ok(());
        }
        let level = self.level();
        if level.has(Rule::DocLineLength) && line.chars().count() + 2 > 70 && !is_url_line(line) {
            return Err(self.doc_err("documentation line longer than 70 characters"));
        }
        if level.has(Rule::DocTwoSpaces)
            && let Some(at) = single_space_after_sentence(line)
        {
            // QEMU points at the character after the punctuation.
            let mut span = self.tok_span();
            // `at` is the byte index of the (ASCII) punctuation in `line`,
            // which starts 2 bytes into the comment.
            let upto = &self.comment_text()[..2 + at + 1];
            let mut col = 1;
            for ch in upto.chars() {
                col = if ch == '\t' {
                    (col + 7) % 8 + 1
                } else {
                    col + 1
                };
            }
            span.col = self.tok.col - 1 + col;
            span.start += (2 + at + 1) as u32;
            return Err(self.diag_at(
                DiagnosticKind::Doc,
                "Use two spaces between sentences\n\
                 If this not the end of a sentence, please report a bug.",
                span,
            ));
        }
        Ok(())
    }

    /// Advances to the next doc line.
    fn next_doc_line(&mut self) -> PResult<Option<&'a str>> {
        self.accept(false)?;
        self.get_doc_line()
    }

    fn get_doc_modern(&mut self) -> PResult<Doc> {
        if self.comment_text() != "##" {
            return Err(self.doc_err("junk after '##' at start of documentation comment"));
        }
        let info = self.tok_span();
        let mut line = self.next_doc_line()?;
        let doc = if let Some(first) = line.filter(|l| l.starts_with('@')) {
            if !first.ends_with(':') {
                return Err(self.doc_err("line should end with ':'"));
            }
            let symbol = &first[1..first.len() - 1];
            if symbol.is_empty() {
                return Err(self.doc_err("name required after '@'"));
            }
            let lines = std::mem::take(&mut self.doc_lines);
            let mut doc = Builder::new(info, Some(symbol.to_owned()), lines);
            line = self.next_doc_line()?;
            let mut no_more_args = false;
            loop {
                while line == Some("") {
                    line = self.next_doc_line()?;
                }
                let Some(cur) = line.take() else { break };
                if cur == "Features:" {
                    if doc.has_features {
                        return Err(self.doc_err("duplicated 'Features:' line"));
                    }
                    line = self.next_doc_line()?;
                    while line == Some("") {
                        line = self.next_doc_line()?;
                    }
                    while let Some(l) = line.take() {
                        let Some((name, text)) = at_name_colon(l) else {
                            line = Some(l);
                            break;
                        };
                        self.new_description(&mut doc, name, DocSectionKind::Feature)?;
                        if !text.is_empty() {
                            doc.append_line(text);
                        }
                        line = self.get_doc_indented(&mut doc)?;
                    }
                    if !doc.has_features {
                        return Err(self.doc_err("feature descriptions expected"));
                    }
                    no_more_args = true;
                } else if let Some((name, _)) = at_name_colon(cur) {
                    if no_more_args {
                        return Err(
                            self.doc_err(format!("description of '@{name}:' follows a section"))
                        );
                    }
                    line = Some(cur);
                    while let Some(l) = line.take() {
                        let Some((name, text)) = at_name_colon(l) else {
                            line = Some(l);
                            break;
                        };
                        self.new_description(&mut doc, name, DocSectionKind::Member)?;
                        if !text.is_empty() {
                            doc.append_line(text);
                        }
                        line = self.get_doc_indented(&mut doc)?;
                    }
                    no_more_args = true;
                } else if let Some((tag, text)) = tagged_section(cur) {
                    let removed = self.level().has(Rule::DocNoNoteExample);
                    if tag.starts_with("Note") {
                        if removed {
                            return Err(self.doc_err(format!(
                                "The '{tag}' section is no longer supported. Please use rST's \
                                 '.. note::' or '.. admonition:: notes' directives, or another \
                                 suitable admonition instead."
                            )));
                        }
                    } else if tag.starts_with("Example") && removed {
                        return Err(self.doc_err(format!(
                            "The '{tag}' section is no longer supported. Please use the \
                             '.. qmp-example::' directive, or other suitable markup instead."
                        )));
                    }
                    self.new_tagged_section(&mut doc, tag)?;
                    if !text.is_empty() {
                        doc.append_line(text);
                    }
                    line = self.get_doc_indented(&mut doc)?;
                    no_more_args = true;
                } else if cur.starts_with('=') && self.level().has(Rule::DocNoHeadingInDefinition) {
                    return Err(self.doc_err("unexpected '=' markup in definition documentation"));
                } else {
                    doc.ensure_untagged_section(self.tok_span());
                    doc.append_line(cur);
                    line = self.get_doc_paragraph(&mut doc)?;
                }
            }
            doc
        } else {
            let lines = std::mem::take(&mut self.doc_lines);
            let mut doc = Builder::new(info, None, lines);
            doc.ensure_untagged_section(self.tok_span());
            let mut first = true;
            while let Some(cur) = line.take() {
                if let Some((name, _)) = at_name_colon(cur) {
                    return Err(
                        self.doc_err(format!("'@{name}:' not allowed in free-form documentation"))
                    );
                }
                if cur.starts_with('=') && !first && self.level().has(Rule::DocHeadingFirst) {
                    return Err(self.doc_err("'=' heading must come first in a comment block"));
                }
                doc.append_line(cur);
                line = self.next_doc_line()?;
                first = false;
            }
            doc
        };
        self.accept(true)?;
        self.end_modern(doc)
    }

    fn new_description(
        &self,
        doc: &mut Builder<'a>,
        name: &str,
        kind: DocSectionKind,
    ) -> PResult<()> {
        if name.is_empty() {
            return Err(self.doc_err("invalid parameter name"));
        }
        let dup = doc
            .sections
            .iter()
            .any(|s| s.kind == kind && s.name.as_deref() == Some(name));
        if dup {
            return Err(self.doc_err(format!("'{name}' parameter name duplicated")));
        }
        if kind == DocSectionKind::Feature {
            doc.has_features = true;
        }
        doc.sections
            .push(section(kind, Some(name.to_owned()), self.tok_span()));
        Ok(())
    }

    fn new_tagged_section(&self, doc: &mut Builder<'a>, tag: &str) -> PResult<()> {
        let (kind, seen) = match tag {
            "Returns" => (DocSectionKind::Returns, Some(&mut doc.has_returns)),
            "Errors" => (DocSectionKind::Errors, Some(&mut doc.has_errors)),
            "Since" => (DocSectionKind::Since, Some(&mut doc.has_since)),
            "TODO" => (DocSectionKind::Todo, None),
            _ => (DocSectionKind::Plain, None),
        };
        if let Some(seen) = seen {
            if *seen {
                return Err(self.doc_err(format!("duplicated '{}' section", kind_name(kind))));
            }
            *seen = true;
        }
        let mut s = section(kind, None, self.tok_span());
        if kind == DocSectionKind::Plain {
            s.tag = Some(tag.to_owned());
        }
        doc.sections.push(s);
        Ok(())
    }

    /// QEMU's `get_doc_indented`: the rest of a description or tagged
    /// section. Returns the first line that is not part of it.
    fn get_doc_indented(&mut self, doc: &mut Builder<'a>) -> PResult<Option<&'a str>> {
        let mut line = self.next_doc_line()?;
        while line == Some("") {
            doc.append_line("");
            line = self.next_doc_line()?;
        }
        let Some(first) = line else { return Ok(None) };
        let indent = py_indent(first);
        if indent == 0 {
            return Ok(Some(first));
        }
        doc.append_line(first);
        // QEMU sets this after every appended line, so only the line right
        // after the first indented one can be an error.
        let mut prev_line_blank = false;
        loop {
            let Some(cur) = self.next_doc_line()? else {
                return Ok(None);
            };
            if at_name_colon(cur).is_some() {
                return Ok(Some(cur));
            }
            if !cur.is_empty() && py_indent(cur) < indent {
                if prev_line_blank {
                    return Ok(Some(cur));
                }
                return Err(self.doc_err(format!(
                    "unexpected de-indent (expected at least {indent} spaces)"
                )));
            }
            doc.append_line(cur);
            prev_line_blank = true;
        }
    }

    /// QEMU's `get_doc_paragraph`: lines up to a blank line or the end.
    fn get_doc_paragraph(&mut self, doc: &mut Builder<'a>) -> PResult<Option<&'a str>> {
        loop {
            match self.next_doc_line()? {
                None => return Ok(None),
                Some(l) if l.is_empty() => return Ok(Some(l)),
                Some(l) => doc.append_line(l),
            }
        }
    }

    fn end_modern(&mut self, mut doc: Builder<'a>) -> PResult<Doc> {
        doc.fill_texts();
        // Hand the line buffer back for the next block.
        let mut lines = std::mem::take(&mut doc.lines);
        lines.clear();
        self.doc_lines = lines;
        for s in &doc.sections {
            if s.kind != DocSectionKind::Plain && s.text.is_empty() {
                let at = s.span.unwrap_or(doc.span);
                return Err(self.diag_at(
                    DiagnosticKind::Doc,
                    format!("text required after '{}:'", kind_name(s.kind)),
                    at,
                ));
            }
        }
        Ok(Doc {
            span: Some(doc.span),
            symbol: doc.symbol,
            sections: doc.sections,
        })
    }

    // ----- legacy dialect (QEMU 5.x) -----

    fn get_doc_legacy(&mut self) -> PResult<(Vec<Doc>, Doc)> {
        if self.comment_text() != "##" {
            return Err(self.doc_err("junk after '##' at start of documentation comment"));
        }
        let span = self.tok_span();
        let level = self.level();
        let mut doc = Legacy::new(span, level.has(Rule::DocIndentation));
        let mut docs = Vec::new();
        self.accept(false)?;
        while self.tok.kind == TokKind::Comment {
            let val = self.comment_text();
            if val.starts_with("##") {
                if val != "##" {
                    return Err(self.doc_err("junk after '##' at end of documentation comment"));
                }
                self.legacy_end_section(&mut doc)?;
                self.accept(true)?;
                return Ok((docs, doc.finish()));
            }
            if val.starts_with("# =") {
                if doc.symbol.is_some() && level.has(Rule::DocNoHeadingInDefinition) {
                    return Err(self.doc_err("unexpected '=' markup in definition documentation"));
                }
                if level.has(Rule::DocHeadingSplitsBlock)
                    && doc.symbol.is_none()
                    && !doc.sections[0].text.is_empty()
                {
                    self.legacy_end_section(&mut doc)?;
                    let fresh = Legacy::new(span, doc.rst);
                    let done = std::mem::replace(&mut doc, fresh);
                    docs.push(done.finish());
                }
            }
            self.legacy_append(&mut doc, val)?;
            self.accept(false)?;
        }
        Err(self.doc_err("documentation comment must end with '##'"))
    }

    fn legacy_append(&self, doc: &mut Legacy, val: &str) -> PResult<()> {
        let line = &val[1..];
        if line.is_empty() {
            return self.legacy_freeform(doc, "");
        }
        let Some(line) = line.strip_prefix(' ') else {
            return Err(self.doc_err("missing space after #"));
        };
        match doc.mode {
            Mode::Body => self.legacy_body_line(doc, line),
            Mode::Args => self.legacy_args_line(doc, line, false),
            Mode::Features => self.legacy_args_line(doc, line, true),
            Mode::Various => self.legacy_various_line(doc, line),
        }
    }

    fn legacy_body_line(&self, doc: &mut Legacy, line: &str) -> PResult<()> {
        let name = first_word(line);
        if doc.symbol.is_none() && doc.sections[0].text.is_empty() && line.starts_with('@') {
            if !line.ends_with(':') {
                return Err(self.doc_err("line should end with ':'"));
            }
            let symbol = &line[1..line.len() - 1];
            if symbol.is_empty() {
                return Err(self.doc_err("invalid name"));
            }
            doc.symbol = Some(symbol.to_owned());
            Ok(())
        } else if doc.symbol.is_some() {
            if name.starts_with('@') && name.ends_with(':') {
                doc.mode = Mode::Args;
                self.legacy_args_line(doc, line, false)
            } else if line == "Features:" {
                doc.mode = Mode::Features;
                Ok(())
            } else if is_legacy_tag(name) {
                doc.mode = Mode::Various;
                self.legacy_various_line(doc, line)
            } else {
                self.legacy_freeform(doc, doc.strip(line))
            }
        } else {
            self.legacy_freeform(doc, doc.strip(line))
        }
    }

    fn legacy_args_line(&self, doc: &mut Legacy, line: &str, features: bool) -> PResult<()> {
        let name = first_word(line);
        let mut line = line;
        if name.starts_with('@') && name.ends_with(':') {
            let kind = if features {
                DocSectionKind::Feature
            } else {
                DocSectionKind::Member
            };
            self.legacy_start_symbol(doc, &name[1..name.len() - 1], kind)?;
            if doc.rst {
                return self.legacy_indented_first(doc, line, name.len());
            }
            line = line.get(name.len() + 1..).unwrap_or("");
        } else if is_legacy_tag(name) {
            doc.mode = Mode::Various;
            return self.legacy_various_line(doc, line);
        } else if doc.current_text().ends_with("\n\n")
            && line
                .chars()
                .next()
                .is_some_and(|c| !crate::lexer::py_isspace(c))
        {
            if !features && line == "Features:" {
                doc.mode = Mode::Features;
            } else {
                self.legacy_start_section(doc, None)?;
                doc.mode = Mode::Various;
                self.legacy_various_line(doc, line)?;
            }
            return Ok(());
        }
        self.legacy_freeform(doc, doc.strip(line))
    }

    fn legacy_various_line(&self, doc: &mut Legacy, line: &str) -> PResult<()> {
        let name = first_word(line);
        let mut line = line;
        if name.starts_with('@') && name.ends_with(':') {
            let first = doc
                .sections
                .iter()
                .skip(1)
                .find(|s| !matches!(s.kind, DocSectionKind::Member | DocSectionKind::Feature))
                .map_or_else(|| "None".to_owned(), legacy_section_name);
            return Err(self.doc_err(format!("'{name}' can't follow '{first}' section")));
        } else if is_legacy_tag(name) {
            self.legacy_start_section(doc, Some(&name[..name.len() - 1]))?;
            if doc.rst {
                return self.legacy_indented_first(doc, line, name.len());
            }
            line = line.get(name.len() + 1..).unwrap_or("");
        }
        if doc.rst {
            return self.legacy_freeform(doc, line);
        }
        let keep = doc
            .open
            .and_then(|i| doc.sections.get(i))
            .is_some_and(|s| s.tag.as_deref().is_some_and(|t| t.starts_with("Example")));
        let line = if keep { line } else { py_strip(line) };
        self.legacy_freeform(doc, line)
    }

    fn legacy_start_symbol(
        &self,
        doc: &mut Legacy,
        name: &str,
        kind: DocSectionKind,
    ) -> PResult<()> {
        if name.is_empty() {
            return Err(self.doc_err("invalid parameter name"));
        }
        let dup = doc
            .sections
            .iter()
            .any(|s| s.kind == kind && s.name.as_deref() == Some(name));
        if dup {
            return Err(self.doc_err(format!("'{name}' parameter name duplicated")));
        }
        self.legacy_end_section(doc)?;
        doc.sections
            .push(section(kind, Some(name.to_owned()), self.tok_span()));
        doc.open = Some(doc.sections.len() - 1);
        doc.indent = 0;
        Ok(())
    }

    fn legacy_start_section(&self, doc: &mut Legacy, tag: Option<&str>) -> PResult<()> {
        if let Some(t @ ("Returns" | "Since")) = tag {
            let kind = if t == "Returns" {
                DocSectionKind::Returns
            } else {
                DocSectionKind::Since
            };
            if doc.sections.iter().any(|s| s.kind == kind) {
                return Err(self.doc_err(format!("duplicated '{t}' section")));
            }
        }
        self.legacy_end_section(doc)?;
        let kind = match tag {
            Some("Returns") => DocSectionKind::Returns,
            Some("Since") => DocSectionKind::Since,
            Some("TODO") => DocSectionKind::Todo,
            _ => DocSectionKind::Plain,
        };
        let mut s = section(kind, None, self.tok_span());
        if kind == DocSectionKind::Plain {
            s.tag = tag.map(str::to_owned);
        }
        doc.sections.push(s);
        doc.open = Some(doc.sections.len() - 1);
        doc.indent = 0;
        Ok(())
    }

    /// The first line of a member, feature or tagged section under
    /// [`Rule::DocIndentation`] (QEMU 5.2's `_append_*_line`): the text
    /// after the header `head_len` bytes long and the whitespace after it
    /// sets the indentation the section's further lines need.
    fn legacy_indented_first(&self, doc: &mut Legacy, line: &str, head_len: usize) -> PResult<()> {
        let rest = &line[head_len..];
        let text = rest.trim_start_matches(crate::lexer::py_isspace);
        doc.indent = if text.is_empty() {
            0
        } else {
            line.len() - text.len()
        };
        self.legacy_append_text(doc, text)
    }

    fn legacy_end_section(&self, doc: &mut Legacy) -> PResult<()> {
        let Some(i) = doc.open.take() else {
            return Ok(());
        };
        let s = &mut doc.sections[i];
        let text = py_strip(&s.text);
        if text.len() != s.text.len() {
            s.text = text.to_owned();
        }
        let named = s.name.is_some() || s.tag.is_some() || !matches!(s.kind, DocSectionKind::Plain);
        if named && s.text.is_empty() {
            let name = legacy_section_name(s);
            return Err(self.doc_err(format!("empty doc section '{name}'")));
        }
        Ok(())
    }

    fn legacy_freeform(&self, doc: &mut Legacy, line: &str) -> PResult<()> {
        if let Some(word) = at_word_colon(line) {
            return Err(self.doc_err(format!("'{word}' not allowed in free-form documentation")));
        }
        if doc.rst && !line.is_empty() {
            // QEMU 5.2's `Section.append`: strip the section's indentation.
            let indent = py_indent(line);
            if indent < doc.indent {
                return Err(self.doc_err(format!(
                    "unexpected de-indent (expected at least {} spaces)",
                    doc.indent
                )));
            }
            return self.legacy_append_text(doc, &line[doc.indent..]);
        }
        self.legacy_append_text(doc, line)
    }

    fn legacy_append_text(&self, doc: &mut Legacy, line: &str) -> PResult<()> {
        if let Some(s) = doc.open.and_then(|i| doc.sections.get_mut(i)) {
            s.text.push_str(py_rstrip(line));
            s.text.push('\n');
        }
        Ok(())
    }
}

/// QEMU 10.2's `(\.\. +qmp-example)? *::$`, matched at the start.
fn is_literal_start(line: &str) -> bool {
    let rest = match line.strip_prefix("..") {
        Some(r) if r.starts_with(' ') => {
            match r.trim_start_matches(' ').strip_prefix("qmp-example") {
                Some(r) => r,
                None => return false,
            }
        }
        _ => line,
    };
    rest.trim_start_matches(' ') == "::"
}

/// QEMU 10.2's ` *(https?|ftp)://[^ ]*$`.
fn is_url_line(line: &str) -> bool {
    let rest = line.trim_start_matches(' ');
    let after = ["http://", "https://", "ftp://"]
        .iter()
        .find_map(|p| rest.strip_prefix(p));
    after.is_some_and(|a| !a.contains(' '))
}

/// QEMU 10.2's search for `(\be\.g\.|^ *\d\.|([.!?])) [A-Z0-9(]`: the
/// byte offset of the first sentence end followed by a single space and
/// the start of a sentence, skipping `e.g.` and list numbers.
fn single_space_after_sentence(line: &str) -> Option<usize> {
    let b = line.as_bytes();
    let follows = |k: usize| {
        b.get(k) == Some(&b' ')
            && b.get(k + 1)
                .is_some_and(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'(')
    };
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"e.g.") && follows(i + 4) {
            let word_before = line[..i]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_');
            if !word_before {
                i += 6;
                continue;
            }
        }
        if i == 0 {
            let j = b.iter().take_while(|&&c| c == b' ').count();
            if b.get(j).is_some_and(u8::is_ascii_digit)
                && b.get(j + 1) == Some(&b'.')
                && follows(j + 2)
            {
                i = j + 4;
                continue;
            }
        }
        if matches!(b[i], b'.' | b'!' | b'?') && follows(i + 1) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// QEMU 5.x's section tags.
fn is_legacy_tag(word: &str) -> bool {
    matches!(
        word,
        "Returns:" | "Since:" | "Note:" | "Notes:" | "Example:" | "Examples:" | "TODO:"
    )
}

/// `line.split(' ', 1)[0]`.
fn first_word(line: &str) -> &str {
    line.split(' ').next().unwrap_or("")
}

/// QEMU 5.x's `(@\S+:)` at the start of a line.
fn at_word_colon(line: &str) -> Option<&str> {
    let rest = line.strip_prefix('@')?;
    let word_len = rest
        .char_indices()
        .find(|&(_, c)| crate::lexer::py_isspace(c))
        .map_or(rest.len(), |(i, _)| i);
    let word = &rest[..word_len];
    // Greedy `\S+` then `:`: the last colon in the word, after at least
    // one character.
    let colon = word.rfind(':')?;
    if colon == 0 {
        return None;
    }
    Some(&line[..colon + 2])
}

fn legacy_section_name(s: &DocSection) -> String {
    if let Some(tag) = &s.tag {
        return tag.clone();
    }
    if let Some(name) = &s.name {
        return name.clone();
    }
    match s.kind {
        DocSectionKind::Returns => "Returns".to_owned(),
        DocSectionKind::Since => "Since".to_owned(),
        DocSectionKind::Todo => "TODO".to_owned(),
        _ => "None".to_owned(),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Body,
    Args,
    Features,
    Various,
}

/// A legacy doc block under construction.
struct Legacy {
    span: Span,
    symbol: Option<String>,
    /// Body first, then members, features, other sections in order.
    sections: Vec<DocSection>,
    /// The section lines are appended to (QEMU's `_section`); `None` after
    /// the block ended.
    open: Option<usize>,
    mode: Mode,
    /// [`Rule::DocIndentation`]: lines keep their indentation.
    rst: bool,
    /// The indentation the open section's lines need (`rst` only).
    indent: usize,
}

impl Legacy {
    fn new(span: Span, rst: bool) -> Self {
        Self {
            span,
            symbol: None,
            sections: vec![section(DocSectionKind::Plain, None, span)],
            open: Some(0),
            mode: Mode::Body,
            rst,
            indent: 0,
        }
    }

    /// QEMU 5.1 strips each line; from 5.2 on lines keep their
    /// indentation.
    fn strip<'l>(&self, line: &'l str) -> &'l str {
        if self.rst { line } else { py_strip(line) }
    }

    fn current_text(&self) -> &str {
        self.open
            .and_then(|i| self.sections.get(i))
            .map_or("", |s| s.text.as_str())
    }

    fn finish(self) -> Doc {
        Doc {
            span: Some(self.span),
            symbol: self.symbol,
            sections: self.sections,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_colon() {
        assert_eq!(at_name_colon("@foo: bar"), Some(("foo", "bar")));
        assert_eq!(at_name_colon("@foo:"), Some(("foo", "")));
        assert_eq!(at_name_colon("@: x"), Some(("", "x")));
        assert_eq!(at_name_colon("@a b: x"), Some(("a b", "x")));
        assert_eq!(at_name_colon("@foo"), None);
        assert_eq!(at_name_colon("foo:"), None);
    }

    #[test]
    fn tags() {
        assert_eq!(tagged_section("Returns: x"), Some(("Returns", "x")));
        assert_eq!(tagged_section("Notes:"), Some(("Notes", "")));
        assert_eq!(tagged_section("Note: y"), Some(("Note", "y")));
        assert_eq!(tagged_section("Examples::"), None);
        assert_eq!(tagged_section("Since 1.0"), None);
        assert_eq!(tagged_section("TODO:x"), Some(("TODO", "x")));
    }

    #[test]
    fn legacy_at_word() {
        assert_eq!(at_word_colon("@note: foo"), Some("@note:"));
        assert_eq!(at_word_colon("@foo:bar"), Some("@foo:"));
        assert_eq!(at_word_colon("@a:b:c d"), Some("@a:b:"));
        assert_eq!(at_word_colon("@: x"), None);
        assert_eq!(at_word_colon("@foo bar:"), None);
        assert_eq!(at_word_colon("x @foo:"), None);
    }
}
