//! Crash recovery for RIFF/WAVE recordings.
//!
//! [`crate::WavWriter`] rewrites the header periodically, so after a SIGKILL the sizes in
//! the header lag the data on disk by up to the update interval. `repair_wav` walks the
//! chunks up to `data`, assumes `data` is the last chunk (as our writer lays it out) and
//! rewrites the RIFF and data sizes from the file length, cutting a trailing partial frame.

use std::fs::OpenOptions;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

/// Bytes read to find `fmt ` and `data` (headers with LIST/fact chunks still fit).
const SCAN: usize = 64 * 1024;

/// What `repair_wav` found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RepairOutcome {
    /// Complete frames now described by the header.
    pub frames: u64,
    /// Channel count from `fmt `.
    pub channels: u16,
    /// Sample rate from `fmt `.
    pub sample_rate: u32,
    /// Data chunk size now in the header.
    pub data_bytes: u64,
    /// Data chunk size the header declared before the repair.
    pub declared_data_bytes: u32,
    /// Bytes of a partial trailing frame that were cut off.
    pub dropped_bytes: u64,
    /// The header or length had to change.
    pub changed: bool,
}

fn invalid(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_string())
}

fn le_u16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

fn le_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// Layout found in the header: (channels, rate, block align, data size field offset,
/// declared data size).
fn scan(head: &[u8]) -> io::Result<(u16, u32, u16, usize, u32)> {
    if head.get(0..4) != Some(b"RIFF") || head.get(8..12) != Some(b"WAVE") {
        return Err(invalid("not a RIFF/WAVE file"));
    }
    let mut at = 12usize;
    let mut fmt = None;
    loop {
        let id = head
            .get(at..at + 4)
            .ok_or_else(|| invalid("no data chunk in the header"))?;
        let size = le_u32(head, at + 4).ok_or_else(|| invalid("truncated chunk header"))?;
        if id == b"data" {
            let (channels, rate, align) = fmt.ok_or_else(|| invalid("data before fmt chunk"))?;
            return Ok((channels, rate, align, at + 4, size));
        }
        if id == b"fmt " {
            let body = head.get(at + 8..).unwrap_or(&[]);
            let channels = le_u16(body, 2).ok_or_else(|| invalid("truncated fmt chunk"))?;
            let rate = le_u32(body, 4).ok_or_else(|| invalid("truncated fmt chunk"))?;
            let align = le_u16(body, 12).ok_or_else(|| invalid("truncated fmt chunk"))?;
            if channels == 0 || align == 0 {
                return Err(invalid("fmt chunk with zero channels or block align"));
            }
            fmt = Some((channels, rate, align));
        }
        // Chunks are padded to even length (RIFF); a bogus size simply runs off the scan.
        let next = usize::try_from(size)
            .ok()
            .and_then(|s| s.checked_add(s & 1))
            .and_then(|s| s.checked_add(at + 8))
            .ok_or_else(|| invalid("chunk size overflows"))?;
        at = next;
    }
}

/// Rewrites the RIFF and `data` sizes of the WAV file at `path` from its real length,
/// truncating a partial final frame, and syncs it to disk.
pub fn repair_wav(path: impl AsRef<Path>) -> io::Result<RepairOutcome> {
    let mut file = OpenOptions::new().read(true).write(true).open(path)?;
    let len = file.metadata()?.len();
    let mut head = vec![0u8; SCAN.min(usize::try_from(len).unwrap_or(SCAN))];
    file.read_exact(&mut head)?;
    let (channels, sample_rate, align, size_at, declared) = scan(&head)?;
    let data_start = size_at as u64 + 4;
    let available = len.saturating_sub(data_start);
    // The RIFF size (4 + chunks) must fit in 32 bits.
    let max_data = u64::from(u32::MAX).saturating_sub(data_start - 8);
    let usable = available.min(max_data);
    let data_bytes = usable - usable % u64::from(align);
    let dropped_bytes = available - data_bytes;
    // An odd data chunk needs a pad byte to keep the RIFF structure (8-bit mono only).
    let pad = data_bytes & 1;
    let new_len = data_start + data_bytes + pad;
    let riff = u32::try_from(new_len - 8).map_err(|_| invalid("file too large for RIFF"))?;
    let data = u32::try_from(data_bytes).map_err(|_| invalid("data too large for RIFF"))?;
    let changed = new_len != len || declared != data || le_u32(&head, 4) != Some(riff);
    if changed {
        file.set_len(new_len)?;
        file.seek(SeekFrom::Start(4))?;
        file.write_all(&riff.to_le_bytes())?;
        file.seek(SeekFrom::Start(size_at as u64))?;
        file.write_all(&data.to_le_bytes())?;
        file.sync_all()?;
    }
    Ok(RepairOutcome {
        frames: data_bytes / u64::from(align),
        channels,
        sample_rate,
        data_bytes,
        declared_data_bytes: declared,
        dropped_bytes: dropped_bytes.saturating_sub(pad),
        changed,
    })
}

#[cfg(test)]
#[path = "repair_tests.rs"]
mod tests;
