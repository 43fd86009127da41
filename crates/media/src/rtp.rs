//! Zero-copy RTP header view and writer (RFC 3550 §5.1, §5.3.1).

use thiserror::Error;

/// Fixed RTP header length (RFC 3550 §5.1).
const FIXED_HEADER: usize = 12;

/// Why a datagram is not a usable RTP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum RtpError {
    /// Fewer bytes than the 12-byte fixed header.
    #[error("datagram of {0} bytes is shorter than the RTP fixed header")]
    TooShort(usize),
    /// The version field is not 2.
    #[error("RTP version {0} is not 2")]
    BadVersion(u8),
    /// Second byte 200..=204: an RTCP packet on a muxed port (RFC 5761 §4).
    #[error("packet is RTCP, not RTP")]
    Rtcp,
    /// The CSRC list announced by CC runs past the end of the datagram.
    #[error("CSRC list runs past the end of the datagram")]
    TruncatedCsrc,
    /// The header extension (X bit) runs past the end of the datagram.
    #[error("header extension runs past the end of the datagram")]
    TruncatedExtension,
    /// Padding count is zero or larger than the payload (RFC 3550 §5.1, P bit).
    #[error("invalid padding count")]
    BadPadding,
    /// `write_rtp`: payload type does not fit in 7 bits.
    #[error("payload type {0} does not fit in 7 bits")]
    BadPayloadType(u8),
    /// `write_rtp`: output buffer too small for header + payload.
    #[error("output buffer of {have} bytes cannot hold {need}")]
    BufferTooSmall {
        /// Bytes needed.
        need: usize,
        /// Bytes available.
        have: usize,
    },
}

/// A parsed RTP packet borrowing its payload from the datagram.
///
/// CSRCs and the header extension are validated and skipped; `payload` excludes padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    /// M bit.
    pub marker: bool,
    /// 7-bit payload type.
    pub payload_type: u8,
    /// 16-bit sequence number.
    pub sequence: u16,
    /// 32-bit media timestamp.
    pub timestamp: u32,
    /// Synchronisation source.
    pub ssrc: u32,
    /// Payload bytes, padding removed.
    pub payload: &'a [u8],
}

fn be_u16(buf: &[u8], at: usize) -> Option<u16> {
    let b = buf.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([*b.first()?, *b.get(1)?]))
}

fn be_u32(buf: &[u8], at: usize) -> Option<u32> {
    let b = buf.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes(b.try_into().ok()?))
}

/// Parses an RTP datagram without copying.
///
/// Rejects RTCP (second byte 200..=204, i.e. marker set and PT 72..=76, which RFC 5761
/// §4 reserves so both can share a port).
pub fn parse_rtp(buf: &[u8]) -> Result<RtpPacket<'_>, RtpError> {
    let (b0, b1) = match buf {
        [b0, b1, ..] => (*b0, *b1),
        _ => return Err(RtpError::TooShort(buf.len())),
    };
    let version = b0 >> 6;
    if version != 2 {
        return Err(RtpError::BadVersion(version));
    }
    if (200..=204).contains(&b1) {
        return Err(RtpError::Rtcp);
    }
    if buf.len() < FIXED_HEADER {
        return Err(RtpError::TooShort(buf.len()));
    }
    let padding = b0 & 0x20 != 0;
    let extension = b0 & 0x10 != 0;
    let csrc_count = usize::from(b0 & 0x0F);
    let too_short = RtpError::TooShort(buf.len());
    let sequence = be_u16(buf, 2).ok_or(too_short)?;
    let timestamp = be_u32(buf, 4).ok_or(too_short)?;
    let ssrc = be_u32(buf, 8).ok_or(too_short)?;

    let mut offset = FIXED_HEADER + 4 * csrc_count;
    if offset > buf.len() {
        return Err(RtpError::TruncatedCsrc);
    }
    if extension {
        // §5.3.1: 16-bit profile id, 16-bit length in 32-bit words, then the words.
        let words = be_u16(buf, offset + 2).ok_or(RtpError::TruncatedExtension)?;
        offset += 4 + 4 * usize::from(words);
        if offset > buf.len() {
            return Err(RtpError::TruncatedExtension);
        }
    }
    let mut end = buf.len();
    if padding {
        // The last octet counts the padding octets, itself included.
        let count = usize::from(*buf.last().ok_or(RtpError::BadPadding)?);
        if count == 0 || count > end - offset {
            return Err(RtpError::BadPadding);
        }
        end -= count;
    }
    let payload = buf.get(offset..end).ok_or(RtpError::BadPadding)?;
    Ok(RtpPacket {
        marker: b1 & 0x80 != 0,
        payload_type: b1 & 0x7F,
        sequence,
        timestamp,
        ssrc,
        payload,
    })
}

