//! A member value read before the member that says how to read it: a flat
//! union's branch members before its discriminator, an event's `data`
//! before its `event`. The value is recorded as the deserializer hands it
//! over (a list of tokens whose strings borrow the input, so the text is
//! parsed once) and replayed later into the right type, with errors that
//! still name the member and the path inside it.

use std::borrow::Cow;

use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// One token of a member value read aside ([`Buffered`]): what the
/// deserializer gave the visitor, in order. Strings stay borrowed from the
/// input when the deserializer lends them.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Token<'de> {
    Null,
    Bool(bool),
    U64(u64),
    I64(i64),
    F64(f64),
    Str(Cow<'de, str>),
    /// An array of `len` elements; its tokens end (with its [`Token::End`])
    /// before index `end`.
    Seq {
        len: usize,
        end: usize,
    },
    /// An object of `len` members (key, value, key, value...).
    Map {
        len: usize,
        end: usize,
    },
    End,
}

/// The field name serde_json gives a number under its
/// `arbitrary_precision` feature (an object of this one member, the
/// number's text).
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

thread_local! {
    /// The thread's spare tape: each flat union object that records
    /// members before its discriminator borrows it instead of allocating
    /// a tape of its own (a `query-qmp-schema` reply has thousands).
    static SPARE_TAPE: std::cell::Cell<Vec<Token<'static>>> =
        const { std::cell::Cell::new(Vec::new()) };
}

/// The largest tape kept as the spare (in tokens): a huge one is freed.
const SPARE_TAPE_MAX: usize = 4096;

/// An empty tape: the thread's spare one if it has one (see
/// [`return_tape`]).
pub(super) fn take_tape<'de>() -> Vec<Token<'de>> {
    relifetime(SPARE_TAPE.with(std::cell::Cell::take))
}

/// Empties `tape` and keeps it as the thread's spare.
pub(super) fn return_tape(mut tape: Vec<Token<'_>>) {
    if tape.capacity() == 0 || tape.capacity() > SPARE_TAPE_MAX {
        return;
    }
    tape.clear();
    let tape = relifetime(tape);
    // During thread teardown the spare is gone: the tape is just freed.
    let _ = SPARE_TAPE.try_with(|spare| spare.set(tape));
}

/// An empty tape with another lifetime, in the same allocation: the
/// standard library collects a `Vec`'s own iterator into a `Vec` of a type
/// of the same layout in place (and being empty, nothing is converted).
#[allow(
    clippy::unnecessary_filter_map,
    reason = "`filter` cannot change the element type (its lifetime)"
)]
fn relifetime<'a>(tape: Vec<Token<'_>>) -> Vec<Token<'a>> {
    debug_assert!(tape.is_empty());
    tape.into_iter().filter_map(|_| None).collect()
}

/// Records one value as [`Token`]s appended to the tape.
pub(super) struct Record<'a, 'de>(pub(super) &'a mut Vec<Token<'de>>);

impl<'de> DeserializeSeed<'de> for Record<'_, 'de> {
    type Value = ();

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Record<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.0.push(Token::Bool(v));
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.0.push(Token::I64(v));
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.0.push(Token::U64(v));
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.0.push(Token::F64(v));
        Ok(())
    }

    #[inline]
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<(), E> {
        self.0.push(Token::Str(Cow::Borrowed(v)));
        Ok(())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.0.push(Token::Str(Cow::Owned(v.to_owned())));
        Ok(())
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<(), E> {
        self.0.push(Token::Str(Cow::Owned(v)));
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.0.push(Token::Null);
        Ok(())
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.0.push(Token::Null);
        Ok(())
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let at = self.0.len();
        self.0.push(Token::Seq { len: 0, end: 0 });
        let mut len = 0;
        while seq.next_element_seed(Record(self.0))?.is_some() {
            len += 1;
        }
        self.0.push(Token::End);
        self.0[at] = Token::Seq {
            len,
            end: self.0.len(),
        };
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let at = self.0.len();
        self.0.push(Token::Map { len: 0, end: 0 });
        let mut len = 0;
        while map.next_key_seed(Record(self.0))?.is_some() {
            map.next_value_seed(Record(self.0))?;
            len += 1;
        }
        // serde_json's `arbitrary_precision` number: record the number.
        if len == 1
            && let [Token::Str(k), Token::Str(n)] = &self.0[at + 1..]
            && k == NUMBER_TOKEN
        {
            let number = if let Ok(v) = n.parse() {
                Token::U64(v)
            } else if let Ok(v) = n.parse() {
                Token::I64(v)
            } else {
                Token::F64(n.parse().map_err(de::Error::custom)?)
            };
            self.0.truncate(at);
            self.0.push(number);
            return Ok(());
        }
        self.0.push(Token::End);
        self.0[at] = Token::Map {
            len,
            end: self.0.len(),
        };
        Ok(())
    }
}

