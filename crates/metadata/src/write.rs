//! Writes schema-valid documents: element order of the RFC 7865 §9 XSD,
//! namespace `urn:ietf:params:xml:ns:recording:1`, `<datamode>` spelling
//! (REQUIREMENTS B-15). Old vendor shapes in the model are normalised to RFC
//! associations so what is written always validates.

use std::fmt::Write as _;

use crate::model::{
    DataMode, Extension, Metadata, ParticipantSessionAssoc, ParticipantStreamAssoc,
    SessionRecordingAssoc,
};
use crate::timestamp::Timestamp;
use crate::xmlutil::{NS_RFC, is_recording_ns};

/// Serialises `m` as an RFC 7865 document.
pub fn to_xml(m: &Metadata) -> String {
    let mut w = W(String::with_capacity(2048));
    w.0.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(w.0, "<recording xmlns=\"{NS_RFC}\">");
    let mode = if m.datamode == DataMode::Partial {
        "partial"
    } else {
        "complete"
    };
    w.leaf(1, "datamode", mode);
    for g in &m.groups {
        w.open(1, "group", &[("group_id", &g.id)]);
        w.time(2, "associate-time", &g.associate_time);
        w.time(2, "disassociate-time", &g.disassociate_time);
        w.exts(2, &g.extensions);
        w.close(1, "group");
    }
    for s in &m.sessions {
        w.open(1, "session", &[("session_id", &s.id)]);
        for id in &s.sip_session_ids {
            w.leaf(2, "sipSessionID", id);
        }
        for r in &s.reasons {
            // `cause` is required by the schema; 0 stands for "unknown".
            let cause = r.cause.unwrap_or(0).to_string();
            w.indent(2);
            let _ = write!(
                w.0,
                "<reason cause=\"{cause}\" protocol=\"{}\">",
                esc(&r.protocol, true)
            );
            let _ = writeln!(w.0, "{}</reason>", esc(&r.text, false));
        }
        if let Some(g) = &s.group_ref {
            w.leaf(2, "group-ref", g);
        }
        w.time(2, "start-time", &s.start_time);
        w.time(2, "stop-time", &s.stop_time);
        w.exts(2, &s.extensions);
        w.close(1, "session");
    }
    for p in &m.participants {
        w.open(1, "participant", &[("participant_id", &p.id)]);
        let none = [Default::default()];
        let names = if p.name_ids.is_empty() {
            &none[..]
        } else {
            &p.name_ids[..]
        };
        for n in names {
            match &n.name {
                None => w.empty(2, "nameID", &[("aor", &n.aor)]),
                Some(name) => {
                    w.open(2, "nameID", &[("aor", &n.aor)]);
                    w.indent(3);
                    match &n.name_lang {
                        Some(l) => {
                            let _ = write!(w.0, "<name xml:lang=\"{}\">", esc(l, true));
                        }
                        None => w.0.push_str("<name>"),
                    }
                    let _ = writeln!(w.0, "{}</name>", esc(name, false));
                    w.close(2, "nameID");
                }
            }
        }
        w.exts(2, &p.extensions);
        w.close(1, "participant");
    }
    for s in &m.streams {
        let mut attrs = vec![("stream_id", s.id.as_str())];
        if let Some(sid) = &s.session_id {
            attrs.push(("session_id", sid));
        }
        w.open(1, "stream", &attrs);
        if let Some(l) = &s.label {
            w.leaf(2, "label", l);
        }
        w.exts(2, &s.extensions);
        w.close(1, "stream");
    }
    for a in &session_recording_assocs(m) {
        w.open(1, "sessionrecordingassoc", &[("session_id", &a.session_id)]);
        w.time(2, "associate-time", &a.associate_time);
        w.time(2, "disassociate-time", &a.disassociate_time);
        w.exts(2, &a.extensions);
        w.close(1, "sessionrecordingassoc");
    }
    for a in &participant_session_assocs(m) {
        w.open(
            1,
            "participantsessionassoc",
            &[
                ("participant_id", &a.participant_id),
                ("session_id", &a.session_id),
            ],
        );
        w.time(2, "associate-time", &a.associate_time);
        w.time(2, "disassociate-time", &a.disassociate_time);
        for (n, v) in &a.params {
            w.empty(2, "param", &[("pname", n), ("pval", v)]);
        }
        w.exts(2, &a.extensions);
        w.close(1, "participantsessionassoc");
    }
    for a in &participant_stream_assocs(m) {
        w.open(
            1,
            "participantstreamassoc",
            &[("participant_id", &a.participant_id)],
        );
        for id in &a.send {
            w.leaf(2, "send", id);
        }
        for id in &a.recv {
            w.leaf(2, "recv", id);
        }
        w.time(2, "associate-time", &a.associate_time);
        w.time(2, "disassociate-time", &a.disassociate_time);
        w.exts(2, &a.extensions);
        w.close(1, "participantstreamassoc");
    }
    w.exts(1, &m.extensions);
    w.0.push_str("</recording>\n");
    w.0
}

/// The SRS's snapshot request body (RFC 7865 §7, RFC 7866 §9.2).
pub fn request_snapshot_xml(reason: Option<&str>) -> String {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(s, "<requestsnapshot xmlns=\"{NS_RFC}\">");
    if let Some(r) = reason {
        let _ = writeln!(s, "  <requestreason>{}</requestreason>", esc(r, false));
    }
    s.push_str("</requestsnapshot>\n");
    s
}

