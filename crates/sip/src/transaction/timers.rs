//! Earliest-deadline queue of transaction timers, so the endpoint's `poll_timeout` is O(1)
//! and `handle_timeout` touches only expired transactions (O(expired * log n)), however
//! many transactions are alive (INVITE server transactions linger 64*T1 after the 2xx,
//! RFC 6026 Timer L, so a busy server holds tens of thousands).
//!
//! Invalidation is lazy: every (re)schedule pushes a heap entry and records the one
//! deadline that is current for the transaction; entries that no longer match are dropped
//! when they reach the top. The top is kept valid after every call, so `next` is exact.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::Instant;

use super::{ClientTxId, ServerTxId};

/// A transaction of either side, as the timer queue names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum TxRef {
    Server(ServerTxId),
    Client(ClientTxId),
}

/// Min-heap of `(deadline, transaction)` with lazy invalidation.
#[derive(Debug, Default)]
pub(crate) struct TimerQueue {
    heap: BinaryHeap<Reverse<(Instant, TxRef)>>,
    /// The current deadline of every scheduled transaction.
    current: HashMap<TxRef, Instant>,
}

impl TimerQueue {
    /// Set (or clear, with `None`) the deadline of `tx`.
    pub(crate) fn schedule(&mut self, tx: TxRef, at: Option<Instant>) {
        match at {
            Some(at) => {
                if self.current.insert(tx, at) != Some(at) {
                    self.heap.push(Reverse((at, tx)));
                }
            }
            None => {
                self.current.remove(&tx);
            }
        }
        self.prune();
    }

    /// The earliest current deadline.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((at, _))| *at)
    }

    /// Every transaction whose deadline is at or before `now`, earliest first. They are
    /// unscheduled: the caller fires them and schedules their next deadline.
    pub(crate) fn take_due(&mut self, now: Instant) -> Vec<TxRef> {
        let mut due = Vec::new();
        while let Some(&Reverse((at, tx))) = self.heap.peek() {
            if at > now {
                break;
            }
            self.heap.pop();
            if self.current.get(&tx) == Some(&at) {
                self.current.remove(&tx);
                due.push(tx);
            }
        }
        self.prune();
        due
    }

    /// Heap entries, stale ones included (tests bound the garbage).
    #[cfg(test)]
    pub(crate) fn entries(&self) -> usize {
        self.heap.len()
    }

    /// Drop stale entries from the top so `next` is exact.
    fn prune(&mut self) {
        while let Some(Reverse((at, tx))) = self.heap.peek() {
            if self.current.get(tx) == Some(at) {
                break;
            }
            self.heap.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn s(n: u64) -> TxRef {
        TxRef::Server(ServerTxId(n))
    }

    #[test]
    fn reschedule_and_cancel_invalidate_old_entries() {
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        let mut q = TimerQueue::default();
        q.schedule(s(1), Some(at(500)));
        q.schedule(s(2), Some(at(100)));
        q.schedule(TxRef::Client(ClientTxId(3)), Some(at(300)));
        assert_eq!(q.next(), Some(at(100)));
        q.schedule(s(2), Some(at(900))); // moved later: the 100 entry is stale
        assert_eq!(q.next(), Some(at(300)));
        q.schedule(TxRef::Client(ClientTxId(3)), None); // cancelled
        assert_eq!(q.next(), Some(at(500)));
        assert_eq!(q.take_due(at(499)), []);
        assert_eq!(q.take_due(at(1000)), [s(1), s(2)]);
        assert_eq!(q.next(), None);
        assert_eq!(q.entries(), 0);
    }

    #[test]
    fn back_and_forth_fires_once() {
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        let mut q = TimerQueue::default();
        q.schedule(s(1), Some(at(10)));
        q.schedule(s(1), Some(at(20)));
        q.schedule(s(1), Some(at(10)));
        assert_eq!(q.take_due(at(30)), [s(1)]);
        assert_eq!(q.next(), None);
    }
}
