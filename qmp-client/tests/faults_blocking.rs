//! Fault suite for the blocking transport: a scripted fake server on the
//! other end of `UnixStream::pair()` in a thread. Every test runs under a
//! watchdog: no hang, no panic, the right value or a typed error.

mod common;

use std::os::unix::net::UnixStream;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use common::std_server::Server;
use common::*;
use qmp_client::blocking::Qmp;
use qmp_client::{Builder, Error, EventError, TimeoutKind};
use qmp_types::ClientBlocking;
use serde_json::json;

fn bounded(f: impl FnOnce() + Send + 'static) {
    let (tx, rx) = mpsc::channel();
    let h = thread::spawn(move || {
        f();
        let _ = tx.send(());
    });
    match rx.recv_timeout(Duration::from_secs(10)) {
        Ok(()) => h.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            // The body panicked: re-raise it.
            if let Err(p) = h.join() {
                std::panic::resume_unwind(p);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("test hung"),
    }
}

fn quick() -> Builder {
    Builder::new().handshake_timeout(Some(Duration::from_secs(2)))
}

fn pair(builder: Builder, script: impl FnOnce(Server) + Send + 'static) -> Result<Qmp, Error> {
    let (c, s) = UnixStream::pair().unwrap();
    thread::spawn(move || script(Server::new(s)));
    builder.connect_blocking(c)
}

/// Generic code over the runtime trait, as generated extension traits are.
fn status_of<C: ClientBlocking>(c: &C) -> Result<StatusInfo, C::Error> {
    c.execute(QueryStatus)
}

#[test]
fn typed_call_via_trait() {
    bounded(|| {
        let c = pair(quick(), |mut s| {
            s.handshake();
            let cmd = s.recv().unwrap();
            assert!(cmd.get("arguments").is_none());
            s.reply(&cmd, json!({"running": true, "status": "running"}));
            s.recv();
        })
        .unwrap();
        assert_eq!(c.greeting().unwrap().version.qemu.major, 10);
        assert!(status_of(&c).unwrap().running);
    });
}

#[test]
fn greeting_garbage() {
    bounded(|| {
        let e = pair(quick(), |mut s| {
            s.send("\u{1}\u{2}garbage\r\n");
            thread::sleep(Duration::from_secs(3));
        })
        .unwrap_err();
        assert!(matches!(e, Error::Greeting(_)), "{e:?}");
    });
}

#[test]
fn greeting_timeout() {
    bounded(|| {
        let e = pair(
            Builder::new().handshake_timeout(Some(Duration::from_millis(150))),
            |s| {
                let _s = s;
                thread::sleep(Duration::from_secs(3));
            },
        )
        .unwrap_err();
        assert!(matches!(e, Error::Timeout(TimeoutKind::Handshake)), "{e:?}");
    });
}

#[test]
fn negotiation_error() {
    bounded(|| {
        let e = pair(quick(), |mut s| {
            s.send(GREETING);
            let cmd = s.recv().unwrap();
            s.error(&cmd, "CommandNotFound", "nope");
            s.recv();
        })
        .unwrap_err();
        assert!(matches!(e, Error::Negotiation(_)), "{e:?}");
    });
}

#[test]
fn eof_mid_reply() {
    bounded(|| {
        let c = pair(quick(), |mut s| {
            s.handshake();
            s.recv().unwrap();
            s.send("{\"id\": 2, \"return\": {\"runn");
        })
        .unwrap();
        let e = c.call(QueryStatus).unwrap_err();
        assert!(matches!(e, Error::Disconnected { partial: true }), "{e:?}");
        let e = c.call(QueryStatus).unwrap_err();
        assert!(matches!(e, Error::Disconnected { .. }), "{e:?}");
    });
}

#[test]
fn unknown_ids_and_decode_errors() {
    bounded(|| {
        let c = pair(quick(), |mut s| {
            s.handshake();
            let cmd = s.recv().unwrap();
            s.send("{\"return\": 3, \"id\": 77}\r\n{\"return\": 3, \"id\": [2]}\r\n");
            s.reply(&cmd, json!({"running": 1}));
            let cmd = s.recv().unwrap();
            s.reply(&cmd, json!({"running": false, "status": "paused"}));
            s.recv();
        })
        .unwrap();
        let e = c.call(QueryStatus).unwrap_err();
        assert!(matches!(e, Error::Decode { .. }), "{e:?}");
        assert_eq!(c.call(QueryStatus).unwrap().status, "paused");
        assert_eq!(c.stats().unknown_replies, 2);
    });
}

#[test]
fn pipelining_across_threads_with_permuted_replies() {
    bounded(|| {
        const N: u64 = 16;
        let c = pair(quick(), |mut s| {
            s.handshake();
            let mut cmds = Vec::new();
            for _ in 0..N {
                cmds.push(s.recv().unwrap());
            }
            // Reply in a scrambled order, events in between.
            cmds.sort_by_key(|c| (c["arguments"]["n"].as_u64().unwrap() * 7) % N);
            for cmd in &cmds {
                s.send(&event("TICK", Some(json!({"n": cmd["arguments"]["n"]}))));
                s.reply(cmd, cmd["arguments"]["n"].clone());
            }
            s.recv();
        })
        .unwrap();
        let handles: Vec<_> = (0..N)
            .map(|n| {
                let c = c.clone();
                thread::spawn(move || c.call(Echo { n }).unwrap())
            })
            .collect();
        for (n, h) in handles.into_iter().enumerate() {
            assert_eq!(h.join().unwrap(), n as u64);
        }
        let mut seen = Vec::new();
        let mut events = c.typed_events::<TestEvent>();
        for _ in 0..N {
            match events.next().unwrap().unwrap().event {
                TestEvent::Tick { data } => seen.push(data.n),
                other => panic!("{other:?}"),
            }
        }
        let expected: Vec<u64> = {
            let mut v: Vec<u64> = (0..N).collect();
            v.sort_by_key(|n| (n * 7) % N);
            v
        };
        assert_eq!(seen, expected, "events in arrival order");
    });
}

#[test]
fn event_flood_lag_and_close() {
    bounded(|| {
        let c = pair(quick().event_capacity(8), |mut s| {
            s.handshake();
            let cmd = s.recv().unwrap();
            let mut all = String::new();
            for i in 0..1000 {
                all += &event("TICK", Some(json!({"n": i})));
            }
            s.send(&all);
            s.reply(&cmd, json!(1));
            // Then close.
        })
        .unwrap();
        assert_eq!(c.call(Echo { n: 1 }).unwrap(), 1);
        let mut events = c.events();
        match events.next().unwrap() {
            Err(EventError::Lagged(n)) => assert_eq!(n, 992),
            other => panic!("{other:?}"),
        }
        for i in 992..1000 {
            let ev = events.next().unwrap().unwrap();
            assert_eq!(ev.data_json().unwrap(), format!("{{\"n\":{i}}}"));
        }
        assert!(matches!(events.next(), Some(Err(EventError::Closed(_)))));
        assert!(events.next().is_none());
    });
}

#[test]
fn event_wait_times_out() {
    bounded(|| {
        let c = pair(quick(), |mut s| {
            s.handshake();
            s.recv();
        })
        .unwrap();
        let mut events = c.events();
        let e = events.next_timeout(Duration::from_millis(100)).unwrap_err();
        assert!(matches!(e, Error::Timeout(TimeoutKind::Event)), "{e:?}");
    });
}

#[test]
fn reply_timeout_then_late_reply_dropped() {
    bounded(|| {
        let c = pair(quick(), |mut s| {
            s.handshake();
            let a = s.recv().unwrap();
            let b = s.recv().unwrap();
            s.reply(&a, json!(100));
            s.reply(&b, json!(2));
            s.recv();
        })
        .unwrap();
        let e = c
            .request(Echo { n: 1 })
            .timeout(Duration::from_millis(100))
            .send()
            .unwrap_err();
        assert!(matches!(e, Error::Timeout(TimeoutKind::Reply)), "{e:?}");
        assert_eq!(c.call(Echo { n: 2 }).unwrap(), 2);
        assert_eq!(c.stats().unknown_replies, 1);
    });
}

#[test]
fn idless_error_server_parse() {
    bounded(|| {
        let c = pair(quick(), |mut s| {
            s.handshake();
            s.recv().unwrap();
            s.send(
                "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error\"}}\r\n",
            );
            s.recv();
        })
        .unwrap();
        let e = c.call(Stop).unwrap_err();
        assert!(matches!(e, Error::ServerParse(_)), "{e:?}");
    });
}

#[test]
fn limits() {
    bounded(|| {
        let c = pair(quick().max_message_bytes(300), |mut s| {
            s.handshake();
            let cmd = s.recv().unwrap();
            s.reply(&cmd, json!("y".repeat(400)));
            s.recv();
        })
        .unwrap();
        let e = c.call_raw("x", None).unwrap_err();
        assert!(matches!(e, Error::MessageTooLarge { limit: 300 }), "{e:?}");
        let c = pair(quick().max_depth(10), |mut s| {
            s.handshake();
            s.recv().unwrap();
            s.send(&format!("{{\"return\": {}", "{\"a\":".repeat(20)));
            s.recv();
        })
        .unwrap();
        let e = c.call_raw("x", None).unwrap_err();
        assert!(matches!(e, Error::TooDeep { limit: 10 }), "{e:?}");
    });
}

#[test]
fn write_to_closed_server_is_typed() {
    bounded(|| {
        let c = pair(quick(), |mut s| {
            s.handshake();
        })
        .unwrap();
        thread::sleep(Duration::from_millis(50));
        let e = c.call(Stop).unwrap_err();
        assert!(
            matches!(e, Error::Io { .. } | Error::Disconnected { .. }),
            "{e:?}"
        );
    });
}

#[test]
fn fd_passing_over_unix_socket() {
    use std::io::{Read, Write};
    use std::mem::MaybeUninit;
    use std::os::fd::OwnedFd;

    bounded(|| {
        let (c, s) = UnixStream::pair().unwrap();
        let srv = thread::spawn(move || {
            let mut s = Server::new(s);
            s.handshake();
            // Receive the command with its descriptor.
            let mut buf = [0u8; 4096];
            let mut space = [MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(1))];
            let mut cmsg = rustix::net::RecvAncillaryBuffer::new(&mut space);
            let mut iov = [std::io::IoSliceMut::new(&mut buf)];
            let r =
                rustix::net::recvmsg(&s.io, &mut iov, &mut cmsg, rustix::net::RecvFlags::empty())
                    .unwrap();
            let n = r.bytes;
            let mut fds: Vec<OwnedFd> = Vec::new();
            for m in cmsg.drain() {
                if let rustix::net::RecvAncillaryMessage::ScmRights(r) = m {
                    fds.extend(r);
                }
            }
            let cmd: serde_json::Value = serde_json::from_slice(&buf[..n]).unwrap();
            assert_eq!(cmd["execute"], "getfd");
            assert_eq!(fds.len(), 1);
            let mut f = std::fs::File::from(fds.pop().unwrap());
            f.write_all(b"through the socket").unwrap();
            drop(f);
            s.reply(&cmd, json!({}));
            s.recv();
        });
        let c = quick().connect_blocking(c).unwrap();
        let (mut rd, wr) = std::io::pipe().unwrap();
        c.request_raw("getfd", Some(json!({"fdname": "f"})))
            .fds(vec![OwnedFd::from(wr)])
            .send()
            .unwrap();
        let mut got = String::new();
        rd.read_to_string(&mut got).unwrap();
        assert_eq!(got, "through the socket");
        c.close();
        srv.join().unwrap();
    });
}

