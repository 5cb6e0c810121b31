#!/bin/bash
# chatmail-instant-idle: Debian's own dovecot package, rebuilt with one change: Dovecot wakes an
# IMAP IDLE client at once when mail arrives, not after its fixed 500 ms notification delay
# (NOTIFY_DELAY_MSECS in src/lib-storage/mailbox-watch.c). Everything else is Debian's source,
# patches and build; the version gets the suffix +chatmailinstant1, so a newer Debian dovecot (a
# security update) still wins in apt, and the daily timer rebuilds the patch on top of it.
#
# usage: chatmail-instant-idle build   [--cache DIR] [--local]  build (or reuse) the packages
#        chatmail-instant-idle source  [--cache DIR] [--local]  only download the source
#        chatmail-instant-idle install [--cache DIR]  build, install them, start the daily timer
#        chatmail-instant-idle update  [--cache DIR] [--dry-run]  (the timer) rebuild and install
#                                                     when Debian has a newer dovecot than ours
#        chatmail-instant-idle status                 which dovecot build is installed
#        chatmail-instant-idle units DIR              writes the timer's units into DIR
#        chatmail-instant-idle patch SOURCE-DIR       patches an unpacked Debian dovecot source
#        chatmail-instant-idle run [--cache DIR] CMD  runs CMD with the cached build's Dovecot
#                                                     (for a relay, test or benchmark on the
#                                                     machine: a private mount namespace)
# build: the source of the version apt would install (with --local, for `run` only: the newest
#        source the mirror still has if that one is gone); prints the directory of the packages
#        (source: the .dsc file).
# exit:  0 done, 1 failed, 2 bad usage.
set -euo pipefail
shopt -s inherit_errexit nullglob
umask 022

PROG=chatmail-instant-idle
EXIT_FAILED=1
EXIT_USAGE=2
SUFFIX=+chatmailinstant1
DELAY_MS=0
CACHE=/var/cache/chatmail/dovecot-instant
# The Debian source lines this script adds when the machine has none (one file of ours).
SOURCES_FILE=/etc/apt/sources.list.d/chatmail-deb-src.sources
UNIT_DIR=/etc/systemd/system
# Tests stand in for dpkg-query and apt-cache with the versions of a made-up machine.
DPKG_QUERY=${CHATMAIL_INSTANT_DPKG_QUERY:-dpkg-query}
APT_CACHE=${CHATMAIL_INSTANT_APT_CACHE:-apt-cache}

say() { echo "$PROG: $*" >&2; }
die() {
	echo "$PROG: $*" >&2
	exit $EXIT_FAILED
}
usage_error() {
	echo "$PROG: $*" >&2
	usage >&2
	exit $EXIT_USAGE
}
usage() { sed -n '/^# usage:/,/^# exit:/s/^# \{0,1\}//p' "$0"; }
need_root() { [ "$(id -u)" = 0 ] || die "run me as root"; }

# --- versions ---

# shellcheck disable=SC2016 # ${Status} is dpkg-query's
package_state() { "$DPKG_QUERY" -W -f='${Status} ${Version}\n' "$1" 2>/dev/null || true; }
is_installed() { [[ "$(package_state "$1")" == "install ok installed "* ]]; }
installed_version() { # of dovecot-core; empty when it is not installed
	package_state dovecot-core | sed -n 's/^install ok installed //p'
}

candidate_version() { # what apt installs, or keeps, for dovecot-core
	"$APT_CACHE" policy dovecot-core 2>/dev/null | sed -n 's/^ *Candidate: //p' | grep -v '(none)' || true
}

# Debian's version behind a version of ours (or Debian's own, unchanged).
debian_version() { echo "${1%"$SUFFIX"}"; }
is_ours() { [[ "$1" == *"$SUFFIX" ]]; }

# The Debian version the patched build is made from: the one apt installs or keeps.
target_version() {
	local candidate
	candidate=$(candidate_version)
	[ -n "$candidate" ] || die "apt knows no dovecot-core: install Debian's dovecot first"
	debian_version "$candidate"
}

# --- source ---

