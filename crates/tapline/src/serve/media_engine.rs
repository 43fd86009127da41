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
use tapline_media::{Codec, StreamStats, StreamTimeline, TimelineConfig, parse_rtp};

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
    /// Payload type -> codec for the formats we accepted (PCMU/PCMA also by static type).
    pub(crate) payload_types: Vec<(u8, Codec)>,
    pub(crate) telephone_event: Option<u8>,
    pub(crate) clock_rate: u32,
    pub(crate) reorder_ms: u32,
}

/// Final statistics of a removed stream.
#[derive(Debug, Clone, Default)]
pub(crate) struct StreamReport {
    pub(crate) stats: StreamStats,
    pub(crate) rtcp_packets: u64,
    pub(crate) foreign_packets: u64,
}

enum Command {
    Add(Box<StreamSpec>),
    /// New payload type map after a re-offer (codec change, RFC 3264 8.3.2).
    Update(StreamKey, Vec<(u8, Codec)>, Option<u8>),
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
    pub(crate) fn add(&self, spec: StreamSpec) {
        if self.tx.send(Command::Add(Box::new(spec))).is_ok() {
            let _ = self.waker.wake();
        }
    }

    /// Change the payload types a stream accepts.
    pub(crate) fn update(
        &self,
        key: StreamKey,
        payload_types: Vec<(u8, Codec)>,
        telephone_event: Option<u8>,
    ) {
        if self
            .tx
            .send(Command::Update(key, payload_types, telephone_event))
            .is_ok()
        {
            let _ = self.waker.wake();
        }
    }

    /// Stop receiving; the remaining audio is flushed to the writer before the report is sent.
    pub(crate) fn remove(&self, key: StreamKey) -> tokio::sync::oneshot::Receiver<StreamReport> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if self.tx.send(Command::Remove(key, tx)).is_ok() {
            let _ = self.waker.wake();
        }
        rx
    }

    pub(crate) fn shutdown(&self) {
        if self.tx.send(Command::Shutdown).is_ok() {
            let _ = self.waker.wake();
        }
    }
}

struct Slot {
    key: StreamKey,
    rtp: UdpSocket,
    rtcp: UdpSocket,
    payload_types: Vec<(u8, Codec)>,
    telephone_event: Option<u8>,
    clock_rate: u32,
    /// Time zero of the recording, shared by its streams: the arrival of the first RTP packet
    /// on any of them. Files start with the audio, not with the INVITE.
    start: Option<Instant>,
    timeline: StreamTimeline,
    pending: Vec<i16>,
    pending_start: Option<u64>,
    rtcp_packets: u64,
    foreign_packets: u64,
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
        .spawn(move || run(poll, rx, writer))?;
    Ok((MediaHandle { tx, waker }, join))
}

fn run(mut poll: Poll, rx: mpsc::Receiver<Command>, writer: WriterHandle) {
    let mut events = Events::with_capacity(1024);
    // Slots are indexed by token/2 (RTP = even token, RTCP = odd token).
    let mut slots: Vec<Option<Slot>> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    let mut index: HashMap<StreamKey, usize> = HashMap::new();
    // Per recording: its time zero (once a packet arrived) and how many streams it has here.
    let mut origins: HashMap<u64, (Option<Instant>, usize)> = HashMap::new();
    let mut buf = [0u8; 2048];
    let mut last_flush = Instant::now();
    loop {
        if let Err(e) = poll.poll(&mut events, Some(FLUSH_EVERY / 2)) {
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
            let Some(Some(slot)) = slots.get_mut(token.0 / 2) else {
                continue;
            };
            if token.0 % 2 == 0 {
                receive_rtp(slot, now, &mut buf, &mut origins);
            } else {
                while let Ok(_n) = slot.rtcp.recv(&mut buf) {
                    slot.rtcp_packets += 1;
                }
            }
        }
        // Control messages.
        loop {
            match rx.try_recv() {
                Ok(Command::Add(spec)) => {
                    let origin = origins.entry(spec.key.recording).or_insert((None, 0));
                    origin.1 += 1;
                    add(&mut poll, &mut slots, &mut free, &mut index, *spec);
                }
                Ok(Command::Update(key, pts, te)) => {
                    if let Some(slot) = index
                        .get(&key)
                        .and_then(|i| slots.get_mut(*i))
                        .and_then(Option::as_mut)
                    {
                        slot.payload_types = pts;
                        slot.telephone_event = te;
                    }
                }
                Ok(Command::Remove(key, reply)) => {
                    if let Some(i) = index.remove(&key) {
                        if let Some(mut slot) = slots.get_mut(i).and_then(Option::take) {
                            let _ = poll.registry().deregister(&mut slot.rtp);
                            let _ = poll.registry().deregister(&mut slot.rtcp);
                            // Read what is still queued in the socket before closing.
                            receive_rtp(&mut slot, Instant::now(), &mut buf, &mut origins);
                            finish(&mut slot, &writer);
                            if let Some(origin) = origins.get_mut(&key.recording) {
                                origin.1 = origin.1.saturating_sub(1);
                                if origin.1 == 0 {
                                    origins.remove(&key.recording);
                                }
                            }
                            let _ = reply.send(StreamReport {
                                stats: slot.timeline.stats(),
                                rtcp_packets: slot.rtcp_packets,
                                foreign_packets: slot.foreign_packets,
                            });
                            free.push(i);
                        }
                    } else {
                        let _ = reply.send(StreamReport::default());
                    }
                }
                Ok(Command::Shutdown) | Err(mpsc::TryRecvError::Disconnected) => return,
                Err(mpsc::TryRecvError::Empty) => break,
            }
        }
        if now.duration_since(last_flush) >= FLUSH_EVERY {
            last_flush = now;
            for slot in slots.iter_mut().flatten() {
                // A stream that has not received anything yet still advances (with silence)
                // once its recording has a time zero, so the stereo file never waits on it.
                let origin = origins.get(&slot.key.recording).and_then(|o| o.0);
                let Some(start) = slot.start.or(origin) else {
                    continue;
                };
                slot.start = Some(start);
                let pos = position(start, now, slot.clock_rate);
                let (pending, pending_start) = (&mut slot.pending, &mut slot.pending_start);
                slot.timeline.drain(pos, &mut |start, samples| {
                    pending_start.get_or_insert(start);
                    pending.extend_from_slice(samples);
                });
                send_pending(slot, &writer);
            }
        }
    }
}

