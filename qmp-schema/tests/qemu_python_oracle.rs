//! QEMU's own parser as the oracle (QEMU 10.0.2's `scripts/qapi` from
//! `../shared`, under `python3`):
//! - `bench/qapi_parse_dump.py` on real schemas: definitions, lines and doc
//!   blocks must equal ours;
//! - `bench/qapi_parse_outcomes.py` on generated inputs (token soups with
//!   includes of each other, and mutated test cases): the outcome (success with the same numbers of
//!   definitions and doc blocks, or an error with the same file, line and
//!   message) must equal ours.
//!
//! Skipped (with a message) when `python3` or the shared data is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

use qmp_schema::ast::Item;
use qmp_schema::{Level, ParseOptions, parse_file};

mod support {
    #[path = "parse_json.rs"]
    pub mod parse_json;
}

fn tree() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/qemu/10.0.2")
}

fn python_dump(schema: &str) -> Option<serde_json::Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/qapi_parse_dump.py");
    let out = match Command::new("python3")
        .arg(&script)
        .arg("scripts")
        .arg(schema)
        .current_dir(tree())
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            eprintln!("skipping: cannot run python3: {e}");
            return None;
        }
    };
    if !out.status.success() {
        // An old or partial Python: not this crate's failure.
        eprintln!(
            "skipping {schema}: QEMU's parser did not run:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    Some(serde_json::from_slice(&out.stdout).expect("the script prints JSON"))
}

#[test]
fn same_parse_as_qemu() {
    if !tree().join("scripts/qapi/parser.py").exists() {
        eprintln!("skipping: {} not found", tree().display());
        assert!(
            std::env::var_os("CI").is_none(),
            "shared data missing in CI"
        );
        return;
    }
    let mut compared = 0;
    for schema in [
        "qapi/qapi-schema.json",
        "qga/qapi-schema.json",
        "storage-daemon/qapi/qapi-schema.json",
        "tests/qapi-schema/doc-good.json",
        "tests/qapi-schema/qapi-schema-test.json",
    ] {
        let Some(expected) = python_dump(schema) else {
            continue;
        };
        // Parse with the same relative name, so file names match.
        let parsed = parse_file(
            &tree().join(schema),
            &ParseOptions::with_level(Level::new(10, 0)),
        )
        .unwrap_or_else(|e| panic!("{schema}: {e}"));
        let mut ours = support::parse_json::parsed_json(&parsed);
        // Our file names are absolute; QEMU's are relative to the tree.
        let prefix = format!("{}/", tree().display());
        if let Some(defs) = ours["definitions"].as_array_mut() {
            for d in defs {
                let f = d["file"].as_str().unwrap_or_default().replace(&prefix, "");
                d["file"] = serde_json::Value::String(f);
            }
        }
        let (e_defs, o_defs) = (&expected["definitions"], &ours["definitions"]);
        assert_eq!(
            o_defs.as_array().map(Vec::len),
            e_defs.as_array().map(Vec::len),
            "{schema}"
        );
        for (o, e) in o_defs
            .as_array()
            .unwrap()
            .iter()
            .zip(e_defs.as_array().unwrap())
        {
            assert_eq!(o, e, "{schema}: definition differs");
        }
        assert_eq!(
            ours["docs"], expected["docs"],
            "{schema}: doc blocks differ"
        );
        compared += 1;
    }
    eprintln!("compared {compared} schemas with QEMU's parser");
}

/// A small deterministic PRNG (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// How many inputs to generate.
const CASES: usize = 1500;

const PIECES: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    " ",
    "\n",
    "\t",
    "true",
    "false",
    "null",
    "##\n",
    "# @Foo:\n",
    "# @a: text\n",
    "#   indented\n",
    "# Features:\n",
    "# @f: feat\n",
    "# Returns: x\n",
    "# Errors: y\n",
    "# Since: 1\n",
    "# TODO: z\n",
    "# Note: x\n",
    "# = Head\n",
    "#\n",
    "# comment\n",
    "# text\n",
    "#  two\n",
    "#x\n",
    "## junk\n",
    "# @: e\n",
    "# @b:\n",
    "'pragma'",
    "'doc-required'",
    "'struct'",
    "'Foo'",
    "'data'",
    "'a'",
    "'\\\\'",
    "'\\x'",
    "'x",
    "\u{a0}",
    "\u{1c}",
    "\u{e9}",
    "'\u{e9}'",
    "123",
    "'command-name-exceptions'",
    "\r\n",
];

