# The daemon killed with SIGKILL mid-answer: its reader gets what was sent,
# then "llamux: daemon exited" and EOF; a prompt still queued is answered by
# the next daemon; dmesg reports both counts.  Also a daemon that dies by
# itself (-k: SIGKILL after its first piece).
lx_load
lx_daemon -s -p 2 -g "$T/gate"
lx_as 1001 sh -c 'echo "first user" >/proc/llamux/prompt; cat /proc/llamux/generate' >a1001 &
reader=$!
lx_wait_for "$LX_DLOG" '^piece id=1 1/2' 30 || lx_fail "the daemon did not start answering"
lx_as 1002 sh -c 'echo "second user" >/proc/llamux/prompt'
lx_expect_grep /proc/llamux/status '^queue: 1 waiting, 1 answering' "one answering, one queued"
lx_daemon_kill9
wait $reader
lx_expect_eq "$(tail -1 a1001)" "llamux: daemon exited" "the reader got 'llamux: daemon exited', then EOF"
lx_expect_grep a1001 '^\[id=1 uid=1001 gid=1001' "after the text sent before the kill"
lx_dmesg >dmesg.txt
lx_expect_grep dmesg.txt 'daemon detached \(pid [0-9]+\): 1 in-flight requests ended with an error, 1 queued requests kept' "dmesg reports 1 aborted, 1 kept"
lx_expect_grep /proc/llamux/status '^queue: 1 waiting, 0 answering' "the queued prompt is still queued"
lx_daemon -b -p 2
lx_as 1002 cat /proc/llamux/generate >a1002
lx_expect_grep a1002 '^second user$' "the next daemon answered the queued prompt"
lx_expect_grep a1002 '^\[id=2 uid=1002 ' "as request 2 of uid 1002"
lx_daemon_stop
lx_daemon -k -p 3
echo "third" >/proc/llamux/prompt
cat /proc/llamux/generate >a0
lx_expect_grep "$LX_DLOG" '^dying mid-answer id=3' "a daemon died by itself mid-answer"
lx_expect_eq "$(tail -1 a0)" "llamux: daemon exited" "its reader got 'llamux: daemon exited'"
lx_expect_grep /proc/llamux/status '^daemon: not attached' "the device is free again"
lx_expect_grep /proc/llamux/status ' 2 aborted,' "status counts 2 aborted"
