//! Per-element mapping onto the model. Elements are matched by folded local
//! name in any recording namespace, in any order (REQUIREMENTS S-03, E-08);
//! attribute spellings of the RFC, the old Oracle/Acme shape and the siprec
//! draft are all accepted (E-02).

use roxmltree::Node;

use crate::error::Warning;
use crate::model::{
    Extension, Group, NameId, Participant, ParticipantSessionAssoc, ParticipantStreamAssoc, Reason,
    Session, SessionRecordingAssoc, Stream,
};
use crate::timestamp::Timestamp;
use crate::xmlutil::{attr, elements, extension, is_recording_ns, key, squeezed, text, trimmed};

/// Parsing context: the decoded input (for raw extension text) and warnings.
pub(crate) struct Ctx<'i> {
    pub(crate) input: &'i str,
    pub(crate) warnings: Vec<Warning>,
}

impl Ctx<'_> {
    pub(crate) fn warn(&mut self, msg: impl Into<String>) {
        self.warnings.push(Warning::new(msg));
    }

    /// Reads a time element, warning when it cannot be understood.
    fn time(&mut self, node: Node<'_, '_>) -> Timestamp {
        let t = Timestamp::parse(&text(node));
        if t.unix_ms.is_none() {
            self.warn(format!(
                "unparseable <{}> value {:?} kept as text",
                node.tag_name().name(),
                t.raw
            ));
        }
        t
    }

    /// Required id attribute; warns and yields "" when missing (ids may be empty, S-04).
    fn id(&mut self, node: Node<'_, '_>, names: &[&str]) -> String {
        attr(node, names).unwrap_or_else(|| {
            self.warn(format!(
                "<{}> without {} attribute",
                node.tag_name().name(),
                names.join("/")
            ));
            String::new()
        })
    }

    /// What to do with a child that no parser claimed.
    fn other(&mut self, parent: Node<'_, '_>, child: Node<'_, '_>, exts: &mut Vec<Extension>) {
        if !is_recording_ns(child.tag_name().namespace()) || key(child) == "extensiondata" {
            exts.push(extension(child, self.input));
        } else {
            self.warn(format!(
                "ignored unknown element <{}> in <{}>",
                child.tag_name().name(),
                parent.tag_name().name()
            ));
        }
    }
}

/// `send`/`recv` content: a stream id as text, or draft `<send><id>..</id></send>`.
fn stream_refs(node: Node<'_, '_>) -> Vec<String> {
    let ids: Vec<String> = elements(node)
        .filter(|c| key(*c) == "id")
        .map(squeezed)
        .collect();
    if ids.is_empty() {
        vec![squeezed(node)]
    } else {
        ids
    }
}

pub(crate) fn group(ctx: &mut Ctx<'_>, node: Node<'_, '_>) -> Group {
    let mut g = Group {
        id: ctx.id(node, &["groupid", "id"]),
        ..Group::default()
    };
    for c in elements(node) {
        match (is_recording_ns(c.tag_name().namespace()), key(c).as_str()) {
            (true, "associatetime") => g.associate_time = Some(ctx.time(c)),
            (true, "disassociatetime") => g.disassociate_time = Some(ctx.time(c)),
            (true, "initiator") => {} // siprec draft; no RFC counterpart
            _ => ctx.other(node, c, &mut g.extensions),
        }
    }
    g
}

pub(crate) fn session(ctx: &mut Ctx<'_>, node: Node<'_, '_>) -> Session {
    let mut s = Session {
        id: ctx.id(node, &["sessionid", "id"]),
        group_ref: attr(node, &["groupref", "group"]),
        ..Session::default()
    };
    for c in elements(node) {
        match (is_recording_ns(c.tag_name().namespace()), key(c).as_str()) {
            // Session-ID values carry no whitespace; RFC 8068 folds them over lines.
            (true, "sipsessionid") => s.sip_session_ids.push(squeezed(c)),
            (true, "groupref") => s.group_ref = Some(squeezed(c)),
            (true, "starttime") => s.start_time = Some(ctx.time(c)),
            // Cisco CUBE sends <end-time> (S-11).
            (true, "stoptime" | "endtime") => s.stop_time = Some(ctx.time(c)),
            (true, "associatetime") => s.associate_time = Some(ctx.time(c)),
            (true, "reason") => s.reasons.push(Reason {
                cause: attr(c, &["cause"]).and_then(|v| v.parse().ok()),
                protocol: attr(c, &["protocol"]).unwrap_or_else(|| "SIP".to_string()),
                text: trimmed(c),
            }),
            _ => ctx.other(node, c, &mut s.extensions),
        }
    }
    s
}

