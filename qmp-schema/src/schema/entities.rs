//! Entities (QEMU's `QAPISchemaEntity` and subclasses): predefined and
//! defined types, commands and events, implicit types, type resolution, and
//! the checks of enums, commands, events and arrays.

use super::*;

impl<'a> Builder<'a> {
    pub(super) fn def_entity(&mut self, e: Entity, info: Option<Info>) -> R<usize> {
        let name = e.name().map(str::to_owned);
        if let Some(name) = &name
            && let Some(&other) = self.index.get(name)
        {
            let msg = match &self.ents[other].info {
                Some(oi) => {
                    let chain: String = self
                        .rep
                        .include_chain(oi.span)
                        .iter()
                        .map(|(f, l)| format!("In file included from {f}:{l}:\n"))
                        .collect();
                    let fname = &self.rep.sources.get(oi.span.file).name;
                    format!(
                        "'{name}' is already defined\n{chain}{fname}: In {} '{}':\n{fname}:{}: previous definition",
                        oi.meta, oi.name, oi.span.line
                    )
                }
                None => format!("{} is already defined", self.describe_type(other)),
            };
            let sp = info.as_ref().map(|i| i.span);
            return Err(self.err(info.as_ref(), sp, msg));
        }
        let i = self.ents.len();
        if let Some(name) = name {
            self.index.insert(name, i);
        }
        self.ents.push(Ent {
            e,
            info,
            state: State::Unchecked,
            include: None,
            doc: None,
        });
        Ok(i)
    }

    pub(super) fn lookup_type(&self, name: &str) -> Option<usize> {
        self.index
            .get(name)
            .copied()
            .filter(|&i| self.ents[i].e.is_type())
    }

    pub(super) fn make_array_type(&mut self, elem: &str, info: Option<&Info>) -> R<String> {
        let name = format!("{elem}List");
        if self.lookup_type(&name).is_none() {
            let mut common = self.common(&name, info, None, Vec::new());
            common.implicit = true;
            self.def_entity(
                Entity::Array(Array {
                    common,
                    element: elem.to_owned(),
                }),
                info.cloned(),
            )?;
        }
        Ok(name)
    }

    pub(super) fn type_ref(&mut self, t: &TypeRef, info: &Info) -> R<String> {
        if t.array {
            self.make_array_type(&t.name, Some(info))
        } else {
            Ok(t.name.clone())
        }
    }

    /// Records feature names schema-wide (QEMU allows at most 64); `at` is
    /// the defining expression, where QEMU reports the excess.
    pub(super) fn note_features(&mut self, fs: &[NFeature], at: Span) {
        for f in fs {
            if !self.feature_names.iter().any(|(n, _)| n == &f.name) {
                self.feature_names.push((f.name.clone(), Some(at)));
            }
        }
    }

    pub(super) fn make_implicit_object(
        &mut self,
        name: &str,
        info: &Info,
        cond: Option<IfCond>,
        role: &str,
        members: Vec<NMember>,
    ) -> R<Option<String>> {
        if members.is_empty() {
            return Ok(None);
        }
        let oname = format!("q_obj_{name}-{role}");
        let members = self.make_members(members, info, &oname)?;
        if !self.index.contains_key(&oname) {
            let mut common = self.common(&oname, Some(info), cond, Vec::new());
            common.implicit = true;
            self.def_entity(
                Entity::Object(Object {
                    common,
                    base: None,
                    local_members: members,
                    members: Vec::new(),
                    variants: None,
                    simple_union: false,
                }),
                Some(info.clone()),
            )?;
        }
        Ok(Some(oname))
    }

