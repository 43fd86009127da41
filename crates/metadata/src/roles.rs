//! Caller/callee detection. Nothing here is standard (RFC 7865 §6.5.1 leaves
//! roles to extensions; REQUIREMENTS E-53, E-84), so rules go from the most
//! explicit vendor statement to a plain document-order guess, and each result
//! names the rule that decided it.

use crate::model::{Extension, Metadata};
use crate::resolve::{ResolvedParticipant, Role, Warnings};
use crate::xmlutil::fold;

/// Fills `role` / `role_source` on `ps` (same order as [`crate::resolve`] built them).
pub(crate) fn assign(m: &Metadata, ps: &mut [ResolvedParticipant], w: &mut Warnings) {
    // 1. Oracle/Acme: <extensiondata><apkt:callingParty>true|false</..> in the participant.
    for p in &m.participants {
        for v in p
            .extensions
            .iter()
            .flat_map(|e| e.values_ending_with("callingParty"))
        {
            let role = match v.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Role::Caller,
                "false" | "0" | "no" => Role::Callee,
                _ => continue,
            };
            let idx = ps.iter().position(|r| r.id == p.id);
            set(ps, idx, role, "extension:apkt", w);
        }
    }
    let exts = all_extensions(m);
    // 2. Explicit participant references (NetSapiens callingParty/calledParty participant_id).
    for (suffix, role) in [
        ("callingParty/@participant_id", Role::Caller),
        ("calledParty/@participant_id", Role::Callee),
    ] {
        for e in &exts {
            for (path, id) in e.fields_ending_with(suffix) {
                let idx = ps.iter().position(|r| r.id == id);
                set(ps, idx, role, &source(e, path), w);
            }
        }
    }
    // 3. Addresses: Ribbon callData From/To headers, BroadWorks/Metaswitch party numbers.
    let by_address = [
        ("fromhdr", Role::Caller),
        ("tohdr", Role::Callee),
        ("callingPartyNumber", Role::Caller),
        ("calledPartyNumber", Role::Callee),
        ("dialedDigits", Role::Callee),
    ];
    for (suffix, role) in by_address {
        for e in &exts {
            for (path, addr) in e.fields_ending_with(suffix) {
                let idx = ps
                    .iter()
                    .position(|r| r.aor.as_deref().is_some_and(|a| same_address(a, addr)));
                set(ps, idx, role, &source(e, path), w);
            }
        }
    }
    complement(ps);
    // 4. No vendor hint: first participant that sends a stream is the caller, second the callee.
    if ps.iter().all(|p| p.role.is_none()) {
        let senders = ps.iter_mut().filter(|p| !p.sends.is_empty());
        for (p, role) in senders.zip([Role::Caller, Role::Callee]) {
            p.role = Some(role);
            p.role_source = Some("document-order".to_string());
        }
    }
}

/// Every extension in the document, wherever it sits.
pub(crate) fn all_extensions(m: &Metadata) -> Vec<&Extension> {
    let mut v: Vec<&Extension> = m.extensions.iter().collect();
    v.extend(m.groups.iter().flat_map(|g| &g.extensions));
    v.extend(m.sessions.iter().flat_map(|s| &s.extensions));
    v.extend(m.participants.iter().flat_map(|p| &p.extensions));
    v.extend(m.streams.iter().flat_map(|s| &s.extensions));
    v.extend(
        m.participant_session_assocs
            .iter()
            .flat_map(|a| &a.extensions),
    );
    v.extend(
        m.participant_stream_assocs
            .iter()
            .flat_map(|a| &a.extensions),
    );
    v.extend(
        m.session_recording_assocs
            .iter()
            .flat_map(|a| &a.extensions),
    );
    v
}

/// "extension:<element>", looking through the `extensiondata` wrapper.
pub(crate) fn source(e: &Extension, path: &str) -> String {
    let name = if fold(&e.name) == "extensiondata" {
        path.split('/').next().unwrap_or(&e.name)
    } else {
        &e.name
    };
    format!("extension:{name}")
}

/// Sets a role unless the participant has one or another participant holds it.
fn set(
    ps: &mut [ResolvedParticipant],
    idx: Option<usize>,
    role: Role,
    src: &str,
    w: &mut Warnings,
) {
    let Some(idx) = idx else { return };
    let taken_by = ps.iter().position(|p| p.role == Some(role));
    let Some(p) = ps.get_mut(idx) else { return };
    match (p.role, taken_by) {
        (None, None) => {
            p.role = Some(role);
            p.role_source = Some(src.to_string());
        }
        (None, Some(_)) => w.push(format!(
            "{src} also names participant {:?} as {role:?}; ignored",
            p.id
        )),
        (Some(_), _) => {}
    }
}

/// A two-party call where a vendor named only one side: the other sender gets the other role.
fn complement(ps: &mut [ResolvedParticipant]) {
    let decided: Vec<(Role, String)> = ps
        .iter()
        .filter_map(|p| Some((p.role?, p.role_source.clone().unwrap_or_default())))
        .collect();
    let [(role, src)] = decided.as_slice() else {
        return;
    };
    let open: Vec<usize> = (0..ps.len())
        .filter(|&i| {
            ps.get(i)
                .is_some_and(|p| p.role.is_none() && !p.sends.is_empty())
        })
        .collect();
    let [i] = open.as_slice() else { return };
    if let Some(p) = ps.get_mut(*i) {
        p.role = Some(if *role == Role::Caller {
            Role::Callee
        } else {
            Role::Caller
        });
        p.role_source = Some(format!("complement:{src}"));
    }
}

