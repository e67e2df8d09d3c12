//! `qmp-codegen`: QAPI model → Rust bindings, for `build.rs`.
//!
//! ```no_run
//! // build.rs
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     # let model = qmp_codegen::qmp_schema::Model::default();
//!     qmp_codegen::Builder::new()
//!         .model(model) // or .schema("qapi/qapi-schema.json")
//!         .out_dir(std::env::var("OUT_DIR")?)
//!         .generate()?;
//!     Ok(())
//! }
//! ```
//!
//! and in the crate:
//!
//! ```ignore
//! #[allow(deprecated, clippy::large_enum_variant, clippy::enum_variant_names)]
//! mod qmp {
//!     include!(concat!(env!("OUT_DIR"), "/qmp.rs"));
//! }
//! ```
//!
//! The generated code refers to the runtime as `::qmp_types::runtime`
//! (configurable with [`Builder::runtime_path`]). It writes two files: the
//! Rust code (`qmp.rs`) and the JSON Schema document it embeds
//! (`qmp.schema.json`).
//!
//! # The mapping
//!
//! * names: types and variants `UpperCamelCase`, fields and methods
//!   `snake_case` (see [`names`]), wire names kept exactly;
//! * struct → struct; optional members `Option<T>` (absent when `None`);
//!   arrays `Vec<T>`; `any` → `serde_json::Value`; `null` →
//!   `qmp_types::runtime::Null`; `int*`/`uint*`/`size` → the Rust integer of
//!   that width (range checked on decode); `number` → `f64`; base members
//!   inlined;
//! * enum → enum with `ALL`, `as_str()`, `FromStr`, `Display` and a fallback
//!   variant (`Unknown(String)`) keeping values from a newer QEMU;
//! * union (flat, or legacy simple) → a struct with the base members and
//!   the discriminator as a field holding a branch enum
//!   (`<Union><Tag>`), whose `Unknown { value, members }` keeps unknown
//!   branches verbatim; a simple union's branches hold their `data`;
//! * alternate → enum decoded by the JSON type of the value;
//! * command → a type implementing `Command` (the argument struct itself
//!   for inline arguments, a newtype for a named/boxed argument type, a unit
//!   struct without arguments); `Request`/`Response` enums over all
//!   commands; `ClientExt` and `ClientBlockingExt` with one method per
//!   command, taking nothing (no arguments) or the argument struct;
//! * every struct (and union) is `#[non_exhaustive]` and has `new(..)` of
//!   its required members (strings as `impl Into<String>`) and, if a
//!   command takes it (directly or inside its arguments), a builder-style
//!   `with_<member>(..)` per optional member: code that
//!   builds arguments never names the optional members it leaves out, so a
//!   QEMU release that adds one breaks no call;
//! * every item whose Rust name differs from its wire name has
//!   `#[doc(alias = "<wire-name>")]` (types, commands, events, fields,
//!   variants, client methods), so rustdoc's search finds the wire name;
//! * event → `<Name>Event` data type, an `Event` enum with an
//!   `Unknown { name, data }` fallback;
//! * `deprecated` → `#[deprecated]`; `unstable` → documented, and gated
//!   behind a cargo feature when [`Builder::unstable_feature`] is set
//!   (definitions, optional members and enum values; a required member
//!   stays, or its type could not be sent);
//!   docs, `since`, features and conditions → rustdoc, and the consts
//!   `SINCE`, `FEATURES` and `CONDITION` on every generated type;
//! * a member under an `if` condition → `Option<T>`, documented with the
//!   condition (builds where it is false do not send it), unless
//!   [`Builder::target_conditions`] is [`Conditions::Keep`];
//! * spanned releases ([`Builder::span_release`]): the model is reconciled
//!   by [`qmp_schema::span::span`] first; members absent or optional in a
//!   release → `Option<T>`, irreconcilable types → `any`, enum values,
//!   commands and events the union, each documented with the releases that
//!   have it.
//!
//! # Names
//!
//! One rule for every Rust name, applied once, before any code is written
//! (`plan.rs`, and for members and variants `lower.rs`):
//!
//! 1. a QAPI type keeps its name in `UpperCamelCase` (`BlockdevBackup`);
//!    one that would shadow a name the generated code uses (`String`,
//!    `Event`, `Request`, ...) gets a `Qapi` prefix;
//! 2. a command's type is its wire name in `UpperCamelCase`
//!    (`query-status` → `QueryStatus`), and so is its `Request`/`Response`
//!    variant and, in `snake_case`, its client method;
//! 3. when the command takes a named argument type of exactly that name
//!    (`blockdev-backup` with `'data': 'BlockdevBackup'`), that type *is*
//!    the command: it implements `Command`, and there is no second type;
//!    otherwise a command whose name is taken by a type gets the suffix
//!    `Command` (no QEMU release from 5.2 to 11.1 has such a clash);
//! 4. an event's data type is `<Event>Event` (`STOP` → `StopEvent`), its
//!    `Event` variant the bare name (`Stop`);
//! 5. a union's branch enum is `<Union><Discriminator>` (`BlockdevOptions`
//!    → `BlockdevOptionsDriver`), with the suffix `Branch` if that is taken;
//! 6. any remaining clash gets a number, in definition order
//!    (see [`names`]).
//!
//! QAPI's own names stay as they are: `BlockdevBackupWrapper` is the
//! schema's wrapper type of a `transaction` action, not a generated
//! name.
//!
//! # What the code looks like
//!
//! Declarations are written out in full, with their docs. The behaviour
//! that is the same for every type comes from the runtime's declarative
//! macros, invoked once per definition in the style of a derive:
//! `rt::impl_object!` (a struct's members and wire names),
//! `rt::impl_enum!` (an enum's wire names), `rt::impl_json!` (the `serde`
//! and `schemars` impls), `rt::impl_meta!` (`SINCE`/`FEATURES`/
//! `CONDITION`), `rt::impl_requests!` and `rt::impl_events!` (the
//! `Request`/`Response` and `Event` enums). The `serde` impls they expand
//! to stream straight from the deserializer; a union's visitor, which
//! differs per union, is written out, and an alternate decodes through a
//! `Value` (its branch depends on the JSON type). This keeps the generated
//! file small and quick both to generate and to compile (`bench/compile-cost.sh`,
//! each built as a dependency of a project of its own: a clean debug build
//! of the default bindings takes 0.51x the time of the crate `qapi-qmp`,
//! which derives; all features 0.87x).
//!
//! # How it is generated
//!
//! Three steps, each its own module: **naming** (`plan.rs`: which
//! definitions become items, their names by the rule above, which members
//! need a `Box`, and the carriers, objects that are no item of their own:
//! a union's inline base, a legacy simple union's `data` wrapper, the empty
//! object, recognised by their place in the schema); **lowering**
//! (`lower.rs`: one pass from the QAPI model and the plan to the bindings
//! model of `model.rs`, where every Rust item is decided once and stored as
//! plain data: name, kind, fields with wire name, type, optionality,
//! docs, derives and attributes); **emission** (`emit.rs`: the bindings
//! model to tokens, with no naming or shape decision left). The bindings
//! model has a readable text form, pinned by snapshot tests next to those
//! of the generated code.
//!
//! Emission builds the syntax trees of the plain declarations directly,
//! writes the other items with `quote!` and parses them with `syn`, and
//! formats everything with `prettyplease`; chunks of definitions, the big
//! enums and the JSON Schema document are done on all cores.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod docs;
mod emit;
mod jsonschema;
mod lower;
mod model;
pub mod names;
mod plan;
mod syntax;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub use qmp_schema;
use qmp_schema::model::{Entity, Model};
use qmp_schema::recover::Recovery;
pub use qmp_schema::span::Release;

