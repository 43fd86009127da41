use super::*;

/// Deterministic uniform [0, 1) generator.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// One synthetic 20 ms packet: true send time (s), RTP timestamp and arrival (samples).
struct Sim {
    rate: u32,
    ppm: f64,
    ts0: u32,
    base_delay: f64,
    jitter: f64,
}

impl Sim {
    /// Packet k: the sender's clock says k * 20 ms; real time runs (1 + ppm) slower/faster.
    fn packet(&self, k: u64, rng: &mut Rng) -> (f64, u32, u64) {
        let sender_secs = k as f64 * 0.02;
        let true_t = 1.0 + sender_secs / (1.0 + self.ppm * 1e-6);
        let ts = self
            .ts0
            .wrapping_add((k * u64::from(self.rate) / 50) as u32);
        let arrival = true_t + self.base_delay + self.jitter * rng.next();
        (true_t, ts, (arrival * f64::from(self.rate)) as u64)
    }

    /// Truth on the recording axis: capture time plus the fixed path delay.
    fn truth(&self, true_t: f64) -> f64 {
        (true_t + self.base_delay) * f64::from(self.rate)
    }
}

/// Runs 10 minutes; returns (worst online error after `warmup_s`, worst final error) in ms.
fn run(sim: &Sim, warmup_s: f64) -> (f64, f64, ClockMapper) {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut m = ClockMapper::new(sim.rate);
    let mut online: f64 = 0.0;
    let mut seen = Vec::new();
    let ms = |samples: f64| samples * 1000.0 / f64::from(sim.rate);
    for k in 0..30_000u64 {
        let (t, ts, arrival) = sim.packet(k, &mut rng);
        let ext = m.observe_rtp(arrival, ts, None);
        let err = ms(m.position_of(ext) as f64 - sim.truth(t)).abs();
        if t - 1.0 >= warmup_s {
            online = online.max(err);
        }
        seen.push((t, ext));
    }
    let last = seen
        .iter()
        .map(|&(t, ext)| ms(m.position_of(ext) as f64 - sim.truth(t)).abs())
        .fold(0.0, f64::max);
    (online, last, m)
}

#[test]
fn drift_without_jitter_within_1_ms() {
    for ppm in [200.0, -200.0, 0.0] {
        let sim = Sim {
            rate: 8000,
            ppm,
            ts0: u32::MAX - 50_000, // wraps early on
            base_delay: 0.03,
            jitter: 0.0,
        };
        let (online, last, m) = run(&sim, 0.0);
        assert!(online <= 1.0, "{ppm} ppm: online error {online} ms");
        assert!(last <= 1.0, "{ppm} ppm: final error {last} ms");
        let map = m.mapping();
        assert_eq!(map.source, MappingSource::Arrival);
        assert!((map.drift_ppm - ppm).abs() < 2.0, "{ppm} vs {map:?}");
    }
}

#[test]
fn drift_with_60_ms_jitter_within_20_ms() {
    for ppm in [200.0, -200.0] {
        let sim = Sim {
            rate: 8000,
            ppm,
            ts0: 12_345,
            base_delay: 0.02,
            jitter: 0.06,
        };
        let (online, last, m) = run(&sim, 2.0);
        assert!(online <= 20.0, "{ppm} ppm: online error {online} ms");
        assert!(last <= 20.0, "{ppm} ppm: final error {last} ms");
        // Uncorrected, 200 ppm over 10 minutes is 120 ms.
        assert!(
            (m.mapping().drift_ppm - ppm).abs() < 20.0,
            "{:?}",
            m.mapping()
        );
    }
}

#[test]
fn first_packet_anchors_then_envelope_improves() {
    let mut m = ClockMapper::new(8000);
    assert_eq!(m.mapping().source, MappingSource::None);
    // First packet is 50 ms late; the second shows the real path.
    let e0 = m.observe_rtp(8000 + 400, 1000, None);
    assert_eq!(m.position_of(e0), 8400);
    let e1 = m.observe_rtp(8000 + 160, 1160, None);
    assert_eq!(m.position_of(e1), 8160);
    assert_eq!(m.position_of(e0), 8000);
}

