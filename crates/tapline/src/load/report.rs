//! What a load run measured, and how it is printed (text or one JSON object).

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use hdrhistogram::Histogram;
use serde_json::{Value, json};

/// A histogram of microseconds from 1 us to 1 hour, 3 significant digits.
pub(crate) fn histogram() -> anyhow::Result<Histogram<u64>> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).context("creating a latency histogram")
}

/// Record `d` in microseconds (at least 1, the histogram's lowest value).
pub(crate) fn record(h: &mut Histogram<u64>, d: Duration) {
    let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1);
    // Out-of-range values saturate instead of being lost.
    let _ = h.record(us.min(h.high()));
}

/// Wall-clock milliseconds since the Unix epoch, for joining with the catalogue's times.
pub(crate) fn unix_ms(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

/// One call's timeline (for `--calls-out`).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub(crate) struct CallRecord {
    pub(crate) call_id: String,
    /// Final INVITE status (0: none, transaction timed out).
    pub(crate) status: u16,
    pub(crate) invite_ms: f64,
    pub(crate) answer_ms: Option<f64>,
    pub(crate) bye_ms: Option<f64>,
    pub(crate) bye_ok_ms: Option<f64>,
    pub(crate) bye_status: Option<u16>,
    pub(crate) sent: [u64; 2],
}

/// Everything counted over the run.
pub(crate) struct Outcomes {
    pub(crate) attempted: u64,
    pub(crate) answered: u64,
    /// Failed INVITEs by final status (`timeout` when none came).
    pub(crate) failed: BTreeMap<String, u64>,
    /// Answered calls whose answer refused one of the two streams (port 0) or had no SDP.
    pub(crate) streams_refused: u64,
    pub(crate) setup_us: Histogram<u64>,
    /// BYE final status (`timeout` when none came).
    pub(crate) bye: BTreeMap<String, u64>,
    pub(crate) bye_us: Histogram<u64>,
    /// Packets sent per stream of every answered call.
    pub(crate) per_stream: Vec<u64>,
    pub(crate) expected_per_stream: u64,
    /// Requests the SRS sent us (BYE, OPTIONS, ...).
    pub(crate) server_requests: u64,
    pub(crate) max_active: usize,
    /// When the first INVITE left and the last INVITE final response came (setup rate).
    pub(crate) first_invite: Option<Instant>,
    pub(crate) last_invite_final: Option<Instant>,
    /// `--rtp-to`: no SIP, so no BYEs are expected.
    pub(crate) rtp_only: bool,
}

impl Outcomes {
    pub(crate) fn new(expected_per_stream: u64) -> anyhow::Result<Outcomes> {
        Ok(Outcomes {
            attempted: 0,
            answered: 0,
            failed: BTreeMap::new(),
            streams_refused: 0,
            setup_us: histogram()?,
            bye: BTreeMap::new(),
            bye_us: histogram()?,
            per_stream: Vec::new(),
            expected_per_stream,
            server_requests: 0,
            max_active: 0,
            first_invite: None,
            last_invite_final: None,
            rtp_only: false,
        })
    }

    /// Whether every call was answered, streamed all its packets and ended with a 2xx BYE.
    pub(crate) fn all_good(&self, send_errors: u64) -> bool {
        self.failed.is_empty()
            && self.streams_refused == 0
            && send_errors == 0
            && (self.rtp_only
                || (self.bye.iter().all(|(k, _)| k.starts_with('2'))
                    && self.bye.values().sum::<u64>() == self.answered))
            && self
                .per_stream
                .iter()
                .all(|&n| n == self.expected_per_stream)
    }
}

