//! Paced RTP for the simulator: one thread generates a 20 ms packet per stream on an absolute
//! schedule (start + n * 20 ms), so the send rate never drifts. Impaired packets (jitter, held
//! back, duplicated) wait in a small time-ordered queue and leave at their due time.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use tapline_media::{Encoder, write_rtp};

use super::audio::Source;
use super::codec_setup::TELEPHONE_EVENT_PT;
use super::dtmf_plan::DtmfPlan;
use super::impair::{Impairer, Impairments};

const PTIME: Duration = Duration::from_millis(20);

/// One outgoing stream.
pub(crate) struct OutStream {
    pub(crate) label: String,
    pub(crate) socket: UdpSocket,
    pub(crate) remote: Option<SocketAddr>,
    pub(crate) source: Source,
    pub(crate) payload_type: u8,
    pub(crate) encoder: Encoder,
    /// RTP timestamp ticks per 20 ms packet.
    pub(crate) ticks: u32,
    /// Telephone-events to send on this stream.
    pub(crate) dtmf: Option<DtmfPlan>,
}

/// Settings shared by every stream of a run.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SendOptions {
    pub(crate) impair: Impairments,
    /// From this offset on, a new SSRC with new random sequence and timestamp bases.
    pub(crate) ssrc_change_at: Option<Duration>,
    /// Seeds the impairments and the random RTP bases.
    pub(crate) seed: u64,
}

/// What one stream did; `generated = sent - duplicated + dropped` when every send succeeds.
#[derive(Debug, Clone, Default)]
pub(crate) struct SentReport {
    pub(crate) label: String,
    pub(crate) remote: Option<SocketAddr>,
    /// RTP packets produced (voice and telephone-event), each with its own sequence number.
    pub(crate) generated: u64,
    /// Datagrams actually sent, duplicates included.
    pub(crate) sent: u64,
    /// Packets never sent (`--loss`).
    pub(crate) dropped: u64,
    /// Extra copies sent (`--duplicate`).
    pub(crate) duplicated: u64,
    /// Packets whose first copy left after a packet generated later (`--reorder`, `--jitter`).
    pub(crate) reordered: u64,
    /// Telephone-event packets among `generated`.
    pub(crate) dtmf_packets: u64,
    /// SSRCs used, in order.
    pub(crate) ssrcs: Vec<u32>,
}

/// Sequence/timestamp/SSRC state of one SSRC epoch.
struct Epoch {
    ssrc: u32,
    next_seq: u16,
    ts_base: u32,
    base_packet: u64,
}

impl Epoch {
    fn new(rng: &mut fastrand::Rng, base_packet: u64, old: Option<u32>) -> Epoch {
        let mut ssrc = rng.u32(..);
        while Some(ssrc) == old {
            ssrc = rng.u32(..);
        }
        Epoch {
            ssrc,
            next_seq: rng.u16(..),
            ts_base: rng.u32(..),
            base_packet,
        }
    }

    /// Timestamp of packet index `n` (wrapping, RFC 3550 5.1).
    fn ts(&self, n: u64, ticks: u32) -> u32 {
        let packets = n.wrapping_sub(self.base_packet) as u32;
        self.ts_base.wrapping_add(packets.wrapping_mul(ticks))
    }
}

struct StreamState {
    out: OutStream,
    epoch: Epoch,
    impairer: Impairer,
    /// Packets produced so far (the order they were generated in).
    ordinal: u64,
    /// Highest ordinal whose first copy has been sent.
    max_sent: Option<u64>,
    report: SentReport,
}

/// A datagram waiting for its due time.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Queued {
    due: Instant,
    order: u64,
    stream: usize,
    ordinal: u64,
    first_copy: bool,
    bytes: Vec<u8>,
}

