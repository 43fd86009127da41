//! Stream (TCP) framing by Content-Length (RFC 3261 18.3) with RFC 5626 CRLF keep-alives.

use crate::headers::expand_compact;

/// Largest accepted header section.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;
/// Largest accepted body.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Why the stream cannot be framed; the connection should be closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FramingError {
    /// Content-Length is mandatory on stream transports (RFC 3261 18.3).
    #[error("message without Content-Length on a stream transport")]
    MissingContentLength,
    /// Content-Length is not a non-negative integer.
    #[error("bad Content-Length")]
    BadContentLength,
    /// Header section larger than [`MAX_HEADER_BYTES`].
    #[error("header section larger than {MAX_HEADER_BYTES} bytes")]
    HeadersTooLarge,
    /// Body larger than [`MAX_BODY_BYTES`].
    #[error("body of {0} bytes exceeds {MAX_BODY_BYTES}")]
    BodyTooLarge(usize),
}

/// Accumulates stream bytes and cuts them into whole SIP messages.
#[derive(Debug, Default)]
pub struct StreamFramer {
    buf: Vec<u8>,
    /// CRLFs seen in a row between messages (two make one RFC 5626 ping).
    crlf_run: usize,
    pings: usize,
    failed: bool,
    /// How far the search for the end of the headers got without finding it: a stream that
    /// trickles in one byte at a time is scanned once, not once per byte.
    scanned: usize,
    /// Once the headers are complete: where the body starts and how long it is.
    frame: Option<(usize, usize)>,
    /// After a too-large rejection: the header bytes received (at most
    /// [`MAX_HEADER_BYTES`]), so the caller can still answer 513.
    rejected_head: Vec<u8>,
}

/// Find the end of the header section, looking at lines that start at or after `from`:
/// returns (header length, body start).
fn header_end(buf: &[u8], from: usize) -> Option<(usize, usize)> {
    let mut i = from;
    while let Some(rel) = buf
        .get(i..)
        .and_then(|r| r.iter().position(|b| *b == b'\n'))
    {
        let nl = i + rel;
        match buf.get(nl + 1..) {
            Some([b'\n', ..]) => return Some((nl + 1, nl + 2)),
            Some([b'\r', b'\n', ..]) => return Some((nl + 1, nl + 3)),
            _ => i = nl + 1,
        }
    }
    None
}

fn find_content_length(head: &[u8]) -> Result<usize, FramingError> {
    let text = String::from_utf8_lossy(head);
    for line in text.split('\n') {
        if line.starts_with([' ', '\t']) {
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if expand_compact(name.trim()).eq_ignore_ascii_case("Content-Length") {
            let v = value.trim();
            if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
                return Err(FramingError::BadContentLength);
            }
            return v.parse().map_err(|_| FramingError::BadContentLength);
        }
    }
    Err(FramingError::MissingContentLength)
}

impl StreamFramer {
    /// A new, empty framer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Append bytes read from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Number of RFC 5626 keep-alive pings (`CRLFCRLF`) seen since the last call; the
    /// caller should answer each with a pong (`CRLF`).
    pub fn take_keepalives(&mut self) -> usize {
        std::mem::take(&mut self.pings)
    }

    /// Bytes buffered but not yet returned.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// True while part of a message has arrived but not all of it (bytes other than
    /// keep-alive CRLFs are waiting).
    pub fn in_progress(&self) -> bool {
        !self.failed && !self.buf.is_empty()
    }

