#!/usr/bin/env bash
# Vector tiles: abitare (on the fly with no cache, cached, PMTiles pyramid) against Martin
# (GeoJSON source on the fly, MBTiles made by tippecanoe) and tippecanoe's pyramid build.
#
#   bash benches/tiles_vs_martin.sh
#
# One command runs everything and prints a table. Environment (all optional):
#   DURATION=30 THREADS=2 CONNECTIONS=32   wrk settings for each run
#   BENCH_DIR=/tmp/abitare-tiles-bench     scratch directory (recreated)
#   MARTIN=/path/to/martin                 default: `martin` on PATH, else /work/tools/martin/bin/martin
#   TIPPECANOE=/path/to/tippecanoe         default: `tippecanoe` on PATH, else /work/tools/tippecanoe-venv/bin/tippecanoe
#   ABITARE_BIN=/path/to/abitare           skip `cargo build --release` and use this binary
# Needs wrk, curl, python3. Without Martin or tippecanoe their rows say so and the rest runs.
# Every server listens on 127.0.0.1 only; each load run is bounded by DURATION.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${BENCH_DIR:-/tmp/abitare-tiles-bench}
DURATION=${DURATION:-30}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
PORT_ABITARE=18601
PORT_MARTIN_GEOJSON=18602
PORT_MARTIN_MBTILES=18603
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}

find_tool() { # name fallback
  if [ -n "${!1:-}" ]; then echo "${!1}"; return; fi
  local lower
  lower=$(echo "$1" | tr 'A-Z' 'a-z')
  if command -v "$lower" >/dev/null 2>&1; then command -v "$lower"; return; fi
  if [ -x "$2" ]; then echo "$2"; return; fi
  echo ""
}
MARTIN_BIN=$(find_tool MARTIN /work/tools/martin/bin/martin)
TIPPECANOE_BIN=$(find_tool TIPPECANOE /work/tools/tippecanoe-venv/bin/tippecanoe)
command -v wrk >/dev/null || { echo "wrk non trovato (apt-get install wrk)" >&2; exit 1; }

rm -rf "$WORK"
mkdir -p "$WORK"
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

log() { echo "== $*" >&2; }

# --- abitare binary --------------------------------------------------------------------
if [ -n "${ABITARE_BIN:-}" ]; then
  cp "$ABITARE_BIN" "$WORK/abitare"
else
  log "cargo build --release"
  (cd "$ROOT" && cargo build --release --quiet)
  cp "$CARGO_TARGET_DIR/release/abitare" "$WORK/abitare"
fi
ABITARE="$WORK/abitare"
"$ABITARE" tiles --help >/dev/null

# --- data: the demo, parcels doubled to ~55k (a copy shifted east) ----------------------
log "demo and scaled workspace"
"$ABITARE" demo --no-serve --dir "$WORK/demo" >/dev/null 2>&1
cp -r "$WORK/demo/workspace" "$WORK/scaled"
python3 - "$WORK/scaled/model.json" <<'EOF'
import json, sys
path = sys.argv[1]
m = json.load(open(path))
ps = m["particelle"]
xs = [c["x"] for p in ps for poly in p["geometry"] for c in poly["exterior"]]
shift = max(xs) - min(xs) + 0.01
copy = []
for p in ps:
    q = dict(p)
    q["riferimento"] = "X" + p["riferimento"]
    q["geometry"] = [
        {
            "exterior": [{"x": c["x"] + shift, "y": c["y"]} for c in poly["exterior"]],
            "interiors": [[{"x": c["x"] + shift, "y": c["y"]} for c in r] for r in poly["interiors"]],
        }
        for poly in p["geometry"]
    ]
    copy.append(q)
m["particelle"] = ps + copy
json.dump(m, open(path, "w"))
print(len(m["particelle"]), file=sys.stderr)
EOF
NPARCELS=$(python3 -c "import json;print(len(json.load(open('$WORK/scaled/model.json'))['particelle']))")

wait_http() { # url
  for _ in $(seq 1 200); do
    if curl -s -o /dev/null "$1"; then return 0; fi
    sleep 0.25
  done
  echo "server non raggiungibile: $1" >&2
  return 1
}

start_abitare() { # cache_mb
  ABITARE_TILE_CACHE_MB=$1 "$ABITARE" serve --workspace "$WORK/scaled" --port "$PORT_ABITARE" \
    >"$WORK/abitare-serve.log" 2>&1 &
  ABITARE_PID=$!
  PIDS+=("$ABITARE_PID")
  wait_http "http://127.0.0.1:$PORT_ABITARE/health"
  # Prepare the tile source before measuring.
  curl -s -o /dev/null "http://127.0.0.1:$PORT_ABITARE/tiles.json"
}
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# --- the same parcels as GeoJSON --------------------------------------------------------
log "GeoJSON export of $NPARCELS parcels"
start_abitare 0
mkdir -p "$WORK/geojson"
curl -s -o "$WORK/geojson/particelle.geojson" \
  "http://127.0.0.1:$PORT_ABITARE/api/layers/particelle?limit=100000"

