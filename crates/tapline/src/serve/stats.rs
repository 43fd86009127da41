//! Server-wide receive counters. Each media shard adds up its streams every flush (~100 ms) and
//! publishes the sums into its own atomics, so the packet path never touches shared memory; a
//! reader sums the shards. Served as JSON on a Unix socket (`DATA_DIR/tapline.sock`, read by
//! `tapline stats`) and logged on SIGUSR1.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use tokio::io::AsyncWriteExt;

use super::ports::PortPool;

/// Counter values of one shard, one stream or the whole server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Totals {
    /// Unique RTP packets received (duplicates excluded, late ones included).
    pub(crate) packets_received: u64,
    /// Packets expected from the sequence numbers but never received (RFC 3550 A.3).
    pub(crate) packets_lost: u64,
    /// Packets that arrived after their place in the file was written.
    pub(crate) packets_late: u64,
    /// Packets received twice.
    pub(crate) packets_duplicate: u64,
    /// Datagrams dropped because they came from another source than the stream's.
    pub(crate) packets_foreign: u64,
    /// RTP datagram bytes read from the sockets (all datagrams, foreign ones too).
    pub(crate) bytes_received: u64,
    /// Decoded PCM bytes handed to the writer (the data of the per-stream files).
    pub(crate) bytes_written: u64,
    /// Streams being received.
    pub(crate) active_streams: u64,
    /// Recordings with at least one stream being received.
    pub(crate) active_recordings: u64,
}

impl Totals {
    /// Add `o` field by field (saturating: counters never wrap).
    pub(crate) fn add(&mut self, o: &Totals) {
        self.packets_received = self.packets_received.saturating_add(o.packets_received);
        self.packets_lost = self.packets_lost.saturating_add(o.packets_lost);
        self.packets_late = self.packets_late.saturating_add(o.packets_late);
        self.packets_duplicate = self.packets_duplicate.saturating_add(o.packets_duplicate);
        self.packets_foreign = self.packets_foreign.saturating_add(o.packets_foreign);
        self.bytes_received = self.bytes_received.saturating_add(o.bytes_received);
        self.bytes_written = self.bytes_written.saturating_add(o.bytes_written);
        self.active_streams = self.active_streams.saturating_add(o.active_streams);
        self.active_recordings = self.active_recordings.saturating_add(o.active_recordings);
    }
}

/// One shard's published counters (written by that shard only).
#[derive(Debug, Default)]
pub(crate) struct ShardCounters([AtomicU64; 9]);

impl ShardCounters {
    /// Publish the shard's current sums (Relaxed: each value stands alone; a reader may see
    /// one flush's received with the previous flush's lost, which is fine for monitoring).
    pub(crate) fn publish(&self, t: &Totals) {
        let values = [
            t.packets_received,
            t.packets_lost,
            t.packets_late,
            t.packets_duplicate,
            t.packets_foreign,
            t.bytes_received,
            t.bytes_written,
            t.active_streams,
            t.active_recordings,
        ];
        for (a, v) in self.0.iter().zip(values) {
            a.store(v, Ordering::Relaxed);
        }
    }

    /// The last published values.
    pub(crate) fn load(&self) -> Totals {
        let [a, b, c, d, x, e, f, g, h] = &self.0;
        let get = |x: &AtomicU64| x.load(Ordering::Relaxed);
        Totals {
            packets_received: get(a),
            packets_lost: get(b),
            packets_late: get(c),
            packets_duplicate: get(d),
            packets_foreign: get(x),
            bytes_received: get(e),
            bytes_written: get(f),
            active_streams: get(g),
            active_recordings: get(h),
        }
    }
}

/// The counters of every media shard.
#[derive(Debug)]
pub(crate) struct ServerStats {
    shards: Vec<ShardCounters>,
}

/// What `tapline stats` prints: the server totals, then the per-shard breakdown.
#[derive(Debug, Serialize)]
pub(crate) struct Snapshot {
    #[serde(flatten)]
    pub(crate) totals: Totals,
    pub(crate) media_threads: usize,
    /// RTP/RTCP port pairs not in use, and in the range.
    pub(crate) rtp_port_pairs_free: usize,
    pub(crate) rtp_port_pairs_total: usize,
    pub(crate) shards: Vec<Totals>,
}

impl ServerStats {
    /// Counters for `shards` media threads, all zero.
    pub(crate) fn new(shards: usize) -> Arc<ServerStats> {
        Arc::new(ServerStats {
            shards: (0..shards).map(|_| ShardCounters::default()).collect(),
        })
    }

    /// The counters shard `i` publishes into (`None` if out of range).
    pub(crate) fn shard(&self, i: usize) -> Option<&ShardCounters> {
        self.shards.get(i)
    }

