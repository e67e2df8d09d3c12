//! Syntax trees built directly, for the items the generator writes most.
//!
//! Most of the generated file is plain declarations: structs with documented
//! fields, string enums, one-line macro invocations, `Request`/`Response`
//! (the client methods are one small `parse_quote!` each: as fast, measured).
//! Building their `syn` trees directly, instead of
//! writing tokens with `quote!` and parsing them back, took the full QEMU
//! 10.0.2 generation from about 55 to 40 ms. The items with bodies (unions,
//! alternates, the `Event` enum, the tables) still go through `quote!` and
//! `syn::parse2`; [`Out`] keeps both kinds in order.

use proc_macro2::{Ident, Span, TokenStream};
use syn::punctuated::Punctuated;

use crate::docs::raw_lit;

/// Items in output order: some built directly, the others as tokens that
/// are parsed in batches.
#[derive(Default)]
pub(crate) struct Out {
    items: Vec<syn::Item>,
    pending: TokenStream,
}

impl Out {
    /// Appends items written as tokens.
    pub fn tokens(&mut self, tokens: TokenStream) {
        self.pending.extend(tokens);
    }

    /// Appends an item built directly.
    pub fn item(&mut self, item: syn::Item) -> syn::Result<()> {
        self.flush()?;
        self.items.push(item);
        Ok(())
    }

    fn flush(&mut self) -> syn::Result<()> {
        if !self.pending.is_empty() {
            let file: syn::File = syn::parse2(std::mem::take(&mut self.pending))?;
            self.items.extend(file.items);
        }
        Ok(())
    }

    /// The file of all the items.
    pub fn into_file(mut self) -> syn::Result<syn::File> {
        self.flush()?;
        Ok(syn::File {
            shebang: None,
            frontmatter: None,
            attrs: Vec::new(),
            items: self.items,
        })
    }
}

fn id(name: &str) -> Ident {
    Ident::new(name, Span::call_site())
}

/// A path from its segments, e.g. `["rt", "Value"]`.
pub(crate) fn path(segments: &[&str]) -> syn::Path {
    syn::Path {
        leading_colon: None,
        segments: segments
            .iter()
            .map(|s| syn::PathSegment::from(id(s)))
            .collect(),
    }
}

/// The type named by a path.
pub(crate) fn path_ty(segments: &[&str]) -> syn::Type {
    syn::Type::Path(syn::TypePath {
        attrs: Vec::new(),
        qself: None,
        path: path(segments),
    })
}

/// The type named by an identifier.
pub(crate) fn ident_ty(name: Ident) -> syn::Type {
    syn::Type::Path(syn::TypePath {
        attrs: Vec::new(),
        qself: None,
        path: syn::Path::from(name),
    })
}

/// A generic type such as `Vec<T>` or `rt::Map<K, V>`.
pub(crate) fn generic_ty(segments: &[&str], args: Vec<syn::Type>) -> syn::Type {
    let mut p = path(segments);
    if let Some(last) = p.segments.last_mut() {
        last.arguments = syn::PathArguments::AngleBracketed(syn::AngleBracketedGenericArguments {
            colon2_token: None,
            lt_token: Default::default(),
            args: args.into_iter().map(syn::GenericArgument::Type).collect(),
            gt_token: Default::default(),
        });
    }
    syn::Type::Path(syn::TypePath {
        attrs: Vec::new(),
        qself: None,
        path: p,
    })
}

fn attr(meta: syn::Meta) -> syn::Attribute {
    syn::Attribute {
        pound_token: Default::default(),
        style: syn::AttrStyle::Outer,
        bracket_token: Default::default(),
        meta,
    }
}

/// `#[name(tokens)]`, e.g. `#[derive(Debug)]` or `#[cfg(feature = "x")]`.
pub(crate) fn list_attr(name: &str, tokens: TokenStream) -> syn::Attribute {
    attr(syn::Meta::List(syn::MetaList {
        path: path(&[name]),
        delimiter: syn::MacroDelimiter::Paren(Default::default()),
        tokens,
    }))
}

/// `#[name]`, e.g. `#[deprecated]`.
pub(crate) fn word_attr(name: &str) -> syn::Attribute {
    attr(syn::Meta::Path(path(&[name])))
}

/// [`doc_attrs`] into a new list.
pub(crate) fn docs(text: &str) -> Vec<syn::Attribute> {
    let mut attrs = Vec::new();
    doc_attrs(text, &mut attrs);
    attrs
}