/// Writes a minimal RTP packet (no CSRC, extension or padding) into `out`; returns its length.
pub fn write_rtp(
    out: &mut [u8],
    marker: bool,
    pt: u8,
    seq: u16,
    ts: u32,
    ssrc: u32,
    payload: &[u8],
) -> Result<usize, RtpError> {
    if pt > 0x7F {
        return Err(RtpError::BadPayloadType(pt));
    }
    let need = FIXED_HEADER
        .checked_add(payload.len())
        .ok_or(RtpError::BufferTooSmall {
            need: usize::MAX,
            have: out.len(),
        })?;
    let have = out.len();
    let dst = out
        .get_mut(..need)
        .ok_or(RtpError::BufferTooSmall { need, have })?;
    let (header, body) = dst.split_at_mut(FIXED_HEADER);
    header[0] = 0x80;
    header[1] = (u8::from(marker) << 7) | pt;
    header[2..4].copy_from_slice(&seq.to_be_bytes());
    header[4..8].copy_from_slice(&ts.to_be_bytes());
    header[8..12].copy_from_slice(&ssrc.to_be_bytes());
    body.copy_from_slice(payload);
    Ok(need)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_then_parse_round_trip() {
        let mut buf = [0u8; 200];
        let payload = [0xFFu8; 160];
        let n = write_rtp(&mut buf, true, 8, 65535, 0xDEAD_BEEF, 0x1234_5678, &payload).unwrap();
        assert_eq!(n, 172);
        let p = parse_rtp(&buf[..n]).unwrap();
        assert!(p.marker);
        assert_eq!(p.payload_type, 8);
        assert_eq!(p.sequence, 65535);
        assert_eq!(p.timestamp, 0xDEAD_BEEF);
        assert_eq!(p.ssrc, 0x1234_5678);
        assert_eq!(p.payload, &payload[..]);
    }

    #[test]
    fn write_errors() {
        let mut small = [0u8; 20];
        assert_eq!(
            write_rtp(&mut small, false, 0, 1, 1, 1, &[0; 10]),
            Err(RtpError::BufferTooSmall { need: 22, have: 20 })
        );
        assert_eq!(
            write_rtp(&mut small, false, 128, 1, 1, 1, &[]),
            Err(RtpError::BadPayloadType(128))
        );
    }

    /// Hand-built packet: 2 CSRCs, a one-word extension, 3 bytes of padding.
    fn complex_packet() -> Vec<u8> {
        let mut v = vec![0xB2, 0x00, 0x00, 0x07, 0, 0, 0, 160, 0, 0, 0, 9];
        v.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 2]); // CSRCs
        v.extend_from_slice(&[0xBE, 0xDE, 0x00, 0x01, 1, 2, 3, 4]); // extension
        v.extend_from_slice(&[10, 20, 30, 40, 50]); // payload
        v.extend_from_slice(&[0, 0, 3]); // padding
        v
    }

    #[test]
    fn csrc_extension_and_padding_are_skipped() {
        let v = complex_packet();
        let p = parse_rtp(&v).unwrap();
        assert_eq!(p.sequence, 7);
        assert_eq!(p.timestamp, 160);
        assert_eq!(p.ssrc, 9);
        assert_eq!(p.payload, &[10, 20, 30, 40, 50]);
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let v = complex_packet();
        for len in 0..v.len() {
            assert!(parse_rtp(&v[..len]).is_err(), "len {len} parsed");
        }
        let mut buf = [0u8; 64];
        let n = write_rtp(&mut buf, false, 0, 1, 2, 3, &[1, 2, 3]).unwrap();
        for len in 0..FIXED_HEADER {
            assert!(parse_rtp(&buf[..len]).is_err());
        }
        assert!(parse_rtp(&buf[..n]).is_ok());
    }

    #[test]
    fn bad_padding_version_and_rtcp() {
        let mut v = complex_packet();
        *v.last_mut().unwrap() = 0;
        assert_eq!(parse_rtp(&v), Err(RtpError::BadPadding));
        *v.last_mut().unwrap() = 9; // more than payload + padding
        assert_eq!(parse_rtp(&v), Err(RtpError::BadPadding));
        let mut w = complex_packet();
        w[0] = 0x40;
        assert_eq!(parse_rtp(&w), Err(RtpError::BadVersion(1)));
        // RTCP receiver report header (PT 201) on a muxed port.
        let rr = [0x81, 201, 0, 7, 0, 0, 0, 1, 0, 0, 0, 2];
        assert_eq!(parse_rtp(&rr), Err(RtpError::Rtcp));
        for pt in 200..=204u8 {
            assert_eq!(parse_rtp(&[0x80, pt]), Err(RtpError::Rtcp));
        }
        // PT 72 without marker (byte 72) is plain RTP.
        let mut rtp = [0u8; 12];
        rtp[0] = 0x80;
        rtp[1] = 72;
        assert_eq!(parse_rtp(&rtp).unwrap().payload_type, 72);
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // Deterministic pseudo-random sweep of headers with every flag combination.
        let mut state = 0x9E37_79B9u32;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let len = (state % 64) as usize;
            let mut buf = [0u8; 64];
            for (i, b) in buf.iter_mut().enumerate() {
                *b = (state.rotate_left(i as u32) & 0xFF) as u8;
            }
            buf[0] = 0x80 | (buf[0] & 0x3F);
            let _ = parse_rtp(&buf[..len]);
        }
    }
}
