//! Run one vendor vector against a fresh server and check the catalogue against its row.

use std::net::SocketAddr;
use std::time::Duration;

use crate::common::{
    Response, Server, SipLink, SrcCall, TcpLink, ToneRtp, UdpLink, answer_media, branch,
    count_events, final_response, offer_sdp, path_of, play, show, siprec_body, token, wait_final,
    wav,
};
use crate::vendor::{
    SippVars, boundary_of, complete_doc, cseq_of, from_tag_of, render_sipp, text,
    without_src_feature,
};
use crate::{After, Build, Part, VECTORS, Vector};

/// Seconds of tone per media burst.
const BURST: Duration = Duration::from_secs(1);

/// One SRC-side dialog: the link, the identifiers, the last CSeq, the SIPp keyword values.
struct Src {
    link: Box<dyn SipLink>,
    call: SrcCall,
    cseq: u32,
    vars: SippVars,
}

impl Src {
    fn uri_tp(&self) -> &'static str {
        if self.call.tcp { ";transport=tcp" } else { "" }
    }

    /// Send and wait for the final response to `method`.
    fn exchange(&mut self, bytes: &[u8], method: &str) -> Response {
        self.link.send(bytes);
        final_response(
            self.link.as_mut(),
            &self.call.call_id,
            method,
            Duration::from_secs(10),
        )
    }

    fn ack(&mut self, to_tag: &str) {
        let ack = self
            .call
            .request("ACK", self.cseq, &branch(), Some(to_tag), &[], None);
        self.link.send(&ack);
    }
}

/// The first payload type of every answered m-line.
fn answer_pts(sdp: &[u8]) -> Vec<u8> {
    String::from_utf8_lossy(sdp)
        .lines()
        .filter_map(|l| l.strip_prefix("m="))
        .map(|m| {
            m.split_whitespace()
                .nth(3)
                .and_then(|pt| pt.parse().ok())
                .expect("answer m= payload type")
        })
        .collect()
}

/// (label, RTP address, payload type) of each answered m-line; unlabelled m-line i is `m{i}`,
/// as the server names it.
fn answered(ok: &Response) -> Vec<(String, SocketAddr, u8)> {
    let pts = answer_pts(&ok.body);
    answer_media(&ok.body)
        .into_iter()
        .zip(pts)
        .enumerate()
        .map(|(i, ((addr, attrs), pt))| {
            let label = attrs
                .iter()
                .find_map(|a| a.strip_prefix("label:"))
                .map_or_else(|| format!("m{i}"), str::to_owned);
            (label, addr, pt)
        })
        .collect()
}

/// Point every tone sender at its label's answered address and codec.
fn aim(senders: &mut [(String, ToneRtp)], ok: &Response) {
    let lines = answered(ok);
    for (label, s) in senders.iter_mut() {
        let (_, addr, pt) = lines
            .iter()
            .find(|(l, _, _)| l == label)
            .unwrap_or_else(|| {
                panic!(
                    "no answered m-line labelled {label}:\n{}",
                    String::from_utf8_lossy(&ok.body)
                )
            });
        assert_ne!(addr.port(), 0, "label {label} was refused");
        s.dest = *addr;
        s.codec = match pt {
            0 => tapline_media::Codec::Pcmu,
            8 => tapline_media::Codec::Pcma,
            other => panic!("label {label} answered with payload type {other}"),
        };
    }
}

/// The initial INVITE of a vector, as bytes, with the dialog it opens.
fn initial_invite(v: &Vector, src: &mut Src) -> Vec<u8> {
    let file = text(v.file);
    let invite_branch = branch();
    match v.build {
        Build::Multipart => {
            let ct = format!("multipart/mixed;boundary={}", boundary_of(&file));
            src.call.invite(&invite_branch, &[], &ct, file.as_bytes())
        }
        Build::PlainSdp => without_src_feature(src.call.request(
            "INVITE",
            1,
            &invite_branch,
            None,
            &[],
            Some(("application/sdp", file.as_bytes())),
        )),
        Build::MetadataOnly => {
            let sdp = offer_sdp(src.call.local.ip(), [40_000, 40_002]);
            let (ct, body) = siprec_body(&sdp, &file);
            assert!(
                body.windows(file.len()).any(|w| w == file.as_bytes()),
                "document not kept byte for byte"
            );
            src.call.invite(&invite_branch, &[], &ct, &body)
        }
        Build::Sipp => {
            src.call.from_tag = from_tag_of(&file, src.vars.pid);
            src.cseq = cseq_of(&file).0;
            render_sipp(&file, &src.vars)
        }
        Build::Doc => {
            let (cseq, _) = cseq_of(&file);
            src.cseq = cseq;
            let line = format!("INVITE sip:AAAA@{}{} SIP/2.0", src.call.srs, src.uri_tp());
            complete_doc(&file, &line, &dialog_headers(src, None, "INVITE", true))
        }
    }
}