/// The generator's version, written into generated files.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The schema could not be read or is invalid; the diagnostic carries
    /// its location (`file:line:col: message`).
    #[error(transparent)]
    Schema(#[from] qmp_schema::Error),
    /// Neither [`Builder::schema`] nor [`Builder::model`] was given.
    #[error("no schema: call `Builder::schema` or `Builder::model`")]
    NoSchema,
    /// No output directory, and `OUT_DIR` is not set.
    #[error("no output directory: call `Builder::out_dir` or run from a build script")]
    NoOutDir,
    /// [`Builder::span_release`] was called without
    /// [`Builder::schema_release`].
    #[error("spanning releases needs the main schema's release: call `Builder::schema_release`")]
    NoSchemaRelease,
    /// A user attribute does not parse.
    #[error("invalid attribute `{attribute}` for `{path}`: {message}")]
    Attribute {
        /// The type path it was given for.
        path: String,
        /// The attribute text.
        attribute: String,
        /// The parser's message.
        message: String,
    },
    /// [`Builder::runtime_path`] is not a Rust path.
    #[error("invalid runtime path `{path}`: {message}")]
    RuntimePath {
        /// The path given.
        path: String,
        /// The parser's message.
        message: String,
    },
    /// The generated code does not parse (a generator bug).
    #[error("generated code does not parse: {0}")]
    Syntax(String),
    /// Writing an output file failed.
    #[error("cannot write `{path}`: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// Which definitions to keep.
#[derive(Debug, Clone, Default)]
struct Keep {
    active: bool,
    names: Vec<String>,
    prefixes: Vec<String>,
    modules: Vec<String>,
}

impl Keep {
    fn is_empty(&self) -> bool {
        !self.active
    }

    fn matches(&self, e: &Entity, module: &str) -> bool {
        let Some(name) = e.name() else { return false };
        if matches!(e, Entity::Builtin(_)) {
            return false;
        }
        self.names.iter().any(|n| n == name)
            || self.prefixes.iter().any(|p| name.starts_with(p.as_str()))
            || self.modules.iter().any(|m| module_matches(module, m))
    }
}

/// `block` matches module `block.json`, `qapi/block.json`, `block-core.json`
/// does not match `block`. A full module name matches itself.
fn module_matches(module: &str, wanted: &str) -> bool {
    let file = module.rsplit('/').next().unwrap_or(module);
    module == wanted || file == wanted || file.strip_suffix(".json") == Some(wanted)
}

/// Generator options (see [`Builder`]).
#[derive(Debug, Clone)]
pub struct Options {
    /// Emit documentation from the schema's doc comments.
    pub docs: bool,
    /// Gate `unstable` definitions, optional members and enum values behind
    /// this cargo feature.
    pub unstable_feature: Option<String>,
    /// Path of the runtime module in generated code.
    pub runtime_path: String,
    /// Base name of the output files.
    pub file_stem: String,
    /// How members under an `if` condition are generated.
    pub conditions: Conditions,
}

/// How definitions under an `if` condition (`TARGET_*`, `CONFIG_*`) are
/// generated (see [`Builder::target_conditions`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Conditions {
    /// Bindings for every build of QEMU (default): a member under a
    /// condition is optional (builds where the condition is false do not
    /// send it), documented with its condition. Conditional enum values,
    /// commands and events are generated and documented with their
    /// condition (enums decode values they do not know anyway).
    #[default]
    Optional,
    /// Bindings for the one build the schema describes (e.g. a
    /// `query-qmp-schema` reply of one binary, where conditions are already
    /// evaluated, or a source tree for one target): members keep the
    /// required-ness the schema gives them.
    Keep,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            docs: true,
            unstable_feature: None,
            runtime_path: "::qmp_types::runtime".to_owned(),
            file_stem: "qmp".to_owned(),
            conditions: Conditions::default(),
        }
    }
}

