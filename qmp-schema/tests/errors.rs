//! Error cases of the parser: each gives a clear diagnostic with a location.

use std::path::{Path, PathBuf};

use qmp_schema::ast::Item;
use qmp_schema::{DiagnosticKind, Level, Limits, ParseError, ParseOptions, parse_file, parse_str};

fn opts() -> ParseOptions {
    ParseOptions::with_level(Level::LATEST)
}

fn fail(text: &str) -> ParseError {
    match parse_str("demo.json", text, &opts()) {
        Ok(_) => panic!("expected an error for {text:?}"),
        Err(e) => e,
    }
}

/// A unique scratch directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "qmp-schema-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn write(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, content).unwrap();
        p
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn unterminated_string() {
    let e = fail("{ 'enum': 'Foo',\n  'data': [ 'a', 'b ] }\n");
    let d = &e.diagnostic;
    assert_eq!(d.kind, DiagnosticKind::Syntax);
    assert_eq!(d.to_string(), "demo.json:2:18: missing terminating \"'\"");
}

#[test]
fn bad_escape() {
    let e = fail("{ 'enum': 'Fo\\o' }\n");
    assert_eq!(
        e.diagnostic.to_string(),
        "demo.json:1:14: unknown escape \\o"
    );
    // The only escape is a doubled backslash.
    let p = parse_str("demo.json", "{ 'enum': 'a\\\\b' }", &opts()).unwrap();
    let Item::Expr(x) = &p.items[0] else { panic!() };
    assert_eq!(x.dict.get("enum").unwrap().as_str(), Some("a\\b"));
}

#[test]
fn non_utf8_file() {
    let dir = TempDir::new("utf8");
    let p = dir.write("bad.json", b"{ 'enum': 'Foo',\n  'data': [ '\xff' ] }\n");
    let e = parse_file(&p, &opts()).unwrap_err();
    let d = &e.diagnostic;
    assert_eq!(d.kind, DiagnosticKind::Io);
    assert_eq!((d.line, d.col), (2, 14));
    assert!(d.message.contains("invalid UTF-8"), "{}", d.message);
}

#[test]
fn byte_order_mark_rejected() {
    let e = fail("\u{feff}{ 'enum': 'Foo', 'data': [] }\n");
    assert_eq!(e.diagnostic.line, 1);
    assert!(e.diagnostic.message.contains("byte order mark"));
}

#[test]
fn include_cycle() {
    let dir = TempDir::new("cycle");
    let main = dir.write("main.json", "{ 'include': 'a.json' }\n");
    dir.write("a.json", "# a\n{ 'include': 'b.json' }\n");
    dir.write("b.json", "\n\n{ 'include': 'a.json' }\n");
    let e = parse_file(&main, &opts()).unwrap_err();
    let d = &e.diagnostic;
    let base = dir.path().display().to_string();
    assert_eq!(d.message, "inclusion loop for a.json");
    assert_eq!(d.file, format!("{base}/b.json"));
    assert_eq!(d.line, 3);
    assert_eq!(
        d.included_from,
        vec![
            (format!("{base}/main.json"), 1),
            (format!("{base}/a.json"), 2)
        ]
    );
    // All three files are in the source map for rendering.
    assert_eq!(e.sources.len(), 3);
    let rich = e.render_rich(false);
    assert!(rich.contains("3 | { 'include': 'a.json' }"), "{rich}");
}

#[test]
fn missing_include_file() {
    let dir = TempDir::new("missing");
    let main = dir.write("main.json", "\n{ 'include': 'nope.json' }\n");
    let e = parse_file(&main, &opts()).unwrap_err();
    let d = &e.diagnostic;
    assert_eq!(d.kind, DiagnosticKind::Io);
    assert_eq!(d.line, 2);
    assert_eq!(
        d.message,
        format!(
            "can't read include file '{}/nope.json': No such file or directory",
            dir.path().display()
        )
    );
}

#[test]
fn missing_main_file() {
    let e = parse_file(Path::new("/nonexistent/qapi.json"), &opts()).unwrap_err();
    assert_eq!(e.diagnostic.kind, DiagnosticKind::Io);
    assert_eq!(
        e.diagnostic.to_string(),
        "/nonexistent/qapi.json: can't read schema file '/nonexistent/qapi.json': No such file or directory"
    );
}

