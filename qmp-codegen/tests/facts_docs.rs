//! The facts-only docs of the embedded default schema (no QEMU prose):
//! every generated item says something beyond its own name.

use std::path::Path;

use qmp_codegen::Builder;

/// The doc blocks (consecutive `///` lines, joined) of generated code,
/// each with the line that follows it (the item).
fn doc_blocks(code: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut block: Vec<&str> = Vec::new();
    for line in code.lines() {
        let t = line.trim_start();
        if let Some(text) = t.strip_prefix("///") {
            block.push(text.trim());
        } else if !block.is_empty() && !t.starts_with("#[") {
            out.push((block.join("\n").trim().to_owned(), t.to_owned()));
            block.clear();
        }
    }
    out
}

/// A doc that only restates a name: `` `x` ``, "Member `x`.", "QAPI struct
/// `X`.", "The data of ..."-less one-liners of that shape.
fn is_bare(doc: &str) -> bool {
    let one = |prefix: &str| {
        doc.strip_prefix(prefix)
            .and_then(|r| r.strip_prefix('`'))
            .and_then(|r| r.strip_suffix("`.").or_else(|| r.strip_suffix('`')))
            .is_some_and(|name| !name.contains('`'))
    };
    doc.is_empty()
        || one("")
        || one("Member ")
        || ["struct", "enum", "union", "alternate", "command", "event"]
            .iter()
            .any(|w| one(&format!("QAPI {w} ")))
}

#[test]
fn the_bare_patterns_are_recognised() {
    assert!(is_bare("`running`"));
    assert!(is_bare("Member `running`."));
    assert!(is_bare("QAPI struct `StatusInfo`."));
    assert!(!is_bare("Wire name `running`; required; `bool`."));
    assert!(!is_bare(
        "Branch `file`: the discriminator `driver` is `\"file\"`."
    ));
}

#[test]
fn no_facts_only_doc_restates_a_name() {
    let schema =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../qmp-types/schema/qemu-10.0.2-qmp.json");
    let out = Builder::new()
        .schema(&schema)
        .unstable_feature(Some("unstable"))
        .cargo_directives(false)
        .generate_output()
        .expect("generates");
    let blocks = doc_blocks(&out.code);
    assert!(blocks.len() > 5000, "{} doc blocks", blocks.len());
    let bare: Vec<&(String, String)> = blocks.iter().filter(|(d, _)| is_bare(d)).collect();
    assert!(
        bare.is_empty(),
        "{} bare docs, e.g. {:#?}",
        bare.len(),
        &bare[..bare.len().min(10)]
    );
    // Members say their wire name, optionality and type.
    assert!(
        out.code
            .contains("/// Wire name `running`; required; `bool`.")
    );
    // Types link the types they refer to.
    assert!(out.code.contains("; [`RunState`]."));
}