/// The generated output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// The Rust code, formatted, with its `@generated` header.
    pub code: String,
    /// The JSON Schema document (`<stem>.schema.json`).
    pub json_schema: String,
    /// Files the code was generated from (for `rerun-if-changed`).
    pub inputs: Vec<PathBuf>,
    /// For a schema read from a `query-qmp-schema` reply with a
    /// [reference](Builder::reference_schema): which masked types got real
    /// names by structure and which kept names derived from their use.
    pub recovery: Option<qmp_schema::recover::Recovery>,
}

/// Configures and runs the generator (`&mut Self` setters, in the style of
/// `prost_build::Config`).
#[derive(Debug, Default)]
pub struct Builder {
    schema: Option<PathBuf>,
    model: Option<Model>,
    out_dir: Option<PathBuf>,
    opts: Options,
    attrs: Vec<(String, String)>,
    keep: Keep,
    cargo_directives: Option<bool>,
    parse: qmp_schema::ParseOptions,
    reference: Option<Reference>,
    span: SpanOptions,
}

/// Where the reference model for name recovery comes from.
#[derive(Debug)]
enum Reference {
    Path(PathBuf),
    Model(Box<Model>),
}

/// The releases to span (see [`Builder::span_release`]).
#[derive(Debug, Default, Clone)]
struct SpanOptions {
    newest: Option<Release>,
    older: Vec<(Release, PathBuf)>,
    oldest: Option<Release>,
}

