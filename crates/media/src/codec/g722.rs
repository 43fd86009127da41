//! G.722 decoder, 64 kbit/s mode (ITU-T G.722 §4 / §6), one byte per 16 kHz sample pair
//! as carried in RTP (RFC 3551 §4.5.2).
//!
//! Written here rather than using `audio-codec`'s decoder because that one (0.4.13) starts
//! with zero scale factors instead of the reset values DETL = 32 / DETH = 8 (G.722 §6.2.1),
//! which distorts the first ~150 ms of every stream. Arithmetic follows the standard's
//! fixed-point blocks so the output is bit-exact (checked against an independent decoder).

/// Low-band inverse quantiser for the 6-bit code (G.722 table 6, QQ6 x DETL scaling).
const QM6: [i32; 64] = [
    -136, -136, -136, -136, -24808, -21904, -19008, -16704, -14984, -13512, -12280, -11192, -10232,
    -9360, -8576, -7856, -7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576, -3168, -2776,
    -2400, -2032, -1688, -1360, -1040, -728, 24808, 21904, 19008, 16704, 14984, 13512, 12280,
    11192, 10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456, 4944, 4464, 4008, 3576, 3168, 2776,
    2400, 2032, 1688, 1360, 1040, 728, 432, 136, -432, -136,
];
/// Low-band inverse quantiser for the truncated 4-bit code (predictor input).
const QM4: [i32; 16] = [
    0, -20456, -12896, -8968, -6288, -4240, -2584, -1200, 20456, 12896, 8968, 6288, 4240, 2584,
    1200, 0,
];
/// High-band inverse quantiser (2-bit code).
const QM2: [i32; 4] = [-7408, -1616, 7408, 1616];
/// 4-bit code to log scale factor multiplier index, and the multipliers (low band).
const RL42: [usize; 16] = [0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0];
const WL: [i32; 8] = [-60, -30, 58, 172, 334, 538, 1198, 3042];
/// Same for the high band.
const RH2: [usize; 4] = [2, 1, 2, 1];
const WH: [i32; 3] = [0, -214, 798];
/// Inverse log2 table for the scale factor (G.722 table 15).
const ILB: [i32; 32] = [
    2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834,
    2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371, 3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
];
/// Receive QMF coefficients (G.722 table 11, symmetric halves).
const QMF: [i32; 12] = [3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11];

fn sat(x: i32) -> i32 {
    x.clamp(i32::from(i16::MIN), i32::from(i16::MAX))
}

/// ADPCM state of one sub-band (predictor, scale factor).
#[derive(Debug, Clone, Default)]
struct Band {
    /// Signal estimate s, pole part sp, zero part sz.
    s: i32,
    sz: i32,
    /// Reconstructed signal r and partial reconstruction p, newest first.
    r: [i32; 3],
    p: [i32; 3],
    /// Pole (a1, a2) and zero (b1..b6) coefficients; index 0 unused.
    a: [i32; 3],
    b: [i32; 7],
    /// Quantised difference history, d[0] newest.
    d: [i32; 7],
    /// Log scale factor and scale factor.
    nb: i32,
    det: i32,
}

impl Band {
    fn new(det: i32) -> Band {
        Band {
            det,
            ..Band::default()
        }
    }

    /// Scale factor adaptation (LOGSCL/LOGSCH then SCALEL/SCALEH).
    fn adapt_scale(&mut self, w: i32, max_nb: i32, shift_base: i32) {
        self.nb = ((self.nb * 127) >> 7) + w;
        self.nb = self.nb.clamp(0, max_nb);
        let idx = ((self.nb >> 6) & 31) as usize;
        let shift = shift_base - (self.nb >> 11);
        let v = ILB.get(idx).copied().unwrap_or(2048);
        let v = if shift < 0 { v << -shift } else { v >> shift };
        self.det = v << 2;
    }

