//! SIP wire format: strict and lenient parse; every accepted message must survive
//! `to_bytes` -> parse (same mode) and serialise identically the second time.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tapline_sip::Message;

fn check(data: &[u8], lenient: bool) {
    let parse = |b: &[u8]| {
        if lenient {
            Message::parse_lenient(b)
        } else {
            Message::parse(b)
        }
    };
    let Ok(msg) = parse(data) else { return };
    // Exercise the typed accessors too: they parse header values lazily.
    let h = msg.headers();
    let _ = (h.call_id(), h.cseq(), h.from(), h.to(), h.top_via());
    let bytes = msg.to_bytes();
    let again = match parse(&bytes) {
        Ok(m) => m,
        Err(e) => panic!(
            "re-parse of to_bytes failed (lenient={lenient}): {e}\nserialised: {:?}",
            String::from_utf8_lossy(&bytes)
        ),
    };
    let bytes2 = again.to_bytes();
    assert_eq!(
        String::from_utf8_lossy(&bytes),
        String::from_utf8_lossy(&bytes2),
        "to_bytes not stable across a round trip (lenient={lenient})"
    );
}

fuzz_target!(|data: &[u8]| {
    check(data, false);
    check(data, true);
});
