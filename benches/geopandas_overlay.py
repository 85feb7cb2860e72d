"""The overlay step of `benches/candidates_overlay.rs` with GeoPandas / Shapely, on the same files.

Usage: python3 benches/geopandas_overlay.py DIR   (DIR holds overlay_zones.tsv, overlay_parcels.tsv,
written by `cargo bench --bench candidates_overlay`, which runs this script and prints the ratios).

Measured with: pip install geopandas==1.2.0 shapely==2.2.0 (pyarrow not needed: the data are WKT).
Prints one JSON object: seconds (best of 3) for overlay(intersection) and sjoin(intersects),
index build included, and the row counts.
"""

import json
import sys
import time
from pathlib import Path

import geopandas as gpd
import shapely


def read(path: Path) -> gpd.GeoDataFrame:
    ids, wkts = [], []
    with open(path, encoding="utf-8") as f:
        next(f)
        for line in f:
            i, w = line.rstrip("\n").split("\t")
            ids.append(int(i))
            wkts.append(w)
    return gpd.GeoDataFrame({"id": ids}, geometry=shapely.from_wkt(wkts), crs="EPSG:32632")


def best_of(n, f):
    best, out = float("inf"), None
    for _ in range(n):
        t = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    d = Path(sys.argv[1])
    zones = read(d / "overlay_zones.tsv")
    parcels = read(d / "overlay_parcels.tsv")

    def overlay():
        # A fresh frame each run so no spatial index is reused between runs.
        p = parcels.copy()
        return gpd.overlay(zones, p, how="intersection", keep_geom_type=True)

    def sjoin():
        p = parcels.copy()
        return gpd.sjoin(zones, p, how="inner", predicate="intersects")

    t_overlay, ov = best_of(3, overlay)
    t_sjoin, sj = best_of(3, sjoin)
    print(
        json.dumps(
            {
                "geopandas": gpd.__version__,
                "shapely": shapely.__version__,
                "overlay_s": t_overlay,
                "overlay_rows": len(ov),
                "overlay_area": float(ov.geometry.area.sum()),
                "sjoin_s": t_sjoin,
                "sjoin_rows": len(sj),
            }
        )
    )


if __name__ == "__main__":
    main()
