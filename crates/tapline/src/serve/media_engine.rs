//! The RTP receive path, sharded over N media threads (OS threads, apart from the SIP core's
//! tokio runtime so media load never delays signalling). Each shard has its own epoll (mio) and
//! slab of streams, reads readable sockets with batched `recvmmsg` and places the decoded audio
//! on each stream's timeline. Nothing is allocated, locked or woken per packet: audio leaves a
//! shard in ~100 ms chunks for the writer thread, counters are published per flush, and
//! control messages arrive on a channel with a waker.
//!
//! All streams of a recording live on one shard: they share a time zero (the first packet of
//! any of them, less a slack for streams that settle earlier; see [`clock`]), which stays a
//! plain value inside one thread.

mod batch;
pub(crate) mod clock;
pub(crate) mod held;
pub(crate) mod idle;
mod shard;
pub(crate) mod source;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::time::Instant;

use mio::{Poll, Waker};
use tapline_media::{DtmfEvent, StreamStats};

use super::media_plan::MediaPlan;
use super::stats::ServerStats;
use super::writer::WriterHandle;

/// Upper bound of the default thread count: RTP work per core is small, the writer and the SIP
/// core need cores too.
const DEFAULT_THREADS_MAX: usize = 4;
/// Upper bound of a configured thread count.
const THREADS_MAX: usize = 64;

/// Identifies a stream across threads: the recording's number and the stream's index in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct StreamKey {
    pub(crate) recording: u64,
    pub(crate) stream: usize,
}

/// What the engine needs to receive one stream.
pub(crate) struct StreamSpec {
    pub(crate) key: StreamKey,
    pub(crate) rtp: std::net::UdpSocket,
    pub(crate) rtcp: std::net::UdpSocket,
    pub(crate) plan: MediaPlan,
    pub(crate) reorder_ms: u32,
    /// Which senders the stream records.
    pub(crate) source: source::SourceFilter,
    /// The stream's port lease, kept with its sockets.
    pub(crate) lease: super::ports::Lease,
}

/// Final statistics of a removed stream.
#[derive(Debug, Clone, Default)]
pub(crate) struct StreamReport {
    pub(crate) stats: StreamStats,
    pub(crate) rtcp_packets: u64,
    /// Datagrams from the source that were not audio we decode.
    pub(crate) not_audio_packets: u64,
    /// Datagrams from other sources (dropped), and which source was recorded.
    pub(crate) source: source::SourceReport,
    pub(crate) cn_packets: u64,
    pub(crate) dtmf: Vec<DtmfEvent>,
    pub(crate) sample_rate: u32,
    pub(crate) rtp_clock: u32,
    /// First packet: RTP timestamp and where it was placed on the recording axis (samples at
    /// sample_rate from `origin`).
    pub(crate) first: Option<(u32, u64)>,
    /// The recording's time zero: the instant of the files' first sample.
    pub(crate) origin: Option<Instant>,
    /// Last RTCP sender report: NTP timestamp and RTP timestamp.
    pub(crate) last_sr: Option<(u64, u32)>,
    pub(crate) sr_count: u64,
}

/// How the media threads reach the SIP core (called rarely: media timeouts).
pub(crate) type Notify = Arc<dyn Fn(idle::MediaEvent) + Send + Sync>;

enum Command {
    Add(Box<StreamSpec>),
    /// New formats after a re-offer (codec change, RFC 3264 8.3.2).
    Update(StreamKey, Box<MediaPlan>),
    /// A re-offer names this address for the stream (`c=`).
    Reoffered(StreamKey, Option<std::net::IpAddr>),
    /// The stream was paused or resumed: its silence counts from now.
    RestartIdle(StreamKey),
    Remove(StreamKey, tokio::sync::oneshot::Sender<StreamReport>),
    Shutdown,
}

/// Which shard receives which recording: new recordings go round-robin over the shards, and
/// every stream of a recording follows its first one. A recording is forgotten when its last
/// stream is removed.
#[derive(Debug)]
pub(crate) struct Affinity {
    shards: usize,
    next: usize,
    /// Per recording: its shard and the stream indices placed there.
    recordings: HashMap<u64, (usize, Vec<usize>)>,
}

