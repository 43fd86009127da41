//! Start-up crash recovery. A recording the catalogue still lists as `active` belonged to a
//! server that died: its WAV headers lag the data on disk (the writer rewrites them about once
//! a second) and files still being written may carry a `.part` suffix. Each file is repaired in
//! place (`repair_wav`), a `.part` file is renamed to the name the catalogue lists, and the
//! recording is closed as `interrupted` at the time its audio ends. Audio is never deleted.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Context;
use tapline_media::repair_wav;
use tapline_store::{Catalogue, RecordingDetail, RecordingState};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// End reason written for recovered recordings.
pub(crate) const END_REASON: &str = "server stopped during the recording";

/// What recovery did for one recording.
#[derive(Debug, Default)]
pub(crate) struct Recovered {
    /// Files repaired (renamed `.part` files included).
    pub(crate) files: usize,
    /// Longest audio found, in ms.
    pub(crate) audio_ms: u64,
    /// Problems met (kept as catalogue warnings).
    pub(crate) problems: Vec<String>,
}

/// Repair and close every recording left `active`; returns how many there were.
pub(crate) fn recover_interrupted(catalogue: &Catalogue) -> anyhow::Result<usize> {
    let ids = catalogue
        .active_recording_ids()
        .context("reading the catalogue")?;
    for id in &ids {
        let Some(detail) = catalogue
            .get(id)
            .context("reading a recording to recover")?
        else {
            continue;
        };
        let found = repair_files(&detail);
        let offset = detail.audio_offset_ms.unwrap_or(0);
        let duration_ms = offset.saturating_add(found.audio_ms);
        let started = OffsetDateTime::parse(&detail.summary.started_at, &Rfc3339)
            .with_context(|| format!("recording {id}: bad started_at"))?;
        let ended_at = started
            .checked_add(time::Duration::milliseconds(
                i64::try_from(duration_ms).unwrap_or(i64::MAX),
            ))
            .unwrap_or(started);
        catalogue
            .finish_recording(
                id,
                RecordingState::Interrupted,
                ended_at,
                duration_ms,
                END_REASON,
            )
            .context("marking an interrupted recording")?;
        catalogue
            .set_last_audio(id, ended_at, None)
            .context("storing the last audio time")?;
        let now = OffsetDateTime::now_utc();
        let text = format!(
            "{END_REASON}: {} audio file(s) repaired at restart, audio ends {} ms after the start",
            found.files, duration_ms
        );
        catalogue
            .add_warning(id, now, &text)
            .context("adding a recovery warning")?;
        for p in &found.problems {
            catalogue
                .add_warning(id, now, p)
                .context("adding a recovery warning")?;
        }
        tracing::warn!(
            recording_id = %id,
            files = found.files,
            duration_ms,
            problems = found.problems.len(),
            "recording left active by a previous run repaired and marked interrupted"
        );
    }
    Ok(ids.len())
}

/// The WAV files of a recording: every path the catalogue lists plus any `*.wav` or
/// `*.wav.part` in its directory (streams added by a re-offer, files not yet listed).
fn candidate_files(detail: &RecordingDetail) -> BTreeSet<PathBuf> {
    let files = &detail.summary.files;
    let mut set: BTreeSet<PathBuf> = files
        .streams
        .values()
        .chain(files.stereo.iter())
        .chain(detail.streams.iter().filter_map(|s| s.file.as_ref()))
        .map(PathBuf::from)
        .collect();
    if let Ok(entries) = std::fs::read_dir(&files.dir) {
        for e in entries.flatten() {
            let path = e.path();
            let name = path.to_string_lossy();
            if let Some(final_name) = name.strip_suffix(".part") {
                if final_name.ends_with(".wav") {
                    set.insert(PathBuf::from(final_name));
                }
            } else if name.ends_with(".wav") {
                set.insert(path);
            }
        }
    }
    set
}

fn part_of(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".part");
    PathBuf::from(s)
}

