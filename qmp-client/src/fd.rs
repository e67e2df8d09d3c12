//! File-descriptor passing over Unix sockets (`SCM_RIGHTS`), for
//! `getfd`/`add-fd`: the descriptors travel in the same `sendmsg` as the
//! first byte of the command that consumes them. rustix's safe API does the
//! control-message work, so no `unsafe` is needed.

use std::io::{self, IoSlice};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::net::{SendAncillaryBuffer, SendAncillaryMessage, SendFlags};

/// Sends (a prefix of) `data` with `fds` attached; returns the number of
/// bytes sent (the descriptors are sent with the first of them).
pub(crate) fn send_with_fds(sock: impl AsFd, data: &[u8], fds: &[OwnedFd]) -> io::Result<usize> {
    let borrowed: Vec<BorrowedFd<'_>> = fds.iter().map(|f| f.as_fd()).collect();
    let mut space =
        vec![MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(borrowed.len()))];
    let mut cmsg = SendAncillaryBuffer::new(&mut space);
    if !cmsg.push(SendAncillaryMessage::ScmRights(&borrowed)) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "too many file descriptors for one message",
        ));
    }
    rustix::net::sendmsg(sock, &[IoSlice::new(data)], &mut cmsg, SendFlags::NOSIGNAL)
        .map_err(io::Error::from)
}
