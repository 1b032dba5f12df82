#!/usr/bin/env bash
# Installs (or upgrades) the Appliance gateway as a systemd service. See systemd/README.md.
#
#   sudo systemd/install.sh                      publish from this checkout and install into /
#   sudo systemd/install.sh --from DIR           install an already published build (DIR/appliance)
#   sudo systemd/install.sh --rollback           switch back to the previous release and restart
#   systemd/install.sh --root DIR                install into DIR (also DESTDIR=DIR): files, user and
#                                                directories only; no service manager is contacted
#
# Options:
#   --self-contained | --framework-dependent     how to publish (default: framework-dependent when the
#                                                .NET 10 and ASP.NET Core 10 runtimes are installed where
#                                                the service can find them, self-contained otherwise)
#   --ready-to-run | --no-ready-to-run           precompile with ReadyToRun (default: on; see README)
#   --user-tool auto|sysusers|useradd            how to create the service user (default: auto, which
#                                                uses systemd-sysusers and falls back to useradd)
#   --keep N                                     releases to keep under /opt/appliance/releases (default 3)
#   --no-enable                                  do not enable the unit
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(dirname "$script_dir")
service=appliance
user=appliance

root="${DESTDIR:-/}"
from=""
publish_mode=auto
ready_to_run=true
user_tool=auto
keep=3
enable=true
rollback=false

die() { echo "install.sh: $*" >&2; exit 1; }
say() { echo "install.sh: $*"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --root) [ $# -ge 2 ] || die "--root needs a directory"; root="$2"; shift 2 ;;
    --root=*) root="${1#*=}"; shift ;;
    --from) [ $# -ge 2 ] || die "--from needs a directory"; from="$2"; shift 2 ;;
    --from=*) from="${1#*=}"; shift ;;
    --self-contained) publish_mode=self-contained; shift ;;
    --framework-dependent) publish_mode=framework-dependent; shift ;;
    --ready-to-run) ready_to_run=true; shift ;;
    --no-ready-to-run) ready_to_run=false; shift ;;
    --user-tool) [ $# -ge 2 ] || die "--user-tool needs auto, sysusers or useradd"; user_tool="$2"; shift 2 ;;
    --user-tool=*) user_tool="${1#*=}"; shift ;;
    --keep) [ $# -ge 2 ] || die "--keep needs a number"; keep="$2"; shift 2 ;;
    --no-enable) enable=false; shift ;;
    --rollback) rollback=true; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$1' (try --help)" ;;
  esac
done
case "$user_tool" in auto|sysusers|useradd) ;; *) die "--user-tool must be auto, sysusers or useradd" ;; esac
[[ "$keep" =~ ^[1-9][0-9]*$ ]] || die "--keep must be a positive number"

mkdir -p "$root"
root=$(cd "$root" && pwd)
R="${root%/}"                                   # prefix for every path; empty when installing into /
live=false                                      # installing into the running system
[ -z "$R" ] && live=true
systemd_running=false                           # sd_booted(3)
$live && [ -d /run/systemd/system ] && systemd_running=true
is_root=false
[ "$(id -u)" -eq 0 ] && is_root=true
$live && ! $is_root && die "installing into / needs root (or use --root DIR)"

opt="$R/opt/appliance"
unit_dir="$R/etc/systemd/system"

# ----- rollback -----------------------------------------------------------------------------------
switch_to() { # release directory name
  ln -sfn "releases/$1" "$opt/current.new"
  mv -T "$opt/current.new" "$opt/current"
}
current_release() { if [ -L "$opt/current" ]; then basename "$(readlink "$opt/current")"; fi; }
releases() { # installed release names, oldest first (names are UTC times)
  local d
  for d in "$opt"/releases/*/; do
    d=${d%/}; d=${d##*/}
    case "$d" in *.tmp|'*') ;; *) echo "$d" ;; esac
  done | LC_ALL=C sort
}

if $rollback; then
  current=$(current_release)
  [ -n "$current" ] || die "nothing installed under $opt"
  previous=$(releases | awk -v c="$current" '$0 < c' | tail -n 1)
  [ -n "$previous" ] || die "no release older than $current under $opt/releases"
  switch_to "$previous"
  say "current release: $previous (was $current)"
  if $systemd_running && systemctl is-active --quiet "$service"; then
    systemctl restart "$service"
    say "restarted $service"
  fi
  exit 0
fi

