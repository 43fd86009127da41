//! One file per kind of hostile input (see `hostile_e2e.rs`).

mod media_timeout;
mod ports;
mod rtp_source;
mod streams;
mod tcp;
mod util;
