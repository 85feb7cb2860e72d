#!/usr/bin/env bash
# Heavy requests against `abitare serve` of the demo workspace, on loopback: concurrent
# whole-workspace exports, clients that leave before their export is ready, and OGC filters
# that match nothing, while /health latency (p50/p99 over sequential curl requests) and the
# server's memory (VmRSS, peak VmHWM from /proc/<pid>/status) are measured.
#
#   bash benches/heavy_requests.sh
#
# Environment (all optional):
#   PHASE=20               upper bound in seconds of each loaded phase
#   KILL=4                 seconds after which the 32 XLSX clients are killed
#   BENCH_DIR=/tmp/abitare-heavy-bench   scratch directory (the demo is generated there once)
#   ABITARE_BIN=/path/to/abitare         skip `cargo build --release` and use this binary
# Needs curl and python3. Every phase is bounded by PHASE (the whole run by about
# 4 × PHASE plus the demo build). The server listens on 127.0.0.1 only.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${BENCH_DIR:-/tmp/abitare-heavy-bench}
PHASE=${PHASE:-20}
KILL=${KILL:-4}
PORT=18612
URL="http://127.0.0.1:$PORT"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}

if [ -n "${ABITARE_BIN:-}" ]; then
  BIN=$ABITARE_BIN
else
  (cd "$ROOT" && cargo build --release --quiet)
  BIN=$CARGO_TARGET_DIR/release/abitare
fi
mkdir -p "$WORK"
if [ ! -f "$WORK/demo/workspace/manifest.json" ]; then
  "$BIN" demo --dir "$WORK/demo" --no-serve >"$WORK/demo.log" 2>&1
fi

RUST_LOG=warn "$BIN" serve --workspace "$WORK/demo/workspace" --port "$PORT" \
  >"$WORK/serve.log" 2>&1 &
SERVER=$!
CLIENTS=()
cleanup() {
  for c in "${CLIENTS[@]}"; do kill "$c" 2>/dev/null || true; done
  kill -TERM "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
}
trap cleanup EXIT

for _ in $(seq 1 150); do
  curl -fsS -o /dev/null "$URL/health" 2>/dev/null && break
  sleep 0.2
done

# Sequential /health requests for `seconds` (benches/health_latency.sh).
. "$ROOT/benches/health_latency.sh"
latency() { health_latency "$URL" "$1" "   /health: "; }

rss() { awk '/VmHWM|VmRSS/ {printf "%s %.1f MB  ", $1, $2 / 1024}' "/proc/$SERVER/status" | sed 's/^/   /'; echo; }
# CPU seconds (user + system) the server has used so far.
cpu() { awk -v t="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / t}' "/proc/$SERVER/stat"; }

# `n` concurrent clients of `path`, each given at most `max` seconds; the status codes and
# times go to `out` (one line per client) once every client has ended.
clients() { # n path max out
  local n=$1 path=$2 max=$3 out=$4
  : >"$out"
  CLIENTS=()
  for _ in $(seq 1 "$n"); do
    curl -s -o /dev/null -m "$max" -w '%{http_code} %{time_total}\n' "$URL$path" >>"$out" 2>/dev/null &
    CLIENTS+=($!)
  done
}
summary() { # out seconds-allowed
  python3 - "$1" "$2" <<'PY'
import sys, collections
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
codes = collections.Counter(r[0] for r in rows)
ok = [float(r[1]) for r in rows if r[0] == "200"]
span = max(ok) if ok else 0.0
rate = f"{len(ok) / span:.2f} replies/s" if ok else "no reply"
print(f"   clients: {dict(codes)} (000 = gave up or killed), {rate}, slowest 200 after {span:.2f} s")
PY
}
waitall() { for c in "${CLIENTS[@]}"; do wait "$c" 2>/dev/null || true; done; CLIENTS=(); }

echo "== abitare serve, demo workspace ($("$BIN" --version 2>/dev/null || echo abitare))"
echo "-- no other client"
latency 3
rss

echo "-- 8 concurrent /api/export/tutto.gpkg (each at most $PHASE s)"
OUT=$(mktemp)
clients 8 /api/export/tutto.gpkg "$PHASE" "$OUT"
latency "$PHASE" &
LAT=$!
waitall
wait "$LAT"
summary "$OUT" "$PHASE"
rss

echo "-- 32 concurrent /api/export/tutto.xlsx, clients killed after $KILL s"
clients 32 /api/export/tutto.xlsx "$KILL" "$OUT"
latency "$KILL" &
LAT=$!
waitall
wait "$LAT"
summary "$OUT" "$KILL"
rss
before=$(cpu)
sleep 5
after=$(cpu)
echo "   server CPU in the 5 s after the clients left: $(python3 -c "print(f'{$after - $before:.2f}')") s"
latency 3

echo "-- 12 different exports not yet computed, clients killed after 0.5 s"
: >"$OUT"
CLIENTS=()
for l in particelle fabbricati; do
  for f in geojson csv "csv?geometry=lonlat" parquet gpkg xlsx; do
    curl -s -o /dev/null -m 0.5 -w '%{http_code} %{time_total}\n' "$URL/api/export/$l.$f" >>"$OUT" 2>/dev/null &
    CLIENTS+=($!)
  done
done
waitall
summary "$OUT" 1
before=$(cpu)
sleep 5
after=$(cpu)
echo "   server CPU in the 5 s after the clients left: $(python3 -c "print(f'{$after - $before:.2f}')") s"
rss

echo "-- 20 concurrent /collections/particelle/items?foglio=999"
clients 20 "/collections/particelle/items?foglio=999" "$PHASE" "$OUT"
latency 3 &
LAT=$!
waitall
wait "$LAT"
summary "$OUT" "$PHASE"
rss
rm -f "$OUT"

echo "-- after the load"
latency 3
rss
