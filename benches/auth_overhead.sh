#!/usr/bin/env bash
# What accounts cost the server, on loopback against `abitare serve` of the demo workspace:
# 1. cached-tile throughput anonymous and with a personal access token (Bearer), in the same
#    run, alternated (anonymous, token, anonymous, token), with the ratio;
# 2. /health latency (p50/p99 over sequential curl requests) idle, then while 20 clients sign
#    in concurrently and without pause (each login is one argon2id verification), with the
#    logins per second and their statuses.
#
#   bash benches/auth_overhead.sh
#
# Environment (all optional):
#   DURATION=15 THREADS=2 CONNECTIONS=32   wrk settings of each throughput run
#   PHASE=15                               seconds of each latency phase
#   BENCH_DIR=/tmp/abitare-auth-bench      scratch directory (the demo is generated there once)
#   ABITARE_BIN=/path/to/abitare           skip `cargo build --release` and use this binary
# Needs wrk, curl and python3. The server listens on 127.0.0.1 only.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${BENCH_DIR:-/tmp/abitare-auth-bench}
DURATION=${DURATION:-15}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
PHASE=${PHASE:-15}
PORT=18613
URL="http://127.0.0.1:$PORT"
LOGINS=20
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
# shellcheck source=benches/health_latency.sh
. "$ROOT/benches/health_latency.sh"
command -v wrk >/dev/null || { echo "wrk non trovato (apt-get install wrk)" >&2; exit 1; }

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
PROJECT="$WORK/demo/abitare.toml"
DB="$WORK/demo/abitare.sqlite"
TOKEN=$("$BIN" token crea ufficio --nome banco --giorni 1 --db "$DB" 2>/dev/null)
# One account per concurrent client: the throttle counts attempts per account.
PASSWORD="banco-di-prova-$(date +%s)-password"
for i in $(seq 1 $LOGINS); do
  if ! "$BIN" utenti elenco --db "$DB" | grep -q "^banco$i "; then
    echo "$PASSWORD" | "$BIN" utenti aggiungi "banco$i" --ruolo tavolo --password-stdin --db "$DB" 2>/dev/null
  else
    echo "$PASSWORD" | "$BIN" utenti password "banco$i" --password-stdin --db "$DB" 2>/dev/null
  fi
done

RUST_LOG=warn "$BIN" serve --project "$PROJECT" --port "$PORT" >"$WORK/serve.log" 2>&1 &
SERVER=$!
CLIENTS=()
cleanup() {
  for c in "${CLIENTS[@]}"; do kill "$c" 2>/dev/null || true; done
  kill "$SERVER" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  curl -fsS "$URL/health" >/dev/null 2>&1 && break
  sleep 0.1
done

# A tile of the comuni layer over the Ambito: the same layer for both callers.
TILE=$(python3 - "$URL" <<'PY'
import json, math, sys, urllib.request
b = json.load(urllib.request.urlopen(sys.argv[1] + "/api/ambito"))["bbox"]
lon, lat, z = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2, 12
n = 2 ** z
x = int((lon + 180) / 360 * n)
y = int((1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat))) / math.pi) / 2 * n)
print(f"/tiles/comuni/{z}/{x}/{y}.mvt")
PY
)
# Warm both audiences' caches.
curl -fsS -o /dev/null "$URL$TILE"
curl -fsS -o /dev/null -H "Authorization: Bearer $TOKEN" "$URL$TILE"

rate() { awk '/Requests\/sec/ {print $2}'; }
echo "== cached tile $TILE, wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s"
declare -a ANON BEARER
for round in 1 2; do
  a=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" "$URL$TILE" | rate)
  b=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" -H "Authorization: Bearer $TOKEN" "$URL$TILE" | rate)
  ANON+=("$a")
  BEARER+=("$b")
  echo "round $round: anonymous $a req/s, Bearer $b req/s"
done
python3 - "${ANON[@]}" "${BEARER[@]}" <<'PY'
import sys
v = [float(x) for x in sys.argv[1:]]
a, b = v[: len(v) // 2], v[len(v) // 2 :]
ma, mb = sum(a) / len(a), sum(b) / len(b)
print(f"mean: anonymous {ma:.0f} req/s, Bearer {mb:.0f} req/s, Bearer/anonymous {mb / ma:.3f}")
PY

echo "== /health latency"
health_latency "$URL" "$PHASE" "idle:             "
login_loop() {
  local i=$1 out=$2
  while true; do
    curl -s -o /dev/null -w '%{http_code}\n' -m 30 -X POST \
      -H "Origin: $URL" --data-urlencode "utente=banco$i" --data-urlencode "password=$PASSWORD" \
      "$URL/accesso" >>"$out" || echo 000 >>"$out"
  done
}
STATUS="$WORK/logins.txt"
: >"$STATUS"
for i in $(seq 1 $LOGINS); do
  login_loop "$i" "$STATUS" &
  CLIENTS+=($!)
done
sleep 1
START=$(wc -l <"$STATUS")
health_latency "$URL" "$PHASE" "$LOGINS logins:        "
END=$(wc -l <"$STATUS")
for c in "${CLIENTS[@]}"; do kill "$c" 2>/dev/null || true; done
CLIENTS=()
python3 - "$STATUS" "$START" "$END" "$PHASE" <<'PY'
import collections, sys
rows = [l.strip() for l in open(sys.argv[1]) if l.strip()]
start, end, phase = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
c = collections.Counter(rows)
print(f"logins during the phase: {(end - start) / phase:.1f}/s; statuses over the run: {dict(c)}")
PY
