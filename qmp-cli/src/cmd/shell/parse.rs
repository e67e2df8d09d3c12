//! The shell's input language (qmp-shell's, with a few fixes).
//!
//! A line is one of:
//!
//! * `COMMAND [KEY=VALUE]...` — a command with arguments. A value is taken
//!   as JSON when it parses as JSON (`1`, `-2.5`, `true`, `false`, `null`,
//!   `"quoted string"`, `[1, 2]`, `{"a": 1}`), else as a plain string;
//!   `'single quoted'` values are strings with the quotes removed. Dotted keys
//!   build nested objects: `a.b=1 a.c=x` gives `{"a": {"b": 1, "c": "x"}}`.
//!   Spaces inside quotes and inside `[...]`/`{...}` do not split tokens.
//! * `{"execute": ...}` — a raw QMP command object, sent as written.
//! * `transaction(` — starts a transaction; each following line is one
//!   action `ACTION-TYPE [KEY=VALUE]...` (its keys go into the action's
//!   `data`), and a line `)` ends the transaction and sends it. An action
//!   line ending in ` )` ends it too, and `transaction( A k=v )` (one line)
//!   works as well — the same grouping as qmp-shell.
//!
//! Parsing is pure; values are not checked against a schema here (see
//! [`super::schema`]), but the raw text of each value is kept so that a
//! schema-aware caller can turn an unquoted `123` into the string `"123"`
//! where the schema wants a string.

use serde_json::{Map, Value};
use thiserror::Error;

/// A problem with an input line.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseError {
    /// A token after the command name is not `key=value`.
    #[error("expected a key=value pair, got '{0}'")]
    NotKeyValue(String),
    /// A key is empty or has an empty dotted component.
    #[error("bad key '{0}': empty name")]
    EmptyKey(String),
    /// The same key given twice.
    #[error("'{0}' is given more than once")]
    Duplicate(String),
    /// A key used both as a value and as a parent of dotted keys.
    #[error("'{0}' is used both as a value and as an object of dotted keys")]
    LeafAndObject(String),
    /// An unterminated quote.
    #[error("unterminated quote in '{0}'")]
    Unterminated(String),
    /// A raw JSON line that is not valid JSON.
    #[error("invalid JSON: {0}")]
    Json(String),
    /// A raw JSON line that is not a command object.
    #[error("a JSON line must be an object with \"execute\" (or \"exec-oob\") naming a command")]
    NotCommand,
    /// Input after the closing `)` of a transaction.
    #[error("unexpected input after ')' closing the transaction")]
    AfterClose,
    /// A `)` outside a transaction.
    #[error("')' outside a transaction")]
    CloseOutside,
    /// `transaction(` inside an open transaction (which stays open, with
    /// its actions).
    #[error(
        "a transaction cannot contain another; the open one keeps its {0} action(s): end it with ')' or drop it with Ctrl-C"
    )]
    NestedTransaction(usize),
    /// A transaction with no action.
    #[error("a transaction needs at least one action")]
    EmptyTransaction,
}

/// One `key=value` argument as typed.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    /// The key split at dots.
    pub path: Vec<String>,
    /// The value as typed.
    pub raw: String,
    /// The value as parsed (JSON or string).
    pub value: Value,
    /// Whether `raw` was quoted or JSON-structured (so the parsed value was
    /// meant as written).
    pub explicit: bool,
}

impl Assignment {
    /// The dotted key.
    pub fn key(&self) -> String {
        self.path.join(".")
    }
}

/// A command to send.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// `name key=value...`: arguments not yet assembled, so a schema can
    /// still coerce unquoted values.
    Command {
        /// The command name.
        name: String,
        /// The arguments as typed.
        args: Vec<Assignment>,
    },
    /// A raw JSON command object: name and arguments as given.
    Raw {
        /// The `execute` (or `exec-oob`) name.
        name: String,
        /// The `arguments` member, if any.
        arguments: Option<Value>,
        /// Written with `exec-oob`: run out of band.
        oob: bool,
    },
    /// A transaction: the actions as typed.
    Transaction(Vec<Action>),
}

/// One action of a transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    /// The action type (`blockdev-snapshot-sync`, ...).
    pub kind: String,
    /// Its data, as typed.
    pub args: Vec<Assignment>,
}

/// The line parser; holds the transaction being typed.
#[derive(Debug, Default)]
pub struct LineParser {
    transaction: Option<Vec<Action>>,
}

impl LineParser {
    /// A parser outside any transaction.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether a transaction is being typed.
    pub fn in_transaction(&self) -> bool {
        self.transaction.is_some()
    }

    /// The number of actions typed in the open transaction, if any.
    pub fn pending_actions(&self) -> Option<usize> {
        self.transaction.as_ref().map(Vec::len)
    }

