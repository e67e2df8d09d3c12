//! Property tests of the sans-io core: routing under any reply order, and
//! chunking invariance of the decoder (valid and arbitrary input).

use proptest::prelude::*;
use qmp_client::Limits;
use qmp_client::proto::{Connection, ExecOptions, Output, ProtoConfig};

const GREETING: &str = r#"{"QMP": {"version": {"qemu": {"micro": 2, "minor": 0, "major": 10}, "package": ""}, "capabilities": ["oob"]}}"#;

fn ready() -> Connection {
    let mut c = Connection::new(ProtoConfig::default());
    c.handle_input(GREETING.as_bytes());
    let t = c.poll_transmit().unwrap();
    assert_eq!(t.data, br#"{"execute":"qmp_capabilities","id":1}"#);
    c.handle_input(b"{\"return\": {}, \"id\": 1}\r\n");
    assert!(matches!(c.poll_output(), Some(Output::Ready(Some(_)))));
    c
}

fn outputs(c: &mut Connection) -> Vec<String> {
    let mut v = Vec::new();
    while let Some(o) = c.poll_output() {
        v.push(format!("{o:?}"));
    }
    v
}

/// Feeds `input` split at `cuts` and returns everything produced.
fn feed_chunked(input: &[u8], cuts: &[usize], limits: Limits) -> Vec<String> {
    let mut c = Connection::new(ProtoConfig {
        limits,
        ..ProtoConfig::default()
    });
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    cuts.sort_unstable();
    let mut prev = 0;
    for cut in cuts.into_iter().chain([input.len()]) {
        c.handle_input(&input[prev..cut]);
        prev = cut;
    }
    c.handle_eof();
    while c.poll_transmit().is_some() {}
    outputs(&mut c)
}

fn message_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u64..100, "[a-z]{0,8}").prop_map(|(id, s)| format!(
            "{{\"return\": {{\"s\": \"{s}\\\"}}{{\", \"n\": [1, {{}}]}}, \"id\": {id}}}\r\n"
        )),
        (0u64..100).prop_map(|id| format!(
            "{{\n  \"id\": {id},\n  \"error\": {{\n    \"class\": \"GenericError\",\n    \"desc\": \"x\\ny\"\n  }}\n}}\n"
        )),
        "[A-Z_]{1,12}".prop_map(|n| format!(
            "{{\"event\": \"{n}\", \"data\": {{\"a\": \"\\u00e9\"}}, \"timestamp\": {{\"seconds\": 1, \"microseconds\": 2}}}}\r\n"
        )),
        Just("  \r\n\t".to_owned()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Any permutation of N replies reaches the right N callers.
    #[test]
    fn replies_route_by_id_in_any_order(order in Just((0..24u64).collect::<Vec<_>>()).prop_shuffle(),
                                        events in proptest::collection::vec(any::<bool>(), 24)) {
        let mut c = ready();
        let mut ids = Vec::new();
        for n in 0..24u64 {
            let id = c.execute("echo", &serde_json::json!({"n": n}), ExecOptions { expect_reply: true, ..Default::default() }).unwrap();
            ids.push(id);
        }
        let mut wire = String::new();
        for (k, n) in order.iter().enumerate() {
            if events[k] {
                wire += "{\"event\": \"TICK\", \"timestamp\": {\"seconds\": 0, \"microseconds\": 0}}\r\n";
            }
            wire += &format!("{{\"return\": {n}, \"id\": {}}}\r\n", ids[*n as usize]);
        }
        c.handle_input(wire.as_bytes());
        let mut got = 0;
        while let Some(o) = c.poll_output() {
            if let Output::Reply { id, result } = o {
                let n = ids.iter().position(|i| *i == id).unwrap() as u64;
                let v: u64 = result.unwrap().decode("echo").unwrap();
                prop_assert_eq!(v, n);
                got += 1;
            }
        }
        prop_assert_eq!(got, 24);
        prop_assert_eq!(c.pending(), 0);
    }

    /// Any chunking of a valid stream yields the same messages.
    #[test]
    fn chunking_of_valid_stream_is_invisible(msgs in proptest::collection::vec(message_strategy(), 0..20),
                                             cuts in proptest::collection::vec(any::<usize>(), 0..40)) {
        let mut input = format!("{GREETING}\r\n{{\"return\": {{}}, \"id\": 1}}\r\n");
        for m in &msgs {
            input += m;
        }
        let whole = feed_chunked(input.as_bytes(), &[], Limits::default());
        let chunked = feed_chunked(input.as_bytes(), &cuts, Limits::default());
        prop_assert_eq!(&whole, &chunked);
        let singles: Vec<usize> = (0..input.len()).collect();
        let bytewise = feed_chunked(input.as_bytes(), &singles, Limits::default());
        prop_assert_eq!(&whole, &bytewise);
        let events = msgs.iter().filter(|m| m.contains("\"event\"")).count();
        prop_assert_eq!(whole.iter().filter(|o| o.starts_with("Event")).count(), events);
    }

    /// Arbitrary bytes: no panic, and the same outcome however chunked.
    #[test]
    fn arbitrary_bytes_never_panic_and_chunking_is_invisible(
        prefix in any::<bool>(),
        bytes in proptest::collection::vec(prop_oneof![
            Just(b'{'), Just(b'}'), Just(b'['), Just(b']'), Just(b'"'), Just(b'\\'),
            Just(b':'), Just(b','), Just(b'\n'), Just(0xFFu8), any::<u8>()], 0..300),
        cuts in proptest::collection::vec(any::<usize>(), 0..20),
        depth in 1usize..6, size in 8usize..200) {
        let mut input = Vec::new();
        if prefix {
            input.extend_from_slice(GREETING.as_bytes());
        }
        input.extend_from_slice(&bytes);
        let limits = Limits { max_message_bytes: size.max(GREETING.len()), max_depth: depth };
        let whole = feed_chunked(&input, &[], limits);
        let chunked = feed_chunked(&input, &cuts, limits);
        prop_assert_eq!(whole, chunked);
    }
}

