# The daemon killed while it holds requests it has read but not started (a
# daemon may read ahead to schedule fairly): the started one ends with an
# error, the others go back to the queue in their order and the next daemon
# answers them; nothing a reader waits for is lost.
lx_load
lx_daemon -p 2 -g "$T/gate"
lx_as 1001 sh -c 'echo "first user" >/proc/llamux/prompt; cat /proc/llamux/generate' >a1001 &
reader=$!
lx_wait_for "$LX_DLOG" '^piece id=1 1/2' 30 || lx_fail "the daemon did not start answering"
lx_as 1002 sh -c 'echo "second user" >/proc/llamux/prompt'
lx_as 1003 sh -c 'echo "third user" >/proc/llamux/prompt'
lx_wait_for "$LX_DLOG" '^held id=3' 30 || lx_fail "the daemon did not read ahead: $(cat "$LX_DLOG")"
lx_expect_grep /proc/llamux/status '^queue: 0 waiting, 3 answering' "the daemon holds all three"
lx_daemon_kill9
wait $reader
lx_expect_eq "$(tail -1 a1001)" "llamux: daemon exited" "the started request ends with an error"
lx_dmesg >dmesg.txt
lx_expect_grep dmesg.txt 'daemon detached \(pid [0-9]+\): 1 in-flight requests ended with an error, 2 queued requests kept for the next daemon \(2 of them read but not started\)' "dmesg: 1 aborted, 2 back in the queue"
lx_expect_grep /proc/llamux/status '^queue: 2 waiting, 0 answering' "both held requests wait again"
lx_expect_grep /proc/llamux/status ' 1 aborted,' "status counts only the started one as aborted"
lx_daemon -b -s -p 1
lx_as 1002 cat /proc/llamux/generate >a1002
lx_as 1003 cat /proc/llamux/generate >a1003
lx_expect_grep a1002 '^\[id=2 uid=1002 ' "the next daemon answered request 2 for uid 1002"
lx_expect_grep a1002 '^second user$' "with its prompt"
lx_expect_grep a1003 '^\[id=3 uid=1003 ' "and request 3 for uid 1003"
lx_expect_grep a1003 '^third user$' "with its prompt"
lx_expect_nogrep a1002 '^llamux:' "no error for request 2"
lx_expect_nogrep a1003 '^llamux:' "no error for request 3"
lx_expect_eq "$(grep -o '^request id=[0-9]*' "$LX_DLOG" | tr '\n' ' ')" "request id=2 request id=3 " "in their original order"
