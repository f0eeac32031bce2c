# Malformed traffic from the daemon is rejected with an errno and changes
# nothing: bad magic, wrong length, unknown id, truncated header, huge
# length, reserved flags, wrong type/version, bad DONE, unknown stop_reason,
# HELLO flags, second HELLO, traffic before HELLO, a read buffer too small.
# The answer still arrives.
lx_load
lx_daemon -m all -n 1 -p 3
echo "survive the garbage" >/proc/llamux/prompt
cat /proc/llamux/generate >answer
wait $LX_DAEMON
rc=$?
LX_DAEMON=
grep '^reject\|^poll' "$LX_DLOG" | sed 's/^/  /'
lx_expect_eq "$(grep -c ' ok$' "$LX_DLOG")" 16 "16 rejections as expected"
lx_expect_nogrep "$LX_DLOG" 'FAIL' "no unexpected errno"
lx_expect_eq "$rc" 0 "the test daemon exited cleanly"
lx_expect_grep answer '^survive the garbage$' "the answer arrived intact"
lx_expect_nogrep answer 'WRONG' "no rejected bytes reached the answer"
lx_dmesg >dmesg.txt
lx_expect_grep dmesg.txt 'protocol error: bad magic' "dmesg logs protocol errors"
lx_daemon -p 2
echo "still healthy" >/proc/llamux/prompt
lx_expect_grep /proc/llamux/generate '^still healthy$' "the module still works"
