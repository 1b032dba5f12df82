#!/usr/bin/env bash
# Tests load/gate.sh on synthetic baselines (fixtures/): within the tolerance passes, beyond it fails naming
# the metric, in both directions; allocations over budget or without one fail; --tolerance and
# --record-baseline do what they say. Needs only bash and python3 (no load run, no benchmarks).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
gate="$here/../gate.sh"
fixtures="$here/fixtures"
tmp="$(mktemp -d /tmp/appliance-gate-test-XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
passed=0; failed=0

# variant NAME PYTHON-EXPR: a copy of results.json changed by EXPR (on dict r), at $tmp/NAME.json
variant() {
  python3 - "$fixtures/results.json" "$tmp/$1.json" "$2" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); exec(sys.argv[3]); json.dump(r, open(sys.argv[2], "w"))
PY
}
allocations_variant() {
  python3 - "$fixtures/allocations.json" "$tmp/$1.json" "$2" <<'PY'
import json, sys
a = json.load(open(sys.argv[1])); exec(sys.argv[3]); json.dump(a, open(sys.argv[2], "w"))
PY
}

# check NAME EXPECTED-EXIT EXPECTED-TEXT GATE-ARGS…
check() {
  local name="$1" expected="$2" text="$3"; shift 3
  local output status
  output="$("$gate" --baseline "$fixtures/baseline.json" "$@" 2>&1)"; status=$?
  if [ "$status" -eq "$expected" ] && { [ -z "$text" ] || grep -qF -- "$text" <<<"$output"; }; then
    echo "PASS $name"; passed=$((passed + 1))
  else
    echo "FAIL $name: exit $status (expected $expected), output lacks '$text':"; sed 's/^/    /' <<<"$output"; failed=$((failed + 1))
  fi
}

base=(--allocations "$fixtures/allocations.json")
check "within tolerance passes" 0 "gate: passed" --results "$fixtures/results.json" "${base[@]}"

variant ratio_drop 'r["cases"]["select-simple"]["gateway_ratio"] = 0.44'   # -12%
check "ratio 12% below baseline fails naming it" 1 "GATE FAILED: cases.select-simple.gateway_ratio" --results "$tmp/ratio_drop.json" "${base[@]}"

variant ratio_edge 'r["cases"]["select-simple"]["gateway_ratio"] = 0.451'  # -9.8%
check "ratio 9.8% below baseline passes" 0 "gate: passed" --results "$tmp/ratio_edge.json" "${base[@]}"

variant ratio_up 'r["cases"]["select-simple"]["gateway_ratio"] = 0.70'
check "improvement passes" 0 "gate: passed" --results "$tmp/ratio_up.json" "${base[@]}"

variant cpu_up 'r["cases"]["select-simple"]["gateway_cpu_us_per_txn"] = 23.0'  # +15%, lower is better
check "cpu per txn 15% above baseline fails" 1 "GATE FAILED: cases.select-simple.gateway_cpu_us_per_txn" --results "$tmp/cpu_up.json" "${base[@]}"

variant rss_up 'r["scale"]["gateway"]["rss_per_session_kb"] = 49.0'  # +22.5%, own tolerance 25%
check "metric with its own tolerance: +22.5% passes" 0 "gate: passed" --results "$tmp/rss_up.json" "${base[@]}"
variant rss_up_more 'r["scale"]["gateway"]["rss_per_session_kb"] = 51.0'  # +27.5%
check "metric with its own tolerance: +27.5% fails" 1 "GATE FAILED: scale.gateway.rss_per_session_kb" --results "$tmp/rss_up_more.json" "${base[@]}"

check "--tolerance 0.2 lets a 12% drop pass" 0 "gate: passed" --results "$tmp/ratio_drop.json" --tolerance 0.2 "${base[@]}"

variant two_bad 'r["cases"]["select-simple"]["gateway_ratio"] = 0.30; r["cases"]["select-prepared"]["gateway_ratio"] = 0.30'
check "every regression is named" 1 "cases.select-prepared.gateway_ratio" --results "$tmp/two_bad.json" "${base[@]}"
check "and the count is given" 1 "gate: 2 regression(s)" --results "$tmp/two_bad.json" "${base[@]}"

variant missing 'del r["cases"]["select-prepared"]'
check "a metric missing from the results fails" 1 "GATE FAILED: cases.select-prepared.gateway_ratio: not in the results" --results "$tmp/missing.json" "${base[@]}"

allocations_variant over 'a["allocated_bytes_per_op"]["PolicyBenchmarks.Decide"] = 24'
check "allocation over a 0 budget fails naming the benchmark" 1 "GATE FAILED: allocation PolicyBenchmarks.Decide: 24 B/op over its budget of 0 B/op" --results "$fixtures/results.json" --allocations "$tmp/over.json"
allocations_variant unbudgeted 'a["allocated_bytes_per_op"]["NewBenchmarks.Thing"] = 0'
check "a benchmark without a budget fails" 1 "GATE FAILED: allocation NewBenchmarks.Thing: no budget" --results "$fixtures/results.json" --allocations "$tmp/unbudgeted.json"
check "--skip-allocations compares load figures only" 0 "gate: passed" --results "$fixtures/results.json" --skip-allocations

check "--shape-only ignores the figures" 0 "gate: results hold all 4 metrics" --results "$tmp/two_bad.json" --shape-only
check "--shape-only fails on a missing metric" 1 "GATE FAILED: cases.select-prepared.gateway_ratio: not in the results" --results "$tmp/missing.json" --shape-only

check "--record-baseline writes a baseline" 0 "wrote baseline" --results "$tmp/ratio_drop.json" --record-baseline "$tmp/recorded.json"
output="$("$gate" --baseline "$tmp/recorded.json" --results "$tmp/ratio_drop.json" --skip-allocations 2>&1)" \
  && grep -q "gate: passed" <<<"$output" && grep -q '"baseline": 0.44' "$tmp/recorded.json" \
  && { echo "PASS recorded baseline passes against its own results"; passed=$((passed + 1)); } \
  || { echo "FAIL recorded baseline:"; echo "$output"; cat "$tmp/recorded.json"; failed=$((failed + 1)); }

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
