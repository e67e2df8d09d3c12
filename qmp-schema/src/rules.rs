//! The QAPI language's release-gated rules: one table.
//!
//! The QAPI schema language changed over QEMU releases. Every rule that
//! some release added, changed or dropped is one row of [`RULES`]: its
//! name, the first release that has it, the first release that no longer
//! has it (if any), what it says and the evidence for those releases.
//! The parser and the checker ask [`Level::has`] whether a rule applies;
//! nothing else compares levels. The documentation
//! (`docs/qapi-language-history.md`) and the tests read the same table.
//!
//! Rules that hold in every release this crate reads (5.1 to 10.2) are
//! not listed: they are simply the language.

use std::fmt;

use crate::options::Level;

/// A release-gated rule of the QAPI language. See [`RULES`] for each
/// rule's releases and evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Rule {
    /// The `null` literal, and the parser's "expected '{'" for a top-level
    /// value that is not an object.
    NullLiteral,
    /// Pragmas `returns-whitelist` and `name-case-whitelist`.
    PragmaWhitelists,
    /// Pragmas `command-returns-exceptions`, `member-name-exceptions` and
    /// `command-name-exceptions`.
    PragmaExceptions,
    /// The `coroutine` command flag (and its conflict with `allow-oob`).
    CoroutineFlag,
    /// QEMU 5's expression checker: simple unions, `if` as a string or a
    /// list of strings, names checked for validity only.
    SimpleUnions,
    /// `if` conditions are a config symbol or an `all`/`any`/`not` object.
    IfConditionTrees,
    /// Names follow case rules (types CamelCase, members and commands
    /// lower case, events upper case), with pragma exceptions.
    NamingRules,
    /// `unstable` is a special feature (not allowed on types, like
    /// `deprecated`).
    UnstableFeature,
    /// Conditional command and event arguments require `'boxed': true`.
    ConditionalArgsBoxed,
    /// Doc comment lines keep their indentation; a continuation line that
    /// is indented less than its section's first line is an error.
    DocIndentation,
    /// A `=` heading after text in a free-form doc block starts a new
    /// free-form block.
    DocHeadingSplitsBlock,
    /// `=` markup in definition documentation is an error.
    DocNoHeadingInDefinition,
    /// QEMU 9's doc comment parser: section tags and `Features:` only
    /// after a blank line, the `Errors:` section, `Returns` only for
    /// commands that return something.
    DocStrictParser,
    /// A `=` heading must come first in a free-form doc block.
    DocHeadingFirst,
    /// Every member, enum value, branch and feature is documented (pragma
    /// `documentation-exceptions` aside).
    MemberDocsRequired,
    /// `Note:` and `Example:` doc sections are errors (rST admonitions and
    /// `.. qmp-example::` replace them).
    DocNoNoteExample,
    /// Doc comment lines are at most 70 columns (URL lines aside, outside
    /// literal blocks).
    DocLineLength,
    /// Sentences in doc comments are separated by two spaces.
    DocTwoSpaces,
}

/// Which part of QEMU's front end a rule belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Area {
    /// `parser.py`: lexical and syntax rules.
    Parser,
    /// `parser.py`: directives (`pragma`).
    Pragma,
    /// `expr.py`: one expression at a time.
    Expr,
    /// Naming rules (`expr.py`).
    Naming,
    /// `if` conditions.
    Condition,
    /// Unions and alternates.
    Union,
    /// Features.
    Feature,
    /// `schema.py`: rules across definitions.
    Schema,
    /// The doc comment parser.
    Doc,
}

impl fmt::Display for Area {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Area::Parser => "parser",
            Area::Pragma => "pragma",
            Area::Expr => "expressions",
            Area::Naming => "naming",
            Area::Condition => "conditions",
            Area::Union => "unions",
            Area::Feature => "features",
            Area::Schema => "schema",
            Area::Doc => "doc comments",
        })
    }
}

