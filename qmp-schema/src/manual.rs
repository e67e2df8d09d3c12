//! Facts from QEMU's generated reference manuals (man pages).
//!
//! QEMU renders its QAPI schema into reference manuals (`qemu-qmp-ref(7)`,
//! `qemu-storage-daemon-qmp-ref(7)`, `qemu-ga-ref(7)`). Where a release's
//! source tree is not at hand, the manual still names every definition
//! with its kind and `Since:`, and lists its members with their types and
//! optionality, enum values, alternate branches, union branches, the base
//! it includes, features and the return type. [`parse`] reads those facts
//! from the man page source (troff, as `rst2man` writes it) and nothing
//! else: descriptions are skipped.
//!
//! What a manual does not say: conditions (`if`), the exact integer type
//! (every integer type reads `int`), command flags other than those implied
//! by the structure, and features of members.

/// The kind of a definition, as the manual names it (`Object` covers
/// structs and unions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefKind {
    /// A struct or union.
    Object,
    /// An enumeration.
    Enum,
    /// An alternate.
    Alternate,
    /// A command.
    Command,
    /// An event.
    Event,
}

/// A type as the manual writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    /// A named or built-in type, with built-ins in QAPI spelling (`str`,
    /// `bool`, `int`, `number`, `any`, `null`).
    Name(String),
    /// An array of the inner type.
    List(Box<Type>),
}

impl Type {
    fn parse(s: &str) -> Option<Type> {
        let s = s.trim();
        if let Some(inner) = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            return Some(Type::List(Box::new(Type::parse(inner)?)));
        }
        if s.is_empty()
            || !s
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        {
            return None;
        }
        Some(Type::Name(
            match s {
                "string" => "str",
                "boolean" => "bool",
                "value" => "any",
                other => other,
            }
            .to_owned(),
        ))
    }

    /// The element type's name, through arrays.
    pub fn base_name(&self) -> &str {
        match self {
            Type::Name(n) => n,
            Type::List(t) => t.base_name(),
        }
    }
}

/// One item of a definition's member, argument or alternative list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A member (or alternate branch): name, type, optional.
    Member {
        /// Its wire name.
        name: String,
        /// Its type.
        ty: Type,
        /// Whether it may be absent.
        optional: bool,
    },
    /// "The members of X": a base, or a named argument type.
    MembersOf(String),
    /// "When TAG is VALUE: The members of X": a union branch.
    Branch {
        /// The discriminator member.
        tag: String,
        /// The discriminator value.
        value: String,
        /// The branch type.
        ty: String,
    },
}

/// A definition of the manual.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Def {
    /// Its kind.
    pub kind: DefKind,
    /// Its name.
    pub name: String,
    /// Its `Since:` text, when given.
    pub since: Option<String>,
    /// Members (objects), arguments (commands, events) or alternatives.
    pub items: Vec<Item>,
    /// Enum values.
    pub values: Vec<String>,
    /// Features of the definition.
    pub features: Vec<String>,
    /// The return type of a command.
    pub returns: Option<Type>,
    /// Its condition (`Availability:`), when it has one: a config
    /// symbol, or symbols joined by `or` / `and`, as the manual writes it.
    pub cond: Option<String>,
    /// The line of the definition in the manual (1-based).
    pub line: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Items,
    Values,
    Features,
    Return,
    Other,
}

/// Undoes the troff escapes `rst2man` writes, keeping the font changes
/// (`\fB`, `\fI`, `\fP`).
fn unescape(s: &str) -> String {
    s.replace("\\-", "-")
        .replace("\\(aq", "'")
        .replace("\\(dq", "\"")
        .replace("\\%", "")
        .replace("\\&", "")
        .replace("\\e", "\\")
}

fn strip_fonts(s: &str) -> String {
    s.replace("\\fB", "")
        .replace("\\fI", "")
        .replace("\\fP", "")
}

/// The first bold (`\fB..\fP`) word of a line and the rest after it.
fn bold_prefix(s: &str) -> Option<(String, &str)> {
    let rest = s.strip_prefix("\\fB")?;
    let end = rest.find("\\fP")?;
    Some((rest[..end].to_owned(), &rest[end + 3..]))
}