    /// Predictor update with the quantised difference `dq` (RECONS..PREDIC).
    fn update(&mut self, dq: i32) {
        self.d[0] = dq;
        self.r[0] = sat(self.s + dq);
        self.p[0] = sat(self.sz + dq);
        // UPPOL2: second pole coefficient.
        let sg = self.p.map(|p| p >> 15);
        let wd1 = sat(self.a[1] << 2);
        let wd2 = if sg[0] == sg[1] { -wd1 } else { wd1 }.min(32767);
        let mut wd3 = (wd2 >> 7) + if sg[0] == sg[2] { 128 } else { -128 };
        wd3 += (self.a[2] * 32512) >> 15;
        let a2 = wd3.clamp(-12288, 12288);
        // UPPOL1: first pole coefficient, kept inside the stability triangle.
        let wd1 = if sg[0] == sg[1] { 192 } else { -192 };
        let a1 = sat(wd1 + ((self.a[1] * 32640) >> 15));
        let lim = sat(15360 - a2);
        let a1 = a1.clamp(-lim, lim);
        // UPZERO: sign-sign update of the six zero coefficients.
        let step = if dq == 0 { 0 } else { 128 };
        let sg0 = dq >> 15;
        let mut b = [0i32; 7];
        for ((nb, &ob), &d) in b.iter_mut().zip(&self.b).zip(&self.d).skip(1) {
            let w = if d >> 15 == sg0 { step } else { -step };
            *nb = sat(w + ((ob * 32640) >> 15));
        }
        // DELAYA.
        for i in (1..7).rev() {
            self.d[i] = self.d[i - 1];
        }
        self.b = b;
        self.r = [self.r[0], self.r[0], self.r[1]];
        self.p = [self.p[0], self.p[0], self.p[1]];
        self.a = [0, a1, a2];
        // FILTEP, FILTEZ, PREDIC.
        let sp = sat(((self.a[1] * sat(self.r[1] + self.r[1])) >> 15)
            + ((self.a[2] * sat(self.r[2] + self.r[2])) >> 15));
        let mut sz = 0;
        for i in (1..7).rev() {
            sz += (self.b[i] * sat(self.d[i] + self.d[i])) >> 15;
        }
        self.sz = sat(sz);
        self.s = sat(sp + self.sz);
    }
}

/// One G.722 decoder channel.
#[derive(Debug, Clone)]
pub(super) struct G722Decoder {
    low: Band,
    high: Band,
    /// Receive QMF delay line.
    x: [i32; 24],
}

impl G722Decoder {
    /// A decoder in the reset state of G.722 §6.2.1.
    pub(super) fn new() -> Self {
        G722Decoder {
            low: Band::new(32),
            high: Band::new(8),
            x: [0; 24],
        }
    }

    /// Decodes `payload` into `out` (2 samples per byte); returns samples written.
    pub(super) fn decode(&mut self, payload: &[u8], out: &mut [i16]) -> usize {
        let mut n = 0;
        for (&code, pair) in payload.iter().zip(out.chunks_exact_mut(2)) {
            let [a, b] = self.decode_code(code);
            pair.copy_from_slice(&[a, b]);
            n += 2;
        }
        n
    }

    fn decode_code(&mut self, code: u8) -> [i16; 2] {
        let ilow = usize::from(code & 0x3F);
        let ihigh = usize::from(code >> 6);
        let ril = ilow >> 2;
        // Low band: output uses the full 6-bit code, the predictor the 4-bit truncation.
        let dl = (self.low.det * QM6.get(ilow).copied().unwrap_or(0)) >> 15;
        let rlow = (self.low.s + dl).clamp(-16384, 16383);
        let dlt = (self.low.det * QM4.get(ril).copied().unwrap_or(0)) >> 15;
        let wl = WL
            .get(RL42.get(ril).copied().unwrap_or(0))
            .copied()
            .unwrap_or(0);
        self.low.adapt_scale(wl, 18432, 8);
        self.low.update(dlt);
        // High band.
        let dh = (self.high.det * QM2.get(ihigh).copied().unwrap_or(0)) >> 15;
        let rhigh = (dh + self.high.s).clamp(-16384, 16383);
        let wh = WH
            .get(RH2.get(ihigh).copied().unwrap_or(0))
            .copied()
            .unwrap_or(0);
        self.high.adapt_scale(wh, 22528, 10);
        self.high.update(dh);
        // Receive QMF: two output samples per code.
        self.x.copy_within(2.., 0);
        self.x[22] = rlow + rhigh;
        self.x[23] = rlow - rhigh;
        let (mut even, mut odd) = (0i32, 0i32);
        for (i, c) in QMF.iter().enumerate() {
            even += self.x[2 * i] * c;
            odd += self.x[2 * i + 1] * QMF[11 - i];
        }
        [sat(odd >> 11) as i16, sat(even >> 11) as i16]
    }
}
