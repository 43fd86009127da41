//! Lenient date-time parsing. RFC 7865 §6.9 requires RFC 3339 (xs:dateTime in
//! the schema), but SRCs send no offset (Oracle, Avaya), `+0300` without colon
//! (OpenSIPS `%z`) and fractional seconds (Cisco): REQUIREMENTS E-90, E-91.

use std::fmt;

/// A time value as sent, plus its instant when it could be understood.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Timestamp {
    /// The text as sent, trimmed.
    pub raw: String,
    /// Milliseconds since the Unix epoch; None when `raw` is not understood.
    /// A value without UTC offset is taken as UTC.
    pub unix_ms: Option<i64>,
}

impl Timestamp {
    /// Parses leniently; never fails (an unknown shape keeps `unix_ms = None`).
    pub fn parse(text: &str) -> Timestamp {
        let raw = text.trim().to_string();
        let unix_ms = parse_unix_ms(&raw);
        Timestamp { raw, unix_ms }
    }

    /// Builds a timestamp from milliseconds since the epoch, formatted as RFC 3339 UTC.
    pub fn from_unix_ms(ms: i64) -> Timestamp {
        let secs = ms.div_euclid(1000);
        let milli = ms.rem_euclid(1000);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let raw = format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{milli:03}Z",
            sod / 3600,
            (sod % 3600) / 60,
            sod % 60
        );
        Timestamp {
            raw,
            unix_ms: Some(ms),
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

/// Small cursor over ASCII digits.
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, n: usize) -> Option<i64> {
        let mut v: i64 = 0;
        for _ in 0..n {
            let c = *self.b.get(self.i)?;
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + i64::from(c - b'0');
            self.i += 1;
        }
        Some(v)
    }
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
}

fn parse_unix_ms(s: &str) -> Option<i64> {
    let mut c = Cursor {
        b: s.as_bytes(),
        i: 0,
    };
    let year = c.digits(4)?;
    c.eat(b'-').then_some(())?;
    let month = c.digits(2)?;
    c.eat(b'-').then_some(())?;
    let day = c.digits(2)?;
    // RFC 3339 §5.6 allows a space instead of T; accept lower case t too.
    match c.peek()? {
        b'T' | b't' | b' ' => c.i += 1,
        _ => return None,
    }
    let hour = c.digits(2)?;
    c.eat(b':').then_some(())?;
    let minute = c.digits(2)?;
    let second = if c.eat(b':') { c.digits(2)? } else { 0 };
    let mut millis = 0i64;
    if c.eat(b'.') || c.eat(b',') {
        let mut scale = 100;
        let start = c.i;
        while let Some(d) = c.peek().filter(u8::is_ascii_digit) {
            millis += i64::from(d - b'0') * scale;
            scale /= 10;
            c.i += 1;
        }
        if c.i == start {
            return None;
        }
    }
    let offset_min = match c.peek() {
        None => 0,
        Some(b'Z' | b'z') => {
            c.i += 1;
            0
        }
        Some(sign @ (b'+' | b'-')) => {
            c.i += 1;
            let oh = c.digits(2)?;
            let om = if c.peek().is_none() {
                0
            } else {
                c.eat(b':');
                c.digits(2)?
            };
            if oh > 23 || om > 59 {
                return None;
            }
            let m = oh * 60 + om;
            if sign == b'-' { -m } else { m }
        }
        Some(_) => return None,
    };
    if c.i != c.b.len() {
        return None;
    }
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_min * 60;
    Some(secs * 1000 + millis)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 for a proleptic Gregorian date (years 0..=9999 here,
/// so no overflow is possible).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> Option<i64> {
        Timestamp::parse(s).unix_ms
    }

    #[test]
    fn rfc3339_utc() {
        assert_eq!(ms("1970-01-01T00:00:00Z"), Some(0));
        // 2010-12-16T23:41:07Z = 1292542867 s (RFC 7865 §8.1 example).
        assert_eq!(ms("2010-12-16T23:41:07Z"), Some(1_292_542_867_000));
    }

    #[test]
    fn fractions_offsets_and_no_offset() {
        assert_eq!(ms("2017-06-23T12:16:06.040Z"), Some(1_498_220_166_040));
        assert_eq!(ms("2019-05-13T15:32:45.293Z"), Some(1_557_761_565_293));
        let utc = ms("2019-01-13T19:48:35Z");
        assert_eq!(ms("2019-01-13T14:48:35-05:00"), utc);
        assert_eq!(ms("2019-01-13T14:48:35-0500"), utc);
        assert_eq!(ms("2019-01-13T14:48:35-05"), utc);
        assert_eq!(ms("2019-01-13T22:48:35+03:00"), utc);
        assert_eq!(ms("2019-01-13T22:48:35+0300"), utc);
        // No offset (Oracle, Avaya SBCE): taken as UTC.
        assert_eq!(ms("2019-01-13T19:48:35"), utc);
        assert_eq!(ms(" 2019-01-13 19:48:35z\n"), utc);
        assert_eq!(ms("2019-01-13T19:48Z"), utc.map(|v| v - 35_000));
        assert_eq!(ms("1970-05-13T03:29:05Z"), Some(11_417_345_000));
        assert_eq!(ms("2018-06-26T17:48:23+00:00"), Some(1_530_035_303_000));
    }

    #[test]
    fn garbage_keeps_raw_only() {
        for bad in [
            "",
            "yesterday",
            "2019-13-01T00:00:00Z",
            "2019-02-29T00:00:00Z",
            "2019-01-01T24:00:00Z",
            "2019-01-01T00:00:00+2400",
            "2019-01-01T00:00:00Zjunk",
            "2019-01-01",
            "2019-01-01T00:00:00.",
            "९९९९-01-01T00:00:00Z",
        ] {
            let t = Timestamp::parse(bad);
            assert_eq!(t.unix_ms, None, "{bad}");
            assert_eq!(t.raw, bad.trim());
        }
        assert_eq!(ms("2020-02-29T00:00:00Z"), Some(1_582_934_400_000));
    }

    #[test]
    fn from_unix_ms_round_trips() {
        for v in [
            0,
            1_292_542_867_000,
            1_498_220_166_040,
            -86_400_001,
            253_402_300_799_999,
        ] {
            let t = Timestamp::from_unix_ms(v);
            assert_eq!(ms(&t.raw), Some(v), "{}", t.raw);
        }
        assert_eq!(Timestamp::from_unix_ms(0).raw, "1970-01-01T00:00:00.000Z");
    }
}
