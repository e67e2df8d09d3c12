//! The decoding helpers on small hand-made types shaped like generated
//! ones (the generated bindings are tested on real replies elsewhere).

use serde::de::MapAccess;
use serde_json::json;

use super::*;

static SCHEMA: std::sync::LazyLock<Value> = std::sync::LazyLock::new(|| Value::Null);

#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub name: String,
    pub default: Option<Value>,
}
crate::runtime::impl_object!(Member { required name = "name", optional default = "default" }, SCHEMA);

#[derive(Debug, Clone, PartialEq)]
pub struct Open {
    pub driver: String,
    pub extra: Map<String, Value>,
}
crate::runtime::impl_object!(Open { required driver = "driver", ..extra }, SCHEMA);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Meta {
    Object,
    Command,
    Builtin,
    Unknown(String),
}
crate::runtime::impl_enum!(Meta(Unknown) { Object = "object", Command = "command", Builtin = "builtin" }, SCHEMA);

#[derive(Debug, Clone, PartialEq)]
pub struct ObjectBranch {
    pub members: Vec<Member>,
    pub tag: Option<String>,
}
crate::runtime::impl_object!(ObjectBranch { required members = "members", optional tag = "tag" }, SCHEMA);

#[derive(Debug, Clone, PartialEq)]
pub struct CommandBranch {
    pub arg_type: String,
    pub ret_type: String,
}
crate::runtime::impl_object!(CommandBranch { required arg_type = "arg-type", required ret_type = "ret-type" }, SCHEMA);

/// A flat union as the generator writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Info {
    pub name: String,
    pub features: Option<Vec<String>>,
    pub meta_type: InfoMetaType,
}

#[derive(Debug, Clone, PartialEq)]
pub enum InfoMetaType {
    Object(ObjectBranch),
    Command(Box<CommandBranch>),
    Builtin,
    Unknown {
        value: String,
        members: Map<String, Value>,
    },
}

impl ObjectType for Info {
    fn visit_members<'de, A: MapAccess<'de>>(mut __qmp_map: A) -> Result<Self, A::Error> {
        let mut name = None;
        let mut features = None;
        let mut __qmp_base = |__qmp_key: &str, __qmp_map: &mut A| -> Result<bool, A::Error> {
            Ok(match __qmp_key {
                "name" => {
                    set(&mut name, __qmp_map, "name")?;
                    true
                }
                "features" => {
                    set(&mut features, __qmp_map, "features")?;
                    true
                }
                _ => false,
            })
        };
        let (__qmp_tag, __qmp_rest) = union_members(&mut __qmp_map, "meta-type", &mut __qmp_base)?;
        let __qmp_tag = union_tag(__qmp_tag, "meta-type")?;
        let __qmp_branch = match __qmp_tag.as_str() {
            "object" => InfoMetaType::Object(__qmp_rest.branch()?),
            "command" => InfoMetaType::Command(__qmp_rest.branch()?),
            "builtin" => {
                __qmp_rest.no_branch()?;
                InfoMetaType::Builtin
            }
            _ => InfoMetaType::Unknown {
                members: __qmp_rest.into_rest()?,
                value: __qmp_tag.into_owned(),
            },
        };
        Ok(Self {
            name: required(name, "name")?,
            features,
            meta_type: __qmp_branch,
        })
    }
    fn write_members<W: Members>(&self, members: &mut W) -> Result<(), W::Error> {
        put(members, "name", &self.name)?;
        put_opt(members, "features", &self.features)?;
        put(members, "meta-type", self.meta_type.as_str())?;
        match &self.meta_type {
            InfoMetaType::Object(data) => ObjectType::write_members(data, members),
            InfoMetaType::Command(data) => ObjectType::write_members(&**data, members),
            InfoMetaType::Builtin => Ok(()),
            InfoMetaType::Unknown { members: rest, .. } => {
                put_rest(members, rest, &["name", "features", "meta-type"])
            }
        }
    }
}

impl InfoMetaType {
    fn as_str(&self) -> &str {
        match self {
            Self::Object(_) => "object",
            Self::Command(_) => "command",
            Self::Builtin => "builtin",
            Self::Unknown { value, .. } => value,
        }
    }
}
crate::runtime::impl_json!(object Info, SCHEMA);

