#!/usr/bin/env bash
# Side-by-side load run: the same cases directly against PostgreSQL, through PgBouncer (session mode) and
# through the gateway (policy on), with recording off and on, in one run, on loopback. Prints absolute figures and ratios to direct
# and writes them as JSON (the input of load/gate.sh).
#
#   load/run.sh pg [--duration SECONDS] [--rounds N] [--clients N] [--sessions N] [--busy N] [--scale N] [--warmup SECONDS] [--smoke] [--out FILE]
#                  [--profile DIR [--profile-path gateway|gateway-rec]]
#
# Cases (CASES="select-simple latency-1c bulk scale" runs only those):
#   select-simple, select-extended, select-prepared, tpcb-like-N   pgbench at --clients (8), ratios and proxy CPU µs/txn
#                   (the gateway twice: "gateway" records nothing, "gateway-rec" records every session)
#   select-simple-32c                                              pgbench -S at 32 clients
#   connect-churn-C                                                pgbench -S -C (a new connection per transaction)
#   recording-paired  pgbench -S (simple, extended, prepared) against the gateway and gateway-rec at the same time,
#                   half the clients each: what recording costs in TPS and CPU µs/txn, both under the same noise
#   policy-ab       pgbench -S (simple, extended, prepared) and -N through the gateway and through a build of it that
#                   decides no statement, in turns, --rounds times: what the statement policy costs
#   latency-1c      pgbench -S at 1 client with --log: p50/p99 per path and µs added over direct
#   bulk            select * from pgbench_accounts (1M rows at scale 10), time per query, and masked through the gateway
#   scale           --sessions (2000) sessions open and idle, --busy (50) of them running point selects: TPS, and
#                   RSS gained per session by the proxy process (load/Sessions)
#
# --rounds N runs each throughput case N times, the paths interleaved in every round, and reports each path's
# median TPS and CPU: drift on a shared machine then hits every path alike.
# --smoke checks that everything works in well under a minute (1 s per case, scale 1, 50 sessions); its
# figures mean nothing. --profile DIR adds a profile of the gateway under pgbench -S: dotnet-counters (GC
# counts per 10k transactions), dotnet-trace (CPU samples, top methods), perf (cpu-clock) and strace -c, of the
# gateway without recording, or with --profile-path gateway-rec of the recording one.
#
# Everything it starts (PostgreSQL, PgBouncer, the gateway) lives in a temporary directory and is stopped
# on exit. Bounded: every pgbench run has a fixed duration or transaction count and client count.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"

usage="usage: load/run.sh pg [--duration S] [--rounds N] [--clients N] [--sessions N] [--busy N] [--scale N] [--warmup S] [--smoke] [--out FILE] [--profile DIR [--profile-path gateway|gateway-rec]]"
suite="${1:-pg}"; shift || true
[ "$suite" = pg ] || { echo "$usage" >&2; exit 2; }
duration=15; rounds=1; clients=8; scale=10; smoke=0; profile=""; profile_path=gateway; sessions=2000; busy=50; bulk_runs=5; warmup=3
out="$here/results/pg-$(date +%Y%m%d-%H%M%S).json"
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --clients) clients="$2"; shift 2 ;;
    --sessions) sessions="$2"; shift 2 ;;
    --busy) busy="$2"; shift 2 ;;
    --scale) scale="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --smoke) smoke=1; duration=1; scale=1; sessions=50; busy=5; bulk_runs=1; warmup=1; shift ;;
    --out) out="$2"; shift 2 ;;
    --profile) profile="$(mkdir -p "$2" && cd "$2" && pwd)"; shift 2 ;;
    --profile-path) profile_path="$2"; [[ "$2" == gateway || "$2" == gateway-rec ]] || { echo "--profile-path: gateway or gateway-rec" >&2; exit 2; }; shift 2 ;;
    *) echo "unknown option $1" >&2; echo "$usage" >&2; exit 2 ;;
  esac
done
mkdir -p "$(dirname "$out")"
want() { [ -z "${CASES:-}" ] || [[ " $CASES " == *" $1 "* ]]; }

pgbin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
command -v pgbouncer >/dev/null || { echo "pgbouncer is not installed (apt-get install pgbouncer)" >&2; exit 1; }
as_pg=(); [ "$(id -u)" -eq 0 ] && as_pg=(runuser -u postgres --)
# The scale case holds two sockets per session in each proxy: raise the descriptor limit for everything started here.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
(( $(ulimit -n) > 2 * sessions + 200 )) || echo "warning: ulimit -n is $(ulimit -n); $sessions sessions may run out of descriptors" >&2

