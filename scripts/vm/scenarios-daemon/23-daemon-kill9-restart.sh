# kill -9 of the daemon mid-answer: the reader gets a clear error; a prompt written while
# no daemon runs waits in the kernel and is answered after the restart.
# timeout: 500
. "$LLAMUX_REPO/scripts/vm/scenarios-daemon/lib/daemon.sh"
lx_load
lxd_start
echo "temperature=0 max_tokens=1500" >/proc/llamux/config
echo "Once upon a time" >/proc/llamux/prompt
cat /proc/llamux/generate >answer &
cat_pid=$!
lxd_wait_size answer 20 120 || lx_fail "no text within 120 s"
kill -KILL "$LXD_PID"
wait $cat_pid || lx_fail "the reader failed instead of ending with EOF"
LXD_PID=
lx_expect_eq "$(tail -1 answer)" "llamux: daemon exited" "the reader's answer ends with a clear error"
lx_wait_for /proc/llamux/status '^daemon: not attached' 10 || lx_fail "the kernel still sees a daemon"
lx_as 1000 sh -c 'echo "temperature=0 max_tokens=6" >/proc/llamux/config; echo "Once upon a time" >/proc/llamux/prompt'
lx_expect_grep /proc/llamux/status '^queue: 1 waiting' "a prompt waits in the kernel while no daemon runs"
lxd_start
lx_as 1000 cat /proc/llamux/generate >later
lx_expect_grep later '^Once upon a time' "the queued prompt is answered after the restart"
lx_expect_nogrep later 'llamux:' "with no error"
lx_expect_grep "$LXD_LOG" 'request 2 uid 1000: .* 6 generated' "by the new daemon, with uid 1000's settings"
lx_dmesg >dmesg.txt
lx_expect_grep dmesg.txt 'daemon detached .* 1 in-flight requests ended with an error' "dmesg counts the aborted request"
lxd_stop
