//! One received stream inside the media thread: its sockets, decoders (one per payload type),
//! timeline, DTMF tracker and RTCP state. Everything here runs per packet: no allocation, no
//! lock, no wake-up (DTMF events, which are rare, are the one exception). The shard reads the
//! datagrams (in batches) and hands them to [`Slot::on_rtp`].

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::UdpSocket;
use tapline_media::{
    CodecKind, Decoder, DtmfEvent, DtmfTracker, PushOutcome, ReportBlock, RtcpPacket, StreamStats,
    StreamTimeline, build_receiver_report, parse_rtcp, parse_rtp, rtcp,
};

use super::media_engine::clock::{RecordingClock, samples_in};
use super::media_engine::held::Held;
use super::media_engine::source::{SourceFilter, Verdict};
use super::media_engine::{StreamKey, StreamReport};
use super::media_plan::MediaPlan;
use super::stats::Totals;

/// RTCP receiver reports go out about this often (RFC 3550 6.2: 5 s minimum interval).
pub(crate) const RR_EVERY: Duration = Duration::from_secs(5);

pub(crate) struct Slot {
    pub(crate) key: StreamKey,
    pub(crate) rtp: UdpSocket,
    pub(crate) rtcp: UdpSocket,
    pub(crate) decoders: Vec<(u8, Decoder)>,
    pub(crate) telephone_event: Option<u8>,
    /// Timeline rate (decoded PCM).
    pub(crate) sample_rate: u32,
    /// RTP clock of the stream (DTMF positions are in it).
    pub(crate) rtp_clock: u32,
    /// Provisional time zero of the recording, shared by its streams: the arrival of the first
    /// RTP packet on any of them minus a slack (media_engine/clock.rs). Positions here count
    /// from it.
    pub(crate) start: Option<Instant>,
    /// Leading part cut from everything handed to the writer, once the recording knows it
    /// (the writer's positions count from `start + trim`): files start with the audio.
    pub(crate) trim: Option<Duration>,
    pub(crate) timeline: StreamTimeline,
    pub(crate) dtmf: DtmfTracker,
    pub(crate) dtmf_events: Vec<DtmfEvent>,
    pub(crate) pending: Vec<i16>,
    pub(crate) pending_start: Option<u64>,
    pub(crate) rtcp_packets: u64,
    /// Datagrams from the stream's source that are not audio we decode (not RTP, unknown
    /// payload type).
    pub(crate) not_audio_packets: u64,
    pub(crate) cn_packets: u64,
    /// First packet: (RTP timestamp, arrival position on the recording axis, in sample_rate).
    pub(crate) first: Option<(u32, u64)>,
    /// Last sender report: (NTP, RTP timestamp, when).
    pub(crate) last_sr: Option<(u64, u32, Instant)>,
    pub(crate) sr_count: u64,
    /// Where the SRC sends from: RTCP goes back there (symmetric RTCP, RFC 7866 8.1.8).
    pub(crate) rtp_source: Option<SocketAddr>,
    pub(crate) rtcp_source: Option<SocketAddr>,
    pub(crate) last_rr: Option<Instant>,
    pub(crate) rr_expected: u64,
    pub(crate) rr_received: u64,
    pub(crate) our_ssrc: u32,
    /// Datagram bytes read from the RTP socket.
    pub(crate) bytes_received: u64,
    /// PCM bytes handed to the writer.
    pub(crate) bytes_written: u64,
    /// Which senders are recorded; the others' datagrams are dropped and counted.
    pub(crate) source: SourceFilter,
    /// Datagrams of a possible source, held until it is latched or given up.
    pub(crate) held: Held,
    /// Last datagram recorded (or the stream's start, or its last pause or resume): for the
    /// media timeout.
    pub(crate) last_packet: Instant,
    /// The stream's port; returned to the pool when the slot (and its sockets) is dropped.
    /// Declared last: fields drop in order, so the sockets are closed first.
    pub(crate) _lease: super::ports::Lease,
}