#[derive(Debug, Clone)]
enum Act {
    Execute,
    Cancel(usize),
    Reply(usize),
    ErrorReply(usize),
    UnknownReply(u64),
    Event,
    Garbage,
    Eof,
}

fn act() -> impl Strategy<Value = Act> {
    prop_oneof![
        4 => Just(Act::Execute),
        1 => any::<usize>().prop_map(Act::Cancel),
        3 => any::<usize>().prop_map(Act::Reply),
        1 => any::<usize>().prop_map(Act::ErrorReply),
        1 => (1000u64..2000).prop_map(Act::UnknownReply),
        2 => Just(Act::Event),
        1 => Just(Act::Garbage),
        1 => Just(Act::Eof),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// A random session: every command gets exactly one outcome unless it
    /// was cancelled first; no outcome ever goes to an id that was not
    /// pending; after a close every pending command has its error.
    #[test]
    fn session_outcomes_are_exact(acts in proptest::collection::vec(act(), 1..80)) {
        let mut c = ready();
        let mut ids: Vec<u64> = Vec::new();
        let mut pending: std::collections::BTreeSet<u64> = Default::default();
        let mut outcomes: std::collections::BTreeMap<u64, usize> = Default::default();
        let mut closed = false;
        for a in acts {
            match a {
                Act::Execute => match c.execute("x", &(), ExecOptions { expect_reply: true, ..Default::default() }) {
                    Ok(id) => {
                        prop_assert!(!closed);
                        ids.push(id);
                        pending.insert(id);
                    }
                    Err(_) => prop_assert!(closed),
                },
                Act::Cancel(i) if !ids.is_empty() => {
                    let id = ids[i % ids.len()];
                    let was = c.cancel(id);
                    prop_assert_eq!(was, pending.remove(&id));
                }
                Act::Reply(i) | Act::ErrorReply(i) if !ids.is_empty() => {
                    let id = ids[i % ids.len()];
                    let msg = if matches!(a, Act::Reply(_)) {
                        format!("{{\"return\": {id}, \"id\": {id}}}\r\n")
                    } else {
                        format!("{{\"error\": {{\"class\": \"GenericError\", \"desc\": \"e\"}}, \"id\": {id}}}\r\n")
                    };
                    c.handle_input(msg.as_bytes());
                }
                Act::UnknownReply(id) => c.handle_input(format!("{{\"return\": 0, \"id\": {id}}}").as_bytes()),
                Act::Event => c.handle_input(b"{\"event\": \"E\", \"timestamp\": {\"seconds\": 1, \"microseconds\": 1}}"),
                Act::Garbage => c.handle_input(b"]"),
                Act::Eof => c.handle_eof(),
                _ => {}
            }
            while let Some(o) = c.poll_output() {
                match o {
                    Output::Reply { id, result } => {
                        prop_assert!(pending.remove(&id), "outcome for non-pending id {}", id);
                        *outcomes.entry(id).or_default() += 1;
                        if let Ok(r) = result {
                            prop_assert_eq!(r.json(), id.to_string());
                        }
                    }
                    Output::Closed(_) => {
                        prop_assert!(pending.is_empty(), "pending after close: {:?}", pending);
                        closed = true;
                    }
                    _ => {}
                }
            }
            prop_assert_eq!(c.pending(), pending.len());
        }
        prop_assert!(outcomes.values().all(|n| *n == 1));
    }
}
