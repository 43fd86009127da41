//! RTCP compound packets (RFC 3550 §6): parsing SR, RR, SDES and BYE, and building the
//! Receiver Report + SDES CNAME compound the SRS must send (RFC 7866 §8.1.1).

use std::time::Duration;
use thiserror::Error;

const SR: u8 = 200;
const RR: u8 = 201;
const SDES: u8 = 202;
const BYE: u8 = 203;
/// SDES item type of the canonical name (§6.5.1).
const CNAME: u8 = 1;
/// The 5-bit count field limits report blocks per packet (§6.4.1).
const MAX_BLOCKS: usize = 31;

/// Why an RTCP datagram was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum RtcpError {
    /// No complete 4-byte common header at this offset.
    #[error("truncated RTCP header at byte {0}")]
    TruncatedHeader(usize),
    /// Version field is not 2.
    #[error("RTCP version {0} is not 2")]
    BadVersion(u8),
    /// The length field runs past the end of the datagram.
    #[error("RTCP packet at byte {0} runs past the end of the datagram")]
    TruncatedPacket(usize),
    /// The body is shorter than its type and count require.
    #[error("RTCP packet type {0} is too short for its report count")]
    ShortBody(u8),
    /// Padding count is zero or larger than the packet.
    #[error("invalid RTCP padding")]
    BadPadding,
    /// `build_receiver_report`: more than 31 report blocks.
    #[error("{0} report blocks do not fit in one RR (max 31)")]
    TooManyBlocks(usize),
    /// `build_receiver_report`: CNAME longer than 255 bytes.
    #[error("CNAME of {0} bytes is longer than 255")]
    CnameTooLong(usize),
}

/// One reception report block (§6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReportBlock {
    /// Source this block reports on.
    pub ssrc: u32,
    /// Fraction lost since the previous report, in 1/256.
    pub fraction_lost: u8,
    /// Cumulative packets lost (24-bit signed; clamped when building).
    pub cumulative_lost: i32,
    /// Extended highest sequence number received.
    pub highest_seq: u32,
    /// Interarrival jitter in timestamp units.
    pub jitter: u32,
    /// Middle 32 bits of the last SR's NTP timestamp, 0 if none.
    pub lsr: u32,
    /// Delay since that SR in 1/65536 s, 0 if none.
    pub dlsr: u32,
}

/// Sender Report (§6.4.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderReport {
    /// Sender's SSRC.
    pub ssrc: u32,
    /// 64-bit NTP timestamp (32.32 fixed point seconds since 1900).
    pub ntp: u64,
    /// RTP timestamp corresponding to `ntp`.
    pub rtp_ts: u32,
    /// Packets sent.
    pub packet_count: u32,
    /// Payload octets sent.
    pub octet_count: u32,
    /// Reports about sources the sender receives.
    pub reports: Vec<ReportBlock>,
}

/// One parsed packet of a compound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RtcpPacket {
    /// Sender Report.
    SenderReport(SenderReport),
    /// Receiver Report: reporter SSRC and blocks.
    ReceiverReport {
        /// Reporter.
        ssrc: u32,
        /// Report blocks.
        reports: Vec<ReportBlock>,
    },
    /// SDES: (SSRC, CNAME if present) per chunk; other items are skipped.
    Sdes(Vec<(u32, Option<String>)>),
    /// BYE: leaving sources and optional reason.
    Bye {
        /// Sources leaving.
        ssrcs: Vec<u32>,
        /// Reason for leaving, if given.
        reason: Option<String>,
    },
    /// Any other packet type (APP, feedback, XR...), skipped.
    Other(u8),
}

fn be_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

