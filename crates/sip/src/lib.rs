//! tapline-sip: sans-IO SIP (RFC 3261) message parsing, transactions and dialogs.
//!
//! Nothing here touches sockets, clocks or randomness: the caller feeds bytes and
//! `Instant`s in and sends what comes out.
//!
//! * [`Message::parse`] / [`Message::parse_lenient`] and [`Message::to_bytes`]: wire format.
//! * [`Via`], [`NameAddr`], [`CSeq`], [`SipUri`]: typed header values.
//! * [`StreamFramer`]: cuts a TCP byte stream into messages (RFC 3261 18.3, RFC 5626 pings);
//!   [`too_large_response`] answers what it refused for its size with 513.
//! * [`Endpoint`]: transactions (RFC 3261 17, RFC 6026). Loop: `handle_input` /
//!   `handle_timeout` in, then drain `poll_output`, then sleep until `poll_timeout`.
//! * [`Dialog`]: dialog state and in-dialog request building (RFC 3261 12).

mod cseq;
mod ctl;
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
mod too_large;
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
pub use too_large::too_large_response;
pub use transaction::{
    ClientTxId, Endpoint, EndpointConfig, EndpointError, Event, Output, ServerTxId,
};
pub use uri::SipUri;
pub use via::Via;
