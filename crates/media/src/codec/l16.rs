//! L16: linear 16-bit PCM in network byte order (RFC 3551 §4.5.11), 1 or 2 channels
//! interleaved. Decoding downmixes to mono (average of the channels).

/// Samples per channel a payload holds, or `None` if it is not a whole number of frames.
pub(super) fn samples_in(len: usize, channels: u8) -> Option<usize> {
    let frame = 2 * usize::from(channels.max(1));
    (len % frame == 0).then_some(len / frame)
}

/// Decodes whole frames of `payload` into mono `out`; returns samples written.
pub(super) fn decode(payload: &[u8], channels: u8, out: &mut [i16]) -> usize {
    let ch = usize::from(channels.max(1));
    let mut n = 0;
    for (frame, o) in payload.chunks_exact(2 * ch).zip(out.iter_mut()) {
        let sum: i32 = frame
            .chunks_exact(2)
            .map(|b| match b {
                [hi, lo] => i32::from(i16::from_be_bytes([*hi, *lo])),
                _ => 0,
            })
            .sum();
        // ch is 1 or 2, so the mean is within i16 range.
        *o = i16::try_from(sum / ch as i32).unwrap_or(0);
        n += 1;
    }
    n
}

/// Encodes mono `pcm` as `channels` identical big-endian channels; returns bytes written.
pub(super) fn encode(pcm: &[i16], channels: u8, out: &mut [u8]) -> usize {
    let ch = usize::from(channels.max(1));
    let mut n = 0;
    for (frame, &s) in out.chunks_exact_mut(2 * ch).zip(pcm) {
        for c in frame.chunks_exact_mut(2) {
            c.copy_from_slice(&s.to_be_bytes());
        }
        n += 2 * ch;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_endian_on_the_wire() {
        let mut out = [0u8; 4];
        assert_eq!(encode(&[0x1234, -2], 1, &mut out), 4);
        assert_eq!(out, [0x12, 0x34, 0xFF, 0xFE]);
        let mut pcm = [0i16; 2];
        assert_eq!(decode(&[0x01, 0x02, 0x80, 0x00], 1, &mut pcm), 2);
        assert_eq!(pcm, [0x0102, i16::MIN]);
    }

    #[test]
    fn stereo_downmixes_and_rejects_partial_frames() {
        let mut pcm = [0i16; 1];
        // L = 1000, R = -3000 -> mean -1000.
        let payload = [0x03, 0xE8, 0xF4, 0x48];
        assert_eq!(decode(&payload, 2, &mut pcm), 1);
        assert_eq!(pcm, [-1000]);
        assert_eq!(samples_in(4, 2), Some(1));
        assert_eq!(samples_in(6, 2), None);
        assert_eq!(samples_in(3, 1), None);
        let mut out = [0u8; 4];
        assert_eq!(encode(&[7], 2, &mut out), 4);
        assert_eq!(out, [0, 7, 0, 7]);
    }
}
