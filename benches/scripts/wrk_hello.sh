#!/usr/bin/env bash
# wrk against arbor's `examples/http_server` and the same hello world on hyper-util + tokio
# (`benches/src/bin/tokio_hello.rs`), alternated: ROUNDS rounds (7) of
# `wrk -t2 -c64 -d$DURATION` (10s) each, then the medians of requests/s and p99 latency.
# Both servers have 2 workers, TCP_NODELAY and a 30 s header read timeout.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${ROUNDS:-7}
duration=${DURATION:-10s}
target=${CARGO_TARGET_DIR:-target}
cargo build --release --quiet -p arbor --features http --example http_server
cargo build --release --quiet -p arbor-benches --features http --bin tokio_hello
"$target/release/examples/http_server" 127.0.0.1:3000 >/dev/null &
arbor_pid=$!
"$target/release/tokio_hello" 127.0.0.1:3001 >/dev/null &
tokio_pid=$!
trap 'kill $arbor_pid $tokio_pid 2>/dev/null' EXIT
sleep 1
results=$(mktemp)
for round in $(seq 1 "$rounds"); do
    order="arbor:3000 tokio:3001"
    # Alternate which goes first.
    if (( round % 2 == 0 )); then order="tokio:3001 arbor:3000"; fi
    for side in $order; do
        name=${side%:*}
        port=${side#*:}
        out=$(wrk -t2 -c64 -d"$duration" --latency "http://127.0.0.1:$port/")
        rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
        p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
        echo "round $round $name: $rps req/s, p99 $p99"
        echo "$name $rps $p99" >>"$results"
    done
done
python3 - "$results" <<'PY'
import statistics, sys
def ms(v):
    for unit, f in (("us", 1e-3), ("ms", 1.0), ("s", 1e3)):
        if v.endswith(unit):
            return float(v[: -len(unit)]) * f
    return float(v)
rows = [l.split() for l in open(sys.argv[1])]
med = {}
for name in ("arbor", "tokio"):
    rps = [float(r[1]) for r in rows if r[0] == name]
    p99 = [ms(r[2]) for r in rows if r[0] == name]
    med[name] = (statistics.median(rps), statistics.median(p99))
    print(f"{name}: median {med[name][0]:.0f} req/s, median p99 {med[name][1]:.2f} ms")
print(f"arbor/tokio requests/s: {med['arbor'][0] / med['tokio'][0]:.2f}")
PY
rm -f "$results"
