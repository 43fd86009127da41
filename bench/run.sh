#!/usr/bin/env bash
# Tapline benchmark (README "Performance").
#
#   bench/run.sh [CALLS] [SECONDS]               media: CALLS concurrent calls, SECONDS of RTP each
#   bench/run.sh --rtpengine [CALLS] [SECONDS]   the same, then the same RTP through rtpengine
#                                                (userspace, recording to pcap); CPU ratio
#   bench/run.sh --setup [CALLS] [RATE]          call setup: sipp (no RTP) then tapline load
#
# Environment: RATE (calls started per second in media mode, default 200), NO_BUILD=1 (use the
# existing release binary), KEEP=1 (keep the work directory).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODE=media
case "${1:-}" in
--rtpengine) MODE=rtpengine; shift ;;
--setup) MODE=setup; shift ;;
-h | --help) sed -n '2,11p' "$0"; exit 0 ;;
esac
CALLS=${1:-1000}
ARG2=${2:-30}
RATE=${RATE:-200}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$TARGET/release/tapline
HZ=$(getconf CLK_TCK)

if [ "${NO_BUILD:-0}" != 1 ]; then
    (cd "$ROOT" && cargo build --release -p tapline >&2)
fi
WORK=$(mktemp -d /tmp/tapline-bench.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    [ "${KEEP:-0}" = 1 ] && echo "work directory: $WORK" >&2 || rm -rf "$WORK"
}
trap cleanup EXIT
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
status_kib() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
py() { python3 - "$@"; }

start_server() {
    mkdir -p "$WORK/data"
    "$BIN" serve --sip-listen 127.0.0.1:0 --data-dir "$WORK/data" --rtp-ports 20000-29999 \
        2>"$WORK/serve.log" &
    SERVER=$!
    PIDS+=("$SERVER")
    for _ in $(seq 100); do
        SIP=$(grep -o 'sip=127.0.0.1:[0-9]*' "$WORK/serve.log" | head -1 | cut -d= -f2 || true)
        [ -n "$SIP" ] && return 0
        sleep 0.1
    done
    echo "server did not start:" >&2
    cat "$WORK/serve.log" >&2
    exit 1
}

# Wait until the catalogue holds N recordings and none is active; prints the seconds waited.
wait_final() {
    py "$WORK/data/catalogue.sqlite" "$1" <<'EOF'
import sqlite3, sys, time
db, n = sys.argv[1], int(sys.argv[2])
t0 = time.time()
while time.time() - t0 < 300:
    c = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    total, active = c.execute(
        "SELECT COUNT(*), COALESCE(SUM(state = 'active'), 0) FROM recordings").fetchone()
    c.close()
    if total >= n and active == 0:
        print(f"{time.time() - t0:.2f}")
        sys.exit(0)
    time.sleep(0.05)
sys.exit("recordings still active after 300 s")
EOF
}

# Catalogue figures: recorded packets, losses, states, BYE-to-final latency per call.
catalogue_report() {
    py "$WORK/data/catalogue.sqlite" "$WORK/calls.jsonl" <<'EOF'
import datetime, json, sqlite3, sys
c = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
rec, lost = c.execute(
    "SELECT COALESCE(SUM(packets_received), 0), COALESCE(SUM(packets_lost), 0) FROM streams").fetchone()
states = dict(c.execute("SELECT state, COUNT(*) FROM recordings GROUP BY state").fetchall())
ended = dict(c.execute("SELECT call_id, ended_at FROM recordings").fetchall())
lat = []
for line in open(sys.argv[2]):
    r = json.loads(line)
    e, bye = ended.get(r["call_id"]), r.get("bye_ms")
    if e and bye:
        t = datetime.datetime.strptime(e, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=datetime.timezone.utc).timestamp() * 1000
        lat.append(t - bye)
lat.sort()
pct = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] if lat else float("nan")
print(json.dumps({"recorded": rec, "lost_by_server_counters": lost, "states": states,
                  "bye_to_final_ms": {"p50": pct(.5), "p99": pct(.99), "max": lat[-1] if lat else None,
                                      "n": len(lat)}}))
EOF
}

