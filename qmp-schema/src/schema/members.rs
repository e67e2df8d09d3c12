//! Object types and their members (QEMU's `QAPISchemaObjectType` and
//! `QAPISchemaMember`): member lists, clash checks, features.

use super::*;

impl<'a> Builder<'a> {
    pub(super) fn make_members(
        &mut self,
        ms: Vec<NMember>,
        info: &Info,
        defined_in: &str,
    ) -> R<Vec<Member>> {
        let mut out = Vec::with_capacity(ms.len());
        for m in ms {
            self.note_features(&m.features, info.span);
            let ty = if m.ty.array {
                self.make_array_type(&m.ty.name, Some(info))?
            } else {
                m.ty.name
            };
            out.push(Member {
                name: m.name,
                ty,
                optional: m.optional,
                span: Some(m.span),
                cond: m.cond,
                features: features_of(&m.features),
                defined_in: defined_in.to_owned(),
                doc: None,
            });
        }
        Ok(out)
    }

    pub(super) fn clash(
        &self,
        info: Option<&Info>,
        precise: Option<Span>,
        seen: &mut SeenMap,
        m: Seen,
    ) -> R<()> {
        let key = c_name(&m.name, true).into_owned();
        if let Some(prev) = seen.get(&key) {
            let iname = info.map_or("", |i| &*i.name);
            return Err(self.err(
                info,
                precise,
                format!(
                    "{} collides with {}",
                    describe_member(self.rules.legacy, m.role, &m.name, &m.defined_in, iname),
                    describe_member(
                        self.rules.legacy,
                        prev.role,
                        &prev.name,
                        &prev.defined_in,
                        iname
                    )
                ),
            ));
        }
        seen.insert(key, m);
        Ok(())
    }

    pub(super) fn check_feature_clash(
        &self,
        info: Option<&Info>,
        features: &[Feature],
        defined_in: &str,
    ) -> R<()> {
        let mut seen = SeenMap::default();
        for f in features {
            self.clash(
                info,
                f.span,
                &mut seen,
                Seen {
                    role: "feature",
                    name: f.name.clone(),
                    defined_in: defined_in.to_owned(),
                },
            )?;
        }
        Ok(())
    }

    pub(super) fn object(&self, i: usize) -> &Object {
        match &self.ents[i].e {
            Entity::Object(o) => o,
            _ => unreachable!("not an object"),
        }
    }

    pub(super) fn object_mut(&mut self, i: usize) -> &mut Object {
        match &mut self.ents[i].e {
            Entity::Object(o) => o,
            _ => unreachable!("not an object"),
        }
    }

    pub(super) fn check_member(
        &self,
        info: Option<&Info>,
        m: &Member,
        role: &'static str,
    ) -> R<usize> {
        let iname = info.map_or("", |i| &*i.name);
        let t = self.resolve_type_with(&m.ty, info, m.span, || {
            describe_member(self.rules.legacy, role, &m.name, &m.defined_in, iname)
        })?;
        self.check_feature_clash(info, &m.features, &m.name)?;
        Ok(t)
    }

    /// The clash check of an object's members (and branches) against `seen`.
    pub(super) fn object_check_clash(
        &self,
        o: usize,
        info: Option<&Info>,
        precise: Option<Span>,
        seen: &mut SeenMap,
    ) -> R<()> {
        let obj = self.object(o);
        for m in &obj.members {
            self.clash(
                info,
                precise.or(m.span),
                seen,
                Seen {
                    role: "member",
                    name: m.name.clone(),
                    defined_in: m.defined_in.clone(),
                },
            )?;
        }
        if let Some(vs) = &obj.variants {
            for v in &vs.variants {
                if let Some(t) = self.lookup_type(&v.ty)
                    && matches!(self.ents[t].e, Entity::Object(_))
                {
                    let mut s = seen.clone();
                    self.object_check_clash(t, info, precise.or(v.span), &mut s)?;
                }
            }
        }
        Ok(())
    }

    pub(super) fn check_object(&mut self, i: usize) -> R<()> {
        match self.ents[i].state {
            State::Complete => return Ok(()),
            State::InProgress => {
                let name = self.object(i).common.name.clone();
                return Err(self.err(
                    self.ents[i].info.as_ref(),
                    None,
                    format!("object {name} contains itself"),
                ));
            }
            State::Unchecked => {}
        }
        self.ents[i].state = State::InProgress;
        self.check_definition(i)?;
        let info = self.ents[i].info.clone();
        let info = info.as_ref();
        let mut base_idx = None;
        if let Some(base_name) = self.object(i).base.clone() {
            let b = self.resolve_type(&base_name, info, None, "'base'")?;
            let ok = matches!(&self.ents[b].e, Entity::Object(o) if o.variants.is_none());
            if !ok {
                return Err(self.err(
                    info,
                    None,
                    format!(
                        "'base' requires a struct type, {} isn't",
                        self.describe_type(b)
                    ),
                ));
            }
            self.check_object(b)?;
            base_idx = Some(b);
        }
        // Clashes are rare: look for one cheaply first, and only when there
        // is one, repeat the checks the slow way that names the culprits.
        let clean = {
            let mut set = NameSet::default();
            let base_members = base_idx.map(|b| self.object(b).members.as_slice());
            base_members
                .unwrap_or_default()
                .iter()
                .chain(&self.object(i).local_members)
                .all(|m| set.insert(CName::new(&m.name)))
        };
        let mut seen = SeenMap::default();
        if let Some(b) = base_idx
            && !clean
        {
            self.object_check_clash(b, info, None, &mut seen)?;
        }
        let mut members: Vec<Member> = Vec::new();
        if let Some(b) = base_idx {
            members.extend(self.object(b).members.iter().cloned());
        }
        for m in &self.object(i).local_members {
            self.check_member(info, m, "member")?;
            if !clean {
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
            members.push(m.clone());
        }
        self.object_mut(i).members = members;
        if self.object(i).variants.is_some() {
            self.check_branches(i, info)?;
            let obj = self.object(i);
            let mut set = NameSet::default();
            for m in &obj.members {
                set.insert(CName::new(&m.name));
            }
            let clean = obj.variants.iter().flat_map(|vs| &vs.variants).all(|v| {
                self.lookup_type(&v.ty)
                    .is_none_or(|t| self.fast_clean(t, &mut set.clone()))
            });
            if !clean {
                self.union_branch_clash(i, info)?;
            }
        }
        self.ents[i].state = State::Complete;
        Ok(())
    }

    /// Whether an object's members (and its branches' members) can be
    /// added to `set` without a clash.
    pub(super) fn fast_clean<'s>(&'s self, o: usize, set: &mut NameSet<'s>) -> bool {
        let Entity::Object(obj) = &self.ents[o].e else {
            return true;
        };
        if !obj.members.iter().all(|m| set.insert(CName::new(&m.name))) {
            return false;
        }
        obj.variants.iter().flat_map(|vs| &vs.variants).all(|v| {
            self.lookup_type(&v.ty)
                .is_none_or(|t| self.fast_clean(t, &mut set.clone()))
        })
    }
}
