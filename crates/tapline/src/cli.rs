//! Command-line interface. Every `serve` flag can also be set with a `TAPLINE_*` environment
//! variable; both override the TOML file given with `--config`.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::PortRange;

/// Tapline: SIPREC session recording server.
#[derive(Debug, Parser)]
#[command(name = "tapline", version, about)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the Session Recording Server (SIP on UDP and TCP, RTP, catalogue).
    Serve(ServeArgs),
    /// Send a SIPREC call to a server, as a Session Recording Client would.
    Call(CallArgs),
    /// Read a SIP message, multipart body, SDP or metadata document and print it as JSON.
    Inspect(InspectArgs),
    /// Query the recordings catalogue.
    Recordings(RecordingsArgs),
    /// Ask the SRC of an active recording for a complete metadata snapshot (RFC 7866 9.2).
    Snapshot(SnapshotArgs),
    /// Send paced 20 ms RTP to one or more addresses (for sipp scenarios, through `<exec>`).
    RtpSend(RtpSendArgs),
    /// Print a running server's receive counters as JSON (from DATA_DIR/tapline.sock).
    Stats(crate::stats::StatsArgs),
    /// Generate SIPREC load: many recorded calls with paced RTP, and a latency/CPU report.
    Load(LoadArgs),
}

/// `tapline load`: N SIPREC calls (INVITE with two labelled sendonly streams and metadata, ACK,
/// 20 ms RTP on both streams, BYE), at most `--concurrency` at once, started at `--rate` per
/// second. Exits non-zero if any call failed.
#[derive(Debug, Args)]
pub(crate) struct LoadArgs {
    /// The recording server, HOST:PORT.
    #[arg(long, value_name = "HOST:PORT")]
    pub(crate) srs: String,
    /// Calls to make in total.
    #[arg(long, default_value_t = 100)]
    pub(crate) calls: u64,
    /// Calls up at the same time, at most.
    #[arg(long, default_value_t = 100)]
    pub(crate) concurrency: u64,
    /// Calls started per second.
    #[arg(long, default_value_t = 100.0, value_name = "CPS")]
    pub(crate) rate: f64,
    /// Seconds of RTP per call before its BYE.
    #[arg(long, default_value_t = 10.0, value_name = "SECONDS")]
    pub(crate) duration: f64,
    /// Codec for every stream (pcmu or pcma).
    #[arg(long, value_enum, default_value = "pcmu")]
    pub(crate) codec: CodecArg,
    /// SIP transport (udp only).
    #[arg(long, value_enum, default_value = "udp")]
    pub(crate) transport: TransportArg,
    /// Local IP to bind and to write into SIP and SDP [default: the address facing the SRS].
    #[arg(long)]
    pub(crate) local_ip: Option<IpAddr>,
    /// UDP sockets the RTP is sent from (streams share them round robin).
    #[arg(long, default_value_t = 4)]
    pub(crate) rtp_sockets: usize,
    /// Write one JSON line per call (Call-ID, status, wall-clock INVITE/200/BYE/BYE-200 times).
    #[arg(long, value_name = "FILE")]
    pub(crate) calls_out: Option<PathBuf>,
    /// No SIP: send the same RTP to the address pairs in FILE, one call per line
    /// `HOST:PORT HOST:PORT` (for media set up elsewhere, e.g. on rtpengine).
    #[arg(long, value_name = "FILE")]
    pub(crate) rtp_to: Option<PathBuf>,
    /// Print the report as one JSON object.
    #[arg(long)]
    pub(crate) json: bool,
}

/// `tapline rtp-send`: real-time RTP from tones or WAV files, one stream per `--to`.
#[derive(Debug, Args)]
pub(crate) struct RtpSendArgs {
    /// Destination HOST:PORT; repeat for several streams.
    #[arg(long, required = true)]
    pub(crate) to: Vec<String>,
    /// Audio per stream, in `--to` order: `tone:FREQ` or a WAV file [default: tone:440, tone:880, ...].
    #[arg(long)]
    pub(crate) audio: Vec<String>,
    /// Seconds of audio.
    #[arg(long, default_value_t = 3.0)]
    pub(crate) duration: f64,
    /// Codec for every stream.
    #[arg(long, value_enum, default_value = "pcmu")]
    pub(crate) codec: CodecArg,
}