/// Decoders for a plan; formats whose decoder cannot be set up are logged and left out.
pub(crate) fn decoders_for(plan: &MediaPlan) -> Vec<(u8, Decoder)> {
    plan.payload_types
        .iter()
        .filter_map(|(pt, spec)| match Decoder::new(spec) {
            Ok(d) => Some((*pt, d)),
            Err(e) => {
                tracing::warn!(payload_type = pt, error = %e, "cannot decode this payload type");
                None
            }
        })
        .collect()
}

/// Samples at `rate` from `start` to `now`, from whole microseconds. Runs per packet: u64
/// arithmetic only (`Duration::as_micros` is u128, a library division call on x86-64).
pub(crate) fn position(start: Instant, now: Instant, rate: u32) -> u64 {
    samples_in(now.saturating_duration_since(start), rate)
}

/// Appends a drained run at `s` to the pending buffer, moved `trim` samples earlier; what lies
/// before `trim` is dropped.
fn push_trimmed(
    pending: &mut Vec<i16>,
    pending_start: &mut Option<u64>,
    trim: u64,
    s: u64,
    samples: &[i16],
) {
    let skip = usize::try_from(trim.saturating_sub(s)).unwrap_or(usize::MAX);
    let Some(rest) = samples.get(skip..).filter(|r| !r.is_empty()) else {
        return;
    };
    pending_start.get_or_insert(s.saturating_add(skip as u64).saturating_sub(trim));
    pending.extend_from_slice(rest);
}

impl Slot {
    /// One RTP datagram from `from`, arrived `now`. Only the stream's source is recorded (see
    /// [`SourceFilter`]). `clock` holds the recording's time zero (set by the first recorded
    /// packet of any of its streams).
    pub(crate) fn on_rtp(
        &mut self,
        now: Instant,
        datagram: &[u8],
        from: SocketAddr,
        clock: &mut RecordingClock,
    ) {
        self.bytes_received = self.bytes_received.saturating_add(datagram.len() as u64);
        match self.source.check(now, from) {
            Verdict::Record => {
                self.give_up_held();
                self.record(now, datagram, from, clock);
            }
            Verdict::Drop => self.give_up_held(),
            Verdict::Hold => self.held.push(now, from, datagram),
            Verdict::Latched => {
                self.record_held(from, clock);
                self.record(now, datagram, from, clock);
            }
        }
    }

    /// End of the stream: a source still held (the offered address never sent) is latched and
    /// its held datagrams recorded.
    pub(crate) fn latch_held_at_end(&mut self, now: Instant, clock: &mut RecordingClock) {
        if let Some(from) = self.source.latch_at_end(now) {
            self.record_held(from, clock);
        }
    }

    /// The held source was latched: record its datagrams with their arrival times.
    fn record_held(&mut self, from: SocketAddr, clock: &mut RecordingClock) {
        let mut held = std::mem::take(&mut self.held);
        held.replay(|at, d| self.record(at, d, from, clock));
        self.held = held;
    }

    /// Held datagrams of a source that was not latched are foreign.
    fn give_up_held(&mut self) {
        if let Some(from) = self.held.source() {
            self.source.count_foreign(self.held.count(), from);
            self.held.clear();
        }
    }

    /// Place one datagram of the stream's source on the timeline.
    fn record(
        &mut self,
        now: Instant,
        datagram: &[u8],
        from: SocketAddr,
        clock: &mut RecordingClock,
    ) {
        self.last_packet = now;
        let Ok(packet) = parse_rtp(datagram) else {
            self.not_audio_packets += 1;
            return;
        };
        let Some(decoder) = self
            .decoders
            .iter_mut()
            .find(|(pt, _)| *pt == packet.payload_type)
            .map(|(_, d)| d)
        else {
            self.not_audio_packets += 1;
            return;
        };
        self.rtp_source.get_or_insert(from);
        let start = *self.start.get_or_insert_with(|| clock.origin_at(now));
        let arrival = position(start, now, self.sample_rate);
        if decoder.spec().kind == CodecKind::TelephoneEvent {
            // DTMF is never audio (RFC 4733): it becomes events in the catalogue.
            let pos = position(start, now, self.rtp_clock);
            if let Ok(events) = self.dtmf.push(pos, &packet, self.rtp_clock) {
                self.dtmf_events.extend(events);
            }
        }
        let unanchored = self.first.is_none();
        let outcome = self.timeline.push_with(arrival, &packet, decoder);
        if outcome == PushOutcome::ComfortNoise {
            self.cn_packets += 1;
        }
        // The packet that anchored the timeline: its timestamp is the first epoch's zero.
        if unanchored && self.timeline.start_position().is_some() {
            self.first = Some((packet.timestamp, arrival));
        }
    }

