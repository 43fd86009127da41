//! `tapline call`: a Session Recording Client simulator. It sends one SIPREC INVITE (RFC 7866
//! 6.1.1: `Require: siprec`, `+sip.src`, multipart SDP offer + RFC 7865 metadata), ACKs the
//! 200 OK, streams real-time RTP on both labelled streams, then sends BYE.

mod audio;
mod codec_setup;
mod dtmf_plan;
mod impair;
pub(crate) mod metadata_doc;
mod rtp_sender;
mod sip_client;

use std::net::{IpAddr, SocketAddr, ToSocketAddrs, UdpSocket};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;
use tapline_body::PartSpec;
use tapline_sdp::SessionDescription;
use tapline_sip::{Dialog, Event, Message, Method, Request, Transport};

use crate::cli::{CallArgs, RtpSendArgs, TransportArg};
use codec_setup::SendCodec;

pub(crate) fn main(args: CallArgs) -> anyhow::Result<()> {
    let srs: SocketAddr = args
        .srs
        .to_socket_addrs()
        .with_context(|| format!("resolving {}", args.srs))?
        .next()
        .with_context(|| format!("{} resolves to no address", args.srs))?;
    if !(args.duration.is_finite() && args.duration > 0.0 && args.duration < 86_400.0) {
        bail!("--duration must be a positive number of seconds");
    }
    let transport = match args.transport {
        TransportArg::Udp => Transport::Udp,
        TransportArg::Tcp => Transport::Tcp,
    };
    let local_ip = match args.local_ip {
        Some(ip) => ip,
        None => local_ip_towards(srs)?,
    };
    let codec = SendCodec::of(args.codec)?;
    let rate = codec.spec.sample_rate;
    let sources = [
        audio::Source::parse(&args.caller_audio, rate)?,
        audio::Source::parse(&args.callee_audio, rate)?,
    ];
    // Fail before the INVITE if this build cannot encode the codec (G.729 without `g729`).
    let mut encoders = vec![codec.encoder()?, codec.encoder()?];
    let opts = send_options(&args)?;
    let mut dtmf = match &args.dtmf {
        Some(d) => Some(dtmf_plan::DtmfPlan::parse(d)?),
        None => None,
    };

    // RTP sockets first: their ports go into the offer.
    let rtp: Vec<UdpSocket> = (0..2)
        .map(|_| UdpSocket::bind(SocketAddr::new(local_ip, 0)))
        .collect::<Result<_, _>>()
        .context("binding RTP sockets")?;
    let labels = ["1", "2"];
    let offer_streams: Vec<(String, u16)> = labels
        .iter()
        .zip(&rtp)
        .map(|(l, s)| Ok(((*l).to_owned(), s.local_addr()?.port())))
        .collect::<std::io::Result<_>>()?;
    let session_id = fastrand::u64(1..u64::MAX / 2);
    let offer =
        tapline_sdp::build_offer(local_ip, &offer_streams, &codec.offer_entries(), session_id);

    let mut client = sip_client::SipClient::connect(srs, transport, local_ip)?;
    let call_id = format!("{}@{}", uuid::Uuid::new_v4(), local_ip);
    let cs_call_id = format!("cs-{}", uuid::Uuid::new_v4());
    let xml = metadata_doc::two_party(
        &args.caller,
        &args.callee,
        (labels[0], labels[1]),
        &cs_call_id,
    );
    let boundary = format!("tapline-{:x}", fastrand::u64(..));
    let sdp_text = offer.to_string();
    let body = tapline_body::build_multipart(
        &boundary,
        &[
            PartSpec {
                content_type: "application/sdp",
                disposition: None,
                body: sdp_text.as_bytes(),
            },
            PartSpec {
                content_type: "application/rs-metadata+xml",
                disposition: Some("recording-session"),
                body: xml.as_bytes(),
            },
        ],
    );
    let invite = build_invite(&client, srs, transport, &call_id, &boundary, body);

    let started = Instant::now();
    let tx = client.send_request(invite.clone())?;
    let resp = client.wait_final(tx, Duration::from_secs(40))?;
    let setup_ms = started.elapsed().as_millis();
    if !(200..300).contains(&resp.status) {
        report(
            &args,
            &call_id,
            resp.status,
            &resp.reason,
            None,
            &[],
            setup_ms,
        );
        bail!(
            "the SRS refused the recording: {} {}",
            resp.status,
            resp.reason
        );
    }
    let mut dialog =
        Dialog::uac(&invite, &resp, client.peer).map_err(|e| anyhow::anyhow!("bad 200 OK: {e}"))?;
    let sent_by = client.local.to_string();
    let ack = dialog.request(Method::Ack, transport, &sent_by, &branch());
    client.send_stateless(Message::Request(ack.clone()))?;

    // Where to send: the answer's m-lines, in offer order.
    let answer = SessionDescription::parse(&String::from_utf8_lossy(&resp.body))
        .map_err(|e| anyhow::anyhow!("unreadable SDP answer: {e}"))?;
    let mut out = Vec::new();
    for ((i, sock), source) in rtp.into_iter().enumerate().zip(sources) {
        let remote = answer.media.get(i).and_then(|m| m.remote_addr(&answer));
        let Some(encoder) = encoders.pop() else {
            bail!("one encoder per stream");
        };
        out.push(rtp_sender::OutStream {
            label: labels.get(i).copied().unwrap_or("?").to_owned(),
            socket: sock,
            remote,
            source,
            payload_type: codec.pt,
            encoder,
            ticks: codec.ticks_per_packet(),
            // Digits go on the caller's stream only.
            dtmf: if i == 0 { dtmf.take() } else { None },
        });
    }
    let duration = Duration::from_secs_f64(args.duration);
    let sender = std::thread::spawn(move || rtp_sender::run(out, duration, &opts));
    // Keep SIP alive while the media flows: re-ACK retransmitted 200s (RFC 3261 13.2.2.4).
    while !sender.is_finished() {
        client.pump(Instant::now() + Duration::from_millis(20))?;
        for e in client.take_events() {
            if let Event::Response { response, .. } = e {
                if (200..300).contains(&response.status)
                    && response.cseq().is_some_and(|c| c.method == Method::Invite)
                {
                    client.send_stateless(Message::Request(ack.clone()))?;
                }
            }
        }
    }
    let sent = sender
        .join()
        .map_err(|_| anyhow::anyhow!("RTP sender thread panicked"))?;

    let bye = dialog.request(Method::Bye, transport, &sent_by, &branch());
    let tx = client.send_request(bye)?;
    let bye_resp = client.wait_final(tx, Duration::from_secs(40))?;
    report(
        &args,
        &call_id,
        resp.status,
        &resp.reason,
        Some(bye_resp.status),
        &sent,
        setup_ms,
    );
    if !(200..300).contains(&bye_resp.status) {
        bail!("BYE answered {} {}", bye_resp.status, bye_resp.reason);
    }
    Ok(())
}