impl Builder {
    /// A builder with default options: docs on, everything kept, no
    /// feature gating, files `qmp.rs` and `qmp.schema.json`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads the schema from this file: a QAPI `qapi-schema.json` (with its
    /// includes) or a saved `query-qmp-schema` reply.
    pub fn schema(&mut self, path: impl AsRef<Path>) -> &mut Self {
        self.schema = Some(path.as_ref().to_owned());
        self
    }

    /// Options for reading [`schema`](Self::schema) (language level, limits).
    pub fn parse_options(&mut self, opts: qmp_schema::ParseOptions) -> &mut Self {
        self.parse = opts;
        self
    }

    /// Reads [`schema`](Self::schema) by the QAPI rules of this QEMU
    /// release (e.g. `9.0`), for a schema without its tree's `VERSION`
    /// file; `None` (the default) reads `VERSION`, else the newest rules.
    /// See `docs/qapi-language-history.md`.
    pub fn qemu_version(&mut self, level: Option<qmp_schema::Level>) -> &mut Self {
        self.parse.level = level;
        self
    }

    /// The reference schema for a schema read from a saved
    /// `query-qmp-schema` reply: a reply names its types only by number,
    /// and with a reference each gets the name of the reference type it
    /// matches by structure (see `qmp_schema::recover`), so code written
    /// against bindings of the reference compiles against bindings of the
    /// reply. Types that match nothing keep names derived from their use.
    /// Ignored for QAPI source and snapshots. Best: the newest release's
    /// schema (a QEMU tree's `qapi-schema.json` or a snapshot).
    pub fn reference_schema(&mut self, path: impl AsRef<Path>) -> &mut Self {
        self.reference = Some(Reference::Path(path.as_ref().to_owned()));
        self
    }

    /// Like [`reference_schema`](Self::reference_schema), with an already
    /// loaded model.
    pub fn reference_model(&mut self, model: Model) -> &mut Self {
        self.reference = Some(Reference::Model(Box::new(model)));
        self
    }

    /// Uses an already loaded model (takes precedence over [`schema`](Self::schema)).
    pub fn model(&mut self, model: Model) -> &mut Self {
        self.model = Some(model);
        self
    }

    /// Where to write the files (default: `OUT_DIR`).
    pub fn out_dir(&mut self, dir: impl AsRef<Path>) -> &mut Self {
        self.out_dir = Some(dir.as_ref().to_owned());
        self
    }

    /// The output file stem: `<stem>.rs` and `<stem>.schema.json`.
    pub fn file_stem(&mut self, stem: impl Into<String>) -> &mut Self {
        self.opts.file_stem = stem.into();
        self
    }

    /// Emits rustdoc from the schema's doc comments (default on). Without,
    /// items still get a one-line description and their metadata.
    pub fn docs(&mut self, on: bool) -> &mut Self {
        self.opts.docs = on;
        self
    }

    /// Gates `unstable` definitions, optional members and enum values
    /// behind `#[cfg(feature = ..)]` of the crate that includes the code.
    pub fn unstable_feature(&mut self, feature: Option<&str>) -> &mut Self {
        self.opts.unstable_feature = feature.map(str::to_owned);
        self
    }

    /// The path generated code uses for the runtime (default
    /// `::qmp_types::runtime`), e.g. a re-export of it in your own crate.
    /// The code calls the runtime's macros through this path, and they
    /// refer to `qmp_types` themselves, so it must lead to
    /// `qmp_types::runtime`.
    pub fn runtime_path(&mut self, path: impl Into<String>) -> &mut Self {
        self.opts.runtime_path = path.into();
        self
    }

    /// Adds an attribute (e.g. `#[derive(Hash)]`) to the type generated for
    /// a QAPI definition (`"."` for every type). Checked with `syn` when
    /// generating.
    pub fn type_attribute(
        &mut self,
        path: impl Into<String>,
        attribute: impl Into<String>,
    ) -> &mut Self {
        self.attrs.push((path.into(), attribute.into()));
        self
    }

