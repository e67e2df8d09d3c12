//! The argument check of `qmp shell` and `qmp call`: one validator, driven
//! by the connected QEMU's own schema (`query-qmp-schema`), so that it
//! answers for exactly the release at the other end (5.2 to the newest)
//! whatever the bindings were generated from.
//!
//! A command is refused before it is sent when the live QEMU does not
//! have it (naming the release that added it, where the bindings know
//! it), or when its arguments do not fit the live argument type: unknown
//! or missing members (through nested objects, union branches and
//! alternates), wrong JSON types, enum values and integer ranges the QEMU
//! does not accept (see [`Schema::check_command`]).

use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use crate::cmd::shell::schema::{Problem, Schema};

/// The live schema and the version of the QEMU it came from.
#[derive(Debug, Clone)]
pub struct LiveSchema {
    schema: Arc<Schema>,
    qemu: Option<String>,
}

/// Why a command was refused before sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The live QEMU has no such command.
    UnknownCommand {
        /// The command.
        command: String,
        /// The live QEMU's version (`5.2.0`), if known.
        qemu: Option<String>,
        /// The release that added it, if the bindings know the command.
        since: Option<&'static str>,
        /// The first release the bindings span that no longer has it.
        removed_by: Option<&'static str>,
    },
    /// The arguments do not fit the live QEMU's argument type.
    Invalid {
        /// The command.
        command: String,
        /// Everything wrong with them.
        problems: Vec<Problem>,
    },
}

impl Refusal {
    /// For an unknown command: whether the bindings know it (it exists in
    /// some release, just not in this one).
    pub fn known_elsewhere(&self) -> bool {
        matches!(self, Refusal::UnknownCommand { command, .. } if in_bindings(command))
    }
}

/// Whether the bindings know `command` (in any release they span).
pub fn in_bindings(command: &str) -> bool {
    qmp_types::COMMANDS.iter().any(|c| c.name == command)
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::UnknownCommand {
                command,
                qemu,
                since,
                removed_by,
            } => {
                let qemu = qemu.as_deref().unwrap_or("of unknown version");
                write!(f, "`{command}` is not supported by QEMU {qemu}")?;
                match (since, removed_by) {
                    (Some(s), Some(r)) => write!(f, " (added in QEMU {s}, removed by QEMU {r})"),
                    (Some(s), None) => write!(f, " (added in QEMU {s})"),
                    (None, Some(r)) => write!(f, " (removed by QEMU {r})"),
                    (None, None) => Ok(()),
                }
            }
            Refusal::Invalid { command, problems } => {
                write!(f, "invalid arguments for `{command}`: ")?;
                for (i, p) in problems.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{p}")?;
                }
                Ok(())
            }
        }
    }
}

impl LiveSchema {
    /// Wraps a schema read from a QEMU of version `qemu`.
    pub fn new(schema: Arc<Schema>, qemu: Option<String>) -> Self {
        LiveSchema { schema, qemu }
    }

    /// The schema (for completion and help).
    pub fn schema(&self) -> &Arc<Schema> {
        &self.schema
    }

    /// Checks `command` with `args` (an object, or `None`).
    pub fn check(&self, command: &str, args: Option<&Value>) -> Result<(), Refusal> {
        if self.schema.command(command).is_none() {
            let info = qmp_types::COMMANDS.iter().find(|c| c.name == command);
            return Err(Refusal::UnknownCommand {
                command: command.to_owned(),
                qemu: self.qemu.clone(),
                since: info.and_then(|c| c.since),
                removed_by: info.and_then(|c| c.removed_by),
            });
        }
        let problems = self.schema.check_command(command, args);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Refusal::Invalid {
                command: command.to_owned(),
                problems,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::shell::schema::testmodel;
    use serde_json::json;

    fn live() -> LiveSchema {
        LiveSchema::new(
            Arc::new(Schema::new(testmodel::model())),
            Some("5.2.0".into()),
        )
    }

    #[test]
    fn unknown_commands_name_the_release_that_added_them() {
        let e = live().check("query-stats", None).unwrap_err();
        assert!(e.known_elsewhere());
        let text = e.to_string();
        assert!(
            text.starts_with("`query-stats` is not supported by QEMU 5.2.0 (added in QEMU "),
            "{text}"
        );
        let e = live().check("no-such-thing", None).unwrap_err();
        assert!(!e.known_elsewhere());
        assert_eq!(
            e.to_string(),
            "`no-such-thing` is not supported by QEMU 5.2.0"
        );
    }

    #[test]
    fn every_problem_is_reported() {
        let e = live()
            .check("set-id", Some(&json!({"count": 300, "bogus": 1})))
            .unwrap_err();
        let Refusal::Invalid { problems, .. } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(problems.len(), 3, "{problems:?}");
        let text = e.to_string();
        assert!(
            text.starts_with("invalid arguments for `set-id`: "),
            "{text}"
        );
        assert!(text.contains("missing required argument 'id'"), "{text}");
        assert!(text.contains("out of range 0..=255"), "{text}");
        assert!(live().check("set-id", Some(&json!({"id": "x"}))).is_ok());
    }
}