    /// This stream's share of the server counters (no active_* counts: the shard adds those).
    pub(crate) fn totals(&self) -> Totals {
        let s = self.timeline.stats();
        Totals {
            packets_received: s.received,
            packets_lost: s.lost,
            packets_late: s.late,
            packets_duplicate: s.duplicates,
            packets_foreign: self.source.report().foreign,
            bytes_received: self.bytes_received,
            bytes_written: self.bytes_written,
            ..Totals::default()
        }
    }

    /// Drain the RTCP socket: keep the last sender report (RFC 3550 6.4.1).
    pub(crate) fn receive_rtcp(&mut self, now: Instant, buf: &mut [u8]) {
        while let Ok((n, from)) = self.rtcp.recv_from(buf) {
            if !self.source.accepts_rtcp(from) {
                continue;
            }
            self.rtcp_packets += 1;
            self.rtcp_source = Some(from);
            let Some(bytes) = buf.get(..n) else { continue };
            if let Ok(packets) = parse_rtcp(bytes) {
                for p in packets {
                    if let RtcpPacket::SenderReport(sr) = p {
                        self.last_sr = Some((sr.ntp, sr.rtp_ts, now));
                        self.sr_count += 1;
                    }
                }
            }
        }
    }

    /// Send a receiver report when one is due (RFC 7866 8.1.1: the SRS supports RTCP).
    pub(crate) fn maybe_send_rr(&mut self, now: Instant) {
        if self
            .last_rr
            .is_some_and(|t| now.duration_since(t) < RR_EVERY)
        {
            return;
        }
        let stats = self.timeline.stats();
        let (Some(ssrc), Some(to)) = (
            stats.ssrc,
            self.rtcp_source.or_else(|| {
                self.rtp_source
                    .map(|a| SocketAddr::new(a.ip(), a.port().saturating_add(1)))
            }),
        ) else {
            return;
        };
        self.last_rr = Some(now);
        let expected = stats.received + stats.lost;
        let (d_exp, d_rec) = (
            expected.saturating_sub(self.rr_expected),
            stats.received.saturating_sub(self.rr_received),
        );
        self.rr_expected = expected;
        self.rr_received = stats.received;
        let (lsr, dlsr) = match self.last_sr {
            Some((ntp, _, at)) => (rtcp::lsr_of(ntp), rtcp::dlsr_of(now.duration_since(at))),
            None => (0, 0),
        };
        let block = ReportBlock {
            ssrc,
            fraction_lost: rtcp::fraction_lost(d_exp, d_rec),
            cumulative_lost: i32::try_from(stats.lost).unwrap_or(i32::MAX),
            highest_seq: u32::from(stats.last_seq.unwrap_or(0)),
            jitter: stats.jitter,
            lsr,
            dlsr,
        };
        if let Ok(packet) = build_receiver_report(self.our_ssrc, "tapline", &[block]) {
            let _ = self.rtcp.send_to(&packet, to);
        }
    }

    /// Ends the timeline's settling if its deadline passed by `now`.
    pub(crate) fn settle_if_due(&mut self, now: Instant) {
        if let Some(start) = self.start {
            self.timeline
                .settle_if_due(position(start, now, self.sample_rate));
        }
    }

