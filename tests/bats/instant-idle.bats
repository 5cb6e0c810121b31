#!/usr/bin/env bats
# chatmail-instant-idle's patch and version logic, cheaply: the patch on Debian's dovecot source
# (unpacked, not built), and what `status` and the daily `update` decide on made-up machines.
# The build itself and the relay on it are tested by `make instant-idle` (tests/instant-idle/).

load lib/common

INSTANT=$ROOT/admin/chatmail-instant-idle.sh
# The source download is kept where `make instant-idle` keeps it: no second download.
CACHE=$ROOT/build/dovecot-instant

# A machine where dovecot-core is installed at $INSTALLED and apt's candidate is $CANDIDATE.
fake_machine() {
	mkdir -p "$BATS_TEST_TMPDIR/bin"
	cat >"$BATS_TEST_TMPDIR/bin/dpkg-query" <<EOF
#!/bin/sh
[ -n "$1" ] && echo "install ok installed $1"
EOF
	cat >"$BATS_TEST_TMPDIR/bin/apt-cache" <<EOF
#!/bin/sh
case "\$1" in
policy) printf 'dovecot-core:\n  Installed: %s\n  Candidate: %s\n' "$1" "$2" ;;
showsrc) echo "Version: $2" ;;
esac
EOF
	chmod +x "$BATS_TEST_TMPDIR"/bin/*
	export CHATMAIL_INSTANT_DPKG_QUERY=$BATS_TEST_TMPDIR/bin/dpkg-query
	export CHATMAIL_INSTANT_APT_CACHE=$BATS_TEST_TMPDIR/bin/apt-cache
}

U7=1:2.3.19.1+dfsg1-2.1+deb12u7
U8=1:2.3.19.1+dfsg1-2.1+deb12u8

# Debian's dovecot source, unpacked into $1: the version apt installs, else (a mirror that lost
# it) the newest one it has.
unpack_debian_source() {
	local dsc
	dsc=$("$INSTANT" source --cache "$CACHE" --local) || skip "no Debian dovecot source reachable"
	dpkg-source -x "$dsc" "$1" >/dev/null 2>&1
}

@test "the patch changes only the delay line of Debian's source, and the version says so" {
	[ "$(id -u)" = 0 ] || skip "apt-get source needs root here"
	unpack_debian_source "$BATS_TEST_TMPDIR/debian"
	cp -a "$BATS_TEST_TMPDIR/debian" "$BATS_TEST_TMPDIR/ours"
	debian_version=$(dpkg-parsechangelog -l "$BATS_TEST_TMPDIR/debian/debian/changelog" -S Version)

	run "$INSTANT" patch "$BATS_TEST_TMPDIR/ours"
	[ "$status" -eq 0 ]
	version=$(dpkg-parsechangelog -l "$BATS_TEST_TMPDIR/ours/debian/changelog" -S Version)
	[ "$version" = "$debian_version+chatmailinstant1" ]
	grep -qx '#define NOTIFY_DELAY_MSECS 0' "$BATS_TEST_TMPDIR/ours/src/lib-storage/mailbox-watch.c"
	[ "$(tail -1 "$BATS_TEST_TMPDIR/ours/debian/patches/series")" = chatmail-instant-idle.patch ]
	# applied the way Debian's own patches are, so dpkg-buildpackage builds it as it is
	[ "$(tail -1 "$BATS_TEST_TMPDIR/ours/.pc/applied-patches")" = chatmail-instant-idle.patch ]
	# and nothing else differs from Debian's tree
	run diff -rq -x .pc "$BATS_TEST_TMPDIR/debian" "$BATS_TEST_TMPDIR/ours"
	[ "$(echo "$output" | sort)" = "$(printf '%s\n' \
		"Files $BATS_TEST_TMPDIR/debian/debian/changelog and $BATS_TEST_TMPDIR/ours/debian/changelog differ" \
		"Files $BATS_TEST_TMPDIR/debian/debian/patches/series and $BATS_TEST_TMPDIR/ours/debian/patches/series differ" \
		"Files $BATS_TEST_TMPDIR/debian/src/lib-storage/mailbox-watch.c and $BATS_TEST_TMPDIR/ours/src/lib-storage/mailbox-watch.c differ" \
		"Only in $BATS_TEST_TMPDIR/ours/debian/patches: chatmail-instant-idle.patch" | sort)" ]
	run diff "$BATS_TEST_TMPDIR/debian/src/lib-storage/mailbox-watch.c" \
		"$BATS_TEST_TMPDIR/ours/src/lib-storage/mailbox-watch.c"
	[ "$output" = "12c12
< #define NOTIFY_DELAY_MSECS 500
---
> #define NOTIFY_DELAY_MSECS 0" ]

	# a second run would patch twice: refused
	run "$INSTANT" patch "$BATS_TEST_TMPDIR/ours"
	[ "$status" -eq 1 ]
}

@test "a dovecot source whose delay line is not Debian's 500 ms is left alone" {
	mkdir -p "$BATS_TEST_TMPDIR/src/src/lib-storage" "$BATS_TEST_TMPDIR/src/debian"
	printf 'dovecot (1:2.4.1+dfsg1-1) unstable; urgency=medium\n\n  * x\n\n -- A <a@b>  Mon, 01 Jan 2024 00:00:00 +0000\n' \
		>"$BATS_TEST_TMPDIR/src/debian/changelog"
	echo '#define NOTIFY_DELAY_MSECS 200' >"$BATS_TEST_TMPDIR/src/src/lib-storage/mailbox-watch.c"
	run "$INSTANT" patch "$BATS_TEST_TMPDIR/src"
	[ "$status" -eq 1 ]
	[[ "$output" == *"no '#define NOTIFY_DELAY_MSECS 500' line"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/src/debian/patches" ]
}

@test "a Debian security update sorts above our build, which sorts above the Debian one it patches" {
	dpkg --compare-versions "$U7+chatmailinstant1" gt "$U7"
	dpkg --compare-versions "$U7+chatmailinstant1" lt "$U8"
	dpkg --compare-versions "$U7+chatmailinstant1" lt "1:2.3.19.2-1"
}

@test "status names the build that is installed" {
	fake_machine "$U7" "$U7"
	run "$INSTANT" status
	[ "$status" -eq 0 ]
	[ "$output" = "Debian's build $U7 (IDLE delay 500 ms)" ]
	fake_machine "$U7+chatmailinstant1" "$U7+chatmailinstant1"
	run "$INSTANT" status
	[ "$output" = "instant IDLE build $U7+chatmailinstant1 (IDLE delay 0 ms, Debian's $U7 otherwise)" ]
	fake_machine "" ""
	run "$INSTANT" status
	[ "$output" = "dovecot is not installed" ]
}

# update_decides INSTALLED CANDIDATE STATUS TEXT: on a machine with those versions, the daily
# update (--dry-run) exits with STATUS and says TEXT.
update_decides() {
	fake_machine "$1" "$2"
	run "$INSTANT" update --dry-run
	[ "$status" -eq "$3" ] && [[ "$output" == *"$4"* ]] || { echo "$output"; false; }
}

@test "the daily update leaves our build of the newest Debian dovecot alone" {
	update_decides "$U7+chatmailinstant1" "$U7+chatmailinstant1" 0 \
		"$U7+chatmailinstant1 is the newest Debian dovecot, patched"
}

@test "the daily update rebuilds on a Debian security update, before or after apt installed it" {
	# apt has not upgraded yet: our u7 build is installed, Debian offers u8
	update_decides "$U7+chatmailinstant1" "$U8" 0 "would build and install dovecot $U8+chatmailinstant1"
	# apt upgraded to Debian's u8: the patch is gone, the build comes back on top of u8
	update_decides "$U8" "$U8" 0 "would build and install dovecot $U8+chatmailinstant1"
}

@test "the daily update never installs below what is installed" {
	# a newer dovecot than apt's candidate (installed by hand, or the candidate pinned lower)
	update_decides "$U8" "$U7" 1 "dovecot $U8 is newer than Debian's $U7: leaving it"
}

@test "chatmail-setup --instant-idle works on this machine's dovecot only, never below --root" {
	run "$BIN/chatmail-setup" --domain chat.test --root "$BATS_TEST_TMPDIR" --instant-idle
	[ "$status" -eq 2 ]
	[[ "$output" == *"--instant-idle rebuilds this machine's dovecot package: not with --root"* ]]
}

@test "the daily rebuild timer and its service verify, at the lowest priority" {
	run "$INSTANT" units "$BATS_TEST_TMPDIR"
	[ "$status" -eq 0 ]
	run systemd-analyze verify "$BATS_TEST_TMPDIR/chatmail-instant-idle.service" \
		"$BATS_TEST_TMPDIR/chatmail-instant-idle.timer"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	grep -qx "ExecStart=$(readlink -f "$INSTANT") update" "$BATS_TEST_TMPDIR/chatmail-instant-idle.service"
	grep -qx 'Nice=19' "$BATS_TEST_TMPDIR/chatmail-instant-idle.service"
	grep -qx 'OnCalendar=daily' "$BATS_TEST_TMPDIR/chatmail-instant-idle.timer"
	grep -qx 'Persistent=true' "$BATS_TEST_TMPDIR/chatmail-instant-idle.timer"
}
