//! Model → Rust tokens.

use std::collections::HashMap;

use proc_macro2::{Ident, Literal, TokenStream};
use qmp_schema::ast::{Doc, DocSectionKind};
use qmp_schema::model::{
    Alternate, Command, Common, Entity, Enum, Event, Feature, JsonType, Member, Model, Object,
};
use quote::{format_ident, quote};

use crate::Options;
use crate::docs::to_markdown;
use crate::names::{self, ident};
use crate::plan::{Payload, Plan, is_carrier, render_cond, wrapped_type};

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

/// `#[doc = "..."]` attributes, one per line.
fn doc_attrs(text: &str) -> TokenStream {
    let lines = text.lines().map(|l| {
        let l = if l.is_empty() {
            String::new()
        } else {
            format!(" {l}")
        };
        let l = lit(&l);
        quote!(#[doc = #l])
    });
    quote!(#(#lines)*)
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
        let e = self.model.get(name);
        match e {
            Some(Entity::Builtin(b)) => match b.common.name.as_str() {
                "str" => quote!(String),
                "int" => quote!(i64),
                "int8" => quote!(i8),
                "int16" => quote!(i16),
                "int32" => quote!(i32),
                "int64" => quote!(i64),
                "uint8" => quote!(u8),
                "uint16" => quote!(u16),
                "uint32" => quote!(u32),
                "uint64" | "size" => quote!(u64),
                "number" => quote!(f64),
                "bool" => quote!(bool),
                "null" => quote!(rt::Null),
                _ => match b.json_type {
                    JsonType::String => quote!(String),
                    JsonType::Int => quote!(i64),
                    JsonType::Number => quote!(f64),
                    JsonType::Boolean => quote!(bool),
                    JsonType::Null => quote!(rt::Null),
                    _ => quote!(rt::Value),
                },
            },
            Some(Entity::Array(a)) => {
                let inner = self.ty(&a.element);
                quote!(Vec<#inner>)
            }
            Some(Entity::Object(_)) if name == "q_empty" => quote!(rt::Empty),
            _ => {
                let n = self.rust_name(name);
                quote!(#n)
            }
        }
    }

    fn ty_in(&self, container: &str, name: &str) -> TokenStream {
        let t = self.ty(name);
        if self.plan.needs_box(self.model, container, name) {
            quote!(Box<#t>)
        } else {
            t
        }
    }

    fn cfg(&self, c: &Common) -> TokenStream {
        match &self.opts.unstable_feature {
            Some(f) if c.is_unstable() => quote!(#[cfg(feature = #f)]),
            _ => quote!(),
        }
    }

    fn deprecated(features: &[Feature]) -> TokenStream {
        if features.iter().any(Feature::is_deprecated) {
            quote!(#[deprecated])
        } else {
            quote!()
        }
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

    /// Doc text for a definition.
    fn def_doc(&self, c: &Common, what: &str, extra: &[String]) -> String {
        let mut parts: Vec<String> = Vec::new();
        let doc = if self.opts.docs { c.doc.as_ref() } else { None };
        match doc.map(Doc::body).filter(|b| !b.trim().is_empty()) {
            Some(body) => parts.push(to_markdown(body)),
            None => parts.push(format!("QAPI {what} `{}`.", c.name)),
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
        match m
            .doc
            .as_deref()
            .filter(|d| self.opts.docs && !d.trim().is_empty())
        {
            Some(d) => parts.push(to_markdown(d)),
            None => parts.push(format!("Member `{}`.", m.name)),
        }
        if let Some(cond) = &m.cond {
            parts.push(format!("Only available if `{}`.", render_cond(cond)));
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

    /// The `JsonSchema` impl that reads the precomputed definition.
    fn json_schema_impl(&self, name: &Ident, cfg: &TokenStream) -> TokenStream {
        let n = lit(&name.to_string());
        quote! {
            #cfg
            impl rt::schemars::JsonSchema for #name {
                fn schema_name() -> ::std::borrow::Cow<'static, str> {
                    ::std::borrow::Cow::Borrowed(#n)
                }
                fn json_schema(generator: &mut rt::schemars::SchemaGenerator) -> rt::schemars::Schema {
                    rt::json_schema_from_defs(&SCHEMA, #n, generator)
                }
            }
        }
    }

    fn serde_impls(&self, name: &Ident, cfg: &TokenStream, object: bool) -> TokenStream {
        let ser = if object {
            quote! {
                #cfg
                impl rt::ToJson for #name {
                    #[inline]
                    fn to_json(&self) -> rt::Value {
                        rt::object_to_json(self)
                    }
                }
                #cfg
                impl rt::FromJson for #name {
                    #[inline]
                    fn from_json(value: rt::Value) -> Result<Self, rt::DecodeError> {
                        rt::object_from_json(value)
                    }
                }
            }
        } else {
            quote!()
        };
        quote! {
            #ser
            #cfg
            impl rt::serde::Serialize for #name {
                    fn serialize<S: rt::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                        rt::serialize_json(self, serializer)
                    }
                }
            #cfg
            impl<'de> rt::serde::Deserialize<'de> for #name {
                fn deserialize<D: rt::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                    rt::deserialize_from_json(deserializer)
                }
            }
        }
    }

    // ----------------------------------------------------------------------
    // Enums.

    pub fn emit_enum(&self, e: &Enum) -> TokenStream {
        let name = self.rust_name(&e.common.name);
        let cfg = self.cfg(&e.common);
        let doc = doc_attrs(&self.def_doc(&e.common, "enum", &[]));
        let dep = Self::deprecated(&e.common.features);
        let attrs = self.user_attrs(&e.common.name);
        let wire: Vec<&str> = e.members.iter().map(|m| m.name.as_str()).collect();
        let variants = names::unique_camel(wire.iter().copied(), &[]);
        let fallback = if variants.iter().any(|v| v == "Unknown") {
            format_ident!("UnknownValue")
        } else {
            format_ident!("Unknown")
        };
        let vids: Vec<Ident> = variants.iter().map(|v| format_ident!("{}", v)).collect();
        let vdecl = e.members.iter().zip(&vids).map(|(m, v)| {
            let mut d = format!("`{}`", m.name);
            if let Some(c) = &m.cond {
                d.push_str(&format!(" (only if `{}`)", render_cond(c)));
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
            let d = doc_attrs(&d);
            let dep = Self::deprecated(&m.features);
            quote!(#d #dep #v)
        });
        let wl: Vec<Literal> = wire.iter().map(|w| lit(w)).collect();
        let all = quote!(#(Self::#vids),*);
        let fb_doc = lit(" A value these bindings do not know (from a newer QEMU), kept verbatim.");
        let serde = self.serde_impls(&name, &cfg, false);
        let schema = self.json_schema_impl(&name, &cfg);
        let from_str_body = if wl.is_empty() {
            quote!(Ok(Self::#fallback(s.to_owned())))
        } else {
            quote! {
                Ok(match s {
                    #(#wl => Self::#vids,)*
                    other => Self::#fallback(other.to_owned()),
                })
            }
        };
        quote! {
            #doc
            #[derive(Debug, Clone, PartialEq, Eq, Hash)]
            #dep
            #attrs
            #cfg
            pub enum #name {
                #(#vdecl,)*
                #[doc = #fb_doc]
                #fallback(String),
            }
            #cfg
            impl #name {
                /// Every value these bindings know, in schema order.
                pub const ALL: &'static [Self] = &[#all];
                /// The wire name.
                #[inline]
                pub fn as_str(&self) -> &str {
                    match self {
                        #(Self::#vids => #wl,)*
                        Self::#fallback(s) => s,
                    }
                }
            }
            #cfg
            impl ::std::str::FromStr for #name {
                type Err = ::std::convert::Infallible;
                #[inline]
                fn from_str(s: &str) -> Result<Self, Self::Err> {
                    #from_str_body
                }
            }
            #cfg
            impl ::std::fmt::Display for #name {
                #[inline]
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    f.write_str(self.as_str())
                }
            }
            #cfg
            impl rt::ToJson for #name {
                #[inline]
                fn to_json(&self) -> rt::Value {
                    rt::Value::String(self.as_str().to_owned())
                }
            }
            #cfg
            impl rt::FromJson for #name {
                #[inline]
                fn from_json(value: rt::Value) -> Result<Self, rt::DecodeError> {
                    let s = <String as rt::FromJson>::from_json(value)?;
                    Ok(match s.parse::<Self>() {
                        Ok(v) => v,
                        Err(never) => match never {},
                    })
                }
            }
            #serde
            #schema
        }
    }

    // ----------------------------------------------------------------------
    // Objects.

    /// Fields of a struct: declarations, decode expressions, encode statements.
    fn fields(&self, container: &str, members: &[&Member], reserved: &[&str]) -> Fields {
        let wire: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
        let fnames = names::unique_snake(wire.iter().copied(), reserved);
        let mut f = Fields {
            all_optional: true,
            ..Fields::default()
        };
        for (m, n) in members.iter().zip(&fnames) {
            let id = ident(n);
            let ty = self.ty_in(container, &m.ty);
            let w = lit(&m.name);
            let doc = doc_attrs(&self.member_doc(m));
            let dep = Self::deprecated(&m.features);
            if m.optional {
                f.decl.push(quote!(#doc #dep pub #id: Option<#ty>));
                f.decode.push(quote!(#id: members.optional(#w)?));
                f.encode.push(quote!(rt::put_opt(map, #w, &self.#id);));
            } else {
                f.all_optional = false;
                f.decl.push(quote!(#doc #dep pub #id: #ty));
                f.decode.push(quote!(#id: members.required(#w)?));
                f.encode.push(quote!(rt::put(map, #w, &self.#id);));
            }
            f.names.push(id);
        }
        f
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
    ) -> TokenStream {
        let name = self.rust_name(&o.common.name);
        let cfg = self.cfg(doc_common);
        let doc = doc_attrs(&self.def_doc(doc_common, what, extra_doc));
        let dep = Self::deprecated(&doc_common.features);
        let attrs = self.user_attrs(&o.common.name);
        let members: Vec<&Member> = o.members.iter().collect();
        let mut f = self.fields(
            &o.common.name,
            &members,
            if open { &["extra"] } else { &[] },
        );
        if open {
            let d = doc_attrs(
                "Further members the schema does not describe (QAPI does not check this command's\narguments: e.g. device properties), sent and received verbatim.",
            );
            f.decl
                .push(quote!(#d pub extra: rt::Map<String, rt::Value>));
            f.decode
                .push(quote!(extra: ::std::mem::take(members).into_rest()));
            f.encode.push(quote!(rt::put_rest(map, &self.extra);));
        }
        let Fields {
            decl,
            decode,
            encode,
            all_optional,
            ..
        } = &f;
        let default = if *all_optional {
            quote!(Default,)
        } else {
            quote!()
        };
        let allow = Self::deprecated_allow(&members);
        let serde = self.serde_impls(&name, &cfg, true);
        let schema = self.json_schema_impl(&name, &cfg);
        let (members_param, map_param) = (
            if decode.is_empty() {
                quote!(_members)
            } else {
                quote!(members)
            },
            if encode.is_empty() {
                quote!(_map)
            } else {
                quote!(map)
            },
        );
        quote! {
            #doc
            #[derive(Debug, Clone, PartialEq, #default)]
            #dep
            #attrs
            #cfg
            pub struct #name {
                #(#decl,)*
            }
            #cfg
            #allow
            impl rt::ObjectType for #name {
                #[inline]
                fn from_members(#members_param: &mut rt::Members) -> Result<Self, rt::DecodeError> {
                    Ok(Self { #(#decode,)* })
                }
                #[inline]
                fn to_members(&self, #map_param: &mut rt::Map<String, rt::Value>) {
                    #(#encode)*
                }
            }
            #serde
            #schema
        }
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
        let f = self.fields(&o.common.name, &base, &reserved);
        let tag_id = ident(&tag_snake);
        let tag_wire = lit(&variants.tag);
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
            let vdoc = doc_attrs(&format!("`{}`", wire));
            vstr.push(quote!(Self::#v { .. } => #w));
            match ty {
                None => {
                    vdecl.push(quote!(#vdoc #v));
                    vdecode.push(quote!(#w => #branch_name::#v));
                }
                Some(t) => {
                    if let Some(inner) = wrapped_type(self.model, t) {
                        // Legacy simple union: {"type": ..., "data": ...}.
                        let ity = self.ty_in(&o.common.name, inner);
                        vdecl.push(quote!(#vdoc #v(#ity)));
                        vdecode.push(quote!(#w => #branch_name::#v(members.required("data")?)));
                    } else {
                        let ity = self.ty_in(&o.common.name, t);
                        let boxed = self.plan.needs_box(self.model, &o.common.name, t);
                        let bt = self.ty(t);
                        let dec = if boxed {
                            quote!(Box::new(<#bt as rt::ObjectType>::from_members(members)?))
                        } else {
                            quote!(<#bt as rt::ObjectType>::from_members(members)?)
                        };
                        vdecl.push(quote!(#vdoc #v(#ity)));
                        vdecode.push(quote!(#w => #branch_name::#v(#dec)));
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
        let Fields {
            decl,
            decode,
            encode,
            ..
        } = &f;
        let allow = Self::deprecated_allow(&base);
        let serde = self.serde_impls(&name, &cfg, true);
        let schema = self.json_schema_impl(&name, &cfg);
        let tag_doc = doc_attrs(&format!(
            "The branch, selected by the discriminator `{}`.",
            variants.tag
        ));
        let branch_doc = doc_attrs(&format!(
            "The branches of [`{name}`], by the value of its discriminator `{}`.",
            variants.tag
        ));
        quote! {
            #doc
            #[derive(Debug, Clone, PartialEq)]
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
            #cfg
            #allow
            impl rt::ObjectType for #name {
                #[inline]
                fn from_members(members: &mut rt::Members) -> Result<Self, rt::DecodeError> {
                    let tag: String = members.required(#tag_wire)?;
                    Ok(Self {
                        #(#decode,)*
                        #tag_id: match tag.as_str() {
                            #(#vdecode,)*
                            _ => #branch_name::Unknown {
                                value: tag,
                                members: ::std::mem::take(members).into_rest(),
                            },
                        },
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
            #serde
            #schema
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
        let serde = self.serde_impls(&name, &cfg, false);
        let schema = self.json_schema_impl(&name, &cfg);
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
            impl rt::FromJson for #name {
                #[inline]
                fn from_json(value: rt::Value) -> Result<Self, rt::DecodeError> {
                    Ok(match &value {
                        #(#arms,)*
                        #catch_all
                    })
                }
            }
            #serde
            #schema
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

#[derive(Default)]
struct Fields {
    decl: Vec<TokenStream>,
    decode: Vec<TokenStream>,
    encode: Vec<TokenStream>,
    names: Vec<Ident>,
    all_optional: bool,
}

// --------------------------------------------------------------------------
// Commands, events and the enums over them.

impl Emitter<'_> {
    fn meta_consts(&self, c: &Common) -> TokenStream {
        let since = opt_lit(c.since.as_deref());
        let feats: Vec<Literal> = c.features.iter().map(|f| lit(&f.name)).collect();
        let cond = opt_lit(c.cond.as_ref().map(render_cond).as_deref());
        quote! {
            /// The release this definition appeared in (`Since:`), when known.
            pub const SINCE: Option<&'static str> = #since;
            /// The definition's features (`deprecated`, `unstable`, ...).
            pub const FEATURES: &'static [&'static str] = &[#(#feats),*];
            /// The definition's `if` condition, rendered, if it has one.
            pub const CONDITION: Option<&'static str> = #cond;
        }
    }

    /// The payload type of a command/event: struct, newtype or unit struct.
    fn emit_payload(
        &self,
        c: &Common,
        name: &Ident,
        payload: &Payload,
        what: &str,
        extra: &[String],
        open: bool,
    ) -> TokenStream {
        let cfg = self.cfg(c);
        match payload {
            Payload::Inline(arg) => {
                let o = self.model.object(arg).expect("inline payloads are objects");
                self.emit_struct(o, what, c, extra, open)
            }
            Payload::Named(t) => {
                let doc = doc_attrs(&self.def_doc(c, what, extra));
                let dep = Self::deprecated(&c.features);
                let inner = self.ty(t);
                let schema = self.json_schema_impl(name, &cfg);
                let serde = self.serde_impls(name, &cfg, false);
                quote! {
                    #doc
                    #[derive(Debug, Clone, PartialEq)]
                    #dep
                    #cfg
                    pub struct #name(pub #inner);
                    #cfg
                    impl ::std::convert::From<#inner> for #name {
                        #[inline]
                        fn from(value: #inner) -> Self {
                            Self(value)
                        }
                    }
                    #cfg
                    impl rt::ToJson for #name {
                        #[inline]
                        fn to_json(&self) -> rt::Value {
                            rt::ToJson::to_json(&self.0)
                        }
                    }
                    #cfg
                    impl rt::FromJson for #name {
                        #[inline]
                        fn from_json(value: rt::Value) -> Result<Self, rt::DecodeError> {
                            <#inner as rt::FromJson>::from_json(value).map(Self)
                        }
                    }
                    #serde
                    #schema
                }
            }
            Payload::None => {
                let doc = doc_attrs(&self.def_doc(c, what, extra));
                let dep = Self::deprecated(&c.features);
                let schema = self.json_schema_impl(name, &cfg);
                let serde = self.serde_impls(name, &cfg, false);
                quote! {
                    #doc
                    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
                    #dep
                    #cfg
                    pub struct #name;
                    #cfg
                    impl rt::ToJson for #name {
                        #[inline]
                        fn to_json(&self) -> rt::Value {
                            rt::Value::Object(rt::Map::new())
                        }
                    }
                    #cfg
                    impl rt::FromJson for #name {
                        #[inline]
                        fn from_json(value: rt::Value) -> Result<Self, rt::DecodeError> {
                            rt::Members::new(value).map(|_| Self)
                        }
                    }
                    #serde
                    #schema
                }
            }
        }
    }

    fn returns_ty(&self, c: &Command) -> TokenStream {
        match &c.ret_type {
            Some(t) => self.ty(t),
            None => quote!(rt::Empty),
        }
    }

    pub fn emit_command(&self, c: &Command) -> TokenStream {
        let name = format_ident!("{}", self.plan.commands[&c.common.name]);
        let payload = &self.plan.payloads[&c.common.name];
        let cfg = self.cfg(&c.common);
        let mut extra = Vec::new();
        let ret_doc = match &c.ret_type {
            Some(t) => format!(
                "Returns `{}`.",
                self.ty(t)
                    .to_string()
                    .replace(' ', "")
                    .replace("::std::vec::", "")
                    .replace("::std::string::", "")
            ),
            None => "Returns an empty object ([`Empty`](rt::Empty)).".to_owned(),
        };
        extra.push(format!("QMP command `{}`. {ret_doc}", c.common.name));
        let mut flags = Vec::new();
        if c.allow_oob {
            flags.push("may run out-of-band (`allow-oob`)");
        }
        if c.allow_preconfig {
            flags.push("allowed before machine initialisation (`allow-preconfig`)");
        }
        if !c.success_response {
            flags.push("sends no reply on success (`success-response: false`)");
        }
        if !flags.is_empty() {
            extra.push(format!("This command {}.", flags.join("; ")));
        }
        let ty = self.emit_payload(&c.common, &name, payload, "command", &extra, !c.generate);
        let wire = lit(&c.common.name);
        let oob = c.allow_oob;
        let sr = c.success_response;
        let ret = self.returns_ty(c);
        let meta = self.meta_consts(&c.common);
        let oob_impl = if oob {
            quote!(#cfg impl rt::OobCommand for #name {})
        } else {
            quote!()
        };
        quote! {
            #ty
            #cfg
            impl rt::Command for #name {
                const NAME: &'static str = #wire;
                const ALLOW_OOB: bool = #oob;
                const SUCCESS_RESPONSE: bool = #sr;
                type Returns = #ret;
            }
            #oob_impl
            #cfg
            impl #name {
                #meta
            }
        }
    }

    pub fn emit_event(&self, e: &Event) -> TokenStream {
        let (tn, _) = &self.plan.events[&e.common.name];
        let name = format_ident!("{}", tn);
        let payload = &self.plan.payloads[&e.common.name];
        let cfg = self.cfg(&e.common);
        let extra = vec![format!("The data of QMP event `{}`.", e.common.name)];
        let ty = self.emit_payload(&e.common, &name, payload, "event", &extra, false);
        let wire = lit(&e.common.name);
        let meta = self.meta_consts(&e.common);
        quote! {
            #ty
            #cfg
            impl #name {
                /// The event's wire name.
                pub const NAME: &'static str = #wire;
                #meta
            }
        }
    }

    /// The `Event` enum.
    pub fn emit_event_enum(&self) -> TokenStream {
        let mut decl = Vec::new();
        let mut names_arms = Vec::new();
        let mut dec = Vec::new();
        let mut enc = Vec::new();
        let mut froms = Vec::new();
        for e in self.model.events() {
            let Some((tn, vn)) = self.plan.events.get(&e.common.name) else {
                continue;
            };
            let t = format_ident!("{}", tn);
            let v = format_ident!("{}", vn);
            let w = lit(&e.common.name);
            let cfg = self.cfg(&e.common);
            let dep = Self::deprecated(&e.common.features);
            let d = doc_attrs(&format!("`{}`", e.common.name));
            decl.push(quote!(#d #cfg #dep #v(#t)));
            names_arms.push(quote!(#cfg Self::#v(_) => #w));
            dec.push(quote! {
                #cfg #w => Self::#v(<#t as rt::FromJson>::from_json(data.unwrap_or_else(|| rt::Value::Object(rt::Map::new()))).map_err(|e| e.in_member("data"))?)
            });
            if self.plan.payloads[&e.common.name] == Payload::None {
                enc.push(quote!(#cfg Self::#v(_) => {}));
            } else {
                enc.push(quote!(#cfg Self::#v(data) => rt::put(&mut map, "data", data)));
            }
            froms.push(quote! {
                #cfg
                impl ::std::convert::From<#t> for Event {
                    #[inline]
                    fn from(data: #t) -> Self {
                        Self::#v(data)
                    }
                }
            });
        }
        let schema = self.json_schema_impl(&format_ident!("Event"), &quote!());
        let event_decode = if dec.is_empty() {
            quote!(Ok(Self::Unknown {
                name,
                data: data.unwrap_or(rt::Value::Null)
            }))
        } else {
            quote! {
                Ok(match name.as_str() {
                    #(#dec,)*
                    _ => Self::Unknown { name, data: data.unwrap_or(rt::Value::Null) },
                })
            }
        };
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
            impl Event {
                /// The event's wire name.
                #[inline]
                pub fn name(&self) -> &str {
                    match self {
                        #(#names_arms,)*
                        Self::Unknown { name, .. } => name,
                    }
                }
            }
            impl rt::EventKind for Event {
                #[inline]
                fn name(&self) -> &str {
                    Event::name(self)
                }
            }
            impl rt::ToJson for Event {
                #[inline]
                fn to_json(&self) -> rt::Value {
                    let mut map = rt::Map::new();
                    rt::put(&mut map, "event", self.name());
                    match self {
                        #(#enc,)*
                        Self::Unknown { data, .. } => {
                            if !data.is_null() {
                                rt::put(&mut map, "data", data);
                            }
                        }
                    }
                    rt::Value::Object(map)
                }
            }
            impl rt::serde::Serialize for Event {
                fn serialize<S: rt::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                    rt::serialize_json(self, serializer)
                }
            }
            impl rt::FromJson for Event {
                #[inline]
                fn from_json(value: rt::Value) -> Result<Self, rt::DecodeError> {
                    let mut members = rt::Members::new(value)?;
                    let name: String = members.required("event")?;
                    let data = members.take("data");
                    #event_decode
                }
            }
            impl<'de> rt::serde::Deserialize<'de> for Event {
                fn deserialize<D: rt::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                    rt::deserialize_from_json(deserializer)
                }
            }
            #schema
            #(#froms)*
        }
    }

    /// `Request` and `Response`, and the client extension traits.
    pub fn emit_request_and_clients(&self) -> TokenStream {
        let mut decl = Vec::new();
        let mut names_arms = Vec::new();
        let mut dec = Vec::new();
        let mut enc = Vec::new();
        let mut froms = Vec::new();
        let mut resp_decl = Vec::new();
        let mut resp_dec = Vec::new();
        let mut resp_enc = Vec::new();
        let mut async_methods = Vec::new();
        let mut blocking_methods = Vec::new();
        let mut method_namer = names::Namer::with_reserved(&["execute"]);
        for c in self.model.commands() {
            let Some(tn) = self.plan.commands.get(&c.common.name) else {
                continue;
            };
            let t = format_ident!("{}", tn);
            let w = lit(&c.common.name);
            let cfg = self.cfg(&c.common);
            let dep = Self::deprecated(&c.common.features);
            let allow = if c.common.is_deprecated() {
                quote!(#[allow(deprecated)])
            } else {
                quote!()
            };
            let payload = &self.plan.payloads[&c.common.name];
            let d = doc_attrs(&format!("`{}`", c.common.name));
            decl.push(quote!(#d #cfg #dep #t(#t)));
            names_arms.push(quote!(#cfg Self::#t(_) => #w));
            dec.push(quote! {
                #cfg #w => Self::#t(<#t as rt::FromJson>::from_json(arguments.unwrap_or_else(|| rt::Value::Object(rt::Map::new()))).map_err(|e| e.in_member("arguments"))?)
            });
            if *payload == Payload::None {
                enc.push(quote!(#cfg Self::#t(_) => {}));
            } else {
                enc.push(
                    quote!(#cfg Self::#t(arguments) => rt::put(&mut map, "arguments", arguments)),
                );
            }
            froms.push(quote! {
                #cfg
                #allow
                impl ::std::convert::From<#t> for Request {
                    #[inline]
                    fn from(command: #t) -> Self {
                        Self::#t(command)
                    }
                }
            });
            let ret = self.returns_ty(c);
            resp_decl.push(quote!(#d #cfg #t(#ret)));
            resp_enc.push(quote!(#cfg Self::#t(v) => rt::ToJson::to_json(v)));
            resp_dec.push(quote! {
                #cfg Self::#t(_) => Response::#t(<#ret as rt::FromJson>::from_json(value)?)
            });

            // Client methods.
            let m = format_ident!("{}", method_namer.unique(&names::snake(&c.common.name)));
            let m = ident(&m.to_string());
            let mdoc = doc_attrs(&format!("Runs `{}`: see [`{tn}`].", c.common.name));
            let (params, build): (Vec<TokenStream>, TokenStream) = match payload {
                Payload::None => (vec![], quote!(#t)),
                Payload::Named(ty) => {
                    let inner = self.ty(ty);
                    (vec![quote!(arguments: #inner)], quote!(#t(arguments)))
                }
                Payload::Inline(arg) => {
                    let o = self.model.object(arg).expect("object");
                    let positional = c.generate
                        && o.members.len() <= 2
                        && o.members
                            .iter()
                            .all(|m| !m.optional && m.features.is_empty());
                    if positional {
                        let wire: Vec<&str> = o.members.iter().map(|m| m.name.as_str()).collect();
                        let fnames = names::unique_snake(wire.iter().copied(), &[]);
                        let ids: Vec<Ident> = fnames.iter().map(|n| ident(n)).collect();
                        let tys: Vec<TokenStream> =
                            o.members.iter().map(|m| self.ty_in(arg, &m.ty)).collect();
                        (
                            ids.iter().zip(&tys).map(|(i, t)| quote!(#i: #t)).collect(),
                            quote!(#t { #(#ids),* }),
                        )
                    } else {
                        (vec![quote!(arguments: #t)], quote!(arguments))
                    }
                }
            };
            async_methods.push(quote! {
                #mdoc
                #cfg
                #dep
                #allow
                fn #m(&self, #(#params),*) -> rt::Call<'_, Self, #t> {
                    rt::Call::new(self, #build)
                }
            });
            blocking_methods.push(quote! {
                #mdoc
                #cfg
                #dep
                #allow
                fn #m(&self, #(#params),*) -> Result<#ret, Self::Error> {
                    self.execute(#build)
                }
            });
        }
        let schema = self.json_schema_impl(&format_ident!("Request"), &quote!());
        quote! {
            /// Every command of the schema, as sent on the wire:
            /// `{"execute": NAME, "arguments": {...}}`.
            #[derive(Debug, Clone, PartialEq)]
            #[non_exhaustive]
            #[allow(deprecated)]
            pub enum Request {
                #(#decl,)*
                /// A command these bindings do not know.
                Unknown {
                    /// The command name.
                    execute: String,
                    /// Its arguments, if any.
                    arguments: Option<rt::Value>,
                },
            }
            #[allow(deprecated)]
            impl Request {
                /// The command's wire name.
                #[inline]
                pub fn name(&self) -> &str {
                    match self {
                        #(#names_arms,)*
                        Self::Unknown { execute, .. } => execute,
                    }
                }
                /// Decodes the `return` value of a successful reply to this
                /// request.
                #[inline]
                pub fn decode_return(&self, value: rt::Value) -> Result<Response, rt::DecodeError> {
                    Ok(match self {
                        #(#resp_dec,)*
                        Self::Unknown { .. } => Response::Unknown(value),
                    })
                }
            }
            #[allow(deprecated)]
            impl rt::ToJson for Request {
                #[inline]
                fn to_json(&self) -> rt::Value {
                    let mut map = rt::Map::new();
                    rt::put(&mut map, "execute", self.name());
                    match self {
                        #(#enc,)*
                        Self::Unknown { arguments, .. } => rt::put_opt(&mut map, "arguments", arguments),
                    }
                    rt::Value::Object(map)
                }
            }
            impl rt::serde::Serialize for Request {
                fn serialize<S: rt::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                    rt::serialize_json(self, serializer)
                }
            }
            #[allow(deprecated)]
            impl rt::FromJson for Request {
                #[inline]
                fn from_json(value: rt::Value) -> Result<Self, rt::DecodeError> {
                    let mut members = rt::Members::new(value)?;
                    let name: String = members.required("execute")?;
                    let arguments = members.take("arguments");
                    Ok(match name.as_str() {
                        #(#dec,)*
                        _ => Self::Unknown { execute: name, arguments },
                    })
                }
            }
            impl<'de> rt::serde::Deserialize<'de> for Request {
                fn deserialize<D: rt::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                    rt::deserialize_from_json(deserializer)
                }
            }
            #schema
            #(#froms)*

            /// The typed `return` value of a command, from
            /// [`Request::decode_return`].
            #[derive(Debug, Clone, PartialEq)]
            #[non_exhaustive]
            pub enum Response {
                #(#resp_decl,)*
                /// The reply to a command these bindings do not know.
                Unknown(rt::Value),
            }
            #[allow(deprecated)]
            impl rt::ToJson for Response {
                #[inline]
                fn to_json(&self) -> rt::Value {
                    match self {
                        #(#resp_enc,)*
                        Self::Unknown(v) => v.clone(),
                    }
                }
            }
            impl rt::serde::Serialize for Response {
                fn serialize<S: rt::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                    rt::serialize_json(self, serializer)
                }
            }

            /// One method per command, for every asynchronous
            /// [`Client`](rt::Client) (blanket-implemented).
            ///
            /// Commands without arguments take none; commands with one or two
            /// mandatory arguments (and no optional ones) take them as
            /// parameters; all others take their argument struct.
            pub trait ClientExt: rt::Client {
                #(#async_methods)*
            }
            impl<T: rt::Client + ?Sized> ClientExt for T {}

            /// One method per command, for every
            /// [`ClientBlocking`](rt::ClientBlocking) (blanket-implemented).
            /// Parameters as for [`ClientExt`].
            pub trait ClientBlockingExt: rt::ClientBlocking {
                #(#blocking_methods)*
            }
            impl<T: rt::ClientBlocking + ?Sized> ClientBlockingExt for T {}
        }
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
    pub fn emit_items(&self, entities: &[&Entity]) -> TokenStream {
        let items = entities.iter().map(|e| match e {
            Entity::Enum(en) => self.emit_enum(en),
            Entity::Object(o) if o.variants.is_some() => self.emit_union(o),
            Entity::Object(o) => self.emit_struct(o, "struct", &o.common, &[], false),
            Entity::Alternate(a) => self.emit_alternate(a),
            Entity::Command(cmd) => self.emit_command(cmd),
            Entity::Event(ev) => self.emit_event(ev),
            _ => TokenStream::new(),
        });
        quote!(#(#items)*)
    }

    /// The runtime import, the `Event`, `Request` and `Response` enums, the
    /// client traits and the tables.
    pub fn emit_head_and_tail(&self) -> (TokenStream, TokenStream) {
        let events = self.emit_event_enum();
        let req = self.emit_request_and_clients();
        let tables = self.emit_tables();
        (
            quote!(
                use ::qmp_types::runtime as rt;
            ),
            quote! {
                #events
                #req
                #tables
            },
        )
    }
}
