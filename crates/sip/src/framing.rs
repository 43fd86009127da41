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
}

/// Find the end of the header section: returns (header length, body start).
fn header_end(buf: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
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
        let result = match header_end(&self.buf) {
            None if self.buf.len() > MAX_HEADER_BYTES => Err(FramingError::HeadersTooLarge),
            None => return None,
            Some((head_len, _)) if head_len > MAX_HEADER_BYTES => {
                Err(FramingError::HeadersTooLarge)
            }
            Some((head_len, body_start)) => {
                match find_content_length(self.buf.get(..head_len).unwrap_or(&[])) {
                    Err(e) => Err(e),
                    Ok(n) if n > MAX_BODY_BYTES => Err(FramingError::BodyTooLarge(n)),
                    Ok(n) => {
                        let end = body_start + n;
                        if self.buf.len() < end {
                            return None;
                        }
                        Ok(self.buf.drain(..end).collect())
                    }
                }
            }
        };
        if result.is_err() {
            self.failed = true;
            self.buf.clear();
        }
        Some(result)
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
        f.push(&vec![b'a'; MAX_HEADER_BYTES + 1]);
        assert_eq!(f.next_message(), Some(Err(FramingError::HeadersTooLarge)));
    }
}