    pub(super) fn def_predefineds(&mut self) -> R<()> {
        const I64: (i128, i128) = (i64::MIN as i128, i64::MAX as i128);
        let builtins: [Predefined; 15] = [
            ("str", JsonType::String, None),
            ("number", JsonType::Number, None),
            ("int", JsonType::Int, Some(I64)),
            (
                "int8",
                JsonType::Int,
                Some((i8::MIN.into(), i8::MAX.into())),
            ),
            (
                "int16",
                JsonType::Int,
                Some((i16::MIN.into(), i16::MAX.into())),
            ),
            (
                "int32",
                JsonType::Int,
                Some((i32::MIN.into(), i32::MAX.into())),
            ),
            ("int64", JsonType::Int, Some(I64)),
            ("uint8", JsonType::Int, Some((0, u8::MAX.into()))),
            ("uint16", JsonType::Int, Some((0, u16::MAX.into()))),
            ("uint32", JsonType::Int, Some((0, u32::MAX.into()))),
            ("uint64", JsonType::Int, Some((0, u64::MAX.into()))),
            ("size", JsonType::Int, Some((0, u64::MAX.into()))),
            ("bool", JsonType::Boolean, None),
            ("any", JsonType::Value, None),
            ("null", JsonType::Null, None),
        ];
        for (name, json_type, int_range) in builtins {
            let common = self.common(name, None, None, Vec::new());
            self.def_entity(
                Entity::Builtin(Builtin {
                    common,
                    json_type,
                    int_range,
                }),
                None,
            )?;
            self.make_array_type(name, None)?;
        }
        let mut common = self.common("q_empty", None, None, Vec::new());
        common.implicit = true;
        self.def_entity(
            Entity::Object(Object {
                common,
                base: None,
                local_members: Vec::new(),
                members: Vec::new(),
                variants: None,
                simple_union: false,
            }),
            None,
        )?;
        let mut common = self.common("QType", None, None, Vec::new());
        common.implicit = true;
        let members = [
            "none", "qnull", "qnum", "qstring", "qdict", "qlist", "qbool",
        ]
        .iter()
        .map(|n| EnumMember {
            name: (*n).to_owned(),
            span: None,
            cond: None,
            features: Vec::new(),
        })
        .collect();
        self.def_entity(
            Entity::Enum(Enum {
                common,
                members,
                prefix: self.rules.legacy.then(|| "QTYPE".to_owned()),
            }),
            None,
        )?;
        Ok(())
    }

    pub(super) fn def_def(&mut self, d: Def) -> R<()> {
        let info = Info {
            span: d.span,
            meta: d.meta.as_str(),
            name: std::rc::Rc::from(d.name.as_str()),
        };
        self.note_features(&d.features, d.span);
        let features = features_of(&d.features);
        let cond = d.cond.clone();
        let common = self.common(&d.name, Some(&info), cond.clone(), features);
        let entity = match d.body {
            Body::Enum { values, prefix } => {
                for v in &values {
                    self.note_features(&v.features, d.span);
                }
                let members = values
                    .into_iter()
                    .map(|v| EnumMember {
                        features: features_of(&v.features),
                        name: v.name,
                        span: Some(v.span),
                        cond: v.cond,
                    })
                    .collect();
                Entity::Enum(Enum {
                    common,
                    members,
                    prefix,
                })
            }
            Body::Struct { base, members } => {
                let members = self.make_members(members, &info, &d.name)?;
                Entity::Object(Object {
                    common,
                    base: base.as_ref().map(|b| b.0.clone()),
                    local_members: members,
                    members: Vec::new(),
                    variants: None,
                    simple_union: false,
                })
            }
            Body::Union {
                base,
                discriminator,
                branches,
            } => {
                let base = match base {
                    Some(Data::Inline(ms)) => {
                        self.make_implicit_object(&d.name, &info, cond.clone(), "base", ms)?
                    }
                    Some(Data::Name(n, _)) => Some(n.clone()),
                    None => None,
                };
                let mut variants = Vec::new();
                let mut local_members = Vec::new();
                let simple = discriminator.is_none();
                for b in branches {
                    let mut ty = self.type_ref(&b.ty, &info)?;
                    if simple {
                        let wrapper_cond = self
                            .lookup_type(&ty)
                            .and_then(|i| self.ents[i].e.common().and_then(|c| c.cond.clone()));
                        let data = NMember {
                            name: "data".into(),
                            optional: false,
                            ty: TypeRef {
                                name: ty.clone(),
                                array: false,
                                span: b.ty.span,
                            },
                            cond: None,
                            features: Vec::new(),
                            span: b.ty.span,
                        };
                        ty = self
                            .make_implicit_object(&ty, &info, wrapper_cond, "wrapper", vec![data])?
                            .unwrap_or_default();
                    }
                    variants.push(Variant {
                        name: b.name.clone(),
                        ty,
                        span: Some(b.span),
                        cond: b.cond.clone(),
                    });
                }
                let tag = match discriminator {
                    Some(t) => t.clone(),
                    None => {
                        let kind = format!("{}Kind", d.name);
                        let mut kcommon = self.common(&kind, Some(&info), cond.clone(), Vec::new());
                        kcommon.implicit = true;
                        let members = variants
                            .iter()
                            .map(|v| EnumMember {
                                name: v.name.clone(),
                                span: v.span,
                                cond: v.cond.clone(),
                                features: Vec::new(),
                            })
                            .collect();
                        self.def_entity(
                            Entity::Enum(Enum {
                                common: kcommon,
                                members,
                                prefix: None,
                            }),
                            Some(info.clone()),
                        )?;
                        local_members.push(Member {
                            name: "type".into(),
                            ty: kind,
                            optional: false,
                            span: None,
                            cond: None,
                            features: Vec::new(),
                            defined_in: d.name.clone(),
                            doc: None,
                        });
                        "type".into()
                    }
                };
                Entity::Object(Object {
                    common,
                    base,
                    local_members,
                    members: Vec::new(),
                    variants: Some(Variants { tag, variants }),
                    simple_union: simple,
                })
            }
            Body::Alternate { branches } => {
                let mut variants = Vec::new();
                for b in branches {
                    let ty = self.type_ref(&b.ty, &info)?;
                    variants.push(Variant {
                        name: b.name.clone(),
                        ty,
                        span: Some(b.span),
                        cond: b.cond.clone(),
                    });
                }
                Entity::Alternate(Alternate {
                    common,
                    variants: Variants {
                        tag: "type".into(),
                        variants,
                    },
                })
            }
            Body::Command {
                data,
                returns,
                generate,
                success_response,
                boxed,
                allow_oob,
                allow_preconfig,
                coroutine,
            } => {
                let arg_type = match data {
                    Some(Data::Inline(ms)) => {
                        self.make_implicit_object(&d.name, &info, cond.clone(), "arg", ms)?
                    }
                    Some(Data::Name(n, _)) => Some(n.clone()),
                    None => None,
                };
                let ret_type = match returns {
                    Some(t) => Some(self.type_ref(&t, &info)?),
                    None => None,
                };
                Entity::Command(Command {
                    common,
                    arg_type,
                    ret_type,
                    generate,
                    success_response,
                    boxed,
                    allow_oob,
                    allow_preconfig,
                    coroutine,
                })
            }
            Body::Event { data, boxed } => {
                let arg_type = match data {
                    Some(Data::Inline(ms)) => {
                        self.make_implicit_object(&d.name, &info, cond.clone(), "arg", ms)?
                    }
                    Some(Data::Name(n, _)) => Some(n.clone()),
                    None => None,
                };
                Entity::Event(Event {
                    common,
                    arg_type,
                    boxed,
                })
            }
        };
        let i = self.def_entity(entity, Some(info))?;
        self.ents[i].doc = d.doc;
        Ok(())
    }