/// Loose address equality for role hints: same user part (scheme, display name,
/// host, port and parameters ignored), or telephone numbers where one ends with the
/// other (`+18638254725` vs `8638254725`).
pub(crate) fn same_address(a: &str, b: &str) -> bool {
    let (ua, ub) = (user_part(a), user_part(b));
    if ua.is_empty() || ub.is_empty() {
        return false;
    }
    if ua.eq_ignore_ascii_case(&ub) {
        return true;
    }
    let (da, db) = (digits(&ua), digits(&ub));
    match (da, db) {
        (Some(x), Some(y)) if x.len() >= 6 && y.len() >= 6 => x.ends_with(&y) || y.ends_with(&x),
        _ => false,
    }
}

fn user_part(s: &str) -> String {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    // `"Name" <sip:u@h>;tag=x` -> `sip:u@h`
    let inner = match (s.find('<'), s.find('>')) {
        (Some(i), Some(j)) if i < j => s.get(i + 1..j).unwrap_or_default(),
        _ => s.as_str(),
    };
    let lower = inner.to_ascii_lowercase();
    let rest = ["sips:", "sip:", "tel:"]
        .iter()
        .find_map(|p| {
            lower
                .starts_with(p)
                .then(|| inner.get(p.len()..).unwrap_or_default())
        })
        .unwrap_or(inner);
    let rest = rest.split([';', '?']).next().unwrap_or_default();
    match rest.split_once('@') {
        Some((u, _)) => u.to_string(),
        // No '@': a bare number or user (Metaswitch AORs), or a host only.
        None => rest.to_string(),
    }
}

/// The digits of a telephone-number-looking user part.
fn digits(u: &str) -> Option<String> {
    let ok = u.chars().all(|c| c.is_ascii_digit() || "+-.()".contains(c));
    ok.then(|| u.chars().filter(char::is_ascii_digit).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_matching() {
        assert!(same_address(
            "2249888500@172.16.198.55",
            "\"Extension 8500\" <sip:2249888500@172.16.198.55>;tag=x"
        ));
        assert!(same_address(
            "sip:8638254725",
            "sip:+18638254725@broadcore.com"
        ));
        assert!(same_address("7602922410", "17602922410"));
        assert!(same_address(
            "sip:+19015783200@broadcore.com;user=phone",
            "sip:+19015783200@broadcore.com;user=phone"
        ));
        assert!(same_address("sip: 7774442212 @10.1.1.1", "tel:7774442212"));
        assert!(!same_address("sip:1001@a", "sip:1002@a"));
        assert!(
            !same_address("sip:12@a", "sip:112@a"),
            "short numbers need an exact match"
        );
        assert!(!same_address("", "sip:@a"));
    }
}

#[cfg(test)]
mod role_tests {
    use crate::{Role, parse, resolve};

    fn roles(xml: &str) -> Vec<(Option<Role>, Option<String>)> {
        let r = resolve(&parse(xml.as_bytes()).unwrap().metadata);
        r.participants
            .into_iter()
            .map(|p| (p.role, p.role_source))
            .collect()
    }

    const STREAMS: &str = "<stream stream_id='x'><label>1</label></stream><stream stream_id='y'><label>2</label></stream>\
        <participantstreamassoc participant_id='a'><send>x</send></participantstreamassoc>\
        <participantstreamassoc participant_id='b'><send>y</send></participantstreamassoc>";

    #[test]
    fn one_sided_hint_is_complemented() {
        let x = format!(
            "<recording><group group_id='g'><cd xmlns='urn:ietf:params:xml:ns:callData'>\
             <tohdr>&lt;sip:+1 555 0100@h&gt;</tohdr></cd></group>\
             <participant participant_id='a'><nameID aor='sip:5550100@h'/></participant>\
             <participant participant_id='b'><nameID aor='sip:5550199@h'/></participant>{STREAMS}</recording>"
        );
        // "+1 555 0100" has spaces: whitespace is dropped before matching.
        let src = "extension:cd".to_string();
        assert_eq!(
            roles(&x),
            [
                (Some(Role::Callee), Some(src.clone())),
                (Some(Role::Caller), Some(format!("complement:{src}")))
            ]
        );
    }

    #[test]
    fn conflicting_hints_keep_the_first() {
        let ext = "<extensiondata xmlns:apkt='http://acmepacket.com/siprec/extensiondata'>\
                   <apkt:callingParty>true</apkt:callingParty></extensiondata>";
        let x = format!(
            "<recording><participant id='a'><nameID aor='sip:a@h'/>{ext}</participant>\
             <participant id='b'><nameID aor='sip:b@h'/>{ext}</participant>{STREAMS}</recording>"
        );
        let apkt = Some("extension:apkt".to_string());
        let r = resolve(&parse(x.as_bytes()).unwrap().metadata);
        assert!(
            r.warnings
                .iter()
                .any(|w| w.0.contains("also names participant \"b\" as Caller"))
        );
        // b had no hint left to take, and the complement only fills a single open sender.
        assert_eq!(
            roles(&x),
            [
                (Some(Role::Caller), apkt),
                (Some(Role::Callee), Some("complement:extension:apkt".into()))
            ]
        );
    }

    #[test]
    fn document_order_counts_only_senders() {
        let x = format!(
            "<recording><participant participant_id='q'><nameID aor='sip:q@h'/></participant>\
             <participant participant_id='a'/><participant participant_id='b'/>{STREAMS}</recording>"
        );
        let d = Some("document-order".to_string());
        assert_eq!(
            roles(&x),
            [
                (None, None),
                (Some(Role::Caller), d.clone()),
                (Some(Role::Callee), d)
            ]
        );
    }
}