#[derive(Debug, Clone, PartialEq)]
pub struct Shutdown {
    pub guest: bool,
}
crate::runtime::impl_object!(Shutdown { required guest = "guest" }, SCHEMA);
impl Shutdown {
    pub const NAME: &'static str = "SHUTDOWN";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stop;
crate::runtime::impl_json!(unit Stop, SCHEMA);
impl Stop {
    pub const NAME: &'static str = "STOP";
}

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Shutdown(Shutdown),
    Stop(Stop),
    Unknown { name: String, data: Value },
}
crate::runtime::impl_events!(Event { data = [Shutdown(Shutdown)], no_data = [Stop(Stop)] }, SCHEMA);

/// Decodes from text (as a transport does) and from a `Value`; both
/// must agree.
fn both<T: DeserializeOwned + std::fmt::Debug + PartialEq>(v: Value) -> Result<T, String> {
    let text = serde_json::to_string(&v).unwrap();
    let a = serde_json::from_str::<T>(&text).map_err(|e| e.to_string());
    let b = T::from_json(v).map_err(|e| e.to_string());
    match (a, b) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a, b);
            Ok(a)
        }
        (Err(a), Err(_)) => Err(a),
        (a, b) => panic!("text and value decodes disagree: {a:?} / {b:?}"),
    }
}

#[test]
fn unknown_members_are_ignored() {
    let m: Member = both(json!({"name": "a", "new": [1, {"x": 2}], "default": 3})).unwrap();
    assert_eq!(
        m,
        Member {
            name: "a".into(),
            default: Some(json!(3))
        }
    );
}

#[test]
fn rest_map_keeps_unknown_members() {
    let o: Open = both(json!({"a": 1, "driver": "file", "b": {"c": [true]}})).unwrap();
    assert_eq!(o.driver, "file");
    assert_eq!(Value::Object(o.extra), json!({"a": 1, "b": {"c": [true]}}));
}