#[test]
fn each_file_included_once() {
    let dir = TempDir::new("once");
    let main = dir.write(
        "main.json",
        "{ 'include': 'sub/s.json' }\n{ 'include': 'sub/s.json' }\n{ 'include': 'sub/../sub/s.json' }\n",
    );
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    dir.write("sub/s.json", "{ 'include': 't.json' }\n");
    dir.write("sub/t.json", "{ 'enum': 'E', 'data': [] }\n");
    let p = parse_file(&main, &opts()).unwrap();
    let exprs = p
        .items
        .iter()
        .filter(|i| matches!(i, Item::Expr(_)))
        .count();
    assert_eq!(exprs, 1);
    assert_eq!(p.sources.len(), 3);
    let names: Vec<String> = p.sources.files().map(|(_, f)| f.name.clone()).collect();
    let base = dir.path().display().to_string();
    assert_eq!(names[2], format!("{base}/sub/t.json"));
}

fn nested(depth: usize) -> String {
    format!("{{ 'x': {}{} }}\n", "[".repeat(depth), "]".repeat(depth))
}

#[test]
fn nesting_limit() {
    // The top-level dict plus 999 lists: 1000 levels, accepted.
    parse_str("demo.json", &nested(999), &opts()).unwrap();
    let e = parse_str("demo.json", &nested(1000), &opts()).unwrap_err();
    assert_eq!(e.diagnostic.kind, DiagnosticKind::Limit);
    assert_eq!(e.diagnostic.col, 1007);
    assert!(e.diagnostic.message.contains("1000"));
    // Far deeper input fails the same way, without exhausting the stack.
    let e = parse_str("demo.json", &nested(1_000_000), &opts()).unwrap_err();
    assert_eq!(e.diagnostic.kind, DiagnosticKind::Limit);
}

#[test]
fn file_size_limit() {
    let small = ParseOptions {
        level: Some(Level::LATEST),
        limits: Limits {
            max_file_size: 64,
            ..Limits::default()
        },
    };
    let text = format!("{{ 'enum': 'E', 'data': [ {} ] }}\n", "'a', ".repeat(20));
    let e = parse_str("demo.json", &text, &small).unwrap_err();
    assert_eq!(e.diagnostic.kind, DiagnosticKind::Limit);
    assert!(
        e.diagnostic.message.contains("limit is 64 bytes"),
        "{}",
        e.diagnostic
    );

    let dir = TempDir::new("size");
    let main = dir.write("main.json", "{ 'include': 'big.json' }\n");
    dir.write("big.json", &text);
    let e = parse_file(&main, &small).unwrap_err();
    assert_eq!(e.diagnostic.kind, DiagnosticKind::Limit);
    assert_eq!(e.diagnostic.line, 1);
    let e = parse_file(&dir.path().join("big.json"), &small).unwrap_err();
    assert_eq!(e.diagnostic.kind, DiagnosticKind::Limit);
}

#[test]
fn include_depth_limit() {
    let dir = TempDir::new("depth");
    for i in 0..10 {
        dir.write(
            &format!("f{i}.json"),
            format!("{{ 'include': 'f{}.json' }}\n", i + 1),
        );
    }
    dir.write("f10.json", "");
    let limited = ParseOptions {
        level: Some(Level::LATEST),
        limits: Limits {
            max_include_depth: 5,
            ..Limits::default()
        },
    };
    let e = parse_file(&dir.path().join("f0.json"), &limited).unwrap_err();
    assert_eq!(e.diagnostic.kind, DiagnosticKind::Limit);
    assert_eq!(e.diagnostic.included_from.len(), 4);
    parse_file(&dir.path().join("f0.json"), &opts()).unwrap();
}

#[test]
fn crlf_line_ends() {
    let e = fail("{ 'enum': 'E',\r\n  'data': [ 'a' }\r\n");
    assert_eq!(
        e.diagnostic.to_string(),
        "demo.json:2:17: expected ',' or ']'"
    );
    let e = fail("{ 'enum': 'E',\r  'data': 'a\r }");
    assert_eq!(e.diagnostic.line, 2);
}

