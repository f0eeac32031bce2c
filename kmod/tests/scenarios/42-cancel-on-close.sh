# Nobody reading stops the work: when the last generate file of a request
# closes before its end (head -c, a killed reader), the daemon gets CANCEL.
# With two readers, killing one (Ctrl-C in one terminal) leaves the other's
# answer alone.
lx_load
lx_daemon -p 10 -g "$T/gate"
lx_as 1001 sh -c 'echo "two readers" >/proc/llamux/prompt'
llamux-tool as 1001 cat /proc/llamux/generate >r1 &
r1=$!
llamux-tool as 1001 cat /proc/llamux/generate >r2 &
r2=$!
lx_wait_blocked $r1 || lx_fail "reader 1 not waiting"
lx_wait_blocked $r2 || lx_fail "reader 2 not waiting"
kill -TERM $r1
wait $r1 2>/dev/null
sleep 0.5
lx_expect_nogrep "$LX_DLOG" '^cancel' "one of two readers killed: no CANCEL"
touch gate
wait $r2
lx_expect_grep r2 '^two readers$' "the other reader got the whole answer"
rm gate
lx_as 1001 sh -c 'echo "nobody reads this to the end" >/proc/llamux/prompt'
lx_wait_for "$LX_DLOG" '^piece id=2 1/10' 10 || lx_fail "request 2 not started"
lx_expect_eq "$(lx_as 1001 head -c 3 /proc/llamux/generate)" "[id" "head -c 3 read the start"
lx_wait_for "$LX_DLOG" '^cancel id=2 \(answering' 10 || lx_fail "no CANCEL after head closed generate: $(tail -3 "$LX_DLOG")"
lx_ok "the daemon got CANCEL when the last reader closed early"
lx_expect_grep /proc/llamux/status ' 1 cancelled,' "status counts it"
lx_expect_eq "$(lx_as 1001 cat /proc/llamux/generate | tail -1)" "llamux: cancelled" "the answer ends with llamux: cancelled"
lx_daemon_stop
lx_as 1001 sh -c 'echo "polled" >/proc/llamux/prompt'
lx_expect_eq "$(lx_as 1001 llamux-tool read-nonblock /proc/llamux/generate 2>&1)" "read: EAGAIN" "O_NONBLOCK read: EAGAIN"
lx_as 1001 llamux-tool read-nonblock /proc/llamux/generate >/dev/null 2>&1
lx_expect_grep /proc/llamux/status '^queue: 1 waiting' "files that only got EAGAIN cancel nothing when they close"
lx_daemon -p 2
lx_expect_grep "$(lx_as 1001 cat /proc/llamux/generate >a3; echo a3)" '^polled$' "and the answer comes"
lx_expect_nogrep "$LX_DLOG" '^cancel' "without a CANCEL"
