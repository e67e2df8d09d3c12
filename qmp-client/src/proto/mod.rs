//! The sans-io protocol engine: no sockets, no clock.
//!
//! [`Connection`] is fed the bytes a transport reads and yields the bytes
//! to write ([`Transmit`]) and what happened ([`Output`]: handshake done,
//! replies by id, events, close). The tokio and blocking transports of this
//! crate are thin drivers around it; anything else (another runtime, a
//! test harness, a fuzzer) can drive it the same way.
//!
//! ```
//! use qmp_client::proto::{Connection, ExecOptions, Output, ProtoConfig};
//!
//! let mut conn = Connection::new(ProtoConfig::default());
//! conn.handle_input(b"{\"QMP\": {\"version\": {\"qemu\": {\"major\": 10, \"minor\": 0, \"micro\": 2}, \"package\": \"\"}, \"capabilities\": []}}\r\n");
//! let hello = conn.poll_transmit().unwrap();
//! assert_eq!(hello.data, br#"{"execute":"qmp_capabilities","id":1}"#);
//! conn.handle_input(b"{\"return\": {}, \"id\": 1}\r\n");
//! assert!(matches!(conn.poll_output(), Some(Output::Ready(Some(_)))));
//! let id = conn
//!     .execute("query-status", &(), ExecOptions { expect_reply: true, ..Default::default() })
//!     .unwrap();
//! assert_eq!(conn.poll_transmit().unwrap().data, br#"{"execute":"query-status","id":2}"#);
//! conn.handle_input(b"{\"return\": {\"status\": \"running\", \"running\": true}, \"id\": 2}\r\n");
//! match conn.poll_output() {
//!     Some(Output::Reply { id: got, result }) => {
//!         assert_eq!(got, id);
//!         assert_eq!(result.unwrap().json(), r#"{"status": "running", "running": true}"#);
//!     }
//!     other => panic!("{other:?}"),
//! }
//! ```

pub(crate) mod connection;
mod framer;

pub use connection::{
    Connection, ExecOptions, Greeting, MAX_INBAND_IN_FLIGHT, Mode, Output, ProtoConfig,
    QemuVersion, RawEvent, RawReply, Stats, Transmit, VersionInfo,
};
pub use framer::Limits;
