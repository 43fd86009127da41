//! Paced RTP for the simulator: one thread sends a 20 ms packet per stream on an absolute
//! schedule (start + n * 20 ms), so the send rate never drifts.

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use tapline_media::{Codec, write_rtp};

use super::audio::Source;

/// One outgoing stream.
pub(crate) struct OutStream {
    pub(crate) label: String,
    pub(crate) socket: UdpSocket,
    pub(crate) remote: Option<SocketAddr>,
    pub(crate) source: Source,
    pub(crate) payload_type: u8,
    pub(crate) codec: Codec,
    pub(crate) ssrc: u32,
}

/// Packets sent per stream label.
#[derive(Debug, Clone)]
pub(crate) struct SentReport {
    pub(crate) label: String,
    pub(crate) remote: Option<SocketAddr>,
    pub(crate) packets: u64,
}

/// Send `duration` of audio on every stream, then return the counts.
pub(crate) fn run(mut streams: Vec<OutStream>, duration: Duration) -> Vec<SentReport> {
    const PTIME: Duration = Duration::from_millis(20);
    const SAMPLES: usize = 160;
    let total = (duration.as_secs_f64() / PTIME.as_secs_f64()).round() as u64;
    let start = Instant::now();
    let mut sent = vec![0u64; streams.len()];
    let mut pcm = [0i16; SAMPLES];
    let mut payload = [0u8; SAMPLES];
    let mut packet = [0u8; 12 + SAMPLES];
    let seq0: Vec<u16> = streams.iter().map(|_| fastrand::u16(..)).collect();
    let ts0: Vec<u32> = streams.iter().map(|_| fastrand::u32(..)).collect();
    for n in 0..total {
        let due = start + PTIME * u32::try_from(n).unwrap_or(u32::MAX);
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        for (i, s) in streams.iter_mut().enumerate() {
            s.source.fill(&mut pcm);
            let len = s.codec.encode(&pcm, &mut payload);
            let seq = seq0.get(i).copied().unwrap_or(0).wrapping_add(n as u16);
            let ts = ts0
                .get(i)
                .copied()
                .unwrap_or(0)
                .wrapping_add((n as u32).wrapping_mul(SAMPLES as u32));
            let Some(remote) = s.remote else { continue };
            let Ok(size) = write_rtp(
                &mut packet,
                n == 0,
                s.payload_type,
                seq,
                ts,
                s.ssrc,
                payload.get(..len).unwrap_or_default(),
            ) else {
                continue;
            };
            if s.socket
                .send_to(packet.get(..size).unwrap_or_default(), remote)
                .is_ok()
            {
                if let Some(c) = sent.get_mut(i) {
                    *c += 1;
                }
            }
        }
    }
    streams
        .iter()
        .zip(sent)
        .map(|(s, packets)| SentReport {
            label: s.label.clone(),
            remote: s.remote,
            packets,
        })
        .collect()
}
