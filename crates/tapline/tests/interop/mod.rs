//! Helpers for the interop end-to-end tests (tests/interop_e2e.rs): third-party daemons,
//! rtpengine's ng protocol, a sipp runner and RTP endpoints.
#![allow(dead_code, unreachable_pub)]

pub mod bencode;
pub mod daemon;
pub mod ng;
pub mod rtp_peer;
pub mod sipp;
