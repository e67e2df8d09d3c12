//! Model → Rust tokens.

use std::collections::HashMap;

use proc_macro2::{Ident, Literal, TokenStream};
use qmp_schema::ast::{Doc, DocSectionKind};
use qmp_schema::model::{
    Alternate, Command, Common, Entity, Enum, Event, Feature, JsonType, Member, Model, Object,
};
use quote::{ToTokens, format_ident, quote};

use crate::Options;
use crate::docs::to_markdown;
use crate::names::{self, ident};
use crate::plan::{Payload, Plan, Use, is_carrier, render_cond, wrapped_type};
use crate::syntax::{self, Out};

/// The emitter.
pub(crate) struct Emitter<'m> {
    pub model: &'m Model,
    pub plan: Plan,
    pub opts: &'m Options,
    /// Extra attributes per QAPI name ("." = every type).
    pub attrs: &'m HashMap<String, Vec<String>>,
    /// File name of the JSON Schema document, `include_str!`ed.
    pub schema_file: String,
}

fn lit(s: &str) -> Literal {
    Literal::string(s)
}

fn opt_lit(s: Option<&str>) -> TokenStream {
    match s {
        Some(s) => {
            let l = lit(s);
            quote!(Some(#l))
        }
        None => quote!(None),
    }
}

/// One `#[doc = "..."]` attribute for a whole doc block, each line with
/// the space `///` puts after the slashes. The renderer splits it into one
/// attribute per line after parsing (`docs::split_doc_lines`).
fn doc_attrs(text: &str) -> TokenStream {
    let mut block = String::with_capacity(text.len() + text.len() / 32 + 1);
    for (i, l) in text.lines().enumerate() {
        if i > 0 {
            block.push('\n');
        }
        if !l.is_empty() {
            block.push(' ');
            block.push_str(l);
        }
    }
    if text.lines().next().is_none() {
        return TokenStream::new();
    }
    let l = crate::docs::raw_lit(&block);
    quote!(#[doc = #l])
}

/// `#[doc(alias = "wire-name")]` for each wire name that differs from the
/// Rust name (rustdoc rejects an alias equal to the name), so a search for
/// the name on the wire finds the item.
fn alias_attrs<'a>(wire: impl IntoIterator<Item = &'a str>, rust: &str) -> Vec<syn::Attribute> {
    let rust = rust.strip_prefix("r#").unwrap_or(rust);
    let mut seen: Vec<&str> = Vec::new();
    wire.into_iter()
        .filter(|w| {
            *w != rust && !seen.contains(w) && {
                seen.push(w);
                true
            }
        })
        .map(|w| syntax::list_attr("doc", quote!(alias = #w)))
        .collect()
}

impl<'m> Emitter<'m> {
    fn rust_name(&self, qapi: &str) -> Ident {
        match self.plan.types.get(qapi) {
            Some(n) => format_ident!("{}", n),
            None => format_ident!("{}", names::camel(qapi)),
        }
    }

    /// The Rust type for a QAPI type name.
    fn ty(&self, name: &str) -> TokenStream {
        self.ty_syn(name).into_token_stream()
    }

    /// The Rust type for a QAPI type name, as a syntax tree.
    fn ty_syn(&self, name: &str) -> syn::Type {
        let e = self.model.get(name);
        let prim = |n: &str| syntax::path_ty(&[n]);
        match e {
            Some(Entity::Builtin(b)) => match b.common.name.as_str() {
                "str" => prim("String"),
                "int" => prim("i64"),
                "int8" => prim("i8"),
                "int16" => prim("i16"),
                "int32" => prim("i32"),
                "int64" => prim("i64"),
                "uint8" => prim("u8"),
                "uint16" => prim("u16"),
                "uint32" => prim("u32"),
                "uint64" | "size" => prim("u64"),
                "number" => prim("f64"),
                "bool" => prim("bool"),
                "null" => syntax::path_ty(&["rt", "Null"]),
                _ => match b.json_type {
                    JsonType::String => prim("String"),
                    JsonType::Int => prim("i64"),
                    JsonType::Number => prim("f64"),
                    JsonType::Boolean => prim("bool"),
                    JsonType::Null => syntax::path_ty(&["rt", "Null"]),
                    _ => syntax::path_ty(&["rt", "Value"]),
                },
            },
            Some(Entity::Array(a)) => syntax::generic_ty(&["Vec"], vec![self.ty_syn(&a.element)]),
            Some(Entity::Object(_)) if name == "q_empty" => syntax::path_ty(&["rt", "Empty"]),
            _ => syntax::ident_ty(self.rust_name(name)),
        }
    }

    fn ty_in(&self, container: &str, name: &str) -> TokenStream {
        self.ty_in_syn(container, name).into_token_stream()
    }

    fn ty_in_syn(&self, container: &str, name: &str) -> syn::Type {
        let t = self.ty_syn(name);
        if self.plan.needs_box(self.model, container, name) {
            syntax::generic_ty(&["Box"], vec![t])
        } else {
            t
        }
    }

    fn cfg_attr(&self, c: &Common) -> Option<syn::Attribute> {
        match &self.opts.unstable_feature {
            Some(f) if c.is_unstable() => Some(syntax::list_attr("cfg", quote!(feature = #f))),
            _ => None,
        }
    }

    /// `#[cfg(feature = "unstable")]` for a member or enum value marked
    /// `unstable`, when the builder gates unstable definitions. Required
    /// members stay: without them the type could not be sent.
    fn member_gate(&self, features: &[Feature], optional: bool) -> Option<syn::Attribute> {
        match &self.opts.unstable_feature {
            Some(f) if optional && features.iter().any(Feature::is_unstable) => {
                Some(syntax::list_attr("cfg", quote!(feature = #f)))
            }
            _ => None,
        }
    }

    fn deprecated_attr(features: &[Feature]) -> Option<syn::Attribute> {
        features
            .iter()
            .any(Feature::is_deprecated)
            .then(|| syntax::word_attr("deprecated"))
    }

    fn user_attr_list(&self, qapi: &str) -> Vec<syn::Attribute> {
        let tokens = self.user_attrs(qapi);
        if tokens.is_empty() {
            return Vec::new();
        }
        // Checked when the builder ran (see `Builder::parsed_attrs`).
        syn::parse::Parser::parse2(syn::Attribute::parse_outer, tokens).unwrap_or_default()
    }

    fn cfg(&self, c: &Common) -> TokenStream {
        self.cfg_attr(c).into_token_stream()
    }

    fn deprecated(features: &[Feature]) -> TokenStream {
        Self::deprecated_attr(features).into_token_stream()
    }

    fn user_attrs(&self, qapi: &str) -> TokenStream {
        // The attributes were checked with syn when the builder ran; they
        // are kept as text so the emitter can be shared between threads.
        let all = self.attrs.get(".").into_iter().flatten();
        let own = self.attrs.get(qapi).into_iter().flatten();
        all.chain(own)
            .filter_map(|a| a.parse::<TokenStream>().ok())
            .collect()
    }

    /// The Rust name of a QAPI type that is a generated item, as an
    /// intra-doc link when the item always exists (not behind the unstable
    /// feature), else as code.
    fn type_ref(&self, name: &str) -> Option<String> {
        let rust = self.plan.types.get(name)?;
        // A command's or event's own argument struct has its gate.
        let owner = self
            .plan
            .owned_args
            .contains(name)
            .then(|| {
                self.model.entities.iter().find_map(|e| match e {
                    Entity::Command(c) if c.arg_type.as_deref() == Some(name) => Some(&c.common),
                    Entity::Event(v) if v.arg_type.as_deref() == Some(name) => Some(&v.common),
                    _ => None,
                })
            })
            .flatten();
        let item = match self.model.get(name) {
            _ if owner.is_some() => owner?,
            Some(Entity::Enum(e)) => &e.common,
            Some(Entity::Alternate(a)) => &a.common,
            Some(Entity::Object(o)) if !is_carrier(self.model, name) => &o.common,
            _ => return None,
        };
        Some(
            if self.opts.unstable_feature.is_some() && item.is_unstable() {
                format!("`{rust}`")
            } else {
                format!("[`{rust}`]")
            },
        )
    }

    /// A QAPI type in words, linking the generated types.
    fn type_words(&self, name: &str) -> String {
        if let Some(inner) = wrapped_type(self.model, name) {
            return self.type_words(inner);
        }
        match self.model.get(name) {
            Some(Entity::Array(a)) => format!("a list of {}", self.type_words(&a.element)),
            Some(Entity::Builtin(b)) if b.common.name == "any" => "any JSON value".to_owned(),
            Some(Entity::Builtin(b)) => format!("`{}`", b.common.name),
            Some(Entity::Object(_)) if name == "q_empty" => {
                "an empty object ([`Empty`](rt::Empty))".to_owned()
            }
            _ => self.type_ref(name).unwrap_or_else(|| format!("`{name}`")),
        }
    }

    /// A link to a command's or event's item (code, when it is behind the
    /// unstable feature).
    fn entity_link(&self, c: &Common, rust: &str) -> String {
        if self.opts.unstable_feature.is_some() && c.is_unstable() {
            format!("`{rust}`")
        } else {
            format!("[`{rust}`]")
        }
    }

    /// Where a type is used, in words with links (at most six uses, by
    /// kind: returned by, arguments of, data of, member of, branch of).
    fn uses_words(&self, name: &str) -> Option<String> {
        let uses = self.plan.used_by.get(name)?;
        let common = |n: &str| self.model.get(n).and_then(Entity::common);
        let cmd = |c: &str| Some(self.entity_link(common(c)?, self.plan.commands.get(c)?));
        let ev = |e: &str| Some(self.entity_link(common(e)?, &self.plan.events.get(e)?.0));
        let mut groups: Vec<(&str, Vec<String>)> = Vec::new();
        let mut shown = 0usize;
        let mut more = 0usize;
        for u in uses {
            let (kind, word) = match u {
                Use::Returns(c) => ("returned by", cmd(c)),
                Use::Arguments(c) if !self.plan.arg_commands.contains_key(name) => {
                    ("the arguments of", cmd(c))
                }
                Use::Arguments(_) => continue,
                Use::Data(e) => ("the data of", ev(e)),
                Use::Member(t, m) => (
                    "a member of",
                    self.type_ref(t).map(|l| format!("{l} (`{m}`)")),
                ),
                Use::Branch(t, b) => (
                    "a branch of",
                    self.type_ref(t).map(|l| format!("{l} (`{b}`)")),
                ),
            };
            let Some(word) = word else { continue };
            if shown == 6 {
                more += 1;
                continue;
            }
            shown += 1;
            match groups.iter_mut().find(|(k, _)| *k == kind) {
                Some((_, list)) => list.push(word),
                None => groups.push((kind, vec![word])),
            }
        }
        if groups.is_empty() {
            return None;
        }
        let mut text = groups
            .iter()
            .map(|(k, list)| format!("{k} {}", list.join(", ")))
            .collect::<Vec<_>>()
            .join("; ");
        if more > 0 {
            text.push_str(&format!("; and {more} more"));
        }
        Some(text)
    }

    /// Doc text for a definition.
    fn def_doc(&self, c: &Common, what: &str, extra: &[String]) -> String {
        let mut parts: Vec<String> = Vec::new();
        let doc = if self.opts.docs { c.doc.as_ref() } else { None };
        let uses = self.uses_words(&c.name);
        match doc.map(Doc::body).filter(|b| !b.trim().is_empty()) {
            Some(body) => {
                parts.push(to_markdown(body));
                if let Some(u) = uses {
                    parts.push(format!("Used as: {u}."));
                }
            }
            // Facts only: what it is and where it is used.
            None if extra.is_empty() => parts.push(match uses {
                Some(u) => format!("The QAPI {what} `{}`: {u}.", c.name),
                None => format!(
                    "The QAPI {what} `{}` (no other definition refers to it).",
                    c.name
                ),
            }),
            None => {}
        }
        parts.extend(extra.iter().cloned());
        if let Some(doc) = doc {
            for s in &doc.sections {
                let head = match s.kind {
                    DocSectionKind::Returns => "# Returns",
                    DocSectionKind::Errors => "# Errors",
                    DocSectionKind::Plain if !std::ptr::eq(s, &doc.sections[0]) => "",
                    _ => continue,
                };
                let t = to_markdown(&s.text);
                if t.is_empty() {
                    continue;
                }
                if head.is_empty() {
                    parts.push(t);
                } else {
                    parts.push(format!("{head}\n\n{t}"));
                }
            }
        }
        let mut meta = Vec::new();
        if let Some(s) = &c.since {
            meta.push(format!("Since: {s}"));
        }
        if let Some(cond) = &c.cond {
            meta.push(format!("Only available if `{}`.", render_cond(cond)));
        }
        if let Some(s) = self.model.spanned.as_deref() {
            if let Some(p) = s.entities.get(&c.name) {
                let mut text = p.describe(&s.spanned);
                if let Some(first) = text.get(..1) {
                    text = first.to_uppercase() + &text[1..];
                }
                meta.push(format!("{text}."));
            }
        }
        for f in &c.features {
            let fdoc = doc
                .and_then(|d| d.feature(&f.name))
                .map(|s| to_markdown(&s.text))
                .filter(|s| !s.is_empty());
            let label = if f.is_deprecated() {
                "**Deprecated**".to_owned()
            } else if f.is_unstable() {
                "**Unstable**".to_owned()
            } else {
                format!("Feature `{}`", f.name)
            };
            meta.push(match fdoc {
                Some(d) => format!("- {label}: {}", d.replace('\n', " ")),
                None => format!("- {label}"),
            });
        }
        if c.is_unstable()
            && let Some(f) = &self.opts.unstable_feature
        {
            meta.push(format!(
                "This definition is unstable: it is only available with the `{f}` cargo feature."
            ));
        }
        if !meta.is_empty() {
            parts.push(meta.join("\n\n"));
        }
        parts.join("\n\n")
    }

    fn member_doc(&self, m: &Member) -> String {
        let mut parts = Vec::new();
        if let Some(d) = m
            .doc
            .as_deref()
            .filter(|d| self.opts.docs && !d.trim().is_empty())
        {
            parts.push(to_markdown(d));
        }
        parts.push(format!(
            "Wire name `{}`; {}; {}.",
            m.name,
            if m.optional {
                "optional (`None`: absent on the wire, so QEMU's default applies)"
            } else {
                "required"
            },
            self.type_words(&m.ty)
        ));
        if let Some(cond) = &m.cond {
            parts.push(format!("Only available if `{}`.", render_cond(cond)));
            if self.opts.conditions == crate::Conditions::Optional {
                parts.push(
                    "Optional in these bindings: builds of QEMU where the condition is false do not have it."
                        .to_owned(),
                );
            }
        }
        if let Some(span) = self
            .model
            .spanned
            .as_deref()
            .and_then(|s| s.members.get(&(m.defined_in.clone(), m.name.clone())))
        {
            parts.push(span.describe());
        }
        for f in &m.features {
            parts.push(if f.is_deprecated() {
                "**Deprecated**".to_owned()
            } else if f.is_unstable() {
                "**Unstable**".to_owned()
            } else {
                format!("Feature `{}`.", f.name)
            });
        }
        parts.join("\n\n")
    }

    /// `rt::impl_json!(KIND Name, SCHEMA);`: the wire traits of a type
    /// (see the runtime's `impl_json!`).
    fn impl_json(name: &Ident, cfg: &TokenStream, kind: TokenStream) -> TokenStream {
        quote! {
            #cfg
            rt::impl_json!(#kind #name, SCHEMA);
        }
    }

    // ----------------------------------------------------------------------
    // Enums.

    pub fn emit_enum(&self, e: &Enum, out: &mut Out) -> syn::Result<()> {
        let name = self.rust_name(&e.common.name);
        let cfg = self.cfg_attr(&e.common);
        let mut attrs = syntax::docs(&self.def_doc(&e.common, "enum", &[]));
        attrs.push(syntax::list_attr(
            "derive",
            quote!(Debug, Clone, PartialEq, Eq, Hash),
        ));
        attrs.extend(Self::deprecated_attr(&e.common.features));
        attrs.extend(self.user_attr_list(&e.common.name));
        attrs.extend(cfg.clone());
        let wire: Vec<&str> = e.members.iter().map(|m| m.name.as_str()).collect();
        let variants = names::unique_camel(wire.iter().copied(), &[]);
        let fallback = if variants.iter().any(|v| v == "Unknown") {
            format_ident!("UnknownValue")
        } else {
            format_ident!("Unknown")
        };
        let vids: Vec<Ident> = variants.iter().map(|v| format_ident!("{}", v)).collect();
        let mut vdecl: Vec<syn::Variant> = e
            .members
            .iter()
            .zip(&vids)
            .map(|(m, v)| {
                let mut d = format!("`{}` on the wire", m.name);
                if let Some(c) = &m.cond {
                    d.push_str(&format!(" (only if `{}`)", render_cond(c)));
                }
                if let Some(p) = self.model.spanned.as_deref().and_then(|s| {
                    Some((s, s.values.get(&(e.common.name.clone(), m.name.clone()))?))
                }) {
                    d.push_str(&format!(" ({})", p.1.describe(&p.0.spanned)));
                }
                for f in &m.features {
                    d.push_str(&format!(" ({})", f.name));
                }
                if let Some(section) = e
                    .common
                    .doc
                    .as_ref()
                    .filter(|_| self.opts.docs)
                    .and_then(|doc| doc.member(&m.name))
                    .filter(|s| !s.text.trim().is_empty())
                {
                    d.push_str(": ");
                    d.push_str(&to_markdown(&section.text));
                }
                let mut vattrs = syntax::docs(&d);
                vattrs.extend(alias_attrs([m.name.as_str()], &v.to_string()));
                vattrs.extend(Self::deprecated_attr(&m.features));
                vattrs.extend(self.member_gate(&m.features, true));
                syntax::variant(vattrs, v.clone(), syn::Fields::Unit)
            })
            .collect();
        let fb_attrs =
            syntax::docs("A value these bindings do not know (from a newer QEMU), kept verbatim.");
        vdecl.push(syntax::variant(
            fb_attrs,
            fallback.clone(),
            syntax::unnamed(vec![syntax::variant_field(syntax::path_ty(&["String"]))]),
        ));
        // Values behind the unstable feature go in a second, gated group.
        let (mut plain, mut gated) = (Vec::new(), Vec::new());
        for ((m, v), w) in e.members.iter().zip(&vids).zip(&wire) {
            let w = lit(w);
            if self.member_gate(&m.features, true).is_some() {
                gated.push(quote!(#v = #w));
            } else {
                plain.push(quote!(#v = #w));
            }
        }
        let gated = match &self.opts.unstable_feature {
            Some(f) if !gated.is_empty() => quote!(#[cfg(feature = #f)] { #(#gated),* }),
            _ => quote!(),
        };
        out.item(syntax::enum_item(attrs, name.clone(), vdecl))?;
        out.item(syntax::macro_item(
            cfg.into_iter().collect(),
            &["rt", "impl_enum"],
            quote!(#name(#fallback) { #(#plain),* } #gated, SCHEMA),
        ))
    }

    // ----------------------------------------------------------------------
    // Objects.

    /// Fields of a struct: declarations and encode statements.
    ///
    /// Encode statements are built only with `code`
    /// (unions write their own `ObjectType`; structs use `rt::impl_object!`).
    fn fields(
        &self,
        container: &str,
        members: &[&Member],
        reserved: &[&str],
        code: bool,
    ) -> Fields {
        let wire: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
        let fnames = names::unique_snake(wire.iter().copied(), reserved);
        let mut f = Fields {
            all_optional: true,
            ..Fields::default()
        };
        for (m, n) in members.iter().zip(&fnames) {
            let id = ident(n);
            let w = lit(&m.name);
            let gate = self.member_gate(&m.features, m.optional);
            if code {
                let ty = self.ty_in(container, &m.ty);
                let mut doc = doc_attrs(&self.member_doc(m));
                for a in alias_attrs([m.name.as_str()], n) {
                    a.to_tokens(&mut doc);
                }
                let dep = Self::deprecated(&m.features);
                if m.optional {
                    f.decl.push(quote!(#doc #dep #gate pub #id: Option<#ty>));
                    f.encode
                        .push(quote!(#gate rt::put_opt(map, #w, &self.#id);));
                } else {
                    f.decl.push(quote!(#doc #dep pub #id: #ty));
                    f.encode.push(quote!(rt::put(map, #w, &self.#id);));
                }
            } else {
                let mut ty = self.ty_in_syn(container, &m.ty);
                if m.optional {
                    ty = syntax::generic_ty(&["Option"], vec![ty]);
                    f.spec.push(quote!(#gate optional #id = #w));
                } else {
                    f.spec.push(quote!(required #id = #w));
                }
                let mut attrs = syntax::docs(&self.member_doc(m));
                attrs.extend(alias_attrs([m.name.as_str()], n));
                attrs.extend(Self::deprecated_attr(&m.features));
                attrs.extend(gate);
                f.fields.push(syntax::field(attrs, Some(id.clone()), ty));
            }
            f.all_optional &= m.optional;
            f.ctor.push(CtorField {
                id: id.clone(),
                setter: format_ident!("with_{}", n),
                wire: m.name.clone(),
                ty: self.ty_syn(&m.ty),
                boxed: self.plan.needs_box(self.model, container, &m.ty),
                string: self.is_string(&m.ty),
                optional: m.optional,
                deprecated: m.features.iter().any(Feature::is_deprecated),
                gate: self.member_gate(&m.features, m.optional),
            });
            f.names.push(id);
        }
        f
    }

    /// Whether a QAPI type is a JSON string in Rust (`String`).
    fn is_string(&self, name: &str) -> bool {
        matches!(self.model.get(name), Some(Entity::Builtin(b)) if b.json_type == JsonType::String)
    }

    /// `impl Name { new(required..) with_<optional>(..) }`: the constructor
    /// of the required members and a builder-style setter per optional
    /// member, so code that builds a value never names the optional
    /// members it leaves out (the struct is `#[non_exhaustive]`: a member
    /// a newer QEMU adds does not break it). `extra` is the open map of a
    /// command that takes further members; `branch` the discriminator
    /// field of a union and its type.
    fn ctor_impl(
        &self,
        name: &Ident,
        cfg: Option<&syn::Attribute>,
        fields: &[CtorField],
        extra: bool,
        branch: Option<(&Ident, &Ident)>,
        input: bool,
    ) -> TokenStream {
        let mut params = Vec::new();
        let mut inits = Vec::new();
        let mut setters = Vec::new();
        for f in fields {
            let CtorField {
                id,
                setter,
                wire,
                ty,
                gate,
                ..
            } = f;
            let (pty, conv) = if f.string {
                (quote!(impl Into<String>), quote!(#id.into()))
            } else if f.boxed {
                (quote!(#ty), quote!(Box::new(#id)))
            } else {
                (quote!(#ty), quote!(#id))
            };
            if f.optional {
                inits.push(quote!(#gate #id: None));
                if !input {
                    // Replies and events: read, not built member by member.
                    continue;
                }
                let doc = lit(&format!(" Sets `{wire}` (builder style)."));
                setters.push(quote! {
                    #[doc = #doc]
                    #gate
                    #[inline]
                    #[must_use]
                    pub fn #setter(mut self, #id: #pty) -> Self {
                        self.#id = Some(#conv);
                        self
                    }
                });
            } else {
                params.push(quote!(#id: #pty));
                inits.push(if f.string || f.boxed {
                    quote!(#id: #conv)
                } else {
                    quote!(#id)
                });
            }
        }
        if let Some((id, ty)) = branch {
            params.push(quote!(#id: #ty));
            inits.push(quote!(#id));
        }
        if extra {
            inits.push(quote!(extra: rt::Map::new()));
            setters.push(quote! {
                /// Adds a member the schema does not describe (sent verbatim).
                #[inline]
                #[must_use]
                pub fn with_extra(mut self, name: impl Into<String>, value: impl Into<rt::Value>) -> Self {
                    self.extra.insert(name.into(), value.into());
                    self
                }
            });
        }
        let new_doc = lit(&if !input && fields.iter().any(|f| f.optional) {
            format!(" Builds [`{name}`] from its required members; the optional ones\n are `None`.")
        } else if fields.iter().any(|f| f.optional) {
            format!(
                " Builds [`{name}`] from its required members; the optional ones\n are `None` (set them with the `with_*` methods)."
            )
        } else {
            format!(" Builds [`{name}`] from its members.")
        });
        let many = (params.len() > 7).then(|| quote!(#[allow(clippy::too_many_arguments)]));
        let allow = fields
            .iter()
            .any(|f| f.deprecated)
            .then(|| quote!(#[allow(deprecated)]));
        // Clippy's placeholder names (QEMU's test schema has them).
        let placeholder = fields
            .iter()
            .any(|f| ["foo", "baz", "quux"].contains(&f.id.to_string().as_str()))
            .then(|| quote!(#[allow(clippy::disallowed_names)]));
        quote! {
            #cfg
            #allow
            #placeholder
            impl #name {
                #[doc = #new_doc]
                #[inline]
                #[must_use]
                #many
                pub fn new(#(#params),*) -> Self {
                    Self { #(#inits,)* }
                }
                #(#setters)*
            }
        }
    }

    fn deprecated_allow(members: &[&Member]) -> TokenStream {
        if members
            .iter()
            .any(|m| m.features.iter().any(Feature::is_deprecated))
        {
            quote!(#[allow(deprecated)])
        } else {
            quote!()
        }
    }

    /// A struct (also the struct of an inline command/event payload).
    pub fn emit_struct(
        &self,
        o: &Object,
        what: &str,
        doc_common: &Common,
        extra_doc: &[String],
        open: bool,
        out: &mut Out,
    ) -> syn::Result<()> {
        let name = self.rust_name(&o.common.name);
        let cfg = self.cfg_attr(doc_common);
        let members: Vec<&Member> = o.members.iter().collect();
        let mut f = self.fields(
            &o.common.name,
            &members,
            if open { &["extra"] } else { &[] },
            false,
        );
        let rest = if open {
            let attrs = syntax::docs(
                "Further members the schema does not describe (QAPI does not check this command's\narguments: e.g. device properties), sent and received verbatim.",
            );
            let map = syntax::generic_ty(
                &["rt", "Map"],
                vec![
                    syntax::path_ty(&["String"]),
                    syntax::path_ty(&["rt", "Value"]),
                ],
            );
            f.fields
                .push(syntax::field(attrs, Some(format_ident!("extra")), map));
            quote!(, ..extra)
        } else {
            quote!()
        };
        let mut attrs = syntax::docs(&self.def_doc(doc_common, what, extra_doc));
        attrs.push(syntax::list_attr(
            "derive",
            if f.all_optional {
                quote!(Debug, Clone, PartialEq, Default)
            } else {
                quote!(Debug, Clone, PartialEq)
            },
        ));
        attrs.push(syntax::word_attr("non_exhaustive"));
        let mut wire = vec![doc_common.name.as_str(), o.common.name.as_str()];
        if let Some(cmd) = self.plan.arg_commands.get(&o.common.name) {
            wire.push(cmd.as_str());
        }
        if o.common.implicit || crate::plan::is_masked(&o.common.name) {
            wire.remove(1);
        }
        wire.retain(|w| !crate::plan::is_masked(w));
        attrs.extend(alias_attrs(wire, &name.to_string()));
        attrs.extend(Self::deprecated_attr(&doc_common.features));
        attrs.extend(self.user_attr_list(&o.common.name));
        attrs.extend(cfg.clone());
        let Fields {
            fields, spec, ctor, ..
        } = f;
        out.item(syntax::struct_item(
            attrs,
            name.clone(),
            syntax::named(fields),
        ))?;
        out.item(syntax::macro_item(
            cfg.clone().into_iter().collect(),
            &["rt", "impl_object"],
            quote!(#name { #(#spec),* #rest }, SCHEMA),
        ))?;
        let input = self.plan.inputs.contains(&o.common.name);
        out.tokens(self.ctor_impl(&name, cfg.as_ref(), &ctor, open, None, input));
        Ok(())
    }

    /// A flat (or legacy simple) union: base members + branch enum.
    pub fn emit_union(&self, o: &Object) -> TokenStream {
        let variants = o.variants.as_ref().expect("a union");
        let name = self.rust_name(&o.common.name);
        let cfg = self.cfg(&o.common);
        let doc = doc_attrs(&self.def_doc(&o.common, "union", &[]));
        let dep = Self::deprecated(&o.common.features);
        let attrs = self.user_attrs(&o.common.name);
        let tag_member = o.members.iter().find(|m| m.name == variants.tag);
        let base: Vec<&Member> = o
            .members
            .iter()
            .filter(|m| m.name != variants.tag)
            .collect();
        let tag_snake = names::snake(&variants.tag);
        let reserved: Vec<&str> = vec![tag_snake.as_str()];
        let f = self.fields(&o.common.name, &base, &reserved, true);
        let tag_id = ident(&tag_snake);
        let tag_wire = lit(&variants.tag);
        // Older spanned releases had this type as a plain struct without
        // the discriminator: their replies decode as the matching branch.
        let tag_default = self
            .model
            .spanned
            .as_deref()
            .and_then(|s| s.tag_defaults.get(&o.common.name));
        let tag_decode = match tag_default {
            Some(d) => {
                let v = lit(&d.value);
                quote!(__qmp_tag.unwrap_or_else(|| rt::Key::from_static(#v)))
            }
            None => quote!(rt::union_tag(__qmp_tag, #tag_wire)?),
        };
        // The branch enum: one variant per discriminator value.
        let branch_name = {
            let base = format!("{name}{}", names::camel(&variants.tag));
            let taken = self.plan.types.values().any(|v| *v == base);
            if taken {
                format_ident!("{}Branch", base)
            } else {
                format_ident!("{}", base)
            }
        };
        let tag_enum: Option<&Enum> = tag_member.and_then(|m| self.model.enum_type(&m.ty));
        let values: Vec<(String, Option<String>)> = match tag_enum {
            Some(en) => en
                .members
                .iter()
                .map(|m| {
                    let ty = variants
                        .variants
                        .iter()
                        .find(|v| v.name == m.name)
                        .map(|v| v.ty.clone())
                        .filter(|t| t != "q_empty");
                    (m.name.clone(), ty)
                })
                .collect(),
            None => variants
                .variants
                .iter()
                .map(|v| {
                    (
                        v.name.clone(),
                        Some(v.ty.clone()).filter(|t| t != "q_empty"),
                    )
                })
                .collect(),
        };
        let vnames = names::unique_camel(values.iter().map(|(w, _)| w.as_str()), &["Unknown"]);
        let mut vdecl = Vec::new();
        let mut vdecode = Vec::new();
        let mut vstr = Vec::new();
        for ((wire, ty), vn) in values.iter().zip(&vnames) {
            let v = format_ident!("{}", vn);
            let w = lit(wire);
            let what = match ty {
                None => "no further members".to_owned(),
                Some(t) => match wrapped_type(self.model, t) {
                    Some(inner) => format!("its `data`: {}", self.type_words(inner)),
                    None => format!("the members of {}", self.type_words(t)),
                },
            };
            let mut vdoc = doc_attrs(&format!(
                "Branch `{wire}`: the discriminator `{}` is `\"{wire}\"`; {what}.",
                variants.tag
            ));
            for a in alias_attrs([wire.as_str()], vn) {
                a.to_tokens(&mut vdoc);
            }
            vstr.push(quote!(Self::#v { .. } => #w));
            match ty {
                None => {
                    vdecl.push(quote!(#vdoc #v));
                    vdecode.push(quote!(#w => {
                        __qmp_rest.no_branch()?;
                        #branch_name::#v
                    }));
                }
                Some(t) => {
                    if let Some(inner) = wrapped_type(self.model, t) {
                        // Legacy simple union: {"type": ..., "data": ...}.
                        let ity = self.ty_in(&o.common.name, inner);
                        vdecl.push(quote!(#vdoc #v(#ity)));
                        vdecode.push(quote!(#w => #branch_name::#v(__qmp_rest.data()?)));
                    } else {
                        let ity = self.ty_in(&o.common.name, t);
                        vdecl.push(quote!(#vdoc #v(#ity)));
                        vdecode.push(quote!(#w => #branch_name::#v(__qmp_rest.branch()?)));
                    }
                }
            }
        }
        let vencode: Vec<TokenStream> = values
            .iter()
            .zip(&vnames)
            .map(|((_, ty), vn)| {
                let v = format_ident!("{}", vn);
                match ty {
                    None => quote!(#branch_name::#v => {}),
                    Some(t) if wrapped_type(self.model, t).is_some() => {
                        quote!(#branch_name::#v(data) => rt::put(map, "data", data))
                    }
                    Some(t) if self.plan.needs_box(self.model, &o.common.name, t) => {
                        quote!(#branch_name::#v(data) => rt::ObjectType::to_members(&**data, map))
                    }
                    Some(_) => {
                        quote!(#branch_name::#v(data) => rt::ObjectType::to_members(data, map))
                    }
                }
            })
            .collect();
        let fallback_doc = lit(
            " A discriminator value these bindings do not know (from a newer QEMU): the value and the branch's members, kept verbatim.",
        );
        let Fields { decl, encode, .. } = &f;
        // The base members: a slot each, read by the closure `__qmp_base`
        // (before and after the discriminator), then finished.
        let base_slots: Vec<TokenStream> = f
            .ctor
            .iter()
            .map(|c| {
                let (id, g) = (&c.id, &c.gate);
                quote!(#g let mut #id = None;)
            })
            .collect();
        let base_arms: Vec<TokenStream> = f
            .ctor
            .iter()
            .map(|c| {
                let (id, g, w) = (&c.id, &c.gate, lit(&c.wire));
                quote!(#g #w => {
                    rt::set(&mut #id, __qmp_map, #w)?;
                    true
                })
            })
            .collect();
        let base_finish: Vec<TokenStream> = f
            .ctor
            .iter()
            .map(|c| {
                let (id, g, w) = (&c.id, &c.gate, lit(&c.wire));
                if c.optional {
                    quote!(#g #id)
                } else {
                    quote!(#id: rt::required(#id, #w)?)
                }
            })
            .collect();
        let allow = Self::deprecated_allow(&base);
        let json = Self::impl_json(&name, &cfg, quote!(object));
        let mut tag_text = format!(
            "The branch, selected by the discriminator `{}`.",
            variants.tag
        );
        if let Some(d) = tag_default {
            let rs: Vec<String> = d.releases.iter().map(|r| format!("QEMU {r}")).collect();
            tag_text.push_str(&format!(
                " Absent in {}, whose replies have the members of branch `{}`: decoded as that branch.",
                rs.join(", "),
                d.value
            ));
        }
        let tag_doc = doc_attrs(&tag_text);
        let branch_doc = doc_attrs(&format!(
            "The branches of [`{name}`], by the value of its discriminator `{}`.",
            variants.tag
        ));
        let ctor = self.ctor_impl(
            &name,
            self.cfg_attr(&o.common).as_ref(),
            &f.ctor,
            false,
            Some((&tag_id, &branch_name)),
            self.plan.inputs.contains(&o.common.name),
        );
        let alias: Vec<syn::Attribute> = if crate::plan::is_masked(&o.common.name) {
            Vec::new()
        } else {
            alias_attrs([o.common.name.as_str()], &name.to_string())
        };
        quote! {
            #doc
            #[derive(Debug, Clone, PartialEq)]
            #[non_exhaustive]
            #(#alias)*
            #dep
            #attrs
            #cfg
            pub struct #name {
                #(#decl,)*
                #tag_doc
                pub #tag_id: #branch_name,
            }
            #branch_doc
            #[derive(Debug, Clone, PartialEq)]
            #cfg
            pub enum #branch_name {
                #(#vdecl,)*
                #[doc = #fallback_doc]
                Unknown {
                    /// The discriminator value.
                    value: String,
                    /// The members of the branch.
                    members: rt::Map<String, rt::Value>,
                },
            }
            #cfg
            impl #branch_name {
                /// The discriminator value on the wire.
                #[inline]
                pub fn as_str(&self) -> &str {
                    match self {
                        #(#vstr,)*
                        Self::Unknown { value, .. } => value,
                    }
                }
            }
            #ctor
            #cfg
            #allow
            impl rt::ObjectType for #name {
                #[inline]
                #[allow(clippy::match_single_binding)]
                fn visit_members<'de, A: rt::serde::de::MapAccess<'de>>(
                    mut __qmp_map: A,
                ) -> Result<Self, A::Error> {
                    #(#base_slots)*
                    let mut __qmp_base = |__qmp_key: &str, __qmp_map: &mut A| -> Result<bool, A::Error> {
                        Ok(match __qmp_key {
                            #(#base_arms)*
                            _ => false,
                        })
                    };
                    let (__qmp_tag, __qmp_rest) =
                        rt::union_members(&mut __qmp_map, #tag_wire, &mut __qmp_base)?;
                    let __qmp_tag = #tag_decode;
                    let __qmp_branch = match __qmp_tag.as_str() {
                        #(#vdecode,)*
                        _ => #branch_name::Unknown {
                            members: __qmp_rest.into_rest()?,
                            value: __qmp_tag.into_owned(),
                        },
                    };
                    Ok(Self {
                        #(#base_finish,)*
                        #tag_id: __qmp_branch,
                    })
                }
                #[inline]
                fn to_members(&self, map: &mut rt::Map<String, rt::Value>) {
                    #(#encode)*
                    rt::put(map, #tag_wire, self.#tag_id.as_str());
                    match &self.#tag_id {
                        #(#vencode,)*
                        #branch_name::Unknown { members, .. } => rt::put_rest(map, members),
                    }
                }
            }
            #json
        }
    }

    // ----------------------------------------------------------------------
    // Alternates.

    pub fn emit_alternate(&self, a: &Alternate) -> TokenStream {
        let name = self.rust_name(&a.common.name);
        let cfg = self.cfg(&a.common);
        let doc = doc_attrs(&self.def_doc(&a.common, "alternate", &[]));
        let dep = Self::deprecated(&a.common.features);
        let attrs = self.user_attrs(&a.common.name);
        let vs = &a.variants.variants;
        let vnames = names::unique_camel(vs.iter().map(|v| v.name.as_str()), &[]);
        let mut decl = Vec::new();
        let mut enc = Vec::new();
        // JSON type → (variant, type) for decoding.
        let mut by_json: Vec<(JsonType, Ident, TokenStream)> = Vec::new();
        for (v, vn) in vs.iter().zip(&vnames) {
            let id = format_ident!("{}", vn);
            let ty = self.ty_in(&a.common.name, &v.ty);
            let jt = self
                .model
                .get(&v.ty)
                .and_then(Entity::json_type)
                .unwrap_or(JsonType::Value);
            let vdoc = doc_attrs(&format!("Branch `{}`, a JSON {}.", v.name, json_word(jt)));
            decl.push(quote!(#vdoc #id(#ty)));
            enc.push(quote!(Self::#id(v) => rt::ToJson::to_json(v)));
            let dec_ty = self.ty(&v.ty);
            let boxed = self.plan.needs_box(self.model, &a.common.name, &v.ty);
            let dec = if boxed {
                quote!(Self::#id(Box::new(<#dec_ty as rt::FromJson>::from_json(value)?)))
            } else {
                quote!(Self::#id(<#dec_ty as rt::FromJson>::from_json(value)?))
            };
            by_json.push((jt, id, dec));
        }
        let find = |t: JsonType| {
            by_json
                .iter()
                .find(|(j, _, _)| *j == t)
                .map(|(_, _, d)| d.clone())
        };
        let mut arms = Vec::new();
        if let Some(d) = find(JsonType::Null) {
            arms.push(quote!(rt::Value::Null => #d));
        }
        if let Some(d) = find(JsonType::Boolean) {
            arms.push(quote!(rt::Value::Bool(_) => #d));
        }
        match (find(JsonType::Int), find(JsonType::Number)) {
            (Some(i), Some(n)) => arms.push(quote! {
                rt::Value::Number(num) => if num.is_i64() || num.is_u64() { #i } else { #n }
            }),
            (Some(i), None) => arms.push(quote!(rt::Value::Number(_) => #i)),
            (None, Some(n)) => arms.push(quote!(rt::Value::Number(_) => #n)),
            (None, None) => {}
        }
        if let Some(d) = find(JsonType::String) {
            arms.push(quote!(rt::Value::String(_) => #d));
        }
        if let Some(d) = find(JsonType::Object) {
            arms.push(quote!(rt::Value::Object(_) => #d));
        }
        if let Some(d) = find(JsonType::Array) {
            arms.push(quote!(rt::Value::Array(_) => #d));
        }
        let expected: Vec<&str> = by_json.iter().map(|(j, _, _)| json_word(*j)).collect();
        let expected = lit(&format!("one of: {}", expected.join(", ")));
        let catch_all = if arms.len() < 6 {
            quote!(other => return Err(rt::DecodeError::expected(#expected, other)),)
        } else {
            quote!()
        };
        let json = Self::impl_json(&name, &cfg, quote!(custom));
        quote! {
            #doc
            #[derive(Debug, Clone, PartialEq)]
            #dep
            #attrs
            #cfg
            pub enum #name {
                #(#decl,)*
            }
            #cfg
            impl rt::ToJson for #name {
                #[inline]
                fn to_json(&self) -> rt::Value {
                    match self {
                        #(#enc,)*
                    }
                }
            }
            #cfg
            impl rt::FromValue for #name {
                #[inline]
                fn from_value(value: rt::Value) -> Result<Self, rt::DecodeError> {
                    Ok(match &value {
                        #(#arms,)*
                        #catch_all
                    })
                }
            }
            #json
        }
    }
}

fn json_word(j: JsonType) -> &'static str {
    match j {
        JsonType::String => "string",
        JsonType::Int => "integer",
        JsonType::Number => "number",
        JsonType::Boolean => "boolean",
        JsonType::Null => "null",
        JsonType::Object => "object",
        JsonType::Array => "array",
        JsonType::Value => "value",
    }
}

/// A member as the constructor and setters see it.
struct CtorField {
    id: Ident,
    setter: Ident,
    wire: String,
    /// The member's type (not boxed, not `Option`).
    ty: syn::Type,
    boxed: bool,
    string: bool,
    optional: bool,
    deprecated: bool,
    gate: Option<syn::Attribute>,
}

#[derive(Default)]
struct Fields {
    ctor: Vec<CtorField>,
    decl: Vec<TokenStream>,
    /// The declarations as syntax trees (structs; unions use `decl`).
    fields: Vec<syn::Field>,
    encode: Vec<TokenStream>,
    /// `required field = "wire"` entries for `rt::impl_object!`.
    spec: Vec<TokenStream>,
    names: Vec<Ident>,
    all_optional: bool,
}

// --------------------------------------------------------------------------
// Commands, events and the enums over them.

impl Emitter<'_> {
    /// `rt::impl_meta!(Name { [name = "WIRE",] since = .., features = [..], condition = .. })`.
    fn meta_consts(&self, name: &Ident, c: &Common, wire: Option<&str>) -> syn::Item {
        let cfg = self.cfg_attr(c);
        let since = opt_lit(c.since.as_deref());
        let feats: Vec<Literal> = c.features.iter().map(|f| lit(&f.name)).collect();
        let cond = opt_lit(c.cond.as_ref().map(render_cond).as_deref());
        let wire = wire.map(|w| {
            let w = lit(w);
            quote!(name = #w,)
        });
        syntax::macro_item(
            cfg.into_iter().collect(),
            &["rt", "impl_meta"],
            quote!(#name { #wire since = #since, features = [#(#feats),*], condition = #cond }),
        )
    }

    /// The payload type of a command/event: struct, newtype or unit struct.
    #[allow(clippy::too_many_arguments)]
    fn emit_payload(
        &self,
        c: &Common,
        name: &Ident,
        payload: &Payload,
        what: &str,
        extra: &[String],
        open: bool,
        out: &mut Out,
    ) -> syn::Result<()> {
        let cfg = self.cfg_attr(c);
        let (derive, fields, json) = match payload {
            Payload::Inline(arg) => {
                let o = self.model.object(arg).expect("inline payloads are objects");
                return self.emit_struct(o, what, c, extra, open, out);
            }
            Payload::Named(t) => {
                let inner = self.ty_syn(t);
                (
                    quote!(Debug, Clone, PartialEq),
                    syntax::unnamed(vec![syntax::field(Vec::new(), None, inner.clone())]),
                    quote!(newtype #name(#inner), SCHEMA),
                )
            }
            Payload::None => (
                quote!(Debug, Clone, Copy, PartialEq, Eq, Hash, Default),
                syn::Fields::Unit,
                quote!(unit #name, SCHEMA),
            ),
        };
        let mut attrs = syntax::docs(&self.def_doc(c, what, extra));
        attrs.push(syntax::list_attr("derive", derive));
        attrs.extend(alias_attrs([c.name.as_str()], &name.to_string()));
        attrs.extend(Self::deprecated_attr(&c.features));
        attrs.extend(cfg.clone());
        out.item(syntax::struct_item(attrs, name.clone(), fields))?;
        out.item(syntax::macro_item(
            cfg.into_iter().collect(),
            &["rt", "impl_json"],
            json,
        ))
    }

    fn returns_syn(&self, c: &Command) -> syn::Type {
        match &c.ret_type {
            Some(t) => self.ty_syn(t),
            None => syntax::path_ty(&["rt", "Empty"]),
        }
    }

    fn returns_ty(&self, c: &Command) -> TokenStream {
        self.returns_syn(c).into_token_stream()
    }

    /// The lines a command's type documents besides the definition's own
    /// docs: its wire name, what it returns and its flags.
    fn command_doc_lines(&self, c: &Command) -> Vec<String> {
        let mut extra = Vec::new();
        let ret_doc = match &c.ret_type {
            Some(t) => format!("Returns {}.", self.type_words(t)),
            None => "Returns an empty object ([`Empty`](rt::Empty)).".to_owned(),
        };
        extra.push(format!("QMP command `{}`. {ret_doc}", c.common.name));
        let mut flags = Vec::new();
        if c.allow_oob {
            flags.push("may run out-of-band (`allow-oob`)");
        }
        if c.allow_preconfig {
            flags.push("is allowed before machine initialisation (`allow-preconfig`)");
        }
        if !c.success_response {
            flags.push("sends no reply on success (`success-response: false`)");
        }
        if !flags.is_empty() {
            extra.push(format!("This command {}.", flags.join("; ")));
        }
        extra
    }

    pub fn emit_command(&self, c: &Command, out: &mut Out) -> syn::Result<()> {
        let name = format_ident!("{}", self.plan.commands[&c.common.name]);
        let payload = &self.plan.payloads[&c.common.name];
        let wire = lit(&c.common.name);
        let ret = self.returns_ty(c);
        let oob = c.allow_oob.then(|| quote!(, allow_oob));
        let no_reply = (!c.success_response).then(|| quote!(, no_success_response));
        let command = syntax::macro_item(
            self.cfg_attr(&c.common).into_iter().collect(),
            &["rt", "impl_command"],
            quote!(#name = #wire -> #ret #oob #no_reply),
        );
        if self.plan.is_arg_command(&c.common.name) {
            // The argument type is the command (documented with it).
            return out.item(command);
        }
        let extra = self.command_doc_lines(c);
        self.emit_payload(
            &c.common,
            &name,
            payload,
            "command",
            &extra,
            !c.generate,
            out,
        )?;
        out.item(command)?;
        out.item(self.meta_consts(&name, &c.common, None))
    }

    pub fn emit_event(&self, e: &Event, out: &mut Out) -> syn::Result<()> {
        let (tn, _) = &self.plan.events[&e.common.name];
        let name = format_ident!("{}", tn);
        let payload = &self.plan.payloads[&e.common.name];
        let extra = vec![format!("The data of QMP event `{}`.", e.common.name)];
        self.emit_payload(&e.common, &name, payload, "event", &extra, false, out)?;
        out.item(self.meta_consts(&name, &e.common, Some(&e.common.name)))
    }

    /// The `Event` enum.
    pub fn emit_event_enum(&self) -> TokenStream {
        let mut decl = Vec::new();
        let mut with_data = Vec::new();
        let mut without_data = Vec::new();
        for e in self.model.events() {
            let Some((tn, vn)) = self.plan.events.get(&e.common.name) else {
                continue;
            };
            let t = format_ident!("{}", tn);
            let v = format_ident!("{}", vn);
            let cfg = self.cfg(&e.common);
            let dep = Self::deprecated(&e.common.features);
            let d = doc_attrs(&format!("Event `{}`: [`{tn}`].", e.common.name));
            let alias = alias_attrs([e.common.name.as_str()], &v.to_string());
            decl.push(quote!(#d #(#alias)* #cfg #dep #v(#t)));
            let entry = quote!(#cfg #v(#t));
            if self.plan.payloads[&e.common.name] == Payload::None {
                without_data.push(entry);
            } else {
                with_data.push(entry);
            }
        }
        quote! {
            /// Every event of the schema, decoded from `{"event": NAME, "data": {...}}`
            /// (a `timestamp` member is ignored: decode an
            /// [`EventMessage<Event>`](rt::EventMessage) to keep it).
            ///
            /// Events these bindings do not know decode to [`Event::Unknown`].
            #[derive(Debug, Clone, PartialEq)]
            #[non_exhaustive]
            pub enum Event {
                #(#decl,)*
                /// An event these bindings do not know (from a newer QEMU).
                Unknown {
                    /// The event name.
                    name: String,
                    /// Its data (`null` when it had none).
                    data: rt::Value,
                },
            }
            rt::impl_events!(
                Event {
                    data = [#(#with_data),*],
                    no_data = [#(#without_data),*]
                },
                SCHEMA
            );
        }
    }

    /// `Request` and `Response`, and the client extension traits.
    ///
    pub fn emit_request_and_clients(&self, out: &mut Out) -> syn::Result<()> {
        let mut decl = Vec::new();
        let mut with_args = Vec::new();
        let mut without_args = Vec::new();
        let mut resp_decl = Vec::new();
        let mut async_methods = Vec::new();
        let mut blocking_methods = Vec::new();
        let mut method_namer = names::Namer::with_reserved(&["execute"]);
        for c in self.model.commands() {
            let Some(tn) = self.plan.commands.get(&c.common.name) else {
                continue;
            };
            let t = format_ident!("{}", tn);
            let cfg = self.cfg_attr(&c.common);
            let dep = Self::deprecated_attr(&c.common.features);
            let payload = &self.plan.payloads[&c.common.name];
            let ret = self.returns_syn(c);

            let mut vattrs = syntax::docs(&format!("Command `{}`: [`{tn}`].", c.common.name));
            vattrs.extend(alias_attrs([c.common.name.as_str()], &t.to_string()));
            vattrs.extend(cfg.clone());
            let mut rattrs = syntax::docs(&format!(
                "The reply to `{}`: {}.",
                c.common.name,
                match &c.ret_type {
                    Some(r) => self.type_words(r),
                    None => "an empty object ([`Empty`](rt::Empty))".to_owned(),
                }
            ));
            rattrs.extend(alias_attrs([c.common.name.as_str()], &t.to_string()));
            rattrs.extend(cfg.clone());
            vattrs.extend(dep.clone());
            decl.push(syntax::variant(
                vattrs,
                t.clone(),
                syntax::unnamed(vec![syntax::variant_field(syntax::ident_ty(t.clone()))]),
            ));
            resp_decl.push(syntax::variant(
                rattrs,
                t.clone(),
                syntax::unnamed(vec![syntax::variant_field(ret.clone())]),
            ));
            let entry = quote!(#cfg #t);
            if *payload == Payload::None {
                without_args.push(entry);
            } else {
                with_args.push(entry);
            }

            // Client methods.
            let m = ident(&method_namer.unique(&names::snake(&c.common.name)));
            let mut mattrs = syntax::docs(&format!("Runs `{}`: see [`{tn}`].", c.common.name));
            mattrs.extend(alias_attrs([c.common.name.as_str()], &m.to_string()));
            mattrs.extend(cfg);
            mattrs.extend(dep);
            if c.common.is_deprecated() {
                mattrs.push(syntax::list_attr("allow", quote!(deprecated)));
            }
            let (params, build): (Vec<(Ident, syn::Type)>, syn::Expr) = match payload {
                Payload::None => (vec![], syntax::path_expr(t.clone())),
                Payload::Named(ty) if self.plan.is_arg_command(&c.common.name) => (
                    vec![(format_ident!("arguments"), self.ty_syn(ty))],
                    syntax::path_expr(format_ident!("arguments")),
                ),
                Payload::Named(ty) => (
                    vec![(format_ident!("arguments"), self.ty_syn(ty))],
                    syntax::call_expr(
                        t.clone(),
                        vec![syntax::path_expr(format_ident!("arguments"))],
                    ),
                ),
                Payload::Inline(_) => (
                    vec![(format_ident!("arguments"), syntax::ident_ty(t.clone()))],
                    syntax::path_expr(format_ident!("arguments")),
                ),
            };
            let command = syntax::ident_ty(t.clone());
            async_methods.push(client_method(false, &mattrs, &m, &params, &command, &build));
            blocking_methods.push(client_method(true, &mattrs, &m, &params, &ret, &build));
        }
        let mut attrs = syntax::docs(
            "Every command of the schema, as sent on the wire:\n`{\"execute\": NAME, \"arguments\": {...}}`.",
        );
        attrs.push(syntax::list_attr("derive", quote!(Debug, Clone, PartialEq)));
        attrs.push(syntax::word_attr("non_exhaustive"));
        attrs.push(syntax::list_attr("allow", quote!(deprecated)));
        let unknown = syntax::docs("A command these bindings do not know.");
        let execute = syntax::docs("The command name.");
        let arguments = syntax::docs("Its arguments, if any.");
        decl.push(syntax::variant(
            unknown,
            format_ident!("Unknown"),
            syntax::named(vec![
                syntax::variant_named_field(
                    execute,
                    format_ident!("execute"),
                    syntax::path_ty(&["String"]),
                ),
                syntax::variant_named_field(
                    arguments,
                    format_ident!("arguments"),
                    syntax::generic_ty(&["Option"], vec![syntax::path_ty(&["rt", "Value"])]),
                ),
            ]),
        ));
        out.item(syntax::enum_item(attrs, format_ident!("Request"), decl))?;

        let mut attrs = syntax::docs(
            "The typed `return` value of a command, from\n[`Request::decode_return`].",
        );
        attrs.push(syntax::list_attr("derive", quote!(Debug, Clone, PartialEq)));
        attrs.push(syntax::word_attr("non_exhaustive"));
        let unknown = syntax::docs("The reply to a command these bindings do not know.");
        resp_decl.push(syntax::variant(
            unknown,
            format_ident!("Unknown"),
            syntax::unnamed(vec![syntax::variant_field(syntax::path_ty(&[
                "rt", "Value",
            ]))]),
        ));
        out.item(syntax::enum_item(
            attrs,
            format_ident!("Response"),
            resp_decl,
        ))?;
        out.item(syntax::macro_item(
            Vec::new(),
            &["rt", "impl_requests"],
            quote! {
                Request, Response {
                    args = [#(#with_args),*],
                    no_args = [#(#without_args),*]
                },
                SCHEMA
            },
        ))?;

        let mut client_ext: syn::ItemTrait = syn::parse_quote! {
            /// One method per command, for every asynchronous
            /// [`Client`](rt::Client) (blanket-implemented).
            ///
            /// Commands without arguments take none; all others take their
            /// argument struct, built with its `new` (the required members)
            /// and `with_*` setters (the optional ones), so a QEMU release
            /// that adds an optional member changes no call.
            pub trait ClientExt: rt::Client {}
        };
        client_ext.items = async_methods.into_iter().map(syn::TraitItem::Fn).collect();
        out.item(syn::Item::Trait(client_ext))?;
        out.tokens(quote!(
            impl<T: rt::Client + ?Sized> ClientExt for T {}
        ));
        let mut blocking_ext: syn::ItemTrait = syn::parse_quote! {
            /// One method per command, for every
            /// [`ClientBlocking`](rt::ClientBlocking) (blanket-implemented).
            /// Parameters as for [`ClientExt`].
            pub trait ClientBlockingExt: rt::ClientBlocking {}
        };
        blocking_ext.items = blocking_methods
            .into_iter()
            .map(syn::TraitItem::Fn)
            .collect();
        out.item(syn::Item::Trait(blocking_ext))?;
        out.tokens(quote!(
            impl<T: rt::ClientBlocking + ?Sized> ClientBlockingExt for T {}
        ));
        Ok(())
    }

    /// Static metadata tables and the JSON Schema document.
    pub fn emit_tables(&self) -> TokenStream {
        let cmds = self.model.commands().filter(|c| self.plan.commands.contains_key(&c.common.name)).map(|c| {
            let n = lit(&c.common.name);
            let since = opt_lit(c.common.since.as_deref());
            let feats: Vec<Literal> = c.common.features.iter().map(|f| lit(&f.name)).collect();
            let cond = opt_lit(c.common.cond.as_ref().map(render_cond).as_deref());
            let args = opt_lit(match &self.plan.payloads[&c.common.name] {
                Payload::None => None,
                _ => Some(self.plan.commands[&c.common.name].as_str()),
            });
            let rets = c.ret_type.as_ref().map(|t| self.ty(t).to_string().replace(' ', ""));
            let rets = opt_lit(rets.as_deref());
            let (oob, sr, pre) = (c.allow_oob, c.success_response, c.allow_preconfig);
            quote! {
                rt::CommandInfo { name: #n, since: #since, features: &[#(#feats),*], condition: #cond, arguments: #args, returns: #rets, allow_oob: #oob, success_response: #sr, allow_preconfig: #pre }
            }
        });
        let evs = self.model.events().filter(|e| self.plan.events.contains_key(&e.common.name)).map(|e| {
            let n = lit(&e.common.name);
            let since = opt_lit(e.common.since.as_deref());
            let feats: Vec<Literal> = e.common.features.iter().map(|f| lit(&f.name)).collect();
            let cond = opt_lit(e.common.cond.as_ref().map(render_cond).as_deref());
            let data = opt_lit(match &self.plan.payloads[&e.common.name] {
                Payload::None => None,
                _ => Some(self.plan.events[&e.common.name].0.as_str()),
            });
            quote! {
                rt::EventInfo { name: #n, since: #since, features: &[#(#feats),*], condition: #cond, data: #data }
            }
        });
        let file = lit(&self.schema_file);
        quote! {
            /// Every command of the schema, in schema order.
            pub static COMMANDS: &[rt::CommandInfo] = &[#(#cmds),*];
            /// Every event of the schema, in schema order.
            pub static EVENTS: &[rt::EventInfo] = &[#(#evs),*];
            /// The JSON Schema of every type, command and event (a document
            /// with `$defs` keyed by Rust type name, and `commands`/`events`
            /// maps from wire names to their argument, return and data
            /// schemas).
            pub static SCHEMA_JSON: &str = include_str!(#file);
            static SCHEMA: ::std::sync::LazyLock<rt::Value> = ::std::sync::LazyLock::new(|| {
                rt::serde_json::from_str(SCHEMA_JSON).unwrap_or(rt::Value::Null)
            });
        }
    }

    /// The entities that become items, in definition order.
    pub fn item_entities(&self) -> Vec<&Entity> {
        self.model
            .entities
            .iter()
            .filter(|e| {
                e.common().is_some_and(|c| {
                    self.plan.kept.contains(&c.name)
                        && match e {
                            Entity::Enum(_)
                            | Entity::Alternate(_)
                            | Entity::Command(_)
                            | Entity::Event(_) => true,
                            Entity::Object(_) => {
                                !is_carrier(self.model, &c.name)
                                    && !self.plan.owned_args.contains(&c.name)
                            }
                            _ => false,
                        }
                })
            })
            .collect()
    }

    /// The items of some entities (from [`item_entities`](Self::item_entities)).
    pub fn emit_items(&self, entities: &[&Entity]) -> syn::Result<syn::File> {
        let mut out = Out::default();
        for e in entities {
            // Commands and events add their metadata themselves.
            let meta = match e {
                Entity::Enum(en) => {
                    self.emit_enum(en, &mut out)?;
                    Some(&en.common)
                }
                Entity::Object(o) if o.variants.is_some() => {
                    out.tokens(self.emit_union(o));
                    Some(&o.common)
                }
                Entity::Object(o) => {
                    let extra = match self.plan.arg_commands.get(&o.common.name).and_then(|c| {
                        match self.model.get(c) {
                            Some(Entity::Command(c)) => Some(c),
                            _ => None,
                        }
                    }) {
                        Some(c) => {
                            let mut lines = self.command_doc_lines(c);
                            lines[0] = lines[0].replacen(
                                "QMP command",
                                "This type is also the QMP command whose arguments it holds,",
                                1,
                            );
                            let body = c
                                .common
                                .doc
                                .as_ref()
                                .filter(|_| self.opts.docs)
                                .map(|d| to_markdown(d.body()))
                                .filter(|b| !b.trim().is_empty());
                            lines.extend(body);
                            lines
                        }
                        None => Vec::new(),
                    };
                    self.emit_struct(o, "struct", &o.common, &extra, false, &mut out)?;
                    Some(&o.common)
                }
                Entity::Alternate(a) => {
                    out.tokens(self.emit_alternate(a));
                    Some(&a.common)
                }
                Entity::Command(cmd) => {
                    self.emit_command(cmd, &mut out)?;
                    None
                }
                Entity::Event(ev) => {
                    self.emit_event(ev, &mut out)?;
                    None
                }
                _ => None,
            };
            if let Some(c) = meta {
                out.item(self.meta_consts(&self.rust_name(&c.name), c, None))?;
            }
        }
        out.into_file()
    }

    /// The runtime import.
    pub fn emit_head(&self) -> syn::Result<syn::File> {
        let runtime: syn::Path = syn::parse_str(&self.opts.runtime_path)?;
        syn::parse2(quote!(
            use #runtime as rt;
        ))
    }

    /// One of the items after the definitions.
    pub fn emit_tail(&self, part: Tail) -> syn::Result<syn::File> {
        let mut out = Out::default();
        match part {
            Tail::Events => out.tokens(self.emit_event_enum()),
            Tail::Requests => self.emit_request_and_clients(&mut out)?,
            Tail::Tables => out.tokens(self.emit_tables()),
        }
        out.into_file()
    }
}

/// The items after the definitions, in output order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tail {
    /// The `Event` enum.
    Events,
    /// `Request`, `Response` and the client traits.
    Requests,
    /// `COMMANDS`, `EVENTS` and the JSON Schema statics.
    Tables,
}

impl Tail {
    pub const ALL: [Tail; 3] = [Tail::Events, Tail::Requests, Tail::Tables];
}

/// A client method: the async shape returns `rt::Call<'_, Self, ty>`, the
/// blocking one `Result<ty, Self::Error>`; `build` makes the command from
/// the parameters.
fn client_method(
    blocking: bool,
    attrs: &[syn::Attribute],
    name: &Ident,
    params: &[(Ident, syn::Type)],
    ty: &syn::Type,
    build: &syn::Expr,
) -> syn::TraitItemFn {
    let params = params.iter().map(|(i, t)| quote!(#i: #t));
    if blocking {
        syn::parse_quote! {
            #(#attrs)*
            fn #name(&self, #(#params),*) -> Result<#ty, Self::Error> {
                self.execute(#build)
            }
        }
    } else {
        syn::parse_quote! {
            #(#attrs)*
            fn #name(&self, #(#params),*) -> rt::Call<'_, Self, #ty> {
                rt::Call::new(self, #build)
            }
        }
    }
}
