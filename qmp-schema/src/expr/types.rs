//! Type references, members, features and enums (QEMU's `check_type_*`,
//! `check_features`, `check_enum`).

use super::*;

impl ExprChecker<'_> {
    pub(super) fn check_features(&self, cx: Cx<'_>, v: Option<&Value>) -> R<Vec<NFeature>> {
        let Some(v) = v else {
            return Ok(Vec::new());
        };
        let Some(items) = v.as_list() else {
            return Err(self.err(cx, v.span, "'features' must be an array"));
        };
        let mut out = Vec::new();
        for f in items {
            let source = "'features' member";
            let (name_v, dict) = match &f.kind {
                ValueKind::Dict(d) => {
                    self.check_keys(cx, d, f.span, source, &["name"], &["if"])?;
                    (d.get("name").unwrap_or(f), Some(d))
                }
                _ => (f, None),
            };
            let name = self.check_name_is_str(cx, name_v, source)?;
            let source = format!("{source} '{name}'");
            if self.rules.naming {
                self.check_name_lower(cx, name, name_v.span, &source, false, false)?;
            } else {
                self.check_name_legacy(cx, name, name_v.span, &source, false, false, false)?;
            }
            let cond = match dict {
                Some(d) => self.check_if(cx, d, &source)?,
                None => None,
            };
            out.push(NFeature {
                name: name.to_owned(),
                span: name_v.span,
                cond,
            });
        }
        Ok(out)
    }

    pub(super) fn check_type_name(
        &self,
        cx: Cx<'_>,
        v: &Value,
        source: impl fmt::Display + Copy,
    ) -> R<(String, Span)> {
        match v.as_str() {
            Some(s) => Ok((s.to_owned(), v.span)),
            None => Err(self.err(cx, v.span, format!("{source} should be a type name"))),
        }
    }

    pub(super) fn check_type_name_or_array(
        &self,
        cx: Cx<'_>,
        v: &Value,
        source: impl fmt::Display + Copy,
    ) -> R<TypeRef> {
        match &v.kind {
            ValueKind::Str(s) => Ok(TypeRef {
                name: s.clone(),
                array: false,
                span: v.span,
            }),
            ValueKind::List(items) => match items.as_slice() {
                [one] if one.as_str().is_some() => Ok(TypeRef {
                    name: one.as_str().unwrap_or_default().to_owned(),
                    array: true,
                    span: one.span,
                }),
                _ => Err(self.err(
                    cx,
                    v.span,
                    format!("{source}: array type must contain single type name"),
                )),
            },
            _ => Err(self.err(
                cx,
                v.span,
                format!("{source} should be a type name or array"),
            )),
        }
    }

    /// A member's value, normalised to a dictionary view: `(type, dict)`.
    pub(super) fn member_dict(v: &Value) -> (Option<&Value>, Option<&Dict>) {
        match &v.kind {
            ValueKind::Dict(d) => (d.get("type"), Some(d)),
            _ => (Some(v), None),
        }
    }

    pub(super) fn check_type_implicit(
        &self,
        cx: Cx<'_>,
        v: &Value,
        source: &str,
        parent: Option<&str>,
    ) -> R<Vec<NMember>> {
        let Some(d) = v.as_dict() else {
            return Err(self.err(
                cx,
                v.span,
                format!("{source} should be an object or type name"),
            ));
        };
        let permissive =
            parent.is_some_and(|p| self.pragma.member_name_exceptions.iter().any(|e| e == p));
        let mut out = Vec::new();
        for (key, arg) in &d.entries {
            let key_source = MemberSource(source, &key.name);
            let (name, optional) = match key.name.strip_prefix('*') {
                Some(n) => (n, true),
                None => (key.name.as_str(), false),
            };
            self.check_name_lower(cx, name, key.span, key_source, permissive, permissive)?;
            if name == "u" || c_name_starts_with(name, "has_") {
                return Err(self.err(cx, key.span, format!("{key_source} uses reserved name")));
            }
            let (ty, dict) = Self::member_dict(arg);
            let mut cond = None;
            let mut features = Vec::new();
            if let Some(dict) = dict {
                self.check_keys(
                    cx,
                    dict,
                    arg.span,
                    key_source,
                    &["type"],
                    &["if", "features"],
                )?;
                cond = self.check_if(cx, dict, key_source)?;
                features = self.check_features(cx, dict.get("features"))?;
            }
            let ty = ty.unwrap_or(arg);
            let ty = self.check_type_name_or_array(cx, ty, key_source)?;
            out.push(NMember {
                name: name.to_owned(),
                optional,
                ty,
                cond,
                features,
                span: key.span,
            });
        }
        Ok(out)
    }

    pub(super) fn check_data_or_implicit(
        &self,
        cx: Cx<'_>,
        v: Option<&Value>,
        source: &str,
        parent: Option<&str>,
    ) -> R<Option<Data>> {
        match v {
            None => Ok(None),
            Some(v) => match &v.kind {
                ValueKind::Str(s) => Ok(Some(Data::Name(s.clone(), v.span))),
                _ => Ok(Some(Data::Inline(
                    self.check_type_implicit(cx, v, source, parent)?,
                ))),
            },
        }
    }

    pub(super) fn check_enum(&self, cx: Cx<'_>, d: &Dict, name: &str) -> R<Body> {
        let data = d.get("data").unwrap_or_else(|| unreachable!());
        let Some(items) = data.as_list() else {
            return Err(self.err(cx, data.span, "'data' must be an array"));
        };
        let prefix = match d.get("prefix") {
            None => None,
            Some(p) => match p.as_str() {
                Some(s) => Some(s.to_owned()),
                None => return Err(self.err(cx, p.span, "'prefix' must be a string")),
            },
        };
        let permissive = self.pragma.member_name_exceptions.iter().any(|e| e == name);
        let mut values = Vec::new();
        for item in items {
            let source = "'data' member";
            let (name_v, dict) = match &item.kind {
                ValueKind::Dict(md) => {
                    let optional: &[&str] = if self.rules.legacy {
                        &["if"]
                    } else {
                        &["if", "features"]
                    };
                    self.check_keys(cx, md, item.span, source, &["name"], optional)?;
                    (md.get("name").unwrap_or(item), Some(md))
                }
                _ => (item, None),
            };
            let mname = self.check_name_is_str(cx, name_v, source)?;
            let source = MemberSource("'data'", mname);
            let checked: std::borrow::Cow<'_, str> =
                if mname.starts_with(|c: char| c.is_ascii_digit()) {
                    format!("d{mname}").into()
                } else {
                    mname.into()
                };
            if !self.rules.naming {
                self.check_name_legacy(
                    cx,
                    mname,
                    name_v.span,
                    &source.to_string(),
                    false,
                    true,
                    permissive,
                )?;
            } else {
                self.check_name_lower(cx, &checked, name_v.span, source, permissive, permissive)?;
            }
            let (cond, features) = match dict {
                Some(md) => (
                    self.check_if(cx, md, source)?,
                    self.check_features(cx, md.get("features"))?,
                ),
                None => (None, Vec::new()),
            };
            values.push(NValue {
                name: mname.to_owned(),
                span: name_v.span,
                cond,
                features,
            });
        }
        Ok(Body::Enum { values, prefix })
    }
}