/// The index just past the value whose first token is at `at`.
#[inline]
pub(super) fn skip_value(tokens: &[Token<'_>], at: usize) -> usize {
    match tokens.get(at) {
        Some(Token::Seq { end, .. } | Token::Map { end, .. }) => *end,
        Some(_) => at + 1,
        None => at,
    }
}

/// Replays recorded tokens into a visitor, as the deserializer that read
/// them would have.
struct Replay<'t, 'de> {
    tokens: &'t [Token<'de>],
    pos: usize,
}

impl<'de> Replay<'_, 'de> {
    fn next(&mut self) -> Result<&Token<'de>, serde_json::Error> {
        let t = self
            .tokens
            .get(self.pos)
            .ok_or_else(|| de::Error::custom("EOF while parsing a value"))?;
        self.pos += 1;
        Ok(t)
    }
}

impl<'de> Deserializer<'de> for &mut Replay<'_, 'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.next()? {
            Token::Null => visitor.visit_unit(),
            Token::Bool(v) => visitor.visit_bool(*v),
            Token::U64(v) => visitor.visit_u64(*v),
            Token::I64(v) => visitor.visit_i64(*v),
            Token::F64(v) => visitor.visit_f64(*v),
            Token::Str(Cow::Borrowed(s)) => visitor.visit_borrowed_str(s),
            Token::Str(Cow::Owned(s)) => visitor.visit_str(s),
            &Token::Seq { len, end } => {
                let v = visitor.visit_seq(ReplaySeq {
                    de: &mut *self,
                    left: len,
                })?;
                self.finish(end)?;
                Ok(v)
            }
            &Token::Map { len, end } => {
                let v = visitor.visit_map(ReplayMap {
                    de: &mut *self,
                    left: len,
                })?;
                self.finish(end)?;
                Ok(v)
            }
            Token::End => Err(de::Error::custom("expected value")),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        if let Some(Token::Null) = self.tokens.get(self.pos) {
            self.pos += 1;
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self.tokens.get(self.pos) {
            Some(Token::Str(_)) => visitor.visit_enum(ReplayEnum {
                de: self,
                end: None,
            }),
            Some(&Token::Map { len: 1, end }) => {
                self.pos += 1;
                visitor.visit_enum(ReplayEnum {
                    de: self,
                    end: Some(end),
                })
            }
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.pos = skip_value(self.tokens, self.pos);
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
        identifier
    }
}

impl Replay<'_, '_> {
    /// After a visitor read an array or object: its end must be next (as
    /// serde_json, a visitor that leaves elements unread is an error).
    fn finish(&mut self, end: usize) -> Result<(), serde_json::Error> {
        if self.pos + 1 == end && matches!(self.tokens.get(self.pos), Some(Token::End)) {
            self.pos = end;
            Ok(())
        } else {
            Err(de::Error::custom("trailing characters"))
        }
    }
}

struct ReplaySeq<'r, 't, 'de> {
    de: &'r mut Replay<'t, 'de>,
    left: usize,
}

impl<'de> de::SeqAccess<'de> for ReplaySeq<'_, '_, 'de> {
    type Error = serde_json::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Self::Error> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        seed.deserialize(&mut *self.de).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

struct ReplayMap<'r, 't, 'de> {
    de: &'r mut Replay<'t, 'de>,
    left: usize,
}

impl<'de> MapAccess<'de> for ReplayMap<'_, '_, 'de> {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        seed.deserialize(&mut *self.de).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        seed.deserialize(&mut *self.de)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

/// An enum value: a string (unit variant) or an object of one member
/// (`end`: the index past it).
struct ReplayEnum<'r, 't, 'de> {
    de: &'r mut Replay<'t, 'de>,
    end: Option<usize>,
}