work="$(mktemp -d /tmp/appliance-load-XXXXXX)"
chmod 755 "$work"
pids=()
cleanup() {
  # PgBouncer and PostgreSQL run under runuser when root: stop them by their own pid files, and the
  # wrappers exit with them.
  for p in "${gw_pid:-}" "${rec_gw_pid:-}" "${nopolicy_gw_pid:-}" "${scale_gw_pid:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  [ -f "$work/pgbouncer.pid" ] && kill -INT "$(cat "$work/pgbouncer.pid")" 2>/dev/null || true
  [ -f "$work/data/postmaster.pid" ] && kill -INT "$(head -1 "$work/data/postmaster.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pg_port=$(free_port); bouncer_port=$(free_port); gw_port=$(free_port); rec_port=$(free_port)
password="$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')"

echo "== building the gateway and the session driver (Release)"
dotnet build "$root/src/Appliance" -c Release --nologo -v q >/dev/null
dotnet build "$here/Sessions" -c Release --nologo -v q >/dev/null
appliance="$root/src/Appliance/bin/Release/net10.0/appliance"
if want policy-ab; then
  # The same source built with MeasureWithoutPolicy (see Appliance.csproj), in a copy so the main build's obj/ stays.
  echo "== building the gateway without statement policy (policy-ab only)"
  mkdir -p "$work/nopolicy"
  tar -C "$root" --exclude=bin --exclude=obj -cf - src Directory.Build.props Directory.Packages.props global.json .editorconfig | tar -C "$work/nopolicy" -xf -
  dotnet build "$work/nopolicy/src/Appliance" -c Release -p:MeasureWithoutPolicy=true --nologo -v q >/dev/null
fi
sessions_driver="$here/Sessions/bin/Release/net10.0/appliance-load-sessions"

echo "== starting PostgreSQL on 127.0.0.1:$pg_port"
mkdir -p "$work/sock"; [ "$(id -u)" -eq 0 ] && chown -R postgres:postgres "$work"
"${as_pg[@]}" "$pgbin/initdb" -D "$work/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C --no-sync >/dev/null
"${as_pg[@]}" bash -c "ulimit -n $(ulimit -n); exec \"$pgbin/postgres\" -D \"$work/data\" -p $pg_port -k \"$work/sock\" -c listen_addresses=127.0.0.1 \
  -c max_connections=2200 -c shared_buffers=256MB -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
  -c log_min_messages=warning" >"$work/postgres.log" 2>&1 &
pids+=($!)
until "$pgbin/pg_isready" -q -h "$work/sock" -p "$pg_port"; do sleep 0.1; done
psql -X -q -h "$work/sock" -p "$pg_port" -U postgres -c "create role bench login password '$password'" -c "create database bench owner bench"
echo "== pgbench -i -s $scale"
PGPASSWORD="$password" pgbench -q -i -s "$scale" -h 127.0.0.1 -p "$pg_port" -U bench bench >/dev/null 2>&1
rows=$((scale * 100000))

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
max_client_conn = $((sessions + 1000))
; session mode holds one server connection per client: the scale case needs one per session
default_pool_size = $((sessions + 100))
logfile = $work/pgbouncer.log
pidfile = $work/pgbouncer.pid
; the scale case empties the pool between paths (KILL/RESUME on the admin console)
admin_users = bench
INI
echo "\"bench\" \"$password\"" >"$work/userlist.txt"
[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$work/pgbouncer.ini" "$work/userlist.txt"
"${as_pg[@]}" bash -c "ulimit -n $(ulimit -n); exec pgbouncer -q \"$work/pgbouncer.ini\"" &
pids+=($!)
bouncer_pid=""

echo "== starting the gateway on 127.0.0.1:$gw_port (policy on, recording off) and on 127.0.0.1:$rec_port (policy and recording on)"
"$appliance" token keygen --out "$work/keys" >/dev/null
printf '%s\n' "$password" >"$work/secret"; chmod 600 "$work/secret"
# A realistic policy: a deny rule first, a role that may read public.* (and write pgbench's tables, for -N),
# default deny for everything else; one masked column.
gateway_config() { # gateway_config PORT STATE_DIR RECORD(true|false)
cat <<YAML
state_dir: $2
identity:
  issuers:
    - name: load
      issuer: https://issuer.load.invalid
      audiences: [appliance]
      jwks_file: $work/keys/jwks.json
roles:
  - name: test
    claims: { repository: acme/bench }
  - name: masked
    claims: { repository: acme/bench, masked: "yes" }
targets:
  - name: bench
    kind: postgres
    listen: 127.0.0.1:$1
    upstream: { host: 127.0.0.1, port: $pg_port, database: bench, user: bench, password_file: $work/secret, tls: disable }
    rules:
      - roles: [test]
        deny: [ddl, copy_in, do]
      - roles: [test]
        allow: [select, transaction, session]
        tables: ["public.*"]
      - roles: [test]
        allow: [insert, update, delete]
        tables: ["public.pgbench_*"]
    masking:
      - columns: [public.pgbench_accounts.filler]
        strategy: redact
        roles: [masked]
# The "gateway" path records nothing, "gateway-rec" records every statement, result and row with the
# defaults (fsync: batch, when_full: block): the difference is what recording costs.
record:
  enabled: $3
YAML
}
gateway_config "$gw_port" "$work/state" false >"$work/appliance.yaml"
gateway_config "$rec_port" "$work/state-rec" true >"$work/appliance-rec.yaml"
mint() { "$appliance" token mint --key "$work/keys/signing-key.pem" --issuer https://issuer.load.invalid --audience appliance --subject load --ttl 2h "$@"; }
token="$(mint --claim repository=acme/bench)"
masked_token="$(mint --claim repository=acme/bench --claim masked=yes)"
"$appliance" check --config "$work/appliance.yaml" >/dev/null
"$appliance" check --config "$work/appliance-rec.yaml" >/dev/null
# Profiling: a perf map for JIT code, and W^X off so perf can attribute samples to it (with W^X on, JIT
# code runs from a double-mapped memfd that perf cannot resolve).
profiling_env=(DOTNET_PerfMapEnabled=0)
[ -n "$profile" ] && profiling_env=(DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0)
start_gateway() { # start_gateway CONFIG LOG: starts a gateway in the background; its pid is in $! after
  env "${profiling_env[@]}" DOTNET_TieredPGO="${DOTNET_TieredPGO:-1}" \
    "$appliance" run --config "$1" >"$2" 2>&1 &
}
wait_ready() { for _ in $(seq 300); do "$pgbin/pg_isready" -q -h 127.0.0.1 -p "$1" -d bench && return 0; sleep 0.1; done; echo "nothing listening on $1" >&2; return 1; }
start_gateway "$work/appliance.yaml" "$work/gateway.log"
gw_pid=$!; pids+=($gw_pid)
start_gateway "$work/appliance-rec.yaml" "$work/gateway-rec.log"
rec_gw_pid=$!; pids+=($rec_gw_pid)
nopolicy_port=""; nopolicy_gw_pid=""
if want policy-ab; then
  nopolicy_port=$(free_port)
  gateway_config "$nopolicy_port" "$work/state-nopolicy" false >"$work/appliance-nopolicy.yaml"
  env "${profiling_env[@]}" DOTNET_TieredPGO=1 "$work/nopolicy/src/Appliance/bin/Release/net10.0/appliance" run --config "$work/appliance-nopolicy.yaml" >"$work/gateway-nopolicy.log" 2>&1 &
  nopolicy_gw_pid=$!; pids+=($nopolicy_gw_pid)
  wait_ready "$nopolicy_port"
fi
wait_ready "$gw_port"
wait_ready "$rec_port"
wait_ready "$bouncer_port"
[ -s "$work/pgbouncer.pid" ] || { echo "PgBouncer did not start:" >&2; cat "$work/pgbouncer.log" >&2; exit 1; }

conn() { # conn direct|pgbouncer|gateway
  case "$1" in
    direct) echo "host=127.0.0.1 port=$pg_port dbname=bench user=bench sslmode=disable" ;;
    pgbouncer) echo "host=127.0.0.1 port=$bouncer_port dbname=bench user=bench sslmode=disable" ;;
    gateway) echo "host=127.0.0.1 port=$gw_port dbname=bench user=ci sslmode=disable" ;;
    gateway-rec) echo "host=127.0.0.1 port=$rec_port dbname=bench user=ci sslmode=disable" ;;
    gateway-nopolicy) echo "host=127.0.0.1 port=$nopolicy_port dbname=bench user=ci sslmode=disable" ;;
  esac
}
npgsql_conn() { # the same, for the session driver
  case "$1" in
    direct) echo "Host=127.0.0.1;Port=$pg_port;Database=bench;Username=bench;Password=$password" ;;
    pgbouncer) echo "Host=127.0.0.1;Port=$bouncer_port;Database=bench;Username=bench;Password=$password" ;;
    gateway) echo "Host=127.0.0.1;Port=$gw_port;Database=bench;Username=ci;Password=$token" ;;
  esac
}
secret() { [[ "$1" == gateway* ]] && echo "$token" || echo "$password"; }
# CPU time (user+system, in clock ticks) a process has used so far.
cpu_ticks() { [ -n "$1" ] && awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
sys_ticks() { [ -n "$1" ] && awk '{print $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# The same for the threads of a process whose name starts with $2 (the store's writer: "segment store w").
thread_ticks() {
  local total=0 stat
  for stat in /proc/"$1"/task/*/stat; do
    total=$(awk -v name="($2" -v t="$total" 'index($0, name) { sub(/^.*\) /, ""); t += $12 + $13 } END { print t }' "$stat" 2>/dev/null || echo "$total")
  done
  echo "$total"
}
# Context switches of all threads of a process: "voluntary involuntary" (involuntary: preempted while runnable).
ctx_switches() {
  [ -n "$1" ] || { echo "0 0"; return; }
  cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^voluntary_ctxt_switches/ { v += $2 } /^nonvoluntary_ctxt_switches/ { n += $2 } END { print v + 0, n + 0 }'
}
# TCP segments the host has sent so far (loopback: every segment, data or bare ACK, is also received once).
tcp_out_segs() { awk '/^Tcp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "OutSegs") c = i; h = 1 } else print $c }' /proc/net/snmp; }
# "tid ticks name" for every thread of a process.
thread_table() {
  local stat
  for stat in /proc/"$1"/task/*/stat; do
    awk '{ match($0, /\(.*\)/); name = substr($0, RSTART + 1, RLENGTH - 2); rest = substr($0, RSTART + RLENGTH + 1); split(rest, f, " "); print $1, f[12] + f[13], name }' "$stat" 2>/dev/null
  done
}
proxy_pid() {
  case "$1" in
    gateway) echo "$gw_pid" ;;
    gateway-rec) echo "$rec_gw_pid" ;;
    gateway-nopolicy) echo "$nopolicy_gw_pid" ;;
    pgbouncer) [ -n "$bouncer_pid" ] || bouncer_pid="$(cat "$work/pgbouncer.pid")"; echo "$bouncer_pid" ;;
    *) echo "" ;;
  esac
}
hz=$(getconf CLK_TCK)
# The whole host's busy and idle ticks: "busy idle".
host_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat; }
bench() { # bench PATH PGBENCH-ARGS...: pgbench against PATH, output on stdout, fails loudly
  local path="$1"; shift
  local output
  output="$(PGPASSWORD="$(secret "$path")" pgbench -n "$@" "$(conn "$path")" 2>&1)" || { echo "$output" >&2; echo "pgbench failed on $path" >&2; exit 1; }
  echo "$output"
}