fn parse_item(line: &str, section: Section) -> Option<Item> {
    let line = unescape(line);
    if let Some(rest) = line.strip_prefix("The members of ") {
        let name = strip_fonts(rest);
        return Some(Item::MembersOf(
            name.trim_end_matches('.').trim().to_owned(),
        ));
    }
    if let Some(rest) = line.strip_prefix("When ") {
        let (tag, rest) = bold_prefix(rest)?;
        let rest = rest.strip_prefix(" is ")?;
        let (value, rest) = bold_prefix(rest)?;
        let rest = rest.strip_prefix(": The members of ")?;
        let ty = strip_fonts(rest);
        return Some(Item::Branch {
            tag,
            value,
            ty: ty.trim_end_matches('.').trim().to_owned(),
        });
    }
    let (name, rest) = bold_prefix(&line)?;
    let rest = rest.trim_start();
    if section == Section::Values || section == Section::Features {
        return Some(Item::Member {
            name,
            ty: Type::Name(String::new()),
            optional: false,
        });
    }
    // `(TYPE[, optional])`: up to the parenthesis closing the first one.
    let inner = rest.strip_prefix('(')?;
    let mut depth = 1;
    let mut end = None;
    for (i, c) in inner.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    end = Some(i);
                    break;
                }
            }
            _ => {}
        }
    }
    let inside = strip_fonts(&inner[..end?]);
    let (ty, optional) = match inside.strip_suffix(", optional") {
        Some(t) => (t, true),
        None => (inside.as_str(), false),
    };
    Some(Item::Member {
        name,
        ty: Type::parse(ty)?,
        optional,
    })
}

fn parse_header(line: &str) -> Option<(DefKind, String, Option<String>)> {
    let rest = line.strip_prefix(".B ")?;
    let (kind, rest) = rest.split_once(' ')?;
    let kind = match kind {
        "Object" => DefKind::Object,
        "Enum" => DefKind::Enum,
        "Alternate" => DefKind::Alternate,
        "Command" => DefKind::Command,
        "Event" => DefKind::Event,
        _ => return None,
    };
    let rest = unescape(rest);
    let (name, since) = match rest.split_once(" (Since: ") {
        Some((n, s)) => (n.to_owned(), s.strip_suffix(')').map(str::to_owned)),
        None => (rest.clone(), None),
    };
    if name.is_empty() || name.contains(' ') {
        return None;
    }
    Some((kind, name, since))
}

