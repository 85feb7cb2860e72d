#!/bin/sh
# Derives the demo's comune boundaries from the ISTAT/openpolis municipal limits
# (CC-BY 4.0, generalised, EPSG:4326):
#
#   data/ambito9_confini.geojson    the 24 comuni of Ambito 9 listed in data/ambito9_comuni.csv,
#                                   geometry as published (no further simplification), rounded
#                                   to 7 decimals (about 1 cm); shared vertices round alike, so
#                                   shared edges stay shared;
#   data/ambito9_confinanti.geojson the comuni outside the Ambito that share a stretch of border
#                                   with it (any province: Sondrio and Brescia too), name and
#                                   ISTAT code only, for context on the map.
#
# Usage, from the repository root:  sh data/derive_confini.sh [BOUNDARIES_DIR]
# BOUNDARIES_DIR defaults to ../shared/data/boundaries and must hold
# limits_P_16_municipalities.geojson and limits_R_3_municipalities.geojson. Needs ogr2ogr (GDAL
# with SQLite/SpatiaLite). The output is the same on every run.
set -eu

src=${1:-../shared/data/boundaries}
here=$(dirname "$0")
codes=$(tail -n +2 "$here/ambito9_comuni.csv" | cut -d, -f1 | sed "s/.*/'&'/" | paste -sd, -)
[ -n "$codes" ] || { echo "nessun codice ISTAT in $here/ambito9_comuni.csv" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ogr2ogr -f GeoJSON "$tmp/confini.geojson" "$src/limits_P_16_municipalities.geojson" \
    -nln ambito9_confini -lco RFC7946=YES -lco WRITE_BBOX=NO -lco COORDINATE_PRECISION=7 \
    -dialect sqlite -sql "SELECT name, com_istat_code, com_catasto_code, prov_acr, geometry
        FROM limits_P_16_municipalities WHERE com_istat_code IN ($codes)
        ORDER BY com_istat_code"

# Neighbours: a border stretch of positive length with the union of the Ambito's comuni
# (a comune touching it at a single point is left out).
ogr2ogr -f GeoJSON "$tmp/confinanti.geojson" "$src/limits_R_3_municipalities.geojson" \
    -nln ambito9_confinanti -lco RFC7946=YES -lco WRITE_BBOX=NO -lco COORDINATE_PRECISION=7 \
    -dialect sqlite -sql "WITH a AS (SELECT ST_Union(geometry) AS u
            FROM limits_R_3_municipalities WHERE com_istat_code IN ($codes))
        SELECT m.name, m.com_istat_code, m.geometry
        FROM limits_R_3_municipalities m, a
        WHERE m.com_istat_code NOT IN ($codes) AND ST_Intersects(m.geometry, a.u)
          AND ST_Length(ST_Intersection(m.geometry, a.u)) > 0
        ORDER BY m.com_istat_code"

n=$(grep -c '"type": "Feature"' "$tmp/confini.geojson")
[ "$n" -eq "$(tail -n +2 "$here/ambito9_comuni.csv" | grep -c .)" ] || {
    echo "trovati $n comuni in limits_P_16_municipalities.geojson invece di quelli di ambito9_comuni.csv" >&2
    exit 1
}
mv "$tmp/confini.geojson" "$here/ambito9_confini.geojson"
mv "$tmp/confinanti.geojson" "$here/ambito9_confinanti.geojson"