/// `tapline serve`: with no flags it listens on 0.0.0.0:5060 (UDP and TCP), uses RTP ports
/// 16384-32767 and stores everything under ./tapline-data.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// TOML configuration file (keys: sip_listen, rtp_ports, data_dir, media_address,
    /// reorder_ms, sip_t1_ms, log_format).
    #[arg(long, env = "TAPLINE_CONFIG")]
    pub(crate) config: Option<PathBuf>,
    /// SIP listen address for UDP and TCP [default: 0.0.0.0:5060].
    #[arg(long, env = "TAPLINE_SIP_LISTEN", value_name = "ADDR:PORT")]
    pub(crate) sip_listen: Option<SocketAddr>,
    /// RTP port range, even ports for RTP and the next odd one for RTCP [default: 16384-32767].
    #[arg(long, env = "TAPLINE_RTP_PORTS", value_name = "LOW-HIGH")]
    pub(crate) rtp_ports: Option<PortRange>,
    /// Directory for the catalogue and the recordings [default: ./tapline-data].
    #[arg(long, env = "TAPLINE_DATA_DIR", value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,
    /// Address written into SDP answers [default: the local address facing the SRC].
    #[arg(long, env = "TAPLINE_MEDIA_ADDRESS", value_name = "IP")]
    pub(crate) media_address: Option<IpAddr>,
    /// RTP reorder window in milliseconds [default: 100].
    #[arg(long, env = "TAPLINE_REORDER_MS", value_name = "MS")]
    pub(crate) reorder_ms: Option<u32>,
    /// Log format: text or json [default: text].
    #[arg(long, env = "TAPLINE_LOG_FORMAT", value_name = "FORMAT")]
    pub(crate) log_format: Option<String>,
}

/// Transport for SIP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum TransportArg {
    Udp,
    Tcp,
}

/// Codec the simulator sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CodecArg {
    /// G.711 mu-law, PT 0.
    Pcmu,
    /// G.711 A-law, PT 8.
    Pcma,
    /// G.722 (16 kHz audio, 8000 Hz RTP clock), PT 9.
    G722,
    /// Opus (opus/48000/2, dynamic PT 111), encoded from 16 kHz audio.
    Opus,
    /// Linear 16-bit PCM at 16 kHz (L16/16000, dynamic PT 96).
    L16,
    /// G.729 (PT 18); needs a build with the `g729` feature.
    G729,
}

