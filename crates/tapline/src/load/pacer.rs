//! The RTP pacer: ONE thread sends every stream of every call. Each stream has its next due
//! time on a timer wheel (1 ms ticks, one 20 ms turn); every tick the thread writes the
//! 12-byte headers of the streams due, queues them per socket and sends 64 at a time with
//! `sendmmsg`. A stream sends exactly `packets` packets on an absolute schedule
//! (start + n * 20 ms), catching up if the thread was late, so packet counts are exact.

use std::net::{SocketAddr, UdpSocket};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use nix::sys::socket::SockaddrStorage;

use super::batch::Batch;
use super::tone::{FRAME_SAMPLES, Tones};
use super::wheel::Wheel;

/// Packet time (RFC 3551 default for G.711).
pub(crate) const PTIME: Duration = Duration::from_millis(20);

/// From the SIP side.
pub(crate) enum PacerCmd {
    /// Stream both labels of call `call` (a `None` destination was refused: nothing sent).
    Start {
        call: u32,
        dests: [Option<SocketAddr>; 2],
    },
    /// No more calls will start: exit once every stream is done.
    Finish,
}

/// A call whose streams have all sent their packets (the SIP side sends BYE).
pub(crate) struct PacerDone {
    pub(crate) call: u32,
    pub(crate) sent: [u64; 2],
}

/// What the pacer did over the run.
pub(crate) struct PacerStats {
    pub(crate) packets: u64,
    pub(crate) syscalls: u64,
    pub(crate) send_errors: u64,
    /// How late packets left relative to their schedule, in microseconds.
    pub(crate) lateness_us: Histogram<u64>,
    pub(crate) max_streams: usize,
}

struct Stream {
    call: u32,
    role: usize,
    sock: usize,
    dest: SockaddrStorage,
    /// Header with SSRC and payload type; sequence and timestamp are written per packet.
    header: [u8; 12],
    seq0: u16,
    ts0: u32,
    /// Next packet index and its due time.
    n: u64,
    due: Instant,
    sent: u64,
}

#[derive(Default)]
struct CallAcc {
    streams_left: u8,
    sent: [u64; 2],
}

/// Everything the thread owns.
pub(crate) struct Pacer {
    pub(crate) sockets: Vec<UdpSocket>,
    pub(crate) tones: Tones,
    /// Packets per stream.
    pub(crate) packets: u64,
    /// An empty histogram for send lateness.
    pub(crate) lateness_us: Histogram<u64>,
}

impl Pacer {
    /// Start the thread. `wake` is called after a tick that finished calls.
    pub(crate) fn spawn(
        self,
        cmds: mpsc::Receiver<PacerCmd>,
        done: mpsc::Sender<PacerDone>,
        wake: Arc<dyn Fn() + Send + Sync>,
    ) -> std::io::Result<std::thread::JoinHandle<PacerStats>> {
        std::thread::Builder::new()
            .name("tapline-load-rtp".into())
            .spawn(move || self.run(&cmds, &done, &*wake))
    }

