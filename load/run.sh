#!/usr/bin/env bash
# Side-by-side load run: the same pgbench cases directly against PostgreSQL, through PgBouncer (session
# mode) and through the gateway, in one run, on loopback. Prints absolute figures and ratios to direct
# and writes them as JSON.
#
#   load/run.sh pg [--duration SECONDS] [--clients N] [--smoke] [--out FILE] [--profile DIR]
#
# --profile DIR adds one more `pgbench -S` pass through the gateway under `perf record` (cpu-clock, with
# the JIT's perf map) and `strace -c`, and writes the reports to DIR.
#
# Everything it starts (PostgreSQL, PgBouncer, the gateway) lives in a temporary directory and is
# stopped on exit. Bounded: every pgbench run has a fixed duration and client count.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"

suite="${1:-pg}"; shift || true
[ "$suite" = pg ] || { echo "usage: load/run.sh pg [--duration S] [--clients N] [--smoke] [--out FILE]" >&2; exit 2; }
duration=15; clients=8; scale=10; smoke=0; profile=""; out="$here/results/pg-$(date +%Y%m%d-%H%M%S).json"
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --clients) clients="$2"; shift 2 ;;
    --smoke) smoke=1; duration=2; scale=1; shift ;;
    --out) out="$2"; shift 2 ;;
    --profile) profile="$(mkdir -p "$2" && cd "$2" && pwd)"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$(dirname "$out")"

pgbin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
command -v pgbouncer >/dev/null || { echo "pgbouncer is not installed (apt-get install pgbouncer)" >&2; exit 1; }
as_pg=(); [ "$(id -u)" -eq 0 ] && as_pg=(runuser -u postgres --)

work="$(mktemp -d /tmp/appliance-load-XXXXXX)"
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$work/data/postmaster.pid" ] && kill -INT "$(head -1 "$work/data/postmaster.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pg_port=$(free_port); bouncer_port=$(free_port); gw_port=$(free_port)
password="$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')"

echo "== building the gateway (Release)"
dotnet build "$root/src/Appliance" -c Release --nologo -v q >/dev/null
appliance="$root/src/Appliance/bin/Release/net10.0/appliance"

echo "== starting PostgreSQL on 127.0.0.1:$pg_port"
mkdir -p "$work/sock"; [ "$(id -u)" -eq 0 ] && chown -R postgres:postgres "$work"
"${as_pg[@]}" "$pgbin/initdb" -D "$work/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C --no-sync >/dev/null
"${as_pg[@]}" "$pgbin/postgres" -D "$work/data" -p "$pg_port" -k "$work/sock" -c listen_addresses=127.0.0.1 \
  -c max_connections=2200 -c shared_buffers=256MB -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
  -c log_min_messages=warning >"$work/postgres.log" 2>&1 &
pids+=($!)
until "$pgbin/pg_isready" -q -h "$work/sock" -p "$pg_port"; do sleep 0.1; done
psql -X -q -h "$work/sock" -p "$pg_port" -U postgres -c "create role bench login password '$password'" -c "create database bench owner bench"
PGPASSWORD="$password" pgbench -q -i -s "$scale" -h 127.0.0.1 -p "$pg_port" -U bench bench >/dev/null 2>&1

echo "== starting PgBouncer (session mode) on 127.0.0.1:$bouncer_port"
cat >"$work/pgbouncer.ini" <<INI
[databases]
bench = host=127.0.0.1 port=$pg_port dbname=bench
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bouncer_port
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $work/userlist.txt
pool_mode = session
max_client_conn = 3000
default_pool_size = 100
logfile = $work/pgbouncer.log
pidfile = $work/pgbouncer.pid
INI
echo "\"bench\" \"$password\"" >"$work/userlist.txt"
[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$work/pgbouncer.ini" "$work/userlist.txt"
"${as_pg[@]}" pgbouncer -q "$work/pgbouncer.ini" &
pids+=($!)
bouncer_pid=""

echo "== starting the gateway on 127.0.0.1:$gw_port"
"$appliance" token keygen --out "$work/keys" >/dev/null
printf '%s\n' "$password" >"$work/secret"; chmod 600 "$work/secret"
cat >"$work/appliance.yaml" <<YAML
state_dir: $work/state
identity:
  issuers:
    - name: load
      issuer: https://issuer.load.invalid
      audiences: [appliance]
      jwks_file: $work/keys/jwks.json
roles:
  - name: bench
    claims: { repository: acme/bench }
targets:
  - name: bench
    kind: postgres
    listen: 127.0.0.1:$gw_port
    upstream: { host: 127.0.0.1, port: $pg_port, database: bench, user: bench, password_file: $work/secret, tls: disable }
    rules:
      - roles: [bench]
        allow: [all]
YAML
token="$("$appliance" token mint --key "$work/keys/signing-key.pem" --issuer https://issuer.load.invalid --audience appliance --subject load --claim repository=acme/bench --ttl 2h)"
DOTNET_PerfMapEnabled=$([ -n "$profile" ] && echo 1 || echo 0) \
DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 DOTNET_TieredPGO=1 "$appliance" run --config "$work/appliance.yaml" >"$work/gateway.log" 2>&1 &
gw_pid=$!; pids+=($gw_pid)
for _ in $(seq 300); do "$pgbin/pg_isready" -q -h 127.0.0.1 -p "$gw_port" -d bench && break; sleep 0.1; done
for _ in $(seq 300); do "$pgbin/pg_isready" -q -h 127.0.0.1 -p "$bouncer_port" -d bench && break; sleep 0.1; done

conn() { # conn direct|pgbouncer|gateway
  case "$1" in
    direct) echo "host=127.0.0.1 port=$pg_port dbname=bench user=bench sslmode=disable" ;;
    pgbouncer) echo "host=127.0.0.1 port=$bouncer_port dbname=bench user=bench sslmode=disable" ;;
    gateway) echo "host=127.0.0.1 port=$gw_port dbname=bench user=ci sslmode=disable" ;;
  esac
}
secret() { [ "$1" = gateway ] && echo "$token" || echo "$password"; }
# CPU time (user+system, in clock ticks) a process has used so far.
cpu_ticks() { [ -n "$1" ] && awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
proxy_pid() {
  case "$1" in
    gateway) echo "$gw_pid" ;;
    pgbouncer) [ -n "$bouncer_pid" ] || bouncer_pid="$(pgrep -n -x pgbouncer)"; echo "$bouncer_pid" ;;
    *) echo "" ;;
  esac
}
hz=$(getconf CLK_TCK)

