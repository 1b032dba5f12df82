#!/usr/bin/env python3
"""The comparison behind load/gate.sh: a load-run result against a baseline, and benchmark allocations
against their budgets. Prints one line per metric and one per violation; exits 1 on any regression.

  gate.py --results R.json --baseline B.json [--tolerance 0.10] [--allocations A.json | --skip-allocations]
  gate.py --results R.json --baseline B.json --record-baseline OUT.json
  gate.py --results R.json --baseline B.json --shape-only

A baseline's metrics name a value in the results by a dotted path (cases.select-simple.gateway_ratio), say
which direction is better, and may carry their own relative tolerance (noisy ones: p99, RSS). A metric
regresses when it is worse than the baseline by more than the tolerance: for "higher", below
baseline * (1 - tolerance); for "lower", above baseline * (1 + tolerance).
"""
import argparse
import json
import os
import sys


def lookup(document, path):
    value = document
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def compare_metrics(results, baseline, default_tolerance):
    problems, lines = [], []
    for path, spec in baseline.get("metrics", {}).items():
        expected, better = spec["baseline"], spec["better"]
        tolerance = spec.get("tolerance", default_tolerance)
        actual = lookup(results, path)
        if not isinstance(actual, (int, float)) or isinstance(actual, bool):
            problems.append(f"{path}: not in the results (got {actual!r}); run every case, or record a baseline for this run's cases")
            continue
        if better == "higher":
            limit = expected * (1 - tolerance)
            bad, sign = actual < limit, ">="
        elif better == "lower":
            limit = expected * (1 + tolerance)
            bad, sign = actual > limit, "<="
        else:
            problems.append(f"{path}: baseline says better is {better!r}; expected 'higher' or 'lower'")
            continue
        change = (actual - expected) / expected * 100 if expected else 0.0
        verdict = "REGRESSION" if bad else "ok"
        lines.append(f"{verdict:10} {path:50} {actual:>10.3f}  baseline {expected:>10.3f} ({change:+.1f}%), must be {sign} {limit:.3f} (tolerance {tolerance:.0%})")
        if bad:
            problems.append(f"{path}: {actual:.3f} vs baseline {expected:.3f} ({change:+.1f}%), beyond the {tolerance:.0%} tolerance ({better} is better)")
    return problems, lines


def compare_allocations(allocations, budgets):
    problems, lines = [], []
    measured = allocations.get("allocated_bytes_per_op", {})
    if not measured:
        problems.append("allocations: no benchmark figures in the allocations file")
    for key, bytes_per_op in sorted(measured.items()):
        budget = budgets.get(key)
        if bytes_per_op is None:
            problems.append(f"allocation {key}: the benchmark failed to run")
        elif budget is None:
            problems.append(f"allocation {key}: no budget in the budgets file")
        elif bytes_per_op > budget:
            problems.append(f"allocation {key}: {bytes_per_op} B/op over its budget of {budget} B/op")
        else:
            lines.append(f"{'ok':10} allocation {key:60} {bytes_per_op:>7} B/op (budget {budget})")
    # Violations only the benchmark run itself can see (too few operations to tell), passed through.
    for violation in allocations.get("violations", []):
        if "too few" in violation or "failed to run" in violation:
            if not any(violation.split(":")[0] in p for p in problems):
                problems.append(f"allocation {violation}")
    return problems, lines


def record_baseline(results, template, tolerance):
    """A baseline holding this run's figures for every metric of the template (or of the default set)."""
    metrics = {}
    for path, spec in template.get("metrics", {}).items():
        value = lookup(results, path)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            metrics[path] = {**spec, "baseline": round(float(value), 3)}
        else:
            print(f"note: {path} is not in the results; left out of the new baseline", file=sys.stderr)
    out = {k: v for k, v in template.items() if k != "metrics"}
    out["tolerance"] = tolerance if tolerance is not None else template.get("tolerance", 0.10)
    out["metrics"] = metrics
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", required=True)
    parser.add_argument("--baseline")
    parser.add_argument("--tolerance", type=float, help="default relative tolerance (metrics may set their own)")
    parser.add_argument("--allocations", help="output of `bench -- --budgets --out FILE`")
    parser.add_argument("--budgets", help="allocation budgets file (default: the baseline's allocation_budgets)")
    parser.add_argument("--skip-allocations", action="store_true")
    parser.add_argument("--record-baseline", metavar="OUT")
    parser.add_argument("--shape-only", action="store_true", help="only check that the results hold every metric (smoke runs)")
    args = parser.parse_args()

    results = json.load(open(args.results))
    if args.record_baseline:
        template = json.load(open(args.baseline)) if args.baseline else {"metrics": {}}
        json.dump(record_baseline(results, template, args.tolerance), open(args.record_baseline, "w"), indent=2)
        print(f"wrote baseline {args.record_baseline} from {args.results}")
        return 0
    if not args.baseline:
        parser.error("--baseline is required")

    baseline = json.load(open(args.baseline))
    if args.shape_only:
        missing = [p for p in baseline.get("metrics", {}) if not isinstance(lookup(results, p), (int, float))]
        for path in missing:
            print(f"GATE FAILED: {path}: not in the results")
        print(f"gate: results hold all {len(baseline.get('metrics', {}))} metrics" if not missing else f"gate: {len(missing)} metric(s) missing")
        return 1 if missing else 0
    tolerance = args.tolerance if args.tolerance is not None else baseline.get("tolerance", 0.10)
    if results.get("smoke"):
        print("warning: these results come from a --smoke run; its figures mean nothing", file=sys.stderr)
    problems, lines = compare_metrics(results, baseline, tolerance)

    if not args.skip_allocations:
        budgets_path = args.budgets or os.path.join(os.path.dirname(os.path.abspath(args.baseline)), baseline.get("allocation_budgets", ""))
        if not args.allocations:
            problems.append("allocations: no allocations file given (gate.sh runs the benchmarks; or pass --skip-allocations)")
        elif not os.path.isfile(budgets_path):
            problems.append(f"allocations: budgets file {budgets_path} not found")
        else:
            budgets = json.load(open(budgets_path)).get("budgets", {})
            more_problems, more_lines = compare_allocations(json.load(open(args.allocations)), budgets)
            problems += more_problems
            lines += more_lines

    for line in lines:
        print(line)
    print()
    for problem in problems:
        print(f"GATE FAILED: {problem}")
    print("gate: passed" if not problems else f"gate: {len(problems)} regression(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
