//! Stream labels of an offer: the name given to an unlabelled m-line, and warnings when
//! labels do not tell streams apart (the same `a=label` on several m-lines, or a generated
//! name equal to a real label). Such streams are still recorded and catalogued one by one:
//! the catalogue identifies a stream by its index, not its label; the warning says that the
//! metadata (which refers to labels) cannot tell them apart.

use tapline_sdp::SessionDescription;

/// The label the server gives m-line `mline` when it has no `a=label`.
pub(crate) fn generated_label(mline: usize) -> String {
    format!("m{mline}")
}

/// One warning per label shared by several m-lines, and per unlabelled m-line whose
/// generated name another m-line carries as its label.
pub(crate) fn label_warnings(offer: &SessionDescription) -> Vec<String> {
    let labels: Vec<Option<&str>> = offer.media.iter().map(|m| m.label()).collect();
    let mut warnings = Vec::new();
    for (i, label) in labels.iter().enumerate() {
        let Some(label) = label else { continue };
        let first = labels.iter().position(|l| *l == Some(*label));
        if first != Some(i) {
            continue;
        }
        let on: Vec<String> = positions(&labels, |l| l == Some(*label));
        if on.len() > 1 {
            warnings.push(format!(
                "label {label} is on m-lines {}: each is recorded as its own stream, but the \
                 metadata cannot tell them apart",
                on.join(", ")
            ));
        }
    }
    for (i, label) in labels.iter().enumerate() {
        if label.is_some() {
            continue;
        }
        let name = generated_label(i);
        let on: Vec<String> = positions(&labels, |l| l == Some(name.as_str()));
        if !on.is_empty() {
            warnings.push(format!(
                "m-line {i} has no a=label and is named {name}, which is also the label of \
                 m-line(s) {}: both are recorded as separate streams",
                on.join(", ")
            ));
        }
    }
    warnings
}

fn positions(labels: &[Option<&str>], want: impl Fn(Option<&str>) -> bool) -> Vec<String> {
    labels
        .iter()
        .enumerate()
        .filter(|(_, l)| want(**l))
        .map(|(i, _)| i.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(labels: &[Option<&str>]) -> SessionDescription {
        let mut text = String::from(
            "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n",
        );
        for (i, l) in labels.iter().enumerate() {
            text.push_str(&format!("m=audio {} RTP/AVP 0\r\n", 10_000 + 2 * i));
            if let Some(l) = l {
                text.push_str(&format!("a=label:{l}\r\n"));
            }
        }
        SessionDescription::parse(&text).expect("test SDP")
    }

    #[test]
    fn distinct_labels_give_no_warning() {
        assert!(label_warnings(&offer(&[Some("1"), Some("2"), None])).is_empty());
    }

    #[test]
    fn a_repeated_label_is_one_warning_naming_its_m_lines() {
        let w = label_warnings(&offer(&[Some("1"), Some("2"), Some("1"), Some("1")]));
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("label 1 is on m-lines 0, 2, 3"), "{w:?}");
    }

    #[test]
    fn a_generated_name_colliding_with_a_label_is_named() {
        let w = label_warnings(&offer(&[Some("m1"), None]));
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].contains("m-line 1 has no a=label and is named m1"),
            "{w:?}"
        );
        assert!(w[0].contains("m-line(s) 0"), "{w:?}");
        assert_eq!(generated_label(1), "m1");
    }
}
