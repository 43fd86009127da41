//! One file per kind of hostile input (see `hostile_e2e.rs`).

mod media_timeout;
mod metadata;
mod ports;
mod rtp_source;
mod sip_input;
mod streams;
mod tcp;
mod util;