/// `#[doc = "..."]` attributes, one per line of `text`, each line with the
/// space `///` puts after the slashes.
pub(crate) fn doc_attrs(text: &str, out: &mut Vec<syn::Attribute>) {
    for line in text.lines() {
        let lit = if line.is_empty() {
            raw_lit("")
        } else {
            raw_lit(&format!(" {line}"))
        };
        out.push(attr(syn::Meta::NameValue(syn::MetaNameValue {
            path: path(&["doc"]),
            eq_token: Default::default(),
            value: syn::Expr::Lit(syn::ExprLit {
                attrs: Vec::new(),
                lit: syn::Lit::new(lit),
            }),
        })));
    }
}

fn make_field(
    attrs: Vec<syn::Attribute>,
    vis: syn::Visibility,
    name: Option<Ident>,
    ty: syn::Type,
) -> syn::Field {
    syn::Field {
        attrs,
        vis,
        modifiers: Default::default(),
        colon_token: name.as_ref().map(|_| Default::default()),
        ident: name,
        ty,
        default: None,
    }
}

/// A field: `attrs pub name: ty` (named) or `pub ty` (tuple field).
pub(crate) fn field(attrs: Vec<syn::Attribute>, name: Option<Ident>, ty: syn::Type) -> syn::Field {
    make_field(attrs, syn::Visibility::Public(Default::default()), name, ty)
}

/// `attrs pub struct name { fields }`.
pub(crate) fn struct_item(
    attrs: Vec<syn::Attribute>,
    name: Ident,
    fields: syn::Fields,
) -> syn::Item {
    let semi_token = match fields {
        syn::Fields::Named(_) => None,
        _ => Some(Default::default()),
    };
    syn::Item::Struct(syn::ItemStruct {
        attrs,
        vis: syn::Visibility::Public(Default::default()),
        struct_token: Default::default(),
        ident: name,
        generics: Default::default(),
        fields,
        semi_token,
    })
}

/// Named fields `{ a: A, b: B }`.
pub(crate) fn named(fields: Vec<syn::Field>) -> syn::Fields {
    syn::Fields::Named(syn::FieldsNamed {
        brace_token: Default::default(),
        named: fields.into_iter().collect(),
    })
}

/// A field of an enum variant (no visibility).
pub(crate) fn variant_field(ty: syn::Type) -> syn::Field {
    make_field(Vec::new(), syn::Visibility::Inherited, None, ty)
}

/// A named field of an enum variant (no visibility).
pub(crate) fn variant_named_field(
    attrs: Vec<syn::Attribute>,
    name: Ident,
    ty: syn::Type,
) -> syn::Field {
    make_field(attrs, syn::Visibility::Inherited, Some(name), ty)
}

/// The expression naming a path of one identifier (a value or unit struct).
pub(crate) fn path_expr(name: Ident) -> syn::Expr {
    syn::Expr::Path(syn::ExprPath {
        attrs: Vec::new(),
        qself: None,
        path: syn::Path::from(name),
    })
}

/// `name(args)`.
pub(crate) fn call_expr(name: Ident, args: Vec<syn::Expr>) -> syn::Expr {
    syn::Expr::Call(syn::ExprCall {
        attrs: Vec::new(),
        func: Box::new(path_expr(name)),
        paren_token: Default::default(),
        args: args.into_iter().collect(),
    })
}

/// Tuple fields `(A, B)`.
pub(crate) fn unnamed(fields: Vec<syn::Field>) -> syn::Fields {
    syn::Fields::Unnamed(syn::FieldsUnnamed {
        paren_token: Default::default(),
        unnamed: fields.into_iter().collect(),
    })
}

/// An enum variant.
pub(crate) fn variant(
    attrs: Vec<syn::Attribute>,
    name: Ident,
    fields: syn::Fields,
) -> syn::Variant {
    syn::Variant {
        attrs,
        ident: name,
        fields,
        discriminant: None,
    }
}

/// `attrs pub enum name { variants }`.
pub(crate) fn enum_item(
    attrs: Vec<syn::Attribute>,
    name: Ident,
    variants: Vec<syn::Variant>,
) -> syn::Item {
    syn::Item::Enum(syn::ItemEnum {
        attrs,
        vis: syn::Visibility::Public(Default::default()),
        enum_token: Default::default(),
        ident: name,
        generics: Default::default(),
        brace_token: Default::default(),
        variants: variants
            .into_iter()
            .collect::<Punctuated<_, syn::Token![,]>>(),
    })
}

/// `attrs path!(tokens);`.
pub(crate) fn macro_item(
    attrs: Vec<syn::Attribute>,
    segments: &[&str],
    tokens: TokenStream,
) -> syn::Item {
    syn::Item::Macro(syn::ItemMacro {
        attrs,
        ident: None,
        mac: syn::Macro {
            path: path(segments),
            bang_token: Default::default(),
            delimiter: syn::MacroDelimiter::Paren(Default::default()),
            tokens,
        },
        semi_token: Some(Default::default()),
    })
}
