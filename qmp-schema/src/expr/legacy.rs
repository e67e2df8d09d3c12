//! QEMU 5's expression checker, for the releases with simple unions
//! ([`Rule::SimpleUnions`](crate::rules::Rule::SimpleUnions), until 6.2):
//! its type checks, branches and the per-expression dispatch. Rules that
//! QEMU 6.0 and 6.1 added to it are asked of the rule table here too.

use super::*;

impl ExprChecker<'_> {
    /// QEMU 5.1's `check_type()`: `allow_dict` is `Some(parent)` when an
    /// inline object is allowed.
    pub(super) fn check_type_legacy(
        &self,
        cx: Cx<'_>,
        v: Option<&Value>,
        source: &str,
        allow_array: bool,
        allow_dict: Option<Option<&str>>,
    ) -> R<Option<Data>> {
        let Some(v) = v else { return Ok(None) };
        match &v.kind {
            ValueKind::Null => Ok(None),
            ValueKind::List(items) => {
                if !allow_array {
                    return Err(self.err(cx, v.span, format!("{source} cannot be an array")));
                }
                match items.as_slice() {
                    [one] if one.as_str().is_some() => Ok(Some(Data::Name(
                        one.as_str().unwrap_or_default().to_owned(),
                        one.span,
                    ))),
                    _ => Err(self.err(
                        cx,
                        v.span,
                        format!("{source}: array type must contain single type name"),
                    )),
                }
            }
            ValueKind::Str(s) => Ok(Some(Data::Name(s.clone(), v.span))),
            _ => {
                let Some(parent) = allow_dict else {
                    return Err(self.err(cx, v.span, format!("{source} should be a type name")));
                };
                let Some(d) = v.as_dict() else {
                    return Err(self.err(
                        cx,
                        v.span,
                        format!("{source} should be an object or type name"),
                    ));
                };
                let permit_upper = parent
                    .is_some_and(|p| self.pragma.member_name_exceptions.iter().any(|e| e == p));
                let mut out = Vec::new();
                for (key, arg) in &d.entries {
                    let key_source = format!("{source} member '{}'", key.name);
                    if self.rules.naming {
                        let name = key.name.strip_prefix('*').unwrap_or(&key.name);
                        self.check_name_lower(
                            cx,
                            name,
                            key.span,
                            &key_source,
                            permit_upper,
                            permit_upper,
                        )?;
                    } else {
                        self.check_name_legacy(
                            cx,
                            &key.name,
                            key.span,
                            &key_source,
                            true,
                            false,
                            permit_upper,
                        )?;
                    }
                    let cn = c_name(&key.name, false);
                    if cn == "u" || cn.starts_with("has_") {
                        return Err(self.err(
                            cx,
                            key.span,
                            format!("{key_source} uses reserved name"),
                        ));
                    }
                    let (ty, dict) = Self::member_dict(arg);
                    let mut cond = None;
                    let mut features = Vec::new();
                    if let Some(dict) = dict {
                        self.check_keys(
                            cx,
                            dict,
                            arg.span,
                            &key_source,
                            &["type"],
                            &["if", "features"],
                        )?;
                        cond = self.check_if(cx, dict, &key_source)?;
                        features = self.check_features(cx, dict.get("features"))?;
                    }
                    let ty = self.type_ref_legacy(cx, ty.unwrap_or(arg), &key_source, true)?;
                    let (name, optional) = match key.name.strip_prefix('*') {
                        Some(n) => (n, true),
                        None => (key.name.as_str(), false),
                    };
                    out.push(NMember {
                        name: name.to_owned(),
                        optional,
                        ty,
                        cond,
                        features,
                        span: key.span,
                    });
                }
                Ok(Some(Data::Inline(out)))
            }
        }
    }

    pub(super) fn type_ref_legacy(
        &self,
        cx: Cx<'_>,
        v: &Value,
        source: &str,
        allow_array: bool,
    ) -> R<TypeRef> {
        match self.check_type_legacy(cx, Some(v), source, allow_array, None)? {
            Some(Data::Name(name, span)) => Ok(TypeRef {
                name,
                array: v.as_list().is_some(),
                span,
            }),
            _ => Err(self.err(cx, v.span, format!("{source} should be a type name"))),
        }
    }

    pub(super) fn check_branches_legacy(
        &self,
        cx: Cx<'_>,
        data: &Dict,
        allow_array: bool,
    ) -> R<Vec<NBranch>> {
        let mut out = Vec::new();
        for (key, value) in &data.entries {
            let source = format!("'data' member '{}'", key.name);
            if self.rules.naming {
                self.check_name_lower(cx, &key.name, key.span, &source, false, false)?;
            } else {
                self.check_name_legacy(cx, &key.name, key.span, &source, false, false, false)?;
            }
            let (ty, dict) = Self::member_dict(value);
            let mut cond = None;
            if let Some(dict) = dict {
                self.check_keys(cx, dict, value.span, &source, &["type"], &["if"])?;
                cond = self.check_if(cx, dict, &source)?;
            }
            let ty = self.type_ref_legacy(cx, ty.unwrap_or(value), &source, allow_array)?;
            out.push(NBranch {
                name: key.name.clone(),
                ty,
                cond,
                span: key.span,
            });
        }
        Ok(out)
    }

    /// `check_exprs()` by QEMU 5.1's rules.
    pub(super) fn check_expr_legacy<'e>(
        &self,
        expr: &'e Expr,
        doc_index: Option<usize>,
        mut cx: Cx<'e>,
    ) -> R<Def> {
        let d = &expr.dict;
        let order = [
            Meta::Enum,
            Meta::Union,
            Meta::Alternate,
            Meta::Struct,
            Meta::Command,
            Meta::Event,
        ];
        let Some(meta) = order.into_iter().find(|m| d.contains(m.as_str())) else {
            return Err(self.err(cx, expr.span, "expression is missing metatype"));
        };
        let m = meta.as_str();
        let (_, name_v) = d.entry(m).unwrap_or_else(|| unreachable!());
        let name = self.check_name_is_str(cx, name_v, &format!("'{m}'"))?;
        cx.defn = Some((m, name));
        let nsp = name_v.span;
        if self.rules.naming {
            match meta {
                Meta::Event => self.check_name_upper(cx, name, nsp, "event")?,
                Meta::Command => {
                    let permit_us = self
                        .pragma
                        .command_name_exceptions
                        .iter()
                        .any(|e| e == name);
                    self.check_name_lower(cx, name, nsp, "command", false, permit_us)?;
                }
                _ => self.check_name_camel(cx, name, nsp, m)?,
            }
        } else {
            self.check_name_legacy(cx, name, nsp, m, false, false, true)?;
        }
        for suffix in ["Kind", "List"] {
            if name.ends_with(suffix) {
                return Err(self.err(cx, nsp, format!("{m} name should not end in '{suffix}'")));
            }
        }
        if let Some(doc) = &expr.doc {
            if doc.symbol.as_deref() != Some(name) {
                let sym = doc.symbol.as_deref().unwrap_or("None");
                return Err(self.err(cx, cx.at, format!("documentation comment is for '{sym}'")));
            }
            if meta != Meta::Command
                && doc
                    .sections
                    .iter()
                    .any(|s| s.kind == DocSectionKind::Returns)
            {
                let at = doc.span.unwrap_or(cx.at);
                return Err(Box::new(self.rep.diag(
                    DiagnosticKind::Doc,
                    at,
                    at,
                    None,
                    "'Returns:' is only valid for commands",
                )));
            }
        } else if self.pragma.doc_required {
            return Err(self.err(cx, expr.span, "documentation comment required"));
        }
        let (required, optional) = self.rules.keys(meta);
        self.check_keys(cx, d, expr.span, m, required, optional)?;
        let not_null = |v: &&Value| v.kind != ValueKind::Null;
        let body = match meta {
            Meta::Enum => self.check_enum(cx, d, name)?,
            Meta::Union => {
                let data = d.get("data").unwrap_or_else(|| unreachable!());
                let base_v = d.get("base").filter(not_null);
                let disc_v = d.get("discriminator").filter(not_null);
                let (base, discriminator) = match disc_v {
                    None => {
                        if base_v.is_some() {
                            return Err(self.err(cx, cx.at, "'base' requires 'discriminator'"));
                        }
                        (None, None)
                    }
                    Some(dv) => {
                        let base =
                            self.check_type_legacy(cx, base_v, "'base'", false, Some(Some(name)))?;
                        if base_v.is_none_or(|b| !Self::truthy(b)) {
                            return Err(self.err(cx, cx.at, "'discriminator' requires 'base'"));
                        }
                        let disc = self.check_name_is_str(cx, dv, "'discriminator'")?;
                        (base, Some(disc.to_owned()))
                    }
                };
                let Some(members) = data.as_dict() else {
                    return Err(self.err(cx, data.span, "'data' must be an object"));
                };
                let branches = self.check_branches_legacy(cx, members, base.is_none())?;
                Body::Union {
                    base,
                    discriminator,
                    branches,
                }
            }
            Meta::Alternate => {
                let data = d.get("data").unwrap_or_else(|| unreachable!());
                if !Self::truthy(data) {
                    return Err(self.err(cx, data.span, "'data' must not be empty"));
                }
                let Some(members) = data.as_dict() else {
                    return Err(self.err(cx, data.span, "'data' must be an object"));
                };
                Body::Alternate {
                    branches: self.check_branches_legacy(cx, members, false)?,
                }
            }
            Meta::Struct => {
                let members = match self.check_type_legacy(
                    cx,
                    d.get("data"),
                    "'data'",
                    false,
                    Some(Some(name)),
                )? {
                    Some(Data::Inline(ms)) => ms,
                    Some(Data::Name(_, sp)) => {
                        return Err(self.err(cx, sp, "'data' should be an object or type name"));
                    }
                    None => Vec::new(),
                };
                let base = match self.check_type_legacy(cx, d.get("base"), "'base'", false, None)? {
                    Some(Data::Name(n, sp)) => Some((n, sp)),
                    _ => None,
                };
                Body::Struct { base, members }
            }
            Meta::Command => {
                let boxed = d.get("boxed").is_some_and(Self::truthy);
                let args = d.get("data").filter(not_null);
                if boxed && args.is_none() {
                    return Err(self.err(cx, cx.at, "'boxed': true requires 'data'"));
                }
                let data =
                    self.check_type_legacy(cx, args, "'data'", false, (!boxed).then_some(None))?;
                let returns = match d.get("returns").filter(not_null) {
                    Some(r) => Some(self.type_ref_legacy(cx, r, "'returns'", true)?),
                    None => None,
                };
                Body::Command {
                    data,
                    returns,
                    generate: d.get("gen").and_then(Value::as_bool).unwrap_or(true),
                    success_response: d
                        .get("success-response")
                        .and_then(Value::as_bool)
                        .unwrap_or(true),
                    boxed,
                    allow_oob: d.get("allow-oob").is_some_and(Self::truthy),
                    allow_preconfig: d.get("allow-preconfig").is_some_and(Self::truthy),
                    coroutine: d.get("coroutine").is_some_and(Self::truthy),
                }
            }
            Meta::Event => {
                let boxed = d.get("boxed").is_some_and(Self::truthy);
                let args = d.get("data").filter(not_null);
                if boxed && args.is_none() {
                    return Err(self.err(cx, cx.at, "'boxed': true requires 'data'"));
                }
                let data =
                    self.check_type_legacy(cx, args, "'data'", false, (!boxed).then_some(None))?;
                Body::Event { data, boxed }
            }
        };
        let cond = self.check_if(cx, d, m)?;
        let features = self.check_features(cx, d.get("features"))?;
        self.check_flags(cx, d)?;
        Ok(Def {
            meta,
            name: name.to_owned(),
            span: expr.span,
            doc: doc_index,
            cond,
            features,
            body,
        })
    }
}