/// One row of the rule history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleInfo {
    /// The rule.
    pub rule: Rule,
    /// Its name in diagnostics and docs (kebab case).
    pub name: &'static str,
    /// Where in QEMU's front end it lives.
    pub area: Area,
    /// The first release that has it (`5.1`: it was there already).
    pub since: Level,
    /// The first release that no longer has it.
    pub until: Option<Level>,
    /// What the rule says.
    pub summary: &'static str,
    /// Where its releases come from: the shared releases' own
    /// `scripts/qapi` and `tests/qapi-schema`, and QEMU commits (subject
    /// and Message-Id, whose date places them in a release cycle).
    pub evidence: &'static str,
}

const fn l(major: u16, minor: u16) -> Level {
    Level::new(major, minor)
}

/// The rule history, oldest first. One row per rule.
pub const RULES: &[RuleInfo] = &[
    RuleInfo {
        rule: Rule::NullLiteral,
        name: "null-literal",
        area: Area::Parser,
        since: l(5, 1),
        until: Some(l(6, 1)),
        summary: "`null` is a literal; a top-level value that is not an object is \
                  a syntax error \"expected '{'\" (later: \"top-level expression must \
                  be an object\")",
        evidence: "5.2.0 parser.py get_expr (`'tfn'`, \"string, boolean or 'null'\"); \
                   10.0.2 parser.py has neither; commit \"qapi/parser: enforce all \
                   top-level expressions must be dict in _parse()\" \
                   <20210519183951.3946870-7-jsnow@redhat.com> (May 2021: 6.1 cycle)",
    },
    RuleInfo {
        rule: Rule::PragmaWhitelists,
        name: "pragma-whitelists",
        area: Area::Pragma,
        since: l(5, 1),
        until: Some(l(6, 0)),
        summary: "pragmas `returns-whitelist` and `name-case-whitelist`",
        evidence: "5.2.0 tests pragma-returns-whitelist-crap, pragma-name-case-whitelist-crap \
                   (gone in 10.0.2); commit b86df3747848 \"qapi: Rename pragma *-whitelist \
                   to *-exceptions\" (series <20210323094025.3569441-*-armbru@redhat.com>, \
                   March 2021: 6.0 cycle)",
    },
    RuleInfo {
        rule: Rule::PragmaExceptions,
        name: "pragma-exceptions",
        area: Area::Pragma,
        since: l(6, 0),
        until: None,
        summary: "pragmas `command-returns-exceptions`, `member-name-exceptions`, \
                  `command-name-exceptions`",
        evidence: "10.0.2 parser.py _pragma; commits b86df3747848 \"qapi: Rename pragma \
                   *-whitelist to *-exceptions\" and 05ebf841efac \"qapi: Enforce command \
                   naming rules\" <20210323094025.3569441-25-armbru@redhat.com> (6.0 cycle)",
    },
    RuleInfo {
        rule: Rule::CoroutineFlag,
        name: "coroutine-flag",
        area: Area::Expr,
        since: l(5, 2),
        until: None,
        summary: "commands take the flag `'coroutine': true`, incompatible with \
                  `'allow-oob': true`",
        evidence: "5.2.0 expr.py check_flags; 5.2.0 tests oob-coroutine, qapi-schema-test \
                   coroutine-cmd (absent from 5.1.0)",
    },
    RuleInfo {
        rule: Rule::SimpleUnions,
        name: "simple-unions",
        area: Area::Union,
        since: l(5, 1),
        until: Some(l(6, 2)),
        summary: "a union without `discriminator` is a simple union (implicit enum \
                  `<Union>Kind`, wrapper types); type names ending in `Kind` or `List` \
                  are reserved; enums get QType's `prefix`",
        evidence: "5.2.0 expr.py check_union; 5.2.0 tests flat-union-*, reserved-type-kind \
                   (gone in 10.0.2, replaced by union-*); series \"qapi: Drop simple \
                   unions\" <20210917143134.412106-*-armbru@redhat.com> (Sept 2021: 6.2 cycle)",
    },
    RuleInfo {
        rule: Rule::IfConditionTrees,
        name: "if-condition-trees",
        area: Area::Condition,
        since: l(6, 2),
        until: None,
        summary: "`if` is a config symbol or an object `{'all': [..]}`, `{'any': [..]}`, \
                  `{'not': ..}`; the list-of-strings form is gone",
        evidence: "10.0.2 expr.py check_if; 10.0.2 tests bad-if-all, bad-if-key, \
                   bad-if-keys, bad-if-not (absent from 5.2.0); Marc-André Lureau's series \
                   \"qapi: untie 'if' conditions from C preprocessor\" (v5 drops the list \
                   form), merged with the 6.2 cycle",
    },
    RuleInfo {
        rule: Rule::NamingRules,
        name: "naming-rules",
        area: Area::Naming,
        since: l(6, 0),
        until: None,
        summary: "type names CamelCase, command and member names lower case without '_' \
                  (pragma exceptions aside), event names upper case",
        evidence: "10.0.2 expr.py check_name_*; 10.0.2 test type-case (absent from 5.2.0); \
                   series \"qapi: Enforce ... naming rules\" \
                   <20210323094025.3569441-*-armbru@redhat.com> (6.0 cycle). Implemented \
                   here from 6.2 on, with the QEMU 6.2 expression checker",
    },
    RuleInfo {
        rule: Rule::UnstableFeature,
        name: "unstable-feature",
        area: Area::Feature,
        since: l(6, 2),
        until: None,
        summary: "`unstable` is a special feature: like `deprecated`, not allowed on types",
        evidence: "10.0.2 schema.py check_feature / features.py; series \"qapi: New \
                   special feature flag 'unstable'\" \
                   <20211028102520.747396-*-armbru@redhat.com> (Oct 2021: 6.2 cycle)",
    },
    RuleInfo {
        rule: Rule::ConditionalArgsBoxed,
        name: "conditional-args-boxed",
        area: Area::Schema,
        since: l(8, 0),
        until: None,
        summary: "command and event arguments with `if` require `'boxed': true`",
        evidence: "10.0.2 schema.py QAPISchemaCommand/Event.check; 10.0.2 tests \
                   args-if-unboxed, event-args-if-unboxed, args-if-implicit (absent from \
                   5.2.0); commit \"qapi: Require boxed for conditional command and event \
                   arguments\" (Markus Armbruster, March 2023: 8.0 cycle)",
    },
    RuleInfo {
        rule: Rule::DocIndentation,
        name: "doc-indentation",
        area: Area::Doc,
        since: l(5, 2),
        until: None,
        summary: "doc text keeps its indentation (rST); a line indented less than its \
                  section's text is \"unexpected de-indent\"",
        evidence: "5.2.0 parser.py QAPIDoc.Section.append; 5.2.0 test doc-bad-indent \
                   (absent from 5.1.0); Peter Maydell's rST series \
                   <20200925162316.21205-*-peter.maydell@linaro.org> (Sept 2020: 5.2 cycle)",
    },
    RuleInfo {
        rule: Rule::DocHeadingSplitsBlock,
        name: "doc-heading-splits-block",
        area: Area::Doc,
        since: l(5, 2),
        until: Some(l(9, 0)),
        summary: "a `=` heading after text in a free-form doc block starts a new \
                  free-form block",
        evidence: "5.2.0 parser.py get_doc; 5.2.0 doc-good.out (two 'doc freeform'); \
                   replaced by doc-heading-first in the doc parser rewrite \
                   <20240216145841.2099240-15-armbru@redhat.com> (Feb 2024: 9.0 cycle)",
    },
    RuleInfo {
        rule: Rule::DocNoHeadingInDefinition,
        name: "doc-no-heading-in-definition",
        area: Area::Doc,
        since: l(5, 2),
        until: Some(l(10, 1)),
        summary: "`=` markup in definition documentation is an error",
        evidence: "5.2.0 parser.py get_doc; 5.2.0 test doc-bad-section (accepted by \
                   5.1.0, marked BUG); 10.0.2 parser.py still has it; 10.2.2 parser.py \
                   and suite do not (doc-bad-section removed)",
    },
    RuleInfo {
        rule: Rule::DocStrictParser,
        name: "doc-strict-parser",
        area: Area::Doc,
        since: l(9, 0),
        until: None,
        summary: "the rewritten doc parser: section tags and `Features:` only after a \
                  blank line, `Errors:` sections, `Returns` only for commands that return \
                  something, its own messages",
        evidence: "10.0.2 parser.py get_doc; commits \"qapi: Rewrite doc comment parser\" \
                   3d035cd2cca6 <20240216145841.2099240-15-armbru@redhat.com> and \"qapi: \
                   Recognize section tags and 'Features:' only after blank line\" \
                   66227e90478b <20240216145841.2099240-12-armbru@redhat.com> (Feb 2024: \
                   9.0 cycle)",
    },
    RuleInfo {
        rule: Rule::DocHeadingFirst,
        name: "doc-heading-first",
        area: Area::Doc,
        since: l(9, 0),
        until: Some(l(10, 1)),
        summary: "a `=` heading must come first in a free-form doc block",
        evidence: "10.0.2 parser.py get_doc; 10.0.2 test doc-non-first-section (absent \
                   from 5.2.0 and from 10.2.2); 10.2.2 parser.py has no heading rule",
    },
    RuleInfo {
        rule: Rule::MemberDocsRequired,
        name: "member-docs-required",
        area: Area::Schema,
        since: l(9, 0),
        until: None,
        summary: "members, values, branches and features must be documented; pragma \
                  `documentation-exceptions` lists the exceptions",
        evidence: "10.0.2 parser.py connect_member, _pragma; commit \"qapi: Require \
                   member documentation (with loophole)\" (Markus Armbruster, 9.0 cycle)",
    },
    RuleInfo {
        rule: Rule::DocNoNoteExample,
        name: "doc-no-note-example",
        area: Area::Doc,
        since: l(9, 1),
        until: None,
        summary: "`Note:`/`Notes:`/`Example:`/`Examples:` sections are errors",
        evidence: "10.0.2 parser.py get_doc (\"... is no longer supported\"); John Snow's \
                   series converting notes and examples to rST (July 2024: 9.1 cycle)",
    },
    RuleInfo {
        rule: Rule::DocLineLength,
        name: "doc-line-length",
        area: Area::Doc,
        since: l(10, 2),
        until: None,
        summary: "doc comment lines are at most 70 columns, except URL lines and \
                  literal (`::`, `.. qmp-example::`) blocks",
        evidence: "10.2.2 parser.py _validate_doc_line_format; 10.2.2 test doc-long-line \
                   (absent from 10.0.2)",
    },
    RuleInfo {
        rule: Rule::DocTwoSpaces,
        name: "doc-two-spaces",
        area: Area::Doc,
        since: l(10, 2),
        until: None,
        summary: "sentences in doc comments are separated by two spaces",
        evidence: "10.2.2 parser.py _validate_doc_line_format; 10.2.2 test \
                   doc-bad-space-between-sentences (absent from 10.0.2)",
    },
];

