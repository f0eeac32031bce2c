# Helpers for the scenarios that run the real Java daemon (busybox sh, sourced after
# /llamux/lib.sh).  The JDK, the jar and the model live on the host, shared read-only at
# /host; the daemon runs chrooted there.  Its log goes to the chroot's /tmp (a tmpfs).
#
# Model: $LLAMUX_DAEMON_MODEL (a path on the host), else ../shared/models/stories260K.gguf
# beside the repo.  Jar: target/llamux.jar in the repo (make jar).

LXD_REPO=${LLAMUX_REPO#/host}
LXD_MODEL=${LLAMUX_DAEMON_MODEL:-$(cd "$LLAMUX_REPO/.." && pwd)/shared/models/stories260K.gguf}
LXD_MODEL=${LXD_MODEL#/host}
LXD_N=0
LXD_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# The chroot needs /proc, /sys, /dev (with /dev/llamux) and a writable /tmp.  (Not
# lx_host_prepare: the guest's busybox has no mountpoint applet.)
lxd_mounted() { grep -q "^[^ ]* $1 " /proc/mounts; }
lxd_prepare() {
	lxd_mounted /host/proc || mount -t proc proc /host/proc || lx_fail "mount /host/proc"
	lxd_mounted /host/sys || mount -t sysfs sys /host/sys || lx_fail "mount /host/sys"
	lxd_mounted /host/dev || mount -o bind /dev /host/dev || lx_fail "mount /host/dev"
	lxd_mounted /host/tmp || mount -t tmpfs tmp /host/tmp || lx_fail "mount /host/tmp"
}

lxd_prepare
chroot /host test -f "$LXD_MODEL" || lx_fail "no model at $LXD_MODEL (set LLAMUX_DAEMON_MODEL)"
[ -f "$LLAMUX_REPO/target/llamux.jar" ] || lx_fail "no $LXD_REPO/target/llamux.jar (make jar)"

# lxd_java_home: the JDK's home in the chroot, found once per boot.
lxd_java_home() {
	[ -s /host/tmp/llamux-java-home ] ||
		chroot /host /usr/bin/env PATH=$LXD_PATH sh -c "$LXD_REPO/scripts/java-home" >/host/tmp/llamux-java-home ||
		lx_fail "no JDK 25 in the host chroot"
	cat /host/tmp/llamux-java-home
}

# lxd_host CMD...: a command in the host chroot, from the repo, with a normal PATH.
lxd_host() {
	lxd_prepare
	chroot /host /usr/bin/env PATH=$LXD_PATH HOME=/tmp sh -c 'cd "$0" && exec "$@"' "$LXD_REPO" "$@"
}

# lxd_llamux ARGS...: the command line scripts/llamux runs (the JVM flags from
# scripts/jvm-options), with the JDK found once per boot instead of per start and the JVM's
# stderr unfiltered.  The systemd scenario uses the real launchers.
lxd_llamux() {
	local jh
	jh=$(lxd_java_home)
	lxd_host "$jh/bin/java" @scripts/jvm-options -jar target/llamux.jar "$@"
}

# lxd_start [llamuxd options]: starts the daemon with the model and waits until it serves
# /dev/llamux.  Sets LXD_PID (the JVM itself: every step execs) and LXD_LOG.
lxd_start() {
	LXD_N=$((LXD_N + 1))
	LXD_LOG=/host/tmp/llamuxd-$LX_SCENARIO-$LXD_N.log
	lxd_java_home >/dev/null
	# (Its stderr too: the JVM's "WARNING: Using incubator modules" must not reach the
	# console, where the harness takes any "WARNING:" for a kernel warning.)
	lxd_llamux daemon -m "$LXD_MODEL" "$@" >"$LXD_LOG" 2>&1 &
	LXD_PID=$!
	if ! lx_wait_for "$LXD_LOG" 'INFO Daemon: serving|ERROR' 240; then
		grep -E '^# +(SIG|Problematic|C  |J  |V  )|^#  ' "$LXD_LOG" | head -20 >&2
		for f in /host/tmp/hs_err_pid*.log; do
			[ -f "$f" ] && grep -m 12 -E '^(# |Current thread|Stack:|[JVCj] )' "$f" >&2
		done
		lx_fail "daemon did not start in 240 s: $(tail -5 "$LXD_LOG")"
	fi
	grep -q 'INFO Daemon: serving' "$LXD_LOG" || lx_fail "daemon failed: $(tail -5 "$LXD_LOG")"
	lx_wait_for /proc/llamux/status '^daemon: attached, pid [0-9]+, ready' 10 || lx_fail "status shows no daemon"
	lx_wait_for /proc/llamux/status '^  memory: ' 10 || lx_fail "the daemon sent no status text"
	LXD_JVM=$(sed -n 's/^daemon: attached, pid \([0-9]*\).*/\1/p' /proc/llamux/status)
	grep -q "pid $LXD_JVM," "$LXD_LOG" || lx_fail "the attached daemon (pid $LXD_JVM) is not the one started"
	LXD_PID=$LXD_JVM
}

# lxd_stop: SIGTERM, as systemctl stop does; the daemon must log a clean stop.
lxd_stop() {
	[ -n "${LXD_PID:-}" ] || return 0
	kill -TERM "$LXD_PID" 2>/dev/null
	wait 2>/dev/null
	LXD_PID=
	grep -q 'INFO Daemon: stopped' "$LXD_LOG" || lx_fail "no clean stop in the daemon log: $(tail -5 "$LXD_LOG")"
	lx_wait_for /proc/llamux/status '^daemon: not attached' 10 || lx_fail "the device is still held"
}

# lxd_ask [SETTINGS]: as the current user, writes SETTINGS (if given) to config and
# "Once upon a time" to prompt, and prints the answer.
lxd_ask() {
	[ $# -gt 0 ] && echo "$1" >/proc/llamux/config
	echo "Once upon a time" >/proc/llamux/prompt
	cat /proc/llamux/generate | tee "$T/lxd-last-answer"
	# A daemon that died unasked is a failure whose cause is only in its log: show it.
	if grep -q '^llamux: daemon exited' "$T/lxd-last-answer" && [ -n "${LXD_LOG:-}" ]; then
		lx_say "the daemon went away mid-answer; the end of its log:" >&2
		tail -40 "$LXD_LOG" | sed 's/^/    | /' >&2
		for f in /host/tmp/hs_err_pid*.log; do
			[ -f "$f" ] && grep -m 12 -E '^(Current thread|Stack:|[JVCj] )' "$f" >&2
		done
	fi
}

# lxd_wait_size FILE BYTES [SECONDS]: waits until FILE has at least BYTES bytes.
lxd_wait_size() {
	local i=0 limit=$((${3:-60} * 10))
	while [ ! -f "$1" ] || [ "$(wc -c <"$1")" -lt "$2" ]; do
		i=$((i + 1))
		[ $i -ge $limit ] && return 1
		sleep 0.1
	done
}

# lxd_long_answer FILE: as the current user, asks for a long greedy story (1500 tokens) and
# reads it into FILE in the background until its first words are there.  Sets LXD_READER.
lxd_long_answer() {
	echo "temperature=0 max_tokens=1500" >/proc/llamux/config
	echo "Once upon a time" >/proc/llamux/prompt
	cat /proc/llamux/generate >"$1" &
	LXD_READER=$!
	# The prompt comes back first, with the first generated piece.
	lxd_wait_size "$1" 20 120 || lx_fail "no text within 120 s"
}
