//! The writer thread: owns every open recording file, so disk latency never stalls the RTP
//! receive loop or the SIP core. Audio arrives as contiguous runs per stream, at the stream's
//! own rate; gaps become silence. Outputs: one mono WAV per stream (its own rate), a stereo WAV
//! by participant and a mixed mono WAV at the recording's common rate (streams at other rates go
//! through a band-limited resampler), and an Ogg Opus file of the mix.
//!
//! Crash safety: files are written as `NAME.part`, their WAV headers rewritten about once a
//! second (a crash loses at most ~1 s); at the end each file is finalized, fsynced and renamed
//! to its final name, so a reader never sees half a file under the published name.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tapline_media::resample::Resampler;
use tapline_media::{Interleaver, OggOpusWriter, WavWriter};

const HEADER_EVERY: Duration = Duration::from_secs(1);

type Wav = WavWriter<BufWriter<File>>;
type Ogg = OggOpusWriter<BufWriter<File>>;
/// The mixed mono outputs (WAV and/or Ogg Opus) and the lanes they mix.
type Mixed = (Option<(Wav, PathBuf)>, Option<(Ogg, PathBuf)>, Interleaver);

/// What to write for a new recording.
pub(crate) struct OutputsPlan {
    /// Common rate of the stereo/mixed/ogg outputs.
    pub(crate) rate: u32,
    /// One mono file per stream, by stream index, with the stream's rate (None: no file).
    pub(crate) streams: Vec<(Option<PathBuf>, u32)>,
    /// The stereo file and, per channel, the stream index that feeds it.
    pub(crate) stereo: Option<(PathBuf, Vec<usize>)>,
    pub(crate) mixed: Option<PathBuf>,
    pub(crate) ogg: Option<PathBuf>,
}

/// Messages to the writer thread.
pub(crate) enum WriterMsg {
    /// Create the files of a recording.
    Open {
        recording: u64,
        plan: Box<OutputsPlan>,
        reply: tokio::sync::oneshot::Sender<std::io::Result<()>>,
    },
    /// A stream added by a re-offer: its own mono file; it may take over a stereo channel.
    AddStream {
        recording: u64,
        stream: usize,
        path: Option<PathBuf>,
        rate: u32,
        stereo_channel: Option<usize>,
    },
    /// Decoded samples of one stream at its own rate, starting at `start` (samples from the
    /// recording's time zero, at that rate).
    Audio {
        recording: u64,
        stream: usize,
        start: u64,
        samples: Vec<i16>,
    },
    /// Finish every file of the recording.
    Close {
        recording: u64,
        reply: tokio::sync::oneshot::Sender<CloseReport>,
    },
    Shutdown,
}

/// What was written for a recording.
#[derive(Debug, Default)]
pub(crate) struct CloseReport {
    /// Frames per mono file, by stream index, and that file's rate.
    pub(crate) stream_frames: Vec<(u64, u32)>,
    pub(crate) stereo_frames: Option<u64>,
    pub(crate) mixed_frames: Option<u64>,
    /// Rate of the stereo and mixed files.
    pub(crate) sample_rate: u32,
    pub(crate) errors: Vec<String>,
}

/// Cloneable sender to the writer thread.
#[derive(Clone)]
pub(crate) struct WriterHandle {
    tx: mpsc::Sender<WriterMsg>,
}

impl WriterHandle {
    pub(crate) fn send(&self, msg: WriterMsg) {
        if self.tx.send(msg).is_err() {
            tracing::error!("writer thread is gone; audio dropped");
        }
    }
}

/// The name a file has while it is being written.
pub(crate) fn part_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".part");
    PathBuf::from(s)
}

/// A stream's contribution at the common rate.
struct Lane {
    mono: Option<(Wav, PathBuf)>,
    next: u64,
    rate: u32,
    /// Resampler to the common rate, when the stream's rate differs.
    resampler: Option<Resampler>,
    /// Next position (at the common rate) of this stream's resampled output.
    common_next: u64,
}

struct OpenRecording {
    rate: u32,
    lanes: Vec<Lane>,
    stereo: Option<(Wav, PathBuf, Interleaver, Vec<usize>)>,
    /// Next position expected on each stereo channel (a replacement stream's leading part that
    /// overlaps what its predecessor already wrote is skipped).
    channel_next: Vec<u64>,
    /// Mixed mono: one interleaver lane per stream known at open, summed per frame.
    mixed: Option<Mixed>,
    mix_channels: usize,
    scratch: Vec<i16>,
    resampled: Vec<i16>,
    mono_mix: Vec<i16>,
    last_header: Instant,
    errors: Vec<String>,
}

