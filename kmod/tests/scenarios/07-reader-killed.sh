# A reader killed (SIGKILL) while waiting: the daemon gets CANCEL for the
# request it is answering, stops, and nothing leaks; the same for a request
# still queued (no daemon: it just leaves the queue).
lx_load
lx_daemon -p 10 -g "$T/gate"
echo "a long answer nobody waits for" >/proc/llamux/prompt
cat /proc/llamux/generate >partial &
reader=$!
lx_wait_for "$LX_DLOG" '^piece id=1 1/10' 30 || lx_fail "the daemon did not start answering"
lx_wait_blocked $reader || lx_fail "the reader is not waiting in generate: $(cat /proc/$reader/wchan)"
kill -9 $reader
wait $reader 2>/dev/null
lx_wait_for "$LX_DLOG" '^cancel id=1 \(answering' 10 || lx_fail "the daemon got no CANCEL: $(tail -3 "$LX_DLOG")"
lx_ok "the daemon received CANCEL for request 1 and stopped"
lx_wait_for /proc/llamux/status '^queue: 0 waiting, 0 answering' 10 || lx_fail "request 1 still in flight"
lx_expect_grep /proc/llamux/status ' 1 cancelled,' "status counts the cancel"
lx_expect_eq "$(tail -1 /proc/llamux/generate)" "llamux: cancelled" "the answer ends with 'llamux: cancelled'"
lx_expect_eq "$(lx_live)" 1 "one live request (the user's latest)"
touch gate
echo "next question" >/proc/llamux/prompt
lx_expect_grep /proc/llamux/generate '^next question$' "the next prompt is answered"
lx_expect_eq "$(lx_live)" 1 "the cancelled request was freed"
lx_daemon_stop
echo "queued, then abandoned" >/proc/llamux/prompt
cat /proc/llamux/generate >/dev/null &
reader=$!
lx_wait_blocked $reader || lx_fail "the reader is not waiting in generate"
kill -9 $reader
wait $reader 2>/dev/null
lx_expect_grep /proc/llamux/status '^queue: 0 waiting' "a killed reader's queued request leaves the queue"
lx_expect_grep /proc/llamux/status ' 2 cancelled,' "and is counted as cancelled"
lx_daemon -p 2
sleep 1
lx_expect_nogrep "$LX_DLOG" '^request' "the next daemon does not get the abandoned request"
lx_daemon_stop
lx_unload
lx_ok "unloaded without a leak warning"