#[test]
fn missing_and_duplicate_members_are_errors() {
    let e = both::<Member>(json!({"default": 1})).unwrap_err();
    assert!(e.contains("missing field `name`"), "{e}");
    let e = serde_json::from_str::<Member>(r#"{"name": "a", "name": "b"}"#).unwrap_err();
    assert!(e.to_string().contains("duplicate field `name`"), "{e}");
    let e = both::<Member>(json!(["name"])).unwrap_err();
    assert!(e.contains("expected an object (Member)"), "{e}");
}

#[test]
fn member_errors_have_a_path() {
    let e = Vec::<Member>::from_json(json!([{"name": "a"}, {"name": 5}])).unwrap_err();
    assert_eq!(e.path, "[1].name");
    assert!(e.message.contains("expected a string"), "{e}");
}

#[test]
fn enums_keep_unknown_values() {
    assert_eq!(both::<Meta>(json!("command")), Ok(Meta::Command));
    assert_eq!(
        both::<Meta>(json!("newer")),
        Ok(Meta::Unknown("newer".into()))
    );
    assert!(both::<Meta>(json!(1)).is_err());
    assert_eq!(Meta::ALL.len(), 3);
}

#[test]
fn union_with_the_discriminator_after_branch_members() {
    let v = json!({
        "name": "Foo",
        "members": [{"name": "a", "default": null}],
        "features": ["deprecated"],
        "meta-type": "object",
        "tag": "a",
        "unknown": {"x": 1}
    });
    let text = serde_json::to_string(&v).unwrap();
    // Keys in this order (`json!` sorts them): check the text does put
    // `members` first.
    assert!(text.find("members") < text.find("meta-type"));
    let i: Info = both(v).unwrap();
    assert_eq!(i.name, "Foo");
    assert_eq!(i.features, Some(vec!["deprecated".to_owned()]));
    assert_eq!(
        i.meta_type,
        InfoMetaType::Object(ObjectBranch {
            members: vec![Member {
                name: "a".into(),
                default: Some(Value::Null)
            }],
            tag: Some("a".into()),
        })
    );
    // Base members after the discriminator still go to the base.
    let i: Info = serde_json::from_str(
        r#"{"ret-type": "1", "meta-type": "command", "name": "q", "arg-type": "0"}"#,
    )
    .unwrap();
    assert_eq!(i.name, "q");
    assert_eq!(
        i.meta_type,
        InfoMetaType::Command(Box::new(CommandBranch {
            arg_type: "0".into(),
            ret_type: "1".into()
        }))
    );
    let i: Info = both(json!({"name": "int", "meta-type": "builtin", "json-type": "int"})).unwrap();
    assert_eq!(i.meta_type, InfoMetaType::Builtin);
}

#[test]
fn union_errors() {
    let e = both::<Info>(json!({"name": "x"})).unwrap_err();
    assert!(e.contains("missing field `meta-type`"), "{e}");
    let e = both::<Info>(json!({"meta-type": "builtin"})).unwrap_err();
    assert!(e.contains("missing field `name`"), "{e}");
    // A member kept aside before the discriminator is named.
    let e =
        both::<Info>(json!({"name": "c", "arg-type": 1, "meta-type": "command", "ret-type": "r"}))
            .unwrap_err();
    assert!(e.contains("arg-type"), "{e}");
    let e = serde_json::from_str::<Info>(
        r#"{"name": "c", "meta-type": "builtin", "meta-type": "object"}"#,
    )
    .unwrap_err();
    assert!(e.to_string().contains("duplicate field `meta-type`"), "{e}");
    // Read live after the discriminator: the path is known.
    let text = r#"{"meta-type": "object", "name": "o", "members": [{"name": 1}]}"#;
    let e =
        serde_path_to_error::deserialize::<_, Info>(&mut serde_json::Deserializer::from_str(text))
            .unwrap_err();
    assert_eq!(e.path().to_string(), "members[0].name");
    // Kept aside before it: the path is the union's, the message names
    // the member.
    let text = r#"{"members": [{"name": 1}], "meta-type": "object", "name": "o"}"#;
    let e =
        serde_path_to_error::deserialize::<_, Info>(&mut serde_json::Deserializer::from_str(text))
            .unwrap_err();
    assert_eq!(e.path().to_string(), ".");
    assert!(
        e.to_string()
            .contains("in member `members[0].name`: invalid type: integer `1`"),
        "{e}"
    );
}

#[test]
fn union_with_an_unknown_discriminator_keeps_its_members() {
    let i: Info =
        both(json!({"name": "n", "extra": [1], "meta-type": "module", "file": "f"})).unwrap();
    assert_eq!(i.name, "n");
    match i.meta_type {
        InfoMetaType::Unknown { value, members } => {
            assert_eq!(value, "module");
            assert_eq!(Value::Object(members), json!({"extra": [1], "file": "f"}));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn events() {
    let e: Event = both(json!({"event": "SHUTDOWN", "data": {"guest": true}, "timestamp": {"seconds": 1, "microseconds": 2}})).unwrap();
    assert_eq!(e, Event::Shutdown(Shutdown { guest: true }));
    // `data` before `event`.
    let e: Event =
        serde_json::from_str(r#"{"data": {"guest": false}, "event": "SHUTDOWN"}"#).unwrap();
    assert_eq!(e, Event::Shutdown(Shutdown { guest: false }));
    let e: Event = both(json!({"event": "STOP"})).unwrap();
    assert_eq!(e, Event::Stop(Stop));
    let e: Event = both(json!({"event": "NEW"})).unwrap();
    assert_eq!(
        e,
        Event::Unknown {
            name: "NEW".into(),
            data: Value::Null
        }
    );
    let e: Event = both(json!({"event": "NEW", "data": {"a": 1}})).unwrap();
    assert_eq!(
        e,
        Event::Unknown {
            name: "NEW".into(),
            data: json!({"a": 1})
        }
    );
    let e = both::<Event>(json!({"event": "SHUTDOWN"})).unwrap_err();
    assert!(e.contains("missing field `guest`"), "{e}");
    let text = r#"{"event": "SHUTDOWN", "data": {"guest": 1}, "timestamp": {"seconds": 1, "microseconds": 2}}"#;
    let e = serde_path_to_error::deserialize::<_, EventMessage<Event>>(
        &mut serde_json::Deserializer::from_str(text),
    )
    .unwrap_err();
    assert_eq!(e.path().to_string(), "data.guest");
    let m: EventMessage<Event> =
        both(json!({"timestamp": {"seconds": 1, "microseconds": 2}, "event": "STOP"})).unwrap();
    assert_eq!(
        m.timestamp,
        Timestamp {
            seconds: 1,
            microseconds: 2
        }
    );
    let e = both::<EventMessage<Event>>(json!({"event": "STOP"})).unwrap_err();
    assert!(e.contains("missing field `timestamp`"), "{e}");
}

/// Encodes with `Serialize` (straight to text) and with `ToJson`; both
/// must agree, and the text must decode to the same value.
fn encode<T: Serialize + ToJson + DeserializeOwned + std::fmt::Debug + PartialEq>(v: &T) -> String {
    let text = serde_json::to_string(v).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), v.to_json());
    assert_eq!(&serde_json::from_str::<T>(&text).unwrap(), v);
    text
}

#[test]
fn objects_encode_in_schema_order_straight_to_text() {
    let m = Member {
        name: "a".into(),
        default: None,
    };
    assert_eq!(encode(&m), r#"{"name":"a"}"#);
    let mut extra = Map::new();
    extra.insert("z".into(), json!(1));
    extra.insert("driver".into(), json!("dropped: the field wins"));
    let o = Open {
        driver: "file".into(),
        extra,
    };
    assert_eq!(
        serde_json::to_string(&o).unwrap(),
        r#"{"driver":"file","z":1}"#
    );
    assert_eq!(o.to_json(), json!({"driver": "file", "z": 1}));
    assert_eq!(encode(&Meta::Command), r#""command""#);
    assert_eq!(encode(&Meta::Unknown("newer".into())), r#""newer""#);
}

#[test]
fn unions_encode_base_discriminator_then_branch() {
    let i = Info {
        name: "Foo".into(),
        features: None,
        meta_type: InfoMetaType::Object(ObjectBranch {
            members: vec![Member {
                name: "a".into(),
                default: Some(Value::Null),
            }],
            tag: None,
        }),
    };
    assert_eq!(
        encode(&i),
        r#"{"name":"Foo","meta-type":"object","members":[{"name":"a","default":null}]}"#
    );
    let i = Info {
        name: "q".into(),
        features: Some(vec![]),
        meta_type: InfoMetaType::Command(Box::new(CommandBranch {
            arg_type: "0".into(),
            ret_type: "1".into(),
        })),
    };
    assert_eq!(
        encode(&i),
        r#"{"name":"q","features":[],"meta-type":"command","arg-type":"0","ret-type":"1"}"#
    );
    // An unknown branch's members, verbatim; a base member or the
    // discriminator among them is not written twice.
    let mut members = Map::new();
    members.insert("file".into(), json!("f"));
    members.insert("meta-type".into(), json!("object"));
    let i = Info {
        name: "n".into(),
        features: None,
        meta_type: InfoMetaType::Unknown {
            value: "module".into(),
            members,
        },
    };
    assert_eq!(
        serde_json::to_string(&i).unwrap(),
        r#"{"name":"n","meta-type":"module","file":"f"}"#
    );
}

#[test]
fn events_encode_as_an_envelope() {
    assert_eq!(
        serde_json::to_string(&Event::Shutdown(Shutdown { guest: true })).unwrap(),
        r#"{"event":"SHUTDOWN","data":{"guest":true}}"#
    );
    assert_eq!(
        serde_json::to_string(&Event::Stop(Stop)).unwrap(),
        r#"{"event":"STOP"}"#
    );
    let e = Event::Unknown {
        name: "NEW".into(),
        data: Value::Null,
    };
    assert_eq!(serde_json::to_string(&e).unwrap(), r#"{"event":"NEW"}"#);
    assert_eq!(e.to_json(), json!({"event": "NEW"}));
}