/// Start the writer thread.
pub(crate) fn spawn() -> std::io::Result<(WriterHandle, std::thread::JoinHandle<()>)> {
    let (tx, rx) = mpsc::channel();
    let join = std::thread::Builder::new()
        .name("tapline-writer".into())
        .spawn(move || run(rx))?;
    Ok((WriterHandle { tx }, join))
}

fn run(rx: mpsc::Receiver<WriterMsg>) {
    let mut open: HashMap<u64, OpenRecording> = HashMap::new();
    while let Ok(msg) = rx.recv() {
        match msg {
            WriterMsg::Open {
                recording,
                plan,
                reply,
            } => match open_files(*plan) {
                Ok(rec) => {
                    open.insert(recording, rec);
                    let _ = reply.send(Ok(()));
                }
                Err(e) => {
                    let _ = reply.send(Err(e));
                }
            },
            WriterMsg::AddStream {
                recording,
                stream,
                path,
                rate,
                stereo_channel,
            } => {
                if let Some(rec) = open.get_mut(&recording) {
                    add_stream(rec, stream, path, rate, stereo_channel);
                }
            }
            WriterMsg::Audio {
                recording,
                stream,
                start,
                samples,
            } => {
                if let Some(rec) = open.get_mut(&recording) {
                    write_audio(rec, stream, start, &samples);
                    if rec.last_header.elapsed() >= HEADER_EVERY {
                        rec.last_header = Instant::now();
                        update_headers(rec);
                    }
                }
            }
            WriterMsg::Close { recording, reply } => {
                let report = match open.remove(&recording) {
                    Some(rec) => close(rec),
                    None => CloseReport::default(),
                };
                let _ = reply.send(report);
            }
            WriterMsg::Shutdown => break,
        }
    }
    for (_, rec) in open.drain() {
        let _ = close(rec);
    }
}

fn create(path: &Path, channels: u16, rate: u32) -> std::io::Result<(Wav, PathBuf)> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let wav = WavWriter::new(
        BufWriter::new(File::create(part_path(path))?),
        channels,
        rate,
    )?;
    Ok((wav, path.to_path_buf()))
}

fn lane(path: Option<PathBuf>, rate: u32, common: u32) -> std::io::Result<Lane> {
    let mono = match path {
        Some(p) => Some(create(&p, 1, rate)?),
        None => None,
    };
    let resampler = if rate == common {
        None
    } else {
        Resampler::new(rate, common)
            .map_err(|e| std::io::Error::other(format!("no resampler {rate} -> {common} Hz: {e}")))
            .map(Some)?
    };
    Ok(Lane {
        mono,
        next: 0,
        rate,
        resampler,
        common_next: 0,
    })
}

fn open_files(plan: OutputsPlan) -> std::io::Result<OpenRecording> {
    let rate = plan.rate;
    let mut lanes = Vec::with_capacity(plan.streams.len());
    for (path, stream_rate) in plan.streams {
        lanes.push(lane(path, stream_rate, rate)?);
    }
    let stereo = match plan.stereo {
        Some((path, map)) => {
            let channels = u16::try_from(map.len()).unwrap_or(2);
            let (wav, final_path) = create(&path, channels, rate)?;
            Some((wav, final_path, Interleaver::new(channels), map))
        }
        None => None,
    };
    let mix_channels = lanes.len();
    let mixed = if plan.mixed.is_some() || plan.ogg.is_some() {
        let wav = match plan.mixed {
            Some(p) => Some(create(&p, 1, rate)?),
            None => None,
        };
        let ogg = match plan.ogg {
            Some(p) => {
                if let Some(dir) = p.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                let file = BufWriter::new(File::create(part_path(&p))?);
                let w = OggOpusWriter::new(file, rate, fastrand::u32(..))
                    .map_err(|e| std::io::Error::other(format!("Ogg Opus at {rate} Hz: {e}")))?;
                Some((w, p))
            }
            None => None,
        };
        Some((
            wav,
            ogg,
            Interleaver::new(u16::try_from(mix_channels.max(1)).unwrap_or(1)),
        ))
    } else {
        None
    };
    Ok(OpenRecording {
        rate,
        lanes,
        channel_next: vec![0; stereo.as_ref().map_or(0, |(_, _, _, m)| m.len())],
        stereo,
        mixed,
        mix_channels,
        scratch: Vec::new(),
        resampled: Vec::new(),
        mono_mix: Vec::new(),
        last_header: Instant::now(),
        errors: Vec::new(),
    })
}