/// Oracle-style `associate-time` in a session becomes a CS-RS association.
fn session_recording_assocs(m: &Metadata) -> Vec<SessionRecordingAssoc> {
    let mut v = m.session_recording_assocs.clone();
    for s in &m.sessions {
        if s.associate_time.is_some() && !v.iter().any(|a| a.session_id == s.id) {
            v.push(SessionRecordingAssoc {
                session_id: s.id.clone(),
                associate_time: s.associate_time.clone(),
                ..Default::default()
            });
        }
    }
    v
}

/// Old-shape `participant session=` becomes a participant-CS association.
fn participant_session_assocs(m: &Metadata) -> Vec<ParticipantSessionAssoc> {
    let mut v = m.participant_session_assocs.clone();
    for p in &m.participants {
        for sid in &p.session_ids {
            if !v
                .iter()
                .any(|a| a.participant_id == p.id && a.session_id == *sid)
            {
                v.push(ParticipantSessionAssoc {
                    participant_id: p.id.clone(),
                    session_id: sid.clone(),
                    associate_time: p.associate_time.clone(),
                    disassociate_time: p.disassociate_time.clone(),
                    ..Default::default()
                });
            }
        }
    }
    v
}

/// Old-shape `<send>`/`<recv>` inside a participant become a participant-stream association.
fn participant_stream_assocs(m: &Metadata) -> Vec<ParticipantStreamAssoc> {
    let mut v = m.participant_stream_assocs.clone();
    for p in &m.participants {
        if (!p.send.is_empty() || !p.recv.is_empty()) && !v.iter().any(|a| a.participant_id == p.id)
        {
            v.push(ParticipantStreamAssoc {
                participant_id: p.id.clone(),
                send: p.send.clone(),
                recv: p.recv.clone(),
                ..Default::default()
            });
        }
    }
    v
}

/// Raw extension text that stands on its own in another document, if any.
/// Elements in a recording namespace (e.g. `extensiondata`) are not `##other`
/// and are dropped; a prefix declared by an ancestor is re-declared.
fn portable(e: &Extension) -> Option<String> {
    let ns = e
        .namespace
        .as_deref()
        .filter(|n| !is_recording_ns(Some(n)))?;
    if roxmltree::Document::parse(&e.raw).is_ok() {
        return Some(e.raw.clone());
    }
    let rest = e.raw.strip_prefix('<')?;
    let qname_len = rest.find(|c: char| c.is_whitespace() || c == '>' || c == '/')?;
    let qname = rest.get(..qname_len)?;
    let (prefix, _) = qname.split_once(':')?;
    let fixed = format!(
        "<{qname} xmlns:{prefix}=\"{}\"{}",
        esc(ns, true),
        rest.get(qname_len..)?
    );
    roxmltree::Document::parse(&fixed).is_ok().then_some(fixed)
}

/// XML escaping; characters XML 1.0 forbids become U+FFFD.
fn esc(s: &str, attr: bool) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' if attr => o.push_str("&quot;"),
            '\t' | '\n' | '\r' if attr => {
                let _ = write!(o, "&#{};", u32::from(c));
            }
            '\r' => o.push_str("&#13;"),
            '\t' | '\n' => o.push(c),
            c if u32::from(c) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => o.push('\u{FFFD}'),
            c => o.push(c),
        }
    }
    o
}

/// Tiny indenting writer.
struct W(String);

impl W {
    fn indent(&mut self, depth: usize) {
        for _ in 0..depth {
            self.0.push_str("  ");
        }
    }
    fn tag(&mut self, depth: usize, name: &str, attrs: &[(&str, &str)], end: &str) {
        self.indent(depth);
        let _ = write!(self.0, "<{name}");
        for (k, v) in attrs {
            let _ = write!(self.0, " {k}=\"{}\"", esc(v, true));
        }
        let _ = writeln!(self.0, "{end}");
    }
    fn open(&mut self, depth: usize, name: &str, attrs: &[(&str, &str)]) {
        self.tag(depth, name, attrs, ">");
    }
    fn empty(&mut self, depth: usize, name: &str, attrs: &[(&str, &str)]) {
        self.tag(depth, name, attrs, "/>");
    }
    fn close(&mut self, depth: usize, name: &str) {
        self.indent(depth);
        let _ = writeln!(self.0, "</{name}>");
    }
    fn leaf(&mut self, depth: usize, name: &str, text: &str) {
        self.indent(depth);
        let _ = writeln!(self.0, "<{name}>{}</{name}>", esc(text, false));
    }
    fn time(&mut self, depth: usize, name: &str, t: &Option<Timestamp>) {
        if let Some(t) = t {
            self.leaf(depth, name, &t.raw);
        }
    }
    fn exts(&mut self, depth: usize, exts: &[Extension]) {
        for raw in exts.iter().filter_map(portable) {
            self.indent(depth);
            self.0.push_str(&raw);
            self.0.push('\n');
        }
    }
}

#[cfg(test)]
#[path = "write_tests.rs"]
mod tests;
#[cfg(test)]
pub(crate) use tests::assert_schema_order;
