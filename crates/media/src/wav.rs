//! RIFF/WAVE PCM 16-bit writer over any `Write + Seek`, and a strict reader for tests.
//!
//! Layout: the canonical 44-byte header (RIFF, `fmt ` chunk of 16 bytes, `data` chunk)
//! followed by little-endian interleaved samples. `update_header` makes the file valid
//! for what has been written so far, so a crash leaves a playable recording.

use std::io::{self, Seek, SeekFrom, Write};
use thiserror::Error;

const HEADER_LEN: u64 = 44;
/// Offset of the RIFF chunk size field.
const RIFF_SIZE_AT: u64 = 4;
/// Offset of the data chunk size field.
const DATA_SIZE_AT: u64 = 40;
/// Largest data chunk whose RIFF size (data + 36) still fits in 32 bits.
const MAX_DATA: u64 = u32::MAX as u64 - 36;
/// Samples converted per `write_all` call (stack buffer, no allocation).
const CHUNK_SAMPLES: usize = 2048;

/// Streaming WAV writer (16-bit PCM).
#[derive(Debug)]
pub struct WavWriter<W: Write + Seek> {
    inner: W,
    channels: u16,
    data_bytes: u64,
}

fn header(channels: u16, sample_rate: u32, data_bytes: u32) -> [u8; 44] {
    let block_align = channels.saturating_mul(2);
    let byte_rate = sample_rate.saturating_mul(u32::from(block_align));
    let mut h = [0u8; 44];
    let fields: [&[u8]; 13] = [
        b"RIFF",
        &data_bytes.saturating_add(36).to_le_bytes(),
        b"WAVE",
        b"fmt ",
        &16u32.to_le_bytes(),
        &1u16.to_le_bytes(), // WAVE_FORMAT_PCM
        &channels.to_le_bytes(),
        &sample_rate.to_le_bytes(),
        &byte_rate.to_le_bytes(),
        &block_align.to_le_bytes(),
        &16u16.to_le_bytes(), // bits per sample
        b"data",
        &data_bytes.to_le_bytes(),
    ];
    let mut at = 0;
    for f in fields {
        if let Some(dst) = h.get_mut(at..at + f.len()) {
            dst.copy_from_slice(f);
        }
        at += f.len();
    }
    h
}

fn too_large() -> io::Error {
    io::Error::new(
        io::ErrorKind::FileTooLarge,
        "WAV data chunk would exceed 4 GiB",
    )
}

impl<W: Write + Seek> WavWriter<W> {
    /// Writes a header describing an empty data chunk at the start of `inner`.
    /// `channels` must be at least 1.
    pub fn new(mut inner: W, channels: u16, sample_rate: u32) -> io::Result<Self> {
        if channels == 0 {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "zero channels"));
        }
        inner.seek(SeekFrom::Start(0))?;
        inner.write_all(&header(channels, sample_rate, 0))?;
        Ok(WavWriter {
            inner,
            channels,
            data_bytes: 0,
        })
    }

    /// Appends interleaved samples (little-endian). The length should be a multiple of
    /// the channel count; a partial frame is written as is and misaligns later frames.
    pub fn write_samples(&mut self, interleaved: &[i16]) -> io::Result<()> {
        let bytes = (interleaved.len() as u64).saturating_mul(2);
        if self.data_bytes.saturating_add(bytes) > MAX_DATA {
            return Err(too_large());
        }
        let mut buf = [0u8; CHUNK_SAMPLES * 2];
        for chunk in interleaved.chunks(CHUNK_SAMPLES) {
            for (dst, s) in buf.chunks_exact_mut(2).zip(chunk) {
                dst.copy_from_slice(&s.to_le_bytes());
            }
            let used = buf.get(..chunk.len() * 2).unwrap_or(&[]);
            self.inner.write_all(used)?;
            self.data_bytes += used.len() as u64;
        }
        Ok(())
    }

    /// Appends `frames` frames of digital silence.
    pub fn write_silence(&mut self, frames: u64) -> io::Result<()> {
        let bytes = frames
            .checked_mul(u64::from(self.channels) * 2)
            .ok_or_else(too_large)?;
        if self.data_bytes.saturating_add(bytes) > MAX_DATA {
            return Err(too_large());
        }
        let zeros = [0u8; CHUNK_SAMPLES * 2];
        let mut left = bytes;
        while left > 0 {
            let n = left.min(zeros.len() as u64);
            self.inner
                .write_all(zeros.get(..n as usize).unwrap_or(&[]))?;
            left -= n;
            self.data_bytes += n;
        }
        Ok(())
    }

    /// Rewrites the RIFF and data sizes for what is written so far, returns to the end and
    /// flushes, so the file on disk is valid even if the process dies afterwards.
    pub fn update_header(&mut self) -> io::Result<()> {
        // Sizes were checked against MAX_DATA on every write.
        let data = u32::try_from(self.data_bytes).map_err(|_| too_large())?;
        self.inner.seek(SeekFrom::Start(RIFF_SIZE_AT))?;
        self.inner
            .write_all(&data.saturating_add(36).to_le_bytes())?;
        self.inner.seek(SeekFrom::Start(DATA_SIZE_AT))?;
        self.inner.write_all(&data.to_le_bytes())?;
        self.inner
            .seek(SeekFrom::Start(HEADER_LEN + self.data_bytes))?;
        self.inner.flush()
    }

    /// Updates the header a last time and returns the inner writer.
    pub fn finalize(mut self) -> io::Result<W> {
        self.update_header()?;
        Ok(self.inner)
    }

    /// Complete frames written so far.
    pub fn frames_written(&self) -> u64 {
        self.data_bytes / (u64::from(self.channels) * 2)
    }
}