# apt needs deb-src lines for the mirrors the machine installs from; if it has none, we add them
# in a file of our own, for the same URIs, suites and key as its deb lines.
ensure_deb_src() {
	# grep reads all of it: with -q, apt-cache could die of SIGPIPE and fail the pipe
	"$APT_CACHE" showsrc dovecot 2>/dev/null | grep '^Version:' >/dev/null && return 0
	[ -f /etc/apt/sources.list.d/debian.sources ] ||
		die "no deb-src line for dovecot, and no /etc/apt/sources.list.d/debian.sources to copy: add one"
	say "adding Debian's source lines in $SOURCES_FILE"
	{
		echo "# Written by $PROG: Debian's source packages, to rebuild dovecot (IDLE delay)."
		sed 's/^Types:.*/Types: deb-src/' /etc/apt/sources.list.d/debian.sources
	} >"$SOURCES_FILE.tmp"
	mv "$SOURCES_FILE.tmp" "$SOURCES_FILE"
	apt-get update -qq
}

# fetch_source VERSION: downloads the source package into $CACHE/src (kept: a rebuild of the same
# version downloads nothing). Fails when the mirror has not got it.
fetch_source() {
	mkdir -p "$CACHE/src"
	(cd "$CACHE/src" && apt-get source -qq --download-only "dovecot=$1" >/dev/null 2>&1) &&
		[ -f "$(dsc_of "$1")" ]
}
no_epoch() { echo "${1#*:}"; }

# For --local: the newest Debian source the mirror still serves, when the one apt installs is gone.
fetch_newest_source() {
	local version
	while read -r version; do
		fetch_source "$version" && { echo "$version"; return 0; }
	done < <("$APT_CACHE" showsrc dovecot | sed -n 's/^Version: //p' | sort -u -r -V)
	return 1
}

# --- the patch ---

# patch_source DIR: adds our patch to Debian's quilt series of the unpacked source DIR, applies
# it, and adds the changelog entry that gives the version its suffix.
patch_source() {
	local dir=$1 file=src/lib-storage/mailbox-watch.c name=chatmail-instant-idle.patch
	{ [ -f "$dir/debian/changelog" ] && [ -f "$dir/$file" ]; } || die "$dir is no unpacked dovecot source"
	grep -qx '#define NOTIFY_DELAY_MSECS 500' "$dir/$file" ||
		die "$dir/$file has no '#define NOTIFY_DELAY_MSECS 500' line: this dovecot is not patched"
	local version distribution
	version=$(dpkg-parsechangelog -l "$dir/debian/changelog" -S Version)
	distribution=$(dpkg-parsechangelog -l "$dir/debian/changelog" -S Distribution)
	is_ours "$version" && die "$dir is patched already ($version)"
	mkdir -p "$dir/debian/patches"
	{
		echo "Description: wake IMAP IDLE clients at once when mail arrives"
		echo " Dovecot waits NOTIFY_DELAY_MSECS (500 ms) after a change of a mailbox before it"
		echo " tells IDLE clients. A maildir delivery is one event (a rename into new/), and the"
		echo " events that arrive together still wake a client once: the timer stays, at ${DELAY_MS} ms."
		echo "Author: chatmail-c ($PROG)"
		echo "Forwarded: not-needed"
		echo "---"
		diff -u --label "a/$file" --label "b/$file" "$dir/$file" \
			<(sed "s/^#define NOTIFY_DELAY_MSECS 500\$/#define NOTIFY_DELAY_MSECS $DELAY_MS/" "$dir/$file") || true
	} >"$dir/debian/patches/$name"
	echo "$name" >>"$dir/debian/patches/series"
	(cd "$dir" && dpkg-source --before-build . >/dev/null 2>&1) || die "the patch does not apply to $dir"
	grep -qx "#define NOTIFY_DELAY_MSECS $DELAY_MS" "$dir/$file" || die "the patch did not apply to $dir"
	local entry
	entry=$(mktemp)
	{
		echo "dovecot ($version$SUFFIX) $distribution; urgency=medium"
		echo
		echo "  * Local build by $PROG: IMAP IDLE notification delay"
		echo "    (NOTIFY_DELAY_MSECS) lowered from 500 to $DELAY_MS ms; nothing else changed."
		echo
		echo " -- chatmail-c <root@localhost>  $(date -R)"
		echo
		cat "$dir/debian/changelog"
	} >"$entry"
	cat "$entry" >"$dir/debian/changelog"
	rm -f "$entry"
}

# --- build ---

