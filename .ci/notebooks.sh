#!/usr/bin/env bash
# Runs the analysts' notebooks (notebooks/*.ipynb) headlessly against the demo Ambito:
# installs their Python requirements, builds abitare, generates and builds the demo, exports
# it as GeoParquet, serves it on a free port, then executes every notebook with nbconvert.
# Fails on the first cell that raises. Executed copies go to a temporary folder (or to
# $NOTEBOOKS_OUT): the committed notebooks are not rewritten.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/abitare-target}"
export CARGO_TERM_COLOR=never
python="${PYTHON:-python3}"

step() { printf '\n==> %s (%s)\n' "$1" "$(date +%T)"; }

step "notebook requirements (pip)"
"$python" -m pip install --quiet --disable-pip-version-check -r notebooks/requirements.txt

step "cargo build --release"
cargo build --release
bin="$CARGO_TARGET_DIR/release/abitare"

work=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

step "demo and GeoParquet export"
"$bin" demo --dir "$work/demo" --no-serve
"$bin" export --format geoparquet --per tavolo --project "$work/demo/abitare.toml" --out "$work/export/geoparquet"
# The analyst reads the API as a member of the Tavolo, with a personal access token.
ABITARE_TOKEN=$("$bin" token crea tavolo --nome quaderno --giorni 1 --project "$work/demo/abitare.toml")
export ABITARE_TOKEN

port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
step "serving the demo on port $port"
"$bin" serve --project "$work/demo/abitare.toml" --host 127.0.0.1 --port "$port" &
server=$!
ready=""
for _ in $(seq 1 100); do
  if "$python" -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$port/health', timeout=1)" 2>/dev/null; then
    ready=yes
    break
  fi
  kill -0 "$server" 2>/dev/null || { echo "the server exited" >&2; exit 1; }
  sleep 0.2
done
[ -n "$ready" ] || { echo "the server did not answer on port $port" >&2; exit 1; }

export ABITARE_URL="http://127.0.0.1:$port"
export ABITARE_GEOPARQUET="$work/export/geoparquet"
out="${NOTEBOOKS_OUT:-$work/executed}"
mkdir -p "$out"

count=0
for nb in notebooks/*.ipynb; do
  step "notebook $nb"
  "$python" -m jupyter nbconvert --execute --to notebook \
    --ExecutePreprocessor.timeout=600 --output-dir "$out" "$nb"
  count=$((count + 1))
done
[ "$count" -gt 0 ] || { echo "no notebooks found in notebooks/" >&2; exit 1; }

step "done: $count notebook(s) executed without errors"
