//! Encoding generated types. An object type lists its members once
//! ([`ObjectType::write_members`], through [`put`], [`put_opt`] and
//! [`put_rest`]) for a [`Members`] writer: [`serialize_object`] hands them
//! straight to a `serde` serializer (a command's arguments go to the
//! socket with no [`Value`] built), [`object_to_json`] collects them into
//! a [`Value`] for [`ToJson`], which cannot fail.

use std::convert::Infallible;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use super::{Empty, Envelope, Null, ObjectType};

/// Where an object's members are written: a `serde` map serializer
/// ([`serialize_object`]) or a JSON object ([`object_to_json`]).
/// Generated code writes members through [`put`], [`put_opt`] and
/// [`put_rest`].
pub trait Members {
    /// The writer's error (`Infallible` for a JSON object).
    type Error;

    /// Writes one member.
    ///
    /// # Errors
    ///
    /// When the serializer fails.
    fn member<T: Serialize + ToJson + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), Self::Error>;

    /// Writes members kept verbatim (an object's extra members, an unknown
    /// union branch), except those named in `known`: a member the type
    /// describes is written from its field, never twice.
    ///
    /// # Errors
    ///
    /// When the serializer fails.
    fn rest(&mut self, rest: &Map<String, Value>, known: &[&str]) -> Result<(), Self::Error>;
}

/// The members of an object written to a `serde` map serializer.
pub(super) struct SerializeMembers<M>(pub(super) M);

impl<M: SerializeMap> Members for SerializeMembers<M> {
    type Error = M::Error;

    #[inline]
    fn member<T: Serialize + ToJson + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), M::Error> {
        self.0.serialize_entry(name, value)
    }

    fn rest(&mut self, rest: &Map<String, Value>, known: &[&str]) -> Result<(), M::Error> {
        for (k, v) in rest {
            if !known.contains(&k.as_str()) {
                self.0.serialize_entry(k, v)?;
            }
        }
        Ok(())
    }
}

/// The members of an object collected into a JSON object.
struct JsonMembers(Map<String, Value>);

impl Members for JsonMembers {
    type Error = Infallible;

    #[inline]
    fn member<T: Serialize + ToJson + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), Infallible> {
        self.0.insert(name.to_owned(), value.to_json());
        Ok(())
    }

    fn rest(&mut self, rest: &Map<String, Value>, known: &[&str]) -> Result<(), Infallible> {
        for (k, v) in rest {
            if !known.contains(&k.as_str()) {
                self.0.insert(k.clone(), v.clone());
            }
        }
        Ok(())
    }
}

/// A map written straight to `serializer` by `write`.
pub(super) fn serialize_members<S: Serializer>(
    serializer: S,
    write: impl FnOnce(&mut SerializeMembers<S::SerializeMap>) -> Result<(), S::Error>,
) -> Result<S::Ok, S::Error> {
    let mut members = SerializeMembers(serializer.serialize_map(None)?);
    write(&mut members)?;
    members.0.end()
}

/// A JSON object collected by `write`.
fn json_members(write: impl FnOnce(&mut JsonMembers) -> Result<(), Infallible>) -> Value {
    let mut members = JsonMembers(Map::new());
    match write(&mut members) {
        Ok(()) => Value::Object(members.0),
        Err(never) => match never {},
    }
}

/// `Serialize` of an object type: a map of its members, in schema order,
/// written straight to the serializer.
///
/// # Errors
///
/// When the serializer fails.
#[inline]
pub fn serialize_object<T: ObjectType, S: Serializer>(
    value: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serialize_members(serializer, |m| value.write_members(m))
}

/// `Serialize` of a `Request` or `Event` enum: its name and payload
/// members ([`Envelope::write_members`]), written straight to the
/// serializer.
///
/// # Errors
///
/// When the serializer fails.
pub fn serialize_envelope<T: Envelope, S: Serializer>(
    value: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serialize_members(serializer, |m| value.write_members(m))
}

/// Encodes an object type as a JSON object.
pub fn object_to_json<T: ObjectType>(value: &T) -> Value {
    json_members(|m| value.write_members(m))
}

/// Encodes a `Request` or `Event` enum as a JSON object.
pub fn envelope_to_json<T: Envelope>(value: &T) -> Value {
    json_members(|m| value.write_members(m))
}

/// Encoding into a JSON value: implemented by every generated type and by
/// the types QAPI's built-in types map to. Encoding cannot fail.
pub trait ToJson {
    /// The JSON value.
    fn to_json(&self) -> Value;
}

/// Writes a member.
///
/// # Errors
///
/// When the serializer fails.
#[inline]
pub fn put<W: Members, T: Serialize + ToJson + ?Sized>(
    members: &mut W,
    name: &'static str,
    value: &T,
) -> Result<(), W::Error> {
    members.member(name, value)
}

