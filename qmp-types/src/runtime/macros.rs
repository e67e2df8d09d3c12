#[doc(hidden)]
#[macro_export]
macro_rules! __qmp_impl_json {
    (object $t:ident, $schema:path) => {
        impl $crate::runtime::ToJson for $t {
            #[inline]
            fn to_json(&self) -> $crate::runtime::Value {
                $crate::runtime::object_to_json(self)
            }
        }
        impl<'de> $crate::runtime::serde::Deserialize<'de> for $t {
            #[inline]
            fn deserialize<D: $crate::runtime::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::core::result::Result<Self, D::Error> {
                $crate::runtime::deserialize_object(deserializer)
            }
        }
        impl $crate::runtime::serde::Serialize for $t {
            #[inline]
            fn serialize<S: $crate::runtime::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                $crate::runtime::serialize_object(self, serializer)
            }
        }
        $crate::runtime::impl_json!(@common $t, $schema);
    };
    (envelope $t:ident, $schema:path) => {
        impl $crate::runtime::ToJson for $t {
            fn to_json(&self) -> $crate::runtime::Value {
                $crate::runtime::envelope_to_json(self)
            }
        }
        impl<'de> $crate::runtime::serde::Deserialize<'de> for $t {
            fn deserialize<D: $crate::runtime::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::core::result::Result<Self, D::Error> {
                $crate::runtime::deserialize_envelope(deserializer, false).map(|(envelope, _)| envelope)
            }
        }
        impl $crate::runtime::serde::Serialize for $t {
            fn serialize<S: $crate::runtime::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                $crate::runtime::serialize_envelope(self, serializer)
            }
        }
        $crate::runtime::impl_json!(@common $t, $schema);
    };
    (enum $t:ident, $schema:path) => {
        impl ::core::fmt::Display for $t {
            #[inline]
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl $crate::runtime::ToJson for $t {
            #[inline]
            fn to_json(&self) -> $crate::runtime::Value {
                $crate::runtime::Value::String(self.as_str().to_owned())
            }
        }
        impl<'de> $crate::runtime::serde::Deserialize<'de> for $t {
            #[inline]
            fn deserialize<D: $crate::runtime::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::core::result::Result<Self, D::Error> {
                $crate::runtime::deserialize_enum(deserializer)
            }
        }
        impl $crate::runtime::serde::Serialize for $t {
            #[inline]
            fn serialize<S: $crate::runtime::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
        $crate::runtime::impl_json!(@common $t, $schema);
    };
    (newtype $t:ident($inner:ty), $schema:path) => {
        impl ::core::convert::From<$inner> for $t {
            #[inline]
            fn from(value: $inner) -> Self {
                Self(value)
            }
        }
        impl $crate::runtime::ToJson for $t {
            #[inline]
            fn to_json(&self) -> $crate::runtime::Value {
                $crate::runtime::ToJson::to_json(&self.0)
            }
        }
        impl<'de> $crate::runtime::serde::Deserialize<'de> for $t {
            #[inline]
            fn deserialize<D: $crate::runtime::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::core::result::Result<Self, D::Error> {
                <$inner as $crate::runtime::serde::Deserialize<'de>>::deserialize(deserializer)
                    .map(Self)
            }
        }
        impl $crate::runtime::serde::Serialize for $t {
            #[inline]
            fn serialize<S: $crate::runtime::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                $crate::runtime::serde::Serialize::serialize(&self.0, serializer)
            }
        }
        $crate::runtime::impl_json!(@common $t, $schema);
    };
    (unit $t:ident, $schema:path) => {
        impl $crate::runtime::ToJson for $t {
            #[inline]
            fn to_json(&self) -> $crate::runtime::Value {
                $crate::runtime::Value::Object($crate::runtime::Map::new())
            }
        }
        impl<'de> $crate::runtime::serde::Deserialize<'de> for $t {
            #[inline]
            fn deserialize<D: $crate::runtime::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::core::result::Result<Self, D::Error> {
                $crate::runtime::deserialize_unit_object(deserializer).map(|()| Self)
            }
        }
        impl $crate::runtime::serde::Serialize for $t {
            #[inline]
            fn serialize<S: $crate::runtime::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                $crate::runtime::serde::Serialize::serialize(&$crate::runtime::Empty {}, serializer)
            }
        }
        $crate::runtime::impl_json!(@common $t, $schema);
    };
    (custom $t:ident, $schema:path) => {
        impl<'de> $crate::runtime::serde::Deserialize<'de> for $t {
            fn deserialize<D: $crate::runtime::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::core::result::Result<Self, D::Error> {
                $crate::runtime::deserialize_from_value(deserializer)
            }
        }
        $crate::runtime::impl_json!(@common $t, $schema);
    };
    (@common $t:ident, $schema:path) => {
        impl $crate::runtime::schemars::JsonSchema for $t {
            fn schema_name() -> ::std::borrow::Cow<'static, str> {
                ::std::borrow::Cow::Borrowed(::core::stringify!($t))
            }
            fn json_schema(
                generator: &mut $crate::runtime::schemars::SchemaGenerator,
            ) -> $crate::runtime::schemars::Schema {
                $crate::runtime::json_schema_from_defs(&$schema, ::core::stringify!($t), generator)
            }
        }
    };
}
/// Implements the wire traits of a generated type: [`ToJson`](super::ToJson), `serde`'s
/// `Serialize` (straight to the serializer), `Deserialize` (straight from
/// the deserializer; [`FromJson`](super::FromJson) follows from it) and `schemars`'
/// `JsonSchema` (from the precomputed definitions document `$schema`, a
/// `LazyLock<Value>` in the generated module).
///
/// Generated code calls it once per type, so the bindings carry one line
/// instead of six impls each. The first word says how the type encodes:
///
/// * `object T`: a struct implementing [`ObjectType`](super::ObjectType) (a JSON object);
/// * `envelope T`: a request or event enum implementing
///   [`Envelope`](super::Envelope) (`{"execute": ..., "arguments": ...}`,
///   `{"event": ..., "data": ...}`);
/// * `enum T`: a string enum with `as_str()` and `FromStr` (also gets
///   `Display`);
/// * `newtype T(Inner)`: a wrapper encoded as its inner value;
/// * `unit T`: a unit struct encoded as `{}`;
/// * `custom T`: a type with its own [`ToJson`](super::ToJson), `Serialize` and
///   [`FromValue`](super::FromValue) (decoded through a [`Value`](super::Value)).
#[doc(inline)]
pub use crate::__qmp_impl_json as impl_json;

