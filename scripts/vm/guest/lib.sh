# Helpers for guest scripts and scenarios (busybox sh).  Sourced by the
# scenario runner before each scenario; other guest scripts: . /llamux/lib.sh
#
# Scenario contract: a scenario is a sh script; exit status 0 = pass.  It runs
# in its own empty directory $T (on tmpfs), in its own process group (leftover
# processes are killed afterwards) and with the module not loaded; whatever
# it leaves loaded is unloaded afterwards.  Print little: "  ok: ..." lines.

LX_KO=/llamux/llamux.ko
LX_FAULTS='BUG:|WARNING:|Oops|general protection|KASAN'
LX_NDAEMON=0

lx_say() { echo "  $*"; }
lx_ok() { echo "  ok: $*"; }
lx_fail() {
	echo "  FAIL: $*"
	exit 1
}

# lx_load [PARAM=VALUE...]: insmod llamux.ko with $LLAMUX_KMOD_PARAMS and these.
lx_load() {
	# shellcheck disable=SC2086
	insmod "$LX_KO" $LLAMUX_KMOD_PARAMS "$@" || lx_fail "insmod llamux $*"
}

lx_loaded() { [ -d /sys/module/llamux ]; }

# lx_unload: rmmod, retrying while a killed daemon finishes exiting.
lx_unload() {
	local i=0
	while ! rmmod llamux 2>/dev/null; do
		i=$((i + 1))
		[ $i -ge 50 ] && lx_fail "rmmod llamux: $(rmmod llamux 2>&1)"
		sleep 0.1
	done
}

# lx_wait_for FILE REGEX [SECONDS]: wait until FILE has a line matching REGEX.
lx_wait_for() {
	local i=0 limit=$((${3:-30} * 10))
	while ! grep -Eq "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -ge $limit ] && return 1
		sleep 0.1
	done
	return 0
}

# lx_wait_blocked PID [SECONDS]: wait until PID sleeps inside a read of
# /proc/llamux/generate (its /proc/PID/wchan), e.g. before killing it there.
lx_wait_blocked() {
	local i=0 limit=$((${2:-30} * 10))
	while [ "$(cat /proc/$1/wchan 2>/dev/null)" != llamux_generate_read ]; do
		i=$((i + 1))
		[ $i -ge $limit ] && return 1
		sleep 0.1
	done
	return 0
}

# lx_daemon [llamux-testd options]: starts the C test daemon in the background
# and waits for its handshake.  Sets LX_DAEMON (pid) and LX_DLOG (its output).
lx_daemon() {
	LX_NDAEMON=$((LX_NDAEMON + 1))
	LX_DLOG=$T/daemon-$LX_NDAEMON.log
	llamux-testd "$@" >"$LX_DLOG" 2>&1 &
	LX_DAEMON=$!
	lx_wait_for "$LX_DLOG" '^hello ok' 20 || lx_fail "test daemon did not start: $(cat "$LX_DLOG")"
}

# lx_daemon_stop: kills the last daemon started and waits for it.
lx_daemon_stop() {
	[ -n "${LX_DAEMON:-}" ] || return 0
	kill "$LX_DAEMON" 2>/dev/null
	wait "$LX_DAEMON" 2>/dev/null
	LX_DAEMON=
}

# lx_daemon_kill9: SIGKILL to the last daemon started, as a crash would, and waits for it.
lx_daemon_kill9() {
	kill -9 "$LX_DAEMON"
	wait "$LX_DAEMON" 2>/dev/null
	LX_DAEMON=
}

# lx_expect_eq ACTUAL EXPECTED WHAT
lx_expect_eq() {
	[ "$1" = "$2" ] || lx_fail "$3: got '$1', expected '$2'"
	lx_ok "$3"
}

# lx_expect_grep FILE REGEX WHAT / lx_expect_nogrep FILE REGEX WHAT
lx_expect_grep() {
	grep -Eq "$2" "$1" || lx_fail "$3: no /$2/ in $1: $(head -c 600 "$1")"
	lx_ok "$3"
}
lx_expect_nogrep() {
	! grep -Eq "$2" "$1" || lx_fail "$3: /$2/ found in $1: $(grep -E "$2" "$1" | head -3)"
	lx_ok "$3"
}

# lx_status REGEX: the first /proc/llamux/status line matching REGEX.
lx_status() { grep -E "$1" /proc/llamux/status | head -1; }

# lx_live: request objects alive in the module ("live requests: N").
lx_live() { sed -n 's/^live requests: //p' /proc/llamux/status; }

# lx_dmesg: kernel messages since this scenario started.
lx_dmesg() { dmesg | sed -n "/llamux-vm: scenario $LX_SCENARIO start/,\$p"; }

# lx_as UID[:GID] CMD [ARG...]: run a command as another user (no groups).
# In the background, use `llamux-tool as` directly so that $! is the command.
lx_as() { llamux-tool as "$@"; }

# lx_host_prepare: makes /host usable as a chroot (the JDK lives there):
# /proc, /sys, /dev (with /dev/llamux) and a writable /tmp.
lx_host_prepare() {
	grep -q ' /host/proc ' /proc/mounts || mount -t proc proc /host/proc
	grep -q ' /host/sys ' /proc/mounts || mount -t sysfs sys /host/sys
	grep -q ' /host/dev ' /proc/mounts || mount -o bind /dev /host/dev
	grep -q ' /host/tmp ' /proc/mounts || mount -t tmpfs tmp /host/tmp
}

# lx_host_run CMD [ARG...]: run a host program (e.g. the JDK) chrooted in /host.
lx_host_run() {
	lx_host_prepare
	chroot /host "$@"
}