#[test]
fn guest_agent_mode() {
    bounded(|| {
        let c = pair(quick().guest_agent(), |mut s| {
            s.send("{\"error\": {\"class\": \"GenericError\", \"desc\": \"stale\"}}\r\n");
            let sync = s.recv().unwrap();
            assert_eq!(sync["execute"], "guest-sync-delimited");
            s.send_bytes(b"\xff");
            s.reply(&sync, sync["arguments"]["id"].clone());
            let cmd = s.recv().unwrap();
            s.reply(&cmd, json!({}));
            s.recv();
        })
        .unwrap();
        c.call_raw("guest-ping", None).unwrap();
    });
}

/// Single-thread pipelining: the server collects `batch` commands, then
/// answers them in a scrambled order (some with errors, events between).
fn permuting_server(total: usize, batch: usize, salt: u64) -> impl FnOnce(Server) + Send + 'static {
    move |mut s| {
        s.handshake();
        let mut got = 0;
        while got < total {
            let k = batch.min(total - got);
            let mut cmds = Vec::new();
            for _ in 0..k {
                match s.recv() {
                    Some(c) => cmds.push(c),
                    None => return,
                }
            }
            got += k;
            cmds.sort_by_key(|c| c["arguments"]["n"].as_u64().unwrap().wrapping_mul(salt) % 97);
            for cmd in &cmds {
                let n = cmd["arguments"]["n"].as_u64().unwrap();
                s.send(&event("TICK", Some(json!({ "n": n }))));
                if n % 5 == 3 {
                    s.error(cmd, "GenericError", &format!("no {n}"));
                } else {
                    s.reply(cmd, json!(n * 10));
                }
            }
        }
        s.recv();
    }
}

