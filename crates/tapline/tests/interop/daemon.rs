//! Third-party daemons (Kamailio, rtpengine) run in the foreground in their own process group,
//! logging to a file; dropped = SIGTERM to the group, then SIGKILL if it lingers.

use std::net::{TcpListener, UdpSocket};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Panic unless `bin` runs: CI installs these packages, so a missing one is a broken setup.
pub fn require(bin: &str, version_flag: &str, package: &str) {
    if let Err(e) = Command::new(bin)
        .arg(version_flag)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        panic!("`{bin}` is required (Debian package {package}; .ci/run installs it): {e}");
    }
}

/// A UDP port free on 127.0.0.1 whose TCP twin is free too (never 5060).
pub fn free_port() -> u16 {
    for _ in 0..50 {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind UDP");
        let port = udp.local_addr().expect("local addr").port();
        if port != 5060 && TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free UDP+TCP port on 127.0.0.1");
}

/// An even UDP port P with P and P+2 free (sipp binds its media sockets there).
pub fn free_media_port() -> u16 {
    for _ in 0..50 {
        let port = free_port() & !1;
        if port > 1024
            && port < 65530
            && UdpSocket::bind(("127.0.0.1", port)).is_ok()
            && UdpSocket::bind(("127.0.0.1", port + 2)).is_ok()
        {
            return port;
        }
    }
    panic!("no free media port pair on 127.0.0.1");
}

/// True once something has bound UDP `port` on 127.0.0.1.
pub fn udp_port_taken(port: u16) -> bool {
    UdpSocket::bind(("127.0.0.1", port)).is_err()
}

/// A foreground daemon with its log file.
pub struct Daemon {
    pub name: &'static str,
    pub child: Child,
    pub log: PathBuf,
}

impl Daemon {
    /// Spawn `cmd` in a new process group (so its workers die with it), stdout and stderr
    /// appended to `dir/<name>.log`.
    pub fn spawn(name: &'static str, mut cmd: Command, dir: &Path) -> Daemon {
        let log = dir.join(format!("{name}.log"));
        let file = std::fs::File::create(&log).expect("daemon log file");
        cmd.stdin(Stdio::null())
            .stdout(file.try_clone().expect("dup log"))
            .stderr(file)
            .process_group(0);
        let child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {name}: {e}"));
        Daemon { name, child, log }
    }

    /// The log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Panic (with the log) if the daemon has already exited.
    pub fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "{} exited early ({status}); its log:\n{}",
                self.name,
                self.log_text()
            );
        }
    }

    /// Wait until `ready()` holds, checking the daemon stays alive; panics after `limit`.
    pub fn wait_ready(&mut self, limit: Duration, mut ready: impl FnMut(&Daemon) -> bool) {
        let deadline = Instant::now() + limit;
        loop {
            self.assert_running();
            if ready(self) {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "{} not ready within {limit:?}; its log:\n{}",
                    self.name,
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn signal_group(&self, sig: &str) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args([sig, "--", &group])
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            // The leader is gone; its group may still hold workers.
            self.signal_group("-KILL");
            return;
        }
        self.signal_group("-TERM");
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                self.signal_group("-KILL");
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.signal_group("-KILL");
        let _ = self.child.wait();
    }
}
