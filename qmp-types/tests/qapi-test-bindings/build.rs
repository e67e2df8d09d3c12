//! Generates bindings from QEMU's QAPI test schema, read from the QEMU tree
//! beside the workspace (`../shared/qemu/10.0.2`), or from `QAPI_TEST_SCHEMA`.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=QAPI_TEST_SCHEMA");
    let schema = match std::env::var_os("QAPI_TEST_SCHEMA") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../../shared/qemu/10.0.2/tests/qapi-schema/qapi-schema-test.json"),
    };
    let result = qmp_codegen::Builder::new()
        .schema(&schema)
        .file_stem("qapi_test")
        .unstable_feature(Some("unstable"))
        .type_attribute("TestStruct", "#[derive(Default)]")
        .generate();
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