    /// Keeps this definition (and what it needs). Without any `keep_*`
    /// call, everything is kept.
    pub fn keep(&mut self, name: impl Into<String>) -> &mut Self {
        self.keep.active = true;
        self.keep.names.push(name.into());
        self
    }

    /// Keeps definitions whose name starts with `prefix` (and what they need).
    pub fn keep_prefix(&mut self, prefix: impl Into<String>) -> &mut Self {
        self.keep.active = true;
        self.keep.prefixes.push(prefix.into());
        self
    }

    /// Keeps definitions of a QAPI module (`block`, `block.json` or the
    /// module path), and what they need.
    pub fn keep_module(&mut self, module: impl Into<String>) -> &mut Self {
        self.keep.active = true;
        self.keep.modules.push(module.into());
        self
    }

    /// Starts an explicit selection: without further `keep_*` calls, no
    /// definition is generated (the `Request`/`Event` enums still are).
    pub fn keep_nothing(&mut self) -> &mut Self {
        self.keep.active = true;
        self
    }

    /// Names the QEMU release of the main [`schema`](Self::schema) (or
    /// [`model`](Self::model)). Needed to span releases.
    pub fn schema_release(&mut self, release: Release) -> &mut Self {
        self.span.newest = Some(release);
        self
    }

    /// Spans an older QEMU release, whose schema is at `schema`: the
    /// bindings are generated from the main schema reconciled with every
    /// spanned release ([`qmp_schema::span::span`]), so that every spanned
    /// release's replies decode. Members absent or optional in any spanned
    /// release become `Option`; enum values, commands and events are the
    /// union; the docs say which releases have what. Without any call, no
    /// spanning is done.
    pub fn span_release(&mut self, release: Release, schema: impl AsRef<Path>) -> &mut Self {
        self.span.older.push((release, schema.as_ref().to_owned()));
        self
    }

    /// Spans only the releases added with [`span_release`](Self::span_release)
    /// that are this release or newer (e.g. `9.0`: QEMU 5.2 is not spanned).
    pub fn oldest_release(&mut self, release: Release) -> &mut Self {
        self.span.oldest = Some(release);
        self
    }

    /// How members under an `if` condition are generated (default
    /// [`Conditions::Optional`]: bindings that decode every build of QEMU).
    pub fn target_conditions(&mut self, conditions: Conditions) -> &mut Self {
        self.opts.conditions = conditions;
        self
    }

    /// Whether to print `cargo:rerun-if-changed` lines (default: when
    /// `OUT_DIR` is set, i.e. in a build script).
    pub fn cargo_directives(&mut self, on: bool) -> &mut Self {
        self.cargo_directives = Some(on);
        self
    }

