//! Repairing a metadata body spoilt by a few bad characters, so that one invalid byte
//! in a display name does not cost the recording its participants: invalid UTF-8
//! sequences become U+FFFD, and characters XML 1.0 forbids (section 2.2: C0 controls
//! other than TAB, LF and CR; U+FFFE; U+FFFF) are dropped. What was done is reported
//! as one [`Warning`].

use std::borrow::Cow;

use crate::error::Warning;

/// What a repair changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Repairs {
    /// Invalid UTF-8 sequences, each replaced by one U+FFFD.
    pub(crate) sequences: usize,
    /// Bytes in those sequences.
    pub(crate) bytes: usize,
    /// XML-illegal characters dropped.
    pub(crate) dropped: usize,
}

impl Repairs {
    /// The warning to report, if anything was repaired.
    pub(crate) fn warning(&self) -> Option<Warning> {
        let mut parts = Vec::new();
        if self.sequences > 0 {
            parts.push(format!(
                "{} invalid UTF-8 sequence(s) ({} byte(s)) replaced by U+FFFD",
                self.sequences, self.bytes
            ));
        }
        if self.dropped > 0 {
            parts.push(format!(
                "{} character(s) not allowed in XML (control characters, U+FFFE, U+FFFF) dropped",
                self.dropped
            ));
        }
        (!parts.is_empty())
            .then(|| Warning::new(format!("metadata repaired: {}", parts.join("; "))))
    }
}

/// UTF-8 text of `bytes`, invalid sequences replaced by U+FFFD and counted.
pub(crate) fn utf8_lossy<'a>(bytes: &'a [u8], repairs: &mut Repairs) -> Cow<'a, str> {
    for chunk in bytes.utf8_chunks() {
        if !chunk.invalid().is_empty() {
            repairs.sequences += 1;
            repairs.bytes += chunk.invalid().len();
        }
    }
    String::from_utf8_lossy(bytes)
}

/// XML 1.0 `Char` (section 2.2); surrogates cannot occur in a `str`.
fn xml_char(c: char) -> bool {
    match c {
        '\t' | '\n' | '\r' => true,
        '\u{fffe}' | '\u{ffff}' => false,
        c => !c.is_ascii_control() || c == '\u{7f}',
    }
}

/// `text` without the characters XML forbids, counted.
pub(crate) fn drop_illegal<'a>(text: Cow<'a, str>, repairs: &mut Repairs) -> Cow<'a, str> {
    let dropped = text.chars().filter(|c| !xml_char(*c)).count();
    if dropped == 0 {
        return text;
    }
    repairs.dropped += dropped;
    Cow::Owned(text.chars().filter(|c| xml_char(*c)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_sequences_are_counted_and_replaced() {
        let mut r = Repairs::default();
        let text = utf8_lossy(b"J\xffrg \xe2\x82 ok \xc3\xa9", &mut r);
        assert_eq!(text, "J\u{fffd}rg \u{fffd} ok \u{e9}");
        assert_eq!((r.sequences, r.bytes), (2, 3));
        let w = r.warning().unwrap().0;
        assert!(w.contains("2 invalid UTF-8 sequence(s) (3 byte(s))"), "{w}");
    }

    #[test]
    fn xml_illegal_characters_are_dropped() {
        let mut r = Repairs::default();
        let text = drop_illegal(
            Cow::Borrowed("a\0b\x1bc\x01d\u{ffff}e\u{fffe}\t\r\n\x7f"),
            &mut r,
        );
        assert_eq!(text, "abcde\t\r\n\x7f");
        assert_eq!(r.dropped, 5);
        assert!(
            r.warning()
                .unwrap()
                .0
                .contains("5 character(s) not allowed")
        );
    }

    const DOC: &str = "<?xml version='1.0' encoding='UTF-8'?>
<recording xmlns='urn:ietf:params:xml:ns:recording:1'><datamode>complete</datamode>
<session session_id='s1'/>
<participant participant_id='p1'><nameID aor='sip:alice@example.com'><name>NAME1</name></nameID></participant>
<participant participant_id='p2'><nameID aor='sip:bob@example.com'><name>Bob</name></nameID></participant>
</recording>";

    /// Parse `DOC` with `name` (raw bytes) as the first participant's display name.
    fn parsed_with(name: &[u8]) -> crate::Parsed {
        let (head, tail) = DOC.split_once("NAME1").unwrap();
        let body = [head.as_bytes(), name, tail.as_bytes()].concat();
        crate::parse(&body).unwrap_or_else(|e| panic!("{name:?}: {e}"))
    }

    fn name_of(p: &crate::Parsed, i: usize) -> String {
        p.metadata.participants[i].name_ids[0]
            .name
            .clone()
            .unwrap_or_default()
    }

    fn repair_warning(p: &crate::Parsed) -> String {
        let w: Vec<&str> = p.warnings.iter().map(|w| w.0.as_str()).collect();
        w.iter()
            .find(|w| w.starts_with("metadata repaired: "))
            .unwrap_or_else(|| panic!("no repair warning in {w:?}"))
            .to_string()
    }

    #[test]
    fn invalid_byte_in_a_name_keeps_both_participants() {
        let p = parsed_with(b"J\xf6rg M\xfcller");
        assert_eq!(p.metadata.participants.len(), 2);
        assert_eq!(name_of(&p, 0), "J\u{fffd}rg M\u{fffd}ller");
        assert_eq!(name_of(&p, 1), "Bob");
        let w = repair_warning(&p);
        assert!(w.contains("2 invalid UTF-8 sequence(s) (2 byte(s))"), "{w}");
    }

    #[test]
    fn control_characters_in_an_element_are_dropped() {
        let p = parsed_with(b"Al\0i\x1b[31mc\x01e");
        assert_eq!(p.metadata.participants.len(), 2);
        assert_eq!(name_of(&p, 0), "Ali[31mce");
        assert_eq!(name_of(&p, 1), "Bob");
        assert!(repair_warning(&p).contains("3 character(s) not allowed in XML"));
    }

    #[test]
    fn noncharacter_uffff_is_dropped() {
        let p = parsed_with("Al\u{ffff}ice\u{fffe}".as_bytes());
        assert_eq!(name_of(&p, 0), "Alice");
        assert_eq!(p.metadata.participants.len(), 2);
        assert!(repair_warning(&p).contains("2 character(s)"));
    }

    #[test]
    fn clean_document_has_no_repair_warning() {
        let p = parsed_with(b"Alice");
        assert!(p.warnings.iter().all(|w| !w.0.contains("repaired")));
    }

    #[test]
    fn clean_text_is_untouched_and_unwarned() {
        let mut r = Repairs::default();
        let text = drop_illegal(utf8_lossy("<a>caf\u{e9}</a>".as_bytes(), &mut r), &mut r);
        assert!(matches!(text, Cow::Borrowed(_)));
        assert_eq!(r, Repairs::default());
        assert!(r.warning().is_none());
    }
}
