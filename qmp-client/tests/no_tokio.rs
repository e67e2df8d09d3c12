//! `qmp-client` with `default-features = false, features = ["blocking"]`
//! has no tokio anywhere in its dependency tree (the sans-io core on std
//! sockets); the default build (feature `tokio`) has it. Runs
//! `cargo tree` offline.

use std::process::Command;

fn tree(features: &[&str]) -> String {
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args(["tree", "--offline", "-e", "normal", "--prefix", "none"])
        .args(["--manifest-path", manifest, "-p", "qmp-client"])
        .args(features);
    let out = cmd.output().expect("run cargo tree");
    assert!(
        out.status.success(),
        "cargo tree {features:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn crates(tree: &str) -> Vec<&str> {
    tree.lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect()
}

#[test]
fn blocking_only_has_no_tokio() {
    let t = tree(&["--no-default-features", "--features", "blocking"]);
    let names = crates(&t);
    // The tree is real: the client and its socket layer are in it.
    assert!(
        names.contains(&"qmp-client") && names.contains(&"rustix"),
        "{t}"
    );
    let tokio: Vec<_> = names.iter().filter(|n| n.starts_with("tokio")).collect();
    assert!(tokio.is_empty(), "tokio crates {tokio:?} in:\n{t}");
}

#[test]
fn the_default_build_has_the_tokio_client() {
    let t = tree(&[]);
    assert!(crates(&t).contains(&"tokio"), "{t}");
}