    /// Move what the timeline has ready (up to `now`) into the pending buffer; nothing until
    /// the recording's trim is known.
    pub(crate) fn drain(&mut self, now: Instant) {
        let (Some(start), Some(trim)) = (self.start, self.trim) else {
            return;
        };
        let pos = position(start, now, self.sample_rate);
        let trim = samples_in(trim, self.sample_rate);
        let (pending, pending_start) = (&mut self.pending, &mut self.pending_start);
        self.timeline.drain(pos, &mut |s, samples| {
            push_trimmed(pending, pending_start, trim, s, samples);
        });
    }

    /// End of the stream (BYE): everything received is placed and the file runs until `now`
    /// (the recording's end, the same for all its streams: see `RecordingClock::end_at`).
    /// The caller decides the recording's trim first (see [`RecordingClock::decide`]).
    pub(crate) fn finish(&mut self, now: Instant) {
        self.timeline.settle();
        let trim = samples_in(self.trim.unwrap_or_default(), self.sample_rate);
        let (pending, pending_start) = (&mut self.pending, &mut self.pending_start);
        if let Some(start) = self.start {
            let pos = position(start, now, self.sample_rate);
            let window = u64::from(self.timeline.config().reorder_window);
            self.timeline.drain(pos + window, &mut |s, samples| {
                push_trimmed(pending, pending_start, trim, s, samples);
            });
        }
        self.timeline.finish(&mut |s, samples| {
            push_trimmed(pending, pending_start, trim, s, samples);
        });
        if let Some(e) = self.dtmf.finish() {
            self.dtmf_events.push(e);
        }
    }

    /// Final report; positions count from the files' start (`start + trim`).
    pub(crate) fn report(&mut self) -> StreamReport {
        let stats: StreamStats = self.timeline.stats();
        let trim = self.trim.unwrap_or_default();
        let mut dtmf = std::mem::take(&mut self.dtmf_events);
        let trim_ticks = samples_in(trim, self.rtp_clock);
        for e in &mut dtmf {
            e.start = e.start.saturating_sub(trim_ticks);
        }
        // Where the first packet was placed (its settled position), not where it arrived.
        let trim_samples = samples_in(trim, self.sample_rate);
        let first = self.first.map(|(ts, arrival)| {
            let placed = self
                .timeline
                .first_anchor()
                .map_or(arrival, |a| u64::try_from(a).unwrap_or(0));
            (ts, placed.saturating_sub(trim_samples))
        });
        StreamReport {
            stats,
            rtcp_packets: self.rtcp_packets,
            not_audio_packets: self.not_audio_packets,
            source: self.source.report(),
            cn_packets: self.cn_packets,
            dtmf,
            sample_rate: self.sample_rate,
            rtp_clock: self.rtp_clock,
            first,
            origin: self.start.map(|s| s + trim),
            last_sr: self.last_sr.map(|(ntp, ts, _)| (ntp, ts)),
            sr_count: self.sr_count,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_counts_whole_microseconds() {
        let t0 = Instant::now();
        let at = |us: u64| t0 + Duration::from_micros(us);
        assert_eq!(position(t0, t0, 8000), 0);
        assert_eq!(position(t0, at(124), 8000), 0);
        assert_eq!(position(t0, at(125), 8000), 1);
        assert_eq!(position(t0, at(2_500_125), 8000), 20_001);
        assert_eq!(
            position(t0, at(1_000_000) + Duration::from_nanos(999), 48_000),
            48_000
        );
        // Before the start counts as the start.
        assert_eq!(position(at(10), t0, 8000), 0);
    }

    #[test]
    fn runs_move_by_the_trim_and_what_lies_before_it_is_dropped() {
        let (mut pending, mut start) = (Vec::new(), None);
        push_trimmed(&mut pending, &mut start, 100, 0, &[1; 60]);
        assert_eq!((pending.len(), start), (0, None), "wholly before the trim");
        push_trimmed(&mut pending, &mut start, 100, 60, &[2; 60]);
        assert_eq!((&pending[..], start), (&[2i16; 20][..], Some(0)));
        push_trimmed(&mut pending, &mut start, 100, 120, &[3; 10]);
        assert_eq!(pending.len(), 30);
        assert_eq!(pending[20], 3);
    }
}
