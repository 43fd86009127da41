#!/usr/bin/env bash
# Seed fuzz/corpus/<target>/ from the shared SIPREC test vectors (read-only, not copied
# into git). Idempotent: re-running overwrites the seed files, keeps whatever libFuzzer
# added. Usage: fuzz/seed.sh [path/to/shared/siprec/corpus]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="${1:-$here/../../shared/siprec/corpus}"
[ -d "$src/rfc" ] && [ -d "$src/vendor" ] || { echo "no corpus at $src" >&2; exit 1; }
out="$here/corpus"
mkdir -p "$out"/{sip_message,sip_endpoint,tcp_framer,multipart,sdp,metadata,rtp_timeline}
python3 - "$src" "$out" <<'PY'
import os, re, struct, sys
src, out = sys.argv[1], sys.argv[2]
def files(pattern):
    for d in ("rfc", "vendor"):
        for f in sorted(os.listdir(os.path.join(src, d))):
            if re.search(pattern, f):
                yield f, open(os.path.join(src, d, f), "rb").read()
def put(target, name, data):
    with open(os.path.join(out, target, "seed-" + name), "wb") as fh:
        fh.write(data)

SIPP = {b"[local_ip]": b"192.0.2.10", b"[local_port]": b"5060", b"[remote_ip]": b"192.0.2.1",
        b"[remote_port]": b"5060", b"[transport]": b"UDP", b"[call_id]": b"c1@192.0.2.10",
        b"[branch]": b"z9hG4bKseed1", b"[pid]": b"42", b"[call_number]": b"1", b"[cseq]": b"1",
        b"[peer_tag_param]": b";tag=srs1", b"[auto_media_port]": b"16000",
        b"[media_port]": b"16000"}
def wire(text):
    """SIPp template or RFC figure -> CRLF wire message with a correct Content-Length."""
    for k, v in SIPP.items():
        text = text.replace(k, v)
    text = re.sub(rb"\[field\d[^\]]*\]", b"x", text)
    text = text.replace(b"\r\n", b"\n")
    head, sep, body = text.partition(b"\n\n")
    body = body.replace(b"\n", b"\r\n")
    lines = [l for l in head.split(b"\n")]
    lines = [re.sub(rb"(?i)^(content-length|l)\s*:.*$", b"Content-Length: %d" % len(body), l)
             for l in lines]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body

sip = [(f, wire(d)) for f, d in files(r"(invite|reinvite|bye|request|200ok|debug|new-cs|old-cs)\.(sipp\.)?txt$")]
sip += [(f + ".raw", d) for f, d in files(r"(invite|bye)\.(sipp\.)?txt$")]  # as printed
small = [
    ("options", b"OPTIONS sip:rec@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKo1\r\n"
                b"Max-Forwards: 70\r\nFrom: <sip:a@192.0.2.10>;tag=1\r\nTo: <sip:rec@192.0.2.1>\r\n"
                b"Call-ID: o1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"),
    ("compact", b"BYE sip:rec@192.0.2.1 SIP/2.0\r\nv: SIP/2.0/TCP 192.0.2.10;branch=z9hG4bKb1;rport\r\n"
                b"f: <sip:a@192.0.2.10>;tag=1\r\nt: <sip:rec@192.0.2.1>;tag=2\r\ni: b1\r\n"
                b"CSeq: 2 BYE\r\nl: 0\r\n\r\n"),
    ("resp-inv", b"200 OK\r\n"),  # replaced below
]
resp = lambda status, method, branch, cseq=1: (
    b"SIP/2.0 %s\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=%s\r\n"
    b"From: <sip:srs@192.0.2.1>;tag=srs1\r\nTo: <sip:src@192.0.2.10>;tag=uac9\r\n"
    b"Call-ID: fuzz-call@192.0.2.1\r\nCSeq: %d %s\r\nContent-Length: 0\r\n\r\n"
    % (status, branch, cseq, method))
small[2] = ("resp-inv", resp(b"200 OK", b"INVITE", b"z9hG4bKfuzzinv"))
small += [("resp-180", resp(b"180 Ringing", b"INVITE", b"z9hG4bKfuzzinv")),
          ("resp-486", resp(b"486 Busy Here", b"INVITE", b"z9hG4bKfuzzinv")),
          ("resp-opt", resp(b"200 OK", b"OPTIONS", b"z9hG4bKfuzzopt"))]
