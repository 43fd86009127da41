//! Server configuration: embedded defaults, overridden by a TOML file, then by environment
//! variables and command-line flags (clap reads `TAPLINE_*` variables for each flag, so a flag
//! and its variable are one layer, above the file).

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

/// Everything `tapline serve` needs, with the embedded defaults.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct Config {
    /// SIP listen address, used for both UDP and TCP.
    pub(crate) sip_listen: SocketAddr,
    /// Inclusive RTP port range; RTP uses even ports and RTCP the odd port above.
    pub(crate) rtp_ports: PortRange,
    /// Catalogue database and recordings live here.
    pub(crate) data_dir: PathBuf,
    /// Address written into SDP answers; defaults to the address the INVITE arrived on.
    pub(crate) media_address: Option<IpAddr>,
    /// Reorder window for RTP in milliseconds.
    pub(crate) reorder_ms: u32,
    /// Timer T1 in milliseconds (RFC 3261 17.1.1.1).
    pub(crate) sip_t1_ms: u64,
    /// Log format: "text" or "json".
    pub(crate) log_format: String,
    /// Ask SRCs for a complete metadata snapshot when a partial update refers to elements
    /// never received (RFC 7866 9.2). Off by default: many SRCs refuse UPDATE.
    pub(crate) request_snapshots: bool,
    /// Smallest session-timer interval accepted (RFC 4028 Min-SE). RFC 4028 sets 90 s as the
    /// floor; only tests should go lower.
    pub(crate) min_se_secs: u32,
    /// Codec preference for SDP answers, e.g. ["G722", "PCMU"]; empty = the offer's order.
    pub(crate) codecs: Vec<String>,
    /// Files written per recording: any of "stereo", "streams", "mixed", "ogg".
    pub(crate) outputs: Vec<String>,
    /// RTP receive threads [default: available parallelism, at most 4].
    pub(crate) media_threads: Option<usize>,
    /// Which senders a stream records: "offer", "auto", "latch" or "any" (see
    /// serve/media_engine/source.rs).
    pub(crate) rtp_source: crate::serve::SourcePolicy,
    /// A recording whose streams all receive nothing for this long (and that is not on hold)
    /// ends with BYE, end reason "media timeout".
    pub(crate) media_timeout_secs: u64,
    /// The same for a recording on hold (a paused stream, or a stream nobody sends).
    pub(crate) hold_timeout_secs: u64,
    /// A TCP connection on which no complete SIP message arrived for this many seconds, and
    /// which carries no recording session, is closed. RFC 5626 keep-alives (CRLFCRLF) are
    /// answered but do not count as traffic.
    pub(crate) tcp_idle_secs: u64,
    /// A SIP message whose first bytes arrived on TCP must be complete within this many
    /// seconds, or the connection is closed (slow senders holding buffers).
    pub(crate) tcp_message_timeout_secs: u64,
    /// TCP connections open at once; more are closed as soon as accepted.
    pub(crate) tcp_max_connections: usize,
    /// TCP connections open at once from one source IP address.
    pub(crate) tcp_max_per_source: usize,
    /// Bytes that may wait to be sent on one TCP connection (responses, keep-alive pongs);
    /// beyond it the peer is taken not to read and the connection is closed.
    pub(crate) tcp_max_send_buffer_bytes: usize,
}

/// An inclusive port range written `LOW-HIGH`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PortRange {
    pub(crate) low: u16,
    pub(crate) high: u16,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            sip_listen: SocketAddr::from(([0, 0, 0, 0], 5060)),
            rtp_ports: PortRange {
                low: 16384,
                high: 32767,
            },
            data_dir: PathBuf::from("./tapline-data"),
            media_address: None,
            reorder_ms: 100,
            sip_t1_ms: 500,
            log_format: "text".to_owned(),
            request_snapshots: false,
            min_se_secs: 90,
            codecs: Vec::new(),
            outputs: vec!["stereo".to_owned(), "streams".to_owned()],
            media_threads: None,
            rtp_source: crate::serve::SourcePolicy::default(),
            media_timeout_secs: 60,
            hold_timeout_secs: 3600,
            tcp_idle_secs: 120,
            tcp_message_timeout_secs: 30,
            tcp_max_connections: 1024,
            tcp_max_per_source: 256,
            tcp_max_send_buffer_bytes: 256 * 1024,
        }
    }
}

impl std::str::FromStr for PortRange {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> anyhow::Result<Self> {
        let (low, high) = s
            .split_once('-')
            .context("port range must be written LOW-HIGH, e.g. 16384-32767")?;
        let low: u16 = low.trim().parse().context("bad low port")?;
        let high: u16 = high.trim().parse().context("bad high port")?;
        if low == 0 || high < low.saturating_add(1) {
            bail!("port range {s} must hold at least one even/odd pair and not start at 0");
        }
        Ok(PortRange { low, high })
    }
}

