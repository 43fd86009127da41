//! Every request vector of the vendor corpus (shared/siprec/corpus/vendor, INDEX.md §3.2)
//! completed into a wire request and sent to the real server, over UDP and over TCP: 200,
//! tones on every answered sending stream, ACK, the vendor's in-dialog follow-ups (BroadWorks
//! pause/resume re-INVITEs, Metaswitch BYE, Cisco BYE with metadata) or a plain BYE. Per
//! vector the table states what the catalogue must show; expectations come from the files
//! themselves and agree with the metadata crate's corpus tests and `tapline inspect`.
//! `TAPLINE_VENDOR_DUMP=1` prints each recording's `recordings show` on stderr.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod vendor;

/// How the file becomes the initial INVITE.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Build {
    /// A multipart body (boundary from its first delimiter line) in a SIPREC INVITE.
    Multipart,
    /// An SDP-only body in a plain INVITE (no Require, no +sip.src: Cisco NBR, A-03).
    PlainSdp,
    /// A metadata document alone: our SDP (labels 1 and 2) plus the document, byte for byte.
    MetadataOnly,
    /// A SIPp template, rendered as SIPp sends it.
    Sipp,
    /// A full request transcribed from vendor documentation, headers repaired.
    Doc,
}

/// An in-dialog request replayed after the INVITE.
#[derive(Debug, Clone, Copy)]
enum After {
    /// A SIPp re-INVITE template (a `c=0.0.0.0` offer pauses the media, C-13).
    ReInviteSipp(&'static str),
    /// A SIPp BYE template.
    ByeSipp(&'static str),
    /// A BYE transcribed from documentation (its body kept byte for byte).
    ByeDoc(&'static str),
}

/// A participant the catalogue must list: matched by aor (or by id when the vector names
/// none), the role where the vendor states it, the labels it sends.
#[derive(Debug, Clone, Copy)]
struct Part {
    aor: Option<&'static str>,
    id: Option<&'static str>,
    role: Option<&'static str>,
    sends: &'static [&'static str],
}

const fn p(aor: &'static str, role: Option<&'static str>, sends: &'static [&'static str]) -> Part {
    Part {
        aor: Some(aor),
        id: None,
        role,
        sends,
    }
}

const CALLER: Option<&str> = Some("caller");
const CALLEE: Option<&str> = Some("callee");

#[derive(Debug, Clone, Copy)]
struct Vector {
    file: &'static str,
    build: Build,
    after: &'static [After],
    /// Exactly these participants.
    parts: &'static [Part],
    /// Exactly these labels in `recordings show` streams (every offered m-line).
    labels: &'static [&'static str],
    /// The labels among them the server refused (state `rejected`); the rest are `accepted`.
    refused: &'static [&'static str],
    /// Tone frequency sent to each of these labels and found in its WAV.
    tones: &'static [(&'static str, f64)],
    /// Substrings that some warning of the recording must each contain.
    warnings: &'static [&'static str],
    /// Timeline events (kind, label) the recording must hold.
    events: &'static [(&'static str, &'static str)],
}

const PLAIN: &str = "not marked as SIPREC";

