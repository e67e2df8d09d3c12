//! Messages made of a name and a payload: events as they come off the wire
//! ([`EventMessage`]) and the generated `Event` and `Request` enums
//! ([`Envelope`]), whose payload type is known only once the name is read,
//! whichever order the two members come in.

use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::buffer::BufferSeed;
use super::ser::serialize_members;
use super::{Key, Members, Timestamp, required, set, skip};

/// An event as it comes off the wire: the event (name and data) and its
/// timestamp. `E` is usually the generated `Event` enum.
#[derive(Debug, Clone, PartialEq)]
pub struct EventMessage<E> {
    /// The event.
    pub event: E,
    /// When QEMU emitted it.
    pub timestamp: Timestamp,
}

impl<E: Envelope> Serialize for EventMessage<E> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_members(serializer, |m| {
            self.event.write_members(m)?;
            m.0.serialize_entry("timestamp", &self.timestamp)
        })
    }
}

impl<'de, E: Envelope> Deserialize<'de> for EventMessage<E> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (event, timestamp) = deserialize_envelope(deserializer, true)?;
        match timestamp {
            Some(timestamp) => Ok(Self { event, timestamp }),
            None => Err(de::Error::missing_field("timestamp")),
        }
    }
}

/// Implemented by the generated enums over a name and its payload: the
/// `Event` enums (`{"event": NAME, "data": {...}}`, by [`impl_events!`](super::impl_events!))
/// and the `Request` enums (`{"execute": NAME, "arguments": {...}}`, by
/// [`impl_requests!`](super::impl_requests!)): decoding the payload once the name is known.
pub trait Envelope: Sized {
    /// The member that holds the name: `event`, `execute`.
    const NAME_MEMBER: &'static str;
    /// The member that holds the payload: `data`, `arguments`.
    const PAYLOAD_MEMBER: &'static str;

    /// Reads the payload of `name`.
    fn from_payload<'de, D: Deserializer<'de>>(name: &str, payload: D) -> Result<Self, D::Error>;

    /// `name` without a payload member.
    fn without_payload<E: de::Error>(name: &str) -> Result<Self, E>;

    /// Writes the name member and the payload member, if there is one, to
    /// a [`Members`] writer: a serializer's map (the envelope's
    /// `Serialize` through [`serialize_envelope`](super::serialize_envelope),
    /// and [`EventMessage`]'s, which adds the timestamp) or a JSON object
    /// ([`envelope_to_json`](super::envelope_to_json)).
    ///
    /// # Errors
    ///
    /// When the writer fails (a serializer's error).
    fn write_members<W: Members>(&self, members: &mut W) -> Result<(), W::Error>;
}

/// Reads the payload with the type the name says.
struct PayloadSeed<'n, E>(&'n str, PhantomData<E>);

impl<'de, E: Envelope> DeserializeSeed<'de> for PayloadSeed<'_, E> {
    type Value = E;
    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<E, D::Error> {
        E::from_payload(self.0, deserializer)
    }
}

/// `Deserialize` of an [`Envelope`] (and, with `with_timestamp`, of an
/// event's `timestamp`); other members are ignored. The payload is read as
/// it comes when the name precedes it (as QEMU sends events), or read aside
/// until the name is known.
pub fn deserialize_envelope<'de, D: Deserializer<'de>, E: Envelope>(
    deserializer: D,
    with_timestamp: bool,
) -> Result<(E, Option<Timestamp>), D::Error> {
    struct EnvelopeVisitor<E>(bool, PhantomData<E>);
    impl<'de, E: Envelope> Visitor<'de> for EnvelopeVisitor<E> {
        type Value = (E, Option<Timestamp>);
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "an object with a member `{}`", E::NAME_MEMBER)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut name: Option<Key<'de>> = None;
            let mut value = None;
            let mut early = None;
            let mut timestamp = None;
            while let Some(key) = map.next_key::<Key<'de>>()? {
                let key = key.as_str();
                if key == E::NAME_MEMBER {
                    set(&mut name, &mut map, E::NAME_MEMBER)?;
                } else if key == E::PAYLOAD_MEMBER {
                    if value.is_some() || early.is_some() {
                        return Err(de::Error::duplicate_field(E::PAYLOAD_MEMBER));
                    }
                    match &name {
                        Some(n) => {
                            value =
                                Some(map.next_value_seed(PayloadSeed(n.as_str(), PhantomData))?);
                        }
                        None => early = Some(map.next_value_seed(BufferSeed)?),
                    }
                } else if self.0 && key == "timestamp" {
                    set(&mut timestamp, &mut map, "timestamp")?;
                } else {
                    skip(&mut map)?;
                }
            }
            let name = required(name, E::NAME_MEMBER)?;
            let value = match (value, early) {
                (Some(value), _) => value,
                (None, Some(payload)) => {
                    payload.into_seed(PayloadSeed(name.as_str(), PhantomData), E::PAYLOAD_MEMBER)?
                }
                (None, None) => E::without_payload(name.as_str())?,
            };
            Ok((value, timestamp))
        }
    }
    deserializer.deserialize_map(EnvelopeVisitor(with_timestamp, PhantomData))
}

/// An empty object, for the payload of an [`Envelope`] that comes without
/// one.
pub fn no_payload<'de, E: de::Error>() -> impl Deserializer<'de, Error = E> {
    de::value::MapDeserializer::new(std::iter::empty::<(&'static str, ())>())
}