fn add_stream(
    rec: &mut OpenRecording,
    stream: usize,
    path: Option<PathBuf>,
    rate: u32,
    stereo_channel: Option<usize>,
) {
    match lane(path, rate, rec.rate) {
        Ok(l) => {
            while rec.lanes.len() < stream {
                rec.lanes.push(Lane {
                    mono: None,
                    next: 0,
                    rate,
                    resampler: None,
                    common_next: 0,
                });
            }
            if stream < rec.lanes.len() {
                if let Some(slot) = rec.lanes.get_mut(stream) {
                    *slot = l;
                }
            } else {
                rec.lanes.push(l);
            }
        }
        Err(e) => rec.errors.push(format!("stream {stream}: {e}")),
    }
    if let (Some(ch), Some((_, _, _, map))) = (stereo_channel, rec.stereo.as_mut()) {
        if let Some(slot) = map.get_mut(ch) {
            *slot = stream;
        }
    }
}

fn write_audio(rec: &mut OpenRecording, stream: usize, start: u64, samples: &[i16]) {
    let Some(lane) = rec.lanes.get_mut(stream) else {
        return;
    };
    // Runs are contiguous per stream; guard anyway against overlap or a gap.
    let mut samples = samples;
    let mut start = start;
    if start < lane.next {
        let skip = usize::try_from(lane.next - start)
            .unwrap_or(usize::MAX)
            .min(samples.len());
        samples = samples.get(skip..).unwrap_or(&[]);
        start = lane.next;
    }
    let gap = start - lane.next;
    if let Some((wav, _)) = lane.mono.as_mut() {
        if let Err(e) = wav
            .write_silence(gap)
            .and_then(|()| wav.write_samples(samples))
        {
            rec.errors.push(format!("stream {stream}: {e}"));
            lane.mono = None;
        }
    }
    lane.next = start + samples.len() as u64;
    // To the common rate for the stereo and mixed outputs.
    let (common_start, common): (u64, &[i16]) = match lane.resampler.as_mut() {
        None => (start, samples),
        Some(r) => {
            // The resampler is a continuous stream: feed the gap as silence so time is kept.
            rec.resampled.clear();
            let mut feed = |input: &[i16], out: &mut Vec<i16>| {
                let base = out.len();
                out.resize(base + r.max_output(input.len()), 0);
                let n = r
                    .process(input, out.get_mut(base..).unwrap_or_default())
                    .unwrap_or(0);
                out.truncate(base + n);
            };
            let silence = [0i16; 256];
            let mut left = gap;
            while left > 0 {
                let n = usize::try_from(left.min(256)).unwrap_or(256);
                feed(silence.get(..n).unwrap_or_default(), &mut rec.resampled);
                left -= n as u64;
            }
            feed(samples, &mut rec.resampled);
            let s = lane.common_next;
            lane.common_next += rec.resampled.len() as u64;
            (s, rec.resampled.as_slice())
        }
    };
    if lane.resampler.is_none() {
        lane.common_next = start + samples.len() as u64;
    }
    if let Some((wav, _, inter, map)) = rec.stereo.as_mut() {
        for (channel, s) in map.iter().enumerate() {
            if *s != stream {
                continue;
            }
            let next = rec.channel_next.get(channel).copied().unwrap_or(0);
            let skip = usize::try_from(next.saturating_sub(common_start))
                .unwrap_or(usize::MAX)
                .min(common.len());
            let run = common.get(skip..).unwrap_or(&[]);
            let run_start = common_start + skip as u64;
            if !run.is_empty() {
                inter.push(channel, run_start, run);
                if let Some(n) = rec.channel_next.get_mut(channel) {
                    *n = run_start + run.len() as u64;
                }
            }
        }
        rec.scratch.clear();
        inter.pop_ready(&mut rec.scratch);
        if !rec.scratch.is_empty() {
            if let Err(e) = wav.write_samples(&rec.scratch) {
                rec.errors.push(format!("stereo: {e}"));
            }
        }
    }
    if stream < rec.mix_channels {
        if let Some((wav, ogg, inter)) = rec.mixed.as_mut() {
            inter.push(stream, common_start, common);
            rec.scratch.clear();
            inter.pop_ready(&mut rec.scratch);
            write_mix(
                &rec.scratch,
                rec.mix_channels,
                &mut rec.mono_mix,
                wav,
                ogg,
                &mut rec.errors,
            );
        }
    }
}

