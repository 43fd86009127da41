//! The writer thread: owns every open WAV file, so disk latency never stalls the RTP receive
//! loop or the SIP core. Audio arrives as contiguous runs per stream; gaps become silence.
//! WAV headers are rewritten about once a second, so a file stays playable if we crash.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tapline_media::{Interleaver, WavWriter};

const HEADER_EVERY: Duration = Duration::from_secs(1);

type Wav = WavWriter<BufWriter<File>>;

/// Messages to the writer thread.
pub(crate) enum WriterMsg {
    /// Create the files of a recording.
    Open {
        recording: u64,
        sample_rate: u32,
        /// One mono file per stream, by stream index.
        streams: Vec<PathBuf>,
        /// The stereo file and, per channel, the stream index that feeds it.
        stereo: Option<(PathBuf, Vec<usize>)>,
        reply: tokio::sync::oneshot::Sender<std::io::Result<()>>,
    },
    /// A stream added by a re-offer: its own mono file (not part of the stereo file).
    AddStream {
        recording: u64,
        stream: usize,
        path: PathBuf,
        /// The stereo channel it takes over (the stream it replaces had it), if any.
        stereo_channel: Option<usize>,
    },
    /// Decoded samples of one stream starting at `start` (in samples from recording start).
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
    /// Frames per mono file, by stream index.
    pub(crate) stream_frames: Vec<u64>,
    pub(crate) stereo_frames: Option<u64>,
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

struct MonoFile {
    wav: Option<Wav>,
    next: u64,
}

struct OpenRecording {
    sample_rate: u32,
    streams: Vec<MonoFile>,
    stereo: Option<(Wav, Interleaver, Vec<usize>)>,
    /// Next position expected on each stereo channel (a replacement stream's leading part that
    /// overlaps what its predecessor already wrote is skipped).
    channel_next: Vec<u64>,
    scratch: Vec<i16>,
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
                sample_rate,
                streams,
                stereo,
                reply,
            } => match open_files(sample_rate, &streams, stereo) {
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
                stereo_channel,
            } => {
                if let Some(rec) = open.get_mut(&recording) {
                    if let (Some(ch), Some((_, _, map))) = (stereo_channel, rec.stereo.as_mut()) {
                        if let Some(slot) = map.get_mut(ch) {
                            *slot = stream;
                        }
                    }
                    while rec.streams.len() <= stream {
                        rec.streams.push(MonoFile { wav: None, next: 0 });
                    }
                    match create(&path, 1, rec.sample_rate) {
                        Ok(wav) => {
                            if let Some(f) = rec.streams.get_mut(stream) {
                                f.wav = Some(wav);
                            }
                        }
                        Err(e) => rec.errors.push(format!("{}: {e}", path.display())),
                    }
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

fn create(path: &PathBuf, channels: u16, rate: u32) -> std::io::Result<Wav> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    WavWriter::new(BufWriter::new(File::create(path)?), channels, rate)
}

fn open_files(
    sample_rate: u32,
    streams: &[PathBuf],
    stereo: Option<(PathBuf, Vec<usize>)>,
) -> std::io::Result<OpenRecording> {
    let mut mono = Vec::with_capacity(streams.len());
    for path in streams {
        mono.push(MonoFile {
            wav: Some(create(path, 1, sample_rate)?),
            next: 0,
        });
    }
    let stereo = match stereo {
        Some((path, map)) => {
            let channels = u16::try_from(map.len()).unwrap_or(2);
            Some((
                create(&path, channels, sample_rate)?,
                Interleaver::new(channels),
                map,
            ))
        }
        None => None,
    };
    Ok(OpenRecording {
        sample_rate,
        streams: mono,
        channel_next: vec![0; stereo.as_ref().map_or(0, |(_, _, m)| m.len())],
        stereo,
        scratch: Vec::new(),
        last_header: Instant::now(),
        errors: Vec::new(),
    })
}

fn write_audio(rec: &mut OpenRecording, stream: usize, start: u64, samples: &[i16]) {
    if let Some(file) = rec.streams.get_mut(stream) {
        // Runs are contiguous per stream; guard anyway against overlap or a gap.
        let mut samples = samples;
        let mut start = start;
        if start < file.next {
            let skip = usize::try_from(file.next - start)
                .unwrap_or(usize::MAX)
                .min(samples.len());
            samples = samples.get(skip..).unwrap_or(&[]);
            start = file.next;
        }
        if let Some(wav) = file.wav.as_mut() {
            let result = wav
                .write_silence(start - file.next)
                .and_then(|()| wav.write_samples(samples));
            if let Err(e) = result {
                rec.errors.push(format!("stream {stream}: {e}"));
                file.wav = None;
            }
        }
        file.next = start + samples.len() as u64;
        if let Some((wav, inter, map)) = rec.stereo.as_mut() {
            for (channel, s) in map.iter().enumerate() {
                if *s == stream {
                    let next = rec.channel_next.get(channel).copied().unwrap_or(0);
                    let skip = usize::try_from(next.saturating_sub(start))
                        .unwrap_or(usize::MAX)
                        .min(samples.len());
                    let run = samples.get(skip..).unwrap_or(&[]);
                    let run_start = start + skip as u64;
                    if !run.is_empty() {
                        inter.push(channel, run_start, run);
                        if let Some(n) = rec.channel_next.get_mut(channel) {
                            *n = run_start + run.len() as u64;
                        }
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
    }
}

fn update_headers(rec: &mut OpenRecording) {
    for f in &mut rec.streams {
        if let Some(wav) = f.wav.as_mut() {
            let _ = wav.update_header();
        }
    }
    if let Some((wav, _, _)) = rec.stereo.as_mut() {
        let _ = wav.update_header();
    }
}

fn close(mut rec: OpenRecording) -> CloseReport {
    let mut report = CloseReport {
        sample_rate: rec.sample_rate,
        ..CloseReport::default()
    };
    if let Some((mut wav, mut inter, _)) = rec.stereo.take() {
        rec.scratch.clear();
        inter.finish(&mut rec.scratch);
        let result = wav.write_samples(&rec.scratch);
        if let Err(e) = result {
            rec.errors.push(format!("stereo: {e}"));
        }
        report.stereo_frames = Some(wav.frames_written());
        if let Err(e) = finish_file(wav) {
            rec.errors.push(format!("stereo: {e}"));
        }
    }
    for (i, f) in rec.streams.into_iter().enumerate() {
        match f.wav {
            Some(wav) => {
                report.stream_frames.push(wav.frames_written());
                if let Err(e) = finish_file(wav) {
                    rec.errors.push(format!("stream {i}: {e}"));
                }
            }
            None => report.stream_frames.push(0),
        }
    }
    report.errors = rec.errors;
    report
}

/// Final header, flush, and fsync: after BYE the file is complete on disk.
fn finish_file(wav: Wav) -> std::io::Result<()> {
    let file = wav.finalize()?.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()
}