const VECTORS: &[Vector] = &[
    Vector {
        file: "vendor-avaya-sbce-multipart-body.txt",
        build: Build::Multipart,
        after: &[],
        parts: &[
            p("sip:9878942259@212.188.68.145", None, &["10"]),
            p("sip:ASBCE@asbce.com", None, &["20"]),
        ],
        labels: &["10", "20"],
        refused: &[],
        tones: &[("10", 440.0), ("20", 880.0)],
        warnings: &[],
        events: &[],
    },
    Vector {
        file: "vendor-broadworks-invite.sipp.txt",
        build: Build::Sipp,
        after: &[
            After::ReInviteSipp("vendor-broadworks-pause-reinvite.sipp.txt"),
            After::ReInviteSipp("vendor-broadworks-resume-reinvite.sipp.txt"),
        ],
        // callingPartyNumber / calledPartyNumber of broadWorksRecordingMetadata.
        parts: &[
            p("sip:8638254725", CALLEE, &["1"]),
            // Its <send> names a stream no <stream> describes: the id is kept (as inspect).
            p(
                "sip:+19015783200@broadcore.com;user=phone",
                CALLER,
                &["urn:uuid:9b6ad4c2-9901-4387-8659-a366bfb7dc19"],
            ),
        ],
        labels: &["1"],
        refused: &[],
        tones: &[("1", 440.0)],
        warnings: &[],
        // c=0.0.0.0 pauses label 1, the real address resumes it (C-13).
        events: &[("pause", "1"), ("resume", "1")],
    },
    Vector {
        file: "vendor-broadworks-mangled-multipart-body.txt",
        build: Build::Multipart,
        after: &[],
        parts: &[],
        labels: &["1"],
        refused: &[],
        tones: &[("1", 440.0)],
        // the part under Content-Type "application/ +xml" is read as metadata; its XML
        // lost its inner tags, so the recording goes on without metadata.
        warnings: &["taken as metadata", "metadata unreadable"],
        events: &[],
    },
    Vector {
        file: "vendor-cisco-cube-hold-sendonly-multipart-body.txt",
        build: Build::Multipart,
        after: &[],
        // Participants elided by the guide (`…`): only the associations name them.
        parts: &[
            Part {
                aor: None,
                id: Some("jIBTUf1BEeSAc6sYHx7YVg=="),
                role: None,
                sends: &[],
            },
            Part {
                aor: None,
                id: Some("jIBTUf1BEeSAdqsYHx7YVg=="),
                role: None,
                sends: &["2", "4"],
            },
        ],
        // Video (labels 3, 4) is refused: the server records audio only.
        labels: &["1", "2", "3", "4"],
        refused: &["3", "4"],
        tones: &[("2", 880.0)],
        warnings: &[],
        events: &[],
    },
    Vector {
        file: "vendor-cisco-cube-invite-debug.txt",
        build: Build::Doc,
        after: &[],
        // Headers repaired (folded Allow without whitespace, missing blank line); the body is
        // kept as printed (no blank lines in the parts, indented part lines): the SDP is read,
        // the split `</sipSessi` + `onID>` makes the XML unreadable.
        parts: &[],
        labels: &["1", "2"],
        refused: &[],
        tones: &[("1", 440.0), ("2", 880.0)],
        warnings: &["metadata unreadable"],
        events: &[],
    },
    Vector {
        file: "vendor-cisco-cube-multipart-body.txt",
        build: Build::Multipart,
        after: &[After::ByeDoc("vendor-cisco-cube-bye-with-metadata.txt")],
        parts: &[
            p("sip:7301@35.162.237.204", None, &["1"]),
            p("sip:7300@35.162.237.204", None, &["2"]),
        ],
        labels: &["1", "2"],
        refused: &[],
        tones: &[("1", 440.0), ("2", 880.0)],
        // The BYE's metadata is not well-formed (guide artefact): ignored, BYE still 200.
        warnings: &["metadata in BYE unreadable"],
        events: &[],
    },
    Vector {
        file: "vendor-cisco-cube-nbr-invite.sipp.txt",
        build: Build::Sipp,
        after: &[],
        // X-Cisco-Recording-Participant media-index 0 sends the only m-line (no label: m0).
        parts: &[
            p("sip:2164485925@ccf.org", None, &["m0"]),
            p("sip:20053@10.144.106.41", None, &[]),
        ],
        labels: &["m0"],
        refused: &[],
        tones: &[("m0", 440.0)],
        warnings: &[PLAIN],
        events: &[],
    },
    Vector {
        file: "vendor-cisco-nbr-sdp-only.sdp",
        build: Build::PlainSdp,
        after: &[],
        parts: &[],
        labels: &["1"],
        refused: &[],
        tones: &[("1", 440.0)],
        warnings: &[PLAIN],
        events: &[],
    },
    Vector {
        file: "vendor-metaswitch-invite.sipp.txt",
        build: Build::Sipp,
        after: &[After::ByeSipp("vendor-metaswitch-bye.sipp.txt")],
        // callingPartyNumber / dialedDigits of metaswitchRecordingMetadata; one mixed stream.
        parts: &[
            p("7602922411", CALLER, &["1"]),
            p("7602922410", CALLEE, &["1"]),
        ],
        labels: &["1"],
        refused: &[],
        tones: &[("1", 440.0)],
        warnings: &[],
        events: &[],
    },
    Vector {
        file: "vendor-netsapiens-xfer-1-initial.xml",
        build: Build::MetadataOnly,
        after: &[],
        parts: &[
            p("sip:1001@dwang.netsapiens.com", CALLER, &["1"]),
            p("sip:1002@dwang.netsapiens.com", CALLEE, &["2"]),
        ],
        labels: &["1", "2"],
        refused: &[],
        tones: &[("1", 440.0), ("2", 880.0)],
        warnings: &[],
        events: &[],
    },
    Vector {
        file: "vendor-netsapiens-xfer-2-consultation.xml",
        build: Build::MetadataOnly,
        after: &[],
        parts: &[
            p("sip:1002@dwang.netsapiens.com", CALLER, &["1"]),
            p("sip:1006@dwang.netsapiens.com", CALLEE, &["2"]),
        ],
        labels: &["1", "2"],
        refused: &[],
        tones: &[("1", 440.0), ("2", 880.0)],
        warnings: &[],
        events: &[],
    },
    Vector {
        file: "vendor-opensips-connectel-multipart-body.txt",
        build: Build::Multipart,
        after: &[],
        // No association elements (E-83): senders by document order.
        parts: &[
            p("sip:0771121212@52.57.92.239", None, &["1"]),
            p("sip:0760516936@sip-cust1.connectel.io", None, &["2"]),
        ],
        labels: &["1", "2"],
        refused: &[],
        tones: &[("1", 440.0), ("2", 880.0)],
        warnings: &[],
        events: &[],
    },
    Vector {
        file: "vendor-oracle-acme-multipart-body.txt",
        build: Build::Multipart,
        after: &[],
        // apkt:callingParty true / false.
        parts: &[
            p("sip:9000@192.168.50.102", CALLER, &["16777227"]),
            p("sip:1002@192.168.50.10", CALLEE, &["16777228"]),
        ],
        labels: &["16777227", "16777228"],
        refused: &[],
        tones: &[("16777227", 440.0), ("16777228", 880.0)],
        warnings: &[],
        events: &[],
    },
    Vector {
        file: "vendor-ribbon-sonus-multipart-body.txt",
        build: Build::Multipart,
        after: &[],
        // callData fromhdr / tohdr.
        parts: &[
            p("2249888500@172.16.198.55", CALLER, &["2"]),
            p("2249888012@172.16.195.72", CALLEE, &["1"]),
        ],
        labels: &["1", "2"],
        refused: &[],
        tones: &[("1", 440.0), ("2", 880.0)],
        warnings: &[],
        events: &[],
    },
    Vector {
        file: "vendor-sems-procomm-multipart-body.txt",
        build: Build::Multipart,
        after: &[],
        parts: &[
            p("sip:016190200@87.252.209.116", None, &["a_leg"]),
            p("Extension-016190619@speechpath.ie", None, &["b_leg"]),
        ],
        labels: &["a_leg", "b_leg"],
        refused: &[],
        tones: &[("a_leg", 440.0), ("b_leg", 880.0)],
        warnings: &[],
        events: &[],
    },
];