fn add(
    poll: &mut Poll,
    slots: &mut Vec<Option<Slot>>,
    free: &mut Vec<usize>,
    index: &mut HashMap<StreamKey, usize>,
    spec: StreamSpec,
) {
    let i = free.pop().unwrap_or_else(|| {
        slots.push(None);
        slots.len() - 1
    });
    let mut rtp = UdpSocket::from_std(spec.rtp);
    let mut rtcp = UdpSocket::from_std(spec.rtcp);
    let registry = poll.registry();
    if let Err(e) = registry
        .register(&mut rtp, Token(i * 2), Interest::READABLE)
        .and_then(|()| registry.register(&mut rtcp, Token(i * 2 + 1), Interest::READABLE))
    {
        tracing::error!(error = %e, "cannot poll RTP socket; stream will not be recorded");
        free.push(i);
        return;
    }
    let clock_rate = spec.clock_rate.max(1);
    let timeline = StreamTimeline::new(TimelineConfig {
        clock_rate,
        reorder_window: spec.reorder_ms.saturating_mul(clock_rate) / 1000,
        capacity: clock_rate.saturating_mul(2),
        max_jump: clock_rate.saturating_mul(2),
    });
    index.insert(spec.key, i);
    if let Some(s) = slots.get_mut(i) {
        *s = Some(Slot {
            key: spec.key,
            rtp,
            rtcp,
            payload_types: spec.payload_types,
            telephone_event: spec.telephone_event,
            clock_rate,
            start: None,
            timeline,
            pending: Vec::with_capacity(clock_rate as usize / 5),
            pending_start: None,
            rtcp_packets: 0,
            foreign_packets: 0,
        });
    }
}

fn position(start: Instant, now: Instant, clock_rate: u32) -> u64 {
    let d = now.saturating_duration_since(start);
    (d.as_micros() as u64).saturating_mul(u64::from(clock_rate)) / 1_000_000
}

fn receive_rtp(
    slot: &mut Slot,
    now: Instant,
    buf: &mut [u8],
    origins: &mut HashMap<u64, (Option<Instant>, usize)>,
) {
    let mut arrival = slot
        .start
        .map(|start| position(start, now, slot.clock_rate));
    loop {
        let n = match slot.rtp.recv(buf) {
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => {
                tracing::debug!(error = %e, "RTP receive error");
                return;
            }
        };
        let Some(datagram) = buf.get(..n) else { return };
        let Ok(packet) = parse_rtp(datagram) else {
            slot.foreign_packets += 1;
            continue;
        };
        if Some(packet.payload_type) == slot.telephone_event {
            // DTMF events are never audio (RFC 4733); issue #4 records them as events.
            continue;
        }
        let codec = slot
            .payload_types
            .iter()
            .find(|(pt, _)| *pt == packet.payload_type)
            .map(|(_, c)| *c);
        match codec {
            Some(codec) => {
                let pos = match arrival {
                    Some(pos) => pos,
                    None => {
                        let origin = origins.entry(slot.key.recording).or_insert((None, 1));
                        let start = *origin.0.get_or_insert(now);
                        slot.start = Some(start);
                        let pos = position(start, now, slot.clock_rate);
                        arrival = Some(pos);
                        pos
                    }
                };
                slot.timeline.push(pos, &packet, codec);
            }
            None => slot.foreign_packets += 1,
        }
    }
}

/// End of the stream (BYE): everything received is written, and the file runs until now, so
/// every stream of the recording ends at the same moment (silence after the last packet is part
/// of the call).
fn finish(slot: &mut Slot, writer: &WriterHandle) {
    let (pending, pending_start) = (&mut slot.pending, &mut slot.pending_start);
    if let Some(start) = slot.start {
        let now = position(start, Instant::now(), slot.clock_rate);
        let window = u64::from(slot.timeline.config().reorder_window);
        slot.timeline.drain(now + window, &mut |start, samples| {
            pending_start.get_or_insert(start);
            pending.extend_from_slice(samples);
        });
    }
    slot.timeline.finish(&mut |start, samples| {
        pending_start.get_or_insert(start);
        pending.extend_from_slice(samples);
    });
    send_pending(slot, writer);
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
        Vec::with_capacity(slot.clock_rate as usize / 5),
    );
    writer.send(WriterMsg::Audio {
        recording: slot.key.recording,
        stream: slot.key.stream,
        start,
        samples,
    });
}
