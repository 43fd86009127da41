//! One media thread: its epoll, its slab of streams, its batch buffers and its share of the
//! server counters.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::os::fd::AsRawFd;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use mio::net::UdpSocket;
use mio::{Events, Interest, Poll, Token};
use tapline_media::{DtmfTracker, StreamTimeline, TimelineConfig};

use super::batch::RecvBatch;
use super::clock::{RecordingClock, duration_of};
use super::held::Held;
use super::idle::{IdleWatch, MediaEvent, Timeouts};
use super::{Command, Notify, StreamKey, StreamReport, StreamSpec};
use crate::serve::media_slot::{Slot, decoders_for};
use crate::serve::stats::{ServerStats, Totals};
use crate::serve::writer::{WriterHandle, WriterMsg};

pub(super) const WAKER: Token = Token(usize::MAX);
/// How often decoded audio is handed to the writer and the counters are published.
const FLUSH_EVERY: Duration = Duration::from_millis(100);
/// Shortest time between two polls. An idle thread woken by every datagram costs a context
/// switch per packet; letting datagrams gather for this long makes one wake-up serve many
/// sockets (and fills batches). Arrival times are then late by up to this much, far inside
/// the reorder window and below the 20 ms packet time.
const COALESCE: Duration = Duration::from_millis(2);
/// How often recordings are checked for the media timeout.
const IDLE_CHECK_EVERY: Duration = Duration::from_secs(1);

pub(super) struct Shard {
    id: usize,
    poll: Poll,
    writer: WriterHandle,
    /// Slots are indexed by token/2 (RTP = even token, RTCP = odd token).
    slots: Vec<Option<Slot>>,
    free: Vec<usize>,
    index: HashMap<StreamKey, usize>,
    /// Per recording: its time axis and how many streams it has here.
    origins: HashMap<u64, RecordingClock>,
    batch: RecvBatch,
    /// RTCP datagrams are rare; one buffer read with plain `recv_from`.
    rtcp_buf: Box<[u8; 2048]>,
    stats: Arc<ServerStats>,
    /// Counters of the streams already removed from this shard.
    retired: Totals,
    /// Per recording: how long since it recorded anything (media timeout).
    idle: HashMap<u64, IdleWatch>,
    timeouts: Timeouts,
    notify: Notify,
}

impl Shard {
    pub(super) fn new(
        id: usize,
        poll: Poll,
        writer: WriterHandle,
        stats: Arc<ServerStats>,
        timeouts: Timeouts,
        notify: Notify,
    ) -> Shard {
        Shard {
            id,
            poll,
            writer,
            slots: Vec::new(),
            free: Vec::new(),
            index: HashMap::new(),
            origins: HashMap::new(),
            batch: RecvBatch::new(),
            rtcp_buf: Box::new([0u8; 2048]),
            stats,
            retired: Totals::default(),
            idle: HashMap::new(),
            timeouts,
            notify,
        }
    }

    pub(super) fn run(mut self, rx: mpsc::Receiver<Command>) {
        let mut events = Events::with_capacity(1024);
        let mut last_flush = Instant::now();
        let mut last_wake = last_flush;
        let mut last_idle_check = last_flush;
        loop {
            let since = last_wake.elapsed();
            if since < COALESCE {
                std::thread::sleep(COALESCE.saturating_sub(since));
            }
            if let Err(e) = self.poll.poll(&mut events, Some(FLUSH_EVERY / 2)) {
                if e.kind() != ErrorKind::Interrupted {
                    tracing::error!(error = %e, shard = self.id, "media poll failed");
                }
            }
            let now = Instant::now();
            last_wake = now;
            for event in events.iter() {
                self.readable(event.token(), now);
            }
            loop {
                match rx.try_recv() {
                    Ok(Command::Add(spec)) => self.add(*spec),
                    Ok(Command::Update(key, plan)) => {
                        if let Some(slot) = self.slot_mut(key) {
                            slot.decoders = decoders_for(&plan);
                            slot.telephone_event = plan.telephone_event;
                        }
                    }
                    Ok(Command::Reoffered(key, offered)) => {
                        if let Some(slot) = self.slot_mut(key) {
                            slot.source.reoffered(offered);
                        }
                    }
                    Ok(Command::RestartIdle(key)) => {
                        if let Some(slot) = self.slot_mut(key) {
                            slot.last_packet = now;
                        }
                    }
                    Ok(Command::Remove(key, reply)) => {
                        let _ = reply.send(self.remove(key));
                    }
                    Ok(Command::Shutdown) | Err(mpsc::TryRecvError::Disconnected) => return,
                    Err(mpsc::TryRecvError::Empty) => break,
                }
            }
            if now.duration_since(last_flush) >= FLUSH_EVERY {
                last_flush = now;
                self.flush(now);
            }
            if now.duration_since(last_idle_check) >= IDLE_CHECK_EVERY {
                last_idle_check = now;
                self.check_idle(now);
            }
        }
    }

    fn slot_mut(&mut self, key: StreamKey) -> Option<&mut Slot> {
        let i = *self.index.get(&key)?;
        self.slots.get_mut(i).and_then(Option::as_mut)
    }

    /// Tell the core about recordings whose streams all stopped sending (media timeout).
    fn check_idle(&mut self, now: Instant) {
        for w in self.idle.values_mut() {
            w.begin();
        }
        for slot in self.slots.iter().flatten() {
            if let Some(w) = self.idle.get_mut(&slot.key.recording) {
                w.stream(slot.last_packet);
            }
        }
        for (recording, w) in &mut self.idle {
            if let Some((idle, stage)) = w.end(now, self.timeouts) {
                (self.notify)(MediaEvent::Idle {
                    recording: *recording,
                    idle,
                    stage,
                });
            }
        }
    }

