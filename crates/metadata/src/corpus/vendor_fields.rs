//! `vendor_fields` over the vendor captures (INDEX.md §3.2) and Cisco's
//! `sipSessionID`.

use super::*;
use crate::{MetadataState, VendorFields, vendor_fields};

fn fields(rel: &str) -> VendorFields {
    vendor_fields(&load(rel).0.metadata)
}

fn s(x: &str) -> Option<String> {
    Some(x.to_string())
}

#[test]
fn oracle_apkt_calling_party_flags() {
    let v = fields("vendor/vendor-oracle-acme-multipart-body.txt");
    assert_eq!(v.calling_party, s("sip:9000@192.168.50.102"));
    assert_eq!(v.called_party, s("sip:1002@192.168.50.10"));
    assert_eq!(v.calling_participant, s("fSD3PFErSjNTHLDiXCELjw=="));
    assert_eq!(v.called_participant, s("EbccNyypRlFYXTm4iw8hxw=="));
    assert_eq!(v.sources, ["extension:apkt"]);
}

#[test]
fn oracle_apkt_ucid_and_headers() {
    let x = "<recording xmlns='urn:ietf:params:xml:ns:recording'><session id='s'>\
             <extensiondata xmlns:apkt='http://acmepacket.com/siprec/extensiondata'>\
             <apkt:ucid>00FA080018803B69810C4D;encoding=hex</apkt:ucid>\
             <apkt:header label='P-Asserted-Identity'>sip:pai@h</apkt:header>\
             <apkt:header label='Call-ID'> abc@h </apkt:header></extensiondata></session></recording>";
    let v = vendor_fields(&parse(x.as_bytes()).unwrap().metadata);
    assert_eq!(v.ucid, s("00FA080018803B69810C4D;encoding=hex"));
    assert_eq!(v.cs_call_id, s("abc@h"), "label pairs with its own header");
    assert_eq!(v.calling_party, None);
    assert_eq!(v.sources, ["extension:apkt"]);
}

#[test]
fn ribbon_call_data() {
    let v = fields("vendor/vendor-ribbon-sonus-multipart-body.txt");
    assert_eq!(
        v.calling_party,
        s("\"Extension 8500\" <sip:2249888500@172.16.198.55>;tag=SerryvK5ej0jc")
    );
    assert_eq!(
        v.called_party,
        s("<sip:2249888012@172.16.195.72>;tag=gK00801b2d")
    );
    assert_eq!(v.cs_call_id, s("2da553f7-a48b-1235-d6a2-5254003a4988"));
    assert_eq!(v.gcid, s("241205267"));
    assert_eq!(v.group_ids, ["MTQ3YzA3YzAtNjdkNy0xMA=="]);
    assert_eq!(v.sources, ["extension:callData"]);
}

#[test]
fn broadworks_recording_metadata() {
    let v = fields("vendor/vendor-broadworks-invite.sipp.txt");
    assert_eq!(
        v.calling_party,
        s("sip:+19015783200@broadcore.com;user=phone")
    );
    assert_eq!(v.called_party, s("sip:+18638254725@broadcore.com"));
    // BroadWorks' callID is its own call-half id, not the SIP Call-ID.
    assert_eq!(v.vendor_call_id, s("callhalf-[call_id]:0"));
    assert_eq!(v.cs_call_id, None);
    assert_eq!(v.tracking_id, s("tracking-id-[call_id]"));
    assert_eq!(v.recorded_party, s("8638254725@broadcore.com"));
    assert_eq!(v.call_type, s("termCall"));
    assert_eq!(
        v.group_ids,
        ["urn:uuid:6219893c-d072-43d3-ba6c-8828cf7be472"]
    );
    assert_eq!(v.sources, ["extension:broadWorksRecordingMetadata"]);
}

#[test]
fn metaswitch_recording_metadata() {
    let v = fields("vendor/vendor-metaswitch-invite.sipp.txt");
    assert_eq!(v.calling_party, s("7602922411"));
    assert_eq!(v.called_party, s("17602922410"));
    assert_eq!(v.recorded_party, s("+17602922410"));
    assert_eq!(v.call_type, s("terminating"));
    assert_eq!(v.sources, ["extension:metaswitchRecordingMetadata"]);
}

#[test]
fn netsapiens_extension_and_group_seq_updates() {
    let v = fields("vendor/vendor-netsapiens-xfer-1-initial.xml");
    assert_eq!(v.calling_participant, s("58cc3154ca0bdd2b0efbf9a04139526e"));
    assert_eq!(
        v.called_participant,
        s("20260729201719000629-0018491486ec5db64acd5aca455acfe8")
    );
    assert_eq!(v.calling_party, s("sip:1001@dwang.netsapiens.com"));
    assert_eq!(v.called_party, s("sip:1002@dwang.netsapiens.com"));
    assert_eq!(v.group_seq, Some(0));
    assert_eq!(v.group_ids, ["58cc3154ca0bdd2b0efbf9a04139526e"]);
    assert_eq!(
        v.sip_session_ids,
        [
            "58cc3154ca0bdd2b0efbf9a04139526e;remote=20260729201719000629-0018491486ec5db64acd5aca455acfe8"
        ]
    );
    assert_eq!(v.sources, ["extension:netsapiensExtension", "sipSessionID"]);
    // A partial re-sending the extension replaces it in the merged state.
    let mut st = MetadataState::new();
    st.apply(
        &load("vendor/vendor-netsapiens-xfer-1-initial.xml")
            .0
            .metadata,
        0,
    )
    .unwrap();
    let upd = parse(
        b"<recording xmlns='urn:ietf:params:xml:ns:recording:1'><datamode>partial</datamode>\
          <netsapiensExtension xmlns='http://schema.netsapiens.com/netsapiensSipRec'>\
          <groupSeq>1</groupSeq></netsapiensExtension></recording>",
    )
    .unwrap();
    st.apply(&upd.metadata, 1).unwrap();
    assert_eq!(st.current().extensions.len(), 1);
    assert_eq!(vendor_fields(st.current()).group_seq, Some(1));
}

#[test]
fn cisco_sip_session_ids_and_no_extensions() {
    let v = fields("vendor/vendor-cisco-cube-multipart-body.txt");
    assert_eq!(
        v.sip_session_ids,
        ["e9fffff2020a598b86962867715db0cf;remote=cd0f7093d62c5f0697098fd69a4aa57b"]
    );
    assert_eq!(v.sources, ["sipSessionID"]);
    assert_eq!(v.calling_party, None);
    // RFC examples: sipSessionIDs of every session, no vendor facts.
    let v = fields("rfc/rfc8068-3.5-turret-metadata.xml");
    assert_eq!(v.sip_session_ids.len(), 6);
    assert_eq!(v.group_ids, ["7+OTCyoxTmqmqyA/1weDAg=="]);
}