fn generate(rng: &mut Rng, seeds: &[String]) -> String {
    if rng.below(2) == 0 || seeds.is_empty() {
        let n = rng.below(40);
        return (0..n)
            .map(|_| {
                // Now and then an include of another generated case (which
                // may not exist, or may include this one).
                if rng.below(30) == 0 {
                    format!("{{ 'include': 'c{:05}.json' }}\n", rng.below(CASES))
                } else {
                    PIECES[rng.below(PIECES.len())].to_owned()
                }
            })
            .collect();
    }
    let mut s: Vec<char> = seeds[rng.below(seeds.len())].chars().collect();
    for _ in 0..=rng.below(4) {
        if s.is_empty() {
            break;
        }
        let p = rng.below(s.len());
        match rng.below(4) {
            0 => {
                s.remove(p);
            }
            1 => {
                let c: Vec<char> = "{}[]:,'#\\ \nabtf@=\t".chars().collect();
                s.insert(p, c[rng.below(c.len())]);
            }
            2 => {
                let end = (p + rng.below(30)).min(s.len());
                let chunk: Vec<char> = s[p..end].to_vec();
                s.splice(p..p, chunk);
            }
            _ => {
                let c: Vec<char> = " \n#'@:{}".chars().collect();
                s[p] = c[rng.below(c.len())];
            }
        }
    }
    s.into_iter().collect()
}

fn our_outcome(dir: &Path, name: &str) -> serde_json::Value {
    let opts = ParseOptions::with_level(Level::new(10, 0));
    match parse_file(&dir.join(name), &opts) {
        Ok(p) => {
            let defs = p
                .items
                .iter()
                .filter(|i| matches!(i, Item::Expr(_)))
                .count();
            let docs = p
                .items
                .iter()
                .filter(|i| match i {
                    Item::Doc(_) => true,
                    Item::Expr(e) => e.doc.is_some(),
                    Item::Directive(_) => false,
                })
                .count();
            serde_json::json!(["ok", defs, docs])
        }
        Err(e) => {
            let d = &e.diagnostic;
            let prefix = format!("{}/", dir.display());
            let file = d.file.strip_prefix(&prefix).unwrap_or(&d.file);
            serde_json::json!(["err", file, d.line, d.message.replace(&prefix, "")])
        }
    }
}

#[test]
fn random_inputs_same_outcome_as_qemu() {
    let suite = tree().join("tests/qapi-schema");
    if !suite.is_dir() {
        eprintln!("skipping: {} not found", suite.display());
        assert!(
            std::env::var_os("CI").is_none(),
            "shared data missing in CI"
        );
        return;
    }
    let mut seeds: Vec<String> = std::fs::read_dir(&suite)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect();
    seeds.sort();
    let dir = std::env::temp_dir().join(format!("qmp-schema-oracle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut names = Vec::new();
    let mut with_includes = 0;
    for i in 0..CASES {
        let text = generate(&mut rng, &seeds);
        // Keep includes inside the directory (test cases include files of
        // the suite, which are not there).
        if text.contains('/') || (text.contains("include") && !text.contains("'include': 'c")) {
            continue;
        }
        let name = format!("c{i:05}.json");
        with_includes += usize::from(text.contains("'include'"));
        std::fs::write(dir.join(&name), text).unwrap();
        names.push(name);
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/qapi_parse_outcomes.py");
    let run = Command::new("python3")
        .arg(&script)
        .arg(tree().join("scripts"))
        .arg(&dir)
        .output();
    let expected: serde_json::Value = match run {
        Ok(out) if out.status.success() => {
            serde_json::from_slice(&out.stdout).expect("the script prints JSON")
        }
        Ok(out) => {
            let _ = std::fs::remove_dir_all(&dir);
            eprintln!(
                "skipping: QEMU's parser did not run:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            return;
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            eprintln!("skipping: cannot run python3: {e}");
            return;
        }
    };
    let mut mismatches = Vec::new();
    let mut crashes = 0;
    for name in &names {
        let theirs = &expected[name.as_str()];
        if theirs[0] == "crash" {
            // QEMU failed with a Python exception: no oracle.
            crashes += 1;
            continue;
        }
        let ours = our_outcome(&dir, name);
        if &ours != theirs {
            let text = std::fs::read_to_string(dir.join(name)).unwrap_or_default();
            mismatches.push(format!("{name}: QEMU {theirs}, ours {ours}\n{text:?}"));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!(
        "{} generated inputs ({with_includes} with includes), {crashes} without oracle, \
         {} mismatches",
        names.len(),
        mismatches.len()
    );
    assert!(
        mismatches.is_empty(),
        "{}",
        mismatches[..mismatches.len().min(10)].join("\n")
    );
    assert!(names.len() > 1000 && with_includes > 100);
}