    /// After [`FramingError::HeadersTooLarge`] or [`FramingError::BodyTooLarge`]: the header
    /// bytes received (the first [`MAX_HEADER_BYTES`] at most), for a 513 answer (see
    /// [`crate::too_large_response`]). Empty otherwise, and after the first call.
    pub fn take_rejected_head(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.rejected_head)
    }

    /// The next complete message, `None` if more bytes are needed. After an error the
    /// stream is unusable and every later call returns `None`.
    pub fn next_message(&mut self) -> Option<Result<Vec<u8>, FramingError>> {
        if self.failed {
            return None;
        }
        // Skip CRLFs between messages; a pair is a ping (RFC 5626 4.4.1).
        loop {
            match self.buf.as_slice() {
                [b'\r', b'\n', ..] => {
                    self.buf.drain(..2);
                    self.crlf_run += 1;
                    if self.crlf_run == 2 {
                        self.pings += 1;
                        self.crlf_run = 0;
                    }
                }
                [b'\r'] | [] => return None,
                _ => break,
            }
        }
        self.crlf_run = 0;
        let result = match self.frame {
            Some(frame) => Ok(frame),
            // Resume the scan a few bytes back, so a CRLFCRLF split across reads is found.
            None => match header_end(&self.buf, self.scanned.saturating_sub(3)) {
                // The limit applies to the header section; its terminating blank line may
                // still be on its way.
                None if self.buf.len() > MAX_HEADER_BYTES + 4 => Err(FramingError::HeadersTooLarge),
                None => {
                    self.scanned = self.buf.len();
                    return None;
                }
                Some((head_len, _)) if head_len > MAX_HEADER_BYTES => {
                    Err(FramingError::HeadersTooLarge)
                }
                Some((head_len, body_start)) => {
                    match find_content_length(self.buf.get(..head_len).unwrap_or(&[])) {
                        Err(e) => Err(e),
                        Ok(n) if n > MAX_BODY_BYTES => Err(FramingError::BodyTooLarge(n)),
                        Ok(n) => {
                            self.frame = Some((body_start, n));
                            Ok((body_start, n))
                        }
                    }
                }
            },
        };
        let result = match result {
            Ok((body_start, n)) => {
                let end = body_start + n;
                if self.buf.len() < end {
                    return None;
                }
                self.frame = None;
                self.scanned = 0;
                let msg = self.buf.drain(..end).collect();
                self.release_spare_capacity();
                Ok(msg)
            }
            Err(e) => Err(e),
        };
        if let Err(e) = &result {
            self.failed = true;
            self.keep_rejected_head(e);
            self.buf = Vec::new();
        }
        Some(result)
    }
}

impl StreamFramer {
    /// A connection that once carried a large message does not keep its buffer for life.
    fn release_spare_capacity(&mut self) {
        if self.buf.capacity() > MAX_HEADER_BYTES && self.buf.len() < MAX_HEADER_BYTES {
            self.buf.shrink_to(MAX_HEADER_BYTES);
        }
    }

    /// Keep the header part of a message refused for its size; the rest is dropped.
    fn keep_rejected_head(&mut self, e: &FramingError) {
        let keep = match e {
            FramingError::HeadersTooLarge => MAX_HEADER_BYTES,
            FramingError::BodyTooLarge(_) => self.frame_head_len().unwrap_or(MAX_HEADER_BYTES),
            _ => return,
        };
        self.buf.truncate(keep);
        self.rejected_head = std::mem::take(&mut self.buf);
    }

