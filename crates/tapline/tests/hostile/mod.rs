//! One file per kind of hostile input (see `hostile_e2e.rs`).

mod metadata;
mod sip_input;
