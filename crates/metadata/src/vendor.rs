//! Call facts that SRCs put in extension elements (RFC 7865 §9 `xs:any`,
//! REQUIREMENTS E-06) and the `sipSessionID`s, gathered for search and for
//! correlating recordings of one call (A-37: group id, Session-ID, vendor call
//! ids). Nothing here is standard; each field names where it may come from.

use crate::model::{Extension, Metadata};
use crate::roles::{all_extensions, source};

/// Vendor facts about the recorded call. The first source found wins.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VendorFields {
    /// Calling party address / number: Oracle `apkt:callingParty=true` participant's
    /// AOR, NetSapiens `callingParty/nameID@aor`, Ribbon `callData/fromhdr`,
    /// BroadWorks / Metaswitch `callingPartyNumber`, Oracle `apkt:header label=From`.
    pub calling_party: Option<String>,
    /// Called party: Oracle `callingParty=false` participant, NetSapiens
    /// `calledParty`, Ribbon `tohdr`, `calledPartyNumber`, Metaswitch `dialedDigits`.
    pub called_party: Option<String>,
    /// Participant id of the caller (Oracle apkt, NetSapiens `callingParty@participant_id`).
    pub calling_participant: Option<String>,
    /// Participant id of the callee.
    pub called_participant: Option<String>,
    /// Universal call id (Oracle / Avaya `ucid`).
    pub ucid: Option<String>,
    /// SIP Call-ID of the communication session (Ribbon `callData/callid`,
    /// Oracle `apkt:header label=Call-ID`).
    pub cs_call_id: Option<String>,
    /// Vendor-internal call id (BroadWorks `callID`, e.g. `callhalf-…:0`).
    pub vendor_call_id: Option<String>,
    /// Ribbon/Sonus global call id (`gcid`).
    pub gcid: Option<String>,
    /// NetSapiens `groupSeq`: increments when a transfer re-creates the RS.
    pub group_seq: Option<u64>,
    /// BroadWorks `extTrackingID`.
    pub tracking_id: Option<String>,
    /// The recorded user (Metaswitch `recordedParty`, BroadWorks `userID`).
    pub recorded_party: Option<String>,
    /// Call direction as the vendor says it (Metaswitch `callType`,
    /// BroadWorks `callType/<origCall|termCall>`).
    pub call_type: Option<String>,
    /// Every `sipSessionID` of every session (Cisco, RFC 8068), in document order.
    pub sip_session_ids: Vec<String>,
    /// Group ids (declared groups and session `group-ref`s), in document order.
    pub group_ids: Vec<String>,
    /// Which sources contributed ("extension:apkt", "extension:callData", "sipSessionID", ...).
    pub sources: Vec<String>,
}

/// Gathers [`VendorFields`] from a document (or a merged state's `current()`).
pub fn vendor_fields(m: &Metadata) -> VendorFields {
    let mut v = VendorFields::default();
    oracle_participants(m, &mut v);
    for e in all_extensions(m) {
        extension(e, &mut v);
    }
    for s in &m.sessions {
        for id in &s.sip_session_ids {
            if !id.is_empty() && !v.sip_session_ids.contains(id) {
                v.sip_session_ids.push(id.clone());
                note(&mut v, "sipSessionID");
            }
        }
    }
    let group_ids = m
        .groups
        .iter()
        .map(|g| &g.id)
        .chain(m.sessions.iter().filter_map(|s| s.group_ref.as_ref()));
    for g in group_ids {
        if !g.is_empty() && !v.group_ids.contains(g) {
            v.group_ids.push(g.clone());
        }
    }
    v
}

/// Oracle/Acme: `<extensiondata><apkt:callingParty>true|false` inside a participant.
fn oracle_participants(m: &Metadata, v: &mut VendorFields) {
    for p in &m.participants {
        let flag = p
            .extensions
            .iter()
            .flat_map(|e| e.values_ending_with("callingParty"))
            .find_map(|x| match x.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Some(true),
                "false" | "0" | "no" => Some(false),
                _ => None,
            });
        let Some(caller) = flag else { continue };
        let aor = p
            .name_ids
            .iter()
            .find(|n| !n.aor.is_empty())
            .map(|n| n.aor.clone());
        let (party, id) = if caller {
            (&mut v.calling_party, &mut v.calling_participant)
        } else {
            (&mut v.called_party, &mut v.called_participant)
        };
        fill(id, &p.id);
        if let Some(a) = aor {
            fill(party, &a);
        }
        note(v, "extension:apkt");
    }
}