impl std::fmt::Display for PortRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.low, self.high)
    }
}

impl<'de> Deserialize<'de> for PortRange {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Flag/env overrides; `None` means "not given".
#[derive(Debug, Default, Clone)]
pub(crate) struct Overrides {
    pub(crate) sip_listen: Option<SocketAddr>,
    pub(crate) rtp_ports: Option<PortRange>,
    pub(crate) data_dir: Option<PathBuf>,
    pub(crate) media_address: Option<IpAddr>,
    pub(crate) reorder_ms: Option<u32>,
    pub(crate) log_format: Option<String>,
}

impl Config {
    /// Defaults, then the TOML file (if any), then the overrides.
    pub(crate) fn load(file: Option<&Path>, over: &Overrides) -> anyhow::Result<Config> {
        let mut config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading config file {}", path.display()))?;
                toml::from_str::<Config>(&text)
                    .with_context(|| format!("parsing config file {}", path.display()))?
            }
            None => Config::default(),
        };
        if let Some(v) = over.sip_listen {
            config.sip_listen = v;
        }
        if let Some(v) = over.rtp_ports {
            config.rtp_ports = v;
        }
        if let Some(v) = &over.data_dir {
            config.data_dir = v.clone();
        }
        if let Some(v) = over.media_address {
            config.media_address = Some(v);
        }
        if let Some(v) = over.reorder_ms {
            config.reorder_ms = v;
        }
        if let Some(v) = &over.log_format {
            config.log_format = v.clone();
        }
        config.check_tcp_limits()?;
        Ok(config)
    }

    /// A zero TCP limit would close or refuse every connection: refuse it at start.
    fn check_tcp_limits(&self) -> anyhow::Result<()> {
        let limits = [
            ("tcp_idle_secs", self.tcp_idle_secs as usize),
            (
                "tcp_message_timeout_secs",
                self.tcp_message_timeout_secs as usize,
            ),
            ("tcp_max_connections", self.tcp_max_connections),
            ("tcp_max_per_source", self.tcp_max_per_source),
            ("tcp_max_send_buffer_bytes", self.tcp_max_send_buffer_bytes),
        ];
        match limits.iter().find(|(_, v)| *v == 0) {
            Some((key, _)) => bail!("{key} must be at least 1"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_documented_ones() {
        let c = Config::load(None, &Overrides::default()).unwrap();
        assert_eq!(c.sip_listen, "0.0.0.0:5060".parse().unwrap());
        assert_eq!(
            c.rtp_ports,
            PortRange {
                low: 16384,
                high: 32767
            }
        );
        assert_eq!(c.data_dir, PathBuf::from("./tapline-data"));
        assert_eq!(c.media_address, None);
    }

    #[test]
    fn file_then_overrides() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.toml");
        std::fs::write(
            &path,
            "sip_listen = \"127.0.0.1:5080\"\nrtp_ports = \"20000-20099\"\ndata_dir = \"/tmp/x\"\n",
        )
        .unwrap();
        let over = Overrides {
            data_dir: Some(PathBuf::from("/tmp/y")),
            ..Overrides::default()
        };
        let c = Config::load(Some(&path), &over).unwrap();
        assert_eq!(c.sip_listen, "127.0.0.1:5080".parse().unwrap());
        assert_eq!(
            c.rtp_ports,
            PortRange {
                low: 20000,
                high: 20099
            }
        );
        assert_eq!(c.data_dir, PathBuf::from("/tmp/y"));
    }

    #[test]
    fn tcp_limits_default_and_read_from_the_file() {
        let c = Config::default();
        assert_eq!((c.tcp_idle_secs, c.tcp_message_timeout_secs), (120, 30));
        assert_eq!((c.tcp_max_connections, c.tcp_max_per_source), (1024, 256));
        assert_eq!(c.tcp_max_send_buffer_bytes, 256 * 1024);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.toml");
        std::fs::write(&path, "tcp_idle_secs = 2\ntcp_max_per_source = 3\n").unwrap();
        let c = Config::load(Some(&path), &Overrides::default()).unwrap();
        assert_eq!((c.tcp_idle_secs, c.tcp_max_per_source), (2, 3));
        std::fs::write(&path, "tcp_max_connections = 0\n").unwrap();
        let e = Config::load(Some(&path), &Overrides::default()).unwrap_err();
        assert!(e.to_string().contains("tcp_max_connections"), "{e}");
    }

    #[test]
    fn unknown_keys_and_bad_ranges_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.toml");
        std::fs::write(&path, "sip_port = 1\n").unwrap();
        assert!(Config::load(Some(&path), &Overrides::default()).is_err());
        assert!("10-5".parse::<PortRange>().is_err());
        assert!("abc".parse::<PortRange>().is_err());
        assert!("0-10".parse::<PortRange>().is_err());
    }
}