sip += small
for name, msg in sip:
    put("sip_message", name, msg)
    put("tcp_framer", name, b"\x07" + msg)
    put("tcp_framer", name + ".pair", b"\x01" + b"\r\n\r\n" + msg + b"\r\n" + msg)

# Endpoint: global opts byte, then NUL-separated records of ctrl byte + datagram.
invite = dict(sip).get("vendor-metaswitch-invite.sipp.txt")
ack = (b"ACK sip:rec@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKack1\r\n"
       b"Max-Forwards: 70\r\nFrom: <sip:7602922410@192.0.2.10:5060>;tag=42sipptag001\r\n"
       b"To: <sip:7603213214@192.0.2.1:5060>;tag=uas1\r\nCall-ID: c1@192.0.2.10\r\n"
       b"CSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n")
cancel = invite.replace(b"INVITE sip", b"CANCEL sip", 1).replace(b" INVITE\r\n", b" CANCEL\r\n") if invite else b""
for opts in (0x02, 0x03, 0x04, 0x13, 0x2e):
    recs = [b"\x02" + invite, b"\x0a" + invite, b"\x42" + ack]
    put("sip_endpoint", "call-%02x" % opts, bytes([opts]) + b"\x00".join(recs))
    recs = [b"\x02" + invite, b"\x0a" + cancel, b"\xfa" + invite]
    put("sip_endpoint", "cancel-%02x" % opts, bytes([opts]) + b"\x00".join(recs))
for name, msg in sip:
    put("sip_endpoint", name, b"\x03\x05" + msg + b"\x00\x81" + msg)

# Multipart: line 1 Content-Type, line 2 Content-Disposition, rest body.
for f, d in files(r"multipart-body\.txt$"):
    m = re.search(rb"^[ \t]*--([^\r\n]+?)[ \t]*\r?$", d, re.M)
    b = m.group(1) if m else b"unique"
    put("multipart", f, b"multipart/mixed;boundary=" + b + b"\n\n" + d)
    put("multipart", f + ".quoted", b'multipart/mixed; boundary="' + b + b'"\nsession\n' + d)
for f, d in files(r"\.(txt)$"):
    _, _, body = d.replace(b"\r\n", b"\n").partition(b"\n\n")
    ct = re.search(rb"(?im)^\s*(?:content-type|c)\s*:\s*(multipart/[^\n]+)$", d)
    if ct and body:
        put("multipart", f + ".body", ct.group(1).strip() + b"\n\n" + body)
for f, d in files(r"\.sdp$"):
    put("multipart", f, b"application/sdp\nsession\n" + d)

for f, d in files(r"\.sdp$"):
    put("sdp", f, d)
for f, d in files(r"sdp-(offer|answer)\.txt$"):
    put("sdp", f, d)
for f, d in files(r"multipart-body\.txt$"):
    m = re.search(rb"(?s)(v=0.*?)(\r?\n--)", d)
    if m:
        put("sdp", f + ".sdp", m.group(1))

for f, d in files(r"\.xml$"):
    put("metadata", f, d)

# RTP: cfg byte, then records len|ctrl|delta(2)|datagram. 20 ms PCMU packets, one reordered,
# one duplicate, a timestamp jump and an SSRC change.
def rtp(seq, ts, ssrc=0x1234, pt=0, n=160):
    return struct.pack(">BBHII", 0x80, pt, seq, ts, ssrc) + bytes((i * 7) & 0xff for i in range(n))
def rec(pkt, ctrl=2, delta=160):
    return bytes([len(pkt) & 0xff, ctrl]) + struct.pack(">H", delta) + pkt[:255]
for cfg in (0, 1, 2, 4, 6):
    seqs = [(1, 0), (2, 160), (4, 480), (3, 320), (3, 320), (5, 640), (6, 64000), (7, 64160)]
    body = b"".join(rec(rtp(s, t, n=80)) for s, t in seqs)
    body += rec(rtp(100, 9999, ssrc=0x9999, n=80), ctrl=3, delta=40)
    body += rec(rtp(8, 64320, n=80), ctrl=4, delta=7)
    put("rtp_timeline", "stream-%d" % cfg, bytes([cfg]) + body)
PY
for t in "$out"/*; do
  printf '%-14s %3d files %6d bytes\n' "$(basename "$t")" "$(ls "$t" | wc -l)" "$(cat "$t"/* 2>/dev/null | wc -c)"
done
