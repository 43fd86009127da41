//! TCP: the accept loop (connection caps) and one task per connection that frames what it
//! reads (RFC 3261 18.3), answers keep-alives (RFC 5626 4.4.1), enforces the idle and
//! message timeouts, and answers a message refused for its size with 513.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tapline_sip::{FramingError, Peer, StreamFramer, Transport, too_large_response};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::clock::{ConnClock, Expiry};
use super::limits::{Admission, Admitted, LogThrottle, TcpLimits};
use super::outbox::{Outbox, Overflow};
use super::{ConnHandle, Inbound};

/// How often a flood of refused connections is logged.
const REFUSAL_LOG_EVERY: Duration = Duration::from_secs(10);
/// After a 513: time for the answer to leave, then for the rest of the peer's message to be
/// read and dropped (closing with unread bytes would reset the connection, and the peer
/// could lose the 513).
const FLUSH_WAIT: Duration = Duration::from_secs(2);
const LINGER: Duration = Duration::from_secs(1);
const LINGER_BYTES: usize = 4 * 1024 * 1024;

pub(super) async fn accept_loop(
    listener: TcpListener,
    inbound: mpsc::Sender<Inbound>,
    limits: TcpLimits,
) {
    let table = Arc::new(Mutex::new(Admission::new(
        limits.max_connections,
        limits.max_per_source,
    )));
    let mut throttle = LogThrottle::new(REFUSAL_LOG_EVERY);
    let mut failures = LogThrottle::new(REFUSAL_LOG_EVERY);
    let mut next_conn: u64 = 1;
    loop {
        match listener.accept().await {
            Ok((stream, from)) => match Admitted::try_new(&table, from.ip()) {
                Ok(admitted) => {
                    let ctx = ConnCtx {
                        conn: next_conn,
                        from,
                        limits,
                        inbound: inbound.clone(),
                    };
                    next_conn += 1;
                    tokio::spawn(ctx.run(stream, admitted));
                }
                Err(why) => {
                    drop(stream);
                    if let Some(more) = throttle.hit(Instant::now()) {
                        tracing::warn!(from = %from, reason = %why, refused_since_last_line = more, "TCP connection refused");
                    }
                }
            },
            Err(e) => {
                // Out of file descriptors, typically: retried every 50 ms, logged less often.
                if let Some(more) = failures.hit(Instant::now()) {
                    tracing::warn!(error = %e, failed_since_last_line = more, "TCP accept failed");
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// How a connection's read loop ended.
enum End {
    PeerClosed,
    CoreGone,
    Expired(Expiry),
    Overflow(Overflow),
    BadFraming(FramingError),
    /// Refused for its size: the header bytes that arrived, to answer 513.
    TooLarge(FramingError, Vec<u8>),
}

struct ConnCtx {
    conn: u64,
    from: SocketAddr,
    limits: TcpLimits,
    inbound: mpsc::Sender<Inbound>,
}

impl ConnCtx {
    /// The whole life of one connection; `_admitted` holds its place in the caps.
    async fn run(self, stream: TcpStream, _admitted: Admitted) {
        let Ok(local) = stream.local_addr() else {
            return;
        };
        let (mut reader, writer) = stream.into_split();
        let outbox = Arc::new(Outbox::new(self.limits.max_send_buffer));
        let (holds_tx, mut holds) = watch::channel(0usize);
        let handle = ConnHandle {
            outbox: outbox.clone(),
            holds: holds_tx,
        };
        let connected = Inbound::Connected {
            conn: self.conn,
            tx: handle,
        };
        if self.inbound.send(connected).await.is_err() {
            return;
        }
        let mut write_task = tokio::spawn(write_loop(writer, outbox.clone()));
        let end = self
            .read_loop(&mut reader, local, &outbox, &mut holds)
            .await;
        self.finish(end, &mut reader, &outbox, &mut write_task)
            .await;
        let _ = self.inbound.send(Inbound::Closed { conn: self.conn }).await;
    }

    async fn read_loop(
        &self,
        reader: &mut OwnedReadHalf,
        local: SocketAddr,
        outbox: &Outbox,
        holds: &mut watch::Receiver<usize>,
    ) -> End {
        let mut framer = StreamFramer::new();
        let mut clock = ConnClock::new(self.limits.idle, self.limits.message, Instant::now());
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let deadline = clock.deadline(*holds.borrow() > 0);
            let expiry = async move {
                match deadline {
                    Some((at, why)) => {
                        tokio::time::sleep_until(at.into()).await;
                        why
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                read = reader.read(&mut buf) => {
                    let n = match read {
                        Ok(0) | Err(_) => return End::PeerClosed,
                        Ok(n) => n,
                    };
                    framer.push(buf.get(..n).unwrap_or_default());
                    if let Some(end) = self.frame(&mut framer, &mut clock, local, outbox).await {
                        return end;
                    }
                }
                why = expiry => return End::Expired(why),
                changed = holds.changed() => match changed {
                    Ok(()) => clock.activity(Instant::now()),
                    Err(_) => return End::CoreGone,
                },
                overflow = outbox.overflow() => return End::Overflow(overflow),
            }
        }
    }

    /// Hand every complete message to the core and answer keep-alives.
    async fn frame(
        &self,
        framer: &mut StreamFramer,
        clock: &mut ConnClock,
        local: SocketAddr,
        outbox: &Outbox,
    ) -> Option<End> {
        let peer = Peer {
            transport: Transport::Tcp,
            addr: self.from,
            conn: self.conn,
        };
        while let Some(framed) = framer.next_message() {
            match framed {
                Ok(bytes) => {
                    clock.message(Instant::now());
                    let msg = Inbound::Message { peer, local, bytes };
                    if self.inbound.send(msg).await.is_err() {
                        return Some(End::CoreGone);
                    }
                }
                Err(e @ (FramingError::HeadersTooLarge | FramingError::BodyTooLarge(_))) => {
                    return Some(End::TooLarge(e, framer.take_rejected_head()));
                }
                Err(e) => return Some(End::BadFraming(e)),
            }
        }
        // The framer counts pings while it frames, so ask after the loop.
        for _ in 0..framer.take_keepalives() {
            if let Err(o) = outbox.pong() {
                return Some(End::Overflow(o));
            }
        }
        clock.partial(framer.in_progress(), Instant::now());
        None
    }

    /// Log why the connection ends and close it (after a 513, gracefully).
    async fn finish(
        &self,
        end: End,
        reader: &mut OwnedReadHalf,
        outbox: &Outbox,
        write_task: &mut JoinHandle<()>,
    ) {
        let from = self.from;
        let conn = self.conn;
        match end {
            End::PeerClosed | End::CoreGone => {}
            End::Expired(Expiry::Idle) => {
                tracing::info!(%from, conn, idle_secs = self.limits.idle.as_secs(), "closing idle TCP connection (tcp_idle_secs)");
            }
            End::Expired(Expiry::SlowMessage) => {
                tracing::warn!(%from, conn, timeout_secs = self.limits.message.as_secs(), "closing TCP connection: message incomplete too long (tcp_message_timeout_secs)");
            }
            End::Overflow(o) => {
                tracing::warn!(%from, conn, error = %o, "closing TCP connection: peer does not read (tcp_max_send_buffer_bytes)");
            }
            End::BadFraming(e) => {
                tracing::warn!(%from, conn, error = %e, "closing TCP connection: bad framing");
            }
            End::TooLarge(e, head) => {
                let answer = too_large_response(&head, &e, &super::super::core::new_tag());
                tracing::warn!(%from, conn, error = %e, answered_513 = answer.is_some(), "closing TCP connection: message too large");
                if let Some(bytes) = answer {
                    let _ = outbox.push(bytes);
                }
                outbox.close();
                if tokio::time::timeout(FLUSH_WAIT, &mut *write_task)
                    .await
                    .is_ok()
                {
                    linger(reader).await;
                }
            }
        }
        write_task.abort();
    }
}

/// Write what the outbox gives until it closes or fails, then half-close.
async fn write_loop(mut writer: OwnedWriteHalf, outbox: Arc<Outbox>) {
    while let Some(bytes) = outbox.next().await {
        if writer.write_all(&bytes).await.is_err() {
            return;
        }
    }
    let _ = writer.shutdown().await;
}

/// Read and drop what the peer still sends, briefly, so that closing does not reset the
/// connection under the answer just sent.
async fn linger(reader: &mut OwnedReadHalf) {
    let mut buf = vec![0u8; 16 * 1024];
    let mut left = LINGER_BYTES;
    let drain = async {
        while left > 0 {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    };
    let _ = tokio::time::timeout(LINGER, drain).await;
}
