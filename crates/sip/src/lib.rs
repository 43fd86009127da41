//! tapline-sip: sans-IO SIP (RFC 3261) message parsing, transactions and dialogs.
//!
//! Nothing here touches sockets, clocks or randomness: the caller feeds bytes and
//! `Instant`s in and sends what comes out.

mod cseq;
mod dialog;
mod framing;
mod headers;
mod message;
mod method;
mod name_addr;
mod params;
mod parse;
mod peer;
mod response;
mod transaction;
mod uri;
mod via;

pub use cseq::CSeq;
pub use dialog::{Dialog, DialogError, DialogId, DialogReject};
pub use framing::{FramingError, MAX_BODY_BYTES, MAX_HEADER_BYTES, StreamFramer};
pub use headers::{Headers, expand_compact, split_list};
pub use message::{Message, Request, Response};
pub use method::Method;
pub use name_addr::NameAddr;
pub use params::{HeaderError, Param};
pub use parse::ParseError;
pub use peer::{Peer, Transport};
pub use transaction::{
    ClientTxId, Endpoint, EndpointConfig, EndpointError, Event, Output, ServerTxId,
};
pub use uri::SipUri;
pub use via::Via;
