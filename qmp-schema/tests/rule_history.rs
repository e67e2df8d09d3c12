//! Every row of the rule history (`qmp_schema::RULES`) pinned: for each
//! rule a probe schema shows the rule at every known release, and the rule
//! must show exactly at the releases its row names (from its first release,
//! and before the release that dropped it).

use qmp_schema::ast::Item;
use qmp_schema::{CheckOptions, Level, ParseOptions, RULES, Rule, check, parse_str};

/// What a probe observed: accepted (with the number of free-form doc
/// blocks), or the first line of the error.
enum Outcome {
    Accepted { freeform_docs: usize },
    Rejected(String),
}

fn run(src: &str, level: Level) -> Outcome {
    let opts = ParseOptions::with_level(level);
    let parsed = match parse_str("probe.json", src, &opts) {
        Ok(p) => p,
        Err(e) => return Outcome::Rejected(first_line(&e.diagnostic.message)),
    };
    let freeform_docs = parsed
        .items
        .iter()
        .filter(|i| matches!(i, Item::Doc(_)))
        .count();
    match check(parsed, &CheckOptions::default()) {
        Ok(_) => Outcome::Accepted { freeform_docs },
        Err(e) => Outcome::Rejected(first_line(&e.diagnostic.message)),
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").to_owned()
}

fn accepted(o: &Outcome) -> bool {
    matches!(o, Outcome::Accepted { .. })
}

fn rejected_with(o: &Outcome, text: &str) -> bool {
    matches!(o, Outcome::Rejected(m) if m.contains(text))
}

/// A probe: the schema, and whether the outcome shows the rule.
struct Probe {
    rule: Rule,
    src: &'static str,
    shows: fn(&Outcome) -> bool,
}

const PROBES: &[Probe] = &[
    Probe {
        rule: Rule::NullLiteral,
        src: "[ 'a' ]\n",
        shows: |o| rejected_with(o, "expected '{'"),
    },
    Probe {
        rule: Rule::PragmaWhitelists,
        src: "{ 'pragma': { 'returns-whitelist': [ 'x' ] } }\n",
        shows: accepted,
    },
    Probe {
        rule: Rule::PragmaExceptions,
        src: "{ 'pragma': { 'command-returns-exceptions': [ 'x' ] } }\n",
        shows: accepted,
    },
    Probe {
        rule: Rule::CoroutineFlag,
        src: "{ 'command': 'c', 'coroutine': true }\n",
        shows: accepted,
    },
    Probe {
        rule: Rule::SimpleUnions,
        src: "{ 'struct': 'Foo', 'data': {} }\n{ 'union': 'U', 'data': { 'a': 'Foo' } }\n",
        shows: accepted,
    },
    Probe {
        rule: Rule::IfConditionTrees,
        src: "{ 'struct': 'Foo', 'data': {}, 'if': { 'all': [ 'A', 'B' ] } }\n",
        shows: accepted,
    },
    Probe {
        rule: Rule::NamingRules,
        src: "{ 'command': 'my_cmd' }\n",
        shows: |o| rejected_with(o, "must not use uppercase or '_'"),
    },
    Probe {
        rule: Rule::UnstableFeature,
        src: "{ 'struct': 'Foo', 'data': {}, 'features': [ 'unstable' ] }\n",
        shows: |o| rejected_with(o, "is not supported for types"),
    },
    Probe {
        rule: Rule::ConditionalArgsBoxed,
        src: "{ 'command': 'c', 'data': { 'a': { 'type': 'int', 'if': 'X' } } }\n",
        shows: |o| rejected_with(o, "require 'boxed': true"),
    },
    Probe {
        rule: Rule::DocIndentation,
        src: "##\n# @foo:\n#\n# @a: line one\n#   line two\n# line three\n##\n\
              { 'command': 'foo', 'data': { 'a': 'int' } }\n",
        shows: |o| rejected_with(o, "unexpected de-indent"),
    },
    Probe {
        rule: Rule::DocHeadingSplitsBlock,
        src: "##\n# Text\n#\n# = Heading\n##\n",
        shows: |o| matches!(o, Outcome::Accepted { freeform_docs: 2 }),
    },
    Probe {
        rule: Rule::DocNoHeadingInDefinition,
        src: "##\n# @foo:\n#\n# = Heading\n##\n{ 'command': 'foo' }\n",
        shows: |o| rejected_with(o, "unexpected '=' markup in definition documentation"),
    },
    Probe {
        rule: Rule::DocStrictParser,
        src: "##\n# @foo:\n#\n# Returns: nothing\n##\n{ 'command': 'foo' }\n",
        shows: |o| rejected_with(o, "command doesn't return anything"),
    },
    Probe {
        rule: Rule::DocHeadingFirst,
        src: "##\n# Text\n#\n# = Heading\n##\n",
        shows: |o| rejected_with(o, "'=' heading must come first"),
    },
    Probe {
        rule: Rule::MemberDocsRequired,
        src: "##\n# @Foo:\n##\n{ 'struct': 'Foo', 'data': { 'a': 'int' } }\n",
        shows: |o| rejected_with(o, "lacks documentation"),
    },
    Probe {
        rule: Rule::DocNoNoteExample,
        src: "##\n# @foo:\n#\n# Note: x\n##\n{ 'command': 'foo' }\n",
        shows: |o| rejected_with(o, "is no longer supported"),
    },
    Probe {
        rule: Rule::DocLineLength,
        src: "##\n# @foo:\n#\n# This line is long, longer than seventy columns, which is too \
              long here\n##\n{ 'command': 'foo' }\n",
        shows: |o| rejected_with(o, "longer than 70 characters"),
    },
    Probe {
        rule: Rule::DocTwoSpaces,
        src: "##\n# @foo:\n#\n# One sentence. Another one.\n##\n{ 'command': 'foo' }\n",
        shows: |o| rejected_with(o, "Use two spaces between sentences"),
    },
];

/// Releases where the implementation knowingly differs from QEMU's for a
/// rule: (rule, release, reason). The test fails if one of these matches.
const KNOWN_DEVIATIONS: &[(Rule, Level, &str)] = &[
    (
        Rule::NamingRules,
        Level::new(6, 0),
        "6.0 and 6.1 are read by the QEMU 5 expression checker (they still have simple \
         unions), which checks names for validity only",
    ),
    (Rule::NamingRules, Level::new(6, 1), "as for 6.0"),
];

#[test]
fn every_rule_has_a_probe() {
    for r in RULES {
        assert!(
            PROBES.iter().any(|p| p.rule == r.rule),
            "no probe for rule {}",
            r.name
        );
    }
}

#[test]
fn each_rule_holds_exactly_in_its_releases() {
    let mut failures = Vec::new();
    for p in PROBES {
        let info = p.rule.info();
        // Every known release, and a newer one (read by the newest rules).
        let levels = Level::RELEASES.iter().copied().chain([Level::new(99, 0)]);
        for level in levels {
            let outcome = run(p.src, level);
            let shown = (p.shows)(&outcome);
            let expected = level.has(p.rule);
            let deviation = KNOWN_DEVIATIONS
                .iter()
                .any(|(r, l, _)| *r == p.rule && *l == level);
            let what = match &outcome {
                Outcome::Accepted { freeform_docs } => {
                    format!("accepted ({freeform_docs} free-form docs)")
                }
                Outcome::Rejected(m) => format!("rejected: {m}"),
            };
            match (shown == expected, deviation) {
                (true, false) | (false, true) => {}
                (true, true) => failures.push(format!(
                    "{} at {level}: listed as a known deviation but matches the table",
                    info.name
                )),
                (false, false) => failures.push(format!(
                    "{} at {level}: table says {}, probe {what}",
                    info.name,
                    if expected {
                        "applies"
                    } else {
                        "does not apply"
                    },
                )),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The rule table of `docs/qapi-language-history.md` (between the
/// `rules:begin` and `rules:end` markers) is rendered from `RULES`; with
/// `QMP_BLESS=1` the test rewrites it.
#[test]
fn docs_table_is_the_rule_table() {
    let mut table = String::from(
        "| Rule | Area | First release | Dropped in | What it says | Evidence |\n\
         | --- | --- | --- | --- | --- | --- |\n",
    );
    for r in RULES {
        let since = if r.since == Level::OLDEST {
            format!("≤ {}", r.since)
        } else {
            r.since.to_string()
        };
        let until = r.until.map_or_else(|| "—".to_owned(), |u| u.to_string());
        let cell = |s: &str| {
            s.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .replace('|', "\\|")
        };
        table.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} |\n",
            r.name,
            r.area,
            since,
            until,
            cell(r.summary),
            cell(r.evidence)
        ));
    }
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/qapi-language-history.md");
    let doc = std::fs::read_to_string(&path).expect("docs/qapi-language-history.md");
    let (begin, end) = ("<!-- rules:begin -->\n", "<!-- rules:end -->");
    let start = doc.find(begin).expect("begin marker") + begin.len();
    let stop = doc.find(end).expect("end marker");
    if doc[start..stop] != table {
        if std::env::var_os("QMP_BLESS").is_some() {
            let new = format!("{}{}{}", &doc[..start], table, &doc[stop..]);
            std::fs::write(&path, new).expect("write docs");
        } else {
            panic!("docs/qapi-language-history.md is out of date; rerun with QMP_BLESS=1");
        }
    }
}

fn temp_schema(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("qmp-rule-history-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("schema.json");
    std::fs::write(&path, text).unwrap();
    path
}

/// A schema without a `VERSION` file is read by the newest rules; when it
/// fails only because of a release-gated rule, the error names the
/// releases whose rules accept it and the `--qemu-version` to pass.
#[test]
fn failure_names_the_accepting_release() {
    let path = temp_schema(
        "note",
        "##\n# @foo:\n#\n# Note: old style\n##\n{ 'command': 'foo' }\n",
    );
    let err = qmp_schema::load(&path, &ParseOptions::default()).unwrap_err();
    let shown = err.diagnostic.to_string();
    assert!(shown.contains("is no longer supported"), "{shown}");
    assert_eq!(
        err.diagnostic.notes,
        [
            "this schema is accepted by QEMU ≤ 9.0's rules; pass --qemu-version 9.0 if it is from \
          that release"
        ],
        "{shown}"
    );
    assert!(qmp_schema::load(&path, &ParseOptions::with_level(Level::new(9, 0))).is_ok());

    // A schema of a newer language read at an old level: the note points up.
    let path = temp_schema(
        "cond",
        "{ 'struct': 'Foo', 'data': {}, 'if': { 'not': 'X' } }\n",
    );
    let err = qmp_schema::load(&path, &ParseOptions::with_level(Level::new(5, 2))).unwrap_err();
    assert_eq!(
        err.diagnostic.notes,
        [
            "this schema is accepted by QEMU ≥ 6.2's rules; pass --qemu-version 6.2 if it is from \
          that release"
        ]
    );

    // An error no release accepts gets no note.
    let path = temp_schema("bad", "{ 'struct': 'Foo', 'data': { 'a': 'Nope' } }\n");
    let err = qmp_schema::load(&path, &ParseOptions::default()).unwrap_err();
    assert!(err.diagnostic.notes.is_empty(), "{}", err.diagnostic);
}

/// Levels that are no known release are refused (older, or no release);
/// newer ones are read by the newest rules.
#[test]
fn unknown_levels() {
    let path = temp_schema("levels", "{ 'struct': 'Foo', 'data': {} }\n");
    for bad in [Level::new(4, 2), Level::new(7, 5)] {
        let err = qmp_schema::load(&path, &ParseOptions::with_level(bad)).unwrap_err();
        let msg = err.diagnostic.to_string();
        assert!(
            msg.contains(&bad.to_string()) && msg.contains("5.1"),
            "{msg}"
        );
    }
    assert!(qmp_schema::load(&path, &ParseOptions::with_level(Level::new(99, 0))).is_ok());
    assert!(Level::new(99, 0).validate().unwrap().is_some());
}