# run_case NAME PGBENCH-ARGS...: one line of results per path (the median of --rounds rounds)
results="$work/results.tsv"; : >"$results"
run_case() {
  local name="$1"; shift
  want "$name" || return 0
  local round rounds_file="$work/rounds.tsv"; : >"$rounds_file"
  for round in $(seq "$rounds"); do
    [ "$rounds" -gt 1 ] && echo "   round $round of $rounds"
    run_round "$name" "$@"
  done
  python3 - "$rounds_file" "$rounds" >>"$results" <<'PY'
import statistics, sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1]) if line.strip()]
for path in dict.fromkeys(r[1] for r in rows):
    mine = [r for r in rows if r[1] == path]
    tps = statistics.median(float(r[2]) for r in mine)
    cpu = statistics.median(float(r[3]) for r in mine)
    print(f"{mine[0][0]}\t{path}\t{tps:.1f}\t{cpu:.1f}")
PY
  if [ "$rounds" -gt 1 ]; then
    awk -F'\t' -v n="$name" '$1 == n { printf "   %-22s %-11s %10.0f tps   proxy cpu %6s us/txn (median of rounds)\n", $1, $2, $3, $4 }' "$results"
  fi
}
run_round() {
  local name="$1"; shift
  for path in direct pgbouncer gateway gateway-rec; do
    measure "$path" "$@"
    printf '%s\t%s\t%s\t%s\n' "$name" "$path" "$m_tps" "$m_cpu" >>"$rounds_file"
    printf '   %-22s %-11s %10.0f tps   proxy cpu %6s us/txn (kernel %s), switches/txn %s   host %s\n' "$name" "$path" "$m_tps" "$m_cpu" "$m_sys" "$m_ctx" "$m_host"
  done
}
# measure PATH PGBENCH-ARGS...: one pgbench run of --duration; sets m_tps, and the proxy's CPU µs per
# transaction (m_cpu, steadier than TPS on a noisy machine) and the kernel's share of it (m_sys).
measure() {
  local path="$1"; shift
  local output txns pid before after sys_before sys_after
  pid="$(proxy_pid "$path")"; before=$(cpu_ticks "$pid"); sys_before=$(sys_ticks "$pid"); read -r h_busy0 h_idle0 < <(host_ticks)
  read -r vol0 invol0 < <(ctx_switches "$pid"); segs0=$(tcp_out_segs)
  output="$(bench "$path" "$@" -T "$duration")"
  after=$(cpu_ticks "$pid"); sys_after=$(sys_ticks "$pid"); read -r h_busy1 h_idle1 < <(host_ticks)
  read -r vol1 invol1 < <(ctx_switches "$pid"); segs1=$(tcp_out_segs)
  m_tps="$(echo "$output" | awk '/^tps = / {print $3; exit}')"
  txns="$(echo "$output" | awk '/number of transactions actually processed/ {split($NF, a, "/"); print a[1]; exit}')"
  m_cpu=$(awk -v a="$after" -v b="$before" -v t="${txns:-0}" -v hz="$hz" 'BEGIN { if (t > 0) printf "%.1f", (a - b) * 1e6 / hz / t; else print 0 }')
  m_host=$(awk -v a="$h_busy1" -v b="$h_busy0" -v i1="$h_idle1" -v i0="$h_idle0" -v t="${txns:-0}" -v hz="$hz" 'BEGIN { if (t > 0) printf "%.1f us/txn, idle %.0f%%", (a - b) * 1e6 / hz / t, 100 * (i1 - i0) / (a - b + i1 - i0); else print 0 }')
  m_ctx=$(awk -v v="$((vol1 - vol0))" -v n="$((invol1 - invol0))" -v s="$((segs1 - segs0))" -v t="${txns:-0}" 'BEGIN { if (t > 0) printf "%.2f + %.2f, tcp segments/txn %.2f", v / t, n / t, s / t; else print 0 }')
  m_sys=$(awk -v a="$sys_after" -v b="$sys_before" -v t="${txns:-0}" -v hz="$hz" 'BEGIN { if (t > 0) printf "%.1f", (a - b) * 1e6 / hz / t; else print 0 }')
}

