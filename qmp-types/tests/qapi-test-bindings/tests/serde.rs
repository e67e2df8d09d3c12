//! Serde semantics of generated bindings, on QEMU's QAPI test schema:
//! every union and alternate shape, forward compatibility (unknown members,
//! enum values, union branches, events and commands), null handling,
//! integer ranges, name mangling, and exact wire names both ways.

use qapi_test_bindings::*;
use qmp_types::runtime::{Command, DecodeError, FromJson, Null, OobCommand};
use serde_json::{Value, json};

fn decode<T: FromJson>(v: Value) -> Result<T, DecodeError> {
    T::from_json(v)
}

/// Decodes through serde (as a transport would) and re-encodes.
fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug + PartialEq>(
    v: Value,
) -> T {
    let typed: T = serde_json::from_value(v.clone()).expect("decodes");
    assert_eq!(
        serde_json::to_value(&typed).unwrap(),
        v,
        "re-encodes to the same JSON"
    );
    let again: T = serde_json::from_value(serde_json::to_value(&typed).unwrap()).unwrap();
    assert_eq!(again, typed);
    typed
}

mod serde {
    pub use qmp_types::runtime::serde::*;
}

#[test]
fn struct_with_base_members_inlined() {
    let v = round_trip::<UserDefOne>(json!({"integer": 42, "string": "s", "enum1": "value2"}));
    assert_eq!(v.integer, 42);
    assert_eq!(v.string, "s");
    assert_eq!(v.enum1, Some(EnumOne::Value2));
}

#[test]
fn optional_members_absent_are_none_and_not_written() {
    let v = round_trip::<UserDefOne>(json!({"integer": 1, "string": "x"}));
    assert_eq!(v.enum1, None);
    assert!(
        !serde_json::to_value(&v)
            .unwrap()
            .as_object()
            .unwrap()
            .contains_key("enum1")
    );
}

#[test]
fn missing_mandatory_member_is_an_error_with_path() {
    let e = decode::<UserDefTwo>(
        json!({"string0": "a", "dict1": {"string1": "b", "dict2": {"string": "c"}}}),
    )
    .unwrap_err();
    assert_eq!(e.path, ".dict1.dict2");
    assert!(e.message.contains("userdef"), "{e}");
    let e =
        decode::<TestStruct>(json!({"integer": "1", "boolean": true, "string": "s"})).unwrap_err();
    assert_eq!(
        e.to_string(),
        "at `.integer`: invalid type: string \"1\", expected i64"
    );
}

#[test]
fn unknown_members_are_ignored() {
    let v: TestStruct = serde_json::from_value(
        json!({"integer": 1, "boolean": true, "string": "s", "added-in-qemu-99": [1, 2]}),
    )
    .unwrap();
    assert_eq!(v, TestStruct::new(1, true, "s"));
}

#[test]
fn enums_keep_unknown_values() {
    assert_eq!(EnumOne::ALL.len(), 4);
    assert_eq!(EnumOne::Value3.as_str(), "value3");
    assert_eq!("value1".parse::<EnumOne>(), Ok(EnumOne::Value1));
    assert_eq!(EnumOne::Value4.to_string(), "value4");
    let v = round_trip::<EnumOne>(json!("value-from-the-future"));
    assert_eq!(v, EnumOne::Unknown("value-from-the-future".into()));
    assert!(decode::<EnumOne>(json!(1)).is_err());
    // An enum with no values at all still decodes (to the fallback).
    assert_eq!(
        round_trip::<MyEnum>(json!("x")),
        MyEnum::Unknown("x".into())
    );
}

#[test]
fn downstream_names_and_clashing_members() {
    let v = round_trip::<OrgQemuXStruct>(json!({
        "__org.qemu_x-member1": "__org.qemu_x-value",
        "__org.qemu_x-member2": "m2",
        "wchar-t": 3
    }));
    assert_eq!(v.org_qemu_x_member1, OrgQemuXEnum::OrgQemuXValue);
    assert_eq!(v.org_qemu_x_member2, "m2");
    assert_eq!(v.wchar_t, Some(3));
    // `a_b` and `a-b` live in different structs here; both keep their wire name.
    let a = round_trip::<UserDefA>(json!({"boolean": true, "a_b": 5}));
    assert_eq!(a.a_b, Some(5));
    let b = round_trip::<UserDefB>(json!({"intb": 1, "a-b": false}));
    assert_eq!(b.a_b, Some(false));
}

#[test]
fn flat_union_branches() {
    let v = round_trip::<UserDefFlatUnion>(json!({
        "integer": 1, "string": "s", "enum1": "value1", "boolean": true, "a_b": 2
    }));
    assert_eq!(v.integer, 1);
    match &v.enum1 {
        UserDefFlatUnionEnum1::Value1(a) => assert_eq!((a.boolean, a.a_b), (true, Some(2))),
        other => panic!("wrong branch {other:?}"),
    }
    let v = round_trip::<UserDefFlatUnion>(json!({
        "integer": 1, "string": "s", "enum1": "value3", "intb": 7
    }));
    assert!(matches!(&v.enum1, UserDefFlatUnionEnum1::Value3(b) if b.intb == 7));
    // A value without a branch.
    let v = round_trip::<UserDefFlatUnion>(json!({"integer": 1, "string": "s", "enum1": "value4"}));
    assert_eq!(v.enum1, UserDefFlatUnionEnum1::Value4);
    assert_eq!(v.enum1.as_str(), "value4");
}

