//! One recording session (RFC 7866 RS) as the core sees it: the SIP dialog, the streams being
//! received and where the recording goes.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

use tapline_sip::{Dialog, Peer, Request, ServerTxId};

use super::media_engine::StreamKey;

/// Where the session is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// The INVITE is accepted; the catalogue row and files are being created.
    Preparing,
    /// 200 OK sent, waiting for the ACK.
    Answered,
    /// ACK received: media flows until BYE.
    Confirmed,
    /// Being finalized; requests other than retransmissions get 481.
    Ending,
}

/// A stream of the recording (one offered m-line).
#[derive(Debug, Clone)]
pub(crate) struct SessionStream {
    pub(crate) label: String,
    pub(crate) rtp_port: Option<u16>,
    pub(crate) key: StreamKey,
    pub(crate) file: Option<PathBuf>,
}

/// A recording session.
pub(crate) struct Session {
    pub(crate) recording_id: String,
    pub(crate) dialog: Dialog,
    pub(crate) peer: Peer,
    pub(crate) local: SocketAddr,
    pub(crate) invite_tx: ServerTxId,
    /// The initial INVITE (for answers sent later: 487, 200).
    pub(crate) invite: Request,
    pub(crate) phase: Phase,
    pub(crate) cancelled: bool,
    pub(crate) streams: Vec<SessionStream>,
    /// Our current SDP answer, re-sent for refreshing re-INVITEs and UPDATEs.
    pub(crate) answer_sdp: Vec<u8>,
    pub(crate) started: Instant,
    pub(crate) span: tracing::Span,
}
