//! QEMU's own parser as the oracle: runs `bench/qapi_parse_dump.py` (QEMU
//! 10.0.2's `scripts/qapi` from `../shared`, under `python3`) on real
//! schemas and compares definitions, lines and doc blocks with ours.
//! Skipped (with a message) when `python3` or the shared data is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

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
