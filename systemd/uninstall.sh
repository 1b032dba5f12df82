#!/usr/bin/env bash
# Removes what systemd/install.sh installed. See systemd/README.md.
#
#   sudo systemd/uninstall.sh            stop and disable the service; remove the releases under /opt/appliance,
#                                        the unit, the sysusers.d/tmpfiles.d snippets and /usr/local/bin/appliance.
#                                        The configuration (/etc/appliance), the state (/var/lib/appliance:
#                                        recordings, approvals, generated TLS keys) and the 'appliance' user stay.
#   sudo systemd/uninstall.sh --purge    also removes the configuration, the state and the user.
#   systemd/uninstall.sh --root DIR      the same inside DIR (also DESTDIR=DIR)
set -euo pipefail

service=appliance
user=appliance
root="${DESTDIR:-/}"
purge=false

die() { echo "uninstall.sh: $*" >&2; exit 1; }
say() { echo "uninstall.sh: $*"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --root) [ $# -ge 2 ] || die "--root needs a directory"; root="$2"; shift 2 ;;
    --root=*) root="${1#*=}"; shift ;;
    --purge) purge=true; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$1' (try --help)" ;;
  esac
done

[ -d "$root" ] || die "$root is not a directory"
root=$(cd "$root" && pwd)
R="${root%/}"
live=false
[ -z "$R" ] && live=true
systemd_running=false
$live && [ -d /run/systemd/system ] && systemd_running=true
$live && [ "$(id -u)" -ne 0 ] && die "uninstalling from / needs root (or use --root DIR)"

unit_dir="$R/etc/systemd/system"
if $systemd_running; then
  systemctl disable --now "$service" >/dev/null 2>&1 || true
  say "stopped and disabled $service"
elif [ -e "$unit_dir/appliance.service" ]; then
  if command -v systemctl >/dev/null; then
    systemctl --root="$root" disable "$service" >/dev/null 2>&1 || true
  fi
fi
# Whatever enabled it, no symlink to the unit may stay behind.
find "$unit_dir" -maxdepth 2 -name appliance.service -type l -delete 2>/dev/null || true
rm -f "$unit_dir/appliance.service"
rm -rf "$unit_dir/appliance.service.d"
rm -f "$R/etc/sysusers.d/appliance.conf" "$R/etc/tmpfiles.d/appliance.conf"
if [ -L "$R/usr/local/bin/appliance" ] && [ "$(readlink "$R/usr/local/bin/appliance")" = /opt/appliance/current/appliance ]; then
  rm -f "$R/usr/local/bin/appliance"
fi
rm -rf "$R/opt/appliance"
$systemd_running && systemctl daemon-reload
say "removed the program, the unit and its snippets"

if ! $purge; then
  say "kept /etc/appliance, /var/lib/appliance and the user '$user' (--purge removes them)"
  exit 0
fi

rm -rf "$R/etc/appliance" "$R/var/lib/appliance" "$R/run/appliance"
prefix=()
$live || prefix=(--prefix "$root")
if [ -f "$R/etc/passwd" ] && grep -q "^$user:" "$R/etc/passwd"; then
  userdel "${prefix[@]}" "$user"
fi
if [ -f "$R/etc/group" ] && grep -q "^$user:" "$R/etc/group"; then
  groupdel "${prefix[@]}" "$user"
fi
say "purged the configuration, the state and the user '$user'"