/// `tapline call`: one SIPREC recording session with two labelled streams.
#[derive(Debug, Args)]
pub(crate) struct CallArgs {
    /// The recording server, HOST:PORT.
    #[arg(long, value_name = "HOST:PORT")]
    pub(crate) srs: String,
    /// SIP transport.
    #[arg(long, value_enum, default_value = "udp")]
    pub(crate) transport: TransportArg,
    /// Caller address of record written into the metadata.
    #[arg(long, default_value = "sip:alice@example.com")]
    pub(crate) caller: String,
    /// Callee address of record written into the metadata.
    #[arg(long, default_value = "sip:bob@example.com")]
    pub(crate) callee: String,
    /// Caller audio: `tone:FREQ` or a WAV file (16-bit PCM at the codec's audio rate: 8 kHz,
    /// or 16 kHz for g722, opus and l16).
    #[arg(long, default_value = "tone:440")]
    pub(crate) caller_audio: String,
    /// Callee audio: `tone:FREQ` or a WAV file.
    #[arg(long, default_value = "tone:880")]
    pub(crate) callee_audio: String,
    /// Seconds of audio before the BYE.
    #[arg(long, default_value_t = 3.0)]
    pub(crate) duration: f64,
    /// Codec for both streams.
    #[arg(long, value_enum, default_value = "pcmu")]
    pub(crate) codec: CodecArg,
    /// Local IP to bind and to write into SIP and SDP [default: the address facing the SRS].
    #[arg(long)]
    pub(crate) local_ip: Option<IpAddr>,
    /// Print the outcome as one JSON object.
    #[arg(long)]
    pub(crate) json: bool,
    /// Drop this percentage of RTP packets (0-100).
    #[arg(long, default_value_t = 0.0, value_name = "PCT")]
    pub(crate) loss: f64,
    /// Hold back this percentage of packets by two packet times, so later ones overtake them.
    #[arg(long, default_value_t = 0.0, value_name = "PCT")]
    pub(crate) reorder: f64,
    /// Send this percentage of packets twice.
    #[arg(long, default_value_t = 0.0, value_name = "PCT")]
    pub(crate) duplicate: f64,
    /// Delay every packet by a uniform random 0..MS milliseconds (packets reorder naturally).
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub(crate) jitter: u32,
    /// From this many seconds on, send with a new SSRC and new random sequence/timestamp bases.
    #[arg(long, value_name = "SECONDS")]
    pub(crate) ssrc_change_at: Option<f64>,
    /// RFC 4733 telephone-event digits (0-9 * # A-D) on the caller stream, from 1 s in,
    /// 100 ms per digit with 100 ms gaps.
    #[arg(long, value_name = "DIGITS")]
    pub(crate) dtmf: Option<String>,
    /// Seed for the impairments and RTP bases, for reproducible runs [default: random].
    #[arg(long)]
    pub(crate) seed: Option<u64>,
}

/// `tapline inspect`.
#[derive(Debug, Args)]
pub(crate) struct InspectArgs {
    /// File to read, or `-` for standard input.
    pub(crate) file: String,
}

/// `tapline recordings`.
#[derive(Debug, Args)]
pub(crate) struct RecordingsArgs {
    #[command(subcommand)]
    pub(crate) command: RecordingsCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum RecordingsCommand {
    /// List recordings, newest first.
    List {
        /// Data directory holding the catalogue [default: ./tapline-data].
        #[arg(long, env = "TAPLINE_DATA_DIR", default_value = "./tapline-data")]
        data_dir: PathBuf,
        /// Print a JSON array.
        #[arg(long)]
        json: bool,
        /// At most this many.
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Find recordings by participant, Call-ID, state or start time (newest first).
    Search {
        /// Part of a participant's address of record (case-insensitive), e.g. `alice` or `+4930`.
        #[arg(long)]
        aor: Option<String>,
        /// The recording session's Call-ID.
        #[arg(long)]
        call_id: Option<String>,
        /// active, complete, failed or interrupted.
        #[arg(long)]
        state: Option<String>,
        /// Started at or after this RFC 3339 time.
        #[arg(long)]
        since: Option<String>,
        /// Started before this RFC 3339 time.
        #[arg(long)]
        until: Option<String>,
        /// At most this many.
        #[arg(long)]
        limit: Option<u32>,
        /// Data directory holding the catalogue [default: ./tapline-data].
        #[arg(long, env = "TAPLINE_DATA_DIR", default_value = "./tapline-data")]
        data_dir: PathBuf,
        /// Print a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Show one recording with its streams, metadata and warnings.
    Show {
        /// Recording id.
        id: String,
        /// Data directory holding the catalogue [default: ./tapline-data].
        #[arg(long, env = "TAPLINE_DATA_DIR", default_value = "./tapline-data")]
        data_dir: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `tapline snapshot`.
#[derive(Debug, Args)]
pub(crate) struct SnapshotArgs {
    /// The active recording's id.
    pub(crate) id: String,
    /// Data directory of the running server [default: ./tapline-data].
    #[arg(long, env = "TAPLINE_DATA_DIR", default_value = "./tapline-data")]
    pub(crate) data_dir: PathBuf,
}
