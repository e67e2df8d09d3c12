//! Union branches and alternatives (QEMU's `QAPISchemaVariants`,
//! `QAPISchemaBranches`, `QAPISchemaAlternatives`).

use super::*;

impl<'a> Builder<'a> {
    /// The slow clash check of a union's branches, which reports the
    /// first clash.
    pub(super) fn union_branch_clash(&self, i: usize, info: Option<&Info>) -> R<()> {
        let obj = self.object(i);
        let mut seen = SeenMap::default();
        for m in &obj.members {
            self.clash(
                info,
                m.span,
                &mut seen,
                Seen {
                    role: "member",
                    name: m.name.clone(),
                    defined_in: m.defined_in.clone(),
                },
            )?;
        }
        for v in obj.variants.iter().flat_map(|vs| &vs.variants) {
            if let Some(t) = self.lookup_type(&v.ty) {
                let mut s = seen.clone();
                self.object_check_clash(t, info, v.span, &mut s)?;
            }
        }
        Ok(())
    }

    pub(super) fn check_branches(&mut self, i: usize, info: Option<&Info>) -> R<()> {
        let obj = self.object(i);
        let simple = obj.simple_union;
        let vs = obj.variants.as_ref().unwrap_or_else(|| unreachable!());
        let tag_name = vs.tag.clone();
        let mut variants = vs.variants.clone();
        let tag_key = CName::new(&tag_name);
        // Members do not clash here, so C names identify them.
        let tag = obj
            .members
            .iter()
            .find(|m| CName::new(&m.name) == tag_key)
            .filter(|m| m.name == tag_name)
            .cloned();
        let has_members = !obj.members.is_empty();
        let Some(tag) = tag else {
            return Err(self.err(
                info,
                None,
                format!("discriminator '{tag_name}' is not a member of 'base'"),
            ));
        };
        let enum_idx = self.lookup_type(&tag.ty);
        if !simple {
            let base_implicit = tag.defined_in.starts_with("q_");
            let base = if base_implicit {
                "'base'".to_owned()
            } else {
                format!("base type '{}'", tag.defined_in)
            };
            let is_enum = enum_idx.is_some_and(|e| matches!(self.ents[e].e, Entity::Enum(_)));
            if !is_enum {
                return Err(self.err(
                    info,
                    None,
                    format!("discriminator member '{tag_name}' of {base} must be of enum type"),
                ));
            }
            if tag.optional {
                return Err(self.err(
                    info,
                    None,
                    format!("discriminator member '{tag_name}' of {base} must not be optional"),
                ));
            }
            if tag.cond.is_some() {
                return Err(self.err(
                    info,
                    None,
                    format!("discriminator member '{tag_name}' of {base} must not be conditional"),
                ));
            }
        }
        let enum_members: &[EnumMember] = match enum_idx.map(|e| &self.ents[e].e) {
            Some(Entity::Enum(e)) => &e.members,
            _ => &[],
        };
        if !simple {
            for m in enum_members {
                if !variants.iter().any(|v| v.name == m.name) {
                    variants.push(Variant {
                        name: m.name.clone(),
                        ty: "q_empty".into(),
                        span: None,
                        cond: m.cond.clone(),
                    });
                }
            }
        }
        if variants.is_empty() {
            return Err(self.err(info, None, "union has no branches"));
        }
        let count = variants.len();
        if let Some(v) = self.object_mut(i).variants.as_mut() {
            v.variants = variants;
        }
        let iname = info.map_or("", |i| &*i.name);
        for k in 0..count {
            // Checks borrow the union; checking the branch type needs
            // `self` mutably, after them.
            let obj = self.object(i);
            let union_name = obj.common.name.as_str();
            let v = &obj
                .variants
                .as_ref()
                .unwrap_or_else(|| unreachable!())
                .variants[k];
            let what = || describe_member(self.rules.legacy, "branch", &v.name, union_name, iname);
            let t = self.resolve_type_with(&v.ty, info, v.span, what)?;
            if !has_members {
                continue;
            }
            let enum_members: &[EnumMember] = match enum_idx.map(|e| &self.ents[e].e) {
                Some(Entity::Enum(e)) => &e.members,
                _ => &[],
            };
            if !enum_members.iter().any(|m| m.name == v.name) {
                let ed = enum_idx.map(|e| self.describe_type(e)).unwrap_or_default();
                return Err(self.err(
                    info,
                    v.span,
                    format!("branch '{}' is not a value of {ed}", v.name),
                ));
            }
            let ok = match &self.ents[t].e {
                Entity::Object(o) => !(self.rules.legacy && o.variants.is_some()),
                _ => false,
            };
            if !ok {
                return Err(self.err(
                    info,
                    v.span,
                    format!("{} cannot use {}", what(), self.describe_type(t)),
                ));
            }
            self.check_object(t)?;
        }
        Ok(())
    }