# --- tile list: every tile with parcels at z12–z14, seeded samples at z15 and z16 -------
python3 - "$WORK/geojson/particelle.geojson" "$WORK/tiles.txt" <<'EOF'
import json, math, random, sys
fc = json.load(open(sys.argv[1]))
def tx(lon, z): return int((lon + 180) / 360 * 2**z)
def ty(lat, z):
    r = math.radians(lat)
    return int((1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * 2**z)
boxes = []
for f in fc["features"]:
    cs = [c for poly in f["geometry"]["coordinates"] for c in poly[0]]
    xs = [c[0] for c in cs]; ys = [c[1] for c in cs]
    boxes.append((min(xs), min(ys), max(xs), max(ys)))
rng = random.Random(42)
tiles = []
for z, sample in [(12, None), (13, None), (14, None), (15, 400), (16, 1000)]:
    s = set()
    for b in boxes:
        for x in range(tx(b[0], z), tx(b[2], z) + 1):
            for y in range(ty(b[3], z), ty(b[1], z) + 1):
                s.add((z, x, y))
    s = sorted(s)
    if sample and len(s) > sample:
        s = rng.sample(s, sample)
    tiles += s
rng.shuffle(tiles)
with open(sys.argv[2], "w") as out:
    for z, x, y in tiles:
        out.write(f"{z}/{x}/{y}\n")
print(len(tiles), file=sys.stderr)
EOF
NTILES=$(wc -l <"$WORK/tiles.txt")
grep -E '^1[456]/' "$WORK/tiles.txt" >"$WORK/tiles_z14.txt"

cat >"$WORK/tiles.lua" <<'EOF'
-- Cycles through the tile list; each thread starts at its own offset.
local prefix = os.getenv("TILE_PREFIX") or "/"
local suffix = os.getenv("TILE_SUFFIX") or ""
local list = os.getenv("TILE_LIST")
local paths = {}
for line in io.lines(list) do paths[#paths + 1] = prefix .. line .. suffix end
local counter = 0
local threads = {}
function setup(thread)
  thread:set("offset", #threads * 7919)
  table.insert(threads, thread)
end
function init(args)
  counter = offset or 0
end
function request()
  counter = counter + 1
  local p = paths[(counter % #paths) + 1]
  return wrk.format("GET", p, { ["Accept-Encoding"] = "gzip" })
end
function done(summary, latency, requests)
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT %.1f %.3f %.3f %d %d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, bad))
end
EOF

RESULTS="$WORK/results.txt"
: >"$RESULTS"
run_wrk() { # label base_url prefix suffix list
  local out
  out=$(TILE_PREFIX=$3 TILE_SUFFIX=$4 TILE_LIST=$5 \
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s --latency -s "$WORK/tiles.lua" "$2" 2>&1)
  echo "$out" >"$WORK/wrk-$(echo "$1" | tr ' /' '__').log"
  local r
  r=$(echo "$out" | grep '^RESULT' | tail -1)
  echo "$1|${r#RESULT }" >>"$RESULTS"
  log "$1: ${r#RESULT }"
}
warm() { # base_url prefix suffix list
  TILE_PREFIX=$2 TILE_SUFFIX=$3 TILE_LIST=$4 \
    wrk -t"$THREADS" -c"$CONNECTIONS" -d10s -s "$WORK/tiles.lua" "$1" >/dev/null 2>&1 || true
}

A="http://127.0.0.1:$PORT_ABITARE"
log "abitare on the fly (cache off), $NTILES tiles z12–z16"
run_wrk "abitare on the fly" "$A" /tiles/particelle/ .mvt "$WORK/tiles.txt"
run_wrk "abitare on the fly z14+" "$A" /tiles/particelle/ .mvt "$WORK/tiles_z14.txt"
stop "$ABITARE_PID"

log "abitare cached"
start_abitare 2048
warm "$A" /tiles/particelle/ .mvt "$WORK/tiles.txt"
run_wrk "abitare cached" "$A" /tiles/particelle/ .mvt "$WORK/tiles.txt"
stop "$ABITARE_PID"

# --- pyramid builds -------------------------------------------------------------------
BUILD="$WORK/builds.txt"
: >"$BUILD"
log "abitare tiles z12–z16"
t0=$(date +%s.%N)
"$ABITARE" tiles --workspace "$WORK/scaled" --out "$WORK/scaled.pmtiles" --minzoom 12 --maxzoom 16 \
  2>"$WORK/abitare-tiles.log"
t1=$(date +%s.%N)
echo "abitare tiles (all public layers, z12–16, PMTiles)|$(python3 -c "print(round($t1 - $t0, 2))")|$(stat -c %s "$WORK/scaled.pmtiles")" >>"$BUILD"
HAVE_MBTILES=0
if [ -n "$TIPPECANOE_BIN" ]; then
  log "tippecanoe z12–z16"
  mkdir -p "$WORK/mbtiles"
  t0=$(date +%s.%N)
  "$TIPPECANOE_BIN" -q -o "$WORK/mbtiles/particelle_mbt.mbtiles" -Z12 -z16 -l particelle --force \
    "$WORK/geojson/particelle.geojson" 2>"$WORK/tippecanoe.log"
  t1=$(date +%s.%N)
  echo "tippecanoe (parcels, z12–16, MBTiles)|$(python3 -c "print(round($t1 - $t0, 2))")|$(stat -c %s "$WORK/mbtiles/particelle_mbt.mbtiles")" >>"$BUILD"
  HAVE_MBTILES=1
else
  echo "tippecanoe|mancante|" >>"$BUILD"
fi

# --- Martin ---------------------------------------------------------------------------
if [ -n "$MARTIN_BIN" ]; then
  log "Martin $("$MARTIN_BIN" --version 2>/dev/null || true), GeoJSON source, cache off"
  "$MARTIN_BIN" --listen-addresses "127.0.0.1:$PORT_MARTIN_GEOJSON" --cache-size 0 \
    "$WORK/geojson/particelle.geojson" >"$WORK/martin-geojson.log" 2>&1 &
  M1=$!
  PIDS+=("$M1")
  M="http://127.0.0.1:$PORT_MARTIN_GEOJSON"
  wait_http "$M/catalog"
  run_wrk "Martin GeoJSON" "$M" /particelle/ "" "$WORK/tiles.txt"
  run_wrk "Martin GeoJSON z14+" "$M" /particelle/ "" "$WORK/tiles_z14.txt"
  stop "$M1"
  if [ "$HAVE_MBTILES" = 1 ]; then
    log "Martin MBTiles (default cache)"
    "$MARTIN_BIN" --listen-addresses "127.0.0.1:$PORT_MARTIN_MBTILES" \
      "$WORK/mbtiles/particelle_mbt.mbtiles" >"$WORK/martin-mbtiles.log" 2>&1 &
    M2=$!
    PIDS+=("$M2")
    M="http://127.0.0.1:$PORT_MARTIN_MBTILES"
    wait_http "$M/catalog"
    warm "$M" /particelle_mbt/ "" "$WORK/tiles.txt"
    run_wrk "Martin MBTiles" "$M" /particelle_mbt/ "" "$WORK/tiles.txt"
    stop "$M2"
  fi
else
  echo "Martin GeoJSON|mancante" >>"$RESULTS"
  echo "Martin MBTiles|mancante" >>"$RESULTS"
fi

# --- table ----------------------------------------------------------------------------
python3 - "$RESULTS" "$BUILD" "$NPARCELS" "$NTILES" "$DURATION" "$THREADS" "$CONNECTIONS" <<'EOF'
import sys
res, build, nparcels, ntiles, dur, thr, conn = sys.argv[1:]
rows = {}
for line in open(res):
    label, _, rest = line.strip().partition("|")
    parts = rest.split()
    rows[label] = parts if len(parts) == 5 else None
print(f"\nparcels: {nparcels}, tiles in the list: {ntiles} (z12–z16), wrk {thr} threads, {conn} connections, {dur} s, timeout 10 s, Accept-Encoding: gzip\n")
print(f"| {'run':<26} | {'req/s':>9} | {'p50 ms':>8} | {'p99 ms':>8} | {'requests':>9} | {'errors':>6} |")
print(f"|{'-'*28}|{'-'*11}|{'-'*10}|{'-'*10}|{'-'*11}|{'-'*8}|")
for label, p in rows.items():
    if p is None:
        print(f"| {label:<26} | {'missing':>9} | {'':>8} | {'':>8} | {'':>9} | {'':>6} |")
    else:
        print(f"| {label:<26} | {float(p[0]):>9.0f} | {float(p[1]):>8.2f} | {float(p[2]):>8.2f} | {int(p[3]):>9} | {int(p[4]):>6} |")
def rps(l):
    p = rows.get(l)
    return float(p[0]) if p else None
print()
for a, b, goal in [("abitare on the fly", "Martin GeoJSON", "≥ 100×"),
                   ("abitare on the fly z14+", "Martin GeoJSON z14+", "≥ 100×"),
                   ("abitare cached", "Martin MBTiles", "≥ 0.8×")]:
    ra, rb = rps(a), rps(b)
    if ra and rb:
        print(f"{a} / {b}: {ra / rb:.2f}× (goal {goal})")
    else:
        print(f"{a} / {b}: n/a ({b} missing)")
print("\n| pyramid build | seconds | bytes |\n|---|---|---|")
for line in open(build):
    print("| " + " | ".join(line.strip().split("|")) + " |")
EOF
echo
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); logs in $WORK"