#[test]
fn timestamp_jump_reanchors() {
    let mut m = ClockMapper::new(8000);
    for k in 0..100u32 {
        m.observe_rtp(u64::from(k) * 160, k * 160, None);
    }
    assert_eq!(m.reanchors(), 0);
    // The sender restarts with a random timestamp base.
    let ext = m.observe_rtp(16_000, 0x7000_0000, None);
    assert_eq!(m.reanchors(), 1);
    assert_eq!(m.position_of(ext), 16_000);
    let next = m.observe_rtp(16_160, 0x7000_0000 + 160, None);
    assert_eq!(m.position_of(next), 16_160);
}

#[test]
fn sr_aligns_streams_with_different_delays() {
    // One SRC, two streams (8 and 16 kHz), one NTP clock running 150 ppm fast.
    let ppm = 150.0;
    let ntp0: u64 = 0xE8A0_0000_0000_0000;
    let a = Sim {
        rate: 8000,
        ppm,
        ts0: 4_000_000_000,
        base_delay: 0.02,
        jitter: 0.0,
    };
    // B's path holds every packet 100 ms longer (e.g. a buffer in the SRC).
    let b = Sim {
        rate: 16000,
        ppm,
        ts0: 77,
        base_delay: 0.12,
        jitter: 0.0,
    };
    let mut rng = Rng(1);
    let mut sync = NtpSync::new();
    let (mut ma, mut mb) = (ClockMapper::new(8000), ClockMapper::new(16000));
    let ntp_at = |k: u64| ntp0 + ((k as f64 * 0.02) * 4_294_967_296.0) as u64;
    let mut checks = Vec::new();
    for k in 0..15_000u64 {
        let (t, ts, arr) = a.packet(k, &mut rng);
        let ea = ma.observe_rtp(arr, ts, Some(&mut sync));
        // B starts 3 s later and its first packet is 200 ms later still.
        if k >= 150 {
            let (_, tsb, mut arrb) = b.packet(k, &mut rng);
            if k == 150 {
                arrb += 3200;
            }
            let eb = mb.observe_rtp(arrb, tsb, Some(&mut sync));
            checks.push((t, ea, eb));
        }
        if k % 250 == 0 {
            // SRs every 5 s from both streams, sampled at packet k.
            ma.observe_sr(ntp_at(k), ts);
            mb.observe_sr(ntp_at(k), b.packet(k, &mut Rng(1)).1);
        }
    }
    assert_eq!(ma.mapping().source, MappingSource::Ntp);
    assert_eq!(mb.mapping().source, MappingSource::Ntp);
    for &(t, ea, eb) in checks.iter().skip(500) {
        let pa = ma.position_of(ea) as f64 / 8.0;
        let pb = mb.position_of(eb) as f64 / 16.0;
        assert!((pa - pb).abs() <= 1.0, "t={t}: A {pa} ms, B {pb} ms");
        let truth = (t + 0.02) * 1000.0;
        assert!((pa - truth).abs() <= 1.0, "t={t}: A {pa} ms vs {truth}");
    }
    // Without the shared NTP clock B would sit on its own 100 ms longer path.
    let mut alone = ClockMapper::new(16000);
    let mut rng = Rng(1);
    let (t, ts, arr) = b.packet(1000, &mut rng);
    let e = alone.observe_rtp(arr, ts, None);
    assert!((alone.position_of(e) as f64 / 16.0 - (t + 0.02) * 1000.0 - 100.0).abs() < 1.0);
}

#[test]
fn hostile_inputs_do_not_panic() {
    let mut m = ClockMapper::new(0);
    let mut sync = NtpSync::new();
    let mut r = Rng(42);
    for _ in 0..10_000 {
        let arrival = (r.next() * u64::MAX as f64) as u64;
        let ts = (r.next() * f64::from(u32::MAX)) as u32;
        if r.next() < 0.1 {
            m.observe_sr((r.next() * u64::MAX as f64) as u64, ts);
        }
        let e = m.observe_rtp(arrival, ts, Some(&mut sync));
        let _ = m.position_of(e);
        let _ = m.position_of(i64::MIN);
        let _ = m.position_of(i64::MAX);
        let _ = m.mapping();
    }
}
