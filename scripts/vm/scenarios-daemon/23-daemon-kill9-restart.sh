# kill -9 of the daemon mid-answer, restart: the reader gets a clear error; nothing else is
# lost: the prompts the daemon had read ahead but not started go back to the kernel's queue,
# a prompt written while no daemon runs waits there too, and the new daemon answers them all.
# timeout: 600
. "$LLAMUX_REPO/scripts/vm/scenarios-daemon/lib/daemon.sh"
lx_load
lxd_start
lxd_long_answer answer
# Two more users' prompts while the first answer runs: the daemon reads them ahead (to serve
# users round robin), so the kernel counts all three as being answered.
lx_as 1001 sh -c 'echo "temperature=0 max_tokens=6" >/proc/llamux/config; echo "The cat" >/proc/llamux/prompt'
lx_as 1002 sh -c 'echo "temperature=0 max_tokens=6" >/proc/llamux/config; echo "Lily went" >/proc/llamux/prompt'
lx_wait_for /proc/llamux/status '^queue: 0 waiting, 3 answering' 60 ||
	lx_fail "the daemon did not read the two prompts ahead: $(lx_status '^queue:')"
lx_ok "the daemon holds two prompts behind the running one"
kill -KILL "$LXD_PID"
wait $LXD_READER || lx_fail "the reader failed instead of ending with EOF"
LXD_PID=
lx_expect_eq "$(tail -1 answer)" "llamux: daemon exited" "the reader's answer ends with a clear error"
lx_wait_for /proc/llamux/status '^daemon: not attached' 10 || lx_fail "the kernel still sees a daemon"
lx_expect_grep /proc/llamux/status '^queue: 2 waiting, 0 answering' "the two read-ahead prompts are back in the kernel's queue"
lx_as 1000 sh -c 'echo "temperature=0 max_tokens=6" >/proc/llamux/config; echo "Once upon a time" >/proc/llamux/prompt'
lx_expect_grep /proc/llamux/status '^queue: 3 waiting' "a prompt written while no daemon runs waits with them"
lx_dmesg >dmesg.txt
lx_expect_grep dmesg.txt 'daemon detached .* 1 in-flight requests ended with an error, 2 queued requests kept for the next daemon \(2 of them read but not started\)' "dmesg counts the aborted one and the two returned"
lxd_start
lx_as 1001 cat /proc/llamux/generate >a1001
lx_as 1002 cat /proc/llamux/generate >a1002
lx_as 1000 cat /proc/llamux/generate >a1000
lx_expect_grep a1001 '^The cat' "uid 1001's prompt is answered after the restart"
lx_expect_grep a1002 '^Lily went' "uid 1002's prompt is answered after the restart"
lx_expect_grep a1000 '^Once upon a time' "the prompt written while no daemon ran is answered"
for u in 1000 1001 1002; do
	lx_expect_nogrep a$u 'llamux:' "with no error for uid $u"
done
lx_expect_grep "$LXD_LOG" 'request 2 uid 1001: .* 6 generated' "request 2 by the new daemon, with uid 1001's settings"
lx_expect_grep "$LXD_LOG" 'request 3 uid 1002: .* 6 generated' "request 3 likewise for uid 1002"
lx_expect_grep "$LXD_LOG" 'request 4 uid 1000: .* 6 generated' "request 4 likewise for uid 1000"
lxd_stop
