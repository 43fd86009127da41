//! Hostile TCP peers: idle connections, connection floods, slow senders, peers that never
//! read, oversize messages. Each test uses small limits so it runs in a few seconds.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::common::{
    Server, SipLink, SrcCall, TcpLink, branch, establish, final_response, hang_up, recording_of,
    wait_final,
};

const LIMIT: Duration = Duration::from_secs(5);

/// Config text with the TCP limits under test (other keys at their defaults).
fn config(lines: &[&str]) -> String {
    lines.join("\n") + "\n"
}

/// Read (and drop) until the server closes the stream; false if still open after `within`.
fn closed_by_server(stream: &mut TcpStream, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    let mut buf = [0u8; 16 * 1024];
    while Instant::now() < deadline {
        let left = deadline.saturating_duration_since(Instant::now());
        stream
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .unwrap();
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return true,
        }
    }
    false
}

/// Still open: nothing to read and no EOF for `probe`.
fn still_open(stream: &mut TcpStream, probe: Duration) -> bool {
    !closed_by_server(stream, probe)
}

/// Wait for a server log line containing every needle; lines read are kept in `seen`.
fn wait_log(server: &Server, seen: &mut Vec<String>, needles: &[&str], within: Duration) -> String {
    let deadline = Instant::now() + within;
    loop {
        seen.extend(server.log_lines());
        if let Some(l) = seen.iter().find(|l| needles.iter().all(|n| l.contains(n))) {
            return l.clone();
        }
        if Instant::now() > deadline {
            panic!("no log line with {needles:?} in:\n{}", seen.join("\n"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A TCP connection from a chosen loopback source address.
fn connect_from(src: &str, srs: SocketAddr) -> TcpStream {
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.bind(&src.parse::<SocketAddr>().unwrap().into())
        .unwrap();
    sock.connect_timeout(&srs.into(), LIMIT).unwrap();
    sock.into()
}

/// OPTIONS over `stream`, answered 200: the connection is admitted and served.
fn options_ok(stream: &mut TcpStream, srs: SocketAddr) {
    let call = SrcCall::new(stream.local_addr().unwrap(), srs, true);
    let req = call.request("OPTIONS", 1, &branch(), None, &[], None);
    stream.write_all(&req).unwrap();
    let mut framer = tapline_sip::StreamFramer::new();
    let mut buf = [0u8; 4096];
    stream.set_read_timeout(Some(LIMIT)).unwrap();
    loop {
        if let Some(msg) = framer.next_message() {
            let text = String::from_utf8(msg.unwrap()).unwrap();
            assert!(text.starts_with("SIP/2.0 200 "), "{text}");
            return;
        }
        let n = stream.read(&mut buf).expect("OPTIONS answer");
        assert_ne!(n, 0, "connection closed instead of answering OPTIONS");
        framer.push(&buf[..n]);
    }
}

fn vm_rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS in /proc/PID/status")
}

#[test]
fn idle_connection_is_closed_but_one_carrying_a_recording_stays_open() {
    let server = Server::start_with(&[], Some(&config(&["tcp_idle_secs = 1"])));
    let mut seen = Vec::new();

    // A recording over TCP, then nothing on its connection for three idle periods.
    let mut rec = TcpLink::connect(server.sip);
    let call = rec.call();
    let ok = establish(&mut rec, &call, &call.siprec_invite(&branch(), &[]));

    // An idle connection that only pings (RFC 5626): answered, yet closed when idle.
    let mut idle = TcpStream::connect(server.sip).unwrap();
    let idle_addr = idle.local_addr().unwrap().to_string();
    idle.write_all(b"\r\n\r\n").unwrap();
    let mut pong = [0u8; 2];
    idle.set_read_timeout(Some(LIMIT)).unwrap();
    idle.read_exact(&mut pong).unwrap();
    assert_eq!(&pong, b"\r\n");
    let t0 = Instant::now();
    let mut closed = false;
    while !closed && t0.elapsed() < LIMIT {
        let _ = idle.write_all(b"\r\n\r\n");
        closed = closed_by_server(&mut idle, Duration::from_millis(300));
    }
    assert!(
        closed,
        "idle (pinging) connection still open after {LIMIT:?}"
    );
    wait_log(
        &server,
        &mut seen,
        &["closing idle TCP connection", &idle_addr],
        LIMIT,
    );

    std::thread::sleep(Duration::from_secs(2));
    assert!(
        still_open(&mut rec.stream, Duration::from_millis(300)),
        "the connection of a recording was closed"
    );
    assert_eq!(
        recording_of(server.data_dir(), &call.call_id)["state"],
        "active"
    );
    hang_up(&mut rec, &call, &ok);
    let l = wait_final(server.data_dir(), 1);
    // Ended by the BYE; no RTP was sent, so it is `empty` (not `failed`).
    assert_eq!(l[0]["state"], "empty", "{:#}", l[0]);

    // The recording over, its connection is idle like any other.
    assert!(
        closed_by_server(&mut rec.stream, LIMIT),
        "not closed once the recording ended"
    );
}

#[test]
fn connections_beyond_the_caps_are_closed_while_a_recording_goes_on() {
    let toml = config(&[
        "tcp_idle_secs = 30",
        "tcp_max_connections = 3",
        "tcp_max_per_source = 2",
    ]);
    let server = Server::start_with(&[], Some(&toml));
    let mut seen = Vec::new();

    let mut rec = TcpLink::connect(server.sip);
    let call = rec.call();
    let ok = establish(&mut rec, &call, &call.siprec_invite(&branch(), &[]));
    let mut second = TcpStream::connect(server.sip).unwrap();
    options_ok(&mut second, server.sip);

    // Third from 127.0.0.1: over the per-source cap.
    let mut third = connect_from("127.0.0.1:0", server.sip);
    assert!(
        closed_by_server(&mut third, LIMIT),
        "per-source cap not applied"
    );
    // Another source still gets in (total 3), and a fourth connection does not.
    let mut other = connect_from("127.0.0.2:0", server.sip);
    options_ok(&mut other, server.sip);
    let mut fourth = connect_from("127.0.0.3:0", server.sip);
    assert!(
        closed_by_server(&mut fourth, LIMIT),
        "total cap not applied"
    );

    // Both refusals within the log period: one line, naming the first refused peer.
    let third_addr = third.local_addr().unwrap().to_string();
    wait_log(
        &server,
        &mut seen,
        &["TCP connection refused", &third_addr],
        LIMIT,
    );
    std::thread::sleep(Duration::from_millis(300));
    seen.extend(server.log_lines());
    let refusals = seen
        .iter()
        .filter(|l| l.contains("TCP connection refused"))
        .count();
    assert_eq!(
        refusals,
        1,
        "refusals not rate-limited:\n{}",
        seen.join("\n")
    );

    // The recording went on; once a connection closes, a new one is admitted again.
    hang_up(&mut rec, &call, &ok);
    // Ended by the BYE; no RTP was sent, so it is `empty` (not `failed`).
    assert_eq!(wait_final(server.data_dir(), 1)[0]["state"], "empty");
    drop(second);
    let deadline = Instant::now() + LIMIT;
    loop {
        let mut again = TcpStream::connect(server.sip).unwrap();
        if still_open(&mut again, Duration::from_millis(200)) {
            options_ok(&mut again, server.sip);
            break;
        }
        assert!(Instant::now() < deadline, "no place freed after a close");
    }
}

#[test]
fn unfinished_megabyte_body_is_closed_after_the_message_timeout() {
    let toml = config(&["tcp_idle_secs = 60", "tcp_message_timeout_secs = 1"]);
    let server = Server::start_with(&[], Some(&toml));
    let mut seen = Vec::new();
    let mut link = TcpLink::connect(server.sip);
    let call = link.call();
    let head = call.request("INVITE", 1, &branch(), None, &[], None);
    let head = String::from_utf8(head)
        .unwrap()
        .replace("Content-Length: 0", "Content-Length: 1048576");
    link.send(head.as_bytes());
    link.send(&vec![b'x'; 1_000_000]);
    let addr = link.local().to_string();
    assert!(
        closed_by_server(&mut link.stream, LIMIT),
        "a connection holding an unfinished 1 MB body stayed open"
    );
    wait_log(
        &server,
        &mut seen,
        &["message incomplete too long", &addr],
        LIMIT,
    );
}

#[test]
fn peer_that_pings_and_never_reads_is_disconnected_and_memory_stays_bounded() {
    let toml = config(&["tcp_idle_secs = 60", "tcp_max_send_buffer_bytes = 65536"]);
    let server = Server::start_with(&[], Some(&toml));
    let mut seen = Vec::new();
    let pid = server.child.id();
    let before = vm_rss_kb(pid);

    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    sock.connect_timeout(&server.sip.into(), LIMIT).unwrap();
    let mut stream: TcpStream = sock.into();
    stream.set_write_timeout(Some(LIMIT)).unwrap();
    let addr = stream.local_addr().unwrap().to_string();
    let pings = b"\r\n\r\n".repeat(16 * 1024);
    let mut sent = 0usize;
    while sent < 32 << 20 {
        if stream.write_all(&pings).is_err() {
            break;
        }
        sent += pings.len();
    }
    wait_log(&server, &mut seen, &["peer does not read", &addr], LIMIT);
    assert!(closed_by_server(&mut stream, LIMIT), "still open");
    let after = vm_rss_kb(pid);
    eprintln!("sent {sent} bytes of pings; server RSS {before} kB -> {after} kB");
    assert!(
        after < before + 40 * 1024,
        "server RSS grew from {before} kB to {after} kB after {sent} bytes of pings"
    );

    // Recording goes on as usual.
    let mut link = TcpLink::connect(server.sip);
    let call = link.call();
    let ok = establish(&mut link, &call, &call.siprec_invite(&branch(), &[]));
    hang_up(&mut link, &call, &ok);
    // Ended by the BYE; no RTP was sent, so it is `empty` (not `failed`).
    assert_eq!(wait_final(server.data_dir(), 1)[0]["state"], "empty");
}

/// Send `bytes`, expect a 513 for `call_id`, then the server's close.
fn expect_513_then_close(server: &Server, bytes: &[u8], call_id: &str, what: &str) {
    let mut link = TcpLink::connect(server.sip);
    link.stream.set_write_timeout(Some(LIMIT)).unwrap();
    // The server may stop reading once it has seen enough: a failed write is fine.
    let _ = link.stream.write_all(bytes);
    let r = final_response(&mut link, call_id, "INVITE", LIMIT);
    assert_eq!(r.status, 513, "{what}: {} {}", r.status, r.reason);
    assert!(
        r.reason.starts_with("Message Too Large"),
        "{what}: {}",
        r.reason
    );
    assert!(r.to_tag().is_some(), "{what}: 513 without To tag");
    assert!(
        closed_by_server(&mut link.stream, LIMIT),
        "{what}: open after the 513"
    );
}

#[test]
fn oversize_messages_get_513_then_the_connection_closes() {
    let server = Server::start_with(&[], Some(&config(&["tcp_idle_secs = 60"])));
    let mut seen = Vec::new();
    let link = TcpLink::connect(server.sip);

    let call = link.call();
    let big = call.request("INVITE", 1, &branch(), None, &[], None);
    let mut big = String::from_utf8(big)
        .unwrap()
        .replace("Content-Length: 0", "Content-Length: 2000000")
        .into_bytes();
    big.extend_from_slice(&[b'x'; 100_000]);
    expect_513_then_close(&server, &big, &call.call_id, "2 MB Content-Length");

    let call = link.call();
    let filler: Vec<(String, String)> = (0..1500)
        .map(|i| (format!("X-Filler-{i}"), "a".repeat(60)))
        .collect();
    let extra: Vec<(&str, &str)> = filler
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let huge = call.request("INVITE", 1, &branch(), None, &extra, None);
    assert!(huge.len() > 90_000);
    expect_513_then_close(&server, &huge, &call.call_id, "90 KB header");

    wait_log(
        &server,
        &mut seen,
        &["message too large", "answered_513=true"],
        LIMIT,
    );
    assert!(
        crate::common::list(server.data_dir())
            .as_array()
            .unwrap()
            .is_empty()
    );
}
