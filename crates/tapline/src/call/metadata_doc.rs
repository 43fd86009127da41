//! The RFC 7865 complete snapshot the simulator sends: one group, one session, the caller and
//! the callee, two streams, and who sends and receives what (RFC 7865 section 8.1 layout).

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A base64-encoded 16-byte id (RFC 7865 6.10) drawn from `rng` (reproducible runs pass a
/// seeded one).
pub(crate) fn new_id_from(rng: &mut fastrand::Rng) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bytes = [0u8; 16];
    for b in &mut bytes {
        *b = rng.u8(..);
    }
    let mut out = String::with_capacity(24);
    for chunk in bytes.chunks(3) {
        let b0 = u32::from(chunk.first().copied().unwrap_or(0));
        let b1 = u32::from(chunk.get(1).copied().unwrap_or(0));
        let b2 = u32::from(chunk.get(2).copied().unwrap_or(0));
        let n = (b0 << 16) | (b1 << 8) | b2;
        for i in 0..4 {
            if i <= chunk.len() {
                let idx = ((n >> (18 - 6 * i)) & 63) as usize;
                out.push(ALPHABET.get(idx).copied().map(char::from).unwrap_or('A'));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// The snapshot for a two-party call; `labels` are the caller's and the callee's stream labels.
pub(crate) fn two_party(
    caller: &str,
    callee: &str,
    labels: (&str, &str),
    cs_call_id: &str,
) -> String {
    two_party_with(
        &mut fastrand::Rng::new(),
        caller,
        callee,
        labels,
        cs_call_id,
    )
}

/// [`two_party`] with ids drawn from `rng`.
pub(crate) fn two_party_with(
    rng: &mut fastrand::Rng,
    caller: &str,
    callee: &str,
    labels: (&str, &str),
    cs_call_id: &str,
) -> String {
    let now = OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into());
    let mut id = || new_id_from(rng);
    let (group, session, p1, p2, s1, s2) = (id(), id(), id(), id(), id(), id());
    let (caller, callee) = (escape(caller), escape(callee));
    let (l1, l2) = (escape(labels.0), escape(labels.1));
    let cs = escape(cs_call_id);
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<recording xmlns="urn:ietf:params:xml:ns:recording:1">
  <datamode>complete</datamode>
  <group group_id="{group}">
    <associate-time>{now}</associate-time>
  </group>
  <session session_id="{session}">
    <group-ref>{group}</group-ref>
    <sipSessionID>{cs}</sipSessionID>
    <start-time>{now}</start-time>
  </session>
  <participant participant_id="{p1}">
    <nameID aor="{caller}">
      <name>Caller</name>
    </nameID>
  </participant>
  <participant participant_id="{p2}">
    <nameID aor="{callee}">
      <name>Callee</name>
    </nameID>
  </participant>
  <stream stream_id="{s1}" session_id="{session}">
    <label>{l1}</label>
  </stream>
  <stream stream_id="{s2}" session_id="{session}">
    <label>{l2}</label>
  </stream>
  <sessionrecordingassoc session_id="{session}">
    <associate-time>{now}</associate-time>
  </sessionrecordingassoc>
  <participantsessionassoc participant_id="{p1}" session_id="{session}">
    <associate-time>{now}</associate-time>
  </participantsessionassoc>
  <participantsessionassoc participant_id="{p2}" session_id="{session}">
    <associate-time>{now}</associate-time>
  </participantsessionassoc>
  <participantstreamassoc participant_id="{p1}">
    <send>{s1}</send>
    <recv>{s2}</recv>
  </participantstreamassoc>
  <participantstreamassoc participant_id="{p2}">
    <send>{s2}</send>
    <recv>{s1}</recv>
  </participantstreamassoc>
</recording>
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_24_char_base64() {
        let id = new_id_from(&mut fastrand::Rng::new());
        assert_eq!(id.len(), 24);
        assert!(id.ends_with("=="));
    }

    #[test]
    fn snapshot_parses_and_names_who_sends_what() {
        let xml = two_party(
            "sip:alice@example.com",
            "sip:bob@example.com",
            ("1", "2"),
            "cs@host",
        );
        let parsed = tapline_metadata::parse(xml.as_bytes()).unwrap();
        let r = tapline_metadata::resolve(&parsed.metadata);
        let alice = r
            .participants
            .iter()
            .find(|p| p.aor.as_deref() == Some("sip:alice@example.com"))
            .unwrap();
        assert_eq!(alice.sends, vec!["1".to_owned()]);
        assert_eq!(alice.receives, vec!["2".to_owned()]);
        assert_eq!(alice.role, Some(tapline_metadata::Role::Caller));
        let bob = r
            .participants
            .iter()
            .find(|p| p.aor.as_deref() == Some("sip:bob@example.com"))
            .unwrap();
        assert_eq!(bob.sends, vec!["2".to_owned()]);
        assert_eq!(bob.role, Some(tapline_metadata::Role::Callee));
    }
}
