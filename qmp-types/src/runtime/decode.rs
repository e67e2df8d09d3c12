//! Decoding support used by the generated code.
//!
//! Generated types implement `serde::Deserialize` with visitors that read
//! straight from the deserializer: an object's members are matched by wire
//! name as they come (`Key` borrows the name from the input when it can),
//! each value is read as its field's type, unknown members are skipped (or
//! kept, by types with a map of further members), a missing mandatory member
//! is `missing_field` and a repeated one `duplicate_field`, as with serde's
//! derive. The per-type code is one short generic function
//! ([`ObjectType::visit_members`], written by [`impl_object!`] or by the
//! generator for unions); everything else lives here, once.
//!
//! A flat union's discriminator may come after other members (QEMU's
//! `query-qmp-schema` sends `name` and `members` before `meta-type`). The
//! members seen before it are recorded as the deserializer reads them, as
//! tokens whose strings stay borrowed from the input ([`Buffered`]: the text
//! is parsed once), and replayed, followed by the rest of the object read
//! live, into the branch selected by the discriminator ([`UnionRest`]).
//!
//! Alternates decode through a `Value` ([`FromValue`]): their branch is
//! chosen by the JSON type of the value, and they are rare.

use std::borrow::Cow;
use std::marker::PhantomData;

use serde::de::{self, DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Map;
pub use serde_json::Value;

use super::Members;

/// A typed-decode error: what was wrong, and where in the JSON value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// The JSON path of the offending value, e.g. `.devices[2].type`
    /// (empty for the top-level value).
    pub path: String,
    /// What was wrong.
    pub message: String,
}

impl DecodeError {
    /// An error at the current value.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            path: String::new(),
            message: message.into(),
        }
    }

    /// An error about a value of the wrong JSON type.
    pub fn expected(what: &str, found: &Value) -> Self {
        Self::new(format!("expected {what}, found {}", json_type_name(found)))
    }

    /// Prefixes the path with an object member name.
    pub fn in_member(mut self, name: &str) -> Self {
        self.path.insert_str(0, &format!(".{name}"));
        self
    }

    /// Prefixes the path with an array index.
    pub fn in_index(mut self, index: usize) -> Self {
        self.path.insert_str(0, &format!("[{index}]"));
        self
    }

    /// The error of a serde decode, with the path `serde_path_to_error`
    /// tracked (written `.a.b[2]`).
    fn from_tracked(e: serde_path_to_error::Error<serde_json::Error>) -> Self {
        use serde_path_to_error::Segment;
        let mut path = String::new();
        for segment in e.path().iter() {
            match segment {
                Segment::Seq { index } => path.push_str(&format!("[{index}]")),
                Segment::Map { key } => {
                    path.push('.');
                    path.push_str(key);
                }
                Segment::Enum { variant } => {
                    path.push('.');
                    path.push_str(variant);
                }
                Segment::Unknown => path.push_str(".?"),
            }
        }
        Self {
            path,
            message: e.into_inner().to_string(),
        }
    }
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "at `{}`: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for DecodeError {}

/// The name of a JSON value's type, for error messages.
pub fn json_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a number",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Decoding from a [`Value`] already in memory, with the JSON path of the
/// offending value on failure: every type that implements `Deserialize`
/// (all generated types do) has it.
///
/// This is a convenience for values at hand; a transport decodes the text
/// with `serde` directly, without building a `Value` first.
pub trait FromJson: Sized {
    /// Decodes a value, ignoring object members it does not know.
    fn from_json(value: Value) -> Result<Self, DecodeError>;
}

impl<T: DeserializeOwned> FromJson for T {
    fn from_json(value: Value) -> Result<Self, DecodeError> {
        serde_path_to_error::deserialize(value).map_err(DecodeError::from_tracked)
    }
}

/// Decoding from a [`Value`] by hand: implemented by the types that decode
/// through a `Value` (alternates, whose branch is chosen by the JSON type
/// of the value); `impl_json!(custom ...)` gives them `Deserialize`
/// through it.
pub trait FromValue: Sized {
    /// Decodes a value.
    fn from_value(value: Value) -> Result<Self, DecodeError>;
}

/// Decodes through [`FromValue`] in a `Deserialize` impl.
pub fn deserialize_from_value<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: FromValue,
{
    let value = <Value as Deserialize>::deserialize(deserializer)?;
    T::from_value(value).map_err(de::Error::custom)
}

/// An object member name as read: borrowed from the input when the
/// deserializer can lend it (serde_json reading a string or bytes, for
/// names without escapes), owned otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key<'de>(pub(super) Cow<'de, str>);

impl<'de> Key<'de> {
    /// A name known in advance.
    pub fn from_static(name: &'static str) -> Self {
        Self(Cow::Borrowed(name))
    }

    /// The name.
    #[inline]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name, owned.
    pub fn into_owned(self) -> String {
        self.0.into_owned()
    }