    /// Sum of the shards, with the breakdown and the port pool.
    pub(crate) fn snapshot(&self, ports: &PortPool) -> Snapshot {
        let shards: Vec<Totals> = self.shards.iter().map(ShardCounters::load).collect();
        let mut totals = Totals::default();
        for s in &shards {
            totals.add(s);
        }
        Snapshot {
            totals,
            media_threads: shards.len(),
            rtp_port_pairs_free: ports.available(),
            rtp_port_pairs_total: ports.total(),
            shards,
        }
    }
}

/// The stats socket while the server runs: removed (and its tasks stopped) on drop.
pub(crate) struct StatsService {
    path: Option<PathBuf>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for StatsService {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        if let Some(p) = &self.path {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Serve the counters on `DATA_DIR/tapline.sock` and log them on SIGUSR1. A socket that cannot
/// be bound (path too long, read-only directory) is logged and skipped: recording goes on.
pub(crate) fn start(data_dir: &Path, stats: Arc<ServerStats>, ports: PortPool) -> StatsService {
    let mut service = StatsService {
        path: None,
        tasks: Vec::new(),
    };
    let path = crate::stats::socket_path(data_dir);
    // A socket file left by a server that died is stale; this server owns the directory now.
    let _ = std::fs::remove_file(&path);
    match tokio::net::UnixListener::bind(&path) {
        Ok(listener) => {
            service.path = Some(path);
            let (stats, ports) = (stats.clone(), ports.clone());
            service
                .tasks
                .push(tokio::spawn(serve_socket(listener, stats, ports)));
        }
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "stats socket not available");
        }
    }
    service
        .tasks
        .push(tokio::spawn(log_on_sigusr1(stats, ports)));
    service
}

async fn serve_socket(
    listener: tokio::net::UnixListener,
    stats: Arc<ServerStats>,
    ports: PortPool,
) {
    loop {
        let Ok((mut conn, _)) = listener.accept().await else {
            // Out of descriptors, most likely: back off instead of spinning.
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            continue;
        };
        let mut line = serde_json::to_vec(&stats.snapshot(&ports)).unwrap_or_default();
        line.push(b'\n');
        // One answer per connection; a slow reader only delays itself.
        tokio::spawn(async move {
            let _ = conn.write_all(&line).await;
            let _ = conn.shutdown().await;
        });
    }
}

async fn log_on_sigusr1(stats: Arc<ServerStats>, ports: PortPool) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut usr1) = signal(SignalKind::user_defined1()) else {
        tracing::warn!("cannot listen for SIGUSR1; stats are on the socket only");
        return;
    };
    while usr1.recv().await.is_some() {
        let snap = stats.snapshot(&ports);
        let t = snap.totals;
        tracing::info!(
            packets_received = t.packets_received,
            packets_lost = t.packets_lost,
            packets_late = t.packets_late,
            packets_duplicate = t.packets_duplicate,
            packets_foreign = t.packets_foreign,
            bytes_received = t.bytes_received,
            bytes_written = t.bytes_written,
            active_streams = t.active_streams,
            active_recordings = t.active_recordings,
            rtp_port_pairs_free = snap.rtp_port_pairs_free,
            rtp_port_pairs_total = snap.rtp_port_pairs_total,
            "stats"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(n: u64) -> Totals {
        Totals {
            packets_received: n,
            packets_lost: n + 1,
            packets_late: n + 2,
            packets_duplicate: n + 3,
            packets_foreign: n + 8,
            bytes_received: n + 4,
            bytes_written: n + 5,
            active_streams: n + 6,
            active_recordings: n + 7,
        }
    }

    #[test]
    fn published_values_read_back_and_shards_sum() {
        let stats = ServerStats::new(2);
        stats.shard(0).unwrap().publish(&t(10));
        stats.shard(1).unwrap().publish(&t(100));
        assert!(stats.shard(2).is_none());
        assert_eq!(stats.shard(0).unwrap().load(), t(10));
        let pool = PortPool::new(crate::config::PortRange {
            low: 40000,
            high: 40009,
        });
        let snap = stats.snapshot(&pool);
        assert_eq!(
            (snap.rtp_port_pairs_free, snap.rtp_port_pairs_total),
            (5, 5)
        );
        assert_eq!(snap.media_threads, 2);
        assert_eq!(snap.totals.packets_received, 110);
        assert_eq!(snap.totals.active_recordings, 124);
        assert_eq!(snap.shards, vec![t(10), t(100)]);
        // The JSON is flat at the top: `tapline stats` consumers read totals directly.
        let v = serde_json::to_value(&snap).unwrap();
        assert_eq!(v["packets_lost"], 112);
        assert_eq!(v["shards"][1]["bytes_written"], 105);
    }

    #[test]
    fn totals_saturate() {
        let mut a = t(u64::MAX - 10);
        a.add(&t(10));
        assert_eq!(a.packets_received, u64::MAX);
    }
}