    fn readable(&mut self, token: Token, now: Instant) {
        if token == WAKER {
            return;
        }
        let Some(Some(slot)) = self.slots.get_mut(token.0 / 2) else {
            return;
        };
        if token.0 % 2 == 0 {
            let clock = self
                .origins
                .entry(slot.key.recording)
                .or_insert_with(|| RecordingClock::new(1));
            // The socket stays open while the slot lives: its raw fd is only used in this call.
            let fd = slot.rtp.as_raw_fd();
            self.batch.drain(fd, |datagram, from| {
                slot.on_rtp(now, datagram, from, clock);
            });
        } else {
            slot.receive_rtcp(now, &mut self.rtcp_buf[..]);
        }
    }

    /// Hand ready audio to the writer, send due receiver reports, publish the counters.
    fn flush(&mut self, now: Instant) {
        // Settle what is due, then fix each recording's leading cut once a stream settled:
        // nothing is handed to the writer before (see clock.rs).
        for slot in self.slots.iter_mut().flatten() {
            let Some(clock) = self.origins.get_mut(&slot.key.recording) else {
                continue;
            };
            // A stream that has not received anything yet still advances (with silence) once
            // its recording has a time zero, so the stereo file never waits on it.
            if slot.start.is_none() {
                slot.start = clock.origin;
            }
            slot.settle_if_due(now);
            offer_start(clock, slot);
        }
        for clock in self.origins.values_mut() {
            clock.decide(now, false);
        }
        let mut totals = self.retired;
        for slot in self.slots.iter_mut().flatten() {
            slot.trim = self.origins.get(&slot.key.recording).and_then(|c| c.trim);
            slot.drain(now);
            send_pending(slot, &self.writer);
            slot.maybe_send_rr(now);
            totals.add(&slot.totals());
        }
        totals.active_streams = self.index.len() as u64;
        totals.active_recordings = self.origins.len() as u64;
        if let Some(c) = self.stats.shard(self.id) {
            c.publish(&totals);
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
        self.origins
            .entry(spec.key.recording)
            .or_insert_with(|| RecordingClock::new(0))
            .streams += 1;
        self.idle
            .entry(spec.key.recording)
            .or_insert_with(IdleWatch::new);
        let rate = spec.plan.sample_rate.max(1);
        let timeline = StreamTimeline::new(TimelineConfig {
            clock_rate: rate,
            reorder_window: spec.reorder_ms.saturating_mul(rate) / 1000,
            capacity: rate.saturating_mul(2),
            max_jump: rate.saturating_mul(2),
            // About 50 packets: the lowest transit is then within a few ms of the path delay.
            settle: rate,
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
                trim: None,
                timeline,
                dtmf: DtmfTracker::new(),
                dtmf_events: Vec::new(),
                pending: Vec::with_capacity(rate as usize / 5),
                pending_start: None,
                rtcp_packets: 0,
                not_audio_packets: 0,
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
                bytes_received: 0,
                bytes_written: 0,
                source: spec.source,
                held: Held::default(),
                last_packet: Instant::now(),
                _lease: spec.lease,
            });
        }
    }

    fn remove(&mut self, key: StreamKey) -> StreamReport {
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
        let clock = self
            .origins
            .entry(key.recording)
            .or_insert_with(|| RecordingClock::new(1));
        let fd = slot.rtp.as_raw_fd();
        self.batch.drain(fd, |datagram, from| {
            slot.on_rtp(now, datagram, from, clock);
        });
        slot.latch_held_at_end(now, clock);
        if slot.start.is_none() {
            slot.start = clock.origin;
        }
        if clock.trim.is_none() {
            // Ending before any stream settled: this one's placement is final now, the others'
            // as good as it gets.
            slot.timeline.settle();
            offer_start(clock, &slot);
            for other in self.slots.iter().flatten() {
                if other.key.recording == key.recording {
                    offer_start(clock, other);
                }
            }
            clock.decide(now, true);
        }
        slot.trim = clock.trim;
        let latest = self
            .slots
            .iter()
            .flatten()
            .filter(|o| o.key.recording == key.recording)
            .chain(std::iter::once(&slot))
            .filter_map(audio_end)
            .max();
        let window = duration_of(
            u64::from(slot.timeline.config().reorder_window),
            slot.sample_rate,
        );
        let end = clock.end_at(now, latest, window);
        slot.finish(end);
        send_pending(&mut slot, &self.writer);
        self.retired.add(&slot.totals());
        if let Some(clock) = self.origins.get_mut(&key.recording) {
            clock.streams = clock.streams.saturating_sub(1);
            if clock.streams == 0 {
                self.origins.remove(&key.recording);
                self.idle.remove(&key.recording);
            }
        }
        self.free.push(i);
        slot.report()
    }
}

/// When a stream's placed audio ends (the end of its furthest sample), if it has any.
fn audio_end(slot: &Slot) -> Option<Instant> {
    let start = slot.start?;
    slot.timeline.start_position()?;
    let end = duration_of(slot.timeline.end_position(), slot.sample_rate);
    start.checked_add(end)
}

/// Offers a stream's start (final or not) to its recording's trim decision.
fn offer_start(clock: &mut RecordingClock, slot: &Slot) {
    let tl = &slot.timeline;
    clock.offer(
        tl.start_position(),
        tl.settled_start().is_some(),
        slot.sample_rate,
    );
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
    let bytes = (samples.len() as u64).saturating_mul(2);
    slot.bytes_written = slot.bytes_written.saturating_add(bytes);
    writer.send(WriterMsg::Audio {
        recording: slot.key.recording,
        stream: slot.key.stream,
        start,
        samples,
    });
}
