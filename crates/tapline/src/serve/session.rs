//! One recording session (RFC 7866 RS) as the core sees it: the SIP dialog, the streams being
//! received and where the recording goes.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Instant;

use tapline_sdp::NegotiatedStream;
use tapline_sip::{ClientTxId, Dialog, Peer, Request, ServerTxId};

use super::media_engine::StreamKey;
use super::media_plan::MediaPlan;

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

/// A stream of the recording: an accepted m-line. A stream removed (port 0) stays in the list,
/// inactive; a stream added later gets the next index.
#[derive(Debug, Clone)]
pub(crate) struct SessionStream {
    pub(crate) label: String,
    /// m-line index in the offer.
    pub(crate) mline: usize,
    /// Where the offer says the SRC sends from (`c=`), for the RTP source check.
    pub(crate) offered_source: Option<IpAddr>,
    pub(crate) rtp_port: Option<u16>,
    pub(crate) key: StreamKey,
    pub(crate) file: Option<PathBuf>,
    /// Receiving now (not removed).
    pub(crate) active: bool,
    /// The SRC paused it (inactive, recvonly, c=0.0.0.0).
    pub(crate) paused: bool,
    pub(crate) plan: MediaPlan,
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
    /// Stream index feeding each stereo channel (empty when there is no stereo file).
    pub(crate) stereo_streams: Vec<usize>,
    /// Our current SDP answer, re-sent for refreshing re-INVITEs and UPDATEs.
    pub(crate) answer_sdp: Vec<u8>,
    /// Per offered m-line: what was negotiated (for re-offers, RFC 3264 8).
    pub(crate) mlines: Vec<NegotiatedStream>,
    /// Our o= session id and version.
    pub(crate) sdp_session_id: u64,
    pub(crate) sdp_version: u64,
    pub(crate) media_ip: IpAddr,
    /// Merged metadata (complete snapshots and partial updates, RFC 7866 9.2).
    pub(crate) metadata: tapline_metadata::MetadataState,
    /// Caller/callee as first decided per participant id, with how: a role is a property of
    /// the call, so a later update (a hold, where the "first sender" changes) never swaps it.
    pub(crate) roles: std::collections::HashMap<String, (String, Option<String>)>,
    /// RFC 4028 session timer: the session ends unless refreshed before this.
    pub(crate) expires: Option<Instant>,
    pub(crate) session_expires_secs: Option<u32>,
    /// (Call-ID, From tag, CSeq) of the initial INVITE, for merged-request detection.
    pub(crate) origin_key: Option<(String, String, u32)>,
    /// Our own requests in this dialog (BYE, snapshot UPDATE) still in flight.
    pub(crate) client_txs: Vec<tapline_sip::ClientTxId>,
    /// Our pending snapshot request (UPDATE), if any.
    pub(crate) snapshot_tx: Option<ClientTxId>,
    /// The INVITE had no offer: our 200 carried one, the answer comes in the ACK.
    pub(crate) offerless: bool,
    /// The first metadata was partial: ask for a snapshot once answered.
    pub(crate) wants_snapshot: bool,
    pub(crate) started: Instant,
    /// Wall-clock time of the INVITE.
    pub(crate) started_at: time::OffsetDateTime,
    /// Where this recording's files go.
    pub(crate) dir: PathBuf,
    pub(crate) span: tracing::Span,
}
