//! The RTP receive path: one thread polls every RTP/RTCP socket with epoll (mio), drains each
//! readable socket into a stack buffer, and places the decoded audio on the stream's timeline.
//! Nothing is allocated, locked or woken per packet: audio leaves the thread in ~100 ms chunks
//! for the writer thread, and control messages arrive on a channel with a waker.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use mio::net::UdpSocket;
use mio::{Events, Interest, Poll, Token, Waker};
use tapline_media::{DtmfEvent, DtmfTracker, StreamStats, StreamTimeline, TimelineConfig};

use super::media_plan::MediaPlan;
use super::media_slot::{Slot, decoders_for};
use super::writer::{WriterHandle, WriterMsg};

const WAKER: Token = Token(usize::MAX);
/// How often decoded audio is handed to the writer.
const FLUSH_EVERY: Duration = Duration::from_millis(100);

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
}

/// Final statistics of a removed stream.
#[derive(Debug, Clone, Default)]
pub(crate) struct StreamReport {
    pub(crate) stats: StreamStats,
    pub(crate) rtcp_packets: u64,
    pub(crate) foreign_packets: u64,
    pub(crate) cn_packets: u64,
    pub(crate) dtmf: Vec<DtmfEvent>,
    pub(crate) sample_rate: u32,
    pub(crate) rtp_clock: u32,
    /// First packet: RTP timestamp and its position on the recording axis (in sample_rate).
    pub(crate) first: Option<(u32, u64)>,
    /// The recording's time zero (first packet of any of its streams).
    pub(crate) origin: Option<Instant>,
    /// Last RTCP sender report: NTP timestamp and RTP timestamp.
    pub(crate) last_sr: Option<(u64, u32)>,
    pub(crate) sr_count: u64,
}

enum Command {
    Add(Box<StreamSpec>),
    /// New formats after a re-offer (codec change, RFC 3264 8.3.2).
    Update(StreamKey, Box<MediaPlan>),
    Remove(StreamKey, tokio::sync::oneshot::Sender<StreamReport>),
    Shutdown,
}

/// Handle used by the SIP side to add and remove streams.
#[derive(Clone)]
pub(crate) struct MediaHandle {
    tx: mpsc::Sender<Command>,
    waker: std::sync::Arc<Waker>,
}

impl MediaHandle {
    fn send(&self, c: Command) {
        if self.tx.send(c).is_ok() {
            let _ = self.waker.wake();
        }
    }

    pub(crate) fn add(&self, spec: StreamSpec) {
        self.send(Command::Add(Box::new(spec)));
    }

    /// Change the formats a stream accepts.
    pub(crate) fn update(&self, key: StreamKey, plan: MediaPlan) {
        self.send(Command::Update(key, Box::new(plan)));
    }

    /// Stop receiving; the remaining audio is flushed to the writer before the report is sent.
    pub(crate) fn remove(&self, key: StreamKey) -> tokio::sync::oneshot::Receiver<StreamReport> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.send(Command::Remove(key, tx));
        rx
    }

    pub(crate) fn shutdown(&self) {
        self.send(Command::Shutdown);
    }
}

/// Start the media thread.
pub(crate) fn spawn(
    writer: WriterHandle,
) -> std::io::Result<(MediaHandle, std::thread::JoinHandle<()>)> {
    let poll = Poll::new()?;
    let waker = std::sync::Arc::new(Waker::new(poll.registry(), WAKER)?);
    let (tx, rx) = mpsc::channel();
    let join = std::thread::Builder::new()
        .name("tapline-media".into())
        .spawn(move || Engine::new(poll, writer).run(rx))?;
    Ok((MediaHandle { tx, waker }, join))
}

struct Engine {
    poll: Poll,
    writer: WriterHandle,
    /// Slots are indexed by token/2 (RTP = even token, RTCP = odd token).
    slots: Vec<Option<Slot>>,
    free: Vec<usize>,
    index: HashMap<StreamKey, usize>,
    /// Per recording: its time zero (once a packet arrived) and how many streams it has here.
    origins: HashMap<u64, (Option<Instant>, usize)>,
}

impl Engine {
    fn new(poll: Poll, writer: WriterHandle) -> Engine {
        Engine {
            poll,
            writer,
            slots: Vec::new(),
            free: Vec::new(),
            index: HashMap::new(),
            origins: HashMap::new(),
        }
    }

