//! The QMP error reply, with its class as an enum.
//!
//! QEMU answers a failed command with
//! `{"error": {"class": "...", "desc": "..."}, "id": ...}`. The class is
//! one of a handful of names (QAPI's `QapiErrorClass`); a newer QEMU may
//! add some, which [`ErrorClass::Other`] keeps verbatim, so decoding never
//! fails on an unknown class.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The class of a QMP error reply. Match on it instead of comparing
/// strings:
///
/// ```
/// use qmp_client::ErrorClass;
/// let class: ErrorClass = serde_json::from_str(r#""CommandNotFound""#).unwrap();
/// assert_eq!(class, ErrorClass::CommandNotFound);
/// let newer: ErrorClass = serde_json::from_str(r#""SomeFutureClass""#).unwrap();
/// assert_eq!(newer, ErrorClass::Other("SomeFutureClass".into()));
/// assert_eq!(newer.as_str(), "SomeFutureClass");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// `GenericError`: almost every error QEMU reports.
    GenericError,
    /// `CommandNotFound`: the server does not know the command (an older
    /// QEMU, or a command not compiled in).
    CommandNotFound,
    /// `DeviceNotActive`: the device exists but is not active (e.g. no
    /// balloon driver in the guest).
    DeviceNotActive,
    /// `DeviceNotFound`: no device by that name.
    DeviceNotFound,
    /// `KVMMissingCap`: the KVM capability the command needs is missing.
    KVMMissingCap,
    /// A class this version of the client does not know, verbatim.
    Other(String),
}

impl ErrorClass {
    /// The class as sent on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            ErrorClass::GenericError => "GenericError",
            ErrorClass::CommandNotFound => "CommandNotFound",
            ErrorClass::DeviceNotActive => "DeviceNotActive",
            ErrorClass::DeviceNotFound => "DeviceNotFound",
            ErrorClass::KVMMissingCap => "KVMMissingCap",
            ErrorClass::Other(s) => s,
        }
    }

    /// The class named `s` (never fails: unknown names give
    /// [`ErrorClass::Other`]).
    pub fn from_name(s: &str) -> ErrorClass {
        match s {
            "GenericError" => ErrorClass::GenericError,
            "CommandNotFound" => ErrorClass::CommandNotFound,
            "DeviceNotActive" => ErrorClass::DeviceNotActive,
            "DeviceNotFound" => ErrorClass::DeviceNotFound,
            "KVMMissingCap" => ErrorClass::KVMMissingCap,
            other => ErrorClass::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for ErrorClass {
    fn from(s: &str) -> Self {
        ErrorClass::from_name(s)
    }
}

impl From<String> for ErrorClass {
    fn from(s: String) -> Self {
        match ErrorClass::from_name(&s) {
            ErrorClass::Other(_) => ErrorClass::Other(s),
            known => known,
        }
    }
}

impl PartialEq<str> for ErrorClass {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for ErrorClass {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Serialize for ErrorClass {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorClass {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = ErrorClass;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an error class name (a string)")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ErrorClass, E> {
                Ok(ErrorClass::from_name(v))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<ErrorClass, E> {
                Ok(ErrorClass::from(v))
            }
        }
        d.deserialize_str(V)
    }
}

/// A QMP error reply: what the server said when a command failed.
///
/// ```
/// use qmp_client::{ErrorClass, ErrorReply};
/// let e: ErrorReply =
///     serde_json::from_str(r#"{"class": "DeviceNotFound", "desc": "Device 'x' not found"}"#)
///         .unwrap();
/// assert!(matches!(e.class, ErrorClass::DeviceNotFound));
/// assert_eq!(e.to_string(), "DeviceNotFound: Device 'x' not found");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ErrorReply {
    /// The error class.
    pub class: ErrorClass,
    /// Human-readable description. Do not parse it.
    pub desc: String,
    /// The id of the command this error answers (the client's own id);
    /// `None` for an error the server sent without id (it could not parse
    /// a request), or for a reply decoded on its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
}

impl fmt::Display for ErrorReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.class, self.desc)
    }
}

impl std::error::Error for ErrorReply {}

impl From<qmp_types::ErrorReply> for ErrorReply {
    fn from(r: qmp_types::ErrorReply) -> Self {
        ErrorReply {
            class: ErrorClass::from(r.class),
            desc: r.desc,
            id: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_classes_round_trip() {
        for (name, class) in [
            ("GenericError", ErrorClass::GenericError),
            ("CommandNotFound", ErrorClass::CommandNotFound),
            ("DeviceNotActive", ErrorClass::DeviceNotActive),
            ("DeviceNotFound", ErrorClass::DeviceNotFound),
            ("KVMMissingCap", ErrorClass::KVMMissingCap),
        ] {
            let json = format!("\"{name}\"");
            let got: ErrorClass = serde_json::from_str(&json).unwrap();
            assert_eq!(got, class);
            assert_eq!(got.as_str(), name);
            assert_eq!(got.to_string(), name);
            assert_eq!(serde_json::to_string(&got).unwrap(), json);
        }
    }

    #[test]
    fn unknown_class_is_kept_verbatim() {
        let got: ErrorClass = serde_json::from_str(r#""NoSuchClass""#).unwrap();
        assert_eq!(got, ErrorClass::Other("NoSuchClass".into()));
        assert_eq!(serde_json::to_string(&got).unwrap(), r#""NoSuchClass""#);
        // Case matters: QEMU's names are exact.
        let got: ErrorClass = serde_json::from_str(r#""genericerror""#).unwrap();
        assert_eq!(got, ErrorClass::Other("genericerror".into()));
        // An escaped string decodes through the owned path.
        let got: ErrorClass = serde_json::from_str(r#""Generic\u0045rror""#).unwrap();
        assert_eq!(got, ErrorClass::GenericError);
        let got: ErrorClass = serde_json::from_str(r#""\u00e9""#).unwrap();
        assert_eq!(got, ErrorClass::Other("é".into()));
    }

    #[test]
    fn non_string_class_is_an_error() {
        let e = serde_json::from_str::<ErrorClass>("42").unwrap_err();
        assert!(e.to_string().contains("error class name"), "{e}");
        assert!(serde_json::from_str::<ErrorReply>(r#"{"class": 1, "desc": "x"}"#).is_err());
        assert!(serde_json::from_str::<ErrorReply>(r#"{"desc": "x"}"#).is_err());
    }

    #[test]
    fn reply_decodes_and_ignores_extra_members() {
        let r: ErrorReply =
            serde_json::from_str(r#"{"class": "KVMMissingCap", "desc": "no", "data": {"x": 1}}"#)
                .unwrap();
        assert_eq!(r.class, ErrorClass::KVMMissingCap);
        assert_eq!(r.desc, "no");
        assert_eq!(r.id, None);
        assert_eq!(r.class, "KVMMissingCap");
    }

    #[test]
    fn from_types_reply() {
        let r = ErrorReply::from(qmp_types::ErrorReply {
            class: "DeviceNotActive".into(),
            desc: "d".into(),
        });
        assert_eq!(r.class, ErrorClass::DeviceNotActive);
    }
}