/// Contents of a parsed WAV file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WavData {
    /// Channel count.
    pub channels: u16,
    /// Frames per second.
    pub sample_rate: u32,
    /// Interleaved samples.
    pub samples: Vec<i16>,
}

/// Why `read_wav` rejected a file.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WavError {
    /// No `RIFF....WAVE` preamble.
    #[error("not a RIFF/WAVE file")]
    NotWave,
    /// A chunk header or body runs past the end of the bytes.
    #[error("chunk `{0}` is truncated")]
    Truncated(String),
    /// The `fmt ` chunk is missing or comes after `data`.
    #[error("missing fmt chunk")]
    MissingFmt,
    /// No `data` chunk.
    #[error("missing data chunk")]
    MissingData,
    /// Not 16-bit integer PCM, or zero channels.
    #[error("unsupported format {format}, {bits} bits, {channels} channels")]
    Unsupported {
        /// Format tag.
        format: u16,
        /// Bits per sample.
        bits: u16,
        /// Channels.
        channels: u16,
    },
    /// RIFF size disagrees with the file length.
    #[error("RIFF size {declared} but file holds {actual} bytes after it")]
    RiffSize {
        /// Declared size.
        declared: u32,
        /// Bytes present after the size field.
        actual: usize,
    },
}

fn le_u16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn le_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Parses a 16-bit PCM WAV file, checking the RIFF and chunk sizes exactly.
pub fn read_wav(bytes: &[u8]) -> Result<WavData, WavError> {
    if bytes.get(0..4) != Some(b"RIFF") || bytes.get(8..12) != Some(b"WAVE") {
        return Err(WavError::NotWave);
    }
    let riff = le_u32(bytes, 4).ok_or(WavError::NotWave)?;
    let actual = bytes.len().saturating_sub(8);
    if usize::try_from(riff).ok() != Some(actual) {
        return Err(WavError::RiffSize {
            declared: riff,
            actual,
        });
    }
    let mut at = 12usize;
    let mut fmt: Option<(u16, u32)> = None;
    while at < bytes.len() {
        let id = bytes.get(at..at + 4).unwrap_or(&[]);
        let name = String::from_utf8_lossy(id).into_owned();
        let size = le_u32(bytes, at + 4).ok_or_else(|| WavError::Truncated(name.clone()))?;
        let body_start = at + 8;
        let body_end = usize::try_from(size)
            .ok()
            .and_then(|s| body_start.checked_add(s))
            .filter(|&e| e <= bytes.len())
            .ok_or_else(|| WavError::Truncated(name.clone()))?;
        let body = bytes.get(body_start..body_end).unwrap_or(&[]);
        match id {
            b"fmt " => {
                let format = le_u16(body, 0).ok_or_else(|| WavError::Truncated(name.clone()))?;
                let channels = le_u16(body, 2).ok_or_else(|| WavError::Truncated(name.clone()))?;
                let rate = le_u32(body, 4).ok_or_else(|| WavError::Truncated(name.clone()))?;
                let bits = le_u16(body, 14).ok_or(WavError::Truncated(name))?;
                if format != 1 || bits != 16 || channels == 0 {
                    return Err(WavError::Unsupported {
                        format,
                        bits,
                        channels,
                    });
                }
                fmt = Some((channels, rate));
            }
            b"data" => {
                let (channels, sample_rate) = fmt.ok_or(WavError::MissingFmt)?;
                let samples = body
                    .chunks_exact(2)
                    .map(|p| i16::from_le_bytes([p[0], p[1]]))
                    .collect();
                return Ok(WavData {
                    channels,
                    sample_rate,
                    samples,
                });
            }
            _ => {}
        }
        // Chunks are padded to an even length (RIFF).
        at = body_end + (body_end & 1);
    }
    Err(WavError::MissingData)
}

#[cfg(test)]
#[path = "wav_tests.rs"]
mod tests;
