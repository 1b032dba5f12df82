#!/usr/bin/env bash
# Installs what the tests need (Debian/Ubuntu packages, as root or with sudo) and runs every test.
# Tests start their own PostgreSQL (and later sshd) on loopback, in temporary directories.
set -euo pipefail
cd "$(dirname "$0")"

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
need=()
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
command -v psql >/dev/null || need+=(postgresql-client)
command -v pgbench >/dev/null || need+=(postgresql-contrib)
command -v pgbouncer >/dev/null || need+=(pgbouncer)
# systemd tests: systemd-analyze/-sysusers/-tmpfiles (the package only; systemd is not booted), strace, seccomp
command -v systemd-analyze >/dev/null || need+=(systemd)
command -v strace >/dev/null || need+=(strace)
/usr/bin/python3 -c 'import seccomp' 2>/dev/null || need+=(python3-seccomp)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

dotnet build Appliance.sln -c Release -warnaserror --nologo -v q
dotnet test Appliance.sln -c Release --no-build --nologo -v q --logger "console;verbosity=normal" "$@"
# Allocation budgets of the benchmarks (bench/allocation-budgets.json): a short in-process run, well under 2 minutes.
dotnet run -c Release --no-build --project bench -- --budgets
# Load harness: the gate's own tests (synthetic baselines), then a smoke run of load/run.sh, bounded to
# 5 minutes, that checks the scripts work (not the figures) and that its JSON holds every metric the gate compares.
load/tests/gate-test.sh
smoke="$(mktemp -d /tmp/appliance-smoke-XXXXXX)"
timeout 300 load/run.sh pg --smoke --out "$smoke/results.json"
load/gate.sh --results "$smoke/results.json" --shape-only
rm -rf "$smoke"
