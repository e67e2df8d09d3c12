//! Unions and alternates (QEMU's `check_union`, `check_alternate`).

use super::*;

impl ExprChecker<'_> {
    pub(super) fn check_branches(
        &self,
        cx: Cx<'_>,
        data: &Dict,
        check_names: bool,
        arrays: bool,
    ) -> R<Vec<NBranch>> {
        let mut out = Vec::new();
        for (key, value) in &data.entries {
            let source = MemberSource("'data'", &key.name);
            if check_names {
                self.check_name_lower(cx, &key.name, key.span, source, false, false)?;
            }
            let (ty, dict) = Self::member_dict(value);
            let mut cond = None;
            if let Some(dict) = dict {
                self.check_keys(cx, dict, value.span, source, &["type"], &["if"])?;
                cond = self.check_if(cx, dict, source)?;
            }
            let ty = ty.unwrap_or(value);
            let ty = if arrays {
                self.check_type_name_or_array(cx, ty, source)?
            } else {
                let (name, span) = self.check_type_name(cx, ty, source)?;
                TypeRef {
                    name,
                    array: false,
                    span,
                }
            };
            out.push(NBranch {
                name: key.name.clone(),
                ty,
                cond,
                span: key.span,
            });
        }
        Ok(out)
    }

    pub(super) fn check_union(&self, cx: Cx<'_>, d: &Dict, name: &str) -> R<Body> {
        let base = self.check_data_or_implicit(cx, d.get("base"), "'base'", Some(name))?;
        let discriminator = match d.get("discriminator") {
            None => None,
            Some(v) => Some(self.check_name_is_str(cx, v, "'discriminator'")?.to_owned()),
        };
        let data = d.get("data").unwrap_or_else(|| unreachable!());
        let Some(members) = data.as_dict() else {
            return Err(self.err(cx, data.span, "'data' must be an object"));
        };
        if self.rules.legacy && discriminator.is_none() {
            if base.is_some() {
                return Err(self.err(cx, cx.at, "'base' requires 'discriminator'"));
            }
            // A simple union: branch names are members of an implicit enum.
            let branches = self.check_branches(cx, members, true, true)?;
            return Ok(Body::Union {
                base,
                discriminator,
                branches,
            });
        }
        if self.rules.legacy && base.is_none() {
            return Err(self.err(cx, cx.at, "'discriminator' requires 'base'"));
        }
        let branches = self.check_branches(cx, members, false, false)?;
        Ok(Body::Union {
            base,
            discriminator,
            branches,
        })
    }

    pub(super) fn check_alternate(&self, cx: Cx<'_>, d: &Dict) -> R<Body> {
        let data = d.get("data").unwrap_or_else(|| unreachable!());
        if !Self::truthy(data) {
            return Err(self.err(cx, data.span, "'data' must not be empty"));
        }
        let Some(members) = data.as_dict() else {
            return Err(self.err(cx, data.span, "'data' must be an object"));
        };
        let branches = self.check_branches(cx, members, true, true)?;
        Ok(Body::Alternate { branches })
    }
}
