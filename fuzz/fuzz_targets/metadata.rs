//! RFC 7865 metadata: parse, resolve, write. Checks: `to_xml` output re-parses, and a
//! second write of the re-parsed model is identical (the writer normalises once).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tapline_metadata::{parse, parse_request_snapshot, resolve, to_xml};

fuzz_target!(|data: &[u8]| {
    let _ = parse_request_snapshot(data);
    let Ok(parsed) = parse(data) else { return };
    let _ = resolve(&parsed.metadata);
    let xml = to_xml(&parsed.metadata);
    let again = match parse(xml.as_bytes()) {
        Ok(p) => p,
        Err(e) => panic!("to_xml output does not re-parse: {e}\n{xml}"),
    };
    let _ = resolve(&again.metadata);
    let xml2 = to_xml(&again.metadata);
    assert_eq!(xml, xml2, "to_xml not stable across a parse round trip");
});
