//! TCP limits: how many connections are admitted (in total and per source IP), and a
//! throttle so that refusals under a flood log one line per period, not one per attempt.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::config::Config;

/// The TCP settings of the configuration, as the transport uses them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TcpLimits {
    /// A connection carrying no recording is closed after this long without a message.
    pub(crate) idle: Duration,
    /// A message must be complete this long after its first bytes arrived.
    pub(crate) message: Duration,
    pub(crate) max_connections: usize,
    pub(crate) max_per_source: usize,
    /// Bytes that may wait to be sent on one connection.
    pub(crate) max_send_buffer: usize,
}

impl TcpLimits {
    pub(crate) fn from_config(c: &Config) -> TcpLimits {
        TcpLimits {
            idle: Duration::from_secs(c.tcp_idle_secs),
            message: Duration::from_secs(c.tcp_message_timeout_secs),
            max_connections: c.tcp_max_connections,
            max_per_source: c.tcp_max_per_source,
            max_send_buffer: c.tcp_max_send_buffer_bytes,
        }
    }
}

/// Why a new connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Refusal {
    #[error("{0} TCP connections open (tcp_max_connections)")]
    Total(usize),
    #[error("{0} TCP connections open from this address (tcp_max_per_source)")]
    PerSource(usize),
}

/// Open connections, in total and per source IP.
#[derive(Debug)]
pub(crate) struct Admission {
    max_total: usize,
    max_per_source: usize,
    total: usize,
    per_source: HashMap<IpAddr, usize>,
}

impl Admission {
    pub(crate) fn new(max_total: usize, max_per_source: usize) -> Admission {
        Admission {
            max_total,
            max_per_source,
            total: 0,
            per_source: HashMap::new(),
        }
    }

    /// Count a new connection from `ip`, or refuse it.
    pub(crate) fn admit(&mut self, ip: IpAddr) -> Result<(), Refusal> {
        if self.total >= self.max_total {
            return Err(Refusal::Total(self.total));
        }
        let n = self.per_source.entry(ip).or_insert(0);
        if *n >= self.max_per_source {
            return Err(Refusal::PerSource(*n));
        }
        *n += 1;
        self.total += 1;
        Ok(())
    }

    /// A connection from `ip` closed.
    pub(crate) fn leave(&mut self, ip: IpAddr) {
        if let Some(n) = self.per_source.get_mut(&ip) {
            *n -= 1;
            if *n == 0 {
                self.per_source.remove(&ip);
            }
            self.total = self.total.saturating_sub(1);
        }
    }

    #[cfg(test)]
    fn sources(&self) -> usize {
        self.per_source.len()
    }
}

/// One admitted connection; dropping it gives its place back.
pub(crate) struct Admitted {
    table: Arc<Mutex<Admission>>,
    ip: IpAddr,
}

impl Admitted {
    /// Admit a connection from `ip` into the shared table.
    pub(crate) fn try_new(table: &Arc<Mutex<Admission>>, ip: IpAddr) -> Result<Admitted, Refusal> {
        table.lock().unwrap_or_else(|e| e.into_inner()).admit(ip)?;
        Ok(Admitted {
            table: table.clone(),
            ip,
        })
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.table
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .leave(self.ip);
    }
}

/// At most one log line per `every`; the line tells how many events it stands for.
#[derive(Debug)]
pub(crate) struct LogThrottle {
    every: Duration,
    last: Option<Instant>,
    suppressed: u64,
}

impl LogThrottle {
    pub(crate) fn new(every: Duration) -> LogThrottle {
        LogThrottle {
            every,
            last: None,
            suppressed: 0,
        }
    }

    /// An event at `now`: `Some(n)` when it should be logged, `n` being the events not
    /// logged since the previous line; `None` when it is to be counted silently.
    pub(crate) fn hit(&mut self, now: Instant) -> Option<u64> {
        match self.last {
            Some(t) if now.duration_since(t) < self.every => {
                self.suppressed += 1;
                None
            }
            _ => {
                self.last = Some(now);
                Some(std::mem::take(&mut self.suppressed))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2));

    #[test]
    fn per_source_then_total() {
        let mut t = Admission::new(3, 2);
        t.admit(A).unwrap();
        t.admit(A).unwrap();
        assert_eq!(t.admit(A), Err(Refusal::PerSource(2)));
        t.admit(B).unwrap();
        assert_eq!(t.admit(B), Err(Refusal::Total(3)));
        t.leave(A);
        t.admit(B).unwrap();
        assert_eq!(t.admit(A), Err(Refusal::Total(3)));
    }

    #[test]
    fn leaving_frees_the_place_and_forgets_the_source() {
        let table = Arc::new(Mutex::new(Admission::new(10, 1)));
        let first = Admitted::try_new(&table, A).unwrap();
        assert!(Admitted::try_new(&table, A).is_err());
        drop(first);
        let again = Admitted::try_new(&table, A).unwrap();
        drop(again);
        let t = table.lock().unwrap();
        assert_eq!((t.total, t.sources()), (0, 0));
    }

    #[test]
    fn leave_of_an_unknown_source_changes_nothing() {
        let mut t = Admission::new(1, 1);
        t.admit(A).unwrap();
        t.leave(B);
        assert_eq!(t.admit(B), Err(Refusal::Total(1)));
    }

    #[test]
    fn throttle_logs_once_per_period_with_the_count() {
        let t0 = Instant::now();
        let mut th = LogThrottle::new(Duration::from_secs(10));
        assert_eq!(th.hit(t0), Some(0));
        for i in 1..=5 {
            assert_eq!(th.hit(t0 + Duration::from_secs(i)), None);
        }
        assert_eq!(th.hit(t0 + Duration::from_secs(10)), Some(5));
        assert_eq!(th.hit(t0 + Duration::from_secs(11)), None);
    }
}
