//! The transports' read buffer: small while replies are small (one per
//! connection, so a fleet of idle monitors costs little), doubled when a
//! read fills it (large replies take few reads), and shrunk back to the
//! small size by the first short read after a burst.

/// Size of a fresh buffer, and the size it shrinks back to.
pub(crate) const MIN_READ_BUF: usize = 4 * 1024;
/// Largest size it grows to.
pub(crate) const MAX_READ_BUF: usize = 64 * 1024;

#[derive(Debug)]
pub(crate) struct ReadBuf {
    buf: Vec<u8>,
}

impl ReadBuf {
    pub(crate) fn new() -> Self {
        ReadBuf {
            buf: vec![0; MIN_READ_BUF],
        }
    }

    /// The space to read into.
    pub(crate) fn space(&mut self) -> &mut [u8] {
        &mut self.buf
    }

    /// The bytes of the last read of `n` bytes.
    pub(crate) fn data(&self, n: usize) -> &[u8] {
        &self.buf[..n.min(self.buf.len())]
    }

    /// Adapts the size after a read of `n` bytes (the bytes already
    /// consumed): a full read doubles it, a read that would have fitted
    /// the small size returns it to that size, freeing the rest.
    pub(crate) fn adapt(&mut self, n: usize) {
        let len = self.buf.len();
        if n == len && len < MAX_READ_BUF {
            self.buf.resize((len * 2).min(MAX_READ_BUF), 0);
        } else if n < MIN_READ_BUF && len > MIN_READ_BUF {
            self.buf.truncate(MIN_READ_BUF);
            self.buf.shrink_to_fit();
        }
    }

    #[cfg(test)]
    fn capacity(&self) -> usize {
        self.buf.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_on_full_reads_and_shrinks_back() {
        let mut b = ReadBuf::new();
        assert_eq!(b.space().len(), MIN_READ_BUF);
        // A large reply: every read fills the buffer.
        let mut sizes = Vec::new();
        for _ in 0..6 {
            let n = b.space().len();
            b.adapt(n);
            sizes.push(b.space().len());
        }
        assert_eq!(sizes, [8192, 16384, 32768, 65536, 65536, 65536]);
        // A partial read that still needed the big buffer keeps it.
        b.adapt(10_000);
        assert_eq!(b.space().len(), MAX_READ_BUF);
        // The next small read gives the memory back.
        b.adapt(100);
        assert_eq!(b.space().len(), MIN_READ_BUF);
        assert!(b.capacity() < 2 * MIN_READ_BUF, "{}", b.capacity());
        assert_eq!(b.data(3).len(), 3);
    }
}