# Every path gets the same warm-up: each measured workload, then new connections (-C) so the login path runs
# often too. The gateway's JIT tiers a method up only after it has run a number of times: a workload or a login
# path that first runs inside a measured round would charge its compilation (a background thread's CPU) to
# that round. A service that has been up for a minute has done all of it.
echo "== warming up each path (every workload, then ${warmup}s of new connections: JIT tiering, connection caches)"
warm=(direct pgbouncer gateway gateway-rec); [ -n "$nopolicy_gw_pid" ] && warm+=(gateway-nopolicy)
for path in "${warm[@]}"; do
  for workload in "-S -M simple" "-S -M extended" "-S -M prepared" "-N -M simple" "-S -M simple -C"; do
    # shellcheck disable=SC2086 # the workload is several options
    PGPASSWORD="$(secret $path)" pgbench -n $workload -c "$clients" -j 2 -T "$warmup" "$(conn $path)" >/dev/null 2>&1 || true
  done
done
echo "== throughput (each case ${duration}s per path)"
run_case "select-simple"   -S -M simple   -c "$clients" -j 2
run_case "select-extended" -S -M extended -c "$clients" -j 2
run_case "select-prepared" -S -M prepared -c "$clients" -j 2
run_case "tpcb-like-N"     -N -M simple   -c "$clients" -j 2
run_case "select-simple-32c" -S -M simple -c 32 -j 2
run_case "connect-churn-C" -S -M simple -C -c 4 -j 2

# pair_run PATH_A PATH_B PGBENCH-ARGS...: pgbench against both paths at the same moment; writes
# "tps cpu_us_per_txn transactions" of A, then of B, to $work/pair.out. Whatever else the machine runs then hits
# both alike, so their ratio is the steadiest comparison there is here.
pair_run() {
  local a="$1" b="$2"; shift 2
  local pa pb ba bb p1 p2
  pa="$(proxy_pid "$a")"; pb="$(proxy_pid "$b")"; ba=$(cpu_ticks "$pa"); bb=$(cpu_ticks "$pb")
  PGPASSWORD="$(secret "$a")" pgbench -n "$@" "$(conn "$a")" >"$work/pair-a.txt" 2>&1 &
  p1=$!
  PGPASSWORD="$(secret "$b")" pgbench -n "$@" "$(conn "$b")" >"$work/pair-b.txt" 2>&1 &
  p2=$!
  wait "$p1" || { cat "$work/pair-a.txt" >&2; exit 1; }
  wait "$p2" || { cat "$work/pair-b.txt" >&2; exit 1; }
  { pair_side "$work/pair-a.txt" "$ba" "$(cpu_ticks "$pa")"; echo -n " "; pair_side "$work/pair-b.txt" "$bb" "$(cpu_ticks "$pb")"; echo; } >"$work/pair.out"
}
pair_side() { # pair_side PGBENCH-OUTPUT TICKS-BEFORE TICKS-AFTER
  local tps txns
  tps="$(awk '/^tps = / {print $3; exit}' "$1")"
  txns="$(awk '/number of transactions actually processed/ {split($NF, a, "/"); print a[1]; exit}' "$1")"
  awk -v tps="$tps" -v a="$3" -v b="$2" -v t="${txns:-0}" -v hz="$hz" 'BEGIN { printf "%s %.1f %d", tps, (t > 0 ? (a - b) * 1e6 / hz / t : 0), t }'
}

# What recording costs, measured side by side: the gateway without and with recording under the same pgbench
# load at the same time (half the clients each), so a change in what else the machine runs hits both alike.
paired="$work/paired.tsv"; : >"$paired"
if want recording-paired; then
  echo "== recording cost, side by side: gateway and gateway-rec at once, $((clients / 2)) clients each, ${duration}s per mode"
  for mode in simple extended prepared; do
    bw=$(thread_ticks "$rec_gw_pid" "segment store")
    pair_run gateway gateway-rec -S -M "$mode" -c $((clients / 2)) -j 1 -T "$duration"
    aw=$(thread_ticks "$rec_gw_pid" "segment store")
    read -r gt gc _ rt rc rtx <"$work/pair.out"
    # The store's writer thread alone, per recorded transaction.
    wc=$(awk -v a="$aw" -v b="$bw" -v t="$rtx" -v hz="$hz" 'BEGIN { if (t > 0) printf "%.1f", (a - b) * 1e6 / hz / t; else print 0 }')
    printf '%s\t%s\t%s\t%s\n' "$mode" gw "$gt" "$gc" "$mode" rec "$rt" "$rc" "$mode" writer 0 "$wc" >>"$paired"
    awk -v m="$mode" -v gt="$gt" -v gc="$gc" -v rt="$rt" -v rc="$rc" -v wc="$wc" 'BEGIN {
      printf "   -S -M %-9s gateway %8.0f tps %5.1f us/txn   gateway-rec %8.0f tps %5.1f us/txn (writer thread %.1f)   rec/gw tps %.2f, cpu %.2f\n",
        m, gt, gc, rt, rc, wc, rt / gt, rc / gc }'
  done
fi