#[test]
fn flat_union_unknown_discriminator_keeps_members() {
    let json = json!({"integer": 1, "string": "s", "enum1": "value9", "new": {"x": 1}});
    let v = round_trip::<UserDefFlatUnion>(json);
    match &v.enum1 {
        UserDefFlatUnionEnum1::Unknown { value, members } => {
            assert_eq!(value, "value9");
            assert_eq!(members.get("new"), Some(&json!({"x": 1})));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn union_of_unions_and_inline_base() {
    let v = round_trip::<TestUnionInUnion>(json!({
        "type": "value-a", "type-a": "value-a2", "integer": 3, "size": 4
    }));
    match v.r#type {
        TestUnionInUnionType::ValueA(inner) => match inner.type_a {
            TestUnionTypeATypeA::ValueA2(a2) => assert_eq!((a2.integer, a2.size), (3, 4)),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    let v = round_trip::<UserDefFlatUnion2>(json!({
        "string": "s", "enum1": "value1", "string1": "a", "string2": "b"
    }));
    assert_eq!(v.integer, None);
}

#[test]
fn alternates_decode_by_json_type() {
    let v = round_trip::<UserDefAlternate>(json!("value1"));
    assert_eq!(v, UserDefAlternate::E(EnumOne::Value1));
    let v = round_trip::<UserDefAlternate>(json!(7));
    assert_eq!(v, UserDefAlternate::I(7));
    let v = round_trip::<UserDefAlternate>(json!(null));
    assert_eq!(v, UserDefAlternate::N(Null));
    let v = round_trip::<UserDefAlternate>(json!({"integer": 1, "string": "s", "enum1": "value4"}));
    assert!(matches!(v, UserDefAlternate::Udfu(_)));
    let e = decode::<UserDefAlternate>(json!(true)).unwrap_err();
    assert!(e.message.contains("expected one of"), "{e}");

    assert_eq!(
        round_trip::<AltEnumBool>(json!(false)),
        AltEnumBool::B(false)
    );
    assert_eq!(round_trip::<AltEnumNum>(json!(2.5)), AltEnumNum::N(2.5));
    // An integer is a fine `number`.
    assert_eq!(decode::<AltNumEnum>(json!(2)).unwrap(), AltNumEnum::N(2.0));
    assert_eq!(round_trip::<AltEnumInt>(json!(-3)), AltEnumInt::I(-3));
    assert!(decode::<AltEnumInt>(json!(1.5)).is_err());
    assert_eq!(
        round_trip::<AltListInt>(json!([1, 2])),
        AltListInt::L(vec![1, 2])
    );
    assert_eq!(
        round_trip::<AltStrObj>(json!("s")),
        AltStrObj::S("s".into())
    );
    assert!(matches!(
        round_trip::<AltStrObj>(json!({"integer": 1, "boolean": false, "string": ""})),
        AltStrObj::O(_)
    ));
}

#[test]
fn integer_ranges_are_enforced_on_decode() {
    let ok = json!({
        "integer": [i64::MIN, i64::MAX], "s8": [-128, 127], "s16": [-32768, 32767],
        "s32": [i32::MIN, i32::MAX], "s64": [i64::MIN], "u8": [0, 255], "u16": [65535],
        "u32": [u32::MAX], "u64": [u64::MAX], "number": [1.5, -0.0, 3], "boolean": [true],
        "string": ["a"], "sz": [u64::MAX], "any": [null, {"x": []}]
    });
    let v: ArrayStruct = serde_json::from_value(ok).unwrap();
    assert_eq!(v.u64, vec![u64::MAX]);
    assert_eq!(v.number, vec![1.5, -0.0, 3.0]);
    assert_eq!(v.any, Some(vec![Value::Null, json!({"x": []})]));
    let base = |k: &str, x: Value| {
        let mut o = json!({
            "integer": [], "s8": [], "s16": [], "s32": [], "s64": [], "u8": [], "u16": [],
            "u32": [], "u64": [], "number": [], "boolean": [], "string": []
        });
        o[k] = json!([x]);
        decode::<ArrayStruct>(o)
    };
    for (k, bad) in [
        ("s8", json!(128)),
        ("s8", json!(-129)),
        ("u8", json!(256)),
        ("u8", json!(-1)),
        ("s16", json!(40000)),
        ("u32", json!(u64::from(u32::MAX) + 1)),
        ("u64", json!(-1)),
        ("integer", json!(u64::MAX)),
        ("integer", json!(1.0)),
        ("sz", json!(-5)),
        ("number", json!("1")),
    ] {
        let e = base(k, bad.clone()).unwrap_err();
        assert_eq!(e.path, format!(".{k}[0]"), "{k} = {bad}: {e}");
    }
    // Larger than u64: serde_json reads it as a float, which is no integer.
    let big: Value = serde_json::from_str("18446744073709551616").unwrap();
    assert!(base("u64", big).is_err());
}

#[test]
fn commands_know_their_metadata() {
    assert_eq!(UserDefCmd2::NAME, "user-def-cmd2");
    const { assert!(!CmdSuccessResponse::SUCCESS_RESPONSE) };
    const { assert!(TestFlagsCommand::ALLOW_OOB) };
    fn oob<C: OobCommand>() {}
    oob::<TestFlagsCommand>();
    let _: Option<<GuestGetTime as Command>::Returns> = Some(5i64);
    let _: Option<<UserDefCmd as Command>::Returns> = Some(qmp_types::Empty {});
    assert_eq!(
        TestIfCmd::CONDITION,
        Some("all(TEST_IF_CMD, TEST_IF_STRUCT)")
    );
    assert_eq!(TestFeatures0::FEATURES, &[] as &[&str]);
    // Types carry the same facts.
    assert_eq!(TestIfStruct::CONDITION, Some("TEST_IF_STRUCT"));
    assert_eq!(TestIfEnum::CONDITION, Some("TEST_IF_UNION"));
    assert_eq!(FeatureStruct1::FEATURES, &["feature1"]);
    assert_eq!(FeatureStruct1::SINCE, None);
    assert!(
        COMMANDS
            .iter()
            .any(|c| c.name == "test-flags-command" && c.allow_preconfig)
    );
    assert!(
        EVENTS
            .iter()
            .any(|e| e.name == "EVENT_A" && e.data.is_none())
    );
}

#[test]
fn requests_serialize_to_execute_and_arguments() {
    let r = Request::from(GuestGetTime::new(1));
    assert_eq!(
        serde_json::to_value(&r).unwrap(),
        json!({"execute": "guest-get-time", "arguments": {"a": 1}})
    );
    let r = Request::from(UserDefCmd);
    assert_eq!(
        serde_json::to_value(&r).unwrap(),
        json!({"execute": "user-def-cmd"})
    );
    let boxed = BoxedStruct(UserDefZero::new(3));
    assert_eq!(serde_json::to_value(&boxed).unwrap(), json!({"integer": 3}));
    // Requests decode too (a proxy or a test server reads them).
    let back: Request =
        serde_json::from_value(json!({"execute": "guest-sync", "arguments": {"arg": [1]}}))
            .unwrap();
    assert_eq!(back, Request::GuestSync(GuestSync::new(json!([1]))));
    let unknown: Request = serde_json::from_value(json!({"execute": "x-new"})).unwrap();
    assert_eq!(unknown.name(), "x-new");
    // Typed replies.
    let resp = back.decode_return(json!({"any": "thing"})).unwrap();
    assert_eq!(resp, Response::GuestSync(json!({"any": "thing"})));
    assert!(
        Request::from(GuestGetTime::new(1))
            .decode_return(json!("x"))
            .is_err()
    );
}

#[test]
fn events_decode_with_unknown_fallback() {
    use qmp_types::EventMessage;
    let msg = json!({
        "event": "EVENT_C", "data": {"c": "x", "future": 1},
        "timestamp": {"seconds": 1, "microseconds": 2}
    });
    let m: EventMessage<Event> = serde_json::from_value(msg).unwrap();
    assert_eq!(m.timestamp.seconds, 1);
    assert_eq!(m.event.name(), "EVENT_C");
    assert!(matches!(&m.event, Event::EventC(c) if c.c == "x" && c.a.is_none()));
    // Data-less events carry no `data` on the wire.
    let a = json!({"event": "EVENT_A", "timestamp": {"seconds": -1, "microseconds": -1}});
    let m: EventMessage<Event> = serde_json::from_value(a.clone()).unwrap();
    assert_eq!(serde_json::to_value(&m).unwrap(), a);
    // Boxed union data.
    let f = json!({"event": "EVENT_F", "data": {"integer": 1, "string": "s", "enum1": "value4"}});
    assert!(matches!(round_trip::<Event>(f), Event::EventF(_)));
    // Unknown events keep their data.
    let u = json!({"event": "NEW_EVENT", "data": {"k": [1]}});
    let e = round_trip::<Event>(u);
    assert_eq!(
        e,
        Event::Unknown {
            name: "NEW_EVENT".into(),
            data: json!({"k": [1]})
        }
    );
}

#[test]
fn json_schemas_come_from_the_embedded_document() {
    let schema = qmp_types::runtime::schemars::schema_for!(UserDefFlatUnion);
    let v = schema.as_value();
    let defs = v.get("$defs").expect("definitions");
    assert!(
        defs.get("UserDefA").is_some() && defs.get("EnumOne").is_some(),
        "{v}"
    );
    assert_eq!(v["properties"]["integer"]["type"], "integer");
    let doc: Value = serde_json::from_str(SCHEMA_JSON).unwrap();
    assert_eq!(
        doc["commands"]["guest-get-time"]["returns"]["type"],
        "integer"
    );
}