fn extension(e: &Extension, v: &mut VendorFields) {
    let mut header_label: Option<String> = None;
    for (path, val) in &e.fields {
        let src = src_of(e, path);
        let vendor = src.trim_start_matches("extension:").to_ascii_lowercase();
        let segs: Vec<String> = path.split('/').map(str::to_ascii_lowercase).collect();
        let last = segs.last().map(String::as_str).unwrap_or_default();
        let parent = segs
            .len()
            .checked_sub(2)
            .and_then(|i| segs.get(i))
            .map(String::as_str)
            .unwrap_or_default();
        // Oracle `<apkt:header label="Call-ID">value</apkt:header>`: the label
        // attribute is flattened right before the element's text.
        if last == "@label" && parent == "header" {
            header_label = Some(val.to_ascii_lowercase());
            continue;
        }
        let label = header_label.take();
        let slot: Option<&mut Option<String>> = match (last, parent) {
            ("header", _) => match label.as_deref() {
                Some("call-id") => Some(&mut v.cs_call_id),
                Some("from") => Some(&mut v.calling_party),
                Some("to") => Some(&mut v.called_party),
                _ => None,
            },
            ("@participantid" | "@participant_id", "callingparty") => {
                Some(&mut v.calling_participant)
            }
            ("@participantid" | "@participant_id", "calledparty") => {
                Some(&mut v.called_participant)
            }
            ("@aor", "nameid") if segs.iter().any(|s| s == "callingparty") => {
                Some(&mut v.calling_party)
            }
            ("@aor", "nameid") if segs.iter().any(|s| s == "calledparty") => {
                Some(&mut v.called_party)
            }
            ("fromhdr" | "callingpartynumber", _) => Some(&mut v.calling_party),
            ("tohdr" | "calledpartynumber" | "dialeddigits", _) => Some(&mut v.called_party),
            ("ucid", _) => Some(&mut v.ucid),
            ("callid", _) if vendor.starts_with("broadworks") => Some(&mut v.vendor_call_id),
            ("callid", _) => Some(&mut v.cs_call_id),
            ("gcid", _) => Some(&mut v.gcid),
            ("exttrackingid", _) => Some(&mut v.tracking_id),
            ("recordedparty", _) => Some(&mut v.recorded_party),
            ("userid", _) if vendor.starts_with("broadworks") => Some(&mut v.recorded_party),
            ("calltype", "metaswitchrecordingmetadata") => Some(&mut v.call_type),
            ("groupseq", _) => {
                if v.group_seq.is_none() {
                    v.group_seq = val.trim().parse().ok();
                    if v.group_seq.is_some() {
                        note(v, &src);
                    }
                }
                None
            }
            _ => None,
        };
        let filled = slot.is_some_and(|s| fill(s, val));
        // BroadWorks: `<callType><termCall>...` names the direction by element.
        let bw_type = segs
            .iter()
            .position(|s| s == "calltype")
            .and_then(|i| path.split('/').nth(i + 1))
            .filter(|_| vendor.starts_with("broadworks"));
        let typed = match bw_type {
            Some(t) => fill(&mut v.call_type, t),
            None => false,
        };
        if filled || typed {
            note(v, &src);
        }
    }
}

/// "extension:<element>"; Oracle's prefixed leaves inside `<extensiondata>`
/// all count as "extension:apkt".
fn src_of(e: &Extension, path: &str) -> String {
    if e.raw.contains("acmepacket.com/siprec") {
        "extension:apkt".to_string()
    } else {
        source(e, path)
    }
}

/// Sets `slot` when it is empty and `val` is not; true when it did.
fn fill(slot: &mut Option<String>, val: &str) -> bool {
    let val = val.trim();
    if slot.is_none() && !val.is_empty() {
        *slot = Some(val.to_string());
        true
    } else {
        false
    }
}

fn note(v: &mut VendorFields, src: &str) {
    if !v.sources.iter().any(|s| s == src) {
        v.sources.push(src.to_string());
    }
}