    /// Hands the name to a seed that reads a member name (replaying a
    /// buffered member into a branch).
    pub(super) fn into_seed<S: DeserializeSeed<'de>, E: de::Error>(
        self,
        seed: S,
    ) -> Result<S::Value, E> {
        match self.0 {
            Cow::Borrowed(s) => seed.deserialize(de::value::BorrowedStrDeserializer::new(s)),
            Cow::Owned(s) => seed.deserialize(de::value::StringDeserializer::new(s)),
        }
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    #[inline]
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// Implemented by generated object types (structs and unions): decoding
/// from the members of a JSON object as they come, and encoding into the
/// members of a JSON object (a union's branch shares its object with the
/// base).
pub trait ObjectType: Sized {
    /// Reads the members of an object. A union's branch is read from the
    /// members its base did not take (through a [`UnionRest`](super::UnionRest)).
    fn visit_members<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error>;

    /// Writes this type's members, in schema order, to a [`Members`]
    /// writer (through [`put`](super::put), [`put_opt`](super::put_opt) and
    /// [`put_rest`](super::put_rest)): a `serde` serializer for `Serialize`,
    /// a JSON object for [`ToJson`](super::ToJson).
    ///
    /// # Errors
    ///
    /// When the writer fails (a serializer's error).
    fn write_members<W: Members>(&self, members: &mut W) -> Result<(), W::Error>;
}

/// `Deserialize` of an object type: a JSON object, read by
/// [`ObjectType::visit_members`].
#[inline]
pub fn deserialize_object<'de, D: Deserializer<'de>, T: ObjectType>(
    deserializer: D,
) -> Result<T, D::Error> {
    struct ObjectVisitor<T>(PhantomData<T>);
    impl<'de, T: ObjectType> Visitor<'de> for ObjectVisitor<T> {
        type Value = T;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            expecting_object(f, std::any::type_name::<T>())
        }
        #[inline]
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            T::visit_members(map)
        }
    }
    deserializer.deserialize_map(ObjectVisitor(PhantomData))
}

fn expecting_object(f: &mut std::fmt::Formatter<'_>, type_name: &str) -> std::fmt::Result {
    let short = type_name.rsplit("::").next().unwrap_or(type_name);
    write!(f, "an object ({short})")
}

/// `Deserialize` of a member-less object type: any JSON object, whose
/// members are ignored.
pub fn deserialize_unit_object<'de, D: Deserializer<'de>>(deserializer: D) -> Result<(), D::Error> {
    struct UnitVisitor;
    impl<'de> Visitor<'de> for UnitVisitor {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(())
        }
    }
    deserializer.deserialize_map(UnitVisitor)
}

/// `Deserialize` of a generated string enum: any string, through its
/// `FromStr` (which keeps unknown values in the fallback variant).
pub fn deserialize_enum<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: std::str::FromStr<Err = std::convert::Infallible>,
{
    struct EnumVisitor<T>(PhantomData<T>);
    impl<T: std::str::FromStr<Err = std::convert::Infallible>> Visitor<'_> for EnumVisitor<T> {
        type Value = T;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
            match v.parse() {
                Ok(v) => Ok(v),
                Err(never) => match never {},
            }
        }
    }
    deserializer.deserialize_str(EnumVisitor(PhantomData))
}

/// Reads the value of member `name` into its slot; a member seen twice is
/// an error.
#[inline]
pub fn set<'de, A: MapAccess<'de>, T: Deserialize<'de>>(
    slot: &mut Option<T>,
    map: &mut A,
    name: &'static str,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(de::Error::duplicate_field(name));
    }
    *slot = Some(map.next_value()?);
    Ok(())
}

/// The value of a mandatory member, or the error that it is missing.
#[inline]
pub fn required<T, E: de::Error>(slot: Option<T>, name: &'static str) -> Result<T, E> {
    match slot {
        Some(v) => Ok(v),
        None => Err(E::missing_field(name)),
    }
}

/// Notes the first mandatory member found missing (`absent`), so that a
/// visitor returns one error after looking at all its members.
#[inline]
pub fn note_missing(missing: &mut Option<&'static str>, absent: bool, name: &'static str) {
    if absent && missing.is_none() {
        *missing = Some(name);
    }
}

/// The value of a mandatory member that [`note_missing`] found present.
///
/// # Panics
///
/// If the member is absent: the visitor checks every mandatory member
/// before it takes any.
#[inline]
pub fn present<T>(slot: Option<T>) -> T {
    match slot {
        Some(v) => v,
        None => unreachable!("a mandatory member is taken only after the check that it is present"),
    }
}

/// Skips the value of a member nobody knows.
#[inline]
pub fn skip<'de, A: MapAccess<'de>>(map: &mut A) -> Result<(), A::Error> {
    map.next_value::<IgnoredAny>().map(drop)
}

/// Keeps the value of a member the type does not describe in its map of
/// further members.
pub fn keep<'de, A: MapAccess<'de>>(
    rest: &mut Map<String, Value>,
    key: Key<'de>,
    map: &mut A,
) -> Result<(), A::Error> {
    let value = map.next_value()?;
    rest.insert(key.into_owned(), value);
    Ok(())
}
