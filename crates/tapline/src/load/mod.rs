//! `tapline load`: a SIPREC load generator. N calls, at most C at once, started at R per
//! second; each is a SIPREC INVITE (two sendonly labelled m-lines + RFC 7865 metadata), ACK,
//! 20 ms RTP on both streams for the duration, BYE. Two threads do all the work: this one
//! runs SIP for every call over one socket, the pacer sends every RTP packet.

mod batch;
mod driver;
mod invite;
mod pacer;
mod report;
mod rtp_only;
mod tone;
mod wheel;

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tapline_sip::{Endpoint, EndpointConfig, Peer, Transport};

use crate::cli::{LoadArgs, TransportArg};
use driver::{Driver, Plan, WAKE};
use invite::InviteTemplate;
use pacer::{PTIME, Pacer};
use report::{Outcomes, RunFigures};

/// Kernel buffer asked for on every socket (the kernel caps it at net.core.[rw]mem_max).
const SOCKET_BUFFER: usize = 4 << 20;

pub(crate) fn main(args: LoadArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let srs: SocketAddr = args
        .srs
        .to_socket_addrs()
        .with_context(|| format!("resolving {}", args.srs))?
        .next()
        .with_context(|| format!("{} resolves to no address", args.srs))?;
    if args.transport != TransportArg::Udp {
        bail!("tapline load drives SIP over UDP only");
    }
    if !(args.duration.is_finite() && args.duration >= 0.0 && args.duration < 86_400.0) {
        bail!("--duration must be a number of seconds");
    }
    if !(args.rate.is_finite() && args.rate > 0.0 && args.rate <= 1_000_000.0) {
        bail!("--rate must be a positive number of calls per second");
    }
    if args.concurrency == 0 || args.rtp_sockets == 0 {
        bail!("--concurrency and --rtp-sockets must be at least 1");
    }
    if args.calls > u64::from(u32::MAX) {
        bail!("--calls is at most {}", u32::MAX);
    }
    let local_ip = match args.local_ip {
        Some(ip) => ip,
        None => local_ip_towards(srs)?,
    };
    let tones = tone::Tones::new(args.codec)?;
    let packets = (args.duration / PTIME.as_secs_f64()).round() as u64;

    let rtp: Vec<std::net::UdpSocket> = (0..args.rtp_sockets)
        .map(|_| bind(local_ip))
        .collect::<anyhow::Result<_>>()?;
    let rtp_ports = rtp
        .iter()
        .map(|s| Ok(s.local_addr()?.port()))
        .collect::<std::io::Result<Vec<u16>>>()?;
    let sip = bind(local_ip)?;
    sip.set_nonblocking(true)?;

    let poll = mio::Poll::new()?;
    let waker = Arc::new(mio::Waker::new(poll.registry(), WAKE)?);
    let (cmd_tx, cmd_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel();
    let pacer = Pacer {
        sockets: rtp,
        tones,
        packets,
        lateness_us: report::histogram()?,
    }
    .spawn(
        cmd_rx,
        done_tx,
        Arc::new(move || {
            let _ = waker.wake();
        }),
    )?;
    let result = if let Some(path) = &args.rtp_to {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let pairs = rtp_only::read_pairs(&text)?;
        let mut out = Outcomes::new(packets)?;
        let concurrency = usize::try_from(args.concurrency).unwrap_or(usize::MAX);
        rtp_only::run(&pairs, args.rate, concurrency, &cmd_tx, &done_rx, &mut out);
        driver::DriverResult {
            out,
            records: Vec::new(),
        }
    } else {
        run_sip(&args, srs, sip, poll, cmd_tx, done_rx, rtp_ports, packets)?
    };
    let stats = pacer
        .join()
        .map_err(|_| anyhow::anyhow!("the RTP pacer thread panicked"))?;
    let (cpu_user, cpu_sys) = cpu_time()?;
    let figures = RunFigures {
        wall: started.elapsed(),
        cpu_user,
        cpu_sys,
        packets: stats.packets,
        syscalls: stats.syscalls,
        send_errors: stats.send_errors,
        lateness_us: stats.lateness_us,
        max_streams: stats.max_streams,
    };
    if let Some(path) = &args.calls_out {
        let mut text = String::new();
        for r in &result.records {
            text += &serde_json::to_string(r)?;
            text.push('\n');
        }
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    let v = report::to_json(&result.out, &figures);
    if args.json {
        println!("{v}");
    } else {
        print!("{}", report::to_text(&v));
    }
    if !result.out.all_good(figures.send_errors) {
        bail!("some calls failed (see the report)");
    }
    Ok(())
}

/// The SIP-driven run: every call set up, streamed and ended through the SRS.
#[allow(clippy::too_many_arguments)]
fn run_sip(
    args: &LoadArgs,
    srs: SocketAddr,
    sip: std::net::UdpSocket,
    poll: mio::Poll,
    cmd_tx: mpsc::Sender<pacer::PacerCmd>,
    done_rx: mpsc::Receiver<pacer::PacerDone>,
    rtp_ports: Vec<u16>,
    packets: u64,
) -> anyhow::Result<driver::DriverResult> {
    let local = sip.local_addr()?;
    let tones_meta = tone::Tones::new(args.codec)?;
    let driver = Driver {
        poll,
        sock: mio::net::UdpSocket::from_std(sip),
        endpoint: Endpoint::new(EndpointConfig::default()),
        peer: Peer {
            transport: Transport::Udp,
            addr: srs,
            conn: 0,
        },
        template: InviteTemplate {
            srs,
            local,
            pt: tones_meta.pt,
            encoding: tones_meta.encoding,
        },
        rtp_ports,
        pacer: cmd_tx,
        done: done_rx,
        out: Outcomes::new(packets)?,
    };
    let plan = Plan {
        calls: args.calls,
        concurrency: usize::try_from(args.concurrency).unwrap_or(usize::MAX),
        rate: args.rate,
    };
    driver.run(&plan)
}

/// A UDP socket on `ip` with large kernel buffers.
fn bind(ip: IpAddr) -> anyhow::Result<std::net::UdpSocket> {
    let s = std::net::UdpSocket::bind(SocketAddr::new(ip, 0)).context("binding a UDP socket")?;
    let r = socket2::SockRef::from(&s);
    // Best effort: smaller buffers still work, they only lose bursts sooner.
    let _ = r.set_send_buffer_size(SOCKET_BUFFER);
    let _ = r.set_recv_buffer_size(SOCKET_BUFFER);
    Ok(s)
}

/// User and system CPU time of this process so far (getrusage(RUSAGE_SELF)).
fn cpu_time() -> anyhow::Result<(Duration, Duration)> {
    use nix::sys::resource::{UsageWho, getrusage};
    let u = getrusage(UsageWho::RUSAGE_SELF).context("getrusage")?;
    let d = |t: nix::sys::time::TimeVal| {
        Duration::from_secs(u64::try_from(t.tv_sec()).unwrap_or(0))
            + Duration::from_micros(u64::try_from(t.tv_usec()).unwrap_or(0))
    };
    Ok((d(u.user_time()), d(u.system_time())))
}

/// The local address the kernel would use to reach `to` (no packet is sent).
fn local_ip_towards(to: SocketAddr) -> anyhow::Result<IpAddr> {
    let probe = if to.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" };
    let s = std::net::UdpSocket::bind(probe)?;
    s.connect(to)?;
    Ok(s.local_addr()?.ip())
}