    // -----------------------------------------------------------------
    // Checking

    pub(super) fn describe_type(&self, i: usize) -> String {
        match &self.ents[i].e {
            Entity::Builtin(b) => format!("built-in type '{}'", b.common.name),
            Entity::Enum(e) => format!("enum type '{}'", e.common.name),
            Entity::Array(a) => format!("array type ['{}']", a.element),
            Entity::Object(o) => {
                let meta = if o.variants.is_some() {
                    "union"
                } else {
                    "struct"
                };
                format!("{meta} type '{}'", o.common.name)
            }
            Entity::Alternate(a) => format!("alternate type '{}'", a.common.name),
            Entity::Command(c) => format!("command '{}'", c.common.name),
            Entity::Event(e) => format!("event '{}'", e.common.name),
            Entity::Include(_) => String::new(),
        }
    }

    pub(super) fn resolve_type(
        &self,
        name: &str,
        info: Option<&Info>,
        precise: Option<Span>,
        what: impl AsRef<str>,
    ) -> R<usize> {
        self.lookup_type(name).ok_or_else(|| {
            let what = what.as_ref();
            self.err(info, precise, format!("{what} uses unknown type '{name}'"))
        })
    }

    /// Like [`Self::resolve_type`], describing the user lazily.
    pub(super) fn resolve_type_with(
        &self,
        name: &str,
        info: Option<&Info>,
        precise: Option<Span>,
        what: impl FnOnce() -> String,
    ) -> R<usize> {
        match self.lookup_type(name) {
            Some(t) => Ok(t),
            None => self.resolve_type(name, info, precise, what()),
        }
    }

    pub(super) fn check_definition(&self, i: usize) -> R<()> {
        let ent = &self.ents[i];
        let Some(c) = ent.e.common() else {
            return Ok(());
        };
        self.check_feature_clash(ent.info.as_ref(), &c.features, &c.name)?;
        if ent.e.is_type() {
            for f in &c.features {
                if f.is_deprecated() || (f.is_unstable() && self.rules.unstable_feature) {
                    return Err(self.err(
                        ent.info.as_ref(),
                        f.span,
                        format!("feature '{}' is not supported for types", f.name),
                    ));
                }
            }
        }
        Ok(())
    }

