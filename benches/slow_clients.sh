#!/usr/bin/env bash
# Slow and idle clients against `abitare serve` of the demo workspace, on loopback:
# /health latency (p50/p99 over sequential curl requests) and the server's peak RSS,
# first with no other client, then with idle and trickling sockets held open below the
# connection cap, then above it.
#
#   bash benches/slow_clients.sh
#
# Environment (all optional):
#   PHASE=15               seconds of each loaded phase
#   BELOW=400 ABOVE=700    idle sockets held in the two loaded phases (the cap is 512)
#   TRICKLE=50             sockets trickling a request head at 1 byte/s in both phases
#   BENCH_DIR=/tmp/abitare-slow-bench   scratch directory (the demo is generated there once)
#   ABITARE_BIN=/path/to/abitare        skip `cargo build --release` and use this binary
# Needs curl and python3 (the socket holder). Every phase is bounded by PHASE; the whole
# run by about 4 × PHASE plus the demo build. The server listens on 127.0.0.1 only.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${BENCH_DIR:-/tmp/abitare-slow-bench}
PHASE=${PHASE:-15}
BELOW=${BELOW:-400}
ABOVE=${ABOVE:-700}
TRICKLE=${TRICKLE:-50}
PORT=18611
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
ulimit -n 4096 2>/dev/null || true

RUST_LOG=warn "$BIN" serve --workspace "$WORK/demo/workspace" --port "$PORT" \
  >"$WORK/serve.log" 2>&1 &
SERVER=$!
HOLDER=
cleanup() {
  [ -n "$HOLDER" ] && kill "$HOLDER" 2>/dev/null || true
  kill -TERM "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
}
trap cleanup EXIT

for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "http://127.0.0.1:$PORT/health" 2>/dev/null && break
  sleep 0.2
done

# Keeps `idle` silent sockets and `trickle` sockets sending one header byte a second open
# for `seconds`, reopening whatever the server closes; prints how many it had to reopen.
holder() { # idle trickle seconds
  python3 - "$PORT" "$1" "$2" "$3" <<'PY'
import asyncio, sys, time
port, idle, trickle, seconds = (int(a) for a in sys.argv[1:])
closed = {"idle": 0, "trickle": 0}
HEAD = b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"a" * 200

async def hold(kind, stop):
    while time.monotonic() < stop:
        try:
            r, w = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        try:
            i = 0
            while time.monotonic() < stop:
                if kind == "trickle":
                    w.write(HEAD[i % len(HEAD):i % len(HEAD) + 1])
                    await w.drain()
                    i += 1
                try:
                    data = await asyncio.wait_for(r.read(1), 1.0)
                    if not data:
                        closed[kind] += 1
                        break
                except asyncio.TimeoutError:
                    pass
        except OSError:
            closed[kind] += 1
        finally:
            w.close()

async def main():
    stop = time.monotonic() + seconds
    tasks = [hold("idle", stop) for _ in range(idle)]
    tasks += [hold("trickle", stop) for _ in range(trickle)]
    await asyncio.gather(*tasks)
    print(f"closed by the server and reopened: idle {closed['idle']}, trickle {closed['trickle']}")

asyncio.run(main())
PY
}

# Sequential /health requests for `seconds` (benches/health_latency.sh).
. "$ROOT/benches/health_latency.sh"
latency() { health_latency "http://127.0.0.1:$PORT" "$1"; }

rss() { awk '/VmHWM|VmRSS/ {printf "%s %.1f MB  ", $1, $2 / 1024}' "/proc/$SERVER/status"; echo; }

echo "== abitare serve (default limits: header 10 s, idle 5 s, cap 512), demo workspace"
echo "-- no other client"
latency 5
rss
for n in "$BELOW" "$ABOVE"; do
  echo "-- $n idle + $TRICKLE trickling sockets held for ${PHASE} s"
  holder "$n" "$TRICKLE" "$PHASE" &
  HOLDER=$!
  sleep 2
  latency $((PHASE - 3))
  wait "$HOLDER" || true
  HOLDER=
  rss
done
echo "-- after the load"
sleep 1
latency 3
rss