# What the statement policy costs: the gateway and the same build with MeasureWithoutPolicy (no statement
# classified or decided), one after the other, in turns (on-off, then off-on: drift hits both alike), --rounds times.
policy_ab="$work/policy-ab.tsv"; : >"$policy_ab"
if want policy-ab; then
  echo "== policy cost: gateway and gateway-nopolicy in turns, $clients clients, ${duration}s each, $rounds round(s)"
  for round in $(seq "$rounds"); do
    for mode in simple extended prepared N; do
      if [ "$mode" = N ]; then args=(-N -M simple); else args=(-S -M "$mode"); fi
      order=(gateway gateway-nopolicy); [ $((round % 2)) -eq 0 ] && order=(gateway-nopolicy gateway)
      for path in "${order[@]}"; do
        measure "$path" "${args[@]}" -c "$clients" -j 2
        if [ "$path" = gateway ]; then ont=$m_tps; onc=$m_cpu; else offt=$m_tps; offc=$m_cpu; fi
      done
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$mode" "$round" "$ont" "$onc" "$offt" "$offc" >>"$policy_ab"
      awk -v m="$mode" -v r="$round" -v a="$ont" -v ac="$onc" -v b="$offt" -v bc="$offc" 'BEGIN {
        printf "   %-9s round %d   policy on %8.0f tps %5.1f us/txn   off %8.0f tps %5.1f us/txn   on/off tps %.3f, cpu %.3f\n",
          m, r, a, ac, b, bc, a / b, ac / bc }'
    done
  done
fi

# Added latency at one client: every transaction's latency from pgbench --log (column 3, µs).
latency="$work/latency.tsv"; : >"$latency"
if want latency-1c; then
  echo "== added latency at 1 client (pgbench -S, ${duration}s per path, every transaction logged)"
  for path in direct pgbouncer gateway gateway-rec; do
    rm -f "$work"/lat-"$path".*
    (cd "$work" && bench "$path" -S -M simple -c 1 -j 1 -T "$duration" --log --log-prefix="lat-$path" >/dev/null)
    cat "$work"/lat-"$path".* | awk -v p="$path" '{print p "\t" $3}' >>"$latency"
  done
  python3 - "$latency" <<'PY'
import sys
lat = {}
for line in open(sys.argv[1]):
    path, us = line.split("\t"); lat.setdefault(path, []).append(int(us))
for path, values in lat.items():
    values.sort(); n = len(values)
    print(f"   {path:11} p50 {values[n // 2]:6d} us   p99 {values[min(n - 1, int(n * 0.99))]:6d} us   ({n} transactions)")
PY
fi

# Bulk: the whole of pgbench_accounts through each path, one query per transaction, each timed by pgbench.
bulk="$work/bulk.tsv"; : >"$bulk"
if want bulk; then
  echo "== bulk: select * from pgbench_accounts ($rows rows), $bulk_runs runs per path"
  echo "select * from pgbench_accounts;" >"$work/bulk.sql"
  bulk_cpu() { awk -v a="$2" -v b="$1" -v t="$bulk_runs" -v hz="$hz" 'BEGIN { printf "%.0f", (a - b) * 1000 / hz / t }'; }
  for path in direct pgbouncer gateway gateway-rec; do
    rm -f "$work"/bulk-"$path".*
    pid="$(proxy_pid $path)"; before=$(cpu_ticks "$pid")
    (cd "$work" && bench "$path" -f "$work/bulk.sql" -c 1 -j 1 -t "$bulk_runs" --log --log-prefix="bulk-$path" >/dev/null)
    cpu_ms="$(bulk_cpu "$before" "$(cpu_ticks "$pid")")"
    ms="$(cat "$work"/bulk-"$path".* | awk '{print $3}' | sort -n | awk '{v[NR]=$1} END {printf "%.1f", v[int((NR+1)/2)] / 1000}')"
    printf '%s\t%s\t%s\t%s\n' unmasked "$path" "$ms" "$cpu_ms" >>"$bulk"
    printf '   %-11s unmasked %10s ms per query (median), proxy cpu %s ms per query\n' "$path" "$ms" "$cpu_ms"
  done
  # Masked: the same query with the token of role "masked", for which public.pgbench_accounts.filler is redacted.
  rm -f "$work"/bulk-masked.*
  pid="$(proxy_pid gateway)"; before=$(cpu_ticks "$pid")
  output="$(cd "$work" && PGPASSWORD="$masked_token" pgbench -n -f "$work/bulk.sql" -c 1 -j 1 -t "$bulk_runs" --log --log-prefix=bulk-masked "$(conn gateway)" 2>&1)" \
    || { echo "$output" >&2; echo "pgbench failed on the masked gateway run" >&2; exit 1; }
  ms="$(cat "$work"/bulk-masked.* | awk '{print $3}' | sort -n | awk '{v[NR]=$1} END {printf "%.1f", v[int((NR+1)/2)] / 1000}')"
  cpu_ms="$(bulk_cpu "$before" "$(cpu_ticks "$pid")")"
  printf '%s\t%s\t%s\t%s\n' masked gateway "$ms" "$cpu_ms" >>"$bulk"
  printf '   %-10s masked   %10s ms per query (median), proxy cpu %s ms per query\n' gateway "$ms" "$cpu_ms"
fi

