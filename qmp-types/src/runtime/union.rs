//! Flat unions whose discriminator comes after other members (QEMU's
//! `query-qmp-schema` sends `name` and `members` before `meta-type`): the
//! base takes its members as they come, the others wait in a buffer until
//! the discriminator names the branch, which then reads them followed by
//! the rest of the object.

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess};
use serde_json::{Map, Value};

use super::buffer::{Record, Token, replay, return_tape, skip_value, take_tape};
use super::{Key, required, set};

/// Reads a flat union's object up to its discriminator: the members of the
/// base go to `base` (a closure that reads the member named by its first
/// argument into the union's fields and says whether it was one), the
/// others are kept aside (recorded, see [`Buffered`](super::Buffered)). Returns the
/// discriminator value (`None` when the object has none) and the rest of
/// the object, to read the branch from.
#[allow(clippy::type_complexity)]
pub fn union_members<'a, 'de, A, F>(
    map: &'a mut A,
    tag: &'static str,
    base: &'a mut F,
) -> Result<(Option<Key<'de>>, UnionRest<'a, 'de, A, F>), A::Error>
where
    A: MapAccess<'de>,
    F: FnMut(&str, &mut A) -> Result<bool, A::Error>,
{
    // The members kept aside: name (a string token), value tokens, name...
    // (on the thread's spare tape once there is one).
    let mut early = Vec::new();
    let mut value = None;
    while let Some(key) = map.next_key::<Key<'de>>()? {
        if key.as_str() == tag {
            value = Some(map.next_value::<Key<'de>>()?);
            break;
        }
        if !base(key.as_str(), map)? {
            if early.capacity() == 0 {
                early = take_tape();
                // Room for a typical member list without regrowing.
                early.reserve(32);
            }
            early.push(Token::Str(key.0));
            map.next_value_seed(Record(&mut early))?;
        }
    }
    Ok((
        value,
        UnionRest {
            map,
            early,
            pos: 0,
            pending: None,
            base,
            tag,
        },
    ))
}

/// The discriminator value, or the error that it is missing.
#[inline]
pub fn union_tag<'de, E: de::Error>(
    value: Option<Key<'de>>,
    tag: &'static str,
) -> Result<Key<'de>, E> {
    value.ok_or_else(|| E::missing_field(tag))
}

/// The members of a flat union's object after its discriminator, for its
/// branch: those kept aside before the discriminator first, then the rest
/// of the object as it comes. Members of the base still go to the base; a
/// second discriminator is an error. A [`MapAccess`], so any object type
/// reads its members from it.
pub struct UnionRest<'a, 'de, A, F> {
    map: &'a mut A,
    /// The members kept aside (see [`union_members`]).
    early: Vec<Token<'de>>,
    /// The next member name in `early`.
    pos: usize,
    /// The index in `early` of the name of the member whose value is next.
    pending: Option<usize>,
    base: &'a mut F,
    tag: &'static str,
}

impl<A, F> Drop for UnionRest<'_, '_, A, F> {
    fn drop(&mut self) {
        return_tape(std::mem::take(&mut self.early));
    }
}

impl<'de, A, F> MapAccess<'de> for UnionRest<'_, 'de, A, F>
where
    A: MapAccess<'de>,
    F: FnMut(&str, &mut A) -> Result<bool, A::Error>,
{
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        if let Some(Token::Str(key)) = self.early.get(self.pos) {
            let at = self.pos;
            self.pending = Some(at);
            self.pos = skip_value(&self.early, at + 1);
            return match key {
                Cow::Borrowed(s) => seed.deserialize(de::value::BorrowedStrDeserializer::new(s)),
                Cow::Owned(s) => seed.deserialize(de::value::StrDeserializer::new(s)),
            }
            .map(Some);
        }
        while let Some(key) = self.map.next_key::<Key<'de>>()? {
            if key.as_str() == self.tag {
                return Err(de::Error::duplicate_field(self.tag));
            }
            if !(self.base)(key.as_str(), self.map)? {
                return key.into_seed(seed).map(Some);
            }
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        match self.pending.take() {
            Some(at) => {
                let name = match &self.early[at] {
                    Token::Str(name) => name,
                    _ => "",
                };
                replay(&self.early, at + 1, seed, name)
            }
            None => self.map.next_value_seed(seed),
        }
    }
}

impl<'de, A, F> UnionRest<'_, 'de, A, F>
where
    A: MapAccess<'de>,
    F: FnMut(&str, &mut A) -> Result<bool, A::Error>,
{
    /// Reads the branch: an object type (or a box of one) from the rest of
    /// the members.
    #[inline]
    pub fn branch<T: Deserialize<'de>>(self) -> Result<T, A::Error> {
        T::deserialize(de::value::MapAccessDeserializer::new(self))
    }

    /// A branch without members: reads the rest, ignoring what the base does
    /// not take.
    pub fn no_branch(mut self) -> Result<(), A::Error> {
        while self.next_key::<IgnoredAny>()?.is_some() {
            self.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }

    /// A branch of a legacy simple union: the value of member `data`.
    pub fn data<T: Deserialize<'de>>(mut self) -> Result<T, A::Error> {
        let mut data = None;
        while let Some(key) = self.next_key::<Key<'de>>()? {
            if key.as_str() == "data" {
                set(&mut data, &mut self, "data")?;
            } else {
                self.next_value::<IgnoredAny>()?;
            }
        }
        required(data, "data")
    }

    /// A discriminator value the bindings do not know: the rest of the
    /// members, kept verbatim.
    pub fn into_rest(mut self) -> Result<Map<String, Value>, A::Error> {
        let mut rest = Map::new();
        while let Some(key) = self.next_key::<Key<'de>>()? {
            let value = self.next_value()?;
            rest.insert(key.into_owned(), value);
        }
        Ok(rest)
    }
}
