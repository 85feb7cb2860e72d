#!/bin/sh
# Copia MapLibre GL JS e PMTiles (con fflate, da cui PMTiles dipende) dai
# pacchetti npm (versioni fissate in package.json / package-lock.json) in
# web/vendor/, così la mappa funziona senza CDN e il binario Rust può
# incorporare i file al momento della compilazione.
#
#   sh web/vendor.sh           # npm ci + copia + SHA256SUMS
#   sh web/vendor.sh --check   # npm ci + verifica che web/vendor/ coincida col pacchetto
#
# MapLibre 6 è distribuito solo come modulo ES: maplibre-gl.mjs carica il
# worker dal file gemello maplibre-gl-worker.mjs (stesso URL di base), quindi
# vanno copiati entrambi. Le source map (*.map) non servono a runtime e non
# vengono copiate.
#
# PMTiles è copiato nella build ES (dist/esm/index.js → pmtiles.mjs), che importa
# "fflate": index.html lo risolve con una import map verso fflate.mjs (la build ES
# per browser di fflate), senza modificare i file dei pacchetti. Licenze: MapLibre
# BSD-3-Clause (LICENSE.txt), fflate MIT (LICENSE-fflate.txt), pmtiles BSD-3-Clause
# (dichiarata nel suo package.json: il pacchetto npm non contiene un file di licenza).
set -eu

cd "$(dirname "$0")"
WEB_DIR=$(pwd)
VENDOR="$WEB_DIR/vendor"
DIST="$WEB_DIR/node_modules/maplibre-gl/dist"
NM="$WEB_DIR/node_modules"

# file da incorporare: "origine:destinazione", origine relativa a node_modules/
FILES="maplibre-gl/dist/maplibre-gl.mjs:maplibre-gl.mjs
maplibre-gl/dist/maplibre-gl-worker.mjs:maplibre-gl-worker.mjs
maplibre-gl/dist/maplibre-gl.css:maplibre-gl.css
maplibre-gl/LICENSE.txt:LICENSE.txt
pmtiles/dist/esm/index.js:pmtiles.mjs
fflate/esm/browser.js:fflate.mjs
fflate/LICENSE:LICENSE-fflate.txt"

mode=copy
case "${1:-}" in
  "") ;;
  --check) mode=check ;;
  -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
  *) echo "uso: $0 [--check]" >&2; exit 2 ;;
esac

if ! command -v npm >/dev/null 2>&1; then
  echo "errore: npm non trovato" >&2
  exit 1
fi

npm ci --no-audit --no-fund --loglevel=error >&2

for pkg in maplibre-gl pmtiles; do
  version=$(node -p "require('$NM/$pkg/package.json').version")
  expected=$(node -p "require('$WEB_DIR/package.json').dependencies['$pkg']")
  if [ "$version" != "$expected" ]; then
    echo "errore: installato $pkg $version, package.json chiede $expected" >&2
    exit 1
  fi
done
versions="maplibre-gl $(node -p "require('$NM/maplibre-gl/package.json').version"), pmtiles $(node -p "require('$NM/pmtiles/package.json').version"), fflate $(node -p "require('$NM/fflate/package.json').version")"

# Il modulo principale non deve importare altri file oltre al worker.
for f in "$DIST"/*.mjs; do
  b=$(basename "$f")
  case "$b" in
    maplibre-gl.mjs|maplibre-gl-worker.mjs|*-dev.mjs) ;;
    *) if [ -s "$f" ]; then
         echo "attenzione: $b non vuoto in dist/ e non copiato: verificare se serve" >&2
       fi ;;
  esac
done

sums() {
  # stampa "sha256  nome" per ogni file, a partire da una directory
  dir=$1
  (cd "$dir" && for f in $FILES; do sha256sum "${f#*:}"; done)
}

if [ "$mode" = copy ]; then
  mkdir -p "$VENDOR"
  for f in $FILES; do
    cp "$NM/${f%%:*}" "$VENDOR/${f#*:}"
  done
  {
    echo "# $versions (npm), generato da web/vendor.sh"
    sums "$VENDOR"
  } > "$VENDOR/SHA256SUMS"
  echo "web/vendor/ aggiornato con $versions"
  cat "$VENDOR/SHA256SUMS"
  exit 0
fi

# --check
status=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in $FILES; do
  src=${f%%:*}
  b=${f#*:}
  if [ ! -f "$VENDOR/$b" ]; then
    echo "MANCANTE: web/vendor/$b" >&2; status=1; continue
  fi
  if ! cmp -s "$NM/$src" "$VENDOR/$b"; then
    echo "DIVERSO: web/vendor/$b non coincide con $src" >&2; status=1
  fi
  cp "$NM/$src" "$tmp/$b"
done
{
  echo "# $versions (npm), generato da web/vendor.sh"
  sums "$tmp"
} > "$tmp/SHA256SUMS"
if ! cmp -s "$tmp/SHA256SUMS" "$VENDOR/SHA256SUMS" 2>/dev/null; then
  echo "DIVERSO: web/vendor/SHA256SUMS non aggiornato (rieseguire web/vendor.sh)" >&2; status=1
fi
if [ $status -eq 0 ]; then
  echo "ok: web/vendor/ coincide con $versions"
else
  echo "errore: web/vendor/ non coincide con il pacchetto npm; rieseguire sh web/vendor.sh" >&2
fi
exit $status
