# Protocol edges: HELLO wakes a daemon thread already polling; nonzero HELLO
# flags and an unknown stop_reason are refused (EINVAL) and change nothing;
# a zero-length ERROR still ends the answer with a "llamux:" line; a CANCEL
# whose copy to the daemon faults stays queued, as a REQUEST does.
lx_load
echo "queued before the daemon" >/proc/llamux/prompt
lx_daemon -m hello-flags,hello-wakes,bad-stop -p 2
lx_wait_for "$LX_DLOG" '^answered id=1 ' 10 || lx_fail "request 1 not answered: $(cat "$LX_DLOG")"
grep '^reject\|^hello woke' "$LX_DLOG" | sed 's/^/  /'
lx_expect_grep "$LX_DLOG" '^hello woke a poller: ok' "HELLO wakes a thread already in poll()"
lx_expect_grep "$LX_DLOG" '^reject hello-flags: EINVAL ok' "HELLO with reserved flags set: EINVAL"
lx_expect_grep "$LX_DLOG" '^reject bad-stop: EINVAL ok' "DONE with an unknown stop_reason: EINVAL"
lx_expect_nogrep "$LX_DLOG" 'FAIL' "no unexpected errno"
lx_expect_grep /proc/llamux/generate '^queued before the daemon$' "the answer is intact"
lx_daemon_stop

lx_daemon -e ''
echo "fail without a word" >/proc/llamux/prompt
lx_expect_eq "$(cat /proc/llamux/generate)" "llamux: the daemon gave no reason" \
	"a zero-length ERROR ends the text with a llamux: line"
lx_daemon_stop
lx_daemon -e '
'
echo "fail with a newline" >/proc/llamux/prompt
lx_expect_eq "$(cat /proc/llamux/generate)" "llamux: the daemon gave no reason" \
	"so does an ERROR of only a newline"
lx_daemon_stop

lx_daemon -m fault-read -p 4 -g "$T/gate"
echo "first" >/proc/llamux/prompt
lx_wait_for "$LX_DLOG" '^piece id=4 1/4' 10 || lx_fail "request 4 not started: $(cat "$LX_DLOG")"
echo "second" >/proc/llamux/prompt
lx_wait_for "$LX_DLOG" '^cancel id=4 \(answering' 10 ||
	lx_fail "the CANCEL was lost after a faulting read: $(cat "$LX_DLOG")"
lx_expect_grep "$LX_DLOG" '^fault read: EFAULT ok' "a read into unmapped memory: EFAULT"
lx_ok "the CANCEL stayed queued and came with the next read"
touch gate
lx_expect_grep /proc/llamux/generate '^second$' "the REQUEST after it is answered"
lx_expect_nogrep "$LX_DLOG" 'FAIL' "every faulting read got EFAULT"