/// Reads the definitions of a reference manual's troff source, in manual
/// order (which is schema order).
pub fn parse(text: &str) -> Vec<Def> {
    let mut defs: Vec<Def> = Vec::new();
    let mut depth: i32 = 0;
    let mut section = Section::Other;
    let mut section_depth = 0;
    let mut prev_tp = false;
    let mut bullet = false;
    let mut want_return = false;
    for (no, line) in text.lines().enumerate() {
        // rst2man sometimes appends `.INDENT` to a text line.
        if line.starts_with(".INDENT") || line.contains(".INDENT ") {
            depth += 1;
        } else if line.starts_with(".UNINDENT") {
            depth -= 1;
            if depth <= section_depth {
                section = Section::Other;
            }
        }
        let tp = line == ".TP";
        if prev_tp && let Some((kind, name, since)) = parse_header(line) {
            defs.push(Def {
                kind,
                name,
                since,
                items: Vec::new(),
                values: Vec::new(),
                features: Vec::new(),
                returns: None,
                cond: None,
                line: no + 1,
            });
            section = Section::Other;
            prev_tp = false;
            continue;
        }
        if prev_tp && let Some(s) = line.strip_prefix(".B ") {
            section = match s {
                "Members" | "Arguments" | "Alternatives" => Section::Items,
                "Values" => Section::Values,
                "Features" => Section::Features,
                "Return" => Section::Return,
                _ => Section::Other,
            };
            section_depth = depth;
            want_return = section == Section::Return;
            prev_tp = false;
            continue;
        }
        prev_tp = tp;
        let Some(def) = defs.last_mut() else { continue };
        if section == Section::Other
            && def.items.is_empty()
            && def.values.is_empty()
            && let Some(i) = line.find("\\fIAvailability\\fP: ")
        {
            let rest = &line[i + "\\fIAvailability\\fP: ".len()..];
            let rest = rest.split(".INDENT").next().unwrap_or(rest);
            def.cond = Some(strip_fonts(&unescape(rest)).trim().to_owned());
        }
        if want_return {
            want_return = false;
            let first = unescape(line);
            let ty = first.split(" -- ").next().unwrap_or("");
            def.returns = Type::parse(&strip_fonts(ty));
            continue;
        }
        if line.starts_with(".IP \\(bu") {
            bullet = depth == section_depth + 1 && section != Section::Other;
            continue;
        }
        if !bullet {
            continue;
        }
        bullet = false;
        let Some(item) = parse_item(line, section) else {
            continue;
        };
        match (section, item) {
            (Section::Values, Item::Member { name, .. }) => def.values.push(name),
            (Section::Features, Item::Member { name, .. }) => def.features.push(name),
            (Section::Items, item) => def.items.push(item),
            _ => {}
        }
    }
    defs
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#".TH "X" "7"
.INDENT 0.0
.TP
.B Enum Color (Since: 1.0)
Body text.
.INDENT 7.0
.TP
.B Values
.INDENT 7.0
.IP \(bu 2
\fBred\fP \-\- prose
.IP \(bu 2
\fBdark\-blue\fP \-\- more prose
.UNINDENT
.UNINDENT
.UNINDENT
.INDENT 0.0
.TP
.B Object Shape (Since: 2.0)
.INDENT 7.0
.TP
.B Members
.INDENT 7.0
.IP \(bu 2
\fBkind\fP (\fI\%Color\fP) \-\- the kind
.INDENT 2.0
.IP \(bu 2
\fBnot\-a\-member\fP (\fBstring\fP) \-\- nested prose list
.UNINDENT
.IP \(bu 2
\fBsizes\fP (\fB[\fP\fBint\fP\fB]\fP, \fIoptional\fP) \-\- list
.IP \(bu 2
The members of \fI\%ShapeBase\fP\&.
.IP \(bu 2
When \fBkind\fP is \fBred\fP: The members of \fI\%RedShape\fP\&.
.UNINDENT
.TP
.B Features
.INDENT 7.0
.IP \(bu 2
\fBunstable\fP \-\- prose
.UNINDENT
.UNINDENT
.UNINDENT
.INDENT 0.0
.TP
.B Command query\-shape
.INDENT 7.0
.TP
.B Return
\fB[\fP\fI\%Shape\fP\fB]\fP \-\- prose
.UNINDENT
.UNINDENT
"#;

    #[test]
    fn reads_facts() {
        let defs = parse(PAGE);
        assert_eq!(defs.len(), 3);
        assert_eq!(defs[0].kind, DefKind::Enum);
        assert_eq!(defs[0].since.as_deref(), Some("1.0"));
        assert_eq!(defs[0].values, ["red", "dark-blue"]);
        let s = &defs[1];
        assert_eq!((s.kind, s.name.as_str()), (DefKind::Object, "Shape"));
        assert_eq!(
            s.items,
            [
                Item::Member {
                    name: "kind".into(),
                    ty: Type::Name("Color".into()),
                    optional: false
                },
                Item::Member {
                    name: "sizes".into(),
                    ty: Type::List(Box::new(Type::Name("int".into()))),
                    optional: true
                },
                Item::MembersOf("ShapeBase".into()),
                Item::Branch {
                    tag: "kind".into(),
                    value: "red".into(),
                    ty: "RedShape".into()
                },
            ]
        );
        assert_eq!(s.features, ["unstable"]);
        let c = &defs[2];
        assert_eq!(c.name, "query-shape");
        assert_eq!(c.since, None);
        assert_eq!(
            c.returns,
            Some(Type::List(Box::new(Type::Name("Shape".into()))))
        );
    }
}
