//! Names (QEMU's `check_name_*`): valid names, and from QEMU 6.0
//! ([`Rule::NamingRules`](crate::rules::Rule::NamingRules)) their case
//! rules; before, QEMU 5's validity and upper-case checks.

use super::*;

impl ExprChecker<'_> {
    pub(super) fn check_name_is_str<'v>(
        &self,
        cx: Cx<'_>,
        v: &'v Value,
        source: &str,
    ) -> R<&'v str> {
        v.as_str()
            .ok_or_else(|| self.err(cx, v.span, format!("{source} requires a string name")))
    }

    pub(super) fn check_name_str<'n>(
        &self,
        cx: Cx<'_>,
        name: &'n str,
        sp: Span,
        source: impl fmt::Display + Copy,
    ) -> R<&'n str> {
        match name_stem(name) {
            Some(stem) if !c_name_starts_with(name, "q_") => Ok(stem),
            _ => Err(self.err(cx, sp, format!("{source} has an invalid name"))),
        }
    }

    pub(super) fn check_name_upper(
        &self,
        cx: Cx<'_>,
        name: &str,
        sp: Span,
        source: impl fmt::Display + Copy,
    ) -> R<()> {
        let stem = self.check_name_str(cx, name, sp, source)?;
        if stem.chars().any(|c| c.is_ascii_lowercase() || c == '-') {
            return Err(self.err(
                cx,
                sp,
                format!("name of {source} must not use lowercase or '-'"),
            ));
        }
        Ok(())
    }

    pub(super) fn check_name_lower(
        &self,
        cx: Cx<'_>,
        name: &str,
        sp: Span,
        source: impl fmt::Display + Copy,
        permit_upper: bool,
        permit_underscore: bool,
    ) -> R<()> {
        let stem = self.check_name_str(cx, name, sp, source)?;
        if (!permit_upper && stem.chars().any(|c| c.is_ascii_uppercase()))
            || (!permit_underscore && stem.contains('_'))
        {
            return Err(self.err(
                cx,
                sp,
                format!("name of {source} must not use uppercase or '_'"),
            ));
        }
        Ok(())
    }

    pub(super) fn check_name_camel(
        &self,
        cx: Cx<'_>,
        name: &str,
        sp: Span,
        source: impl fmt::Display + Copy,
    ) -> R<()> {
        let stem = self.check_name_str(cx, name, sp, source)?;
        // [A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*
        let ok = stem.starts_with(|c: char| c.is_ascii_uppercase())
            && stem.chars().all(|c| c.is_ascii_alphanumeric())
            && stem[1..].chars().any(|c| c.is_ascii_lowercase());
        if !ok {
            return Err(self.err(cx, sp, format!("name of {source} must use CamelCase")));
        }
        Ok(())
    }

    /// QEMU 5.1's name check: a valid name, and no upper case unless
    /// permitted.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn check_name_legacy(
        &self,
        cx: Cx<'_>,
        name: &str,
        sp: Span,
        source: &str,
        allow_optional: bool,
        enum_member: bool,
        permit_upper: bool,
    ) -> R<()> {
        let mut member = name.to_owned();
        if allow_optional && let Some(n) = name.strip_prefix('*') {
            member = n.to_owned();
        }
        if enum_member && member.starts_with(|c: char| c.is_ascii_digit()) {
            member = format!("D{member}");
        }
        if name_stem(&member).is_none() || c_name_starts_with(&member, "q_") {
            return Err(self.err(cx, sp, format!("{source} has an invalid name")));
        }
        if !permit_upper && name.to_lowercase() != name {
            return Err(self.err(cx, sp, format!("{source} uses uppercase in name")));
        }
        Ok(())
    }
}
