//! Bindings for QEMU's QAPI test schema, which uses every construct of the
//! QAPI language; the tests in `tests/` check the serde semantics of the
//! generated code on it.
#![forbid(unsafe_code)]

#[allow(
    deprecated,
    missing_docs,
    clippy::large_enum_variant,
    clippy::enum_variant_names,
    clippy::doc_lazy_continuation
)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/qapi_test.rs"));
}
pub use generated::*;