/// Writes an optional member when present.
///
/// # Errors
///
/// When the serializer fails.
#[inline]
pub fn put_opt<W: Members, T: Serialize + ToJson>(
    members: &mut W,
    name: &'static str,
    value: &Option<T>,
) -> Result<(), W::Error> {
    match value {
        Some(v) => members.member(name, v),
        None => Ok(()),
    }
}

/// Writes members kept verbatim (kept by an object's `..extra` field or a
/// union's fallback branch), except those named in `known`.
///
/// # Errors
///
/// When the serializer fails.
#[inline]
pub fn put_rest<W: Members>(
    members: &mut W,
    rest: &Map<String, Value>,
    known: &[&str],
) -> Result<(), W::Error> {
    members.rest(rest, known)
}

macro_rules! to_json_via_from {
    ($($t:ty),*) => {$(
        impl ToJson for $t {
            fn to_json(&self) -> Value {
                Value::from(*self)
            }
        }
    )*};
}
to_json_via_from!(i8, i16, i32, i64, u8, u16, u32, u64, bool);

impl ToJson for f64 {
    fn to_json(&self) -> Value {
        // Non-finite numbers have no JSON form; QEMU never sends them.
        serde_json::Number::from_f64(*self).map_or(Value::Null, Value::Number)
    }
}

impl ToJson for str {
    fn to_json(&self) -> Value {
        Value::String(self.to_owned())
    }
}

impl ToJson for String {
    fn to_json(&self) -> Value {
        Value::String(self.clone())
    }
}

impl ToJson for Value {
    fn to_json(&self) -> Value {
        self.clone()
    }
}

impl<T: ToJson> ToJson for Vec<T> {
    fn to_json(&self) -> Value {
        Value::Array(self.iter().map(ToJson::to_json).collect())
    }
}

impl<T: ToJson + ?Sized> ToJson for Box<T> {
    fn to_json(&self) -> Value {
        (**self).to_json()
    }
}

impl<T: ToJson + ?Sized> ToJson for &T {
    fn to_json(&self) -> Value {
        (**self).to_json()
    }
}

impl ToJson for Null {
    fn to_json(&self) -> Value {
        Value::Null
    }
}

impl ToJson for Empty {
    fn to_json(&self) -> Value {
        Value::Object(Map::new())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A type written by hand as the generator writes one: two members
    /// and extra members kept verbatim.
    struct Disk {
        id: String,
        size: Option<u64>,
        read_only: Option<bool>,
        extra: Map<String, Value>,
    }

    impl ObjectType for Disk {
        fn visit_members<'de, A: serde::de::MapAccess<'de>>(_: A) -> Result<Self, A::Error> {
            unimplemented!("only encoded here")
        }

        fn write_members<W: Members>(&self, members: &mut W) -> Result<(), W::Error> {
            put(members, "id", &self.id)?;
            put_opt(members, "size", &self.size)?;
            put_opt(members, "read-only", &self.read_only)?;
            put_rest(members, &self.extra, &["id", "size", "read-only"])
        }
    }

    fn disk() -> Disk {
        let extra = json!({"x-extra": [1, 2], "id": "dropped: the field wins"});
        Disk {
            id: "disk0".into(),
            size: Some(1 << 40),
            read_only: None,
            extra: extra.as_object().unwrap().clone(),
        }
    }

    #[test]
    fn members_are_written_as_given() {
        assert_eq!(
            object_to_json(&disk()),
            json!({"id": "disk0", "size": 1u64 << 40, "x-extra": [1, 2]})
        );
    }

    #[test]
    fn members_are_serialized_in_order_without_a_value() {
        let mut out = Vec::new();
        serialize_object(&disk(), &mut serde_json::Serializer::new(&mut out)).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"id":"disk0","size":1099511627776,"x-extra":[1,2]}"#
        );
    }

    #[test]
    fn numbers_without_a_json_form_encode_as_null() {
        assert_eq!(f64::NAN.to_json(), Value::Null);
        assert_eq!(f64::INFINITY.to_json(), Value::Null);
        assert_eq!(0.5f64.to_json(), json!(0.5));
        assert_eq!((-3i8).to_json(), json!(-3));
    }

    #[test]
    fn built_in_types_and_containers() {
        assert_eq!(Null.to_json(), Value::Null);
        assert_eq!(Empty {}.to_json(), json!({}));
        let v: Vec<Box<String>> = vec![Box::new("a".into()), Box::new("b".into())];
        assert_eq!(v.to_json(), json!(["a", "b"]));
    }
}