    /// Drops a transaction being typed.
    pub fn abort_transaction(&mut self) {
        self.transaction = None;
    }

    /// Parses one line. `Ok(None)` when there is nothing to send yet (an
    /// empty line, or a line inside a transaction). After an error inside
    /// a transaction, the transaction is still open (the bad line is
    /// dropped).
    pub fn parse_line(&mut self, line: &str) -> Result<Option<Request>, ParseError> {
        let trimmed = line.trim();
        if trimmed.starts_with('{') && !self.in_transaction() {
            return parse_raw(trimmed).map(Some);
        }
        let mut tokens = tokenize(trimmed)?;
        if let Some(open) = &self.transaction
            && tokens
                .first()
                .is_some_and(|t| t.starts_with("transaction("))
        {
            return Err(ParseError::NestedTransaction(open.len()));
        }
        if tokens.first().map(String::as_str) == Some("transaction(") {
            tokens.remove(0);
            self.transaction = Some(Vec::new());
        } else if let Some(rest) = tokens
            .first()
            .and_then(|t| t.strip_prefix("transaction("))
            .map(str::to_owned)
        {
            // `transaction(action` written without a space.
            tokens[0] = rest;
            self.transaction = Some(Vec::new());
        }
        let Some(actions) = self.transaction.as_mut() else {
            if tokens.first().map(String::as_str) == Some(")") {
                return Err(ParseError::CloseOutside);
            }
            let mut it = tokens.into_iter();
            let Some(name) = it.next() else {
                return Ok(None);
            };
            let args = it.map(|t| parse_assignment(&t)).collect::<Result<_, _>>()?;
            return Ok(Some(Request::Command { name, args }));
        };
        let mut close = false;
        if tokens.last().map(String::as_str) == Some(")") {
            tokens.pop();
            close = true;
        } else if let Some(last) = tokens.last_mut()
            && last.len() > 1
            && last.ends_with(')')
            && !last.contains('=')
        {
            // `action)` written without a space.
            last.pop();
            close = true;
        }
        if tokens.iter().any(|t| t == ")") {
            return Err(ParseError::AfterClose);
        }
        if !tokens.is_empty() {
            let mut it = tokens.into_iter();
            let kind = it.next().unwrap_or_default();
            let args = it.map(|t| parse_assignment(&t)).collect::<Result<_, _>>()?;
            actions.push(Action { kind, args });
        }
        if close {
            let actions = self.transaction.take().unwrap_or_default();
            if actions.is_empty() {
                return Err(ParseError::EmptyTransaction);
            }
            return Ok(Some(Request::Transaction(actions)));
        }
        Ok(None)
    }
}

fn parse_raw(text: &str) -> Result<Request, ParseError> {
    let v: Value = serde_json::from_str(text).map_err(|e| ParseError::Json(e.to_string()))?;
    let Value::Object(mut obj) = v else {
        return Err(ParseError::NotCommand);
    };
    let (name, oob) = match (obj.remove("execute"), obj.remove("exec-oob")) {
        (Some(Value::String(s)), None) => (s, false),
        (None, Some(Value::String(s))) => (s, true),
        _ => return Err(ParseError::NotCommand),
    };
    Ok(Request::Raw {
        name,
        arguments: obj.remove("arguments"),
        oob,
    })
}

/// Splits a line into tokens at whitespace outside quotes and brackets.
/// Quotes are kept in the tokens.
pub fn tokenize(line: &str) -> Result<Vec<String>, ParseError> {
    let (tokens, open) = tokenize_lenient(line);
    if open {
        return Err(ParseError::Unterminated(
            tokens.last().map(|t| t.1.clone()).unwrap_or_default(),
        ));
    }
    Ok(tokens.into_iter().map(|(_, t)| t).collect())
}

