//! `qmp-types`: typed QMP commands, replies and events.
//!
//! The bindings are generated at build time by `qmp-codegen` from a QAPI
//! schema: by default the embedded QEMU releases (facts-only snapshots: no
//! documentation prose), the newest spanned with the older ones down to QEMU
//! 5.2, so that the bindings decode every one of those releases' replies
//! (`QMP_OLDEST_QEMU=X.Y` narrows the span; members absent in a release, or
//! under a build condition such as `TARGET_S390X`, are `Option`, and say so
//! in their docs), or the schema named by the `QMP_SCHEMA`
//! environment variable (a QEMU source tree's `qapi/qapi-schema.json`, which
//! gives full documentation, or a saved `query-qmp-schema` reply, which gives
//! bindings for exactly that QEMU binary).
//!
//! ```no_run
//! # async fn f(client: impl qmp_types::Client) -> Result<(), Box<dyn std::error::Error>> {
//! use qmp_types::ClientExt as _;
//! let status = client.query_status().await?;
//! println!("{:?}", status.status);
//! # Ok(()) }
//! ```
//!
//! # What is here
//!
//! * A type per command (implementing [`Command`]: its wire name and reply
//!   type), per event data, and per QAPI type, each with the consts
//!   `SINCE`, `FEATURES` and `CONDITION`.
//! * [`Request`] / [`Response`] over all commands and [`Event`] over all
//!   events, each with an `Unknown` fallback so a newer QEMU never breaks
//!   decoding.
//! * [`ClientExt`] / [`ClientBlockingExt`]: a method per command on any
//!   [`Client`] / [`ClientBlocking`] (`qmp-client` provides both).
//! * [`COMMANDS`] / [`EVENTS`]: the schema's facts as tables, and
//!   [`SCHEMA_JSON`]: the JSON Schema of every type, command and event.
//! * [`runtime`]: the traits and macros the generated code is built on.
//!
//! # Cargo features
//!
//! * `unstable`: definitions, optional members and enum values marked
//!   `unstable` in the schema (off by default: unstable interfaces may
//!   change in any QEMU release). Without it, such members and values
//!   decode like ones the bindings do not know.
//! * Module groups of the embedded schema, so you compile only what you use:
//!   `core` (default: control, run state, machine, devices, introspection,
//!   miscellaneous commands), `block` (block devices, jobs, exports,
//!   transactions), `migration` (with dump, replay, yank), `char`, `net`,
//!   `ui` (with audio), `qom` (objects, crypto, TPM), `devices` (virtio,
//!   CXL, VFIO, stats, trace, ...), and `full` for all of them. Types that
//!   selected definitions need are always included; events and commands of
//!   groups left out decode as `Event::Unknown` / `Request::Unknown`. A
//!   custom `QMP_SCHEMA` always gets every definition.
//! * `qga`, `storage-daemon`: the guest agent and storage daemon bindings,
//!   in `qmp_types::qga` and `qmp_types::storage_daemon` (schemas overridable with
//!   `QMP_QGA_SCHEMA` / `QMP_QSD_SCHEMA`).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate self as qmp_types;

pub mod runtime;

pub use runtime::{
    Client, ClientBlocking, Command, DecodeError, Empty, ErrorReply, EventKind, EventMessage,
    FromJson, Null, OobCommand, Timestamp,
};

/// A module of generated bindings (`$file` in `OUT_DIR`), held to clippy's
/// pedantic group too, but for the lints below: one lint policy for every
/// generated module.
macro_rules! generated_module {
    ($(#[$attr:meta])* $vis:vis mod $name:ident = $file:literal;) => {
        $(#[$attr])*
        #[warn(clippy::pedantic)]
        #[allow(
            deprecated,
            missing_docs,
            clippy::large_enum_variant,
            clippy::enum_variant_names,
            clippy::doc_lazy_continuation,
            clippy::too_many_lines,
            // QAPI's shapes and names, not choices of the generator: structs
            // and constructors with many `bool` members, names like
            // `modela`/`modelb`, one match arm per union branch even where
            // two look alike; and QEMU's own prose, when bindings are
            // generated from a source tree.
            clippy::doc_markdown,
            clippy::struct_excessive_bools,
            clippy::fn_params_excessive_bools,
            clippy::similar_names,
            clippy::match_same_arms,
        )]
        $vis mod $name {
            include!(concat!(env!("OUT_DIR"), "/", $file));
        }
    };
}

generated_module! {
    mod generated = "qmp.rs";
}
pub use generated::*;

generated_module! {
    /// Bindings for the guest agent (`qemu-ga`) schema.
    #[cfg(feature = "qga")]
    pub mod qga = "qga.rs";
}

generated_module! {
    /// Bindings for the storage daemon (`qemu-storage-daemon`) schema.
    #[cfg(feature = "storage-daemon")]
    pub mod storage_daemon = "storage_daemon.rs";
}