# run_case NAME PGBENCH-ARGS...: one line of results per path
results="$work/results.tsv"; : >"$results"
run_case() {
  local name="$1"; shift
  # CASES="select-simple tpcb-like-N" limits a run to some cases.
  if [ -n "${CASES:-}" ] && [[ " $CASES " != *" $name "* ]]; then return; fi
  for path in direct pgbouncer gateway; do
    local output tps txns pid before after cpu_us
    pid="$(proxy_pid $path)"; before=$(cpu_ticks "$pid")
    output="$(PGPASSWORD="$(secret $path)" pgbench -n "$@" -T "$duration" "$(conn $path)" 2>&1)" || { echo "$output" >&2; echo "pgbench failed on $path" >&2; exit 1; }
    after=$(cpu_ticks "$pid")
    tps="$(echo "$output" | awk '/^tps = / {print $3; exit}')"
    txns="$(echo "$output" | awk '/number of transactions actually processed/ {split($NF, a, "/"); print a[1]; exit}')"
    # Proxy CPU per transaction: steadier than TPS on a noisy machine.
    cpu_us=$(awk -v a="$after" -v b="$before" -v t="${txns:-0}" -v hz="$hz" 'BEGIN { if (t > 0) printf "%.1f", (a - b) * 1e6 / hz / t; else print 0 }')
    printf '%s\t%s\t%s\t%s\n' "$name" "$path" "$tps" "$cpu_us" >>"$results"
    printf '   %-22s %-10s %10.0f tps   proxy cpu %6s us/txn\n' "$name" "$path" "$tps" "$cpu_us"
  done
}

echo "== warming up each path (JIT tiering, connection caches)"
for path in direct pgbouncer gateway; do
  PGPASSWORD="$(secret $path)" pgbench -n -S -c "$clients" -j 2 -T 3 "$(conn $path)" >/dev/null 2>&1 || true
done
echo "== running (each case ${duration}s per path)"
run_case "select-simple"   -S -M simple   -c "$clients" -j 2
run_case "select-extended" -S -M extended -c "$clients" -j 2
run_case "select-prepared" -S -M prepared -c "$clients" -j 2
run_case "tpcb-like-N"     -N -M simple   -c "$clients" -j 2
[ "$smoke" = 1 ] || run_case "select-simple-32c" -S -M simple -c 32 -j 2
run_case "connect-churn-C" -S -M simple -C -c 4 -j 2

if [ -n "$profile" ]; then
  echo "== profiling the gateway under pgbench -S (${duration}s each for perf and strace)"
  PGPASSWORD="$token" pgbench -n -S -c "$clients" -j 2 -T "$duration" "$(conn gateway)" >/dev/null 2>&1 &
  bench_pid=$!
  perf record -e cpu-clock -F 2000 -g -p "$gw_pid" -o "$profile/perf.data" -- sleep $((duration - 1)) >/dev/null 2>&1 || true
  wait "$bench_pid"
  perf report -i "$profile/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null | head -120 >"$profile/perf-top.txt" || true
  PGPASSWORD="$token" pgbench -n -S -c "$clients" -j 2 -T "$duration" "$(conn gateway)" >"$profile/pgbench-strace.txt" 2>&1 &
  bench_pid=$!
  timeout -s INT $((duration - 1)) strace -c -f -p "$gw_pid" -o "$profile/strace.txt" >/dev/null 2>&1 || true
  wait "$bench_pid"
  echo "   wrote $profile/perf-top.txt and $profile/strace.txt"
fi

python3 - "$results" "$out" "$duration" <<'PY'
import json, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
cases = {}
cpu = {}
for name, path, tps, cpu_us in rows:
    cases.setdefault(name, {})[path] = float(tps)
    cpu.setdefault(name, {})[path] = float(cpu_us)
report = {"duration_s": int(sys.argv[3]), "cases": {}}
print()
print(f"{'case':22} {'direct tps':>12} {'pgbouncer':>12} {'gateway':>12} {'pgb/direct':>11} {'gw/direct':>10} {'gw/pgb':>8} {'cpu us/txn pgb':>15} {'gw':>6}")
for name, v in cases.items():
    d, b, g = v["direct"], v["pgbouncer"], v["gateway"]
    report["cases"][name] = {"direct_tps": d, "pgbouncer_tps": b, "gateway_tps": g,
                             "pgbouncer_ratio": round(b / d, 3), "gateway_ratio": round(g / d, 3),
                             "pgbouncer_cpu_us_per_txn": cpu[name]["pgbouncer"], "gateway_cpu_us_per_txn": cpu[name]["gateway"]}
    print(f"{name:22} {d:12.0f} {b:12.0f} {g:12.0f} {b/d:11.2f} {g/d:10.2f} {g/b:8.2f} {cpu[name]['pgbouncer']:15.1f} {cpu[name]['gateway']:6.1f}")
json.dump(report, open(sys.argv[2], "w"), indent=2)
print(f"\nwrote {sys.argv[2]}")
PY