/// Like [`tokenize`] but never fails: returns tokens with their start byte
/// offsets, and whether the last token has an unterminated quote (used by
/// completion on a partly typed line).
pub fn tokenize_lenient(line: &str) -> (Vec<(usize, String)>, bool) {
    let mut tokens = Vec::new();
    let mut cur = String::new();
    let mut start = 0;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut depth = 0usize;
    for (i, c) in line.char_indices() {
        if let Some(q) = quote {
            cur.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' && q == '"' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        if c.is_whitespace() && depth == 0 {
            if !cur.is_empty() {
                tokens.push((start, std::mem::take(&mut cur)));
            }
            continue;
        }
        if cur.is_empty() {
            start = i;
        }
        match c {
            '"' | '\'' => quote = Some(c),
            '[' | '{' => depth += 1,
            ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        cur.push(c);
    }
    let open = quote.is_some();
    if !cur.is_empty() {
        tokens.push((start, cur));
    }
    (tokens, open)
}

/// Parses `key=value`.
pub fn parse_assignment(token: &str) -> Result<Assignment, ParseError> {
    let Some((key, raw)) = token.split_once('=') else {
        return Err(ParseError::NotKeyValue(token.to_owned()));
    };
    let path: Vec<String> = key.split('.').map(str::to_owned).collect();
    if path.iter().any(String::is_empty) {
        return Err(ParseError::EmptyKey(key.to_owned()));
    }
    let (value, explicit) = parse_value(raw);
    Ok(Assignment {
        path,
        raw: raw.to_owned(),
        value,
        explicit,
    })
}

/// Parses a value: JSON if it is JSON, a `'quoted'` string without its
/// quotes, else the text as a string. The flag tells whether the value was
/// written explicitly typed (quoted, or a JSON array/object).
pub fn parse_value(raw: &str) -> (Value, bool) {
    if raw.len() >= 2 && raw.starts_with('\'') && raw.ends_with('\'') {
        return (Value::String(raw[1..raw.len() - 1].to_owned()), true);
    }
    match serde_json::from_str::<Value>(raw) {
        Ok(v) => {
            let explicit = matches!(v, Value::String(_) | Value::Array(_) | Value::Object(_));
            (v, explicit)
        }
        Err(_) => (Value::String(raw.to_owned()), false),
    }
}

/// Assembles assignments into a JSON object (dotted keys nest).
pub fn build_object(args: &[Assignment]) -> Result<Map<String, Value>, ParseError> {
    let mut root = Map::new();
    for a in args {
        let mut obj = &mut root;
        for (i, part) in a.path[..a.path.len() - 1].iter().enumerate() {
            let entry = obj
                .entry(part.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            match entry {
                Value::Object(m) => obj = m,
                _ => return Err(ParseError::LeafAndObject(a.path[..=i].join("."))),
            }
        }
        let last = &a.path[a.path.len() - 1];
        match obj.get(last) {
            Some(Value::Object(_)) if !a.path.is_empty() => {
                return Err(ParseError::LeafAndObject(a.key()));
            }
            Some(_) => return Err(ParseError::Duplicate(a.key())),
            None => {
                obj.insert(last.clone(), a.value.clone());
            }
        }
    }
    Ok(root)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cmd(line: &str) -> (String, Value) {
        match LineParser::new().parse_line(line).unwrap().unwrap() {
            Request::Command { name, args } => (name, Value::Object(build_object(&args).unwrap())),
            other => panic!("not a command: {other:?}"),
        }
    }

    #[test]
    fn plain_command() {
        assert_eq!(cmd("query-status"), ("query-status".into(), json!({})));
        assert_eq!(LineParser::new().parse_line("   ").unwrap(), None);
    }

    #[test]
    fn values_are_json_else_strings() {
        let (_, args) = cmd(
            r#"c a=1 b=-2.5 c=true d=null e=[1,2] f={"x": "y z"} g=hello h="quoted str" i='single q' j=01"#,
        );
        assert_eq!(
            args,
            json!({"a": 1, "b": -2.5, "c": true, "d": null, "e": [1, 2], "f": {"x": "y z"},
                   "g": "hello", "h": "quoted str", "i": "single q", "j": "01"})
        );
    }

    #[test]
    fn dotted_keys_nest() {
        let (_, args) =
            cmd("blockdev-add driver=qcow2 node-name=n file.driver=file file.filename=/x a.b.c=1");
        assert_eq!(
            args,
            json!({"driver": "qcow2", "node-name": "n",
                   "file": {"driver": "file", "filename": "/x"}, "a": {"b": {"c": 1}}})
        );
    }

    #[test]
    fn errors() {
        let mut p = LineParser::new();
        assert_eq!(
            p.parse_line("cmd novalue"),
            Err(ParseError::NotKeyValue("novalue".into()))
        );
        assert_eq!(
            p.parse_line("cmd a..b=1"),
            Err(ParseError::EmptyKey("a..b".into()))
        );
        assert_eq!(p.parse_line(")"), Err(ParseError::CloseOutside));
        assert!(matches!(
            p.parse_line("cmd a=\"x"),
            Err(ParseError::Unterminated(_))
        ));
        let Some(Request::Command { args, .. }) = p.parse_line("c a=1 a=2").unwrap() else {
            panic!()
        };
        assert_eq!(build_object(&args), Err(ParseError::Duplicate("a".into())));
        let Some(Request::Command { args, .. }) = p.parse_line("c a=1 a.b=2").unwrap() else {
            panic!()
        };
        assert_eq!(
            build_object(&args),
            Err(ParseError::LeafAndObject("a".into()))
        );
        let Some(Request::Command { args, .. }) = p.parse_line("c a.b=1 a=2").unwrap() else {
            panic!()
        };
        assert_eq!(
            build_object(&args),
            Err(ParseError::LeafAndObject("a".into()))
        );
    }

    #[test]
    fn raw_json() {
        let mut p = LineParser::new();
        assert_eq!(
            p.parse_line(r#" {"execute": "stop"} "#).unwrap(),
            Some(Request::Raw {
                name: "stop".into(),
                arguments: None,
                oob: false,
            })
        );
        assert_eq!(
            p.parse_line(r#"{"execute": "x", "arguments": {"a": 1}}"#)
                .unwrap(),
            Some(Request::Raw {
                name: "x".into(),
                arguments: Some(json!({"a": 1})),
                oob: false,
            })
        );
        assert_eq!(
            p.parse_line(r#"{"exec-oob": "migrate-pause"}"#).unwrap(),
            Some(Request::Raw {
                name: "migrate-pause".into(),
                arguments: None,
                oob: true,
            })
        );
        assert_eq!(
            p.parse_line(r#"{"execute": "a", "exec-oob": "b"}"#),
            Err(ParseError::NotCommand)
        );
        assert_eq!(p.parse_line(r#"{"x": 1}"#), Err(ParseError::NotCommand));
        assert!(matches!(p.parse_line("{bad"), Err(ParseError::Json(_))));
    }

    #[test]
    fn transaction_multi_line() {
        let mut p = LineParser::new();
        assert_eq!(p.parse_line("transaction(").unwrap(), None);
        assert!(p.in_transaction());
        assert_eq!(p.parse_line("abort").unwrap(), None);
        assert_eq!(
            p.parse_line("block-dirty-bitmap-add node=n name=b")
                .unwrap(),
            None
        );
        let Some(Request::Transaction(actions)) = p.parse_line(")").unwrap() else {
            panic!()
        };
        assert!(!p.in_transaction());
        assert_eq!(actions.len(), 2);
        assert_eq!(actions[0].kind, "abort");
        assert_eq!(actions[1].kind, "block-dirty-bitmap-add");
        assert_eq!(
            Value::Object(build_object(&actions[1].args).unwrap()),
            json!({"node": "n", "name": "b"})
        );
    }

    #[test]
    fn transaction_one_line_and_trailing_close() {
        let mut p = LineParser::new();
        let Some(Request::Transaction(a)) = p.parse_line("transaction( abort )").unwrap() else {
            panic!()
        };
        assert_eq!(a.len(), 1);
        assert_eq!(p.parse_line("transaction(").unwrap(), None);
        let Some(Request::Transaction(a)) = p.parse_line("abort x=1 )").unwrap() else {
            panic!()
        };
        assert_eq!(a[0].args[0].key(), "x");
        assert_eq!(
            p.parse_line("transaction( )"),
            Err(ParseError::EmptyTransaction)
        );
        assert_eq!(
            p.parse_line("transaction( a ) b"),
            Err(ParseError::AfterClose)
        );
    }

    #[test]
    fn tokenize_keeps_brackets_and_quotes_together() {
        assert_eq!(
            tokenize(r#"c a=[1, 2] b={"k": [3, 4]} c="x y" d='p q'"#).unwrap(),
            vec![
                "c",
                "a=[1, 2]",
                r#"b={"k": [3, 4]}"#,
                r#"c="x y""#,
                "d='p q'"
            ]
        );
        let (t, open) = tokenize_lenient("c a=\"x");
        assert!(open);
        assert_eq!(t[1], (2, "a=\"x".to_owned()));
    }

    proptest::proptest! {
        #[test]
        fn parser_never_panics(line in "\\PC{0,60}") {
            let mut p = LineParser::new();
            if let Ok(Some(Request::Command { args, .. })) = p.parse_line(&line) {
                let _ = build_object(&args);
            }
        }

        #[test]
        fn simple_values_round_trip(key in "[a-z][a-z0-9-]{0,8}", val in "[a-zA-Z_/][a-zA-Z0-9_/.:-]{0,12}") {
            let line = format!("cmd {key}={val}");
            let Some(Request::Command { args, .. }) = LineParser::new().parse_line(&line).unwrap() else {
                panic!()
            };
            let obj = build_object(&args).unwrap();
            let expect = match val.as_str() {
                _ if serde_json::from_str::<Value>(&val).is_ok() => serde_json::from_str(&val).unwrap(),
                _ => Value::String(val.clone()),
            };
            proptest::prop_assert_eq!(obj.get(&key), Some(&expect));
        }
    }
}
