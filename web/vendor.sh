#!/bin/sh
# Copia MapLibre GL JS dal pacchetto npm (versione fissata in package.json /
# package-lock.json) in web/vendor/, così la mappa funziona senza CDN e il
# binario Rust può incorporare i file al momento della compilazione.
#
#   sh web/vendor.sh           # npm ci + copia + SHA256SUMS
#   sh web/vendor.sh --check   # npm ci + verifica che web/vendor/ coincida col pacchetto
#
# MapLibre 6 è distribuito solo come modulo ES: maplibre-gl.mjs carica il
# worker dal file gemello maplibre-gl-worker.mjs (stesso URL di base), quindi
# vanno copiati entrambi. Le source map (*.map) non servono a runtime e non
# vengono copiate.
set -eu

cd "$(dirname "$0")"
WEB_DIR=$(pwd)
VENDOR="$WEB_DIR/vendor"
DIST="$WEB_DIR/node_modules/maplibre-gl/dist"
PKG="$WEB_DIR/node_modules/maplibre-gl"

# file da incorporare: "origine destinazione" (origine relativa a node_modules/maplibre-gl)
FILES="dist/maplibre-gl.mjs dist/maplibre-gl-worker.mjs dist/maplibre-gl.css LICENSE.txt"

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

version=$(node -p "require('$PKG/package.json').version")
expected=$(node -p "require('$WEB_DIR/package.json').dependencies['maplibre-gl']")
if [ "$version" != "$expected" ]; then
  echo "errore: installato maplibre-gl $version, package.json chiede $expected" >&2
  exit 1
fi

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
  (cd "$dir" && for f in $FILES; do sha256sum "$(basename "$f")"; done)
}

if [ "$mode" = copy ]; then
  mkdir -p "$VENDOR"
  for f in $FILES; do
    cp "$PKG/$f" "$VENDOR/$(basename "$f")"
  done
  {
    echo "# maplibre-gl $version (npm), generato da web/vendor.sh"
    sums "$VENDOR"
  } > "$VENDOR/SHA256SUMS"
  echo "web/vendor/ aggiornato con maplibre-gl $version"
  cat "$VENDOR/SHA256SUMS"
  exit 0
fi

# --check
status=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in $FILES; do
  b=$(basename "$f")
  if [ ! -f "$VENDOR/$b" ]; then
    echo "MANCANTE: web/vendor/$b" >&2; status=1; continue
  fi
  if ! cmp -s "$PKG/$f" "$VENDOR/$b"; then
    echo "DIVERSO: web/vendor/$b non coincide con maplibre-gl $version ($f)" >&2; status=1
  fi
  cp "$PKG/$f" "$tmp/$b"
done
{
  echo "# maplibre-gl $version (npm), generato da web/vendor.sh"
  sums "$tmp"
} > "$tmp/SHA256SUMS"
if ! cmp -s "$tmp/SHA256SUMS" "$VENDOR/SHA256SUMS" 2>/dev/null; then
  echo "DIVERSO: web/vendor/SHA256SUMS non aggiornato (rieseguire web/vendor.sh)" >&2; status=1
fi
if [ $status -eq 0 ]; then
  echo "ok: web/vendor/ coincide con maplibre-gl $version"
else
  echo "errore: web/vendor/ non coincide con il pacchetto npm; rieseguire sh web/vendor.sh" >&2
fi
exit $status