impl<'de> de::EnumAccess<'de> for ReplayEnum<'_, '_, 'de> {
    type Error = serde_json::Error;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self), Self::Error> {
        let v = seed.deserialize(&mut *self.de)?;
        Ok((v, self))
    }
}

impl<'de> de::VariantAccess<'de> for ReplayEnum<'_, '_, 'de> {
    type Error = serde_json::Error;

    fn unit_variant(self) -> Result<(), Self::Error> {
        match self.end {
            None => Ok(()),
            Some(end) => {
                de::IgnoredAny::deserialize(&mut *self.de)?;
                self.de.finish(end)
            }
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, Self::Error> {
        let Some(end) = self.end else {
            return Err(de::Error::invalid_type(
                de::Unexpected::UnitVariant,
                &"newtype variant",
            ));
        };
        let v = seed.deserialize(&mut *self.de)?;
        self.de.finish(end)?;
        Ok(v)
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.newtype_variant_seed(VisitorSeed(visitor))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.newtype_variant_seed(VisitorSeed(visitor))
    }
}

/// A visitor as a seed (for the payload of tuple and struct variants).
struct VisitorSeed<V>(V);

impl<'de, V: Visitor<'de>> DeserializeSeed<'de> for VisitorSeed<V> {
    type Value = V::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<V::Value, D::Error> {
        deserializer.deserialize_any(self.0)
    }
}

/// The JSON path (`[2].b`) of the innermost value read when `upto` tokens
/// of `tokens` (one recorded value) were consumed: for decode errors in a
/// value read aside.
fn token_path(tokens: &[Token<'_>], upto: usize) -> String {
    enum Frame<'t> {
        Object {
            key: Option<&'t str>,
            want_key: bool,
        },
        Array(usize),
    }
    let mut stack: Vec<Frame<'_>> = Vec::new();
    for token in &tokens[..upto.min(tokens.len())] {
        match stack.last_mut() {
            Some(Frame::Object { key, want_key }) if *want_key => {
                if let Token::Str(k) = token {
                    *key = Some(k);
                    *want_key = false;
                    continue;
                }
            }
            Some(Frame::Object { want_key, .. }) => *want_key = !matches!(token, Token::End),
            Some(Frame::Array(n)) if !matches!(token, Token::End) => *n += 1,
            _ => {}
        }
        match token {
            Token::Seq { .. } => stack.push(Frame::Array(0)),
            Token::Map { .. } => stack.push(Frame::Object {
                key: None,
                want_key: true,
            }),
            Token::End => {
                stack.pop();
            }
            _ => {}
        }
    }
    let mut path = String::new();
    for frame in &stack {
        match frame {
            Frame::Object { key: Some(k), .. } => {
                path.push('.');
                path.push_str(k);
            }
            Frame::Object { key: None, .. } | Frame::Array(0) => {}
            Frame::Array(n) => path.push_str(&format!("[{}]", n - 1)),
        }
    }
    path
}

/// Replays the value recorded at `tokens[start..]` with `seed`; errors
/// name the member `name` and the path inside its value.
pub(super) fn replay<'de, S: DeserializeSeed<'de>, E: de::Error>(
    tokens: &[Token<'de>],
    start: usize,
    seed: S,
    name: &str,
) -> Result<S::Value, E> {
    let mut de = Replay { tokens, pos: start };
    seed.deserialize(&mut de).map_err(|e| {
        let inner = token_path(&tokens[start..], de.pos - start);
        E::custom(format_args!("in member `{name}{inner}`: {e}"))
    })
}

/// A member value kept aside while the member that says how to read it
/// (a union's discriminator, an envelope's name) has not come yet: what the
/// deserializer read, replayed later into the right type. Strings stay
/// borrowed from the input when the deserializer lends them, so the text
/// is parsed once.
#[derive(Debug, Clone, PartialEq)]
pub struct Buffered<'de> {
    tokens: Vec<Token<'de>>,
}

impl<'de> Buffered<'de> {
    /// Reads the kept value with `seed`; errors name the member.
    pub(super) fn into_seed<S: DeserializeSeed<'de>, E: de::Error>(
        self,
        seed: S,
        name: &str,
    ) -> Result<S::Value, E> {
        replay(&self.tokens, 0, seed, name)
    }
}

