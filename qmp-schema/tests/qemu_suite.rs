//! QEMU's own QAPI test suite (`tests/qapi-schema/` of QEMU 10.0.2 and
//! 5.1.0, read from `../shared` at run time) as the oracle for the parser.
//!
//! For every case, the first `FILE:LINE:` line of the expected `.err` output
//! is classified: if its message is one QEMU's *parser* produces (lexical,
//! syntax, directive, pragma and doc comment errors — see
//! [`is_parser_message`]), our parse must fail with the same file, line
//! and message (and the same include chain); otherwise (a checker error,
//! or no error at all) our parse must succeed. The doc comments of the
//! cases whose `.out` prints them are compared section by section.

use std::fs;
use std::path::{Path, PathBuf};

use qmp_schema::ast::{Doc, DocSectionKind, Item};
use qmp_schema::{DiagnosticKind, Level, ParseOptions, parse_file};

fn suite_dir(version: &str) -> Option<PathBuf> {
    let shared = match std::env::var_os("QMP_SHARED") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
    };
    let dir = shared.join("qemu").join(version).join("tests/qapi-schema");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipping: {} not found", dir.display());
        assert!(
            std::env::var_os("CI").is_none(),
            "shared data missing in CI"
        );
        None
    }
}

/// Messages produced by QEMU's `parser.py` (10.0.2 and 5.1.0) rather than
/// by its checker (`expr.py`, `schema.py`).
fn is_parser_message(msg: &str) -> bool {
    const PREFIXES: &[&str] = &[
        // lexer and value syntax
        "missing terminating \"'\"",
        "unknown escape \\",
        "funny character in string",
        "stray '",
        "expected '",
        "expected ',' or",
        "expected string",
        "duplicate key '",
        "top-level expression must be an object",
        // directives
        "invalid 'include' directive",
        "value of 'include' must be a string",
        "inclusion loop for ",
        "can't read include file ",
        "invalid 'pragma' directive",
        "value of 'pragma' must be an object",
        "pragma ",
        "unknown pragma '",
        // doc comments
        "definition documentation required",
        "documentation for '",
        "junk after '##'",
        "documentation comment must end with '##'",
        "missing space after #",
        "line should end with ':'",
        "name required after '@'",
        "unexpected de-indent",
        "unexpected '=' markup in definition documentation",
        "'=' heading must come first in a comment block",
        "feature descriptions expected",
        "description of '@",
        "duplicated '",
        "invalid parameter name",
        "text required after '",
        "empty doc section '",
        "The '",
        "documentation line longer than 70 characters",
        "Use two spaces between sentences",
    ];
    const CONTAINS: &[&str] = &[
        "' parameter name duplicated",
        "' not allowed in free-form documentation",
        "' can't follow '",
    ];
    msg == "invalid name"
        || PREFIXES.iter().any(|p| msg.starts_with(p))
        || CONTAINS.iter().any(|c| msg.contains(c))
}

/// The first located error line of an `.err` file: `(file, line, message)`
/// plus the include chain printed before it.
struct Expected {
    file: String,
    line: u32,
    message: String,
    included_from: Vec<(String, u32)>,
}

fn first_error(err: &str) -> Option<Expected> {
    let mut included_from = Vec::new();
    for l in err.lines() {
        if let Some(rest) = l.strip_prefix("In file included from ") {
            let rest = rest.strip_suffix(':').unwrap_or(rest);
            let (f, n) = rest.rsplit_once(':')?;
            included_from.push((f.to_owned(), n.parse().ok()?));
            continue;
        }
        // FILE:LINE[:COL]: message
        let Some((file, rest)) = l.split_once(':') else {
            continue;
        };
        let Some((line, rest)) = rest.split_once(':') else {
            continue;
        };
        let Ok(line) = line.parse::<u32>() else {
            continue;
        };
        let rest = match rest.split_once(':') {
            Some((col, msg)) if col.parse::<u32>().is_ok() => msg,
            _ => rest,
        };
        return Some(Expected {
            file: file.to_owned(),
            line,
            message: rest.trim_start().to_owned(),
            included_from,
        });
    }
    None
}

#[derive(Default)]
struct Tally {
    parser_errors: usize,
    accepted: usize,
    docs_compared: usize,
    failures: Vec<String>,
}