fn report_blocks(body: &[u8], count: usize, pt: u8) -> Result<Vec<ReportBlock>, RtcpError> {
    (0..count)
        .map(|i| {
            let at = i * 24;
            let b = body.get(at..at + 24).ok_or(RtcpError::ShortBody(pt))?;
            let word = |o: usize| be_u32(b, o).ok_or(RtcpError::ShortBody(pt));
            let lost = word(4)?;
            // 24-bit two's complement: shift into the top of an i32 and back.
            let cumulative_lost = ((lost << 8) as i32) >> 8;
            Ok(ReportBlock {
                ssrc: word(0)?,
                fraction_lost: (lost >> 24) as u8,
                cumulative_lost,
                highest_seq: word(8)?,
                jitter: word(12)?,
                lsr: word(16)?,
                dlsr: word(20)?,
            })
        })
        .collect()
}

fn sdes(body: &[u8], count: usize) -> Result<Vec<(u32, Option<String>)>, RtcpError> {
    let mut out = Vec::with_capacity(count.min(MAX_BLOCKS));
    let mut at = 0usize;
    for _ in 0..count {
        let ssrc = be_u32(body, at).ok_or(RtcpError::ShortBody(SDES))?;
        at += 4;
        let mut cname = None;
        // Items until a null octet; the chunk then pads to a 32-bit boundary (§6.5).
        loop {
            let kind = *body.get(at).ok_or(RtcpError::ShortBody(SDES))?;
            if kind == 0 {
                at = (at + 4) & !3;
                break;
            }
            let len = usize::from(*body.get(at + 1).ok_or(RtcpError::ShortBody(SDES))?);
            let text = body
                .get(at + 2..at + 2 + len)
                .ok_or(RtcpError::ShortBody(SDES))?;
            if kind == CNAME {
                cname = Some(String::from_utf8_lossy(text).into_owned());
            }
            at += 2 + len;
        }
        out.push((ssrc, cname));
    }
    Ok(out)
}

fn bye(body: &[u8], count: usize) -> Result<RtcpPacket, RtcpError> {
    let ssrcs = (0..count)
        .map(|i| be_u32(body, i * 4).ok_or(RtcpError::ShortBody(BYE)))
        .collect::<Result<Vec<_>, _>>()?;
    let at = count * 4;
    let reason = match body.get(at) {
        Some(&len) => {
            let text = body
                .get(at + 1..at + 1 + usize::from(len))
                .ok_or(RtcpError::ShortBody(BYE))?;
            Some(String::from_utf8_lossy(text).into_owned())
        }
        None => None,
    };
    Ok(RtcpPacket::Bye { ssrcs, reason })
}

fn one(pt: u8, count: usize, body: &[u8]) -> Result<RtcpPacket, RtcpError> {
    match pt {
        SR => {
            let w = |o: usize| be_u32(body, o).ok_or(RtcpError::ShortBody(SR));
            let ntp = (u64::from(w(4)?) << 32) | u64::from(w(8)?);
            Ok(RtcpPacket::SenderReport(SenderReport {
                ssrc: w(0)?,
                ntp,
                rtp_ts: w(12)?,
                packet_count: w(16)?,
                octet_count: w(20)?,
                reports: report_blocks(body.get(24..).unwrap_or(&[]), count, SR)?,
            }))
        }
        RR => Ok(RtcpPacket::ReceiverReport {
            ssrc: be_u32(body, 0).ok_or(RtcpError::ShortBody(RR))?,
            reports: report_blocks(body.get(4..).unwrap_or(&[]), count, RR)?,
        }),
        SDES => Ok(RtcpPacket::Sdes(sdes(body, count)?)),
        BYE => bye(body, count),
        other => Ok(RtcpPacket::Other(other)),
    }
}

