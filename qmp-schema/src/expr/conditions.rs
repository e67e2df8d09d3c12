//! `if` conditions (QEMU's `check_if`): a config symbol or an
//! `all`/`any`/`not` tree from QEMU 6.2
//! ([`Rule::IfConditionTrees`](crate::rules::Rule::IfConditionTrees)), a
//! string or list of strings before.

use super::*;

impl ExprChecker<'_> {
    pub(super) fn check_if(
        &self,
        cx: Cx<'_>,
        dict: &Dict,
        source: impl fmt::Display + Copy,
    ) -> R<Option<IfCond>> {
        let Some(v) = dict.get("if") else {
            return Ok(None);
        };
        if self.rules.legacy {
            return self.check_if_legacy(cx, v, source).map(Some);
        }
        self.check_if_cond(cx, v, source).map(Some)
    }

    pub(super) fn check_if_legacy(
        &self,
        cx: Cx<'_>,
        v: &Value,
        source: impl fmt::Display + Copy,
    ) -> R<IfCond> {
        let one = |v: &Value| -> R<String> {
            let Some(s) = v.as_str() else {
                return Err(self.err(
                    cx,
                    v.span,
                    format!("'if' condition of {source} must be a string or a list of strings"),
                ));
            };
            if s.trim().is_empty() {
                return Err(self.err(
                    cx,
                    v.span,
                    format!("'if' condition '{s}' of {source} makes no sense"),
                ));
            }
            Ok(s.to_owned())
        };
        match &v.kind {
            ValueKind::List(items) => {
                if items.is_empty() {
                    return Err(self.err(
                        cx,
                        v.span,
                        format!("'if' condition [] of {source} is useless"),
                    ));
                }
                let mut out = Vec::new();
                for it in items {
                    out.push(IfCond::Name(one(it)?));
                }
                Ok(IfCond::All(out))
            }
            _ => Ok(IfCond::Name(one(v)?)),
        }
    }

    pub(super) fn check_if_cond(
        &self,
        cx: Cx<'_>,
        v: &Value,
        source: impl fmt::Display + Copy,
    ) -> R<IfCond> {
        match &v.kind {
            ValueKind::Str(s) => {
                let ok = s.starts_with(|c: char| c.is_ascii_uppercase())
                    && s.chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
                if !ok {
                    return Err(self.err(
                        cx,
                        v.span,
                        format!("'if' condition '{s}' of {source} is not a valid identifier"),
                    ));
                }
                Ok(IfCond::Name(s.clone()))
            }
            ValueKind::Dict(d) => {
                let src = format!("'if' condition of {source}");
                self.check_keys(cx, d, v.span, &src, &[], &["all", "any", "not"])?;
                if d.entries.len() != 1 {
                    return Err(self.err(
                        cx,
                        v.span,
                        format!("'if' condition of {source} has conflicting keys"),
                    ));
                }
                let (k, val) = &d.entries[0];
                match k.name.as_str() {
                    "not" => Ok(IfCond::Not(Box::new(self.check_if_cond(cx, val, source)?))),
                    op => {
                        let Some(items) = val.as_list() else {
                            return Err(self.err(
                                cx,
                                val.span,
                                format!("'{op}' condition of {source} must be an array"),
                            ));
                        };
                        if items.is_empty() {
                            return Err(self.err(
                                cx,
                                val.span,
                                format!("'if' condition [] of {source} is useless"),
                            ));
                        }
                        let mut out = Vec::new();
                        for it in items {
                            out.push(self.check_if_cond(cx, it, source)?);
                        }
                        Ok(if op == "all" {
                            IfCond::All(out)
                        } else {
                            IfCond::Any(out)
                        })
                    }
                }
            }
            _ => Err(self.err(
                cx,
                v.span,
                format!("'if' condition of {source} must be a string or an object"),
            )),
        }
    }
}
