//! Encoding generated types: every type has [`ToJson`] (encoding cannot
//! fail), objects write their members one by one ([`put`], [`put_opt`],
//! [`put_rest`]) and `Serialize` goes through it ([`serialize_json`]).

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use super::{Empty, Null, ObjectType};

/// Encodes an object type as a JSON object.
pub fn object_to_json<T: ObjectType>(value: &T) -> Value {
    let mut map = Map::new();
    value.to_members(&mut map);
    Value::Object(map)
}

/// Encoding into a JSON value: implemented by every generated type and by
/// the types QAPI's built-in types map to. Encoding cannot fail.
pub trait ToJson {
    /// The JSON value.
    fn to_json(&self) -> Value;
}

/// Serializes through [`ToJson`] in a `Serialize` impl.
pub fn serialize_json<T: ToJson + ?Sized, S: Serializer>(
    value: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    value.to_json().serialize(serializer)
}

/// Writes a member.
pub fn put<T: ToJson + ?Sized>(map: &mut Map<String, Value>, name: &str, value: &T) {
    map.insert(name.to_owned(), value.to_json());
}

/// Writes an optional member when present.
pub fn put_opt<T: ToJson>(map: &mut Map<String, Value>, name: &str, value: &Option<T>) {
    if let Some(v) = value {
        map.insert(name.to_owned(), v.to_json());
    }
}

/// Writes extra members (kept by a union's fallback branch).
pub fn put_rest(map: &mut Map<String, Value>, rest: &Map<String, Value>) {
    for (k, v) in rest {
        map.insert(k.clone(), v.clone());
    }
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

    #[test]
    fn members_are_written_as_given() {
        let mut map = Map::new();
        put(&mut map, "id", "disk0");
        put_opt(&mut map, "size", &Some(1u64 << 40));
        put_opt::<bool>(&mut map, "read-only", &None);
        let rest = json!({"x-extra": [1, 2], "id": "kept last"});
        put_rest(&mut map, rest.as_object().unwrap());
        assert_eq!(
            Value::Object(map),
            json!({"id": "kept last", "size": 1u64 << 40, "x-extra": [1, 2]})
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
        let mut out = Vec::new();
        serialize_json(&v, &mut serde_json::Serializer::new(&mut out)).unwrap();
        assert_eq!(out, br#"["a","b"]"#);
    }
}
