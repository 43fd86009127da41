//! Helpers shared by the hostile-input tests.
#![allow(unreachable_pub)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

pub use crate::common::stats;
use crate::common::{
    Message, Server, SipLink, SrcCall, UdpLink, branch, establish, hang_up, recording_of,
    wait_final,
};

/// Poll the stats until every RTP port pair is free again; panics with the last stats after
/// `limit`.
pub fn wait_pool_whole(data: &Path, limit: Duration) -> serde_json::Value {
    let deadline = Instant::now() + limit;
    loop {
        let s = stats(data);
        let (free, total) = (&s["rtp_port_pairs_free"], &s["rtp_port_pairs_total"]);
        assert!(
            total.as_u64().unwrap_or(0) > 0,
            "stats without a pool: {s:#}"
        );
        if free == total {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "port pool not whole again: {s:#}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// What [`flood`] does with a 2xx.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum On2xx {
    /// ACK and BYE at once (a CANCEL that lost the race).
    HangUp,
    /// Nothing: an SRC that never ACKs.
    Ignore,
}

/// Send `n` INVITEs made by `invite` (a window of `window` at a time) and wait for their final
/// answers. Non-2xx finals are ACKed with the INVITE's branch. Returns how many of each status
/// came.
pub fn flood(
    srs: SocketAddr,
    n: usize,
    window: usize,
    on_2xx: On2xx,
    mut invite: impl FnMut(&SrcCall, &str) -> Vec<Vec<u8>>,
) -> HashMap<u16, usize> {
    let mut link = UdpLink::new(srs);
    let mut statuses = HashMap::new();
    let mut sent = 0;
    while sent < n {
        // Per open INVITE: the call, its branch and what was sent (resent like RFC 3261
        // Timer A while unanswered: loopback UDP drops datagrams in bursts too).
        let mut open: HashMap<String, (SrcCall, String, Vec<Vec<u8>>)> = HashMap::new();
        for _ in 0..window.min(n - sent) {
            let call = link.call();
            let b = branch();
            let msgs = invite(&call, &b);
            for bytes in &msgs {
                link.send(bytes);
            }
            open.insert(call.call_id.clone(), (call, b, msgs));
            sent += 1;
        }
        let give_up = Instant::now() + Duration::from_secs(30);
        while !open.is_empty() {
            assert!(
                Instant::now() < give_up,
                "{} INVITEs unanswered; statuses so far {statuses:?}",
                open.len()
            );
            let Some((_, _, msg)) = link.recv(Instant::now() + Duration::from_millis(500)) else {
                for (_, _, msgs) in open.values() {
                    for bytes in msgs {
                        link.send(bytes);
                    }
                }
                continue;
            };
            let Message::Response(r) = msg else { continue };
            let is_invite = r.cseq().is_some_and(|c| c.method.as_str() == "INVITE");
            if r.status < 200 || !is_invite {
                continue;
            }
            let Some((call, b, _)) = r.call_id().and_then(|c| open.remove(c)) else {
                continue;
            };
            *statuses.entry(r.status).or_insert(0) += 1;
            let tag = r.to_tag().unwrap_or_else(|| "none".to_owned());
            if r.status < 300 {
                if on_2xx == On2xx::HangUp {
                    link.send(&call.ack(&branch(), &tag));
                    link.send(&call.bye(&tag));
                }
            } else {
                link.send(&call.ack(&b, &tag));
            }
        }
    }
    statuses
}

/// Send `dur` of 440 Hz tone RTP (from 127.0.0.1) to every m-line the 200 OK `ok` accepted,
/// so the call is a real recording (one without audio ends `empty`).
pub fn send_audio(ok: &crate::common::Response, dur: Duration) {
    let mut senders: Vec<crate::common::ToneRtp> = crate::common::answer_media(&ok.body)
        .into_iter()
        .filter(|(addr, _)| addr.port() != 0)
        .map(|(addr, _)| crate::common::ToneRtp::new(addr, 440.0))
        .collect();
    let mut refs: Vec<&mut crate::common::ToneRtp> = senders.iter_mut().collect();
    crate::common::play(&mut refs, dur);
}

/// One call of `call` on `link` with `invite`: answered, 600 ms of audio, hung up; it must be
/// the server's only recording and end `complete`. Returns its catalogue row.
pub fn record_complete(
    server: &Server,
    link: &mut UdpLink,
    call: &SrcCall,
    invite: &[u8],
) -> serde_json::Value {
    let ok = establish(link, call, invite);
    send_audio(&ok, Duration::from_millis(600));
    hang_up(link, call, &ok);
    wait_final(server.data_dir(), 1);
    let rec = recording_of(server.data_dir(), &call.call_id);
    assert_eq!(rec["state"], "complete", "{rec:#}");
    rec
}
