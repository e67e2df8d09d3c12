//! Doc comments connected to definitions (QEMU's `QAPIDoc.connect_*` and
//! `check`): members, features and sections each documented once.

use super::*;

impl<'a> Builder<'a> {
    pub(super) fn doc_index_of(&self, i: usize) -> Option<usize> {
        self.ents[i].doc
    }

    /// Connects a member to doc block `doc`, whose state is `st` (taken
    /// out of `self.doc_state` meanwhile).
    pub(super) fn connect_member(
        &self,
        doc: usize,
        st: &mut DocState,
        role: &'static str,
        name: &str,
        info: Option<&Info>,
        precise: Option<Span>,
    ) -> R<()> {
        let sections = &self.docs[doc].sections;
        if let Some(a) = st
            .args
            .iter_mut()
            .find(|a| sections[a.0].name.as_deref() == Some(name))
        {
            a.1 = true;
            return Ok(());
        }
        if st.extra.iter().any(|e| e == name) {
            return Ok(());
        }
        let symbol = self.docs[doc].symbol.as_deref().unwrap_or_default();
        if self.rules.member_docs
            && !self
                .pragma
                .documentation_exceptions
                .iter()
                .any(|e| e == symbol)
        {
            return Err(self.err_kind(
                DiagnosticKind::Doc,
                info,
                precise,
                format!("{role} '{name}' lacks documentation"),
            ));
        }
        st.extra.push(name.to_owned());
        Ok(())
    }

    /// Adds empty member sections for undocumented members (see
    /// [`DocState::extra`]) where QEMU adds them: after the leading run of
    /// member sections.
    pub(super) fn finish_docs(&mut self) {
        for (d, st) in self.docs.iter_mut().zip(&mut self.doc_state) {
            for name in st.extra.drain(..) {
                let mut index = 1;
                while index < d.sections.len() && d.sections[index].kind == DocSectionKind::Member {
                    index += 1;
                }
                d.sections.insert(
                    index.min(d.sections.len()),
                    DocSection {
                        kind: DocSectionKind::Member,
                        name: Some(name),
                        text: String::new(),
                        span: None,
                        tag: None,
                    },
                );
            }
        }
    }

    pub(super) fn connect_feature(
        &self,
        doc: usize,
        st: &mut DocState,
        f: &Feature,
        info: Option<&Info>,
    ) -> R<()> {
        let sections = &self.docs[doc].sections;
        match st
            .features
            .iter_mut()
            .find(|a| sections[a.0].name.as_deref() == Some(f.name.as_str()))
        {
            Some(a) => {
                a.1 = true;
                Ok(())
            }
            None => Err(self.err_kind(
                DiagnosticKind::Doc,
                info,
                f.span,
                format!("feature '{}' lacks documentation", f.name),
            )),
        }
    }

    /// What an object contributes to its doc: its implicit base's members,
    /// its local members and their features.
    pub(super) fn collect_object_conns<'s>(&'s self, o: usize, out: &mut Vec<Conn<'s>>) {
        let obj = self.object(o);
        if let Some(b) = &obj.base
            && b.starts_with("q_")
            && let Some(&bi) = self.index.get(b)
        {
            self.collect_object_conns(bi, out);
        }
        for m in &obj.local_members {
            out.push(Conn::Member("member", &m.name, m.span));
            out.extend(m.features.iter().map(Conn::Feature));
        }
    }

    pub(super) fn connect_doc(&mut self, i: usize) -> R<()> {
        let Some(doc) = self.doc_index_of(i) else {
            return Ok(());
        };
        // The block's state is out of `self` while members borrow from it.
        let mut st = std::mem::take(&mut self.doc_state[doc]);
        let mut conns = Vec::new();
        let ent = &self.ents[i];
        if let Some(c) = ent.e.common() {
            conns.extend(c.features.iter().map(Conn::Feature));
        }
        match &ent.e {
            Entity::Enum(e) => {
                for m in &e.members {
                    conns.push(Conn::Member("value", &m.name, m.span));
                    conns.extend(m.features.iter().map(Conn::Feature));
                }
            }
            Entity::Object(_) => self.collect_object_conns(i, &mut conns),
            Entity::Alternate(a) => {
                for v in &a.variants.variants {
                    conns.push(Conn::Member("branch", &v.name, v.span));
                }
            }
            Entity::Command(Command {
                arg_type: Some(a), ..
            })
            | Entity::Event(Event {
                arg_type: Some(a), ..
            }) => {
                if a.starts_with("q_")
                    && let Some(&ai) = self.index.get(a)
                {
                    self.collect_object_conns(ai, &mut conns);
                }
            }
            _ => {}
        }
        let info = self.ents[i].info.as_ref();
        for c in conns {
            match c {
                Conn::Member(role, name, span) => {
                    self.connect_member(doc, &mut st, role, name, info, span)?
                }
                Conn::Feature(f) => self.connect_feature(doc, &mut st, f, info)?,
            }
        }
        self.doc_state[doc] = st;
        Ok(())
    }

    pub(super) fn check_docs(&self) -> R<()> {
        for (d, st) in self.docs.iter().zip(&self.doc_state) {
            for (list, what) in [(&st.args, "member"), (&st.features, "feature")] {
                let bogus: Vec<&crate::ast::DocSection> = list
                    .iter()
                    .filter(|a| !a.1)
                    .map(|a| &d.sections[a.0])
                    .collect();
                if let Some(first) = bogus.first() {
                    let names: Vec<&str> = bogus
                        .iter()
                        .map(|b| b.name.as_deref().unwrap_or_default())
                        .collect();
                    let many = bogus.len() > 1;
                    let what = if self.rules.legacy { "member" } else { what };
                    let msg = format!(
                        "documented {what}{} '{}' {} not exist",
                        if many { "s" } else { "" },
                        names.join("', '"),
                        if many { "do" } else { "does" }
                    );
                    let at = if self.rules.legacy {
                        d.span
                    } else {
                        first.span.or(d.span)
                    };
                    return Err(match at {
                        Some(at) => Box::new(self.rep.diag(DiagnosticKind::Doc, at, at, None, msg)),
                        None => Box::new(Diagnostic::file(DiagnosticKind::Doc, msg, "")),
                    });
                }
            }
        }
        Ok(())
    }

    pub(super) fn add_doc(&mut self, doc: Doc) -> usize {
        let mut st = DocState::default();
        for (i, s) in doc.sections.iter().enumerate() {
            match s.kind {
                DocSectionKind::Member => st.args.push((i, false)),
                DocSectionKind::Feature => st.features.push((i, false)),
                _ => {}
            }
        }
        self.docs.push(doc);
        self.doc_state.push(st);
        self.docs.len() - 1
    }

    // -----------------------------------------------------------------
    // Driver
}
