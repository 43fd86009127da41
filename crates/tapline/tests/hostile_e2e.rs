//! Hostile input against the real server on loopback: each module takes one kind of attack
//! (or accident) and asserts that recording goes on and nothing leaks. The module names follow
//! the numbered items of the hostile-input issue; the README's "Hostile input" section lists
//! what each one shows.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod hostile;
