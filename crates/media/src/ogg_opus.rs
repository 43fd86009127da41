//! Ogg Opus file writer (RFC 7845) for mono recordings at 8, 12, 16, 24 or 48 kHz.
//!
//! libopus encodes at the input rate (no resampling here); Ogg granule positions always
//! count 48 kHz samples (§4). Pages are closed every [`PACKETS_PER_PAGE`] packets so a
//! crash loses well under a second of audio, and `finish` writes the EOS page whose
//! granule trims the padding of the last packet (§4.4).

use ogg::writing::{PacketWriteEndInfo, PacketWriter};
use std::io::{self, Write};
use thiserror::Error;

/// 20 ms packets: 50 per second.
const PACKETS_PER_SECOND: u64 = 50;
/// 25 packets = 500 ms per page: the most audio a crash can lose from closed pages.
pub const PACKETS_PER_PAGE: u64 = 25;
/// Granule positions are in 48 kHz samples regardless of the input rate (§4).
const GRANULE_RATE: u64 = 48_000;
/// Largest Opus packet we ask libopus for (RFC 6716 §3.4 allows up to 1275 per frame).
const MAX_PACKET: usize = 1500;

/// Why the Ogg Opus writer failed.
#[derive(Debug, Error)]
pub enum OggOpusError {
    /// libopus only runs at 8, 12, 16, 24 or 48 kHz.
    #[error("sample rate {0} Hz is not supported by Opus")]
    UnsupportedRate(u32),
    /// The libopus encoder reported an error.
    #[error("opus encoder: {0}")]
    Opus(#[from] opus::Error),
    /// Writing a page failed.
    #[error("writing Ogg page: {0}")]
    Io(#[from] io::Error),
}

/// Streams mono PCM into an Ogg Opus file.
pub struct OggOpusWriter<W: Write> {
    pages: PacketWriter<'static, W>,
    encoder: opus::Encoder,
    serial: u32,
    /// Input samples per 20 ms frame.
    frame: usize,
    /// 48 kHz samples per input sample.
    scale: u64,
    pre_skip: u16,
    /// Input samples not yet forming a whole frame.
    pending: Vec<i16>,
    /// Last encoded packet, held back so `finish` can flag it end-of-stream.
    held: Option<Vec<u8>>,
    packets: u64,
    input_samples: u64,
}

impl<W: Write> std::fmt::Debug for OggOpusWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OggOpusWriter")
            .field("serial", &self.serial)
            .field("packets", &self.packets)
            .field("input_samples", &self.input_samples)
            .finish_non_exhaustive()
    }
}

/// The 19-byte identification header (§5.1), mono, channel mapping family 0.
fn opus_head(pre_skip: u16, input_rate: u32) -> Vec<u8> {
    let mut h = b"OpusHead".to_vec();
    h.push(1); // version
    h.push(1); // channels
    h.extend_from_slice(&pre_skip.to_le_bytes());
    h.extend_from_slice(&input_rate.to_le_bytes());
    h.extend_from_slice(&0i16.to_le_bytes()); // output gain
    h.push(0); // mapping family
    h
}

/// The comment header (§5.2): vendor string, no user comments.
fn opus_tags() -> Vec<u8> {
    let vendor = b"tapline";
    let mut t = b"OpusTags".to_vec();
    t.extend_from_slice(&(vendor.len() as u32).to_le_bytes());
    t.extend_from_slice(vendor);
    t.extend_from_slice(&0u32.to_le_bytes());
    t
}