#[doc(hidden)]
#[macro_export]
macro_rules! __qmp_impl_object {
    (
        $t:ident {
            $($(#[$attr:meta])* $kind:ident $field:ident = $wire:literal),*
            $(, ..$rest:ident)? $(,)?
        },
        $schema:path
    ) => {
        #[allow(deprecated, unused_variables, unused_mut, clippy::disallowed_names)]
        impl $crate::runtime::ObjectType for $t {
            #[inline]
            fn visit_members<'de, A: $crate::runtime::serde::de::MapAccess<'de>>(
                mut map: A,
            ) -> ::core::result::Result<Self, A::Error> {
                $($(#[$attr])* let mut $field = ::core::option::Option::None;)*
                $(let mut $rest = $crate::runtime::Map::new();)?
                while let ::core::option::Option::Some(key) =
                    map.next_key::<$crate::runtime::Key<'de>>()?
                {
                    match key.as_str() {
                        $($(#[$attr])* $wire => $crate::runtime::set(&mut $field, &mut map, $wire),)*
                        _ => $crate::runtime::impl_object!(@unknown [$($rest)?] key map),
                    }?;
                }
                let mut missing = ::core::option::Option::None;
                $($(#[$attr])* $crate::runtime::impl_object!(@check $kind missing $field $wire);)*
                if let ::core::option::Option::Some(name) = missing {
                    return ::core::result::Result::Err(
                        <A::Error as $crate::runtime::serde::de::Error>::missing_field(name),
                    );
                }
                ::core::result::Result::Ok(Self {
                    $($(#[$attr])* $field: $crate::runtime::impl_object!(@finish $kind $field),)*
                    $($rest,)?
                })
            }
            #[inline]
            fn write_members<W: $crate::runtime::Members>(
                &self,
                members: &mut W,
            ) -> ::core::result::Result<(), W::Error> {
                $($(#[$attr])* $crate::runtime::impl_object!(@put $kind members $wire &self.$field)?;)*
                $crate::runtime::impl_object!(@rest members self [$($rest)?] [$($wire),*])
            }
        }
        $crate::runtime::impl_json!(object $t, $schema);
    };
    (@unknown [] $key:ident $map:ident) => {
        $crate::runtime::skip(&mut $map)
    };
    (@unknown [$rest:ident] $key:ident $map:ident) => {
        $crate::runtime::keep(&mut $rest, $key, &mut $map)
    };
    (@check required $missing:ident $field:ident $wire:literal) => {
        $crate::runtime::note_missing(&mut $missing, $field.is_none(), $wire)
    };
    (@check optional $missing:ident $field:ident $wire:literal) => {};
    (@finish required $field:ident) => {
        $crate::runtime::present($field)
    };
    (@finish optional $field:ident) => {
        $field
    };
    (@rest $members:ident $self:ident [] [$($wire:literal),*]) => {
        ::core::result::Result::Ok(())
    };
    (@rest $members:ident $self:ident [$rest:ident] [$($wire:literal),*]) => {
        $crate::runtime::put_rest($members, &$self.$rest, &[$($wire),*])
    };
    (@put required $map:ident $wire:literal $value:expr) => {
        $crate::runtime::put($map, $wire, $value)
    };
    (@put optional $map:ident $wire:literal $value:expr) => {
        $crate::runtime::put_opt($map, $wire, $value)
    };
}
/// Implements [`ObjectType`](super::ObjectType) (and, through [`impl_json!`], the wire traits)
/// for a generated struct, from its members: `required field = "wire-name"`
/// or `optional field = "wire-name"` (the field is an `Option`), each
/// possibly behind a `#[cfg(...)]` like its field, and optionally a last
/// `..extra` field that keeps the members the schema does not describe.
///
/// ```
/// # use qmp_types::runtime as rt;
/// # static SCHEMA: std::sync::LazyLock<rt::Value> = std::sync::LazyLock::new(|| rt::Value::Null);
/// #[derive(Debug, Clone, PartialEq)]
/// pub struct Snapshot {
///     pub node_name: String,
///     pub format: Option<String>,
/// }
/// rt::impl_object!(Snapshot { required node_name = "node-name", optional format = "format" }, SCHEMA);
///
/// let s: Snapshot = rt::FromJson::from_json(rt::serde_json::json!({"node-name": "n0"})).unwrap();
/// assert_eq!(s.node_name, "n0");
/// assert_eq!(rt::ToJson::to_json(&s), rt::serde_json::json!({"node-name": "n0"}));
///
/// // A member behind a feature that is off is ignored like an unknown one.
/// #[derive(Debug, Clone, PartialEq, Default)]
/// pub struct Throttle {
///     pub iops: Option<i64>,
///     #[cfg(any())]
///     pub x_iops_size: Option<i64>,
/// }
/// rt::impl_object!(
///     Throttle { optional iops = "iops", #[cfg(any())] optional x_iops_size = "x-iops-size" },
///     SCHEMA
/// );
/// let t: Throttle = rt::FromJson::from_json(rt::serde_json::json!({"iops": 5, "x-iops-size": 9})).unwrap();
/// assert_eq!(rt::ToJson::to_json(&t), rt::serde_json::json!({"iops": 5}));
/// ```
#[doc(inline)]
pub use crate::__qmp_impl_object as impl_object;

#[doc(hidden)]
#[macro_export]
macro_rules! __qmp_impl_enum {
    (
        $t:ident($fallback:ident) { $($variant:ident = $wire:literal),* $(,)? }
        $(#[cfg($gate:meta)] { $($gated:ident = $gated_wire:literal),* $(,)? })?,
        $schema:path
    ) => {
        #[allow(deprecated)]
        impl $t {
            /// Every value these bindings know, in schema order (values
            /// behind a cargo feature last).
            #[cfg(all($($gate)?))]
            pub const ALL: &'static [Self] = &[$(Self::$variant,)* $($(Self::$gated,)*)?];
            $crate::runtime::impl_enum!(@all_without_gated [$($variant),*] $($gate)?);
            /// The wire name.
            #[inline]
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)*
                    $($(#[cfg($gate)] Self::$gated => $gated_wire,)*)?
                    Self::$fallback(s) => s,
                }
            }
        }
        #[allow(deprecated)]
        impl ::core::str::FromStr for $t {
            type Err = ::core::convert::Infallible;
            #[inline]
            fn from_str(s: &str) -> ::core::result::Result<Self, Self::Err> {
                ::core::result::Result::Ok(match s {
                    $($wire => Self::$variant,)*
                    $($(#[cfg($gate)] $gated_wire => Self::$gated,)*)?
                    other => Self::$fallback(::std::borrow::ToOwned::to_owned(other)),
                })
            }
        }
        $crate::runtime::impl_json!(enum $t, $schema);
    };
    (@all_without_gated [$($variant:ident),*]) => {};
    (@all_without_gated [$($variant:ident),*] $gate:meta) => {
        /// Every value these bindings know, in schema order.
        #[cfg(not($gate))]
        pub const ALL: &'static [Self] = &[$(Self::$variant),*];
    };
}
/// Implements a generated string enum's behaviour from its values
/// (`Variant = "wire-name"`) and the name of the variant that keeps values
/// the bindings do not know: the `ALL` table and `as_str`, `FromStr`,
/// `Display` and (through [`impl_json!`]) the wire traits. Values behind a
/// cargo feature follow as a second group, `#[cfg(...)] { ... }`; without
/// the feature their wire names decode to the fallback variant.
///
/// ```
/// # use qmp_types::runtime as rt;
/// # static SCHEMA: std::sync::LazyLock<rt::Value> = std::sync::LazyLock::new(|| rt::Value::Null);
/// #[derive(Debug, Clone, PartialEq, Eq, Hash)]
/// pub enum Mode {
///     Existing,
///     AbsolutePaths,
///     Unknown(String),
/// }
/// rt::impl_enum!(Mode(Unknown) { Existing = "existing", AbsolutePaths = "absolute-paths" }, SCHEMA);
///
/// assert_eq!(Mode::AbsolutePaths.as_str(), "absolute-paths");
/// assert_eq!("newer".parse::<Mode>(), Ok(Mode::Unknown("newer".to_owned())));
/// assert_eq!(Mode::ALL.len(), 2);
///
/// // A value behind a feature that is off decodes as unknown.
/// #[derive(Debug, Clone, PartialEq, Eq, Hash)]
/// pub enum Capability {
///     Events,
///     #[cfg(any())]
///     XColo,
///     Unknown(String),
/// }
/// rt::impl_enum!(Capability(Unknown) { Events = "events" } #[cfg(any())] { XColo = "x-colo" }, SCHEMA);
/// assert_eq!("x-colo".parse::<Capability>(), Ok(Capability::Unknown("x-colo".to_owned())));
/// assert_eq!(Capability::ALL, &[Capability::Events]);
/// ```
#[doc(inline)]
pub use crate::__qmp_impl_enum as impl_enum;

/// `From` each variant's payload type for an enum of one-field variants
/// (used by [`impl_requests!`] and [`impl_events!`]).
#[doc(hidden)]
#[macro_export]
macro_rules! __qmp_impl_from {
    ($enum:ident { $($(#[$attr:meta])* $variant:ident($payload:ty),)* }) => {
        $(
            $(#[$attr])*
            #[allow(deprecated)]
            impl ::core::convert::From<$payload> for $enum {
                #[inline]
                fn from(payload: $payload) -> Self {
                    Self::$variant(payload)
                }
            }
        )*
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __qmp_impl_requests {
    (
        $req:ident, $resp:ident {
            args = [$($(#[$a:meta])* $v:ident),* $(,)?],
            no_args = [$($(#[$na:meta])* $nv:ident),* $(,)?] $(,)?
        },
        $schema:path
    ) => {
        #[allow(deprecated)]
        impl $req {
            /// The command's wire name.
            #[inline]
            pub fn name(&self) -> &str {
                match self {
                    $($(#[$a])* Self::$v(_) => <$v as $crate::runtime::Command>::NAME,)*
                    $($(#[$na])* Self::$nv(_) => <$nv as $crate::runtime::Command>::NAME,)*
                    Self::Unknown { execute, .. } => execute,
                }
            }
            /// Decodes the `return` value of a successful reply to this
            /// request.
            ///
            /// # Errors
            ///
            /// When the value does not have the command's return type (the
            /// error names the JSON path of the offending value).
            #[inline]
            pub fn decode_return(
                &self,
                value: $crate::runtime::Value,
            ) -> ::core::result::Result<$resp, $crate::runtime::DecodeError> {
                ::core::result::Result::Ok(match self {
                    $($(#[$a])* Self::$v(_) => $resp::$v(
                        <<$v as $crate::runtime::Command>::Returns as $crate::runtime::FromJson>::from_json(value)?,
                    ),)*
                    $($(#[$na])* Self::$nv(_) => $resp::$nv(
                        <<$nv as $crate::runtime::Command>::Returns as $crate::runtime::FromJson>::from_json(value)?,
                    ),)*
                    Self::Unknown { .. } => $resp::Unknown(value),
                })
            }
        }
        #[allow(deprecated)]
        impl $crate::runtime::Envelope for $req {
            const NAME_MEMBER: &'static str = "execute";
            const PAYLOAD_MEMBER: &'static str = "arguments";
            fn from_payload<'de, D: $crate::runtime::serde::Deserializer<'de>>(
                name: &str,
                arguments: D,
            ) -> ::core::result::Result<Self, D::Error> {
                ::core::result::Result::Ok(match name {
                    $($(#[$a])* <$v as $crate::runtime::Command>::NAME => Self::$v(
                        <$v as $crate::runtime::serde::Deserialize<'de>>::deserialize(arguments)?,
                    ),)*
                    $($(#[$na])* <$nv as $crate::runtime::Command>::NAME => Self::$nv(
                        <$nv as $crate::runtime::serde::Deserialize<'de>>::deserialize(arguments)?,
                    ),)*
                    _ => Self::Unknown {
                        execute: ::std::borrow::ToOwned::to_owned(name),
                        arguments: ::core::option::Option::Some(
                            <$crate::runtime::Value as $crate::runtime::serde::Deserialize<'de>>::deserialize(arguments)?,
                        ),
                    },
                })
            }
            #[allow(unreachable_patterns)]
            fn without_payload<E: $crate::runtime::serde::de::Error>(
                name: &str,
            ) -> ::core::result::Result<Self, E> {
                ::core::result::Result::Ok(
                    match <Self as $crate::runtime::Envelope>::from_payload(name, $crate::runtime::no_payload::<E>())? {
                        Self::Unknown { execute, .. } => Self::Unknown {
                            execute,
                            arguments: ::core::option::Option::None,
                        },
                        request => request,
                    },
                )
            }
            fn write_members<W: $crate::runtime::Members>(
                &self,
                members: &mut W,
            ) -> ::core::result::Result<(), W::Error> {
                $crate::runtime::put(members, "execute", self.name())?;
                match self {
                    $($(#[$a])* Self::$v(arguments) => $crate::runtime::put(members, "arguments", arguments),)*
                    $($(#[$na])* Self::$nv(_) => ::core::result::Result::Ok(()),)*
                    Self::Unknown { arguments, .. } => $crate::runtime::put_opt(members, "arguments", arguments),
                }
            }
        }
        $crate::runtime::impl_json!(envelope $req, $schema);
        $crate::__qmp_impl_from!($req { $($(#[$a])* $v($v),)* $($(#[$na])* $nv($nv),)* });
        #[allow(deprecated)]
        impl $crate::runtime::ToJson for $resp {
            fn to_json(&self) -> $crate::runtime::Value {
                match self {
                    $($(#[$a])* Self::$v(v) => $crate::runtime::ToJson::to_json(v),)*
                    $($(#[$na])* Self::$nv(v) => $crate::runtime::ToJson::to_json(v),)*
                    Self::Unknown(v) => ::core::clone::Clone::clone(v),
                }
            }
        }
        #[allow(deprecated)]
        impl $crate::runtime::serde::Serialize for $resp {
            fn serialize<S: $crate::runtime::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                match self {
                    $($(#[$a])* Self::$v(v) => $crate::runtime::serde::Serialize::serialize(v, serializer),)*
                    $($(#[$na])* Self::$nv(v) => $crate::runtime::serde::Serialize::serialize(v, serializer),)*
                    Self::Unknown(v) => $crate::runtime::serde::Serialize::serialize(v, serializer),
                }
            }
        }
    };
}
/// Implements the behaviour of a generated `Request` enum and its
/// `Response` twin from the table of commands: `name`, `decode_return`,
/// [`ToJson`](super::ToJson)/[`Envelope`](super::Envelope) in the wire form `{"execute": NAME, "arguments":
/// {...}}`, `From` each command, and (through [`impl_json!`]) `serde` and
/// `JsonSchema`.
///
/// Each entry names a variant and its [`Command`](super::Command) type (they share the name:
/// the wire name and return type come from the [`Command`](super::Command) impl); entries
/// under `args` send their `arguments`, entries under `no_args` (commands
/// without arguments) don't.
/// Both enums end in an `Unknown` variant (`Unknown { execute, arguments }`
/// and `Unknown(Value)`).
#[doc(inline)]
pub use crate::__qmp_impl_requests as impl_requests;

#[doc(hidden)]
#[macro_export]
macro_rules! __qmp_impl_events {
    (
        $event:ident {
            data = [$($(#[$a:meta])* $v:ident($t:ident)),* $(,)?],
            no_data = [$($(#[$na:meta])* $nv:ident($nt:ident)),* $(,)?] $(,)?
        },
        $schema:path
    ) => {
        #[allow(deprecated)]
        impl $event {
            /// The event's wire name.
            #[inline]
            pub fn name(&self) -> &str {
                match self {
                    $($(#[$a])* Self::$v(_) => $t::NAME,)*
                    $($(#[$na])* Self::$nv(_) => $nt::NAME,)*
                    Self::Unknown { name, .. } => name,
                }
            }
        }
        impl $crate::runtime::EventKind for $event {
            #[inline]
            fn name(&self) -> &str {
                $event::name(self)
            }
        }
        #[allow(deprecated)]
        impl $crate::runtime::Envelope for $event {
            const NAME_MEMBER: &'static str = "event";
            const PAYLOAD_MEMBER: &'static str = "data";
            fn from_payload<'de, D: $crate::runtime::serde::Deserializer<'de>>(
                name: &str,
                data: D,
            ) -> ::core::result::Result<Self, D::Error> {
                ::core::result::Result::Ok(match name {
                    $($(#[$a])* $t::NAME => Self::$v(
                        <$t as $crate::runtime::serde::Deserialize<'de>>::deserialize(data)?,
                    ),)*
                    $($(#[$na])* $nt::NAME => Self::$nv(
                        <$nt as $crate::runtime::serde::Deserialize<'de>>::deserialize(data)?,
                    ),)*
                    _ => Self::Unknown {
                        name: ::std::borrow::ToOwned::to_owned(name),
                        data: <$crate::runtime::Value as $crate::runtime::serde::Deserialize<'de>>::deserialize(data)?,
                    },
                })
            }
            #[allow(unreachable_patterns)]
            fn without_payload<E: $crate::runtime::serde::de::Error>(
                name: &str,
            ) -> ::core::result::Result<Self, E> {
                ::core::result::Result::Ok(
                    match <Self as $crate::runtime::Envelope>::from_payload(name, $crate::runtime::no_payload::<E>())? {
                        Self::Unknown { name, .. } => Self::Unknown {
                            name,
                            data: $crate::runtime::Value::Null,
                        },
                        event => event,
                    },
                )
            }
            fn write_members<W: $crate::runtime::Members>(
                &self,
                members: &mut W,
            ) -> ::core::result::Result<(), W::Error> {
                $crate::runtime::put(members, "event", self.name())?;
                match self {
                    $($(#[$a])* Self::$v(data) => $crate::runtime::put(members, "data", data),)*
                    $($(#[$na])* Self::$nv(_) => ::core::result::Result::Ok(()),)*
                    Self::Unknown { data, .. } if data.is_null() => ::core::result::Result::Ok(()),
                    Self::Unknown { data, .. } => $crate::runtime::put(members, "data", data),
                }
            }
        }
        $crate::runtime::impl_json!(envelope $event, $schema);
        $crate::__qmp_impl_from!($event { $($(#[$a])* $v($t),)* $($(#[$na])* $nv($nt),)* });
    };
}
/// Implements the behaviour of a generated `Event` enum from the table of
/// events: `name` (also as [`EventKind`](super::EventKind)), [`ToJson`](super::ToJson)/[`Envelope`](super::Envelope) in the
/// wire form `{"event": NAME, "data": {...}}` (a `timestamp` is ignored),
/// `From` each event's data type, and (through [`impl_json!`]) `serde` and
/// `JsonSchema`.
///
/// Each entry is `Variant(DataType)`, where the data type has an inherent
/// `NAME` const (the wire name); entries under `data` carry a `data`
/// member, entries under `no_data` don't. The enum ends in
/// `Unknown { name, data }`.
#[doc(inline)]
pub use crate::__qmp_impl_events as impl_events;

#[doc(hidden)]
#[macro_export]
macro_rules! __qmp_impl_meta {
    ($t:ident {
        $(name = $name:literal,)?
        since = $since:expr,
        features = [$($feature:literal),* $(,)?],
        condition = $condition:expr
        $(, removed_by = $removed:literal)? $(,)?
    }) => {
        impl $t {
            $(
                /// The event's wire name.
                pub const NAME: &'static str = $name;
            )?
            /// The release this definition appeared in (`Since:`), when known.
            pub const SINCE: ::core::option::Option<&'static str> = $since;
            /// The definition's features (`deprecated`, `unstable`, ...).
            pub const FEATURES: &'static [&'static str] = &[$($feature),*];
            /// The definition's `if` condition, rendered, if it has one.
            pub const CONDITION: ::core::option::Option<&'static str> = $condition;
            /// The first of the QEMU releases these bindings span that no
            /// longer has this definition (it went away in that release or
            /// in one between it and the last spanned release that has it);
            /// `None` when the newest spanned release has it.
            pub const REMOVED_BY: ::core::option::Option<&'static str> =
                $crate::runtime::impl_meta!(@opt $($removed)?);
        }
    };
    (@opt) => {
        ::core::option::Option::None
    };
    (@opt $v:literal) => {
        ::core::option::Option::Some($v)
    };
}
/// Adds the schema facts of a generated definition as inherent consts a
/// program can read: `SINCE`, `FEATURES`, `CONDITION`, `REMOVED_BY` (given
/// only for bindings spanning several releases, see [`CommandInfo::removed_by`](super::CommandInfo::removed_by)),
/// and for events `NAME`, the wire name (commands have it as
/// [`Command::NAME`](super::Command::NAME)).
///
/// ```
/// # use qmp_types::runtime as rt;
/// pub struct Stop;
/// rt::impl_meta!(Stop { name = "STOP", since = Some("0.13"), features = [], condition = None });
/// assert_eq!(Stop::NAME, "STOP");
/// assert_eq!(Stop::SINCE, Some("0.13"));
/// assert_eq!(Stop::REMOVED_BY, None);
///
/// pub struct OldCommand;
/// rt::impl_meta!(OldCommand { since = None, features = [], condition = None, removed_by = "10.0.2" });
/// assert_eq!(OldCommand::REMOVED_BY, Some("10.0.2"));
/// ```
#[doc(inline)]
pub use crate::__qmp_impl_meta as impl_meta;

#[doc(hidden)]
#[macro_export]
macro_rules! __qmp_impl_command {
    ($t:ident = $name:literal -> $ret:ty $(, $flag:ident)* $(,)?) => {
        impl $crate::runtime::Command for $t {
            const NAME: &'static str = $name;
            const ALLOW_OOB: bool = $crate::runtime::impl_command!(@has allow_oob $($flag)*);
            const SUCCESS_RESPONSE: bool = !$crate::runtime::impl_command!(@has no_success_response $($flag)*);
            type Returns = $ret;
        }
        $($crate::runtime::impl_command!(@flag $t $flag);)*
    };
    (@flag $t:ident allow_oob) => {
        impl $crate::runtime::OobCommand for $t {}
    };
    (@flag $t:ident no_success_response) => {};
    (@has allow_oob allow_oob $($rest:ident)*) => { true };
    (@has no_success_response no_success_response $($rest:ident)*) => { true };
    (@has $want:ident $other:ident $($rest:ident)*) => {
        $crate::runtime::impl_command!(@has $want $($rest)*)
    };
    (@has $want:ident) => { false };
}
/// Implements [`Command`](super::Command) for a generated command type: its wire name, its
/// return type and, as trailing words, `allow_oob` (also implements
/// [`OobCommand`](super::OobCommand)) and `no_success_response` when the schema says so.
///
/// ```
/// # use qmp_types::runtime as rt;
/// #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
/// pub struct QueryStatus;
/// # static SCHEMA: std::sync::LazyLock<rt::Value> = std::sync::LazyLock::new(|| rt::Value::Null);
/// rt::impl_json!(unit QueryStatus, SCHEMA);
/// rt::impl_command!(QueryStatus = "query-status" -> rt::Value, allow_oob);
/// assert_eq!(<QueryStatus as rt::Command>::NAME, "query-status");
/// assert!(<QueryStatus as rt::Command>::ALLOW_OOB);
/// ```
#[doc(inline)]
pub use crate::__qmp_impl_command as impl_command;