# Scale: many sessions open at once, a few busy; RSS per session of the proxy process.
scale_results="$work/scale.jsonl"; : >"$scale_results"
if want scale; then
  echo "== scale: $sessions sessions open and idle, $busy busy for ${duration}s, per path"
  # Session mode keeps server connections pooled after clients leave: close them, and wait until PostgreSQL
  # has let go of every earlier session, so each path gets all of max_connections.
  pgbouncer_release() {
    PGPASSWORD="$password" psql -X -q "host=127.0.0.1 port=$bouncer_port dbname=pgbouncer user=bench sslmode=disable" \
      -c "KILL bench" -c "RESUME bench" >/dev/null 2>&1 || true
    for _ in $(seq 150); do
      n="$(psql -X -At -h "$work/sock" -p "$pg_port" -U postgres -c "select count(*) from pg_stat_activity where datname = 'bench'")"
      [ "$n" -lt 5 ] && return 0; sleep 0.2
    done
    echo "warning: $n sessions still open on PostgreSQL" >&2
  }
  pgbouncer_release
  # The gateway's RSS per session is measured on a gateway of its own, started for this case and warmed up
  # with a short pgbench run: the main one's heap and buffer pools have grown in the earlier cases (bulk),
  # and new sessions would reuse memory it already holds, hiding their cost.
  scale_port=$(free_port)
  gateway_config "$scale_port" "$work/state-scale" false >"$work/appliance-scale.yaml"
  start_gateway "$work/appliance-scale.yaml" "$work/gateway-scale.log"
  scale_gw_pid=$!; pids+=($scale_gw_pid)
  wait_ready "$scale_port"
  PGPASSWORD="$token" pgbench -n -S -c 4 -j 2 -T "$warmup" "host=127.0.0.1 port=$scale_port dbname=bench user=ci sslmode=disable" >/dev/null 2>&1 || true
  for path in direct pgbouncer gateway; do
    pid="$(proxy_pid $path)"; target="$(npgsql_conn "$path")"
    if [ "$path" = gateway ]; then pid="$scale_gw_pid"; target="${target/Port=$gw_port/Port=$scale_port}"; fi
    line="$(timeout $((duration + 300)) "$sessions_driver" --conn "$target" --sessions "$sessions" --busy "$busy" --duration "$duration" \
      --rows "$rows" ${pid:+--pid "$pid"})" || { echo "$line" >&2; echo "session driver failed on $path" >&2; exit 1; }
    echo "$line" | python3 -c "import json,sys; d=json.load(sys.stdin); d['path']='$path'; print(json.dumps(d))" >>"$scale_results"
    echo "$line" | python3 -c "