/// Repair every file of the recording; a `.part` file takes its final name unless that name
/// is already taken (then both are kept).
pub(crate) fn repair_files(detail: &RecordingDetail) -> Recovered {
    let mut out = Recovered::default();
    for path in candidate_files(detail) {
        let part = part_of(&path);
        let mut targets = Vec::new();
        if path.exists() {
            targets.push(path.clone());
        }
        if part.exists() {
            if path.exists() {
                out.problems.push(format!(
                    "{} and {} both exist; both kept",
                    path.display(),
                    part.display()
                ));
                targets.push(part.clone());
            } else {
                match std::fs::rename(&part, &path) {
                    Ok(()) => targets.push(path.clone()),
                    Err(e) => {
                        out.problems
                            .push(format!("renaming {}: {e}", part.display()));
                        targets.push(part.clone());
                    }
                }
            }
        }
        if targets.is_empty() {
            out.problems.push(format!("{} is missing", path.display()));
        }
        for t in targets {
            match repair_wav(&t) {
                Ok(r) => {
                    out.files += 1;
                    let ms = r.frames.saturating_mul(1000) / u64::from(r.sample_rate.max(1));
                    out.audio_ms = out.audio_ms.max(ms);
                }
                Err(e) => out
                    .problems
                    .push(format!("{}: not repairable ({e}); kept as is", t.display())),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Seek, SeekFrom, Write};
    use tapline_media::{WavWriter, read_wav};
    use tapline_store::{NewRecording, StreamRow};

    /// A WAV whose header says `declared` frames while `frames` are on disk (as after a crash).
    fn crashed_wav(path: &Path, rate: u32, frames: usize, declared: usize) {
        let f = std::fs::File::create(path).unwrap();
        let mut w = WavWriter::new(f, 1, rate).unwrap();
        w.write_samples(&vec![1000i16; declared]).unwrap();
        w.update_header().unwrap();
        let mut f = w.finalize().unwrap();
        f.seek(SeekFrom::End(0)).unwrap();
        let extra: Vec<u8> = vec![0x10u8; (frames - declared) * 2 + 1];
        f.write_all(&extra).unwrap();
    }

    fn stream(index: usize, label: &str, file: &Path) -> StreamRow {
        StreamRow {
            index: Some(index),
            mline: index,
            label: label.into(),
            stream_id: None,
            media: "audio".into(),
            codec: Some("PCMU".into()),
            payload_type: Some(0),
            clock_rate: Some(8000),
            port: Some(20_000),
            file_path: Some(file.display().to_string()),
            channel: None,
            accepted: true,
            reject_reason: None,
        }
    }

    #[test]
    fn repairs_renames_and_closes_at_the_last_audio() {
        let dir = tempfile::tempdir().unwrap();
        let cat = Catalogue::open_in_memory().unwrap();
        let started = time::macros::datetime!(2026-01-02 03:04:05 UTC);
        let dir_s = dir.path().display().to_string();
        cat.insert_recording(&NewRecording {
            id: "r1",
            call_id: "c1",
            src_addr: "127.0.0.1:5060",
            started_at: started,
            dir: &dir_s,
        })
        .unwrap();
        let (a, b) = (dir.path().join("1.wav"), dir.path().join("2.wav"));
        cat.upsert_stream("r1", &stream(0, "1", &a)).unwrap();
        cat.upsert_stream("r1", &stream(1, "2", &b)).unwrap();
        cat.set_last_audio("r1", started, Some(250)).unwrap();
        // Stream 1 complete but with a stale header; stream 2 still named .part.
        crashed_wav(&a, 8000, 16_000, 8000);
        crashed_wav(&part_of(&b), 8000, 24_000, 0);
        // An extra stream only on disk (added by a re-offer).
        crashed_wav(&dir.path().join("3.wav.part"), 8000, 800, 0);

        assert_eq!(recover_interrupted(&cat).unwrap(), 1);
        let d = cat.get("r1").unwrap().unwrap();
        assert_eq!(d.summary.state, RecordingState::Interrupted);
        assert_eq!(d.end_reason.as_deref(), Some(END_REASON));
        // 250 ms before the first audio plus the longest file (3 s).
        assert_eq!(d.summary.duration_ms, Some(3250));
        assert_eq!(
            d.summary.ended_at.as_deref(),
            Some("2026-01-02T03:04:08.250Z")
        );
        assert_eq!(d.last_audio_at.as_deref(), Some("2026-01-02T03:04:08.250Z"));
        assert_eq!(d.audio_offset_ms, Some(250));
        assert!(
            d.warnings
                .iter()
                .any(|w| w.text.contains("3 audio file(s)")),
            "{:?}",
            d.warnings
        );
        let wa = read_wav(&std::fs::read(&a).unwrap()).unwrap();
        assert_eq!(wa.samples.len(), 16_000);
        let wb = read_wav(&std::fs::read(&b).unwrap()).unwrap();
        assert_eq!(wb.samples.len(), 24_000);
        assert!(!part_of(&b).exists());
        assert!(dir.path().join("3.wav").exists());
        // Nothing left to recover on the next start.
        assert_eq!(recover_interrupted(&cat).unwrap(), 0);
    }

    #[test]
    fn unrepairable_and_missing_files_are_kept_and_reported() {
        let dir = tempfile::tempdir().unwrap();
        let cat = Catalogue::open_in_memory().unwrap();
        let started = time::macros::datetime!(2026-01-02 03:04:05 UTC);
        let dir_s = dir.path().display().to_string();
        cat.insert_recording(&NewRecording {
            id: "r2",
            call_id: "c2",
            src_addr: "127.0.0.1:5060",
            started_at: started,
            dir: &dir_s,
        })
        .unwrap();
        let (a, b) = (dir.path().join("1.wav"), dir.path().join("2.wav"));
        cat.upsert_stream("r2", &stream(0, "1", &a)).unwrap();
        cat.upsert_stream("r2", &stream(1, "2", &b)).unwrap();
        std::fs::write(&a, b"RIFF").unwrap();
        assert_eq!(recover_interrupted(&cat).unwrap(), 1);
        let d = cat.get("r2").unwrap().unwrap();
        assert_eq!(d.summary.state, RecordingState::Interrupted);
        assert_eq!(d.summary.duration_ms, Some(0));
        assert_eq!(
            std::fs::read(&a).unwrap(),
            b"RIFF",
            "never deleted or rewritten"
        );
        let texts: Vec<_> = d.warnings.iter().map(|w| w.text.clone()).collect();
        assert!(
            texts.iter().any(|t| t.contains("not repairable")),
            "{texts:?}"
        );
        assert!(texts.iter().any(|t| t.contains("is missing")), "{texts:?}");
    }
}
