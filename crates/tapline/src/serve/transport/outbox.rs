//! The bounded outgoing queue of one TCP connection. The core pushes whole messages, the
//! connection pushes keep-alive pongs, and the connection's writer drains it. Bytes waiting
//! beyond the bound mean the peer does not read: the queue fails and the connection is
//! closed, which frees it.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};

use tokio::sync::Notify;

/// The RFC 5626 pong (4.4.1): one CRLF.
const PONG: &[u8] = b"\r\n";

/// The bound was crossed: the peer does not read what it is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{pending} bytes would wait to be sent to a peer that does not read (bound {limit})")]
pub(crate) struct Overflow {
    pub(crate) pending: usize,
    pub(crate) limit: usize,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Vec<u8>>,
    queued: usize,
    /// A pong waits; more pings meanwhile are answered by that one pong (coalesced), but
    /// each still counts its 2 bytes in `owed` against the bound.
    pong: bool,
    owed: usize,
    failed: Option<Overflow>,
    /// No more pushes: the writer sends what waits, then stops.
    closing: bool,
}

impl State {
    fn pending(&self) -> usize {
        self.queued + self.owed
    }

    /// Fail if `extra` more bytes would cross `limit` (one message alone always fits).
    fn admit(&mut self, extra: usize, limit: usize) -> Result<(), Overflow> {
        if let Some(f) = self.failed {
            return Err(f);
        }
        let pending = self.pending() + extra;
        if self.pending() > 0 && pending > limit {
            let f = Overflow { pending, limit };
            self.failed = Some(f);
            self.queue = VecDeque::new();
            self.queued = 0;
            return Err(f);
        }
        Ok(())
    }
}

/// Shared by the core (producer), the connection's reader (pongs, close) and its writer.
pub(crate) struct Outbox {
    limit: usize,
    state: Mutex<State>,
    /// Wakes the writer: something to send, or closing.
    ready: Notify,
    /// Wakes the reader: the bound was crossed.
    overflowed: Notify,
}

impl Outbox {
    pub(crate) fn new(limit: usize) -> Outbox {
        Outbox {
            limit,
            state: Mutex::new(State::default()),
            ready: Notify::new(),
            overflowed: Notify::new(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queue one whole message.
    pub(crate) fn push(&self, bytes: Vec<u8>) -> Result<(), Overflow> {
        let mut s = self.state();
        if s.closing {
            return Ok(());
        }
        self.check(s.admit(bytes.len(), self.limit))?;
        s.queued += bytes.len();
        s.queue.push_back(bytes);
        drop(s);
        self.ready.notify_one();
        Ok(())
    }

    /// Answer one RFC 5626 ping; a pong already waiting answers it too.
    pub(crate) fn pong(&self) -> Result<(), Overflow> {
        let mut s = self.state();
        if s.closing {
            return Ok(());
        }
        self.check(s.admit(PONG.len(), self.limit))?;
        s.owed += PONG.len();
        s.pong = true;
        drop(s);
        self.ready.notify_one();
        Ok(())
    }

    fn check(&self, r: Result<(), Overflow>) -> Result<(), Overflow> {
        if r.is_err() {
            self.overflowed.notify_one();
        }
        r
    }

    /// Stop taking messages; the writer sends what waits and then ends.
    pub(crate) fn close(&self) {
        self.state().closing = true;
        self.ready.notify_one();
    }

    /// Bytes waiting (queued messages and owed pongs).
    #[cfg(test)]
    fn pending(&self) -> usize {
        self.state().pending()
    }

    /// Resolves once the bound has been crossed.
    pub(crate) async fn overflow(&self) -> Overflow {
        loop {
            if let Some(f) = self.state().failed {
                return f;
            }
            self.overflowed.notified().await;
        }
    }

    /// The next bytes to write; `None` once closed (or failed) and drained.
    pub(crate) async fn next(&self) -> Option<Vec<u8>> {
        loop {
            if let Some(next) = self.take() {
                return next;
            }
            self.ready.notified().await;
        }
    }

    /// `Some(Some(bytes))` to write, `Some(None)` when done, `None` to wait.
    fn take(&self) -> Option<Option<Vec<u8>>> {
        let mut s = self.state();
        if s.failed.is_some() {
            return Some(None);
        }
        if let Some(bytes) = s.queue.pop_front() {
            s.queued -= bytes.len();
            return Some(Some(bytes));
        }
        if s.pong {
            s.pong = false;
            s.owed = 0;
            return Some(Some(PONG.to_vec()));
        }
        s.closing.then_some(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now<T>(f: impl std::future::Future<Output = T>) -> T {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async { tokio::time::timeout(std::time::Duration::from_secs(1), f).await })
            .unwrap()
    }

    #[test]
    fn messages_then_one_pong_for_many_pings() {
        let o = Outbox::new(1000);
        o.push(b"first".to_vec()).unwrap();
        for _ in 0..10 {
            o.pong().unwrap();
        }
        assert_eq!(o.pending(), 5 + 20);
        assert_eq!(now(o.next()), Some(b"first".to_vec()));
        assert_eq!(now(o.next()), Some(b"\r\n".to_vec()));
        assert_eq!(o.pending(), 0);
        o.close();
        assert_eq!(now(o.next()), None);
    }

    #[test]
    fn pongs_owed_beyond_the_bound_fail_the_queue() {
        let o = Outbox::new(100);
        for _ in 0..50 {
            o.pong().unwrap();
        }
        let f = o.pong().unwrap_err();
        assert_eq!(
            f,
            Overflow {
                pending: 102,
                limit: 100
            }
        );
        assert_eq!(now(o.overflow()), f);
        assert_eq!(now(o.next()), None);
        assert!(o.push(b"x".to_vec()).is_err());
    }

    #[test]
    fn one_large_message_fits_an_empty_queue_but_not_a_busy_one() {
        let o = Outbox::new(10);
        o.push(vec![b'a'; 50]).unwrap();
        assert!(o.push(vec![b'b'; 1]).is_err());
        assert_eq!(o.pending(), 0, "a failed queue frees what it held");
    }

    #[test]
    fn close_sends_what_waits_first() {
        let o = Outbox::new(100);
        o.push(b"513".to_vec()).unwrap();
        o.close();
        o.push(b"late".to_vec()).unwrap();
        assert_eq!(now(o.next()), Some(b"513".to_vec()));
        assert_eq!(now(o.next()), None);
    }
}
