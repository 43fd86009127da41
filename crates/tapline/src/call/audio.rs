//! Audio sources for the simulator: a tone generator or a 16-bit PCM WAV file.

use anyhow::{Context, bail};

/// Where a stream's audio comes from.
pub(crate) enum Source {
    Tone { freq: f64, next: u64 },
    Samples { samples: Vec<i16>, pos: usize },
}

impl Source {
    /// Parse `tone:FREQ` or a WAV file path (8 kHz; the first channel is used).
    pub(crate) fn parse(spec: &str) -> anyhow::Result<Source> {
        if let Some(f) = spec.strip_prefix("tone:") {
            let freq: f64 = f
                .parse()
                .with_context(|| format!("bad tone frequency in {spec}"))?;
            if !(1.0..4000.0).contains(&freq) {
                bail!("tone frequency must be between 1 and 4000 Hz");
            }
            return Ok(Source::Tone { freq, next: 0 });
        }
        let bytes = std::fs::read(spec).with_context(|| format!("reading audio file {spec}"))?;
        let wav = tapline_media::read_wav(&bytes).with_context(|| format!("reading WAV {spec}"))?;
        if wav.sample_rate != 8000 {
            bail!(
                "{spec}: only 8 kHz WAV files are supported (got {} Hz)",
                wav.sample_rate
            );
        }
        let channels = usize::from(wav.channels.max(1));
        let samples = wav.samples.iter().step_by(channels).copied().collect();
        Ok(Source::Samples { samples, pos: 0 })
    }

    /// Fill `out` with the next samples (silence after the end of a file).
    pub(crate) fn fill(&mut self, out: &mut [i16]) {
        match self {
            Source::Tone { freq, next } => {
                tapline_media::tone(*freq, 8000, 12_000, *next, out);
                *next += out.len() as u64;
            }
            Source::Samples { samples, pos } => {
                for s in out.iter_mut() {
                    *s = samples.get(*pos).copied().unwrap_or(0);
                    *pos += 1;
                }
            }
        }
    }
}