    pub(super) fn check_enum(&self, i: usize) -> R<()> {
        self.check_definition(i)?;
        let ent = &self.ents[i];
        let Entity::Enum(e) = &ent.e else {
            unreachable!()
        };
        // Clashes are rare: only when there is one, look for it the slow
        // way that names the culprits.
        let mut set = NameSet::default();
        if e.members.iter().all(|m| set.insert(CName::new(&m.name))) {
            return Ok(());
        }
        let mut seen = SeenMap::default();
        for m in &e.members {
            self.clash(
                ent.info.as_ref(),
                m.span,
                &mut seen,
                Seen {
                    role: "value",
                    name: m.name.clone(),
                    defined_in: e.common.name.clone(),
                },
            )?;
        }
        Ok(())
    }

    pub(super) fn check_args(
        &mut self,
        i: usize,
        what: &str,
        arg: Option<String>,
        boxed: bool,
    ) -> R<()> {
        let info = self.ents[i].info.clone();
        let info = info.as_ref();
        let Some(arg) = arg else { return Ok(()) };
        let t = self.resolve_type(&arg, info, None, format!("{what}'s 'data'"))?;
        let Entity::Object(o) = &self.ents[t].e else {
            return Err(self.err(
                info,
                None,
                format!("{what}'s 'data' cannot take {}", self.describe_type(t)),
            ));
        };
        if o.variants.is_some() && !boxed {
            return Err(self.err(
                info,
                None,
                format!(
                    "{what}'s 'data' can take {} only with 'boxed': true",
                    self.describe_type(t)
                ),
            ));
        }
        self.check_object(t)?;
        if self.rules.conditional_args_boxed
            && !boxed
            && self.object(t).members.iter().any(|m| m.cond.is_some())
        {
            return Err(self.err(
                info,
                None,
                format!("conditional {what} arguments require 'boxed': true"),
            ));
        }
        Ok(())
    }

    pub(super) fn check_command(&mut self, i: usize) -> R<()> {
        self.check_definition(i)?;
        let Entity::Command(c) = &self.ents[i].e else {
            unreachable!()
        };
        let (arg, ret, boxed, name) = (
            c.arg_type.clone(),
            c.ret_type.clone(),
            c.boxed,
            c.common.name.clone(),
        );
        self.check_args(i, "command", arg, boxed)?;
        let info = self.ents[i].info.clone();
        let info = info.as_ref();
        if let Some(ret) = ret {
            let t = self.resolve_type(&ret, info, None, "command's 'returns'")?;
            if !self.pragma.command_returns_exceptions.contains(&name) {
                let mut typ = t;
                if let Entity::Array(a) = &self.ents[t].e
                    && let Some(e) = self.lookup_type(&a.element)
                {
                    typ = e;
                }
                if !matches!(self.ents[typ].e, Entity::Object(_)) {
                    return Err(self.err(
                        info,
                        None,
                        format!("command's 'returns' cannot take {}", self.describe_type(t)),
                    ));
                }
            }
        }
        Ok(())
    }

    pub(super) fn check_event(&mut self, i: usize) -> R<()> {
        self.check_definition(i)?;
        let Entity::Event(e) = &self.ents[i].e else {
            unreachable!()
        };
        let (arg, boxed) = (e.arg_type.clone(), e.boxed);
        self.check_args(i, "event", arg, boxed)
    }

    pub(super) fn check_array(&mut self, i: usize) -> R<()> {
        self.check_definition(i)?;
        let info = self.ents[i].info.clone();
        let Entity::Array(a) = &self.ents[i].e else {
            unreachable!()
        };
        let what = info.as_ref().map_or("", |i| i.meta);
        let elem = self.resolve_type(&a.element.clone(), info.as_ref(), None, what)?;
        let cond = self.ents[elem].e.common().and_then(|c| c.cond.clone());
        if let Entity::Array(a) = &mut self.ents[i].e {
            a.common.cond = cond;
        }
        Ok(())
    }

    pub(super) fn check_entity(&mut self, i: usize) -> R<()> {
        match &self.ents[i].e {
            Entity::Include(_) => Ok(()),
            Entity::Builtin(_) => self.check_definition(i),
            Entity::Enum(_) => self.check_enum(i),
            Entity::Array(_) => self.check_array(i),
            Entity::Object(_) => self.check_object(i),
            Entity::Alternate(_) => self.check_alternate(i),
            Entity::Command(_) => self.check_command(i),
            Entity::Event(_) => self.check_event(i),
        }
    }

    // -----------------------------------------------------------------
    // Docs
}
