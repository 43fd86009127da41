//! rtpengine's ng control protocol over UDP: `COOKIE SPACE BENCODED-DICT` both ways, the reply
//! echoing the cookie (rtpengine docs/ng_control_protocol.md).

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use super::bencode::Bencode;

/// An ng client bound to an ephemeral loopback port.
pub struct NgClient {
    sock: UdpSocket,
    pub server: SocketAddr,
}

impl NgClient {
    pub fn new(server: SocketAddr) -> NgClient {
        let sock = UdpSocket::bind("127.0.0.1:0").expect("bind ng client");
        NgClient { sock, server }
    }

    /// Send one request and wait for the reply with the same cookie (resending after a
    /// second, as UDP may lose either); `None` when nothing came within `limit`.
    pub fn try_request(&self, msg: &Bencode, limit: Duration) -> Option<Bencode> {
        let cookie = format!("tapline{:x}", fastrand::u64(..));
        let mut datagram = format!("{cookie} ").into_bytes();
        datagram.extend_from_slice(&msg.encode());
        let deadline = Instant::now() + limit;
        let mut buf = vec![0u8; 65_535];
        while Instant::now() < deadline {
            self.sock.send_to(&datagram, self.server).expect("send ng");
            let resend = Instant::now() + Duration::from_secs(1);
            loop {
                let left = resend
                    .min(deadline)
                    .saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                self.sock.set_read_timeout(Some(left)).expect("timeout");
                let Ok(n) = self.sock.recv(&mut buf) else {
                    break;
                };
                let reply = &buf[..n];
                let Some(space) = reply.iter().position(|&b| b == b' ') else {
                    panic!(
                        "ng reply without a cookie: {:?}",
                        String::from_utf8_lossy(reply)
                    );
                };
                if &reply[..space] != cookie.as_bytes() {
                    continue; // a late answer to an earlier resend
                }
                let body = &reply[space + 1..];
                return Some(Bencode::decode(body).unwrap_or_else(|e| {
                    panic!(
                        "ng reply is not bencode ({e}): {:?}",
                        String::from_utf8_lossy(body)
                    )
                }));
            }
        }
        None
    }

    /// Run `command` with the given keys; panics unless rtpengine answers `result: ok`.
    pub fn command(&self, command: &str, mut keys: Vec<(&str, Bencode)>) -> Bencode {
        keys.push(("command", Bencode::str(command)));
        let reply = self
            .try_request(&Bencode::dict(keys), Duration::from_secs(5))
            .unwrap_or_else(|| panic!("rtpengine did not answer `{command}`"));
        let result = reply.get("result").and_then(Bencode::as_str);
        assert_eq!(
            result,
            Some("ok"),
            "rtpengine refused `{command}`: {:?}",
            reply.get("error-reason").and_then(Bencode::as_str)
        );
        reply
    }

    /// The `sdp` of a reply, as text.
    pub fn sdp_of(reply: &Bencode) -> String {
        reply
            .get("sdp")
            .and_then(Bencode::as_str)
            .unwrap_or_else(|| panic!("reply without sdp: {reply:?}"))
            .to_owned()
    }
}