    fn frame_head_len(&self) -> Option<usize> {
        header_end(&self.buf, 0).map(|(head_len, _)| head_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &[u8] = b"OPTIONS sip:a@b SIP/2.0\r\nl: 3\r\nCall-ID: x\r\n\r\nabc";

    #[test]
    fn partial_reads_assemble_one_message() {
        let mut f = StreamFramer::new();
        for chunk in MSG.chunks(5) {
            assert!(f.next_message().is_none());
            f.push(chunk);
        }
        assert_eq!(f.next_message(), Some(Ok(MSG.to_vec())));
        assert_eq!(f.next_message(), None);
        assert_eq!(f.buffered(), 0);
    }

    #[test]
    fn two_messages_in_one_push_and_keepalive() {
        let mut f = StreamFramer::new();
        let mut data = b"\r\n\r\n".to_vec();
        data.extend_from_slice(MSG);
        data.extend_from_slice(b"\r\n");
        f.push(&data);
        f.push(b"\r\n");
        f.push(MSG);
        assert_eq!(f.next_message(), Some(Ok(MSG.to_vec())));
        assert_eq!(f.next_message(), Some(Ok(MSG.to_vec())));
        assert_eq!(f.next_message(), None);
        assert_eq!(f.take_keepalives(), 2);
        assert_eq!(f.take_keepalives(), 0);
    }

    #[test]
    fn lf_only_header_end() {
        let mut f = StreamFramer::new();
        f.push(b"BYE sip:a@b SIP/2.0\nContent-Length: 2\n\nhiX");
        assert_eq!(
            f.next_message(),
            Some(Ok(b"BYE sip:a@b SIP/2.0\nContent-Length: 2\n\nhi".to_vec()))
        );
        assert_eq!(f.buffered(), 1);
    }

    #[test]
    fn errors() {
        let mut f = StreamFramer::new();
        f.push(b"BYE sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n");
        assert_eq!(
            f.next_message(),
            Some(Err(FramingError::MissingContentLength))
        );
        assert_eq!(f.next_message(), None);

        let mut f = StreamFramer::new();
        f.push(b"BYE sip:a@b SIP/2.0\r\nContent-Length: 2000000\r\n\r\n");
        assert_eq!(
            f.next_message(),
            Some(Err(FramingError::BodyTooLarge(2_000_000)))
        );

        let mut f = StreamFramer::new();
        f.push(b"BYE sip:a@b SIP/2.0\r\nContent-Length: -1\r\n\r\n");
        assert_eq!(f.next_message(), Some(Err(FramingError::BadContentLength)));

        let mut f = StreamFramer::new();
        f.push(&vec![b'a'; MAX_HEADER_BYTES + 5]);
        assert_eq!(f.next_message(), Some(Err(FramingError::HeadersTooLarge)));
    }

    #[test]
    fn too_large_keeps_the_head_for_a_513() {
        let head = b"BYE sip:a@b SIP/2.0\r\nContent-Length: 2000000\r\n";
        let mut f = StreamFramer::new();
        f.push(head);
        f.push(b"\r\nbody bytes");
        assert_eq!(
            f.next_message(),
            Some(Err(FramingError::BodyTooLarge(2_000_000)))
        );
        assert_eq!(f.next_message(), None);
        assert_eq!(f.take_rejected_head(), head.to_vec());
        assert!(f.take_rejected_head().is_empty());
        assert!(!f.in_progress());

        let mut f = StreamFramer::new();
        f.push(&vec![b'a'; MAX_HEADER_BYTES + 100]);
        assert_eq!(f.next_message(), Some(Err(FramingError::HeadersTooLarge)));
        assert_eq!(f.take_rejected_head().len(), MAX_HEADER_BYTES);
        assert_eq!(f.buffered(), 0);

        let mut f = StreamFramer::new();
        f.push(b"BYE sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n");
        assert!(matches!(f.next_message(), Some(Err(_))));
        assert!(f.take_rejected_head().is_empty());
    }

    #[test]
    fn in_progress_only_with_a_partial_message() {
        let mut f = StreamFramer::new();
        assert!(!f.in_progress());
        f.push(b"\r\n\r\n");
        assert_eq!(f.next_message(), None);
        assert!(!f.in_progress());
        f.push(&MSG[..10]);
        assert_eq!(f.next_message(), None);
        assert!(f.in_progress());
        f.push(&MSG[10..]);
        assert!(matches!(f.next_message(), Some(Ok(_))));
        assert!(!f.in_progress());
    }

    /// Framing does not depend on how the bytes were split (found by the tcp_framer fuzz
    /// target at the header-size limit, and for byte-by-byte senders).
    #[test]
    fn chunking_never_changes_the_result() {
        let mut head = String::from("OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 5\r\nX: ");
        let pad = MAX_HEADER_BYTES - head.len() - 4;
        head.push_str(&"a".repeat(pad));
        head.push_str("\r\n\r\nhello");
        let msg = head.into_bytes();
        let mut whole = StreamFramer::new();
        whole.push(&msg);
        let expected = whole.next_message();
        assert!(
            matches!(expected, Some(Ok(ref m)) if m.len() == msg.len()),
            "{expected:?}"
        );
        for cut in [
            msg.len() - 9,
            msg.len() - 8,
            msg.len() - 7,
            msg.len() - 6,
            1,
            100,
        ] {
            let mut f = StreamFramer::new();
            f.push(&msg[..cut]);
            let first = f.next_message();
            f.push(&msg[cut..]);
            let got = first.or_else(|| f.next_message());
            assert_eq!(got, expected, "cut at {cut}");
        }
        let mut f = StreamFramer::new();
        let mut got = None;
        for b in &msg {
            f.push(std::slice::from_ref(b));
            if let Some(m) = f.next_message() {
                got = Some(m);
            }
        }
        assert_eq!(got, expected);
    }
}
