//! `tapline load --rtp-to FILE`: the same RTP load without SIP, to media addresses set up by
//! someone else (the benchmark allocates them on rtpengine over its NG protocol). Each line of
//! FILE is one call: `HOST:PORT HOST:PORT` (caller stream, callee stream).

use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use super::pacer::{PacerCmd, PacerDone};
use super::report::Outcomes;

/// Parse the destination file.
pub(crate) fn read_pairs(text: &str) -> anyhow::Result<Vec<[Option<SocketAddr>; 2]>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut it = line.split_whitespace().map(|w| {
            w.parse::<SocketAddr>()
                .with_context(|| format!("line {}: {w} is not HOST:PORT", i + 1))
        });
        let (Some(a), Some(b), None) = (it.next(), it.next(), it.next()) else {
            bail!("line {}: expected two addresses", i + 1);
        };
        out.push([Some(a?), Some(b?)]);
    }
    Ok(out)
}

/// Start every call at `rate` per second (at most `concurrency` streaming), wait for all.
pub(crate) fn run(
    pairs: &[[Option<SocketAddr>; 2]],
    rate: f64,
    concurrency: usize,
    pacer: &mpsc::Sender<PacerCmd>,
    done: &mpsc::Receiver<PacerDone>,
    out: &mut Outcomes,
) {
    let interval = Duration::from_secs_f64(1.0 / rate);
    let mut next = Instant::now();
    let mut active = 0usize;
    let mut finished = 0usize;
    let mut started = 0usize;
    let mut sent = vec![[0u64; 2]; pairs.len()];
    while finished < pairs.len() {
        let now = Instant::now();
        while started < pairs.len() && active < concurrency && now >= next {
            let dests = pairs.get(started).copied().unwrap_or([None, None]);
            let call = u32::try_from(started).unwrap_or(u32::MAX);
            if pacer.send(PacerCmd::Start { call, dests }).is_err() {
                return;
            }
            out.attempted += 1;
            out.answered += 1;
            started += 1;
            active += 1;
            out.max_active = out.max_active.max(active);
            next += interval;
        }
        let wait = if started < pairs.len() && active < concurrency {
            next.saturating_duration_since(now)
        } else {
            Duration::from_millis(100)
        };
        match done.recv_timeout(wait.max(Duration::from_micros(100))) {
            Ok(d) => {
                if let Some(s) = sent.get_mut(d.call as usize) {
                    *s = d.sent;
                }
                active = active.saturating_sub(1);
                finished += 1;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    let _ = pacer.send(PacerCmd::Finish);
    out.per_stream = sent.iter().flatten().copied().collect();
    // No SIP: no BYEs to judge; the exit status reflects the RTP only.
    out.rtp_only = true;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_parse_and_bad_lines_are_named() {
        let p = read_pairs("# rtpengine\n127.0.0.1:30000 127.0.0.1:30002\n\n").unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0][1], Some("127.0.0.1:30002".parse().unwrap()));
        let e = read_pairs("127.0.0.1:1\n").unwrap_err().to_string();
        assert!(e.contains("line 1"), "{e}");
        assert!(read_pairs("a b\n").is_err());
    }
}