/// Via, From, To, Call-ID, CSeq, Max-Forwards (and Contact) for a repaired transcription.
fn dialog_headers(
    src: &Src,
    to_tag: Option<&str>,
    method: &str,
    contact: bool,
) -> Vec<(String, String)> {
    let tp = if src.call.tcp { "TCP" } else { "UDP" };
    let c = &src.call;
    let to = match to_tag {
        Some(t) => format!("<sip:AAAA@{}>;tag={t}", c.srs),
        None => format!("<sip:AAAA@{}>", c.srs),
    };
    let mut h = vec![
        (
            "Via".into(),
            format!("SIP/2.0/{tp} {};branch={};rport", c.local, branch()),
        ),
        (
            "From".into(),
            format!("<sip:{}>;tag={}", c.local.ip(), c.from_tag),
        ),
        ("To".into(), to),
        ("Call-ID".into(), c.call_id.clone()),
        ("CSeq".into(), format!("{} {method}", src.cseq)),
        ("Max-Forwards".into(), "70".into()),
    ];
    if contact {
        h.push((
            "Contact".into(),
            format!("<sip:{}{}>;+sip.src", c.local, src.uri_tp()),
        ));
    }
    h
}

/// The whole exchange for `file` over UDP or TCP, then the catalogue checks.
pub(crate) fn vector(file: &str, tcp: bool) {
    let v = VECTORS
        .iter()
        .find(|v| v.file == file)
        .unwrap_or_else(|| panic!("{file} not in VECTORS"));
    let server = Server::start();
    let link: Box<dyn SipLink> = if tcp {
        Box::new(TcpLink::connect(server.sip))
    } else {
        Box::new(UdpLink::new(server.sip))
    };
    let local = link.local();
    let pid = std::process::id();
    let mut call = SrcCall::new(local, server.sip, tcp);
    call.call_id = format!("{}-{pid}@{}", token(), local.ip());
    // One tone sender per expected label; the first one's port stands for the SRC media port
    // in SIPp templates ([auto_media_port]).
    let mut senders: Vec<(String, ToneRtp)> = v
        .tones
        .iter()
        .map(|(l, f)| ((*l).to_owned(), ToneRtp::new(server.sip, *f)))
        .collect();
    let media_port = senders
        .first()
        .map_or(6000, |(_, s)| s.sock.local_addr().unwrap().port());
    let vars = SippVars {
        local,
        remote: server.sip,
        tcp,
        call_id: call.call_id.clone(),
        pid,
        media_port,
        peer_tag: None,
    };
    let mut src = Src {
        link,
        call,
        cseq: 1,
        vars,
    };

    let invite = initial_invite(v, &mut src);
    let ok = src.exchange(&invite, "INVITE");
    assert_eq!(
        ok.status,
        200,
        "{file} over {}: INVITE answered {} {}\nsent:\n{}\nserver log:\n{}",
        if tcp { "TCP" } else { "UDP" },
        ok.status,
        ok.reason,
        String::from_utf8_lossy(&invite),
        server.log_lines().join("\n")
    );
    let to_tag = ok.to_tag().expect("200 To tag").to_owned();
    src.ack(&to_tag);
    src.vars.peer_tag = Some(to_tag.clone());
    aim(&mut senders, &ok);
    let mut refs: Vec<&mut ToneRtp> = senders.iter_mut().map(|(_, s)| s).collect();
    play(&mut refs, BURST);

    let mut bye_sent = false;
    for step in v.after {
        match *step {
            After::ReInviteSipp(f) => {
                let t = text(f);
                src.cseq = cseq_of(&t).0;
                let r = src.exchange(&render_sipp(&t, &src.vars), "INVITE");
                assert_eq!(
                    r.status, 200,
                    "{f}: re-INVITE answered {} {}",
                    r.status, r.reason
                );
                src.ack(&to_tag);
                if t.contains("c=IN IP4 0.0.0.0") {
                    std::thread::sleep(Duration::from_millis(500));
                } else {
                    aim(&mut senders, &r);
                    let mut refs: Vec<&mut ToneRtp> = senders.iter_mut().map(|(_, s)| s).collect();
                    play(&mut refs, BURST);
                }
            }
            After::ByeSipp(f) => {
                let r = src.exchange(&render_sipp(&text(f), &src.vars), "BYE");
                assert_eq!(r.status, 200, "{f}: BYE answered {} {}", r.status, r.reason);
                bye_sent = true;
            }
            After::ByeDoc(f) => {
                src.cseq += 1;
                let line = format!("BYE sip:AAAA@{}{} SIP/2.0", src.call.srs, src.uri_tp());
                let h = dialog_headers(&src, Some(&to_tag), "BYE", false);
                let r = src.exchange(&complete_doc(&text(f), &line, &h), "BYE");
                assert_eq!(r.status, 200, "{f}: BYE answered {} {}", r.status, r.reason);
                bye_sent = true;
            }
        }
    }
    if !bye_sent {
        src.cseq += 1;
        let bye = src
            .call
            .request("BYE", src.cseq, &branch(), Some(&to_tag), &[], None);
        let r = src.exchange(&bye, "BYE");
        assert_eq!(r.status, 200, "BYE answered {} {}", r.status, r.reason);
    }
    check(v, &server, &src.call.call_id);
}