/// Run-wide figures that are not per call.
pub(crate) struct RunFigures {
    pub(crate) wall: Duration,
    pub(crate) cpu_user: Duration,
    pub(crate) cpu_sys: Duration,
    pub(crate) packets: u64,
    pub(crate) syscalls: u64,
    pub(crate) send_errors: u64,
    pub(crate) lateness_us: Histogram<u64>,
    pub(crate) max_streams: usize,
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

fn percentiles(h: &Histogram<u64>) -> Value {
    if h.is_empty() {
        return json!(null);
    }
    json!({
        "p50": ms(h.value_at_quantile(0.50)),
        "p90": ms(h.value_at_quantile(0.90)),
        "p99": ms(h.value_at_quantile(0.99)),
        "max": ms(h.max()),
        "mean": h.mean() / 1000.0,
    })
}

/// The report as one JSON value.
pub(crate) fn to_json(o: &Outcomes, f: &RunFigures) -> Value {
    let cpu = f.cpu_user + f.cpu_sys;
    let setup_rate = match (o.first_invite, o.last_invite_final) {
        (Some(a), Some(b)) if b > a => {
            Some(o.answered as f64 / b.saturating_duration_since(a).as_secs_f64())
        }
        _ => None,
    };
    json!({
        "ok": o.all_good(f.send_errors),
        "calls": {
            "attempted": o.attempted,
            "answered": o.answered,
            "failed": o.failed,
            "streams_refused": o.streams_refused,
            "max_concurrent": o.max_active,
            "setup_rate_per_s": setup_rate,
        },
        "setup_ms": percentiles(&o.setup_us),
        "bye": o.bye,
        "bye_ms": percentiles(&o.bye_us),
        "packets": {
            "sent": f.packets,
            "streams": o.per_stream.len(),
            "expected_per_stream": o.expected_per_stream,
            "per_stream_min": o.per_stream.iter().min(),
            "per_stream_max": o.per_stream.iter().max(),
            "send_errors": f.send_errors,
            "sendmmsg_calls": f.syscalls,
            "max_streams_at_once": f.max_streams,
            "send_lateness_ms": percentiles(&f.lateness_us),
        },
        "server_requests": o.server_requests,
        "generator": {
            "wall_s": f.wall.as_secs_f64(),
            "cpu_user_s": f.cpu_user.as_secs_f64(),
            "cpu_sys_s": f.cpu_sys.as_secs_f64(),
            "cpu_s": cpu.as_secs_f64(),
            "cpu_us_per_packet": (f.packets > 0).then(|| cpu.as_secs_f64() * 1e6 / f.packets as f64),
        },
    })
}

/// The report as text lines.
pub(crate) fn to_text(v: &Value) -> String {
    let c = &v["calls"];
    let p = &v["packets"];
    let g = &v["generator"];
    let pct = |x: &Value| {
        if x.is_null() {
            "-".to_owned()
        } else {
            format!(
                "p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
                x["p50"].as_f64().unwrap_or(0.0),
                x["p90"].as_f64().unwrap_or(0.0),
                x["p99"].as_f64().unwrap_or(0.0),
                x["max"].as_f64().unwrap_or(0.0)
            )
        }
    };
    let mut out = String::new();
    out += &format!(
        "calls: {} attempted, {} answered, failed {}, streams refused {}, max concurrent {}, setup rate {:.1}/s\n",
        c["attempted"],
        c["answered"],
        c["failed"],
        c["streams_refused"],
        c["max_concurrent"],
        c["setup_rate_per_s"].as_f64().unwrap_or(0.0)
    );
    out += &format!("setup (INVITE to 200): {}\n", pct(&v["setup_ms"]));
    out += &format!("BYE: {} ({})\n", v["bye"], pct(&v["bye_ms"]));
    out += &format!(
        "packets: {} sent on {} streams, per stream min {} max {} (expected {}), {} send errors, {} sendmmsg calls; late by {}\n",
        p["sent"],
        p["streams"],
        p["per_stream_min"],
        p["per_stream_max"],
        p["expected_per_stream"],
        p["send_errors"],
        p["sendmmsg_calls"],
        pct(&p["send_lateness_ms"])
    );
    out += &format!(
        "generator CPU: {:.3} s user + {:.3} s sys over {:.1} s wall ({:.3} us per packet)\n",
        g["cpu_user_s"].as_f64().unwrap_or(0.0),
        g["cpu_sys_s"].as_f64().unwrap_or(0.0),
        g["wall_s"].as_f64().unwrap_or(0.0),
        g["cpu_us_per_packet"].as_f64().unwrap_or(0.0)
    );
    out += &format!(
        "result: {}\n",
        if v["ok"] == true { "ok" } else { "FAILED" }
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(packets: u64, send_errors: u64) -> RunFigures {
        RunFigures {
            wall: Duration::from_secs(2),
            cpu_user: Duration::from_millis(300),
            cpu_sys: Duration::from_millis(100),
            packets,
            syscalls: 10,
            send_errors,
            lateness_us: histogram().unwrap(),
            max_streams: 4,
        }
    }

    #[test]
    fn a_clean_run_is_ok_and_reports_percentiles_and_cpu() {
        let mut o = Outcomes::new(100).unwrap();
        o.attempted = 2;
        o.answered = 2;
        for ms in [1u64, 2, 3, 40] {
            record(&mut o.setup_us, Duration::from_millis(ms));
        }
        o.bye.insert("200".into(), 2);
        o.per_stream = vec![100; 4];
        let v = to_json(&o, &figures(400, 0));
        assert_eq!(v["ok"], true);
        assert_eq!(v["packets"]["per_stream_min"], 100);
        let p99 = v["setup_ms"]["p99"].as_f64().unwrap();
        assert!((39.9..40.1).contains(&p99), "{p99}");
        let per = v["generator"]["cpu_us_per_packet"].as_f64().unwrap();
        assert!((per - 1000.0).abs() < 1e-6, "{per}");
        assert!(to_text(&v).contains("result: ok"));
    }

    #[test]
    fn failures_short_streams_and_bad_byes_are_not_ok() {
        let mut o = Outcomes::new(100).unwrap();
        o.answered = 1;
        o.bye.insert("200".into(), 1);
        o.per_stream = vec![100, 100];
        assert!(o.all_good(0));
        assert!(!o.all_good(1));
        o.per_stream[1] = 99;
        assert!(!o.all_good(0));
        o.per_stream[1] = 100;
        o.bye.clear();
        o.bye.insert("481".into(), 1);
        assert!(!o.all_good(0));
        o.bye.clear();
        o.bye.insert("200".into(), 1);
        o.failed.insert("503".into(), 1);
        assert!(!o.all_good(0));
        assert!(to_text(&to_json(&o, &figures(200, 0))).contains("FAILED"));
    }
}
