# A clean stop (SIGTERM, as systemctl stop and restart send) loses no prompt either: the
# answer in progress ends with a message that says so, the prompt the daemon had read ahead
# goes back to the kernel's queue, and the next daemon answers it.
# timeout: 600
. "$LLAMUX_REPO/scripts/vm/scenarios-daemon/lib/daemon.sh"
lx_load
lxd_start
lxd_long_answer answer
lx_as 1001 sh -c 'echo "temperature=0 max_tokens=6" >/proc/llamux/config; echo "The dog" >/proc/llamux/prompt'
lx_wait_for /proc/llamux/status '^queue: 0 waiting, 2 answering' 60 ||
	lx_fail "the daemon did not read the second prompt ahead: $(lx_status '^queue:')"
lx_ok "the daemon holds a prompt behind the running one"
lxd_stop
wait $LXD_READER || lx_fail "the reader failed instead of ending with EOF"
lx_expect_eq "$(tail -1 answer)" "llamux: the daemon stopped in the middle of this answer" "the running answer ends with a clear message"
lx_expect_grep "$LXD_LOG" 'waiting requests left to the kernel for the next daemon: ids 2$' "the daemon logs what it left to the kernel"
lx_expect_grep /proc/llamux/status '^queue: 1 waiting, 0 answering' "the held prompt is back in the kernel's queue"
lxd_start
lx_as 1001 cat /proc/llamux/generate >a1001
lx_expect_grep a1001 '^The dog' "the next daemon answers it"
lx_expect_nogrep a1001 'llamux:' "with no error"
lx_expect_grep "$LXD_LOG" 'request 2 uid 1001: .* 6 generated' "as request 2, with uid 1001's settings"
lxd_stop