/// Reads a [`Buffered`] value.
pub(super) struct BufferSeed;

impl<'de> DeserializeSeed<'de> for BufferSeed {
    type Value = Buffered<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Buffered<'de>, D::Error> {
        let mut tokens = Vec::new();
        Record(&mut tokens).deserialize(deserializer)?;
        Ok(Buffered { tokens })
    }
}

#[cfg(test)]
mod tests {
    use std::marker::PhantomData;

    use serde_json::{Value, json};

    use super::*;
    use crate::runtime::tests::Member;

    #[test]
    fn the_spare_tape_is_reused_in_place() {
        let text = String::from("borrowed");
        let mut tape = take_tape();
        tape.reserve(100);
        tape.push(Token::Str(Cow::Borrowed(text.as_str())));
        let (ptr, cap) = (tape.as_ptr().cast::<u8>(), tape.capacity());
        return_tape(tape);
        drop(text);
        // The next one is the same allocation, empty.
        let again: Vec<Token<'_>> = take_tape();
        assert!(again.is_empty());
        assert_eq!((again.as_ptr().cast::<u8>(), again.capacity()), (ptr, cap));
        // Taken: the thread has no spare until it is returned.
        assert_eq!(take_tape().capacity(), 0);
        return_tape(again);
        // A huge tape is not kept.
        let mut huge = take_tape();
        huge.reserve(SPARE_TAPE_MAX + 1);
        return_tape(huge);
        assert_eq!(take_tape().capacity(), 0);
    }

    #[test]
    fn token_paths() {
        let text = r#"[{"a": 1, "b": [true, {"c\"": "x,}"}]}, 3]"#;
        let b = BufferSeed
            .deserialize(&mut serde_json::Deserializer::from_str(text))
            .unwrap();
        let t = &b.tokens;
        let at = |want: &Token<'_>| token_path(t, t.iter().position(|x| x == want).unwrap() + 1);
        assert_eq!(at(&Token::U64(1)), "[0].a");
        assert_eq!(at(&Token::Bool(true)), "[0].b[0]");
        assert_eq!(at(&Token::Str("x,}".into())), r#"[0].b[1].c""#);
        assert_eq!(at(&Token::U64(3)), "[1]");
        // Just past the end of an object: the element it is.
        let end = t.iter().position(|x| x == &Token::End).unwrap();
        assert_eq!(token_path(t, end + 1), "[0].b[1]");
    }

    #[test]
    fn buffered_values_replay_as_read() {
        let v = json!({"a": [1, "x", -2, 1.5, null, {"b": false}], "c\"d": {}, "e": []});
        let text = serde_json::to_string(&v).unwrap();
        // From text: strings without escapes stay borrowed.
        let b = BufferSeed
            .deserialize(&mut serde_json::Deserializer::from_str(&text))
            .unwrap();
        assert!(b.tokens.contains(&Token::Str(Cow::Borrowed("x"))));
        let back: Value = b
            .into_seed::<_, serde_json::Error>(PhantomData, "m")
            .unwrap();
        assert_eq!(back, v);
        // From a `Value`.
        let b = BufferSeed.deserialize(v.clone()).unwrap();
        let back: Value = b
            .into_seed::<_, serde_json::Error>(PhantomData, "m")
            .unwrap();
        assert_eq!(back, v);
        // Typed, with the path inside the member on failure.
        let b = BufferSeed
            .deserialize(json!([{"name": "a"}, {"name": 2}]))
            .unwrap();
        let e = b
            .into_seed::<_, serde_json::Error>(PhantomData::<Vec<Member>>, "m")
            .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("in member `m[1].name`: invalid type: integer `2`"),
            "{e}"
        );
        // Enums and options.
        #[derive(Debug, PartialEq, Deserialize)]
        enum E {
            A,
            B(u8),
        }
        let b = BufferSeed
            .deserialize(json!(["A", {"B": 3}, null]))
            .unwrap();
        let back: (E, E, Option<u8>) = b
            .into_seed::<_, serde_json::Error>(PhantomData, "m")
            .unwrap();
        assert_eq!(back, (E::A, E::B(3), None));
    }
}