    fn run(mut self, rx: mpsc::Receiver<Command>) {
        let mut events = Events::with_capacity(1024);
        let mut buf = [0u8; 2048];
        let mut last_flush = Instant::now();
        loop {
            if let Err(e) = self.poll.poll(&mut events, Some(FLUSH_EVERY / 2)) {
                if e.kind() != ErrorKind::Interrupted {
                    tracing::error!(error = %e, "media poll failed");
                }
            }
            let now = Instant::now();
            for event in events.iter() {
                let token = event.token();
                if token == WAKER {
                    continue;
                }
                let Some(Some(slot)) = self.slots.get_mut(token.0 / 2) else {
                    continue;
                };
                if token.0 % 2 == 0 {
                    let origin = self.origins.entry(slot.key.recording).or_insert((None, 1));
                    slot.receive_rtp(now, &mut buf, &mut origin.0);
                } else {
                    slot.receive_rtcp(now, &mut buf);
                }
            }
            loop {
                match rx.try_recv() {
                    Ok(Command::Add(spec)) => self.add(*spec),
                    Ok(Command::Update(key, plan)) => {
                        if let Some(slot) = self
                            .index
                            .get(&key)
                            .and_then(|i| self.slots.get_mut(*i))
                            .and_then(Option::as_mut)
                        {
                            slot.decoders = decoders_for(&plan);
                            slot.telephone_event = plan.telephone_event;
                        }
                    }
                    Ok(Command::Remove(key, reply)) => {
                        let _ = reply.send(self.remove(key, &mut buf));
                    }
                    Ok(Command::Shutdown) | Err(mpsc::TryRecvError::Disconnected) => return,
                    Err(mpsc::TryRecvError::Empty) => break,
                }
            }
            if now.duration_since(last_flush) >= FLUSH_EVERY {
                last_flush = now;
                for slot in self.slots.iter_mut().flatten() {
                    // A stream that has not received anything yet still advances (with silence)
                    // once its recording has a time zero, so the stereo file never waits on it.
                    if slot.start.is_none() {
                        slot.start = self.origins.get(&slot.key.recording).and_then(|o| o.0);
                    }
                    slot.drain(now);
                    send_pending(slot, &self.writer);
                    slot.maybe_send_rr(now);
                }
            }
        }
    }

    fn add(&mut self, spec: StreamSpec) {
        let i = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        let mut rtp = UdpSocket::from_std(spec.rtp);
        let mut rtcp = UdpSocket::from_std(spec.rtcp);
        let registry = self.poll.registry();
        if let Err(e) = registry
            .register(&mut rtp, Token(i * 2), Interest::READABLE)
            .and_then(|()| registry.register(&mut rtcp, Token(i * 2 + 1), Interest::READABLE))
        {
            tracing::error!(error = %e, "cannot poll RTP socket; stream will not be recorded");
            self.free.push(i);
            return;
        }
        let origin = self.origins.entry(spec.key.recording).or_insert((None, 0));
        origin.1 += 1;
        let rate = spec.plan.sample_rate.max(1);
        let timeline = StreamTimeline::new(TimelineConfig {
            clock_rate: rate,
            reorder_window: spec.reorder_ms.saturating_mul(rate) / 1000,
            capacity: rate.saturating_mul(2),
            max_jump: rate.saturating_mul(2),
        });
        self.index.insert(spec.key, i);
        if let Some(s) = self.slots.get_mut(i) {
            *s = Some(Slot {
                key: spec.key,
                rtp,
                rtcp,
                decoders: decoders_for(&spec.plan),
                telephone_event: spec.plan.telephone_event,
                sample_rate: rate,
                rtp_clock: spec.plan.rtp_clock.max(1),
                start: None,
                timeline,
                dtmf: DtmfTracker::new(),
                dtmf_events: Vec::new(),
                pending: Vec::with_capacity(rate as usize / 5),
                pending_start: None,
                rtcp_packets: 0,
                foreign_packets: 0,
                cn_packets: 0,
                first: None,
                last_sr: None,
                sr_count: 0,
                rtp_source: None,
                rtcp_source: None,
                last_rr: None,
                rr_expected: 0,
                rr_received: 0,
                our_ssrc: fastrand::u32(..),
            });
        }
    }

    fn remove(&mut self, key: StreamKey, buf: &mut [u8]) -> StreamReport {
        let Some(i) = self.index.remove(&key) else {
            return StreamReport::default();
        };
        let Some(mut slot) = self.slots.get_mut(i).and_then(Option::take) else {
            return StreamReport::default();
        };
        let _ = self.poll.registry().deregister(&mut slot.rtp);
        let _ = self.poll.registry().deregister(&mut slot.rtcp);
        // Read what is still queued in the socket before closing.
        let now = Instant::now();
        let origin = self.origins.entry(key.recording).or_insert((None, 1));
        slot.receive_rtp(now, buf, &mut origin.0);
        if slot.start.is_none() {
            slot.start = origin.0;
        }
        slot.finish(now);
        send_pending(&mut slot, &self.writer);
        if let Some(origin) = self.origins.get_mut(&key.recording) {
            origin.1 = origin.1.saturating_sub(1);
            if origin.1 == 0 {
                self.origins.remove(&key.recording);
            }
        }
        self.free.push(i);
        slot.report()
    }
}

fn send_pending(slot: &mut Slot, writer: &WriterHandle) {
    let Some(start) = slot.pending_start.take() else {
        return;
    };
    if slot.pending.is_empty() {
        return;
    }
    let samples = std::mem::replace(
        &mut slot.pending,
        Vec::with_capacity(slot.sample_rate as usize / 5),
    );
    writer.send(WriterMsg::Audio {
        recording: slot.key.recording,
        stream: slot.key.stream,
        start,
        samples,
    });
}
