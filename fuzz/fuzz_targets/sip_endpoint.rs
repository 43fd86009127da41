//! Transaction layer: arbitrary datagrams into `Endpoint::handle_input` under a fake clock,
//! outputs drained after every step, timers fired, server transactions answered.
//!
//! Input: byte 0 = global options, then records separated by NUL bytes (SIP text has none).
//! Each record is `ctrl` (1 byte, never 0) + datagram. ctrl bit 0: TCP (else UDP); bits 1-2: which of 4 peers;
//! bits 3-7: clock advance before the datagram, in units of 250 ms.
//! Global options bit 0: start an INVITE and an OPTIONS client transaction first (branches
//! `z9hG4bKfuzzinv` / `z9hG4bKfuzzopt`) so fuzzed responses can match them; bits 1-3: how
//! the fake TU answers new requests; bits 4-5: T1 scale.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use tapline_sip::{
    Endpoint, EndpointConfig, Event, Method, Output, Peer, Request, Response, ServerTxId, Transport,
};

fn peer(ctrl: u8) -> Peer {
    let transport = if ctrl & 1 == 1 {
        Transport::Tcp
    } else {
        Transport::Udp
    };
    let n = (ctrl >> 1) & 3;
    Peer {
        transport,
        addr: SocketAddr::new(
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10 + n)),
            5060 + u16::from(n),
        ),
        conn: if transport == Transport::Tcp {
            u64::from(n) + 1
        } else {
            0
        },
    }
}

fn client_request(method: Method, branch: &str) -> Request {
    let cseq = format!("1 {}", method.as_str());
    let mut r = Request::new(method, "sip:rec@192.0.2.1");
    r.headers
        .push("Via", format!("SIP/2.0/UDP 192.0.2.1:5060;branch={branch}"));
    r.headers.push("Max-Forwards", "70");
    r.headers.push("From", "<sip:srs@192.0.2.1>;tag=srs1");
    r.headers.push("To", "<sip:src@192.0.2.10>");
    r.headers.push("Call-ID", "fuzz-call@192.0.2.1");
    r.headers.push("CSeq", cseq);
    r.headers.push("Content-Length", "0");
    r
}

struct Harness {
    ep: Endpoint,
    now: Instant,
    tu_mode: u8,
    pending: Vec<ServerTxId>,
    outputs: u64,
}

impl Harness {
    fn drain(&mut self) {
        let mut n = 0u32;
        while let Some(out) = self.ep.poll_output() {
            n += 1;
            assert!(
                n < 100_000,
                "endpoint produced an unbounded number of outputs"
            );
            self.outputs += 1;
            match out {
                Output::Transmit { bytes, .. } => {
                    assert!(!bytes.is_empty(), "empty transmit");
                }
                Output::Event(Event::Request { tx, request, .. }) => {
                    self.answer(tx, &request);
                }
                Output::Event(_) => {}
            }
        }
    }

    /// The fake TU: answer by mode; some modes leave the transaction pending.
    fn answer(&mut self, tx: ServerTxId, req: &Request) {
        let status = match self.tu_mode {
            0 => None,
            1 => Some(200),
            2 => Some(486),
            3 => Some(180),
            4 => Some(100),
            5 => Some(302),
            6 => Some(999), // invalid: must be refused, not panic
            _ => Some(if req.method == Method::Invite {
                183
            } else {
                200
            }),
        };
        match status {
            Some(s) => {
                let resp = Response::for_request(req, s, "Fuzz").with_to_tag("uas1");
                let res = self.ep.respond(self.now, tx, resp);
                if s == 999 {
                    assert!(res.is_err(), "status 999 accepted");
                }
                if s < 200 || res.is_err() {
                    self.pending.push(tx);
                }
            }
            None => self.pending.push(tx),
        }
    }

    /// Fire every due timer; a timer still due right after firing would spin the IO loop.
    fn fire_due(&mut self) {
        for _ in 0..1_000 {
            match self.ep.poll_timeout() {
                Some(t) if t <= self.now => {
                    self.ep.handle_timeout(self.now);
                    self.drain();
                }
                _ => return,
            }
        }
        panic!("poll_timeout stays due after handle_timeout (busy loop)");
    }

    fn advance(&mut self, by: Duration) {
        let target = self.now + by;
        // Step through intermediate deadlines like a real event loop would.
        for _ in 0..10_000 {
            match self.ep.poll_timeout() {
                Some(t) if t <= target => {
                    self.now = self.now.max(t);
                    self.fire_due();
                }
                _ => break,
            }
        }
        self.now = target;
        self.fire_due();
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&opts, rest)) = data.split_first() else {
        return;
    };
    let t1 = Duration::from_millis(match (opts >> 4) & 3 {
        0 => 500,
        1 => 1,
        2 => 100,
        _ => 32,
    });
    let config = EndpointConfig {
        t1,
        ..EndpointConfig::default()
    };
    let mut h = Harness {
        ep: Endpoint::new(config),
        now: Instant::now(),
        tu_mode: (opts >> 1) & 7,
        pending: Vec::new(),
        outputs: 0,
    };
    if opts & 1 == 1 {
        let to = peer(0);
        h.ep.send_request(h.now, to, client_request(Method::Invite, "z9hG4bKfuzzinv"));
        h.ep.send_request(h.now, to, client_request(Method::Options, "z9hG4bKfuzzopt"));
        h.drain();
    }
    for record in rest.split(|b| *b == 0).filter(|r| !r.is_empty()) {
        let Some((&ctrl, datagram)) = record.split_first() else {
            continue;
        };
        h.advance(Duration::from_millis(250 * u64::from(ctrl >> 3)));
        h.ep.handle_input(h.now, peer(ctrl), datagram);
        h.drain();
    }
    // Wind down: give every pending server transaction a final response, then let all timers
    // run out. Every transaction must terminate (RFC 3261 17: timers B/F/H/I/J/K/L/M).
    for tx in std::mem::take(&mut h.pending) {
        if let Some(req) = h.ep.server_tx_request(tx).cloned() {
            let resp = Response::for_request(&req, 487, "Terminated").with_to_tag("uas1");
            let _ = h.ep.respond(h.now, tx, resp);
        }
    }
    h.drain();
    for _ in 0..64 {
        h.advance(Duration::from_secs(10));
        if h.ep.active_transactions() == 0 {
            break;
        }
    }
    assert_eq!(
        h.ep.active_transactions(),
        0,
        "transactions still alive 640 s after their final responses"
    );
    assert!(
        h.ep.poll_timeout().is_none(),
        "timer armed with no transaction"
    );
});