fn write_mix(
    frames: &[i16],
    channels: usize,
    mono: &mut Vec<i16>,
    wav: &mut Option<(Wav, PathBuf)>,
    ogg: &mut Option<(Ogg, PathBuf)>,
    errors: &mut Vec<String>,
) {
    if frames.is_empty() {
        return;
    }
    mono.clear();
    mono.resize(frames.len() / channels.max(1), 0);
    let n = tapline_media::mix::mix_interleaved(frames, channels.max(1), mono);
    let out = mono.get(..n).unwrap_or_default();
    if let Some((w, _)) = wav.as_mut() {
        if let Err(e) = w.write_samples(out) {
            errors.push(format!("mixed: {e}"));
        }
    }
    if let Some((o, _)) = ogg.as_mut() {
        if let Err(e) = o.write(out) {
            errors.push(format!("ogg: {e}"));
        }
    }
}

fn update_headers(rec: &mut OpenRecording) {
    for l in &mut rec.lanes {
        if let Some((wav, _)) = l.mono.as_mut() {
            let _ = wav.update_header();
        }
    }
    if let Some((wav, _, _, _)) = rec.stereo.as_mut() {
        let _ = wav.update_header();
    }
    if let Some((Some((wav, _)), _, _)) = rec.mixed.as_mut() {
        let _ = wav.update_header();
    }
}

fn close(mut rec: OpenRecording) -> CloseReport {
    let mut report = CloseReport {
        sample_rate: rec.rate,
        ..CloseReport::default()
    };
    // Resamplers hold a few samples of history: flush them into the common-rate outputs.
    for (i, lane) in rec.lanes.iter_mut().enumerate() {
        if let Some(r) = lane.resampler.as_mut() {
            let mut tail = vec![0i16; r.max_output(256)];
            let n = r.flush(&mut tail).unwrap_or(0);
            tail.truncate(n);
            let s = lane.common_next;
            lane.common_next += n as u64;
            if let Some((_, _, inter, map)) = rec.stereo.as_mut() {
                for (ch, st) in map.iter().enumerate() {
                    if *st == i {
                        inter.push(ch, s, &tail);
                    }
                }
            }
            if i < rec.mix_channels {
                if let Some((_, _, inter)) = rec.mixed.as_mut() {
                    inter.push(i, s, &tail);
                }
            }
        }
    }
    if let Some((mut wav, path, mut inter, _)) = rec.stereo.take() {
        rec.scratch.clear();
        inter.finish(&mut rec.scratch);
        if let Err(e) = wav.write_samples(&rec.scratch) {
            rec.errors.push(format!("stereo: {e}"));
        }
        report.stereo_frames = Some(wav.frames_written());
        if let Err(e) = publish_wav(wav, &path) {
            rec.errors.push(format!("stereo: {e}"));
        }
    }
    if let Some((mut wav, mut ogg, mut inter)) = rec.mixed.take() {
        rec.scratch.clear();
        inter.finish(&mut rec.scratch);
        write_mix(
            &rec.scratch,
            rec.mix_channels,
            &mut rec.mono_mix,
            &mut wav,
            &mut ogg,
            &mut rec.errors,
        );
        if let Some((w, path)) = wav {
            report.mixed_frames = Some(w.frames_written());
            if let Err(e) = publish_wav(w, &path) {
                rec.errors.push(format!("mixed: {e}"));
            }
        }
        if let Some((o, path)) = ogg {
            let result = o
                .finish()
                .map_err(|e| std::io::Error::other(e.to_string()))
                .and_then(|w| w.into_inner().map_err(|e| e.into_error()))
                .and_then(|f| publish(f, &path));
            if let Err(e) = result {
                rec.errors.push(format!("ogg: {e}"));
            }
        }
    }
    for (i, lane) in rec.lanes.into_iter().enumerate() {
        match lane.mono {
            Some((wav, path)) => {
                report.stream_frames.push((wav.frames_written(), lane.rate));
                if let Err(e) = publish_wav(wav, &path) {
                    rec.errors.push(format!("stream {i}: {e}"));
                }
            }
            None => report.stream_frames.push((0, lane.rate)),
        }
    }
    report.errors = rec.errors;
    report
}

/// Final header, flush, fsync, then rename `NAME.part` to `NAME`.
fn publish_wav(wav: Wav, path: &Path) -> std::io::Result<()> {
    let file = wav.finalize()?.into_inner().map_err(|e| e.into_error())?;
    publish(file, path)
}

fn publish(file: File, path: &Path) -> std::io::Result<()> {
    file.sync_all()?;
    drop(file);
    std::fs::rename(part_path(path), path)?;
    if let Some(dir) = path.parent() {
        // The rename itself must reach the disk (POSIX: fsync the directory).
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}