fn run_suite(version: &str, level: Level) -> Option<Tally> {
    let dir = suite_dir(version)?;
    let prefix = format!("{}/", dir.display());
    let mut cases: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    cases.sort();
    let mut tally = Tally::default();
    for json in cases {
        let err_path = json.with_extension("err");
        let Ok(err) = fs::read_to_string(&err_path) else {
            continue; // an include-only file, not a test case
        };
        let case = json.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(ParseOptions::default().level_for(&json), level);
        let result = parse_file(&json, &ParseOptions::default());
        if err.starts_with("can't read schema file") {
            match result {
                Err(e) if e.diagnostic.kind == DiagnosticKind::Io => tally.parser_errors += 1,
                other => tally.failures.push(format!(
                    "{case}: expected an I/O error, got {:?}",
                    other.err()
                )),
            }
            continue;
        }
        let expected = first_error(&err).filter(|e| is_parser_message(&e.message));
        match (expected, result) {
            (Some(exp), Err(e)) => {
                let d = &e.diagnostic;
                let strip = |s: &str| s.strip_prefix(&prefix).unwrap_or(s).to_owned();
                let got_file = strip(&d.file);
                let got_msg = d.message.lines().next().unwrap_or("").replace(&prefix, "");
                let got_chain: Vec<(String, u32)> = d
                    .included_from
                    .iter()
                    .map(|(f, l)| (strip(f), *l))
                    .collect();
                if got_file != exp.file
                    || d.line != exp.line
                    || got_msg != exp.message
                    || got_chain != exp.included_from
                {
                    tally.failures.push(format!(
                        "{case}: expected {}:{}: {} (from {:?}), got {}:{}: {} (from {:?})",
                        exp.file,
                        exp.line,
                        exp.message,
                        exp.included_from,
                        got_file,
                        d.line,
                        got_msg,
                        got_chain
                    ));
                } else {
                    tally.parser_errors += 1;
                }
            }
            (Some(exp), Ok(_)) => tally.failures.push(format!(
                "{case}: expected parse error {}:{}: {}, but it parsed",
                exp.file, exp.line, exp.message
            )),
            (None, Err(e)) => tally
                .failures
                .push(format!("{case}: unexpected parse error: {e}")),
            (None, Ok(parsed)) => {
                tally.accepted += 1;
                if let Ok(out) = fs::read_to_string(json.with_extension("out")) {
                    tally.docs_compared +=
                        compare_docs(&case, &parsed.items, &out, level, &mut tally.failures);
                }
            }
        }
    }
    Some(tally)
}

/// A doc block as test-qapi.py prints it in `.out`.
#[derive(Debug, PartialEq)]
struct PrintedDoc {
    header: String,
    body: String,
    args: Vec<(String, String)>,
    features: Vec<(String, String)>,
    sections: Vec<(String, String)>,
}

fn parse_printed_docs(out: &str) -> Vec<PrintedDoc> {
    let mut docs: Vec<PrintedDoc> = Vec::new();
    // (what, name) of the field being read, and its lines.
    let mut field: Option<(String, String)> = None;
    let mut lines: Vec<&str> = Vec::new();
    fn flush(docs: &mut [PrintedDoc], field: &mut Option<(String, String)>, lines: &mut Vec<&str>) {
        if let (Some(doc), Some((what, name))) = (docs.last_mut(), field.take()) {
            let text = lines.join("\n");
            match what.as_str() {
                "body" => doc.body = text,
                "arg" => doc.args.push((name, text)),
                "feature" => doc.features.push((name, text)),
                _ => doc.sections.push((name, text)),
            }
        }
        lines.clear();
    }
    let mut started = false;
    for l in out.lines() {
        if l.starts_with("doc symbol=") || l == "doc freeform" {
            flush(&mut docs, &mut field, &mut lines);
            started = true;
            docs.push(PrintedDoc {
                header: l.to_owned(),
                body: String::new(),
                args: Vec::new(),
                features: Vec::new(),
                sections: Vec::new(),
            });
            continue;
        }
        if !started {
            continue;
        }
        let marker = ["body", "arg", "feature", "section"].iter().find_map(|w| {
            l.strip_prefix(&format!("    {w}="))
                .map(|rest| (w.to_string(), rest.to_owned()))
        });
        if let Some(m) = marker {
            flush(&mut docs, &mut field, &mut lines);
            field = Some(m);
        } else {
            lines.push(l);
        }
    }
    flush(&mut docs, &mut field, &mut lines);
    docs
}