impl Rule {
    /// The rule's row in [`RULES`].
    pub fn info(self) -> &'static RuleInfo {
        RULES.iter().find(|r| r.rule == self).unwrap_or(&RULES[0])
    }

    /// Whether QEMU `level`'s front end has the rule.
    pub fn applies(self, level: Level) -> bool {
        let info = self.info();
        level >= info.since && info.until.is_none_or(|u| level < u)
    }

    /// The rule's name.
    pub fn name(self) -> &'static str {
        self.info().name
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Level {
    /// Whether this release's front end has `rule`.
    pub fn has(self, rule: Rule) -> bool {
        rule.applies(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_has_one_row() {
        for r in RULES {
            assert_eq!(
                RULES.iter().filter(|x| x.rule == r.rule).count(),
                1,
                "{}",
                r.name
            );
            assert_eq!(r.rule.info().name, r.name);
            assert!(r.until.is_none_or(|u| u > r.since), "{}", r.name);
            assert!(Level::is_release(r.since), "{}", r.name);
            assert!(r.until.is_none_or(Level::is_release), "{}", r.name);
            assert!(!r.evidence.is_empty() && !r.summary.is_empty());
        }
    }

    #[test]
    fn rows_bound_their_releases() {
        for r in RULES {
            assert!(r.rule.applies(r.since), "{}", r.name);
            if let Some(prev) = Level::RELEASES.iter().rev().find(|&&v| v < r.since) {
                assert!(!r.rule.applies(*prev), "{}", r.name);
            }
            if let Some(u) = r.until {
                assert!(!r.rule.applies(u), "{}", r.name);
                let last = Level::RELEASES.iter().rev().find(|&&v| v < u).unwrap();
                assert!(r.rule.applies(*last), "{}", r.name);
            }
        }
    }
}