fn branch() -> String {
    format!("z9hG4bK{:016x}", fastrand::u64(..))
}

fn build_invite(
    client: &sip_client::SipClient,
    srs: SocketAddr,
    transport: Transport,
    call_id: &str,
    boundary: &str,
    body: Vec<u8>,
) -> Request {
    let host = |a: SocketAddr| match a {
        SocketAddr::V4(v) => format!("{}:{}", v.ip(), v.port()),
        SocketAddr::V6(v) => format!("[{}]:{}", v.ip(), v.port()),
    };
    let (tp, uri_tp) = match transport {
        Transport::Udp => ("UDP", ""),
        Transport::Tcp => ("TCP", ";transport=tcp"),
    };
    let local = host(client.local);
    let mut req = Request::new(Method::Invite, format!("sip:srs@{}{uri_tp}", host(srs)));
    let h = &mut req.headers;
    h.push(
        "Via",
        format!("SIP/2.0/{tp} {local};branch={};rport", branch()),
    );
    h.push("Max-Forwards", "70");
    h.push(
        "From",
        format!("<sip:src@{local}>;tag={:016x}", fastrand::u64(..)),
    );
    h.push("To", format!("<sip:srs@{}>", host(srs)));
    h.push("Call-ID", call_id);
    h.push("CSeq", "1 INVITE");
    h.push("Contact", format!("<sip:src@{local}{uri_tp}>;+sip.src"));
    h.push("Require", "siprec");
    h.push("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE");
    h.push("Accept", "application/sdp, application/rs-metadata+xml");
    h.push(
        "User-Agent",
        concat!("tapline-call/", env!("CARGO_PKG_VERSION")),
    );
    h.push("MIME-Version", "1.0");
    h.push(
        "Content-Type",
        format!("multipart/mixed;boundary={boundary}"),
    );
    req.body = body;
    req
}

