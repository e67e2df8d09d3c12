//! Streaming JSON-object framing.
//!
//! QMP servers send one JSON object per message. QEMU terminates each with
//! CRLF, but with `pretty=on` a single object spans many lines, a read can
//! hold several objects and an object can be split across any number of
//! reads. The [`Framer`] therefore splits the byte stream by JSON structure,
//! not by lines: it tracks string/escape state and brace/bracket depth, and
//! yields each complete top-level object as one frame. It does not validate
//! JSON beyond that (the decoder does); it enforces the message-size and
//! nesting limits *while* scanning, so a malicious peer cannot make it buffer
//! more than `max_message_bytes` (plus one read) or nest deeper than
//! `max_depth`.
//!
//! Each byte is looked at once: the scan position survives between calls,
//! so 1-byte reads cost the same per byte as one large read.

use memchr::{memchr2, memchr3};

/// The guest agent's resynchronisation sentinel (`guest-sync-delimited`).
pub(crate) const SENTINEL: u8 = 0xFF;

/// Limits enforced on every incoming message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Maximum size of one message in bytes (default 16 MiB).
    pub max_message_bytes: usize,
    /// Maximum nesting depth of objects and arrays (default 128, serde_json's
    /// own recursion limit; QEMU itself accepts 1024).
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: 16 << 20,
            max_depth: 128,
        }
    }
}

