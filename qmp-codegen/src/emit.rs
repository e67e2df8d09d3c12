//! [`Bindings`] → Rust tokens.
//!
//! Every function here turns model data into syntax: names, types,
//! attributes and doc text come from the model ([`crate::model`]), decided
//! by the lowering pass; nothing here reads the QAPI model or the naming
//! plan.

use proc_macro2::{Ident, Literal, TokenStream};
use quote::{ToTokens, format_ident, quote};

use crate::model::{
    Alternate, Bindings, BranchData, Build, Ctor, Enum, Field, Item, ItemKind, JsonKind, Meta,
    Payload, Struct, TypeRef, Union,
};
use crate::names::ident;
use crate::syntax::{self, Out};

/// The emitter.
pub(crate) struct Emitter<'b> {
    /// What to write.
    pub bindings: &'b Bindings,
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

/// `#[doc(alias = "wire-name")]` for each alias.
fn alias_attrs(aliases: &[String]) -> Vec<syn::Attribute> {
    aliases
        .iter()
        .map(|w| syntax::list_attr("doc", quote!(alias = #w)))
        .collect()
}

/// `#[cfg(feature = "..")]`.
fn cfg_attr(cfg: &Option<String>) -> Option<syn::Attribute> {
    cfg.as_ref()
        .map(|f| syntax::list_attr("cfg", quote!(feature = #f)))
}

fn cfg_tokens(cfg: &Option<String>) -> TokenStream {
    cfg_attr(cfg).into_token_stream()
}

fn deprecated_attr(on: bool) -> Option<syn::Attribute> {
    on.then(|| syntax::word_attr("deprecated"))
}

fn deprecated_tokens(on: bool) -> TokenStream {
    deprecated_attr(on).into_token_stream()
}

/// The user's attributes (checked with syn when the builder ran; kept as
/// text so the model can be shared between threads).
fn user_attrs(attrs: &[String]) -> TokenStream {
    attrs
        .iter()
        .filter_map(|a| a.parse::<TokenStream>().ok())
        .collect()
}

fn user_attr_list(attrs: &[String]) -> Vec<syn::Attribute> {
    let tokens = user_attrs(attrs);
    if tokens.is_empty() {
        return Vec::new();
    }
    syn::parse::Parser::parse2(syn::Attribute::parse_outer, tokens).unwrap_or_default()
}

/// A type as a syntax tree.
fn ty_syn(t: &TypeRef) -> syn::Type {
    match t {
        TypeRef::Path(p) => {
            let segs: Vec<&str> = p.iter().map(String::as_str).collect();
            syntax::path_ty(&segs)
        }
        TypeRef::Vec(t) => syntax::generic_ty(&["Vec"], vec![ty_syn(t)]),
        TypeRef::Box(t) => syntax::generic_ty(&["Box"], vec![ty_syn(t)]),
        TypeRef::Option(t) => syntax::generic_ty(&["Option"], vec![ty_syn(t)]),
    }
}

fn ty(t: &TypeRef) -> TokenStream {
    ty_syn(t).into_token_stream()
}

fn derive_attr(derives: &[&str]) -> syn::Attribute {
    let ds = derives.iter().map(|d| format_ident!("{}", d));
    syntax::list_attr("derive", quote!(#(#ds),*))
}

/// The attributes of an item's type declaration, in the order every item
/// has them: docs, derives, `non_exhaustive`, aliases, `deprecated`, the
/// user's, `cfg`.
fn item_attrs(item: &Item) -> Vec<syn::Attribute> {
    let mut attrs = syntax::docs(&item.docs);
    attrs.push(derive_attr(&item.derives));
    if item.non_exhaustive {
        attrs.push(syntax::word_attr("non_exhaustive"));
    }
    attrs.extend(alias_attrs(&item.aliases));
    attrs.extend(deprecated_attr(item.deprecated));
    attrs.extend(user_attr_list(&item.attrs));
    attrs.extend(cfg_attr(&item.cfg));
    attrs
}

/// `rt::impl_json!(KIND Name, SCHEMA);`: the wire traits of a type
/// (see the runtime's `impl_json!`).
fn impl_json(name: &Ident, cfg: &TokenStream, kind: TokenStream) -> TokenStream {
    quote! {
        #cfg
        rt::impl_json!(#kind #name, SCHEMA);
    }
}

/// `rt::impl_meta!(Name { [name = "WIRE",] since = .., features = [..], condition = .. })`.
fn meta_consts(name: &Ident, cfg: &Option<String>, meta: &Meta) -> syn::Item {
    let since = opt_lit(meta.since.as_deref());
    let feats: Vec<Literal> = meta.features.iter().map(|f| lit(f)).collect();
    let cond = opt_lit(meta.condition.as_deref());
    let wire = meta.name.as_deref().map(|w| {
        let w = lit(w);
        quote!(name = #w,)
    });
    let removed = meta.removed_by.as_deref().map(|r| {
        let r = lit(r);
        quote!(, removed_by = #r)
    });
    syntax::macro_item(
        cfg_attr(cfg).into_iter().collect(),
        &["rt", "impl_meta"],
        quote!(#name { #wire since = #since, features = [#(#feats),*], condition = #cond #removed }),
    )
}

// --------------------------------------------------------------------------
// Enums.

fn emit_enum(item: &Item, e: &Enum, out: &mut Out) -> syn::Result<()> {
    let name = format_ident!("{}", item.rust_name);
    let fallback = format_ident!("{}", e.fallback);
    let mut vdecl: Vec<syn::Variant> = e
        .variants
        .iter()
        .map(|v| {
            let mut vattrs = syntax::docs(&v.docs);
            vattrs.extend(alias_attrs(&v.aliases));
            vattrs.extend(deprecated_attr(v.deprecated));
            vattrs.extend(cfg_attr(&v.cfg));
            syntax::variant(vattrs, format_ident!("{}", v.rust_name), syn::Fields::Unit)
        })
        .collect();
    vdecl.push(syntax::variant(
        syntax::docs(&e.fallback_doc),
        fallback.clone(),
        syntax::unnamed(vec![syntax::variant_field(syntax::path_ty(&["String"]))]),
    ));
    // Values behind the unstable feature go in a second, gated group.
    let (mut plain, mut gated, mut gate) = (Vec::new(), Vec::new(), None);
    for v in &e.variants {
        let (id, w) = (format_ident!("{}", v.rust_name), lit(&v.wire_name));
        match &v.cfg {
            Some(f) => {
                gate = Some(f);
                gated.push(quote!(#id = #w));
            }
            None => plain.push(quote!(#id = #w)),
        }
    }
    let gated = match gate {
        Some(f) => quote!(#[cfg(feature = #f)] { #(#gated),* }),
        None => quote!(),
    };
    out.item(syntax::enum_item(item_attrs(item), name.clone(), vdecl))?;
    out.item(syntax::macro_item(
        cfg_attr(&item.cfg).into_iter().collect(),
        &["rt", "impl_enum"],
        quote!(#name(#fallback) { #(#plain),* } #gated, SCHEMA),
    ))
}

// --------------------------------------------------------------------------
// Structs.

/// `impl Name { new(required..) with_<optional>(..) }`: the constructor
/// of the required members and the setters the model gives. `extra` is
/// the open map of a command that takes further members; `branch` the
/// discriminator field of a union and its type.
fn ctor_impl(
    name: &Ident,
    cfg: &Option<String>,
    fields: &[Field],
    ctor: &Ctor,
    extra: bool,
    branch: Option<(&Ident, &Ident)>,
) -> TokenStream {
    let cfg = cfg_attr(cfg);
    let mut params = Vec::new();
    let mut inits = Vec::new();
    let mut setters = Vec::new();
    for f in fields {
        let id = ident(&f.rust_name);
        let ty = ty_syn(&f.ty);
        let gate = cfg_attr(&f.cfg);
        let (pty, conv) = if f.string {
            (quote!(impl Into<String>), quote!(#id.into()))
        } else if f.boxed {
            (quote!(#ty), quote!(Box::new(#id)))
        } else {
            (quote!(#ty), quote!(#id))
        };
        if f.optional {
            inits.push(quote!(#gate #id: None));
            let Some((setter, doc)) = &f.setter else {
                continue;
            };
            let setter = ident(setter);
            let doc = lit(doc);
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
    let new_doc = lit(&ctor.new_doc);
    let many = ctor
        .many_args
        .then(|| quote!(#[allow(clippy::too_many_arguments)]));
    let allow = ctor.allow_deprecated.then(|| quote!(#[allow(deprecated)]));
    let placeholder = ctor
        .allow_placeholders
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

/// A struct: declaration, `rt::impl_object!` and constructor.
fn emit_struct(item: &Item, s: &Struct, out: &mut Out) -> syn::Result<()> {
    let name = format_ident!("{}", item.rust_name);
    let mut fields = Vec::new();
    let mut spec = Vec::new();
    for f in &s.fields {
        let id = ident(&f.rust_name);
        let w = lit(&f.wire_name);
        let gate = cfg_attr(&f.cfg);
        if f.optional {
            spec.push(quote!(#gate optional #id = #w));
        } else {
            spec.push(quote!(required #id = #w));
        }
        let mut attrs = syntax::docs(&f.docs);
        attrs.extend(alias_attrs(&f.aliases));
        attrs.extend(deprecated_attr(f.deprecated));
        attrs.extend(gate);
        fields.push(syntax::field(attrs, Some(id), ty_syn(&f.decl_ty())));
    }
    let rest = if s.open {
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
        fields.push(syntax::field(attrs, Some(format_ident!("extra")), map));
        quote!(, ..extra)
    } else {
        quote!()
    };
    out.item(syntax::struct_item(
        item_attrs(item),
        name.clone(),
        syntax::named(fields),
    ))?;
    out.item(syntax::macro_item(
        cfg_attr(&item.cfg).into_iter().collect(),
        &["rt", "impl_object"],
        quote!(#name { #(#spec),* #rest }, SCHEMA),
    ))?;
    out.tokens(ctor_impl(
        &name, &item.cfg, &s.fields, &s.ctor, s.open, None,
    ));
    Ok(())
}

/// The type of a command or event: struct, newtype or unit struct.
fn emit_payload(item: &Item, payload: &Payload, out: &mut Out) -> syn::Result<()> {
    let name = format_ident!("{}", item.rust_name);
    let (fields, json) = match payload {
        Payload::Struct(s) => return emit_struct(item, s, out),
        Payload::Newtype(t) => {
            let inner = ty_syn(t);
            (
                syntax::unnamed(vec![syntax::field(Vec::new(), None, inner.clone())]),
                quote!(newtype #name(#inner), SCHEMA),
            )
        }
        Payload::Unit => (syn::Fields::Unit, quote!(unit #name, SCHEMA)),
    };
    out.item(syntax::struct_item(item_attrs(item), name.clone(), fields))?;
    out.item(syntax::macro_item(
        cfg_attr(&item.cfg).into_iter().collect(),
        &["rt", "impl_json"],
        json,
    ))
}

// --------------------------------------------------------------------------
// Unions.

/// A flat (or legacy simple) union: base members + branch enum.
fn emit_union(item: &Item, u: &Union) -> TokenStream {
    let name = format_ident!("{}", item.rust_name);
    let cfg = cfg_tokens(&item.cfg);
    let doc = doc_attrs(&item.docs);
    let dep = deprecated_tokens(item.deprecated);
    let attrs = user_attrs(&item.attrs);
    let alias = alias_attrs(&item.aliases);
    let derive = derive_attr(&item.derives);
    let non_exhaustive = item.non_exhaustive.then(|| quote!(#[non_exhaustive]));
    let tag_id = ident(&u.tag_field);
    let tag_wire = lit(&u.tag_wire);
    let tag_decode = match &u.tag_default {
        Some(d) => {
            let v = lit(d);
            quote!(__qmp_tag.unwrap_or_else(|| rt::Key::from_static(#v)))
        }
        None => quote!(rt::union_tag(__qmp_tag, #tag_wire)?),
    };
    let branch_name = format_ident!("{}", u.branch_enum);
    // The base members: declarations, encoding, and a slot each, read by
    // the closure `__qmp_base` (before and after the discriminator).
    let mut decl = Vec::new();
    let mut encode = Vec::new();
    let mut base_slots = Vec::new();
    let mut base_arms = Vec::new();
    let mut base_finish = Vec::new();
    let mut known = Vec::new();
    for f in &u.fields {
        let id = ident(&f.rust_name);
        let w = lit(&f.wire_name);
        let g = cfg_attr(&f.cfg);
        let ty = ty(&f.ty.clone().boxed_if(f.boxed));
        let mut doc = doc_attrs(&f.docs);
        for a in alias_attrs(&f.aliases) {
            a.to_tokens(&mut doc);
        }
        let dep = deprecated_tokens(f.deprecated);
        if f.optional {
            decl.push(quote!(#doc #dep #g pub #id: Option<#ty>));
            encode.push(quote!(#g rt::put_opt(members, #w, &self.#id)?;));
            base_finish.push(quote!(#g #id));
        } else {
            decl.push(quote!(#doc #dep pub #id: #ty));
            encode.push(quote!(rt::put(members, #w, &self.#id)?;));
            base_finish.push(quote!(#id: rt::required(#id, #w)?));
        }
        known.push(w.clone());
        base_slots.push(quote!(#g let mut #id = None;));
        base_arms.push(quote!(#g #w => {
            rt::set(&mut #id, __qmp_map, #w)?;
            true
        }));
    }
    let mut vdecl = Vec::new();
    let mut vdecode = Vec::new();
    let mut vstr = Vec::new();
    let mut vencode = Vec::new();
    for b in &u.branches {
        let v = format_ident!("{}", b.rust_name);
        let w = lit(&b.wire_name);
        let mut vdoc = doc_attrs(&b.docs);
        for a in alias_attrs(&b.aliases) {
            a.to_tokens(&mut vdoc);
        }
        vstr.push(quote!(Self::#v { .. } => #w));
        match &b.data {
            BranchData::Empty => {
                vdecl.push(quote!(#vdoc #v));
                vdecode.push(quote!(#w => {
                    __qmp_rest.no_branch()?;
                    #branch_name::#v
                }));
                vencode.push(quote!(#branch_name::#v => Ok(())));
            }
            BranchData::Data { ty: t } => {
                // Legacy simple union: {"type": ..., "data": ...}.
                let ity = ty(t);
                vdecl.push(quote!(#vdoc #v(#ity)));
                vdecode.push(quote!(#w => #branch_name::#v(__qmp_rest.data()?)));
                vencode.push(quote!(#branch_name::#v(data) => rt::put(members, "data", data)));
            }
            BranchData::Members { ty: t, boxed } => {
                let ity = ty(&t.clone().boxed_if(*boxed));
                vdecl.push(quote!(#vdoc #v(#ity)));
                vdecode.push(quote!(#w => #branch_name::#v(__qmp_rest.branch()?)));
                vencode.push(if *boxed {
                    quote!(#branch_name::#v(data) => rt::ObjectType::write_members(&**data, members))
                } else {
                    quote!(#branch_name::#v(data) => rt::ObjectType::write_members(data, members))
                });
            }
        }
    }
    let fallback_doc = lit(
        " A discriminator value these bindings do not know (from a newer QEMU): the value and the branch's members, kept verbatim.",
    );
    let allow = u
        .ctor
        .allow_deprecated
        .then(|| quote!(#[allow(deprecated)]));
    let json = impl_json(&name, &cfg, quote!(object));
    let tag_doc = doc_attrs(&u.tag_doc);
    let branch_doc = doc_attrs(&u.branch_doc);
    let ctor = ctor_impl(
        &name,
        &item.cfg,
        &u.fields,
        &u.ctor,
        false,
        Some((&tag_id, &branch_name)),
    );
    quote! {
        #doc
        #derive
        #non_exhaustive
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
            #[must_use]
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
            fn write_members<W: rt::Members>(&self, members: &mut W) -> Result<(), W::Error> {
                #(#encode)*
                rt::put(members, #tag_wire, self.#tag_id.as_str())?;
                match &self.#tag_id {
                    #(#vencode,)*
                    #branch_name::Unknown { members: rest, .. } => {
                        rt::put_rest(members, rest, &[#(#known,)* #tag_wire])
                    }
                }
            }
        }
        #json
    }
}

// --------------------------------------------------------------------------
// Alternates.

fn emit_alternate(item: &Item, a: &Alternate) -> TokenStream {
    let name = format_ident!("{}", item.rust_name);
    let cfg = cfg_tokens(&item.cfg);
    let doc = doc_attrs(&item.docs);
    let dep = deprecated_tokens(item.deprecated);
    let attrs = user_attrs(&item.attrs);
    let derive = derive_attr(&item.derives);
    let mut decl = Vec::new();
    let mut enc = Vec::new();
    let mut ser = Vec::new();
    // JSON type → decoding.
    let mut by_json: Vec<(JsonKind, TokenStream)> = Vec::new();
    for b in &a.branches {
        let id = format_ident!("{}", b.rust_name);
        let vty = ty(&b.ty.clone().boxed_if(b.boxed));
        let vdoc = doc_attrs(&b.docs);
        decl.push(quote!(#vdoc #id(#vty)));
        enc.push(quote!(Self::#id(v) => rt::ToJson::to_json(v)));
        ser.push(quote!(Self::#id(v) => rt::serde::Serialize::serialize(v, serializer)));
        let dec_ty = ty(&b.ty);
        let dec = if b.boxed {
            quote!(Self::#id(Box::new(<#dec_ty as rt::FromJson>::from_json(value)?)))
        } else {
            quote!(Self::#id(<#dec_ty as rt::FromJson>::from_json(value)?))
        };
        by_json.push((b.json, dec));
    }
    let find = |t: JsonKind| {
        by_json
            .iter()
            .find(|(j, _)| *j == t)
            .map(|(_, d)| d.clone())
    };
    let mut arms = Vec::new();
    if let Some(d) = find(JsonKind::Null) {
        arms.push(quote!(rt::Value::Null => #d));
    }
    if let Some(d) = find(JsonKind::Boolean) {
        arms.push(quote!(rt::Value::Bool(_) => #d));
    }
    match (find(JsonKind::Int), find(JsonKind::Number)) {
        (Some(i), Some(n)) => arms.push(quote! {
            rt::Value::Number(num) => if num.is_i64() || num.is_u64() { #i } else { #n }
        }),
        (Some(i), None) => arms.push(quote!(rt::Value::Number(_) => #i)),
        (None, Some(n)) => arms.push(quote!(rt::Value::Number(_) => #n)),
        (None, None) => {}
    }
    if let Some(d) = find(JsonKind::String) {
        arms.push(quote!(rt::Value::String(_) => #d));
    }
    if let Some(d) = find(JsonKind::Object) {
        arms.push(quote!(rt::Value::Object(_) => #d));
    }
    if let Some(d) = find(JsonKind::Array) {
        arms.push(quote!(rt::Value::Array(_) => #d));
    }
    let expected = lit(&a.expected);
    let catch_all = if arms.len() < 6 {
        quote!(other => return Err(rt::DecodeError::expected(#expected, other)),)
    } else {
        quote!()
    };
    let json = impl_json(&name, &cfg, quote!(custom));
    quote! {
        #doc
        #derive
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
        impl rt::serde::Serialize for #name {
            #[inline]
            fn serialize<S: rt::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self {
                    #(#ser,)*
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

// --------------------------------------------------------------------------
// Items, and the enums over every command and event.

impl Emitter<'_> {
    /// The items to emit, in order (rendered in chunks).
    pub fn items(&self) -> &[Item] {
        &self.bindings.items
    }

    /// The code of some items.
    pub fn emit_items(&self, items: &[Item]) -> syn::Result<syn::File> {
        let mut out = Out::default();
        for item in items {
            match &item.kind {
                ItemKind::Enum(e) => emit_enum(item, e, &mut out)?,
                ItemKind::Struct(s) => emit_struct(item, s, &mut out)?,
                ItemKind::Union(u) => out.tokens(emit_union(item, u)),
                ItemKind::Alternate(a) => out.tokens(emit_alternate(item, a)),
                ItemKind::Command { payload, command } => {
                    if let Some(p) = payload {
                        emit_payload(item, p, &mut out)?;
                    }
                    let name = format_ident!("{}", item.rust_name);
                    let wire = lit(&command.wire);
                    let ret = ty(&command.returns);
                    let oob = command.allow_oob.then(|| quote!(, allow_oob));
                    let no_reply = command
                        .no_success_response
                        .then(|| quote!(, no_success_response));
                    out.item(syntax::macro_item(
                        cfg_attr(&item.cfg).into_iter().collect(),
                        &["rt", "impl_command"],
                        quote!(#name = #wire -> #ret #oob #no_reply),
                    ))?;
                }
                ItemKind::Event { payload } => emit_payload(item, payload, &mut out)?,
            }
            if let Some(meta) = &item.meta {
                let name = format_ident!("{}", item.rust_name);
                out.item(meta_consts(&name, &item.cfg, meta))?;
            }
        }
        out.into_file()
    }

    /// The `Event` enum.
    fn emit_event_enum(&self) -> TokenStream {
        let mut decl = Vec::new();
        let mut with_data = Vec::new();
        let mut without_data = Vec::new();
        for e in &self.bindings.events {
            let t = format_ident!("{}", e.data_type);
            let v = format_ident!("{}", e.rust_name);
            let cfg = cfg_tokens(&e.cfg);
            let dep = deprecated_tokens(e.deprecated);
            let d = doc_attrs(&e.docs);
            let alias = alias_attrs(&e.aliases);
            decl.push(quote!(#d #(#alias)* #cfg #dep #v(#t)));
            let entry = quote!(#cfg #v(#t));
            if e.has_data {
                with_data.push(entry);
            } else {
                without_data.push(entry);
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
    fn emit_request_and_clients(&self, out: &mut Out) -> syn::Result<()> {
        let mut decl = Vec::new();
        let mut with_args = Vec::new();
        let mut without_args = Vec::new();
        let mut resp_decl = Vec::new();
        let mut async_methods = Vec::new();
        let mut blocking_methods = Vec::new();
        for r in &self.bindings.requests {
            let t = format_ident!("{}", r.rust_name);
            let cfg = cfg_attr(&r.cfg);
            let dep = deprecated_attr(r.deprecated);
            let ret = ty_syn(&r.returns);

            let mut vattrs = syntax::docs(&r.request_doc);
            vattrs.extend(alias_attrs(&r.aliases));
            vattrs.extend(cfg.clone());
            let mut rattrs = syntax::docs(&r.response_doc);
            rattrs.extend(alias_attrs(&r.aliases));
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
            if r.has_args {
                with_args.push(entry);
            } else {
                without_args.push(entry);
            }

            // Client methods.
            let m = &r.method;
            let mid = ident(&m.name);
            let mut mattrs = syntax::docs(&m.docs);
            mattrs.extend(alias_attrs(&m.aliases));
            mattrs.extend(cfg);
            mattrs.extend(dep);
            if m.allow_deprecated {
                mattrs.push(syntax::list_attr("allow", quote!(deprecated)));
            }
            let arguments = format_ident!("arguments");
            let params: Vec<(Ident, syn::Type)> = m
                .arguments
                .iter()
                .map(|a| (arguments.clone(), ty_syn(a)))
                .collect();
            let build = match m.build {
                Build::Unit => syntax::path_expr(t.clone()),
                Build::Arguments => syntax::path_expr(arguments.clone()),
                Build::Wrap => syntax::call_expr(t.clone(), vec![syntax::path_expr(arguments)]),
            };
            let command = syntax::ident_ty(t.clone());
            async_methods.push(client_method(
                false, &mattrs, &mid, &params, &command, &build,
            ));
            blocking_methods.push(client_method(true, &mattrs, &mid, &params, &ret, &build));
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
    fn emit_tables(&self) -> TokenStream {
        let cmds = self.bindings.command_table.iter().map(|c| {
            let n = lit(&c.name);
            let since = opt_lit(c.meta.since.as_deref());
            let feats: Vec<Literal> = c.meta.features.iter().map(|f| lit(f)).collect();
            let cond = opt_lit(c.meta.condition.as_deref());
            let args = opt_lit(c.arguments.as_deref());
            let rets = opt_lit(c.returns.as_deref());
            let (oob, sr, pre) = (c.allow_oob, c.success_response, c.allow_preconfig);
            let removed = opt_lit(c.meta.removed_by.as_deref());
            quote! {
                rt::CommandInfo { name: #n, since: #since, features: &[#(#feats),*], condition: #cond, arguments: #args, returns: #rets, allow_oob: #oob, success_response: #sr, allow_preconfig: #pre, removed_by: #removed }
            }
        });
        let evs = self.bindings.event_table.iter().map(|e| {
            let n = lit(&e.name);
            let since = opt_lit(e.meta.since.as_deref());
            let feats: Vec<Literal> = e.meta.features.iter().map(|f| lit(f)).collect();
            let cond = opt_lit(e.meta.condition.as_deref());
            let data = opt_lit(e.data.as_deref());
            let removed = opt_lit(e.meta.removed_by.as_deref());
            quote! {
                rt::EventInfo { name: #n, since: #since, features: &[#(#feats),*], condition: #cond, data: #data, removed_by: #removed }
            }
        });
        let file = lit(&self.bindings.schema_file);
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

    /// The runtime import.
    pub fn emit_head(&self) -> syn::Result<syn::File> {
        let runtime: syn::Path = syn::parse_str(&self.bindings.runtime_path)?;
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