    pub(super) fn check_alternate(&mut self, i: usize) -> R<()> {
        self.check_definition(i)?;
        let info = self.ents[i].info.clone();
        let info = info.as_ref();
        let Entity::Alternate(a) = &self.ents[i].e else {
            unreachable!()
        };
        let name = a.common.name.clone();
        let vs = a.variants.variants.clone();
        let iname = info.map_or("", |i| &*i.name);
        let mut types = Vec::new();
        for v in &vs {
            let what = describe_member(self.rules.legacy, "branch", &v.name, &name, iname);
            types.push(self.resolve_type(&v.ty, info, v.span, &what)?);
        }
        let mut seen = SeenMap::default();
        let mut types_seen: HashMap<&'static str, String> = HashMap::new();
        for (v, &t) in vs.iter().zip(&types) {
            self.clash(
                info,
                v.span,
                &mut seen,
                Seen {
                    role: "branch",
                    name: v.name.clone(),
                    defined_in: name.clone(),
                },
            )?;
            let what = describe_member(self.rules.legacy, "branch", &v.name, &name, iname);
            let qtype = match self.ents[t].e.json_type() {
                Some(JsonType::Null) => "QTYPE_QNULL",
                Some(JsonType::String) => "QTYPE_QSTRING",
                Some(JsonType::Number | JsonType::Int) => "QTYPE_QNUM",
                Some(JsonType::Boolean) => "QTYPE_QBOOL",
                Some(JsonType::Array) => "QTYPE_QLIST",
                Some(JsonType::Object) => "QTYPE_QDICT",
                _ => {
                    return Err(self.err(
                        info,
                        v.span,
                        format!("{what} cannot use {}", self.describe_type(t)),
                    ));
                }
            };
            let mut conflicting = vec![qtype];
            let push = |c: &mut Vec<&'static str>, q: &'static str| {
                if !c.contains(&q) {
                    c.push(q);
                }
            };
            if qtype == "QTYPE_QSTRING" {
                if let Entity::Enum(e) = &self.ents[t].e {
                    for m in &e.members {
                        if m.name == "on" || m.name == "off" {
                            push(&mut conflicting, "QTYPE_QBOOL");
                        }
                        if m.name.starts_with(|c: char| {
                            c == '-' || c == '+' || c == '.' || c.is_ascii_digit()
                        }) {
                            push(&mut conflicting, "QTYPE_QNUM");
                        }
                    }
                } else {
                    push(&mut conflicting, "QTYPE_QNUM");
                    push(&mut conflicting, "QTYPE_QBOOL");
                }
            }
            for qt in conflicting {
                if let Some(prev) = types_seen.get(qt) {
                    return Err(self.err(
                        info,
                        v.span,
                        format!("{what} can't be distinguished from '{prev}'"),
                    ));
                }
                types_seen.insert(qt, v.name.clone());
            }
        }
        Ok(())
    }
}