    fn run(
        self,
        cmds: &mpsc::Receiver<PacerCmd>,
        done: &mpsc::Sender<PacerDone>,
        wake: &(dyn Fn() + Send + Sync),
    ) -> PacerStats {
        let Pacer {
            sockets,
            tones,
            packets,
            lateness_us,
        } = self;
        let mut stats = PacerStats {
            packets: 0,
            syscalls: 0,
            send_errors: 0,
            lateness_us,
            max_streams: 0,
        };
        let mut wheel = Wheel::new(Instant::now(), Duration::from_millis(1), 20);
        let mut slab = Slab::default();
        let mut calls: Vec<CallAcc> = Vec::new();
        let mut batches: Vec<Batch> = sockets.iter().map(|_| Batch::new()).collect();
        let mut due: Vec<u32> = Vec::new();
        let mut credits: Vec<u32> = Vec::new();
        let mut finishing = false;
        let mut rng = fastrand::Rng::new();
        loop {
            // Commands first, so a call answered during the last tick starts now.
            loop {
                match cmds.try_recv() {
                    Ok(PacerCmd::Start { call, dests }) => {
                        let now = Instant::now();
                        let idx = call as usize;
                        if calls.len() <= idx {
                            calls.resize_with(idx.saturating_add(1), CallAcc::default);
                        }
                        let mut n_streams = 0u8;
                        if packets > 0 {
                            for (role, dest) in dests.iter().enumerate() {
                                let Some(dest) = dest else { continue };
                                let sock = (idx * 2 + role) % sockets.len().max(1);
                                let s =
                                    Stream::new(&mut rng, call, role, sock, *dest, now, tones.pt);
                                wheel.insert(slab.insert(s), now);
                                n_streams += 1;
                            }
                        }
                        if let Some(c) = calls.get_mut(idx) {
                            c.streams_left = n_streams;
                        }
                        if n_streams == 0 {
                            let _ = done.send(PacerDone { call, sent: [0; 2] });
                            wake();
                        }
                        stats.max_streams = stats.max_streams.max(slab.live);
                    }
                    Ok(PacerCmd::Finish) | Err(mpsc::TryRecvError::Disconnected) => {
                        finishing = true;
                        break;
                    }
                    Err(mpsc::TryRecvError::Empty) => break,
                }
            }
            if finishing && wheel.len() == 0 {
                break;
            }
            let now = Instant::now();
            due.clear();
            wheel.advance(now, &mut due);
            for &id in &due {
                let Some(s) = slab.get_mut(id) else { continue };
                let Some(batch) = batches.get_mut(s.sock) else {
                    continue;
                };
                // Every packet whose time has come (more than one only if the thread was late).
                while s.due <= now && s.n < packets {
                    let late = now.saturating_duration_since(s.due).as_micros();
                    let _ = stats
                        .lateness_us
                        .record(u64::try_from(late).unwrap_or(u64::MAX).max(1));
                    if batch.is_full() {
                        if let Some(sock) = sockets.get(s.sock) {
                            let o = batch.flush(sock, &tones, |owner| credits.push(owner));
                            stats.syscalls += o.syscalls;
                            stats.send_errors += o.errors;
                        }
                    }
                    batch.push(id, s.header_for(s.n), (s.role, s.n), s.dest);
                    s.n += 1;
                    s.due += PTIME;
                }
                if s.n < packets {
                    wheel.insert(id, s.due);
                }
            }
            for (batch, sock) in batches.iter_mut().zip(&sockets) {
                let o = batch.flush(sock, &tones, |owner| credits.push(owner));
                stats.syscalls += o.syscalls;
                stats.send_errors += o.errors;
            }
            for owner in credits.drain(..) {
                if let Some(s) = slab.get_mut(owner) {
                    s.sent += 1;
                    stats.packets += 1;
                }
            }
            // Streams whose last packet was queued (and so flushed above) are done.
            let mut finished_any = false;
            for &id in &due {
                if slab.get_mut(id).is_none_or(|s| s.n < packets) {
                    continue;
                }
                let Some(s) = slab.remove(id) else { continue };
                let Some(c) = calls.get_mut(s.call as usize) else {
                    continue;
                };
                if let Some(slot) = c.sent.get_mut(s.role) {
                    *slot = s.sent;
                }
                c.streams_left = c.streams_left.saturating_sub(1);
                if c.streams_left == 0 {
                    let _ = done.send(PacerDone {
                        call: s.call,
                        sent: c.sent,
                    });
                    finished_any = true;
                }
            }
            if finished_any {
                wake();
            }
            // Sleep to the next tick; commands arriving meanwhile wait at most 1 ms.
            let next = wheel.next_tick();
            let now = Instant::now();
            if next > now {
                std::thread::sleep(next - now);
            }
        }
        stats
    }
}

impl Stream {
    fn new(
        rng: &mut fastrand::Rng,
        call: u32,
        role: usize,
        sock: usize,
        dest: SocketAddr,
        now: Instant,
        pt: u8,
    ) -> Stream {
        let ssrc = rng.u32(..);
        let mut header = [0u8; 12];
        header[0] = 0x80; // RTP version 2, no padding, extension or CSRC (RFC 3550 5.1)
        header[1] = pt & 0x7F;
        header[8..12].copy_from_slice(&ssrc.to_be_bytes());
        Stream {
            call,
            role,
            sock,
            dest: SockaddrStorage::from(dest),
            header,
            seq0: rng.u16(..),
            ts0: rng.u32(..),
            n: 0,
            due: now,
            sent: 0,
        }
    }

    /// The header of packet `n`: marker on the first packet of the talkspurt (RFC 3551 4.1),
    /// sequence and timestamp advancing from random bases (RFC 3550 5.1), both wrapping.
    fn header_for(&self, n: u64) -> [u8; 12] {
        let mut h = self.header;
        if n == 0 {
            h[1] |= 0x80;
        }
        let seq = self.seq0.wrapping_add(n as u16);
        let ts = self
            .ts0
            .wrapping_add((n as u32).wrapping_mul(FRAME_SAMPLES as u32));
        h[2..4].copy_from_slice(&seq.to_be_bytes());
        h[4..8].copy_from_slice(&ts.to_be_bytes());
        h
    }
}

/// Streams by id, ids reused after removal.
#[derive(Default)]
struct Slab {
    items: Vec<Option<Stream>>,
    free: Vec<u32>,
    live: usize,
}

impl Slab {
    fn insert(&mut self, s: Stream) -> u32 {
        self.live += 1;
        if let Some(id) = self.free.pop() {
            if let Some(slot) = self.items.get_mut(id as usize) {
                *slot = Some(s);
                return id;
            }
        }
        self.items.push(Some(s));
        u32::try_from(self.items.len().saturating_sub(1)).unwrap_or(u32::MAX)
    }

    fn get_mut(&mut self, id: u32) -> Option<&mut Stream> {
        self.items.get_mut(id as usize).and_then(Option::as_mut)
    }

    fn remove(&mut self, id: u32) -> Option<Stream> {
        let s = self.items.get_mut(id as usize).and_then(Option::take)?;
        self.free.push(id);
        self.live = self.live.saturating_sub(1);
        Some(s)
    }
}

#[cfg(test)]
#[path = "pacer_tests.rs"]
mod tests;
