#!/usr/bin/env bash
# The performance regression gate: compares the gateway's ratios to direct (and its CPU per transaction,
# latency, bulk time, RSS per session) from a load run against a baseline, and the benchmarks' allocations
# against bench/allocation-budgets.json. Exits 1 naming each regression beyond the tolerance.
#
#   load/gate.sh [--results FILE] [--baseline FILE] [--tolerance 0.10] [--allocations FILE | --skip-allocations]
#                [--record-baseline OUT] [-- RUN.SH-OPTIONS…]
#
#   --results FILE       compare this load/run.sh JSON instead of running load/run.sh pg now
#   --baseline FILE      default load/baseline.json (ratios to direct measured on the reference machine)
#   --tolerance T        default relative tolerance (0.10 = 10% worse than the baseline still passes);
#                        metrics may carry their own in the baseline (p99, RSS are noisier)
#   --allocations FILE   the JSON of `dotnet run -c Release --project bench -- --budgets --out FILE`;
#                        without it the gate runs that check now (about a minute)
#   --skip-allocations   compare the load figures only
#   --record-baseline OUT  write OUT from the results (same metrics, directions and tolerances as --baseline):
#                        record one on the version you run now, gate the upgrade against it
#   --shape-only         only check that the results hold every metric of the baseline (CI's smoke run)
#   -- …                 options for load/run.sh when the gate runs it (e.g. -- --duration 30)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"

results=""; baseline="$here/baseline.json"; tolerance=""; allocations=""; skip_allocations=0; record=""; shape_only=0
run_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --results) results="$2"; shift 2 ;;
    --baseline) baseline="$2"; shift 2 ;;
    --tolerance) tolerance="$2"; shift 2 ;;
    --allocations) allocations="$2"; shift 2 ;;
    --skip-allocations) skip_allocations=1; shift ;;
    --record-baseline) record="$2"; shift 2 ;;
    --shape-only) shape_only=1; shift ;;
    --) shift; run_args=("$@"); break ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "gate: unknown option $1 (see load/gate.sh --help)" >&2; exit 2 ;;
  esac
done
[ -f "$baseline" ] || { echo "gate: baseline $baseline not found" >&2; exit 2; }

tmp="$(mktemp -d /tmp/appliance-gate-XXXXXX)"
trap 'rm -rf "$tmp"' EXIT

if [ -z "$results" ]; then
  results="$here/results/gate-$(date +%Y%m%d-%H%M%S).json"
  echo "== gate: load/run.sh pg ${run_args[*]:-} → $results"
  "$here/run.sh" pg --out "$results" "${run_args[@]}"
fi
[ -f "$results" ] || { echo "gate: results $results not found" >&2; exit 2; }

args=(--results "$results" --baseline "$baseline")
[ -n "$tolerance" ] && args+=(--tolerance "$tolerance")
if [ "$shape_only" = 1 ]; then
  exec python3 "$here/gate.py" "${args[@]}" --shape-only
fi
if [ -n "$record" ]; then
  exec python3 "$here/gate.py" "${args[@]}" --record-baseline "$record"
fi
if [ "$skip_allocations" = 1 ]; then
  args+=(--skip-allocations)
else
  if [ -z "$allocations" ]; then
    allocations="$tmp/allocations.json"
    echo "== gate: benchmark allocations (in-process short run)"
    # Its own exit status is not the verdict: gate.py compares the figures it writes with the budgets.
    dotnet run -c Release --project "$root/bench" -- --budgets --out "$allocations" >"$tmp/budgets.log" 2>&1 || true
    [ -s "$allocations" ] || { tail -30 "$tmp/budgets.log" >&2; echo "gate: the allocation benchmarks did not run" >&2; exit 2; }
  fi
  args+=(--allocations "$allocations")
fi
echo "== gate: $results against $baseline"
python3 "$here/gate.py" "${args[@]}"
