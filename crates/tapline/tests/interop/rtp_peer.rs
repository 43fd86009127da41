//! Fake call endpoints: a UDP socket that sends a paced PCMU tone (20 ms packets) and records
//! the PCMU audio it receives, to check what a media relay forwarded.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tapline_media::{Codec, parse_rtp, tone, write_rtp};

/// Samples per 20 ms PCMU packet (RFC 3551 4.5.14: 8000 Hz).
pub const FRAME: usize = 160;

/// One endpoint's socket.
pub struct Endpoint {
    pub sock: UdpSocket,
}

impl Endpoint {
    pub fn bind() -> Endpoint {
        Endpoint {
            sock: UdpSocket::bind("127.0.0.1:0").expect("bind endpoint"),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.sock.local_addr().expect("local addr")
    }

    /// A plain sendrecv PCMU offer/answer for this endpoint (`o=` user `who`).
    pub fn sdp(&self, who: &str) -> String {
        let a = self.addr();
        format!(
            "v=0\r\no={who} 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n\
             m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\na=sendrecv\r\n",
            ip = a.ip(),
            port = a.port()
        )
    }

    /// Collect the decoded PCMU audio arriving here until `stop` is set.
    pub fn collect(&self, stop: Arc<AtomicBool>) -> JoinHandle<Vec<i16>> {
        let sock = self.sock.try_clone().expect("clone socket");
        std::thread::spawn(move || {
            sock.set_read_timeout(Some(Duration::from_millis(50)))
                .expect("timeout");
            let mut audio = Vec::new();
            let mut buf = [0u8; 2048];
            while !stop.load(Ordering::Relaxed) {
                if let Ok(n) = sock.recv(&mut buf) {
                    if let Ok(p) = parse_rtp(&buf[..n]) {
                        if p.payload_type == 0 {
                            let mut pcm = vec![0i16; p.payload.len()];
                            let got = Codec::Pcmu.decode(p.payload, &mut pcm);
                            audio.extend_from_slice(&pcm[..got]);
                        }
                    }
                }
            }
            audio
        })
    }
}

/// Send `packets` 20 ms PCMU packets from each (endpoint, destination, frequency) at once,
/// paced on the wall clock.
pub fn send_tones(streams: &[(&Endpoint, SocketAddr, f64)], packets: u16) {
    let start = Instant::now();
    let ssrcs: Vec<u32> = streams.iter().map(|_| fastrand::u32(..)).collect();
    let mut pcm = [0i16; FRAME];
    let mut payload = [0u8; FRAME];
    let mut datagram = [0u8; 12 + FRAME];
    for n in 0..packets {
        let due = start + Duration::from_millis(20 * u64::from(n));
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let first_sample = u64::from(n) * FRAME as u64;
        for ((ep, to, freq), ssrc) in streams.iter().zip(&ssrcs) {
            tone(*freq, 8000, 8000, first_sample, &mut pcm);
            Codec::Pcmu.encode(&pcm, &mut payload);
            let ts = (first_sample as u32).wrapping_add(*ssrc);
            let len = write_rtp(&mut datagram, n == 0, 0, n, ts, *ssrc, &payload).expect("rtp");
            ep.sock.send_to(&datagram[..len], to).expect("send RTP");
        }
    }
}