# build_packages VERSION: the patched packages of Debian's VERSION in $CACHE/<version>/, built
# once; a second call finds them there.
build_packages() {
	local version=$1 out work
	out=$CACHE/$(no_epoch "$version$SUFFIX")
	if [ -f "$out/built" ]; then
		echo "$out"
		return 0
	fi
	need_root
	say "building dovecot $version$SUFFIX from Debian's source (nice 19; takes a while)"
	DEBIAN_FRONTEND=noninteractive apt-get build-dep -y -qq "dovecot=$version" >/dev/null ||
		die "cannot install the build dependencies of dovecot $version"
	work=$CACHE/work
	rm -rf "$work" "$out"
	mkdir -p "$work" "$out"
	dpkg-source -x "$(dsc_of "$version")" "$work/dovecot" >/dev/null 2>&1 ||
		die "cannot unpack the source of dovecot $version"
	patch_source "$work/dovecot"
	# Debian's build as it is; only its test suite is left out (DEB_BUILD_OPTIONS=nocheck: it
	# does not change what is built) and it runs at the lowest priority, on two cores.
	(cd "$work/dovecot" && DEB_BUILD_OPTIONS="parallel=${INSTANT_IDLE_JOBS:-2} nocheck" \
		nice -n 19 dpkg-buildpackage -b -uc -us) >"$CACHE/build.log" 2>&1 ||
		die "the build failed: see $CACHE/build.log"
	mv "$work"/*.deb "$out/"
	rm -rf "$work"
	touch "$out/built"
	say "built $out"
	echo "$out"
}

# cmd_source LOCAL: downloads the source to build; prints its Debian version.
cmd_source() {
	local local_build=$1 version
	ensure_deb_src
	version=$(target_version)
	if ! fetch_source "$version"; then
		[ -n "$local_build" ] || die "the mirror has not got the source of dovecot $version"
		version=$(fetch_newest_source) || die "the mirror has no dovecot source"
		say "the source of the installed dovecot is gone from the mirror: taking $version (for 'run' only)"
	fi
	echo "$version"
}

dsc_of() { echo "$CACHE/src/dovecot_$(no_epoch "$1").dsc"; }

# --- install and update ---

# install_packages DIR: the built packages of the dovecot packages this machine has installed;
# their configuration files stay as they are.
install_packages() {
	local dir=$1 deb name debs=()
	for deb in "$dir"/*.deb; do
		name=$(dpkg-deb -f "$deb" Package)
		is_installed "$name" && debs+=("$deb")
	done
	[ ${#debs[@]} -gt 0 ] || die "none of the packages in $dir is installed here"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Dpkg::Options::=--force-confold \
		"${debs[@]}" >/dev/null || die "installing the packages of $dir failed"
	say "installed $(installed_version)"
}

# cmd_update DRY-RUN: with DRY-RUN, says what it would do and does nothing.
cmd_update() {
	local dry_run=$1 version installed
	if [ -z "$dry_run" ]; then
		need_root
		apt-get update -qq || say "apt-get update failed: going on with what apt knows"
		ensure_deb_src
	fi
	version=$(target_version)
	installed=$(installed_version)
	if [ "$installed" = "$version$SUFFIX" ]; then
		say "dovecot $installed is the newest Debian dovecot, patched"
		return 0
	fi
	# never below what is installed: a security update is never undone
	[ -z "$installed" ] || dpkg --compare-versions "$version$SUFFIX" gt "$installed" ||
		die "dovecot $installed is newer than Debian's $version: leaving it"
	if [ -n "$dry_run" ]; then
		say "would build and install dovecot $version$SUFFIX (installed: ${installed:-none})"
		return 0
	fi
	fetch_source "$version" || die "the mirror has not got the source of dovecot $version: Debian's build stays"
	local dir
	dir=$(build_packages "$version")
	install_packages "$dir"
}

# write_units DIR: the daily timer and its service.
write_units() {
	local self dir=$1
	self=$(readlink -f "$0")
	cat >"$dir/chatmail-instant-idle.service" <<EOF
# Written by $PROG: rebuilds the instant-IDLE dovecot on a newer Debian dovecot.
[Unit]
Description=chatmail: rebuild Debian's dovecot with the short IDLE delay when Debian updates it
After=network-online.target apt-daily-upgrade.service
Wants=network-online.target

[Service]
Type=oneshot
ExecStart=$self update
Nice=19
IOSchedulingClass=idle
EOF
	cat >"$dir/chatmail-instant-idle.timer" <<EOF
# Written by $PROG.
[Unit]
Description=chatmail: daily check for a newer Debian dovecot to rebuild

[Timer]
OnCalendar=daily
RandomizedDelaySec=1h
Persistent=true

[Install]
WantedBy=timers.target
EOF
}

enable_timer() {
	if [ -d /run/systemd/system ]; then
		systemctl daemon-reload
		systemctl enable --now --quiet chatmail-instant-idle.timer
	else
		systemctl enable --quiet chatmail-instant-idle.timer 2>/dev/null ||
			say "no systemd here: run '$PROG update' daily yourself"
	fi
}

cmd_install() {
	need_root
	# the timer first: when this build fails, it tries again tomorrow
	write_units "$UNIT_DIR"
	enable_timer
	cmd_update ''
	say "$(cmd_status)"
}

# --- status ---

cmd_status() {
	local installed timer=$UNIT_DIR/chatmail-instant-idle.timer
	installed=$(installed_version)
	if [ -z "$installed" ]; then
		echo "dovecot is not installed"
		return 0
	elif is_ours "$installed"; then
		echo "instant IDLE build $installed (IDLE delay $DELAY_MS ms, Debian's $(debian_version "$installed") otherwise)$(stale_note)"
	else
		echo "Debian's build $installed (IDLE delay 500 ms)$(stale_note)"
	fi
	[ ! -f "$timer" ] || echo "  daily rebuild: ${timer##*/} $(systemctl is-enabled "${timer##*/}" 2>/dev/null || echo disabled)"
}