media_run() {
    start_server
    sleep 0.5
    local base_rss cpu0 cpu1 wall0 wall1
    base_rss=$(status_kib "$SERVER" VmRSS)
    cpu0=$(cpu_ticks "$SERVER")
    wall0=$(date +%s.%N)
    set +e
    "$BIN" load --srs "$SIP" --calls "$CALLS" --concurrency "$CALLS" --rate "$RATE" \
        --duration "$SECS" --json --calls-out "$WORK/calls.jsonl" >"$WORK/load.json"
    LOAD_RC=$?
    set -e
    FINAL_WAIT=$(wait_final "$CALLS")
    wall1=$(date +%s.%N)
    cpu1=$(cpu_ticks "$SERVER")
    HWM=$(status_kib "$SERVER" VmHWM)
    STATS=$("$BIN" stats --data-dir "$WORK/data" 2>/dev/null | tr -d '\n ' || true)
    CAT=$(catalogue_report)
    py "$WORK/load.json" "$CAT" "$cpu0" "$cpu1" "$HZ" "$HWM" "$base_rss" "$CALLS" "$wall0" "$wall1" \
        "$FINAL_WAIT" "$LOAD_RC" "${STATS:-}" <<'EOF'
import json, sys
load, cat = json.load(open(sys.argv[1])), json.loads(sys.argv[2])
cpu0, cpu1, hz, hwm, base, calls = (int(sys.argv[i]) for i in (3, 4, 5, 6, 7, 8))
wall = float(sys.argv[10]) - float(sys.argv[9])
cpu_s = (cpu1 - cpu0) / hz
sent, rec = load["packets"]["sent"], cat["recorded"]
stats = json.loads(sys.argv[13]) if sys.argv[13] else None
print(f"load generator exit status {sys.argv[12]}; ok={load['ok']}")
print(f"calls: {load['calls']['answered']}/{load['calls']['attempted']} answered, "
      f"failed {load['calls']['failed']}, BYE {load['bye']}, catalogue states {cat['states']}")
s = load["setup_ms"] or {}
print(f"setup rate {load['calls']['setup_rate_per_s'] or 0:.0f}/s, INVITE->200 ms: "
      f"p50 {s.get('p50')} p90 {s.get('p90')} p99 {s.get('p99')} max {s.get('max')}")
print(f"packets: generator sent {sent}, server recorded {rec}, lost {sent - rec} "
      f"(server loss counters {cat['lost_by_server_counters']})")
if stats:
    print(f"tapline stats: packets_received {stats.get('packets_received')}, packets_lost {stats.get('packets_lost')}")
print(f"server CPU {cpu_s:.2f} s over {wall:.1f} s wall = {cpu_s * 1e6 / max(rec, 1):.2f} us per recorded packet")
print(f"server peak RSS {hwm / 1024:.1f} MiB (idle {base / 1024:.1f} MiB) = "
      f"{hwm / calls:.1f} KiB per call ({(hwm - base) / calls:.1f} KiB above idle)")
b = cat["bye_to_final_ms"]
print(f"BYE sent -> recording final (catalogue ended_at): p50 {b['p50']:.0f} ms, p99 {b['p99']:.0f} ms, "
      f"max {b['max']:.0f} ms over {b['n']} calls; all final {sys.argv[11]} s after the last BYE")
g = load["generator"]
print(f"generator CPU {g['cpu_s']:.2f} s = {g['cpu_us_per_packet']:.2f} us per packet; "
      f"send lateness p99 {load['packets']['send_lateness_ms']['p99']} ms")
json.dump({"tapline_us_per_packet": cpu_s * 1e6 / max(rec, 1), "sent": sent}, open("/dev/fd/3", "w"))
EOF
} 3>"$WORK/media.json"