    fn parsed_attrs(&self) -> Result<HashMap<String, Vec<String>>, Error> {
        let mut out: HashMap<String, Vec<String>> = HashMap::new();
        for (path, attr) in &self.attrs {
            let text = format!("{attr}\nstruct S;");
            let parsed =
                syn::parse_str::<syn::DeriveInput>(&text).map_err(|e| Error::Attribute {
                    path: path.clone(),
                    attribute: attr.clone(),
                    message: e.to_string(),
                })?;
            for a in parsed.attrs {
                out.entry(path.clone())
                    .or_default()
                    .push(quote::quote!(#a).to_string());
            }
        }
        Ok(out)
    }

    fn load(&mut self) -> Result<(Model, Vec<PathBuf>, Option<Recovery>), Error> {
        let (mut model, mut inputs) = self.load_main()?;
        let mut recovery = None;
        if model.origin == qmp_schema::model::Origin::Introspection
            && let Some(r) = &self.reference
        {
            let loaded;
            let reference = match r {
                Reference::Model(m) => &**m,
                Reference::Path(p) => {
                    loaded = qmp_schema::load(p, &qmp_schema::ParseOptions::default())?;
                    inputs.extend(loaded.sources.files().map(|(_, f)| f.path.clone()));
                    &loaded
                }
            };
            recovery = Some(qmp_schema::recover::recover_names(&mut model, reference));
        }
        let older: Vec<(Release, PathBuf)> = self
            .span
            .older
            .iter()
            .filter(|(r, _)| self.span.oldest.is_none_or(|o| *r >= o))
            .cloned()
            .collect();
        if !older.is_empty() {
            let newest = self.span.newest.ok_or(Error::NoSchemaRelease)?;
            let mut models = Vec::with_capacity(older.len());
            for (r, path) in older {
                let m = qmp_schema::load(&path, &self.parse)?;
                inputs.push(path);
                models.push((r, m));
            }
            model = qmp_schema::span::span((newest, model), &models);
        }
        if self.opts.conditions == Conditions::Optional {
            optional_conditions(&mut model);
        }
        Ok((model, inputs, recovery))
    }

    fn load_main(&mut self) -> Result<(Model, Vec<PathBuf>), Error> {
        if let Some(m) = self.model.take() {
            let inputs = m.sources.files().map(|(_, f)| f.path.clone()).collect();
            return Ok((m, inputs));
        }
        let Some(path) = &self.schema else {
            return Err(Error::NoSchema);
        };
        let model = qmp_schema::load(path, &self.parse)?;
        let mut inputs: Vec<PathBuf> = model.sources.files().map(|(_, f)| f.path.clone()).collect();
        // The language level comes from the tree's VERSION file unless set.
        if self.parse.level.is_none()
            && let Some(v) = qmp_schema::Level::version_file(path)
        {
            inputs.push(v);
        }
        Ok((model, inputs))
    }

    /// Loads the schema, names its items (the plan) and lowers it to the
    /// bindings model; `f` gets the lowering pass (for the JSON Schema
    /// document) and the model.
    fn lowered<T>(
        &mut self,
        f: impl FnOnce(&lower::Lowerer<'_>, &model::Bindings) -> Result<T, Error>,
    ) -> Result<(T, Vec<PathBuf>, Option<Recovery>), Error> {
        let (model, inputs, recovery) = self.load()?;
        let attrs = self.parsed_attrs()?;
        if let Some((path, attr)) = self
            .attrs
            .iter()
            .find(|(p, _)| p != "." && model.get(p).is_none())
        {
            return Err(Error::Attribute {
                path: path.clone(),
                attribute: attr.clone(),
                message: "the schema has no definition of that name".to_owned(),
            });
        }
        let keep = self.keep.clone();
        let keep_fn = |e: &Entity, m: &str| keep.matches(e, m);
        let plan = plan::Plan::new(
            &model,
            if keep.is_empty() {
                None
            } else {
                Some(&keep_fn)
            },
        );
        let schema_file = format!("{}.schema.json", self.opts.file_stem);
        syn::parse_str::<syn::Path>(&self.opts.runtime_path).map_err(|e| Error::RuntimePath {
            path: self.opts.runtime_path.clone(),
            message: e.to_string(),
        })?;
        let lowerer = lower::Lowerer {
            model: &model,
            plan: &plan,
            opts: &self.opts,
            attrs: &attrs,
        };
        let bindings = lowerer.lower(schema_file);
        Ok((f(&lowerer, &bindings)?, inputs, recovery))
    }

    /// Generates the code without writing anything.
    pub fn generate_output(&mut self) -> Result<Output, Error> {
        let ((body, json_schema), inputs, recovery) = self
            .lowered(|lowerer, bindings| render_parallel(lowerer, &emit::Emitter { bindings }))?;
        let source = inputs
            .first()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "a schema model".to_owned());
        let header = format!(
            "// @generated by qmp-codegen {VERSION} from {source}.\n// Do not edit: regenerate instead.\n\n"
        );
        let code = header + &body;
        Ok(Output {
            code,
            json_schema,
            inputs,
            recovery,
        })
    }

    /// Generates and writes `<stem>.rs` and `<stem>.schema.json` into the
    /// output directory (only when their content changed), and in a build
    /// script prints `cargo:rerun-if-changed` for every schema file read.
    pub fn generate(&mut self) -> Result<Output, Error> {
        let dir = match &self.out_dir {
            Some(d) => d.clone(),
            None => std::env::var_os("OUT_DIR")
                .map(PathBuf::from)
                .ok_or(Error::NoOutDir)?,
        };
        let directives = self
            .cargo_directives
            .unwrap_or_else(|| std::env::var_os("OUT_DIR").is_some());
        let schema_path = self.schema.clone();
        let out = self.generate_output()?;
        if directives {
            let mut seen: Vec<&PathBuf> = out.inputs.iter().collect();
            if let Some(p) = &schema_path
                && !seen.contains(&p)
            {
                seen.push(p);
            }
            for p in seen {
                println!("cargo:rerun-if-changed={}", p.display());
            }
        }
        write_file_if_changed(
            &dir.join(format!("{}.rs", self.opts.file_stem)),
            out.code.as_bytes(),
        )?;
        write_file_if_changed(
            &dir.join(format!("{}.schema.json", self.opts.file_stem)),
            out.json_schema.as_bytes(),
        )?;
        Ok(out)
    }
}

/// Makes every object member under an `if` condition optional, except a
/// union's discriminator (a union without it could not be decoded; QAPI
/// does not allow a conditional discriminator anyway).
fn optional_conditions(model: &mut Model) {
    for e in &mut model.entities {
        let Entity::Object(o) = e else { continue };
        let tag = o.variants.as_ref().map(|v| v.tag.clone());
        for list in [&mut o.local_members, &mut o.members] {
            for m in list.iter_mut() {
                if m.cond.is_some() && Some(&m.name) != tag.as_ref() {
                    m.optional = true;
                }
            }
        }
    }
}

/// Renders the emitter's output: the code and the JSON Schema document. The
/// work is split into jobs (the JSON Schema and the big single items first,
/// then chunks of definitions), each done on whichever thread takes it; the
/// formatted parts are joined in order, so the result does not depend on the
/// thread count.
fn render_parallel(
    lowerer: &lower::Lowerer<'_>,
    emitter: &emit::Emitter<'_>,
) -> Result<(String, String), Error> {
    /// Formats a parsed or built file (doc blocks split into `///` lines).
    fn format(file: syn::Result<syn::File>) -> Result<String, Error> {
        let mut file = file.map_err(|e| Error::Syntax(e.to_string()))?;
        docs::split_doc_lines(&mut file);
        Ok(prettyplease::unparse(&file))
    }
    enum Job<'a> {
        JsonSchema,
        Head,
        Items(&'a [model::Item]),
        Tail(emit::Tail),
    }
    let entities = emitter.items();
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, 8);
    let chunk = entities.len().div_ceil(threads * 4).clamp(8, 32);
    // Output order: head, items, tail parts. Work order: biggest first.
    let mut jobs: Vec<Job<'_>> = vec![Job::JsonSchema, Job::Head];
    jobs.extend(entities.chunks(chunk).map(Job::Items));
    jobs.extend(emit::Tail::ALL.into_iter().map(Job::Tail));
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by_key(|&i| !matches!(jobs[i], Job::Tail(_) | Job::JsonSchema));
    let run = |job: &Job<'_>| -> Result<String, Error> {
        match job {
            Job::JsonSchema => serde_json::to_string(&lowerer.json_schema_document())
                .map_err(|e| Error::Syntax(e.to_string())),
            Job::Head => format(emitter.emit_head()),
            Job::Items(c) => format(emitter.emit_items(c)),
            Job::Tail(t) => format(emitter.emit_tail(*t)),
        }
    };
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut parts: Vec<Option<Result<String, Error>>> = Vec::new();
    parts.resize_with(jobs.len(), || None);
    let parts = std::sync::Mutex::new(parts);
    let work = || {
        loop {
            let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(&i) = order.get(k) else { break };
            let out = run(&jobs[i]);
            if let Ok(mut p) = parts.lock() {
                p[i] = Some(out);
            }
        }
    };
    std::thread::scope(|scope| {
        for _ in 1..threads.min(jobs.len()) {
            scope.spawn(work);
        }
        work();
    });
    let mut parts = parts
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .map(|p| p.ok_or_else(|| Error::Syntax("a generator thread failed".to_owned()))?);
    let json_schema = parts.next().unwrap_or_else(|| Ok(String::new()))?;
    let mut out = String::new();
    for p in parts {
        out.push_str(&p?);
    }
    Ok((out, json_schema))
}

/// Writes a file unless it already has exactly this content (so cargo does
/// not see a change and rebuild needlessly).
pub fn write_file_if_changed(path: &Path, content: &[u8]) -> Result<(), Error> {
    if std::fs::read(path).is_ok_and(|old| old == content) {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|source| Error::Io {
            path: parent.to_owned(),
            source,
        })?;
    }
    std::fs::write(path, content).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })
}