fn printed(doc: &Doc, level: Level) -> PrintedDoc {
    let legacy = !level.has(qmp_schema::Rule::DocStrictParser);
    let mut p = PrintedDoc {
        header: match &doc.symbol {
            Some(s) => format!("doc symbol={s}"),
            None => "doc freeform".to_owned(),
        },
        body: doc.body().to_owned(),
        args: Vec::new(),
        features: Vec::new(),
        sections: Vec::new(),
    };
    for s in doc.sections.iter().skip(1) {
        let name = s.name.clone().unwrap_or_default();
        match s.kind {
            DocSectionKind::Member => p.args.push((name, s.text.clone())),
            DocSectionKind::Feature => p.features.push((name, s.text.clone())),
            kind => {
                let label = match (kind, legacy) {
                    (_, true) if s.tag.is_some() => s.tag.clone().unwrap(),
                    (DocSectionKind::Plain, true) => "None".to_owned(),
                    (DocSectionKind::Todo, true) => "TODO".to_owned(),
                    (DocSectionKind::Plain, false) => "Plain".to_owned(),
                    (DocSectionKind::Todo, false) => "Todo".to_owned(),
                    (k, _) => format!("{k:?}"),
                };
                p.sections.push((label, s.text.clone()));
            }
        }
    }
    p
}

/// Compares the doc blocks; returns how many were compared.
fn compare_docs(
    case: &str,
    items: &[Item],
    out: &str,
    level: Level,
    failures: &mut Vec<String>,
) -> usize {
    let expected = parse_printed_docs(out);
    if expected.is_empty() {
        return 0;
    }
    let ours: Vec<PrintedDoc> = items
        .iter()
        .filter_map(|i| match i {
            Item::Doc(d) => Some(d),
            Item::Expr(e) => e.doc.as_ref(),
            Item::Directive(_) => None,
        })
        .map(|d| printed(d, level))
        .collect();
    if ours.len() != expected.len() {
        failures.push(format!(
            "{case}: {} doc blocks, expected {}",
            ours.len(),
            expected.len()
        ));
        return 0;
    }
    let n = expected.len();
    for (mut ours, exp) in ours.into_iter().zip(expected) {
        // The checker adds empty stubs for undocumented members after the
        // documented ones; the parser does not.
        if exp.args.len() > ours.args.len()
            && exp.args[ours.args.len()..]
                .iter()
                .all(|(_, t)| t.is_empty())
            && exp.args[..ours.args.len()] == ours.args[..]
        {
            ours.args = exp.args.clone();
        }
        if ours != exp {
            failures.push(format!(
                "{case}: doc differs:\nours:     {ours:?}\nexpected: {exp:?}"
            ));
        }
    }
    n
}

fn report(version: &str, tally: &Tally) {
    eprintln!(
        "QEMU {version} suite: {} parser errors matched, {} cases accepted, \
         {} doc blocks compared, {} failures",
        tally.parser_errors,
        tally.accepted,
        tally.docs_compared,
        tally.failures.len()
    );
    assert!(tally.failures.is_empty(), "{}", tally.failures.join("\n"));
    assert!(
        tally.docs_compared >= 10,
        "doc-good's docs were not compared"
    );
}

#[test]
fn qemu_10_0_2_suite() {
    if let Some(t) = run_suite("10.0.2", Level::new(10, 0)) {
        report("10.0.2", &t);
        assert!(
            t.parser_errors >= 58,
            "too few parser errors: {}",
            t.parser_errors
        );
    }
}

#[test]
fn qemu_5_1_0_suite() {
    if let Some(t) = run_suite("5.1.0", Level::new(5, 1)) {
        report("5.1.0", &t);
        assert!(
            t.parser_errors >= 50,
            "too few parser errors: {}",
            t.parser_errors
        );
    }
}

#[test]
fn qemu_5_2_0_suite() {
    if let Some(t) = run_suite("5.2.0", Level::new(5, 2)) {
        report("5.2.0", &t);
        assert!(
            t.parser_errors >= 50,
            "too few parser errors: {}",
            t.parser_errors
        );
    }
}

#[test]
fn qemu_10_2_2_suite() {
    if let Some(t) = run_suite("10.2.2", Level::new(10, 2)) {
        report("10.2.2", &t);
        assert!(
            t.parser_errors >= 58,
            "too few parser errors: {}",
            t.parser_errors
        );
    }
}