rtpengine_run() {
    command -v rtpengine >/dev/null || {
        apt-get install -y -qq rtpengine-daemon >/dev/null
    }
    mkdir -p "$WORK/rtpe"
    local ng=127.0.0.1:$((22000 + RANDOM % 1000))
    rtpengine --table=-1 --interface=127.0.0.1 --listen-ng="$ng" --port-min=30000 \
        --port-max=39999 --recording-dir="$WORK/rtpe" --recording-method=pcap --foreground \
        --log-stderr --log-level=4 2>"$WORK/rtpe.log" &
    local rp=$!
    PIDS+=("$rp")
    sleep 1
    # A sink that never reads: rtpengine's forwarded copies are dropped by the kernel.
    python3 -c 'import socket,time;s=socket.socket(2,2);s.bind(("127.0.0.1",0));print(s.getsockname()[1],flush=True);time.sleep(1e6)' >"$WORK/sink" &
    PIDS+=("$!")
    for _ in $(seq 100); do [ -s "$WORK/sink" ] && break; sleep 0.1; done
    python3 "$ROOT/bench/ng.py" setup "$ng" "$CALLS" "127.0.0.1:$(cat "$WORK/sink")" "$WORK/pairs"
    local cpu0 cpu1
    cpu0=$(cpu_ticks "$rp")
    "$BIN" load --srs 127.0.0.1:9 --rtp-to "$WORK/pairs" --concurrency "$CALLS" --rate "$RATE" \
        --duration "$SECS" --json >"$WORK/rtpe-load.json"
    sleep 1
    python3 "$ROOT/bench/ng.py" delete "$ng" "$CALLS"
    cpu1=$(cpu_ticks "$rp")
    py "$WORK/rtpe-load.json" "$WORK/media.json" "$cpu0" "$cpu1" "$HZ" "$WORK/rtpe" <<'EOF'
import json, os, sys
load, media = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
cpu_s = (int(sys.argv[4]) - int(sys.argv[3])) / int(sys.argv[5])
sent = load["packets"]["sent"]
pcap = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(sys.argv[6]) for f in fs)
r = cpu_s * 1e6 / max(sent, 1)
print(f"rtpengine (userspace, pcap recording): {sent} packets, CPU {cpu_s:.2f} s = {r:.2f} us per packet, "
      f"{pcap / 1e6:.1f} MB of pcap")
t = media["tapline_us_per_packet"]
print(f"CPU per packet, tapline / rtpengine = {t:.2f} / {r:.2f} = {t / r if r else float('nan'):.2f}")
EOF
}

setup_run() {
    local rate=$ARG2
    start_server
    local cpu0 cpu1 t0 t1
    cpu0=$(cpu_ticks "$SERVER")
    t0=$(date +%s.%N)
    (cd "$WORK" && sipp -sf "$ROOT/bench/siprec_uac_nortp.xml" -m "$CALLS" -r "$rate" -l 5000 \
        -t u1 -i 127.0.0.1 -p 0 "$SIP" -timeout 300 -trace_rtt -rtt_freq 1 -bg >/dev/null 2>&1 ||
        true)
    # -bg detaches: wait for sipp to finish.
    while pgrep -f "siprec_uac_nortp.xml.*$SIP" >/dev/null; do sleep 0.2; done
    t1=$(date +%s.%N)
    cpu1=$(cpu_ticks "$SERVER")
    py "$WORK" "$t0" "$t1" "$cpu0" "$cpu1" "$HZ" "$CALLS" <<'EOF'
import glob, sys
work, t0, t1 = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
cpu = (int(sys.argv[5]) - int(sys.argv[4])) / int(sys.argv[6])
rtts = []
for f in glob.glob(f"{work}/*_rtt.csv"):
    for line in open(f).read().splitlines()[1:]:
        parts = line.split(";")
        if len(parts) >= 3 and parts[1]:
            rtts.append(float(parts[1]))
rtts.sort()
pct = lambda p: rtts[min(len(rtts) - 1, int(p * len(rtts)))] if rtts else float("nan")
print(f"sipp: {len(rtts)} calls answered in {t1 - t0:.1f} s = {len(rtts) / (t1 - t0):.0f} setups/s; "
      f"INVITE->200 ms p50 {pct(.5):.2f} p99 {pct(.99):.2f} max {rtts[-1] if rtts else 'n/a'}; "
      f"server CPU {cpu:.2f} s = {cpu * 1e3 / max(len(rtts), 1):.2f} ms per call")
EOF
    echo "tapline load (same server, no RTP, hdrhistogram):"
    "$BIN" load --srs "$SIP" --calls "$CALLS" --concurrency 2000 --rate "$rate" --duration 0 |
        grep -E "^(calls|setup|BYE|result)" || true
}

echo "machine: $(nproc) cores, $(uname -r); tapline $("$BIN" --version)"
case $MODE in
media)
    SECS=$ARG2
    echo "== media: $CALLS concurrent calls, $SECS s of RTP each, started at $RATE/s =="
    media_run
    ;;
rtpengine)
    SECS=$ARG2
    echo "== media: $CALLS concurrent calls, $SECS s of RTP each, started at $RATE/s =="
    media_run
    echo "== the same RTP through rtpengine =="
    rtpengine_run
    ;;
setup)
    echo "== call setup: $CALLS calls at $ARG2/s =="
    setup_run
    ;;
esac