# ----- publish ------------------------------------------------------------------------------------
runtimes_usable() {
  # The apphost finds the shared runtime through /etc/dotnet/install_location or in /usr/share/dotnet;
  # a runtime elsewhere (a home directory) is invisible to the service, and ProtectHome hides it anyway.
  local dir=/usr/share/dotnet
  for f in /etc/dotnet/install_location_x64 /etc/dotnet/install_location; do
    [ -f "$f" ] && { dir=$(head -n 1 "$f"); break; }
  done
  ls -d "$dir"/shared/Microsoft.NETCore.App/10.* >/dev/null 2>&1 &&
    ls -d "$dir"/shared/Microsoft.AspNetCore.App/10.* >/dev/null 2>&1
}

stage=""
cleanup() { if [ -n "$stage" ]; then rm -rf "$stage"; fi; }
trap cleanup EXIT

if [ -n "$from" ]; then
  [ -x "$from/appliance" ] || die "$from/appliance is missing or not executable"
  build="$from"
  build_info="prebuilt from $(cd "$from" && pwd)"
else
  command -v dotnet >/dev/null || die "dotnet (the .NET 10 SDK) is needed to publish; or pass --from DIR with a published build"
  if [ "$publish_mode" = auto ]; then
    if runtimes_usable; then publish_mode=framework-dependent; else publish_mode=self-contained; fi
  fi
  case "$(uname -m)" in
    x86_64) rid=linux-x64 ;;
    aarch64) rid=linux-arm64 ;;
    *) die "unsupported machine $(uname -m)" ;;
  esac
  self_contained=false
  [ "$publish_mode" = self-contained ] && self_contained=true
  stage=$(mktemp -d "${TMPDIR:-/tmp}/appliance-publish.XXXXXX")
  say "publishing ($publish_mode, $rid, ReadyToRun=$ready_to_run)"
  dotnet publish "$repo_dir/src/Appliance/Appliance.csproj" -c Release -r "$rid" --self-contained "$self_contained" \
    -p:PublishReadyToRun="$ready_to_run" -p:SatelliteResourceLanguages=en -o "$stage/out" --nologo -v q >&2
  build="$stage/out"
  commit=$(git -C "$repo_dir" rev-parse --short HEAD 2>/dev/null || echo unknown)
  build_info="$publish_mode $rid ReadyToRun=$ready_to_run commit=$commit"
fi

# ----- service user -------------------------------------------------------------------------------
id_of() { # file name -> numeric id (third field), empty when absent
  if [ -f "$R/etc/$1" ]; then awk -F: -v n="$2" '$1 == n { print $3 }' "$R/etc/$1"; fi
}
create_user_sysusers() {
  command -v systemd-sysusers >/dev/null || return 1
  mkdir -p "$R/etc"
  systemd-sysusers --root="$root" "$script_dir/appliance.sysusers.conf" >/dev/null
}
create_user_useradd() {
  local prefix=()
  if ! $live; then
    prefix=(--prefix "$root")
    mkdir -p "$R/etc"
    for f in passwd group shadow gshadow; do [ -e "$R/etc/$f" ] || install -m 0640 /dev/null "$R/etc/$f"; done
    chmod 0644 "$R/etc/passwd" "$R/etc/group"
  fi
  [ -n "$(id_of group "$user")" ] || groupadd --system "${prefix[@]}" "$user"
  useradd --system "${prefix[@]}" --gid "$user" --home-dir /var/lib/appliance --no-create-home \
    --shell /usr/sbin/nologin --comment "Appliance access gateway" "$user"
}
if [ -z "$(id_of passwd "$user")" ]; then
  case "$user_tool" in
    sysusers) create_user_sysusers || die "systemd-sysusers could not create the user '$user'" ;;
    useradd) create_user_useradd ;;
    auto) create_user_sysusers || { say "systemd-sysusers unavailable or failed; using useradd"; create_user_useradd; } ;;
  esac
  say "created system user '$user'"
fi
uid=$(id_of passwd "$user")
gid=$(id_of group "$user")
if [ -z "$uid" ] || [ -z "$gid" ]; then die "user or group '$user' missing from $R/etc/passwd or $R/etc/group"; fi
$is_root || say "not root: files stay owned by $(id -un); the service needs them owned by $user"
own() { $is_root && chown "$@"; true; }