/// The catalogue row of the recording against the vector's expectations.
fn check(v: &Vector, server: &Server, call_id: &str) {
    let list = wait_final(server.data_dir(), 1);
    let recs = list.as_array().unwrap();
    assert_eq!(recs.len(), 1, "{list:#}");
    let rec = &recs[0];
    assert_eq!(rec["call_id"], call_id, "{rec:#}");
    assert_eq!(rec["state"], "complete", "{rec:#}");
    let d = show(server.data_dir(), rec["id"].as_str().unwrap());
    let ctx = format!("{}:\n{d:#}", v.file);
    if std::env::var_os("TAPLINE_VENDOR_DUMP").is_some() {
        eprintln!("{ctx}");
    }

    let parts = d["participants"].as_array().unwrap();
    assert_eq!(parts.len(), v.parts.len(), "participants of {ctx}");
    for want in v.parts {
        check_part(parts, want, &ctx);
    }

    let mut labels: Vec<&str> = d["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["label"].as_str().unwrap())
        .collect();
    labels.sort_unstable();
    let mut want: Vec<&str> = v.labels.to_vec();
    want.sort_unstable();
    assert_eq!(labels, want, "stream labels of {ctx}");
    for s in d["streams"].as_array().unwrap() {
        let label = s["label"].as_str().unwrap();
        let state = if v.refused.contains(&label) {
            "rejected"
        } else {
            "accepted"
        };
        assert_eq!(s["state"], state, "label {label} of {ctx}");
    }

    for w in v.warnings {
        let found = d["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["text"].as_str().unwrap_or_default().contains(w));
        assert!(found, "no warning containing {w:?} in {ctx}");
    }
    for (kind, label) in v.events {
        assert!(
            count_events(&d, kind, Some(label)) >= 1,
            "no {kind} event on label {label} in {ctx}"
        );
    }

    for (label, freq) in v.tones {
        let stream = d["streams"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["label"] == *label)
            .unwrap();
        let got = stream["packets_received"].as_u64().unwrap();
        assert!(got >= 45, "label {label} received {got} packets: {ctx}");
        let mono = wav(path_of(&d["files"]["streams"][*label]));
        let f = tone_of(&mono.samples, mono.sample_rate);
        assert!(
            (f - freq).abs() < 10.0,
            "label {label} holds {f} Hz, sent {freq} Hz: {ctx}"
        );
    }
}

fn check_part(parts: &[serde_json::Value], want: &Part, ctx: &str) {
    let found = parts
        .iter()
        .find(|p| match (want.aor, want.id) {
            (Some(aor), _) => p["aor"] == aor,
            (None, Some(id)) => p["id"] == id,
            (None, None) => false,
        })
        .unwrap_or_else(|| panic!("no participant {want:?} in {ctx}"));
    let mut sends: Vec<&str> = found["sends"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    sends.sort_unstable();
    assert_eq!(sends, want.sends, "sends of {want:?} in {ctx}");
    if let Some(role) = want.role {
        assert_eq!(found["role"], role, "role of {want:?} in {ctx}");
    }
}

/// The dominant frequency of half a second of tone, 100 ms after the first loud sample.
fn tone_of(samples: &[i16], rate: u32) -> f64 {
    let first = samples
        .iter()
        .position(|s| s.unsigned_abs() > 256)
        .expect("no audio in file");
    let from = first + rate as usize / 10;
    let to = (from + rate as usize / 2).min(samples.len());
    assert!(to > from + rate as usize / 4, "too little audio");
    tapline_media::dominant_frequency(&samples[from..to], rate)
}