/// A framing error. All of them are fatal for the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FrameError {
    TooLarge {
        limit: usize,
    },
    TooDeep {
        limit: usize,
    },
    /// A byte that cannot start a message (only `{` and whitespace may
    /// appear between messages).
    UnexpectedByte {
        byte: u8,
        offset: u64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scan {
    /// Between messages.
    Idle,
    /// Inside a message, outside any string.
    Value,
    /// Inside a string.
    Str,
    /// Inside a string, right after a backslash.
    Escape,
}

/// The streaming splitter. See the module documentation.
#[derive(Debug)]
pub(crate) struct Framer {
    limits: Limits,
    /// Guest-agent mode: a 0xFF byte anywhere discards any partial message.
    sentinel: bool,
    /// In guest-agent mode after a resync request: drop everything up to
    /// the next sentinel byte.
    discard_until_sentinel: bool,
    /// The bytes of the partial message carried over from earlier input.
    buf: Vec<u8>,
    scan: Scan,
    depth: usize,
    /// Stream offset of the next byte passed in (for error messages).
    offset: u64,
}

impl Framer {
    pub(crate) fn new(limits: Limits, sentinel: bool) -> Self {
        Framer {
            limits,
            sentinel,
            discard_until_sentinel: false,
            buf: Vec::new(),
            scan: Scan::Idle,
            depth: 0,
            offset: 0,
        }
    }

    /// True when a message has started but is not complete.
    pub(crate) fn in_message(&self) -> bool {
        self.scan != Scan::Idle
    }

    /// Guest-agent resync: ignore all input up to the next 0xFF sentinel.
    pub(crate) fn discard_until_sentinel(&mut self) {
        if self.sentinel {
            self.discard_until_sentinel = true;
        }
    }

    fn reset(&mut self) {
        self.buf = Vec::new();
        self.scan = Scan::Idle;
        self.depth = 0;
    }

    /// Feeds `input`; calls `on_frame` with each complete message, in order.
    /// Frames that lie entirely within `input` are passed without copying.
    pub(crate) fn push(
        &mut self,
        input: &[u8],
        on_frame: &mut dyn FnMut(&[u8], u64),
    ) -> Result<(), FrameError> {
        let base = self.offset;
        self.offset += input.len() as u64;
        let mut i = 0;
        // Where the current message starts inside `input` (if it started
        // in this chunk, else 0 with the earlier part in `buf`).
        let mut start = 0;
        while i < input.len() {
            if self.discard_until_sentinel {
                match memchr::memchr(SENTINEL, &input[i..]) {
                    Some(p) => {
                        self.discard_until_sentinel = false;
                        self.reset();
                        i += p + 1;
                        continue;
                    }
                    None => return Ok(()),
                }
            }
            match self.scan {
                Scan::Idle => {
                    let b = input[i];
                    match b {
                        b' ' | b'\t' | b'\r' | b'\n' => {}
                        b'{' => {
                            self.scan = Scan::Value;
                            self.depth = 1;
                            start = i;
                            debug_assert!(self.buf.is_empty());
                        }
                        SENTINEL if self.sentinel => {}
                        _ => {
                            return Err(FrameError::UnexpectedByte {
                                byte: b,
                                offset: base + i as u64,
                            });
                        }
                    }
                    i += 1;
                }
                Scan::Value => {
                    // Stay here over the bytes between strings: only the
                    // structural ones matter.
                    while i < input.len() {
                        let b = input[i];
                        i += 1;
                        match b {
                            b'"' => {
                                self.scan = Scan::Str;
                                break;
                            }
                            b'{' | b'[' => {
                                self.depth += 1;
                                if self.depth > self.limits.max_depth {
                                    // The size is checked before every
                                    // outcome (not at every byte): it only
                                    // grows, so the first error is the same.
                                    self.check_size(i - start)?;
                                    self.reset();
                                    return Err(FrameError::TooDeep {
                                        limit: self.limits.max_depth,
                                    });
                                }
                            }
                            b'}' | b']' => {
                                self.depth -= 1;
                                if self.depth == 0 {
                                    self.scan = Scan::Idle;
                                    self.check_size(i - start)?;
                                    if self.buf.is_empty() {
                                        on_frame(&input[start..i], base + i as u64);
                                    } else {
                                        let mut buf = std::mem::take(&mut self.buf);
                                        buf.extend_from_slice(&input[start..i]);
                                        on_frame(&buf, base + i as u64);
                                    }
                                    start = i;
                                    break;
                                }
                            }
                            SENTINEL if self.sentinel => {
                                self.check_size(i - 1 - start)?;
                                self.reset();
                                start = i;
                                break;
                            }
                            _ => {}
                        }
                    }
                }
                Scan::Str => {
                    let rest = &input[i..];
                    // Most strings are short: look at their first bytes
                    // one by one before paying for a vectorised search.
                    let special =
                        |b: u8| b == b'"' || b == b'\\' || (self.sentinel && b == SENTINEL);
                    let head = rest.len().min(32);
                    let hit = match rest[..head].iter().position(|&b| special(b)) {
                        Some(p) => Some(p),
                        None if self.sentinel => {
                            memchr3(b'"', b'\\', SENTINEL, &rest[head..]).map(|p| p + head)
                        }
                        None => memchr2(b'"', b'\\', &rest[head..]).map(|p| p + head),
                    };
                    match hit {
                        None => i = input.len(),
                        Some(p) => {
                            let b = rest[p];
                            i += p + 1;
                            match b {
                                b'"' => self.scan = Scan::Value,
                                b'\\' => self.scan = Scan::Escape,
                                _ => {
                                    // The bytes before the sentinel were part
                                    // of the message: the size limit applies
                                    // to them here as it would have at a read
                                    // boundary (else the outcome would depend
                                    // on how the input was split).
                                    self.check_size(i - 1 - start)?;
                                    self.reset();
                                    start = i;
                                }
                            }
                        }
                    }
                }
                Scan::Escape => {
                    if self.sentinel && input[i] == SENTINEL {
                        self.reset();
                        i += 1;
                        start = i;
                    } else {
                        self.scan = Scan::Str;
                        i += 1;
                    }
                }
            }
            if self.scan != Scan::Idle {
                self.check_size(i - start)?;
            }
        }
        if self.scan != Scan::Idle && !self.discard_until_sentinel {
            self.buf.extend_from_slice(&input[start..]);
        }
        Ok(())
    }

    fn check_size(&mut self, in_chunk: usize) -> Result<(), FrameError> {
        if self.buf.len() + in_chunk > self.limits.max_message_bytes {
            self.reset();
            return Err(FrameError::TooLarge {
                limit: self.limits.max_message_bytes,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(f: &mut Framer, input: &[u8]) -> Result<Vec<String>, FrameError> {
        let mut out = Vec::new();
        f.push(input, &mut |fr, _| {
            out.push(String::from_utf8_lossy(fr).into_owned())
        })?;
        Ok(out)
    }

    #[test]
    fn splits_objects_with_any_whitespace() {
        let mut f = Framer::new(Limits::default(), false);
        let got = frames(
            &mut f,
            b"{\"a\": 1}\r\n{\"b\": \"}{\\\"\"}\n  {\n  \"c\": [1, {}]\n}\r\n",
        )
        .unwrap();
        assert_eq!(
            got,
            vec![
                "{\"a\": 1}",
                "{\"b\": \"}{\\\"\"}",
                "{\n  \"c\": [1, {}]\n}"
            ]
        );
        assert!(!f.in_message());
    }

    #[test]
    fn one_byte_reads() {
        let input = b"{\"x\": \"a\\\\\"} {\"y\": [[]]}";
        let mut f = Framer::new(Limits::default(), false);
        let mut all = Vec::new();
        for b in input {
            all.extend(frames(&mut f, std::slice::from_ref(b)).unwrap());
        }
        assert_eq!(all, vec!["{\"x\": \"a\\\\\"}", "{\"y\": [[]]}"]);
    }

    #[test]
    fn garbage_between_messages() {
        let mut f = Framer::new(Limits::default(), false);
        let err = frames(&mut f, b"{} x").unwrap_err();
        assert_eq!(
            err,
            FrameError::UnexpectedByte {
                byte: b'x',
                offset: 3
            }
        );
    }

    #[test]
    fn limits() {
        let lim = Limits {
            max_message_bytes: 10,
            max_depth: 3,
        };
        let mut f = Framer::new(lim, false);
        assert_eq!(frames(&mut f, b"{[[]]}").unwrap().len(), 1);
        assert_eq!(
            frames(&mut f, b"{[[[]]]}").unwrap_err(),
            FrameError::TooDeep { limit: 3 }
        );
        let mut f = Framer::new(lim, false);
        assert_eq!(frames(&mut f, b"{\"abcdef\"}").unwrap().len(), 1);
        assert_eq!(
            frames(&mut f, b"{\"abcdefg\"}").unwrap_err(),
            FrameError::TooLarge { limit: 10 }
        );
        // Across chunks, without a closing brace ever arriving.
        let mut f = Framer::new(lim, false);
        frames(&mut f, b"{\"abc").unwrap();
        assert_eq!(
            frames(&mut f, b"defghij").unwrap_err(),
            FrameError::TooLarge { limit: 10 }
        );
    }

    #[test]
    fn sentinel_resets_partial_message() {
        let mut f = Framer::new(Limits::default(), true);
        let got = frames(&mut f, b"{\"stale\": \"abc\xff{\"return\": 5}").unwrap();
        assert_eq!(got, vec!["{\"return\": 5}"]);
        let mut f = Framer::new(Limits::default(), true);
        f.discard_until_sentinel();
        let got = frames(&mut f, b"{\"return\": 1}\r\n\xff{\"return\": 2}").unwrap();
        assert_eq!(got, vec!["{\"return\": 2}"]);
    }

    /// Whatever the bytes and however they are split into reads, the frames
    /// and the error are the same as for one read of the whole input.
    mod chunking {
        use super::super::*;
        use proptest::prelude::*;

        fn run(sentinel: bool, input: &[u8], cuts: &[usize]) -> (Vec<Vec<u8>>, Option<FrameError>) {
            let lim = Limits {
                max_message_bytes: 16,
                max_depth: 3,
            };
            let mut f = Framer::new(lim, sentinel);
            let mut out = Vec::new();
            let mut prev = 0;
            for &c in cuts.iter().chain(std::iter::once(&input.len())) {
                let c = c.clamp(prev, input.len());
                if let Err(mut e) = f.push(&input[prev..c], &mut |fr, _| out.push(fr.to_vec())) {
                    // Where a stray byte sits is known exactly either way;
                    // only the offset base differs per read.
                    if let FrameError::UnexpectedByte { offset, .. } = &mut e {
                        *offset = 0;
                    }
                    return (out, Some(e));
                }
                prev = c;
            }
            (out, None)
        }

        /// Structural bytes, sentinels and runs of plain bytes long enough
        /// to cross the size limit inside a string.
        fn bytes() -> impl Strategy<Value = Vec<u8>> {
            let token = prop_oneof![
                Just(&b"{"[..]),
                Just(&b"}"[..]),
                Just(&b"["[..]),
                Just(&b"]"[..]),
                Just(&b"\""[..]),
                Just(&b"\\"[..]),
                Just(&b" "[..]),
                Just(&b"aaaaaaaaaaa"[..]),
                Just(&[SENTINEL][..]),
            ];
            // Start inside a message: a stray byte between messages ends the
            // scan at once, which would leave most inputs untested.
            proptest::collection::vec(token, 0..40).prop_map(|t| [&b"{"[..], &t.concat()].concat())
        }

        #[test]
        fn oversized_string_cut_by_a_sentinel() {
            // Found by the client_decoder fuzz target: a string longer than
            // the limit, ended by the guest agent's sentinel. Split or not,
            // the message was too large.
            let mut input = b"{\"".to_vec();
            input.extend([b'a'; 30]);
            input.extend(b"\xff{}");
            let whole = run(true, &input, &[]);
            assert_eq!(whole.1, Some(FrameError::TooLarge { limit: 16 }));
            assert_eq!(whole, run(true, &input, &[20]));
        }

        proptest! {
            #[test]
            fn outcome_does_not_depend_on_reads(
                sentinel in any::<bool>(),
                input in bytes(),
                mut cuts in proptest::collection::vec(0usize..160, 0..8),
            ) {
                cuts.sort_unstable();
                prop_assert_eq!(run(sentinel, &input, &[]), run(sentinel, &input, &cuts));
            }
        }
    }
}