fn name_id(node: Node<'_, '_>) -> NameId {
    let name_node = elements(node).find(|c| key(*c) == "name");
    NameId {
        aor: attr(node, &["aor"])
            .unwrap_or_default()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect(),
        name: name_node.map(trimmed).filter(|n| !n.is_empty()),
        name_lang: name_node.and_then(|n| {
            n.attribute(("http://www.w3.org/XML/1998/namespace", "lang"))
                .map(str::to_string)
        }),
    }
}

pub(crate) fn participant(ctx: &mut Ctx<'_>, node: Node<'_, '_>) -> Participant {
    let mut p = Participant {
        id: ctx.id(node, &["participantid", "id"]),
        ..Participant::default()
    };
    p.session_ids.extend(attr(node, &["session", "sessionid"]));
    for c in elements(node) {
        match (is_recording_ns(c.tag_name().namespace()), key(c).as_str()) {
            (true, "nameid") => p.name_ids.push(name_id(c)),
            // siprec draft: <aor> directly in the participant.
            (true, "aor") => p.name_ids.push(NameId {
                aor: squeezed(c),
                ..NameId::default()
            }),
            (true, "send") => p.send.extend(stream_refs(c)),
            (true, "recv") => p.recv.extend(stream_refs(c)),
            (true, "associatetime") => p.associate_time = Some(ctx.time(c)),
            (true, "disassociatetime") => p.disassociate_time = Some(ctx.time(c)),
            _ => ctx.other(node, c, &mut p.extensions),
        }
    }
    p
}

pub(crate) fn stream(ctx: &mut Ctx<'_>, node: Node<'_, '_>) -> Stream {
    let mut s = Stream {
        id: ctx.id(node, &["streamid", "id"]),
        session_id: attr(node, &["sessionid", "session"]),
        ..Stream::default()
    };
    for c in elements(node) {
        match (is_recording_ns(c.tag_name().namespace()), key(c).as_str()) {
            (true, "label") => s.label = Some(trimmed(c)).filter(|l| !l.is_empty()),
            (true, "mode") => s.mode = Some(trimmed(c)),
            (true, "associatetime") => s.associate_time = Some(ctx.time(c)),
            _ => ctx.other(node, c, &mut s.extensions),
        }
    }
    s
}

pub(crate) fn session_recording_assoc(
    ctx: &mut Ctx<'_>,
    node: Node<'_, '_>,
) -> SessionRecordingAssoc {
    let mut a = SessionRecordingAssoc {
        session_id: ctx.id(node, &["sessionid", "session", "id"]),
        ..SessionRecordingAssoc::default()
    };
    for c in elements(node) {
        match (is_recording_ns(c.tag_name().namespace()), key(c).as_str()) {
            (true, "associatetime") => a.associate_time = Some(ctx.time(c)),
            (true, "disassociatetime") => a.disassociate_time = Some(ctx.time(c)),
            _ => ctx.other(node, c, &mut a.extensions),
        }
    }
    a
}

pub(crate) fn participant_session_assoc(
    ctx: &mut Ctx<'_>,
    node: Node<'_, '_>,
) -> ParticipantSessionAssoc {
    let mut a = ParticipantSessionAssoc {
        participant_id: ctx.id(node, &["participantid", "participant"]),
        session_id: ctx.id(node, &["sessionid", "session"]),
        ..ParticipantSessionAssoc::default()
    };
    for c in elements(node) {
        match (is_recording_ns(c.tag_name().namespace()), key(c).as_str()) {
            (true, "associatetime") => a.associate_time = Some(ctx.time(c)),
            (true, "disassociatetime") => a.disassociate_time = Some(ctx.time(c)),
            (true, "param") => a.params.push((
                attr(c, &["pname"]).unwrap_or_default(),
                attr(c, &["pval"]).unwrap_or_default(),
            )),
            _ => ctx.other(node, c, &mut a.extensions),
        }
    }
    a
}

pub(crate) fn participant_stream_assoc(
    ctx: &mut Ctx<'_>,
    node: Node<'_, '_>,
) -> ParticipantStreamAssoc {
    let mut a = ParticipantStreamAssoc {
        participant_id: ctx.id(node, &["participantid", "participant", "id"]),
        ..ParticipantStreamAssoc::default()
    };
    for c in elements(node) {
        match (is_recording_ns(c.tag_name().namespace()), key(c).as_str()) {
            (true, "send") => a.send.extend(stream_refs(c)),
            (true, "recv") => a.recv.extend(stream_refs(c)),
            (true, "associatetime") => a.associate_time = Some(ctx.time(c)),
            (true, "disassociatetime") => a.disassociate_time = Some(ctx.time(c)),
            _ => ctx.other(node, c, &mut a.extensions),
        }
    }
    a
}