#[test]
fn old_language() {
    let old = ParseOptions::with_level(Level::new(5, 1));
    let text = "{ 'pragma': { 'returns-whitelist': [ 'a' ], 'name-case-whitelist': [ 'B' ] } }\n\
                { 'command': 'c', 'returns': 'int' }\n";
    let p = parse_str("demo.json", text, &old).unwrap();
    assert_eq!(p.pragma.command_returns_exceptions, ["a"]);
    assert_eq!(p.pragma.member_name_exceptions, ["B"]);
    // QEMU 10 has neither.
    let e = parse_str("demo.json", text, &opts()).unwrap_err();
    assert_eq!(e.diagnostic.message, "unknown pragma 'returns-whitelist'");
    // `null` left the language in QEMU 4.2: no literal at 5.1 either
    // (QEMU 5.x's lexer reports it as stray).
    for o in [&old, &opts()] {
        let e = parse_str("demo.json", "{ 'command': 'c', 'returns': null }", o).unwrap_err();
        assert_eq!(e.diagnostic.message, "stray 'null'");
    }
    // 5.1's top-level rule.
    let e = parse_str("demo.json", "[ 'x' ]", &old).unwrap_err();
    assert_eq!(e.diagnostic.to_string(), "demo.json:1:1: expected '{'");
}

#[test]
fn doc_attached_to_definition() {
    let text = "##\n# = Intro\n##\n\n##\n# @Foo:\n#\n# A foo.\n#\n# @a: the a\n#\n# Since: 1.0\n##\n{ 'struct': 'Foo', 'data': { 'a': 'int' } }\n";
    let p = parse_str("demo.json", text, &opts()).unwrap();
    assert_eq!(p.items.len(), 2);
    let Item::Doc(free) = &p.items[0] else {
        panic!()
    };
    assert_eq!(free.body(), "= Intro");
    let Item::Expr(x) = &p.items[1] else { panic!() };
    let doc = x.doc.as_ref().unwrap();
    assert_eq!(doc.symbol.as_deref(), Some("Foo"));
    assert_eq!(doc.body(), "A foo.");
    assert_eq!(doc.member("a").unwrap().text, "the a");
    assert_eq!(doc.since(), Some("1.0"));
    assert_eq!(x.span.line, 14);
}

#[test]
fn doc_errors() {
    let e = fail("##\n# @Foo:\n##\n\n{ 'include': 'x.json' }\n");
    assert_eq!(
        e.diagnostic.to_string(),
        "demo.json:1:1: documentation for 'Foo' is not followed by the definition"
    );
    let e = fail("##\n# @Foo:\n# Since:\n##\n{ 'struct': 'Foo' }\n");
    assert_eq!(
        e.diagnostic.to_string(),
        "demo.json:3:1: text required after 'Since:'"
    );
    let e = fail("##\n# Free\n##\n{ 'struct': 'Foo' }\n");
    assert_eq!(e.diagnostic.message, "definition documentation required");
    assert_eq!(e.diagnostic.kind, DiagnosticKind::Doc);
}

#[test]
fn note_sections_by_level() {
    let text = "##\n# @foo:\n#\n# Note: careful\n#\n# Since: 1.0\n##\n{ 'command': 'foo' }\n";
    // QEMU 10 rejects the section.
    let e = parse_str("demo.json", text, &opts()).unwrap_err();
    assert_eq!(e.diagnostic.line, 4);
    assert!(
        e.diagnostic
            .message
            .starts_with("The 'Note' section is no longer supported.")
    );
    // Older levels keep it as a plain section with its tag.
    for level in [Level::new(9, 0), Level::new(5, 1)] {
        let p = parse_str("demo.json", text, &ParseOptions::with_level(level)).unwrap();
        let Item::Expr(x) = &p.items[0] else { panic!() };
        let doc = x.doc.as_ref().unwrap();
        let note = doc
            .sections
            .iter()
            .find(|s| s.tag.as_deref() == Some("Note"))
            .unwrap_or_else(|| panic!("no Note section at {level}: {doc:?}"));
        assert_eq!(note.text, "careful");
        assert_eq!(doc.since(), Some("1.0"));
    }
}

#[test]
fn legacy_doc_errors() {
    let old = ParseOptions::with_level(Level::new(5, 1));
    let e = parse_str(
        "demo.json",
        "##\n# @foo:\n#\n# Note:\n##\n{ 'command': 'foo' }\n",
        &old,
    )
    .unwrap_err();
    assert_eq!(
        e.diagnostic.to_string(),
        "demo.json:5:1: empty doc section 'Note'"
    );
    let e = parse_str(
        "demo.json",
        "##\n# @foo:\n# Since: 1\n# @a: x\n##\n{ 'command': 'foo' }\n",
        &old,
    )
    .unwrap_err();
    assert_eq!(e.diagnostic.message, "'@a:' can't follow 'Since' section");
}