/// Parses a compound RTCP datagram (§6.1) into its packets, in order.
///
/// Accepts a lone non-SR/RR packet too (RFC 5506 reduced-size RTCP); any structural error
/// rejects the whole datagram, as §6.1 / A.2 validity checks require.
pub fn parse_rtcp(buf: &[u8]) -> Result<Vec<RtcpPacket>, RtcpError> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at < buf.len() {
        let head = buf.get(at..at + 4).ok_or(RtcpError::TruncatedHeader(at))?;
        let (b0, pt) = (head[0], head[1]);
        if b0 >> 6 != 2 {
            return Err(RtcpError::BadVersion(b0 >> 6));
        }
        let words = usize::from(u16::from_be_bytes([head[2], head[3]]));
        let end = at + 4 + 4 * words;
        let packet = buf.get(at..end).ok_or(RtcpError::TruncatedPacket(at))?;
        let mut body = packet.get(4..).unwrap_or(&[]);
        if b0 & 0x20 != 0 {
            // Padding count in the last octet, itself included (§6.4.1).
            let pad = usize::from(*packet.last().ok_or(RtcpError::BadPadding)?);
            if pad == 0 || pad > body.len() {
                return Err(RtcpError::BadPadding);
            }
            body = body.get(..body.len() - pad).ok_or(RtcpError::BadPadding)?;
        }
        out.push(one(pt, usize::from(b0 & 0x1F), body)?);
        at = end;
    }
    if out.is_empty() {
        return Err(RtcpError::TruncatedHeader(0));
    }
    Ok(out)
}

/// Middle 32 bits of an NTP timestamp: the LSR field of a report block (§6.4.1).
pub fn lsr_of(ntp: u64) -> u32 {
    (ntp >> 16) as u32
}

/// A delay in DLSR units of 1/65536 s (§6.4.1), saturating.
pub fn dlsr_of(delay: Duration) -> u32 {
    let units = delay.as_nanos().saturating_mul(65_536) / 1_000_000_000;
    u32::try_from(units).unwrap_or(u32::MAX)
}

/// Fraction lost over an interval, in 1/256 (§6.4.1, appendix A.3); 0 when nothing was
/// lost or duplicates made `received` exceed `expected`.
pub fn fraction_lost(expected: u64, received: u64) -> u8 {
    let lost = expected.saturating_sub(received);
    if expected == 0 || lost == 0 {
        return 0;
    }
    u8::try_from((lost << 8) / expected).unwrap_or(u8::MAX)
}

/// Builds an RR + SDES CNAME compound packet (§6.1: every compound starts with a report
/// and carries a CNAME).
pub fn build_receiver_report(
    our_ssrc: u32,
    cname: &str,
    blocks: &[ReportBlock],
) -> Result<Vec<u8>, RtcpError> {
    if blocks.len() > MAX_BLOCKS {
        return Err(RtcpError::TooManyBlocks(blocks.len()));
    }
    let name = cname.as_bytes();
    let name_len = u8::try_from(name.len()).map_err(|_| RtcpError::CnameTooLong(name.len()))?;
    let mut out = Vec::with_capacity(8 + 24 * blocks.len() + 12 + name.len());
    // RR header: V=2, RC, PT=201, length in words minus one.
    let rr_words = 1 + 6 * blocks.len();
    out.push(0x80 | blocks.len() as u8);
    out.push(RR);
    out.extend_from_slice(&(rr_words as u16).to_be_bytes());
    out.extend_from_slice(&our_ssrc.to_be_bytes());
    for b in blocks {
        out.extend_from_slice(&b.ssrc.to_be_bytes());
        // Clamp to the 24-bit signed range before packing.
        let lost = b.cumulative_lost.clamp(-0x80_0000, 0x7F_FFFF) as u32 & 0x00FF_FFFF;
        out.extend_from_slice(&((u32::from(b.fraction_lost) << 24) | lost).to_be_bytes());
        for w in [b.highest_seq, b.jitter, b.lsr, b.dlsr] {
            out.extend_from_slice(&w.to_be_bytes());
        }
    }
    // SDES: one chunk, CNAME item, null terminator, pad to 32 bits (§6.5).
    let chunk = 4 + 2 + name.len() + 1;
    let padded = (chunk + 3) & !3;
    out.push(0x81);
    out.push(SDES);
    out.extend_from_slice(&((padded / 4) as u16).to_be_bytes());
    out.extend_from_slice(&our_ssrc.to_be_bytes());
    out.push(CNAME);
    out.push(name_len);
    out.extend_from_slice(name);
    out.resize(out.len() + padded - (chunk - 1), 0);
    Ok(out)
}

#[cfg(test)]
#[path = "rtcp_tests.rs"]
mod tests;