import json,sys; d=json.load(sys.stdin)
rss = 'n/a (no proxy)' if d['rss_per_session_kb'] is None else f\"{d['rss_per_session_kb']} KB/session (RSS {d['rss_before_kb']//1024} -> {d['rss_idle_kb']//1024} MB idle, {d['rss_busy_kb']//1024} MB busy)\"
print(f\"   {'$path':10} opened {d['opened']}/{d['sessions']} in {d['open_seconds']} s, {d['tps']:.0f} tps on {d['busy']} busy, p99 {d['latency_p99_us']} us, {rss}\")"
    pgbouncer_release
  done
  kill "$scale_gw_pid" 2>/dev/null || true
fi

# The GC count per 10k transactions needs dotnet-counters: installed on demand (--profile) into a tool path.
tools="${APPLIANCE_DOTNET_TOOLS:-/tmp/appliance-dotnet-tools}"
dotnet_tool() {
  [ -x "$tools/$1" ] || dotnet tool install --tool-path "$tools" "$1" >/dev/null
  echo "$tools/$1"
}
profile_json="$work/profile.json"; echo '{}' >"$profile_json"
if [ -n "$profile" ]; then
  prof_pid="$(proxy_pid "$profile_path")"
  # PROFILE_PGBENCH="-N" (or any pgbench script options) profiles another workload than -S.
  read -r -a profile_args <<<"${PROFILE_PGBENCH:--S -M simple}"
  echo "== profiling $profile_path (pid $prof_pid) under pgbench ${profile_args[*]} (${duration}s per tool)"
  counters="$(dotnet_tool dotnet-counters)"; trace="$(dotnet_tool dotnet-trace)"
  span="$(printf '00:00:%02d:%02d' $((duration / 60)) $((duration % 60)))"
  rm -f "$profile/counters.json"
  "$counters" collect -p "$prof_pid" --counters System.Runtime --format json -o "$profile/counters.json" --duration "$span" >/dev/null 2>&1 &
  counters_pid=$!
  sleep 1 # the session must be attached before the run starts
  bench "$profile_path" "${profile_args[@]}" -c "$clients" -j 2 -T $((duration - 2)) >"$profile/pgbench-counters.txt"
  wait "$counters_pid" || true
  "$trace" collect -p "$prof_pid" --profile dotnet-sampled-thread-time -o "$profile/gateway.nettrace" --duration "$span" >/dev/null 2>&1 &
  trace_pid=$!
  sleep 1
  bench "$profile_path" "${profile_args[@]}" -c "$clients" -j 2 -T $((duration - 2)) >"$profile/pgbench-trace.txt"
  wait "$trace_pid" || true
  { "$trace" report "$profile/gateway.nettrace" topN -n 40 2>&1 || true; echo; "$trace" report "$profile/gateway.nettrace" topN -n 40 --inclusive 2>&1 || true; } >"$profile/trace-top.txt"
  PGPASSWORD="$token" pgbench -n "${profile_args[@]}" -c "$clients" -j 2 -T "$duration" "$(conn "$profile_path")" >/dev/null 2>&1 &
  bench_pid=$!
  threads_before="$(thread_table "$prof_pid")"; process_before=$(cpu_ticks "$prof_pid")
  perf record -e cpu-clock -F 2000 -g -p "$prof_pid" -o "$profile/perf.data" -- sleep $((duration - 1)) >/dev/null 2>&1 || true
  threads_after="$(thread_table "$prof_pid")"; process_after=$(cpu_ticks "$prof_pid")
  wait "$bench_pid"
  # Which threads used the CPU: the epoll loop should be nearly all of it. A thread that ended within the window
  # (the JIT's tiering thread comes and goes) is in neither table, only in the process's total.
  python3 - "$threads_before" "$threads_after" "$((process_after - process_before))" <<'PY' | tee "$profile/threads.txt"
import sys
def parse(text):
    rows = {}
    for line in text.splitlines():
        tid, ticks, name = line.split(" ", 2)
        rows[tid] = (name, int(ticks))
    return rows
before, after = parse(sys.argv[1]), parse(sys.argv[2])
used = {}
for tid, (name, ticks) in after.items():
    used[name] = used.get(name, 0) + ticks - before.get(tid, (name, 0))[1]
ended = int(sys.argv[3]) - sum(used.values())
if ended > 0:
    used["(threads that ended)"] = ended
total = sum(used.values()) or 1
for name, ticks in sorted(used.items(), key=lambda kv: -kv[1])[:8]:
    print(f"   thread {name:<24} {100 * ticks / total:5.1f}% of the process's CPU")
PY
  perf report -i "$profile/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null | head -120 >"$profile/perf-top.txt" || true
  PGPASSWORD="$token" pgbench -n "${profile_args[@]}" -c "$clients" -j 2 -T "$duration" "$(conn "$profile_path")" >"$profile/pgbench-strace.txt" 2>&1 &
  bench_pid=$!
  timeout -s INT $((duration - 1)) strace -c -f -p "$prof_pid" -o "$profile/strace.txt" >/dev/null 2>&1 || true
  wait "$bench_pid"
  python3 - "$profile/counters.json" "$profile/pgbench-counters.txt" "$profile_json" <<'PY'
import json, re, sys
counters, pgbench, out = sys.argv[1:4]
txns = int(re.search(r"number of transactions actually processed: (\d+)", open(pgbench).read()).group(1))
text = open(counters).read().strip()
# dotnet-counters writes one JSON document with an "Events" list (rates per interval for counters).
try:
    events = json.loads(text)["Events"]
except (ValueError, KeyError):
    events = json.loads(text.rstrip(",\n ]}") + "]}")["Events"]
# Rates are per 1 s interval, so their sum over the run is the total.
gc, allocated, cpu = {}, 0.0, {}
for e in events:
    name, tags, value = e.get("name", ""), e.get("tags", "") or "", float(e.get("value", 0))
    if name.startswith("dotnet.gc.collections"):
        gen = re.search(r"gc\.heap\.generation=(\w+)", tags)
        key = gen.group(1) if gen else "all"
        gc[key] = gc.get(key, 0) + value
    elif name.startswith("dotnet.gc.heap.total_allocated"):
        allocated += value
    elif name.startswith("dotnet.process.cpu.time"):
        mode = re.search(r"cpu\.mode=(\w+)", tags)
        cpu[mode.group(1) if mode else "all"] = cpu.get(mode.group(1) if mode else "all", 0) + value
report = {"transactions": txns, "gc_collections": {k: int(v) for k, v in gc.items()},
          "gc_per_10k_transactions": {k: round(v * 10000 / txns, 3) for k, v in gc.items()} if txns else {},
          # The counters' window is a little longer than pgbench's run: an upper bound.
          "allocated_bytes_per_transaction": round(allocated / txns, 2) if txns else None,
          "cpu_seconds": {k: round(v, 2) for k, v in cpu.items()},
          "cpu_us_per_transaction": {k: round(v * 1e6 / txns, 1) for k, v in cpu.items()} if txns else {}}
json.dump(report, open(out, "w"), indent=2)
print(f"   {txns} transactions: GC collections {report['gc_collections']} (per 10k: {report['gc_per_10k_transactions']}),"
      f" allocated <= {report['allocated_bytes_per_transaction']} B/txn, CPU us/txn {report['cpu_us_per_transaction']}")
PY
  echo "   wrote $profile/{counters.json,gateway.nettrace,trace-top.txt,perf-top.txt,strace.txt}"
fi

python3 - "$results" "$latency" "$bulk" "$scale_results" "$profile_json" "$out" "$duration" "$clients" "$smoke" "$paired" "$policy_ab" "$rounds" <<'PY'
import json, statistics, sys
results, latency, bulk, scale, profile, out, duration, clients, smoke, paired, policy_ab, rounds = sys.argv[1:13]
report = {"duration_s": int(duration), "rounds": int(rounds), "clients": int(clients), "smoke": smoke == "1", "cases": {}}

rows = [l.rstrip("\n").split("\t") for l in open(results) if l.strip()]
cases, cpu = {}, {}
for name, path, tps, cpu_us in rows:
    cases.setdefault(name, {})[path] = float(tps)
    cpu.setdefault(name, {})[path] = float(cpu_us)
print()
print(f"{'case':22} {'direct tps':>12} {'pgbouncer':>12} {'gateway':>12} {'gw+rec':>12} {'pgb/direct':>11} {'gw/direct':>10} {'gw/pgb':>8}"
      f" {'rec/gw':>7} {'cpu us/txn pgb':>15} {'gw':>6} {'gw+rec':>7}")
for name, v in cases.items():
    d, b, g, r = v["direct"], v["pgbouncer"], v["gateway"], v.get("gateway-rec")
    entry = {"direct_tps": d, "pgbouncer_tps": b, "gateway_tps": g,
             "pgbouncer_ratio": round(b / d, 3), "gateway_ratio": round(g / d, 3),
             "pgbouncer_cpu_us_per_txn": cpu[name]["pgbouncer"], "gateway_cpu_us_per_txn": cpu[name]["gateway"]}
    line = f"{name:22} {d:12.0f} {b:12.0f} {g:12.0f}"
    if r is not None:
        rc = cpu[name]["gateway-rec"]
        # What recording costs, in the same run: TPS kept (rec/gw) and CPU per transaction added (rec/gw - 1).
        entry.update({"gateway_recording_tps": r, "gateway_recording_ratio": round(r / d, 3),
                      "gateway_recording_cpu_us_per_txn": rc, "recording_tps_ratio": round(r / g, 3),
                      "recording_cpu_ratio": round(rc / cpu[name]["gateway"], 3) if cpu[name]["gateway"] else None})
        line += f" {r:12.0f} {b/d:11.2f} {g/d:10.2f} {g/b:8.2f} {r/g:7.2f} {cpu[name]['pgbouncer']:15.1f} {cpu[name]['gateway']:6.1f} {rc:7.1f}"
    else:
        line += f" {'':12} {b/d:11.2f} {g/d:10.2f} {g/b:8.2f} {'':7} {cpu[name]['pgbouncer']:15.1f} {cpu[name]['gateway']:6.1f}"
    report["cases"][name] = entry
    print(line)

pairs = {}
for line in open(paired):
    mode, side, tps, cpu_us = line.rstrip("\n").split("\t"); pairs.setdefault(mode, {})[side] = (float(tps), float(cpu_us))
if pairs:
    report["recording_paired"] = {}
    print("\nrecording cost, gateway and gateway-rec side by side (same load, same time):")
    for mode, v in pairs.items():
        (gt, gc), (rt, rc), wc = v["gw"], v["rec"], v["writer"][1]
        report["recording_paired"][mode] = {"gateway_tps": gt, "gateway_recording_tps": rt, "gateway_cpu_us_per_txn": gc,
                                            "gateway_recording_cpu_us_per_txn": rc, "writer_thread_cpu_us_per_txn": wc,
                                            "tps_ratio": round(rt / gt, 3), "cpu_ratio": round(rc / gc, 3) if gc else None}
        print(f"   -S -M {mode:9} tps {gt:8.0f} -> {rt:8.0f} ({rt / gt:.2f}x), CPU {gc:5.1f} -> {rc:5.1f} us/txn ({rc / gc:.2f}x),"
              f" of which the store's writer thread {wc:.1f}")

policy = {}
for line in open(policy_ab):
    mode, _, on_tps, on_cpu, off_tps, off_cpu = line.rstrip("\n").split("\t")
    policy.setdefault(mode, []).append((float(on_tps) / float(off_tps), float(on_cpu) / float(off_cpu) if float(off_cpu) else 0))
if policy:
    report["policy_ab"] = {}
    print("\npolicy cost, gateway with and without statement policy in turns (median of rounds):")
    for mode, values in policy.items():
        tps_ratio = statistics.median(v[0] for v in values); cpu_ratio = statistics.median(v[1] for v in values)
        report["policy_ab"][mode] = {"tps_ratio": round(tps_ratio, 3), "cpu_ratio": round(cpu_ratio, 3),
                                         "tps_ratios": [round(v[0], 3) for v in values]}
        label = "-N" if mode == "N" else f"-S -M {mode}"
        print(f"   {label:18} policy on / off: tps {tps_ratio:.3f} (rounds {', '.join(f'{v[0]:.3f}' for v in values)}), cpu per txn {cpu_ratio:.3f}")

lat = {}
for line in open(latency):
    path, us = line.split("\t"); lat.setdefault(path, []).append(int(us))
if lat:
    def pct(values, p): return values[min(len(values) - 1, int(len(values) * p))]
    summary = {}
    for path, values in lat.items():
        values.sort(); summary[path] = {"p50": pct(values, 0.5), "p99": pct(values, 0.99), "n": len(values)}
    entry = {"direct_p50_us": summary["direct"]["p50"], "direct_p99_us": summary["direct"]["p99"]}
    for path in [p for p in ("pgbouncer", "gateway", "gateway-rec") if p in summary]:
        key = path.replace("gateway-rec", "gateway_recording")
        entry[f"{key}_p50_us"] = summary[path]["p50"]; entry[f"{key}_p99_us"] = summary[path]["p99"]
        entry[f"{key}_added_p50_us"] = summary[path]["p50"] - summary["direct"]["p50"]
        entry[f"{key}_added_p99_us"] = summary[path]["p99"] - summary["direct"]["p99"]
        entry[f"{key}_p50_ratio"] = round(summary[path]["p50"] / max(1, summary["direct"]["p50"]), 3)
        entry[f"{key}_p99_ratio"] = round(summary[path]["p99"] / max(1, summary["direct"]["p99"]), 3)
    report["latency_1_client"] = entry
    recorded = (f"; gateway+recording p50 +{entry['gateway_recording_added_p50_us']} us, p99 +{entry['gateway_recording_added_p99_us']} us"
                if "gateway_recording_p50_us" in entry else "")
    print(f"\nadded latency, 1 client (-S simple): pgbouncer p50 +{entry['pgbouncer_added_p50_us']} us, p99 +{entry['pgbouncer_added_p99_us']} us;"
          f" gateway p50 +{entry['gateway_added_p50_us']} us, p99 +{entry['gateway_added_p99_us']} us{recorded}"
          f" (direct p50 {entry['direct_p50_us']} us, p99 {entry['direct_p99_us']} us)")

times, bulk_cpu = {}, {}
for line in open(bulk):
    kind, path, ms, cpu_ms = line.rstrip("\n").split("\t"); times[(kind, path)] = float(ms); bulk_cpu[(kind, path)] = float(cpu_ms)
if times:
    d = times[("unmasked", "direct")]
    entry = {"direct_ms": d}
    for path in [p for p in ("pgbouncer", "gateway", "gateway-rec") if ("unmasked", p) in times]:
        key = path.replace("gateway-rec", "gateway_recording")
        entry[f"{key}_ms"] = times[("unmasked", path)]
        entry[f"{key}_time_ratio"] = round(times[("unmasked", path)] / d, 3)
        entry[f"{key}_cpu_ms"] = bulk_cpu[("unmasked", path)]
    masked = times.get(("masked", "gateway"))
    entry["gateway_masked_ms"] = masked
    entry["gateway_masked_time_ratio"] = round(masked / d, 3)
    entry["gateway_masked_cpu_ms"] = bulk_cpu[("masked", "gateway")]
    report["bulk"] = entry
    print(f"bulk select * (time per query, lower is better): direct {d:.0f} ms, pgbouncer {entry['pgbouncer_ms']:.0f} ms"
          f" ({entry['pgbouncer_time_ratio']:.2f}x), gateway {entry['gateway_ms']:.0f} ms ({entry['gateway_time_ratio']:.2f}x)"
          + (f", gateway+recording {entry['gateway_recording_ms']:.0f} ms ({entry['gateway_recording_time_ratio']:.2f}x)" if "gateway_recording_ms" in entry else "")
          + f"; masked through the gateway {masked:.0f} ms ({entry['gateway_masked_time_ratio']:.2f}x);"
          f" proxy CPU per query: pgbouncer {entry['pgbouncer_cpu_ms']:.0f} ms, gateway {entry['gateway_cpu_ms']:.0f} ms, masked {entry['gateway_masked_cpu_ms']:.0f} ms")

sc = [json.loads(l) for l in open(scale) if l.strip()]
if sc:
    by = {s["path"]: s for s in sc}
    entry = {p: {k: s[k] for k in ("sessions", "opened", "failed", "idle_alive_after", "busy", "tps", "latency_p50_us", "latency_p99_us",
                                   "rss_before_kb", "rss_idle_kb", "rss_busy_kb", "rss_per_session_kb", "error")} for p, s in by.items()}
    for path in ("pgbouncer", "gateway"):
        entry[f"{path}_tps_ratio"] = round(by[path]["tps"] / by["direct"]["tps"], 3) if by["direct"]["tps"] else None
    report["scale"] = entry
    g, b = by["gateway"], by["pgbouncer"]
    print(f"scale, {g['sessions']} sessions ({g['busy']} busy): gateway {g['tps']:.0f} tps ({entry['gateway_tps_ratio']}x direct),"
          f" {g['rss_per_session_kb']} KB RSS per session; pgbouncer {b['tps']:.0f} tps ({entry['pgbouncer_tps_ratio']}x),"
          f" {b['rss_per_session_kb']} KB per session")

prof = json.load(open(profile))
if prof:
    report["profile"] = prof
json.dump(report, open(out, "w"), indent=2)
print(f"\nwrote {out}")
PY