# ----- directories (the same list systemd-tmpfiles applies at boot) -------------------------------
mkdir -p "$R/etc/tmpfiles.d" "$R/etc/sysusers.d" "$unit_dir"
install -m 0644 "$script_dir/appliance.tmpfiles.conf" "$R/etc/tmpfiles.d/appliance.conf"
install -m 0644 "$script_dir/appliance.sysusers.conf" "$R/etc/sysusers.d/appliance.conf"
if ! { $is_root && command -v systemd-tmpfiles >/dev/null &&
       systemd-tmpfiles --root="$root" --create "$R/etc/tmpfiles.d/appliance.conf"; }; then
  # Without systemd-tmpfiles: the same lines, applied by hand (type d: path mode user group).
  grep -E '^d[[:space:]]' "$script_dir/appliance.tmpfiles.conf" | while read -r _ path mode owner group _; do
    install -d -m "$mode" "$R$path"
    own "$( [ "$owner" = root ] && echo 0 || echo "$uid"):$( [ "$group" = root ] && echo 0 || echo "$gid")" "$R$path"
  done
fi

# ----- release ------------------------------------------------------------------------------------
install -d -m 0755 "$opt" "$opt/releases"
# Names sort in installation order: --rollback and pruning rely on it.
release="$(date -u +%Y%m%dT%H%M%S.%NZ)"
while [ -e "$opt/releases/$release" ]; do release="$(date -u +%Y%m%dT%H%M%S.%NZ)"; done
previous=$(current_release)
cp -a "$build/." "$opt/releases/$release.tmp/"
printf 'release=%s\nbuild=%s\ninstalled=%s\n' "$release" "$build_info" "$(date -u +%FT%TZ)" > "$opt/releases/$release.tmp/RELEASE"
install -m 0644 "$script_dir/README.md" "$opt/releases/$release.tmp/README.md"
own -R 0:0 "$opt/releases/$release.tmp"
chmod -R u=rwX,go=rX "$opt/releases/$release.tmp"
chmod 0755 "$opt/releases/$release.tmp/appliance"
mv -T "$opt/releases/$release.tmp" "$opt/releases/$release"

config="$R/etc/appliance/appliance.yaml"
if $live && $systemd_running && systemctl is-active --quiet "$service" && [ -f "$config" ]; then
  # Upgrade of a running service: the new release must accept the configuration before it is switched to.
  if ! "$opt/releases/$release/appliance" check --config /etc/appliance/appliance.yaml >&2; then
    rm -rf "${opt:?}/releases/$release"
    die "the new release rejects /etc/appliance/appliance.yaml; nothing changed"
  fi
fi
switch_to "$release"
say "installed release $release in $opt/releases ($build_info)"

# Older releases beyond --keep go, never the current or the previous one.
releases | head -n "-$keep" | while read -r old; do
  [ "$old" = "$release" ] || [ "$old" = "$previous" ] || rm -rf "${opt:?}/releases/$old"
done

mkdir -p "$R/usr/local/bin"
ln -sfn /opt/appliance/current/appliance "$R/usr/local/bin/appliance"

# ----- configuration: an example, never overwriting the operator's file ---------------------------
install -m 0644 "$repo_dir/examples/appliance.yaml" "$R/etc/appliance/appliance.yaml.example"
if [ ! -e "$config" ]; then
  install -m 0640 "$repo_dir/examples/appliance.yaml" "$config"
  own "0:$gid" "$config"
  fresh_config=true
  say "installed an example configuration at /etc/appliance/appliance.yaml: edit it before starting"
else
  fresh_config=false
  say "kept the existing /etc/appliance/appliance.yaml (the example is appliance.yaml.example)"
fi

# ----- unit ---------------------------------------------------------------------------------------
install -m 0644 "$script_dir/appliance.service" "$unit_dir/appliance.service"
if $systemd_running; then
  systemctl daemon-reload
  $enable && systemctl enable "$service" >/dev/null 2>&1 && say "enabled $service"
  if systemctl is-active --quiet "$service"; then
    if systemctl restart "$service"; then
      say "restarted $service on release $release"
    elif [ -n "$previous" ]; then
      switch_to "$previous"
      systemctl restart "$service" || true
      die "release $release did not start; switched back to $previous (journalctl -u $service)"
    else
      die "release $release did not start (journalctl -u $service)"
    fi
  elif ! $fresh_config; then
    say "start it with: systemctl start $service"
  fi
else
  if $enable; then
    if command -v systemctl >/dev/null; then
      systemctl --root="$root" enable "$service" >/dev/null 2>&1
    else
      mkdir -p "$unit_dir/multi-user.target.wants"
      ln -sfn /etc/systemd/system/appliance.service "$unit_dir/multi-user.target.wants/appliance.service"
    fi
    say "enabled $service (systemd is not running here: it starts at the next boot)"
  fi
fi