impl<W: Write> OggOpusWriter<W> {
    /// Writes the two header pages (each alone on its page, §3) to `out`.
    pub fn new(out: W, sample_rate: u32, serial: u32) -> Result<Self, OggOpusError> {
        if ![8000, 12_000, 16_000, 24_000, 48_000].contains(&sample_rate) {
            return Err(OggOpusError::UnsupportedRate(sample_rate));
        }
        let mut encoder =
            opus::Encoder::new(sample_rate, opus::Channels::Mono, opus::Application::Voip)?;
        // The encoder's delay, expressed at 48 kHz, is what the decoder must skip (§4.2).
        let lookahead = u64::try_from(encoder.get_lookahead()?).unwrap_or(0);
        let scale = GRANULE_RATE / u64::from(sample_rate);
        let pre_skip = u16::try_from(lookahead * scale).unwrap_or(u16::MAX);
        let mut pages = PacketWriter::new(out);
        let end = PacketWriteEndInfo::EndPage;
        pages.write_packet(opus_head(pre_skip, sample_rate), serial, end, 0)?;
        pages.write_packet(opus_tags(), serial, end, 0)?;
        let frame = (sample_rate / PACKETS_PER_SECOND as u32) as usize;
        Ok(OggOpusWriter {
            pages,
            encoder,
            serial,
            frame,
            scale,
            pre_skip,
            pending: Vec::with_capacity(frame),
            held: None,
            packets: 0,
            input_samples: 0,
        })
    }

    /// Samples the decoder discards at the start, at 48 kHz.
    pub fn pre_skip(&self) -> u16 {
        self.pre_skip
    }

    /// Appends mono samples at the writer's input rate.
    pub fn write(&mut self, pcm: &[i16]) -> Result<(), OggOpusError> {
        self.input_samples = self.input_samples.saturating_add(pcm.len() as u64);
        let mut rest = pcm;
        while !rest.is_empty() {
            let take = (self.frame - self.pending.len()).min(rest.len());
            let (now, later) = rest.split_at(take);
            self.pending.extend_from_slice(now);
            rest = later;
            if self.pending.len() == self.frame {
                self.encode_pending()?;
            }
        }
        Ok(())
    }

    fn encode_pending(&mut self) -> Result<(), OggOpusError> {
        let mut buf = [0u8; MAX_PACKET];
        let n = self.encoder.encode(&self.pending, &mut buf)?;
        self.pending.clear();
        let packet = buf.get(..n).unwrap_or(&[]).to_vec();
        if let Some(prev) = self.held.replace(packet) {
            self.emit(prev, false)?;
        }
        Ok(())
    }

    /// Writes one packet; its granule is the 48 kHz sample count decoded through it.
    fn emit(&mut self, packet: Vec<u8>, last: bool) -> Result<(), OggOpusError> {
        self.packets += 1;
        let decoded = self.packets * self.frame as u64 * self.scale;
        let (info, granule) = if last {
            // §4.4: the final granule marks where the real audio ends.
            let end = u64::from(self.pre_skip) + self.input_samples * self.scale;
            (PacketWriteEndInfo::EndStream, end.min(decoded))
        } else if self.packets % PACKETS_PER_PAGE == 0 {
            (PacketWriteEndInfo::EndPage, decoded)
        } else {
            (PacketWriteEndInfo::NormalPacket, decoded)
        };
        self.pages
            .write_packet(packet, self.serial, info, granule)?;
        Ok(())
    }

    /// Encodes the tail (zero-padded so the encoder delay is flushed), writes the EOS page
    /// and returns the output.
    pub fn finish(mut self) -> Result<W, OggOpusError> {
        if !self.pending.is_empty() {
            self.pending.resize(self.frame, 0);
            self.encode_pending()?;
        }
        // Encode silence until the packets cover the pre-skip plus all input (the encoder's
        // delay holds the last real samples back), and at least one packet exists.
        let needed = u64::from(self.pre_skip) + self.input_samples * self.scale;
        let per_packet = self.frame as u64 * self.scale;
        loop {
            let total = self.packets + u64::from(self.held.is_some());
            if total > 0 && total * per_packet >= needed {
                break;
            }
            self.pending.resize(self.frame, 0);
            self.encode_pending()?;
        }
        if let Some(last) = self.held.take() {
            self.emit(last, true)?;
        }
        let mut out = self.pages.into_inner();
        out.flush()?;
        Ok(out)
    }
}

#[cfg(test)]
#[path = "ogg_opus_tests.rs"]
mod tests;
