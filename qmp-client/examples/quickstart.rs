//! The README's quick start: connect, print the version, run a typed
//! command, read a few events.
//!
//! ```sh
//! qemu-system-x86_64 -machine none -nodefaults -display none \
//!     -qmp unix:/tmp/qmp.sock,server=on,wait=off &
//! cargo run -p qmp-client --example quickstart -- /tmp/qmp.sock
//! ```

use qmp_client::Qmp;
use qmp_types::ClientExt as _; // one method per command

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/tmp/qmp.sock".into());
    let client = Qmp::connect_unix(&path).await?;
    if let Some(greeting) = client.greeting() {
        let v = &greeting.version.qemu;
        println!("QEMU {}.{}.{}", v.major, v.minor, v.micro);
    }
    let status = client.query_status().await?; // typed: qmp_types::StatusInfo
    println!("running: {}, state: {}", status.running, status.status);

    // Events arrive typed, while commands run, in a bounded queue.
    let mut events = client.typed_events::<qmp_types::Event>();
    client.stop().await?;
    client.cont().await?;
    for _ in 0..2 {
        match events.next().await {
            Some(Ok(e)) => println!("event: {:?} at {}s", e.event, e.timestamp.seconds),
            Some(Err(lagged)) => println!("events lost: {lagged}"),
            None => break,
        }
    }
    client.close();
    Ok(())
}