# A dovecot started before its package was replaced still runs the old build: its program file
# is gone.
stale_note() {
	local pid
	pid=$(head -1 /run/dovecot/master.pid 2>/dev/null) || return 0
	[[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" != *" (deleted)" ]] ||
		echo "; the running dovecot predates it: systemctl restart dovecot"
}

# --- run ---

# The cached build's Dovecot (programs, libraries, modules) over the system's, seen only by CMD
# and what it starts: the system's dovecot and everyone else's stay as they are. All of its
# programs: one of the system's on the build's libraries could crash (another version's ABI).
cmd_run() {
	need_root
	local out='' dir root deb
	for dir in "$CACHE"/*"$SUFFIX"; do
		[ -f "$dir/built" ] && { [ -z "$out" ] || dpkg --compare-versions "${dir##*/}" gt "${out##*/}"; } &&
			out=$dir
	done
	[ -n "$out" ] || die "no build in $CACHE: run '$PROG build --cache $CACHE --local'"
	root=$out/root
	export CHATMAIL_INSTANT_ROOT=$root
	if [ ! -x "$root/usr/sbin/dovecot" ]; then
		rm -rf "$root.tmp"
		# the packages installed here: the bind mounts hide the system's files of the others
		for deb in "$out"/*.deb; do
			is_installed "$(dpkg-deb -f "$deb" Package)" && dpkg-deb -x "$deb" "$root.tmp"
		done
		mv "$root.tmp" "$root"
	fi
	# shellcheck disable=SC2016 # expanded by the inner shell
	unshare --mount --propagation private -- /bin/sh -c '
		for path in /usr/lib/dovecot /usr/sbin/dovecot /usr/bin/doveadm /usr/bin/doveconf; do
			mount --bind "$1$path" "$path" || exit 1
		done
		shift; exec "$@"' sh "$root" "$@"
}

# --- options ---

main() {
	local command=${1:-} local_build='' dry_run=''
	[ $# -gt 0 ] && shift
	case "$command" in
	build | source | install | update | status | run) ;;
	patch)
		[ $# = 1 ] || usage_error "patch wants one source directory"
		patch_source "$1"
		return
		;;
	units)
		{ [ $# = 1 ] && [ -d "$1" ]; } || usage_error "units wants a directory"
		write_units "$1"
		return
		;;
	-h | --help) usage; return ;;
	*) usage_error "unknown command: ${command:-none}" ;;
	esac
	while [ $# -gt 0 ]; do
		case "$1" in
		--cache)
			[ $# -ge 2 ] || usage_error "--cache needs a directory"
			CACHE=$(mkdir -p "$2" && cd "$2" && pwd)
			shift
			;;
		--local) local_build=1 ;;
		--dry-run) dry_run=1 ;;
		*) [ "$command" = run ] && break; usage_error "unknown argument: $1" ;;
		esac
		shift
	done
	case "$command" in
	build | source)
		# the version first: a failure inside $(...) in an argument would not stop us
		local version
		version=$(cmd_source "$local_build")
		if [ "$command" = build ]; then build_packages "$version"; else dsc_of "$version"; fi
		;;
	install) cmd_install ;;
	update) cmd_update "$dry_run" ;;
	status) cmd_status ;;
	run)
		[ $# -gt 0 ] || usage_error "run wants a command"
		cmd_run "$@"
		;;
	esac
}

main "$@"
