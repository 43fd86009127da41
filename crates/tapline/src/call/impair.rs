//! Network impairments for the simulator: per packet, decide whether it is dropped, when it
//! leaves (jitter, held back to be overtaken) and whether a second copy follows. Sans-IO: the
//! caller owns the clock and the seeded random source.

use std::time::Duration;

use anyhow::bail;

/// How long a packet picked by `--reorder` is held back: two packet times plus a little, so
/// the next two packets overtake it.
pub(crate) const HOLD_BACK: Duration = Duration::from_millis(45);

/// The `--loss/--reorder/--duplicate/--jitter` settings.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Impairments {
    /// Percent of packets dropped.
    pub(crate) loss: f64,
    /// Percent of packets held back by [`HOLD_BACK`].
    pub(crate) reorder: f64,
    /// Percent of packets sent twice.
    pub(crate) duplicate: f64,
    /// Upper bound of the uniform extra delay per packet, in ms.
    pub(crate) jitter_ms: u32,
}

impl Impairments {
    /// Checks the percentages and the jitter bound.
    pub(crate) fn new(
        loss: f64,
        reorder: f64,
        duplicate: f64,
        jitter_ms: u32,
    ) -> anyhow::Result<Self> {
        for (name, v) in [
            ("--loss", loss),
            ("--reorder", reorder),
            ("--duplicate", duplicate),
        ] {
            if !(0.0..=100.0).contains(&v) {
                bail!("{name} must be a percentage between 0 and 100");
            }
        }
        if jitter_ms > 10_000 {
            bail!("--jitter must be at most 10000 ms");
        }
        Ok(Impairments {
            loss,
            reorder,
            duplicate,
            jitter_ms,
        })
    }
}

/// What happens to one packet: the delays (after its due time) of every copy sent; empty
/// when it is dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fate {
    pub(crate) copies: Vec<Duration>,
}

/// Draws a [`Fate`] per packet from a seeded generator.
pub(crate) struct Impairer {
    cfg: Impairments,
    rng: fastrand::Rng,
}

impl Impairer {
    /// Impairer drawing from `rng` (seeded by the caller for reproducible runs).
    pub(crate) fn new(cfg: Impairments, rng: fastrand::Rng) -> Impairer {
        Impairer { cfg, rng }
    }

    fn chance(&mut self, pct: f64) -> bool {
        // Always draw, so one setting does not shift the random sequence of the others.
        let x = self.rng.f64() * 100.0;
        x < pct
    }

    fn jitter(&mut self) -> Duration {
        let us = u64::from(self.cfg.jitter_ms) * 1000;
        Duration::from_micros(self.rng.u64(0..=us))
    }

    /// The fate of the next packet.
    pub(crate) fn next(&mut self) -> Fate {
        let lost = self.chance(self.cfg.loss);
        let held = self.chance(self.cfg.reorder);
        let doubled = self.chance(self.cfg.duplicate);
        let mut delay = self.jitter();
        let dup_delay = self.jitter();
        if lost {
            return Fate { copies: Vec::new() };
        }
        if held {
            delay += HOLD_BACK;
        }
        let mut copies = vec![delay];
        if doubled {
            // The copy travels on its own jitter, so it may even arrive first.
            copies.push(dup_delay);
        }
        Fate { copies }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(cfg: Impairments, n: usize) -> Vec<Fate> {
        let mut imp = Impairer::new(cfg, fastrand::Rng::with_seed(7));
        (0..n).map(|_| imp.next()).collect()
    }

    #[test]
    fn clean_sends_every_packet_once_on_time() {
        let fates = run(Impairments::default(), 1000);
        assert!(fates.iter().all(|f| f.copies == vec![Duration::ZERO]));
    }

    #[test]
    fn rates_match_the_settings() {
        let cfg = Impairments::new(5.0, 2.0, 1.0, 60).unwrap();
        let fates = run(cfg, 100_000);
        let lost = fates.iter().filter(|f| f.copies.is_empty()).count();
        let dup = fates.iter().filter(|f| f.copies.len() == 2).count();
        let held = fates
            .iter()
            .filter(|f| f.copies.first().is_some_and(|d| *d >= HOLD_BACK))
            .count();
        assert!((4500..5500).contains(&lost), "lost {lost}");
        assert!((800..1200).contains(&dup), "dup {dup}");
        // Held back ones plus the ones whose jitter alone passes 45 ms (none at 60 ms? some).
        assert!(held > 1500, "held {held}");
        let max = fates.iter().flat_map(|f| f.copies.iter()).max().unwrap();
        assert!(*max <= HOLD_BACK + Duration::from_millis(60));
    }

    #[test]
    fn same_seed_same_fates() {
        let cfg = Impairments::new(10.0, 10.0, 10.0, 30).unwrap();
        assert_eq!(run(cfg, 500), run(cfg, 500));
    }

    #[test]
    fn rejects_bad_settings() {
        assert!(Impairments::new(101.0, 0.0, 0.0, 0).is_err());
        assert!(Impairments::new(0.0, -1.0, 0.0, 0).is_err());
        assert!(Impairments::new(0.0, 0.0, f64::NAN, 0).is_err());
        assert!(Impairments::new(0.0, 0.0, 0.0, 20_000).is_err());
    }
}