fn check_results(results: &[Result<u64, Error>], first: u64) {
    for (i, r) in results.iter().enumerate() {
        let n = first + i as u64;
        if n % 5 == 3 {
            match r {
                Err(Error::Qmp(e)) => assert_eq!(e.desc, format!("no {n}")),
                other => panic!("{n}: {other:?}"),
            }
        } else {
            assert_eq!(r.as_ref().unwrap(), &(n * 10), "result of command {n}");
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

    /// `call_many` returns every result matched to its command, in
    /// order, whatever the window and the server's reply order; every
    /// event still reaches the event queue.
    #[test]
    fn call_many_matches_results_to_commands(
        total in 1usize..60,
        window in 1usize..12,
        salt in 1u64..1000,
    ) {
        bounded(move || {
            let c = pair(quick().event_capacity(1024), permuting_server(total, window, salt)).unwrap();
            let results = c.call_many((0..total as u64).map(|n| Echo { n }), window);
            assert_eq!(results.len(), total);
            check_results(&results, 0);
            let mut events = c.typed_events::<TestEvent>();
            let mut seen = Vec::new();
            for _ in 0..total {
                match events.next().unwrap().unwrap().event {
                    TestEvent::Tick { data } => seen.push(data.n),
                    other => panic!("{other:?}"),
                }
            }
            seen.sort_unstable();
            assert_eq!(seen, (0..total as u64).collect::<Vec<_>>());
        });
    }
}

#[test]
fn call_many_results_in_order_whatever_the_reply_order() {
    bounded(|| {
        let c = pair(quick(), permuting_server(8, 8, 31)).unwrap();
        let results = c.call_many((0..8).map(|n| Echo { n }), 8);
        check_results(&results, 0);
        assert_eq!(c.stats().unknown_replies, 0);
    });
}

#[test]
fn pipeline_mixed_with_execute_from_other_threads() {
    bounded(|| {
        // Echoes every command as it comes, with an event before each reply.
        let c = pair(quick().event_capacity(4096), |mut s| {
            s.handshake();
            while let Some(cmd) = s.recv() {
                s.send(&event("TICK", Some(json!({"n": cmd["arguments"]["n"]}))));
                s.reply(&cmd, json!(cmd["arguments"]["n"].as_u64().unwrap() * 10));
            }
        })
        .unwrap();
        let others: Vec<_> = (0..3u64)
            .map(|t| {
                let c = c.clone();
                thread::spawn(move || {
                    for i in 0..100 {
                        let n = 10_000 + t * 1000 + i;
                        assert_eq!(c.call(Echo { n }).unwrap(), n * 10);
                    }
                })
            })
            .collect();
        for round in 0..5u64 {
            let first = round * 200;
            let results = c.call_many((first..first + 200).map(|n| Echo { n }), 16);
            for (i, r) in results.into_iter().enumerate() {
                assert_eq!(r.unwrap(), (first + i as u64) * 10);
            }
        }
        for h in others {
            h.join().unwrap();
        }
        assert_eq!(c.stats().unknown_replies, 0);
        let mut events = c.events();
        let mut n = 0;
        while let Ok(Some(ev)) = events.next_timeout(Duration::from_millis(50)) {
            ev.unwrap();
            n += 1;
        }
        assert_eq!(n, 1000 + 300, "every event delivered once");
    });
}

#[test]
fn per_call_timeouts_forget_the_reply() {
    bounded(|| {
        let c = pair(quick(), |mut s| {
            s.handshake();
            let mut cmds: Vec<_> = (0..3).map(|_| s.recv().unwrap()).collect();
            // Two of the three callers gave up by now: their replies are
            // late. The one still waited for goes last, so both late ones
            // are read (and counted) before it.
            cmds.sort_by_key(|c| c["arguments"]["n"].as_u64());
            thread::sleep(Duration::from_millis(200));
            for cmd in &cmds {
                s.reply(cmd, json!(cmd["arguments"]["n"]));
            }
            s.recv();
        })
        .unwrap();
        let timed = |n: u64, ms: u64| {
            let c = c.clone();
            thread::spawn(move || {
                c.request(Echo { n })
                    .timeout(Duration::from_millis(ms))
                    .send()
            })
        };
        let (a, b) = (timed(1, 30), timed(2, 60));
        assert_eq!(c.request(Echo { n: 3 }).no_timeout().send().unwrap(), 3);
        for h in [a, b] {
            let e = h.join().unwrap().unwrap_err();
            assert!(matches!(e, Error::Timeout(TimeoutKind::Reply)), "{e:?}");
        }
        assert_eq!(c.stats().unknown_replies, 2);
    });
}

/// `close()` ends the connection for the server too, while the client
/// (and its clones) are still alive.
#[test]
fn close_ends_the_connection_for_the_server() {
    bounded(|| {
        let (c, s) = UnixStream::pair().unwrap();
        let srv = thread::spawn(move || {
            let mut s = Server::new(s);
            s.handshake();
            assert!(s.recv().is_none(), "a command after close");
        });
        let c = quick().connect_blocking(c).unwrap();
        c.close();
        srv.join().unwrap();
        drop(c);
    });
}

/// A failed write does not lose replies: the server stops reading (the
/// client's next write fails with EPIPE) but still answers the command it
/// already has, then hangs up. The caller whose write failed gets the
/// write error; the earlier caller gets its reply; later calls fail typed.
#[test]
fn a_failed_write_keeps_replies_still_to_come() {
    bounded(|| {
        let (shut_tx, shut_rx) = mpsc::channel::<()>();
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let c = pair(quick(), move |mut s| {
            s.handshake();
            let a = s.recv().unwrap();
            s.io.shutdown(std::net::Shutdown::Read).unwrap();
            shut_tx.send(()).unwrap();
            go_rx.recv().unwrap();
            s.reply(&a, json!(10));
        })
        .unwrap();
        let first = {
            let c = c.clone();
            thread::spawn(move || c.call(Echo { n: 1 }))
        };
        shut_rx.recv().unwrap();
        let e = c.call(Echo { n: 2 }).unwrap_err();
        assert!(matches!(e, Error::Io { .. }), "{e:?}");
        go_tx.send(()).unwrap();
        assert_eq!(first.join().unwrap().unwrap(), 10);
        assert!(c.call(Echo { n: 3 }).is_err());
        assert!(c.closed().is_some());
    });
}

/// A server that stops reading but neither answers nor hangs up: after a
/// write fails, the link is closed with the write error within the grace
/// period, so a call waiting without a timeout does not wait forever.
#[test]
fn a_failed_write_closes_the_link_if_the_input_never_ends() {
    bounded(|| {
        let (shut_tx, shut_rx) = mpsc::channel::<()>();
        let (end_tx, end_rx) = mpsc::channel::<()>();
        let c = pair(quick(), move |mut s| {
            s.handshake();
            s.recv().unwrap();
            s.io.shutdown(std::net::Shutdown::Read).unwrap();
            shut_tx.send(()).unwrap();
            let _ = end_rx.recv();
        })
        .unwrap();
        let first = {
            let c = c.clone();
            thread::spawn(move || c.request(Echo { n: 1 }).no_timeout().send())
        };
        shut_rx.recv().unwrap();
        let start = std::time::Instant::now();
        let e = c.call(Echo { n: 2 }).unwrap_err();
        assert!(matches!(e, Error::Io { .. }), "{e:?}");
        let e = first.join().unwrap().unwrap_err();
        assert!(matches!(e, Error::Io { .. }), "{e:?}");
        assert!(start.elapsed() < Duration::from_secs(5));
        assert!(matches!(c.closed(), Some(Error::Io { .. })));
        drop(end_tx);
    });
}

/// A reply the server wrote before it hung up is delivered, even when a
/// write to the closed socket fails before anyone read it.
#[test]
fn a_failed_write_keeps_replies_already_sent() {
    bounded(|| {
        let (done_tx, done_rx) = mpsc::channel::<()>();
        let c = pair(quick(), move |mut s| {
            s.handshake();
            let a = s.recv().unwrap();
            s.reply(&a, json!(10));
            drop(s);
            done_tx.send(()).unwrap();
        })
        .unwrap();
        // `call_many` writes the window's commands before it reads: the
        // second is written after the server answered the first and hung up.
        let commands = [1, 2, 3].map(|n| Echo { n }).into_iter().inspect(|e| {
            if e.n == 2 {
                done_rx.recv().unwrap();
            }
        });
        let results = c.call_many(commands, 3);
        assert_eq!(results[0].as_ref().unwrap(), &10);
        let e = results[1].as_ref().unwrap_err();
        assert!(matches!(e, Error::Io { .. }), "{e:?}");
        assert!(results[2].is_err());
        assert!(c.closed().is_some());
    });
}

#[test]
fn close_mid_pipeline_fails_the_rest() {
    bounded(|| {
        let c = pair(quick(), |mut s| {
            s.handshake();
            let a = s.recv().unwrap();
            let b = s.recv().unwrap();
            s.recv().unwrap();
            s.reply(&a, json!(10));
            s.reply(&b, json!(20));
            // Then hang up with the third (and later) commands unanswered.
        })
        .unwrap();
        let results = c.call_many((1..=6).map(|n| Echo { n }), 3);
        assert_eq!(results.len(), 6);
        assert_eq!(results[0].as_ref().unwrap(), &10);
        assert_eq!(results[1].as_ref().unwrap(), &20);
        for r in &results[2..] {
            let e = r.as_ref().unwrap_err();
            assert!(!matches!(e, Error::Qmp(_) | Error::Timeout(_)), "{e:?}");
        }
        // After the close, sending (even a reply-less command) fails typed.
        assert!(c.call(Shutdown).is_err());
    });
}
