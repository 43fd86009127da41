//! Audio sources for the simulator: a tone generator or a 16-bit PCM WAV file, at the audio
//! rate of the codec being sent (8 kHz, or 16 kHz for G.722, Opus and L16/16000).

use anyhow::{Context, bail};

/// Where a stream's audio comes from.
pub(crate) enum Source {
    Tone { freq: f64, rate: u32, next: u64 },
    Samples { samples: Vec<i16>, pos: usize },
}

impl Source {
    /// Parse `tone:FREQ` or a WAV file path; the file's rate must be `rate` (no resampling)
    /// and its first channel is used.
    pub(crate) fn parse(spec: &str, rate: u32) -> anyhow::Result<Source> {
        if let Some(f) = spec.strip_prefix("tone:") {
            let freq: f64 = f
                .parse()
                .with_context(|| format!("bad tone frequency in {spec}"))?;
            let nyquist = f64::from(rate) / 2.0;
            if !(freq >= 1.0 && freq < nyquist) {
                bail!("tone frequency must be between 1 and {nyquist} Hz at {rate} Hz");
            }
            return Ok(Source::Tone {
                freq,
                rate,
                next: 0,
            });
        }
        let bytes = std::fs::read(spec).with_context(|| format!("reading audio file {spec}"))?;
        let wav = tapline_media::read_wav(&bytes).with_context(|| format!("reading WAV {spec}"))?;
        if wav.sample_rate != rate {
            bail!(
                "{spec}: the codec sends {rate} Hz audio but the file is {} Hz (no resampling)",
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
            Source::Tone { freq, rate, next } => {
                tapline_media::tone(*freq, *rate, 12_000, *next, out);
                *next += out.len() as u64;
            }
            Source::Samples { samples, pos } => {
                for s in out.iter_mut() {
                    *s = samples.get(*pos).copied().unwrap_or(0);
                    *pos = pos.saturating_add(1);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tone_at_16k_and_rate_checks() {
        let mut s = Source::parse("tone:1000", 16_000).unwrap();
        let mut buf = vec![0i16; 3200];
        s.fill(&mut buf);
        let f = tapline_media::dominant_frequency(&buf, 16_000);
        assert!((f - 1000.0).abs() < 5.0, "{f}");
        assert!(Source::parse("tone:5000", 8000).is_err());
        assert!(Source::parse("tone:5000", 16_000).is_ok());
    }

    #[test]
    fn wav_rate_must_match() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.wav");
        let f = std::fs::File::create(&path).unwrap();
        let mut w = tapline_media::WavWriter::new(std::io::BufWriter::new(f), 1, 16_000).unwrap();
        w.write_samples(&[1, 2, 3, 4]).unwrap();
        w.finalize().unwrap();
        let p = path.to_str().unwrap();
        assert!(Source::parse(p, 8000).is_err());
        let mut s = Source::parse(p, 16_000).unwrap();
        let mut out = [9i16; 6];
        s.fill(&mut out);
        assert_eq!(out, [1, 2, 3, 4, 0, 0]);
    }
}