fn report(
    args: &CallArgs,
    call_id: &str,
    status: u16,
    reason: &str,
    bye_status: Option<u16>,
    sent: &[rtp_sender::SentReport],
    setup_ms: u128,
) {
    if args.json {
        let streams: Vec<_> = sent
            .iter()
            .map(|s| {
                json!({
                    "label": s.label,
                    "remote": s.remote.map(|a| a.to_string()),
                    "packets_generated": s.generated,
                    "packets_sent": s.sent,
                    "packets_dropped": s.dropped,
                    "packets_duplicated": s.duplicated,
                    "packets_reordered": s.reordered,
                    "dtmf_packets": s.dtmf_packets,
                    "ssrcs": s.ssrcs,
                })
            })
            .collect();
        println!(
            "{}",
            json!({
                "status": status,
                "reason": reason,
                "call_id": call_id,
                "setup_ms": setup_ms,
                "bye_status": bye_status,
                "streams": streams,
            })
        );
    } else {
        println!("INVITE: {status} {reason} ({setup_ms} ms)");
        println!("Call-ID: {call_id}");
        for s in sent {
            println!(
                "stream {}: {} packets generated, {} sent ({} dropped, {} duplicated, {} reordered) to {}",
                s.label,
                s.generated,
                s.sent,
                s.dropped,
                s.duplicated,
                s.reordered,
                s.remote
                    .map(|a| a.to_string())
                    .unwrap_or_else(|| "nowhere (port 0)".into())
            );
        }
        if let Some(b) = bye_status {
            println!("BYE: {b}");
        }
    }
}

/// Impairments, SSRC change and seed from the command line.
fn send_options(args: &CallArgs) -> anyhow::Result<rtp_sender::SendOptions> {
    let impair = impair::Impairments::new(args.loss, args.reorder, args.duplicate, args.jitter)?;
    let ssrc_change_at = match args.ssrc_change_at {
        Some(s) if s.is_finite() && s > 0.0 && s < 86_400.0 => Some(Duration::from_secs_f64(s)),
        Some(_) => bail!("--ssrc-change-at must be a positive number of seconds"),
        None => None,
    };
    Ok(rtp_sender::SendOptions {
        impair,
        ssrc_change_at,
        seed: args.seed.unwrap_or_else(|| fastrand::u64(..)),
    })
}

/// The local address the kernel would use to reach `to` (no packet is sent).
fn local_ip_towards(to: SocketAddr) -> anyhow::Result<IpAddr> {
    let probe = if to.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" };
    let s = UdpSocket::bind(probe)?;
    s.connect(to)?;
    Ok(s.local_addr()?.ip())
}

/// `tapline rtp-send`: paced RTP to the given addresses, then a one-line report.
pub(crate) fn rtp_send(args: RtpSendArgs) -> anyhow::Result<()> {
    if !(args.duration.is_finite() && args.duration > 0.0 && args.duration < 86_400.0) {
        bail!("--duration must be a positive number of seconds");
    }
    let codec = SendCodec::of(args.codec)?;
    let mut out = Vec::new();
    for (i, to) in args.to.iter().enumerate() {
        let remote: SocketAddr = to
            .to_socket_addrs()
            .with_context(|| format!("resolving {to}"))?
            .next()
            .with_context(|| format!("{to} resolves to no address"))?;
        let default_tone = format!("tone:{}", 440 * (i + 1));
        let spec = args
            .audio
            .get(i)
            .map(String::as_str)
            .unwrap_or(&default_tone);
        let bind = if remote.is_ipv4() {
            "0.0.0.0:0"
        } else {
            "[::]:0"
        };
        out.push(rtp_sender::OutStream {
            label: (i + 1).to_string(),
            socket: UdpSocket::bind(bind).context("binding an RTP socket")?,
            remote: Some(remote),
            source: audio::Source::parse(spec, codec.spec.sample_rate)?,
            payload_type: codec.pt,
            encoder: codec.encoder()?,
            ticks: codec.ticks_per_packet(),
            dtmf: None,
        });
    }
    let opts = rtp_sender::SendOptions {
        seed: fastrand::u64(..),
        ..rtp_sender::SendOptions::default()
    };
    let sent = rtp_sender::run(out, Duration::from_secs_f64(args.duration), &opts);
    let counts: Vec<String> = sent
        .iter()
        .map(|s| {
            format!(
                "{}={}",
                s.remote.map(|a| a.to_string()).unwrap_or_default(),
                s.sent
            )
        })
        .collect();
    println!("rtp-send: {}", counts.join(" "));
    Ok(())
}
