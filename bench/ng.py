#!/usr/bin/env python3
"""Minimal rtpengine NG-protocol client (bencode over UDP) for bench/run.sh --rtpengine.

  ng.py setup NG_HOST:PORT CALLS SINK_HOST:PORT OUT_FILE
      For each call: `offer` from side A (two sendonly PCMU m-lines, recording on), `answer`
      from side B (media to SINK); writes the two rtpengine ports A must send to, one call per
      line (`127.0.0.1:P1 127.0.0.1:P2`), the input of `tapline load --rtp-to`.
  ng.py delete NG_HOST:PORT CALLS
      Deletes the calls (rtpengine closes their pcap files).
"""
import re
import socket
import sys


def benc(v):
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, str):
        v = v.encode()
    if isinstance(v, bytes):
        return b"%d:%s" % (len(v), v)
    if isinstance(v, list):
        return b"l" + b"".join(benc(x) for x in v) + b"e"
    if isinstance(v, dict):
        return b"d" + b"".join(benc(k) + benc(v[k]) for k in sorted(v)) + b"e"
    raise TypeError(v)


def bdec(b, i=0):
    c = b[i:i + 1]
    if c == b"i":
        j = b.index(b"e", i)
        return int(b[i + 1:j]), j + 1
    if c == b"l":
        i += 1
        out = []
        while b[i:i + 1] != b"e":
            v, i = bdec(b, i)
            out.append(v)
        return out, i + 1
    if c == b"d":
        i += 1
        out = {}
        while b[i:i + 1] != b"e":
            k, i = bdec(b, i)
            v, i = bdec(b, i)
            out[k.decode()] = v
        return out, i + 1
    j = b.index(b":", i)
    n = int(b[i:j])
    return b[j + 1:j + 1 + n], j + 1 + n


class Ng:
    def __init__(self, addr):
        host, port = addr.rsplit(":", 1)
        self.addr = (host, int(port))
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.settimeout(5)
        self.n = 0

    def cmd(self, d):
        self.n += 1
        cookie = b"c%d" % self.n
        for _ in range(3):
            self.sock.sendto(cookie + b" " + benc(d), self.addr)
            try:
                while True:
                    data, _ = self.sock.recvfrom(65535)
                    if data.startswith(cookie + b" "):
                        r, _ = bdec(data, len(cookie) + 1)
                        if r.get("result") != b"ok":
                            raise SystemExit(f"rtpengine refused {d['command']}: {r}")
                        return r
            except socket.timeout:
                continue
        raise SystemExit(f"rtpengine did not answer {d['command']}")


def sdp(ip, ports, direction):
    s = f"v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=bench\r\nc=IN IP4 {ip}\r\nt=0 0\r\n"
    for label, p in zip(("1", "2"), ports):
        s += f"m=audio {p} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=label:{label}\r\na={direction}\r\n"
    return s


def main():
    cmd, ng = sys.argv[1], Ng(sys.argv[2])
    calls = int(sys.argv[3])
    if cmd == "setup":
        sink_ip, sink_port = sys.argv[4].rsplit(":", 1)
        with open(sys.argv[5], "w") as out:
            for i in range(calls):
                base = {"call-id": f"bench-{i}", "from-tag": f"a{i}"}
                ng.cmd({**base, "command": "offer", "sdp": sdp("127.0.0.1", (40000, 40002), "sendonly"),
                        "record call": "yes", "flags": ["record-call"]})
                r = ng.cmd({**base, "command": "answer", "to-tag": f"b{i}",
                            "sdp": sdp(sink_ip, (int(sink_port), int(sink_port)), "recvonly")})
                ports = re.findall(rb"m=audio (\d+) ", r["sdp"])
                if len(ports) != 2:
                    raise SystemExit(f"unexpected answer SDP: {r['sdp']!r}")
                out.write(f"127.0.0.1:{int(ports[0])} 127.0.0.1:{int(ports[1])}\n")
    elif cmd == "delete":
        for i in range(calls):
            ng.cmd({"command": "delete", "call-id": f"bench-{i}", "from-tag": f"a{i}"})
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
