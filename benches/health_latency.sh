# Sourced by the bench scripts: `health_latency URL SECONDS [PREFIX]` sends sequential
# requests to URL/health for SECONDS and prints count, p50, p99 and max in ms.
health_latency() {
  local url=$1 stop=$((SECONDS + $2)) prefix=${3:-} out
  out=$(mktemp)
  while [ $SECONDS -lt $stop ]; do
    curl -s -o /dev/null -m 20 -w '%{time_total} %{http_code}\n' "$url/health" >>"$out" || echo "20 000" >>"$out"
  done
  python3 - "$out" "$prefix" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
t = sorted(float(r[0]) * 1000 for r in rows)
bad = sum(1 for r in rows if r[1] != "200")
q = lambda p: t[min(len(t) - 1, int(p * len(t)))]
print(f"{sys.argv[2]}{len(t)} requests ({bad} not 200), p50 {q(0.5):.2f} ms, p99 {q(0.99):.2f} ms, max {t[-1]:.2f} ms")
PY
  rm -f "$out"
}