/// Vendor files that are not requests an SRC sends, and why.
const NOT_REQUESTS: &[(&str, &str)] = &[(
    "vendor-cisco-cube-200ok-recvonly.txt",
    "a response: the recorder's 200 OK in Cisco's guide",
)];

/// The runner: build, send, play, follow up, check.
#[path = "vendor/run.rs"]
mod run;

#[test]
fn every_vendor_request_vector_is_in_the_table() {
    let dir = vendor::vendor_dir();
    let listed: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("vendor corpus {}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(listed.len() >= 20, "vendor corpus shrank: {listed:?}");
    let mut covered: Vec<&str> = NOT_REQUESTS.iter().map(|(f, _)| *f).collect();
    for v in VECTORS {
        covered.push(v.file);
        for a in v.after {
            covered.push(match a {
                After::ReInviteSipp(f) | After::ByeSipp(f) | After::ByeDoc(f) => f,
            });
        }
    }
    for f in &listed {
        assert!(
            covered.contains(&f.as_str()),
            "vendor vector {f} is not in the table"
        );
    }
    for f in &covered {
        assert!(
            listed.iter().any(|l| l == f),
            "table names {f}, not in the corpus"
        );
    }
}

macro_rules! vector_tests {
    ($($udp:ident, $tcp:ident => $file:literal;)*) => {$(
        #[test]
        fn $udp() {
            run::vector($file, false);
        }
        #[test]
        fn $tcp() {
            run::vector($file, true);
        }
    )*};
}

vector_tests! {
    avaya_sbce_udp, avaya_sbce_tcp => "vendor-avaya-sbce-multipart-body.txt";
    broadworks_pause_resume_udp, broadworks_pause_resume_tcp => "vendor-broadworks-invite.sipp.txt";
    broadworks_mangled_udp, broadworks_mangled_tcp => "vendor-broadworks-mangled-multipart-body.txt";
    cisco_cube_hold_sendonly_udp, cisco_cube_hold_sendonly_tcp => "vendor-cisco-cube-hold-sendonly-multipart-body.txt";
    cisco_cube_invite_debug_udp, cisco_cube_invite_debug_tcp => "vendor-cisco-cube-invite-debug.txt";
    cisco_cube_bye_metadata_udp, cisco_cube_bye_metadata_tcp => "vendor-cisco-cube-multipart-body.txt";
    cisco_nbr_template_udp, cisco_nbr_template_tcp => "vendor-cisco-cube-nbr-invite.sipp.txt";
    cisco_nbr_sdp_only_udp, cisco_nbr_sdp_only_tcp => "vendor-cisco-nbr-sdp-only.sdp";
    metaswitch_udp, metaswitch_tcp => "vendor-metaswitch-invite.sipp.txt";
    netsapiens_initial_udp, netsapiens_initial_tcp => "vendor-netsapiens-xfer-1-initial.xml";
    netsapiens_consultation_udp, netsapiens_consultation_tcp => "vendor-netsapiens-xfer-2-consultation.xml";
    opensips_connectel_udp, opensips_connectel_tcp => "vendor-opensips-connectel-multipart-body.txt";
    oracle_acme_udp, oracle_acme_tcp => "vendor-oracle-acme-multipart-body.txt";
    ribbon_sonus_udp, ribbon_sonus_tcp => "vendor-ribbon-sonus-multipart-body.txt";
    sems_procomm_udp, sems_procomm_tcp => "vendor-sems-procomm-multipart-body.txt";
}

#[test]
fn every_table_vector_has_its_tests() {
    // The macro list above and the table must not drift apart.
    let src = include_str!("vendor_e2e.rs");
    for v in VECTORS {
        let needle = format!("=> \"{}\";", v.file);
        assert!(src.contains(&needle), "no UDP/TCP tests for {}", v.file);
    }
}
