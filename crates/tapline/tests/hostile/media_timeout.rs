//! Item 5 (and 6): an SRC that stops sending without a BYE (it crashed) does not hold a
//! recording open forever: after `media_timeout_secs` without RTP on any stream the server
//! sends BYE and ends it with reason "media timeout"; a call on hold gets the longer
//! `hold_timeout_secs`. A recording that never got audio ends `empty` with nothing on disk.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::common::{
    MLine, Server, SrcDialog, ToneRtp, list, metadata_xml, ok_to, play, sdp_offer, server_request,
    show, wait_final,
};
use crate::hostile::util::wait_pool_whole;

const CONFIG: &str = "media_timeout_secs = 2\nhold_timeout_secs = 5\n";

fn start_call(server: &Server, dir: &'static str) -> SrcDialog {
    let lo: IpAddr = "127.0.0.1".parse().unwrap();
    let sdp = sdp_offer(
        lo,
        1,
        &[
            MLine::audio(40_000, "1").dir(dir),
            MLine::audio(40_002, "2").dir(dir),
        ],
    );
    let xml = metadata_xml("sip:alice@example.com", "sip:bob@example.com", 0);
    SrcDialog::start_siprec(server.sip, &sdp, xml.as_bytes())
}

/// Wait for the server's BYE, answer it, and return how long it took from `since`.
fn await_bye(d: &mut SrcDialog, since: Instant, limit: Duration) -> Duration {
    let bye = server_request(&mut d.link, "BYE", limit);
    let took = since.elapsed();
    let ok = ok_to(&bye);
    crate::common::SipLink::send(&mut d.link, &ok);
    took
}

fn only_recording(server: &Server) -> serde_json::Value {
    wait_final(server.data_dir(), 1);
    let rec = list(server.data_dir())[0].clone();
    show(server.data_dir(), rec["id"].as_str().unwrap())
}

#[test]
fn a_silent_src_is_hung_up_after_the_media_timeout() {
    let server = Server::start_with(&[], Some(CONFIG));
    let mut d = start_call(&server, "sendonly");
    let (a1, a2) = (d.media_addr(&d.ok, "1"), d.media_addr(&d.ok, "2"));
    let (mut s1, mut s2) = (ToneRtp::new(a1, 440.0), ToneRtp::new(a2, 880.0));
    play(&mut [&mut s1, &mut s2], Duration::from_secs(1));
    // The SRC "crashes": no more RTP, no BYE.
    let stopped = Instant::now();
    let took = await_bye(&mut d, stopped, Duration::from_secs(10));
    assert!(
        took >= Duration::from_secs(2),
        "BYE before the timeout: {took:?}"
    );
    let detail = only_recording(&server);
    assert_eq!(detail["end_reason"], "media timeout", "{detail:#}");
    let rec = &list(server.data_dir())[0];
    assert_eq!(rec["state"], "complete", "{rec:#}");
    wait_pool_whole(server.data_dir(), Duration::from_secs(5));
}

#[test]
fn a_call_on_hold_waits_for_the_hold_timeout() {
    let server = Server::start_with(&[], Some(CONFIG));
    let mut d = start_call(&server, "sendonly");
    let (a1, a2) = (d.media_addr(&d.ok, "1"), d.media_addr(&d.ok, "2"));
    let (mut s1, mut s2) = (ToneRtp::new(a1, 440.0), ToneRtp::new(a2, 880.0));
    play(&mut [&mut s1, &mut s2], Duration::from_secs(1));
    // Hold: both streams inactive (RFC 3264 8.4), then silence.
    let lo: IpAddr = "127.0.0.1".parse().unwrap();
    let held = sdp_offer(
        lo,
        2,
        &[
            MLine::audio(40_000, "1").dir("inactive"),
            MLine::audio(40_002, "2").dir("inactive"),
        ],
    );
    let xml = metadata_xml("sip:alice@example.com", "sip:bob@example.com", 0);
    d.reinvite(&held, xml.as_bytes());
    let held_at = Instant::now();
    let took = await_bye(&mut d, held_at, Duration::from_secs(15));
    assert!(
        took >= Duration::from_secs(4),
        "a call on hold was hung up after {took:?}, before the hold timeout"
    );
    let detail = only_recording(&server);
    assert_eq!(
        detail["end_reason"], "media timeout (on hold)",
        "{detail:#}"
    );
}

#[test]
fn a_call_that_never_sends_ends_empty_with_nothing_on_disk() {
    let server = Server::start_with(&[], Some(CONFIG));
    let mut d = start_call(&server, "sendonly");
    await_bye(&mut d, Instant::now(), Duration::from_secs(10));
    let detail = only_recording(&server);
    assert_eq!(detail["end_reason"], "media timeout");
    let rec = &list(server.data_dir())[0];
    assert_eq!(rec["state"], "empty", "{rec:#}");
    let dir = rec["files"]["dir"].as_str().expect("dir");
    assert!(!std::path::Path::new(dir).exists(), "{dir} left on disk");
    for st in detail["streams"].as_array().expect("streams") {
        assert!(st["file"].is_null(), "a file is still catalogued: {st:#}");
    }
    wait_pool_whole(server.data_dir(), Duration::from_secs(5));
}