impl Affinity {
    /// Round-robin over `shards` shards (at least one).
    pub(crate) fn new(shards: usize) -> Affinity {
        Affinity {
            shards: shards.max(1),
            next: 0,
            recordings: HashMap::new(),
        }
    }

    /// The shard for a new stream (its recording's shard, or the next one in turn).
    pub(crate) fn assign(&mut self, key: StreamKey) -> usize {
        let (next, shards) = (&mut self.next, self.shards);
        let (shard, streams) = self.recordings.entry(key.recording).or_insert_with(|| {
            let s = *next;
            *next = (s + 1) % shards;
            (s, Vec::new())
        });
        if !streams.contains(&key.stream) {
            streams.push(key.stream);
        }
        *shard
    }

    /// The shard a stream was placed on.
    pub(crate) fn shard_of(&self, key: StreamKey) -> Option<usize> {
        self.recordings
            .get(&key.recording)
            .filter(|(_, streams)| streams.contains(&key.stream))
            .map(|(shard, _)| *shard)
    }

    /// Forget a stream; returns the shard it was on (`None` if it was never assigned).
    pub(crate) fn release(&mut self, key: StreamKey) -> Option<usize> {
        let (shard, streams) = self.recordings.get_mut(&key.recording)?;
        let shard = *shard;
        let at = streams.iter().position(|s| *s == key.stream)?;
        streams.swap_remove(at);
        if streams.is_empty() {
            self.recordings.remove(&key.recording);
        }
        Some(shard)
    }
}

/// One shard's command channel.
struct ShardTx {
    tx: mpsc::Sender<Command>,
    waker: Waker,
}

/// Handle used by the SIP side to add and remove streams.
#[derive(Clone)]
pub(crate) struct MediaHandle {
    shards: Arc<[ShardTx]>,
    affinity: Arc<Mutex<Affinity>>,
    stats: Arc<ServerStats>,
}

impl MediaHandle {
    fn send(&self, shard: usize, c: Command) {
        if let Some(s) = self.shards.get(shard) {
            if s.tx.send(c).is_ok() {
                let _ = s.waker.wake();
            }
        }
    }

    /// The lock guards only stream placement (a few times per call), never a packet.
    fn affinity(&self) -> std::sync::MutexGuard<'_, Affinity> {
        self.affinity.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn add(&self, spec: StreamSpec) {
        let shard = self.affinity().assign(spec.key);
        self.send(shard, Command::Add(Box::new(spec)));
    }

    /// Change the formats a stream accepts.
    pub(crate) fn update(&self, key: StreamKey, plan: MediaPlan) {
        let shard = self.affinity().shard_of(key);
        if let Some(shard) = shard {
            self.send(shard, Command::Update(key, Box::new(plan)));
        }
    }

    /// A re-offer's `c=` address for the stream (the source check follows it).
    pub(crate) fn reoffered(&self, key: StreamKey, offered: Option<std::net::IpAddr>) {
        let shard = self.affinity().shard_of(key);
        if let Some(shard) = shard {
            self.send(shard, Command::Reoffered(key, offered));
        }
    }

    /// The stream was paused or resumed: the media timeout counts from now.
    pub(crate) fn restart_idle(&self, key: StreamKey) {
        let shard = self.affinity().shard_of(key);
        if let Some(shard) = shard {
            self.send(shard, Command::RestartIdle(key));
        }
    }

    /// Stop receiving; the remaining audio is flushed to the writer before the report is sent.
    pub(crate) fn remove(&self, key: StreamKey) -> tokio::sync::oneshot::Receiver<StreamReport> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let shard = self.affinity().release(key);
        match shard {
            Some(shard) => self.send(shard, Command::Remove(key, tx)),
            None => {
                let _ = tx.send(StreamReport::default());
            }
        }
        rx
    }

    /// Stop every media thread.
    pub(crate) fn shutdown(&self) {
        for i in 0..self.shards.len() {
            self.send(i, Command::Shutdown);
        }
    }

    /// The counters the media threads publish.
    pub(crate) fn stats(&self) -> Arc<ServerStats> {
        self.stats.clone()
    }
}

/// The media threads, joined together.
pub(crate) struct MediaThreads(Vec<std::thread::JoinHandle<()>>);