/// Send `duration` of audio on every stream, then return what each did.
pub(crate) fn run(
    streams: Vec<OutStream>,
    duration: Duration,
    opts: &SendOptions,
) -> Vec<SentReport> {
    let total = (duration.as_secs_f64() / PTIME.as_secs_f64()).round() as u64;
    let change_at = opts
        .ssrc_change_at
        .map(|d| (d.as_secs_f64() / PTIME.as_secs_f64()).round() as u64);
    let mut rng = fastrand::Rng::with_seed(opts.seed);
    let mut states: Vec<StreamState> = streams
        .into_iter()
        .map(|out| {
            let epoch = Epoch::new(&mut rng, 0, None);
            let impairer = Impairer::new(opts.impair, fastrand::Rng::with_seed(rng.u64(..)));
            let report = SentReport {
                label: out.label.clone(),
                remote: out.remote,
                ssrcs: vec![epoch.ssrc],
                ..SentReport::default()
            };
            StreamState {
                out,
                epoch,
                impairer,
                ordinal: 0,
                max_sent: None,
                report,
            }
        })
        .collect();
    let mut queue: BinaryHeap<Reverse<Queued>> = BinaryHeap::new();
    let mut order = 0u64;
    let start = Instant::now();
    let mut n = 0u64;
    loop {
        let next_gen = (n < total).then(|| start + PTIME * u32::try_from(n).unwrap_or(u32::MAX));
        let next_send = queue.peek().map(|Reverse(q)| q.due);
        let wake = match (next_gen, next_send) {
            (None, None) => break,
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
        };
        let now = Instant::now();
        if wake > now {
            std::thread::sleep(wake - now);
        }
        if next_gen.is_some_and(|g| g <= wake) {
            if change_at == Some(n) && n > 0 {
                for s in &mut states {
                    s.epoch = Epoch::new(&mut rng, n, Some(s.epoch.ssrc));
                    s.report.ssrcs.push(s.epoch.ssrc);
                }
            }
            let due = next_gen.unwrap_or(wake);
            for (i, s) in states.iter_mut().enumerate() {
                for (bytes, event) in generate(s, n) {
                    s.report.generated += 1;
                    s.report.dtmf_packets += u64::from(event);
                    let fate = s.impairer.next();
                    if fate.copies.is_empty() {
                        s.report.dropped += 1;
                    }
                    s.report.duplicated += fate.copies.len().saturating_sub(1) as u64;
                    for (c, delay) in fate.copies.iter().enumerate() {
                        order += 1;
                        queue.push(Reverse(Queued {
                            due: due + *delay,
                            order,
                            stream: i,
                            ordinal: s.ordinal,
                            first_copy: c == 0,
                            bytes: bytes.clone(),
                        }));
                    }
                    s.ordinal += 1;
                }
            }
            n += 1;
        }
        let now = Instant::now();
        while queue.peek().is_some_and(|Reverse(q)| q.due <= now) {
            let Some(Reverse(q)) = queue.pop() else { break };
            let Some(s) = states.get_mut(q.stream) else {
                continue;
            };
            if q.first_copy {
                if s.max_sent.is_some_and(|m| q.ordinal < m) {
                    s.report.reordered += 1;
                }
                s.max_sent = Some(s.max_sent.map_or(q.ordinal, |m| m.max(q.ordinal)));
            }
            if let Some(remote) = s.out.remote {
                if s.out.socket.send_to(&q.bytes, remote).is_ok() {
                    s.report.sent += 1;
                }
            }
        }
    }
    states.into_iter().map(|s| s.report).collect()
}

/// The packets of stream `s` for packet index `n`: voice, or telephone-events while a digit
/// plays (the voice is suppressed then). The bool marks event packets.
fn generate(s: &mut StreamState, n: u64) -> Vec<(Vec<u8>, bool)> {
    let ticks = s.out.ticks;
    let mut pcm = vec![0i16; s.out.encoder.frame_samples()];
    // The source advances even under a digit, so the voice stays on its schedule.
    s.out.source.fill(&mut pcm);
    let mut packets = Vec::new();
    if let Some(events) = s.out.dtmf.as_ref().and_then(|d| d.packets_at(n, ticks)) {
        for e in events {
            let ts = s.epoch.ts(e.start_packet, ticks);
            if let Some(p) = packet(s, e.marker, TELEPHONE_EVENT_PT, ts, &e.payload) {
                packets.push((p, true));
            }
        }
        return packets;
    }
    let mut payload = vec![0u8; 1500];
    let len = s.out.encoder.encode(&pcm, &mut payload);
    let marker = n == s.epoch.base_packet;
    let ts = s.epoch.ts(n, ticks);
    let pt = s.out.payload_type;
    if let Some(p) = packet(s, marker, pt, ts, payload.get(..len).unwrap_or_default()) {
        packets.push((p, false));
    }
    packets
}

/// One RTP packet with the stream's next sequence number.
fn packet(s: &mut StreamState, marker: bool, pt: u8, ts: u32, payload: &[u8]) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; 12 + payload.len()];
    let seq = s.epoch.next_seq;
    let size = write_rtp(&mut buf, marker, pt, seq, ts, s.epoch.ssrc, payload).ok()?;
    s.epoch.next_seq = seq.wrapping_add(1);
    buf.truncate(size);
    Some(buf)
}

#[cfg(test)]
#[path = "rtp_sender_tests.rs"]
mod tests;
