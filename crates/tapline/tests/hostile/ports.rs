//! Item 1: every RTP port pair a session takes comes back, whatever way the INVITE is refused
//! or the session ends early. Each kind is sent 1,000 times; then `tapline stats` must show
//! every pair free again and the next normal call must be recorded.

use std::time::Duration;

use crate::common::{
    MLine, Server, SrcCall, UdpLink, establish, hang_up, list, metadata_xml, sdp_offer,
    siprec_body, wait_final,
};
use crate::hostile::util::{On2xx, flood, stats, wait_pool_whole};

const N: usize = 1000;

/// A SIPREC INVITE with `lines` audio m-lines, and `extra` headers, without the standard
/// Contact when `contact` is given (it replaces it).
fn invite_with(call: &SrcCall, b: &str, lines: usize, contact: Option<&str>) -> Vec<u8> {
    let ml: Vec<MLine> = (0..lines)
        .map(|i| MLine::audio(40_000 + 2 * i as u16, &(i + 1).to_string()))
        .collect();
    let sdp = sdp_offer(call.local.ip(), 1, &ml);
    let xml = metadata_xml("sip:alice@example.com", "sip:bob@example.com", 0);
    let (ct, body) = siprec_body(&sdp, &xml);
    let bytes = call.invite(b, &[], &ct, &body);
    let Some(contact) = contact else { return bytes };
    // Swap the standard Contact line for `contact` (or drop it when empty).
    let text = String::from_utf8(bytes).expect("our INVITE is UTF-8");
    let (head, body) = text.split_once("\r\n\r\n").expect("header end");
    let head: Vec<&str> = head
        .split("\r\n")
        .filter(|l| !l.starts_with("Contact:"))
        .collect();
    let mut head = head.join("\r\n");
    if !contact.is_empty() {
        head += &format!("\r\nContact: {contact}");
    }
    format!("{head}\r\n\r\n{body}").into_bytes()
}

/// After the flood, the pool is whole and a normal call is recorded.
fn pool_whole_and_still_recording(server: &Server) {
    let s = wait_pool_whole(server.data_dir(), Duration::from_secs(60));
    assert_eq!(s["active_streams"], 0, "{s:#}");
    let mut link = UdpLink::new(server.sip);
    let call = link.call();
    let before = list(server.data_dir()).as_array().map_or(0, Vec::len);
    let ok = establish(
        &mut link,
        &call,
        &call.siprec_invite(&crate::common::branch(), &[]),
    );
    hang_up(&mut link, &call, &ok);
    wait_final(server.data_dir(), before + 1);
}

#[test]
fn invites_without_a_usable_contact_leak_no_ports() {
    let server = Server::start();
    let total = stats(server.data_dir())["rtp_port_pairs_total"].clone();
    let missing = flood(server.sip, N, 50, On2xx::HangUp, |call, b| {
        vec![invite_with(call, b, 6, Some(""))]
    });
    assert_eq!(missing.get(&400), Some(&N), "no Contact: {missing:?}");
    let star = flood(server.sip, N, 50, On2xx::HangUp, |call, b| {
        vec![invite_with(call, b, 6, Some("*"))]
    });
    assert_eq!(star.get(&400), Some(&N), "Contact *: {star:?}");
    let s = stats(server.data_dir());
    assert_eq!(s["rtp_port_pairs_free"], total, "{s:#}");
    pool_whole_and_still_recording(&server);
}

#[test]
fn refusals_for_want_of_ports_give_back_the_pairs_already_taken() {
    // Five pairs; INVITEs with eight m-lines take five, then fail on the sixth.
    let base = 43_000 + 20 * (std::process::id() % 500) as u16;
    let range = format!("{base}-{}", base + 9);
    let server = Server::start_with(&["--rtp-ports", &range], None);
    assert_eq!(stats(server.data_dir())["rtp_port_pairs_total"], 5);
    let got = flood(server.sip, N, 50, On2xx::HangUp, |call, b| {
        vec![invite_with(call, b, 8, None)]
    });
    assert_eq!(got.get(&503), Some(&N), "{got:?}");
    wait_pool_whole(server.data_dir(), Duration::from_secs(5));
    assert!(
        list(server.data_dir())
            .as_array()
            .is_some_and(Vec::is_empty),
        "a refused INVITE left a recording"
    );
    pool_whole_and_still_recording(&server);
}

/// Out of file descriptors (the server runs with 48; it uses about 22 idle): an INVITE with 16
/// m-lines (32 sockets) is refused with a reason saying so, not "no RTP ports", the sockets it
/// opened are closed and its ports returned, and a normal call is recorded afterwards.
#[test]
fn running_out_of_descriptors_is_told_apart_and_leaks_nothing() {
    let server = Server::start_under(&["prlimit", "--nofile=48"], &[], None);
    let got = flood(server.sip, 20, 1, On2xx::HangUp, |call, b| {
        vec![invite_with(call, b, 16, None)]
    });
    assert_eq!(got.get(&503), Some(&20), "{got:?}");
    let lines = server.log_lines().join("\n");
    assert!(
        lines.contains("out of file descriptors"),
        "no descriptor reason in the log:\n{lines}"
    );
    assert!(!lines.contains("no free RTP ports"), "{lines}");
    pool_whole_and_still_recording(&server);
}

#[test]
fn cancelled_invites_give_back_their_ports() {
    let server = Server::start();
    let got = flood(server.sip, N, 50, On2xx::HangUp, |call, b| {
        let invite = invite_with(call, b, 2, None);
        let cancel = call.request("CANCEL", 1, b, None, &[], None);
        vec![invite, cancel]
    });
    let answered: usize = got.values().sum();
    assert_eq!(answered, N, "{got:?}");
    assert!(
        got.keys().all(|s| *s == 487 || *s == 200),
        "only 487 (or 200 when the CANCEL came late): {got:?}"
    );
    pool_whole_and_still_recording(&server);
}

#[test]
fn invites_never_acked_give_back_their_ports_and_leave_nothing_on_disk() {
    // T1 = 50 ms: the 200 is given up after 64*T1 = 3.2 s.
    let server = Server::start_with(&[], Some("sip_t1_ms = 50\n"));
    let got = flood(server.sip, N, 50, On2xx::Ignore, |call, b| {
        vec![invite_with(call, b, 2, None)]
    });
    assert_eq!(got.get(&200), Some(&N), "{got:?}");
    wait_pool_whole(server.data_dir(), Duration::from_secs(60));
    let l = wait_final(server.data_dir(), N);
    let rows = l.as_array().expect("list");
    assert_eq!(rows.len(), N);
    for r in rows {
        assert_eq!(r["state"], "failed", "{r:#}");
    }
    let on_disk = walk_files(&server.data_dir().join("recordings"));
    assert!(
        on_disk.is_empty(),
        "files left: {:?}",
        &on_disk[..on_disk.len().min(5)]
    );
    pool_whole_and_still_recording(&server);
}

fn walk_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk_files(&p));
        } else {
            out.push(p);
        }
    }
    out
}
