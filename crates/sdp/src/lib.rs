//! tapline-sdp: SDP model (RFC 4566) and offer/answer planning for a recorder
//! (RFC 3264, RFC 7866 sections 7-8, RFC 4574 labels).
//!
//! Pure: parsing is lenient (vendors send odd SDP) and never panics on input.

mod answer;
mod error;
mod media;
mod model;
mod offer;
mod parse;
mod reoffer;
mod write;

#[cfg(test)]
mod corpus_tests;

pub use answer::{
    CodecPref, RejectReason, StreamDecision, build_answer, plan_answer, plan_answer_preferring,
};
pub use error::SdpError;
pub use media::RtpMap;
pub use model::{Attribute, Connection, Direction, MediaDescription, Origin, SessionDescription};
pub use offer::build_offer;
pub use reoffer::{NegotiatedStream, StreamChange, compare_reoffer, is_paused, negotiated};