impl MediaThreads {
    /// Wait for every media thread; the first panic is returned.
    pub(crate) fn join(self) -> std::thread::Result<()> {
        let mut result = Ok(());
        for j in self.0 {
            let r = j.join();
            if result.is_ok() {
                result = r;
            }
        }
        result
    }
}

/// How many media threads to run: the configured number (1 to 64), or by default the
/// available parallelism capped at 4.
pub(crate) fn thread_count(configured: Option<usize>) -> usize {
    match configured {
        Some(n) => n.clamp(1, THREADS_MAX),
        None => std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(DEFAULT_THREADS_MAX),
    }
}

/// Start `threads` media threads (see [`thread_count`]); `notify` hears about recordings that
/// stopped sending for `timeouts`.
pub(crate) fn spawn(
    writer: WriterHandle,
    threads: usize,
    timeouts: idle::Timeouts,
    notify: Notify,
) -> std::io::Result<(MediaHandle, MediaThreads)> {
    let threads = threads.max(1);
    let stats = ServerStats::new(threads);
    let mut shards = Vec::with_capacity(threads);
    let mut joins = Vec::with_capacity(threads);
    for i in 0..threads {
        let poll = Poll::new()?;
        let waker = Waker::new(poll.registry(), shard::WAKER)?;
        let (tx, rx) = mpsc::channel();
        let (writer, stats, notify) = (writer.clone(), stats.clone(), notify.clone());
        let join = std::thread::Builder::new()
            .name(format!("tapline-media-{i}"))
            .spawn(move || shard::Shard::new(i, poll, writer, stats, timeouts, notify).run(rx))?;
        shards.push(ShardTx { tx, waker });
        joins.push(join);
    }
    let handle = MediaHandle {
        shards: shards.into(),
        affinity: Arc::new(Mutex::new(Affinity::new(threads))),
        stats,
    };
    Ok((handle, MediaThreads(joins)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(recording: u64, stream: usize) -> StreamKey {
        StreamKey { recording, stream }
    }

    #[test]
    fn recordings_go_round_robin_and_their_streams_follow() {
        let mut a = Affinity::new(3);
        assert_eq!(a.assign(key(10, 0)), 0);
        assert_eq!(a.assign(key(11, 0)), 1);
        assert_eq!(a.assign(key(10, 1)), 0, "second stream joins its recording");
        assert_eq!(a.assign(key(12, 0)), 2);
        assert_eq!(a.assign(key(13, 0)), 0, "wraps around");
        assert_eq!(a.assign(key(11, 5)), 1);
        assert_eq!(a.shard_of(key(11, 5)), Some(1));
        assert_eq!(a.shard_of(key(11, 4)), None, "never added");
        assert_eq!(a.shard_of(key(99, 0)), None);
    }

    #[test]
    fn a_recording_keeps_its_shard_until_its_last_stream_leaves() {
        let mut a = Affinity::new(2);
        assert_eq!(a.assign(key(1, 0)), 0);
        assert_eq!(a.assign(key(1, 1)), 0);
        assert_eq!(a.release(key(1, 0)), Some(0));
        assert_eq!(a.release(key(1, 0)), None, "released twice");
        // A stream added by a re-offer while another still runs stays with the recording.
        assert_eq!(a.assign(key(2, 0)), 1);
        assert_eq!(a.assign(key(1, 2)), 0);
        assert_eq!(a.release(key(1, 1)), Some(0));
        assert_eq!(a.release(key(1, 2)), Some(0));
        assert_eq!(a.shard_of(key(1, 2)), None, "recording 1 is forgotten");
        assert_eq!(a.release(key(2, 0)), Some(1));
        assert!(a.recordings.is_empty());
        assert_eq!(a.release(key(7, 0)), None, "unknown recording");
    }

    #[test]
    fn one_shard_takes_everything() {
        let mut a = Affinity::new(0);
        for r in 0..5 {
            assert_eq!(a.assign(key(r, 0)), 0);
        }
    }

    #[test]
    fn default_thread_count_is_capped_and_configured_is_clamped() {
        let n = thread_count(None);
        assert!((1..=DEFAULT_THREADS_MAX).contains(&n), "{n}");
        assert_eq!(thread_count(Some(0)), 1);
        assert_eq!(thread_count(Some(6)), 6);
        assert_eq!(thread_count(Some(1000)), THREADS_MAX);
    }
}
