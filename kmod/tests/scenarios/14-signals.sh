# Signals: a handled signal interrupts a blocked read (EINTR) without ending
# the answer or cancelling it; reading on gets the whole answer.  (A fatal
# signal turns into CANCEL: 07-reader-killed.)
lx_load
lx_daemon -p 3 -g "$T/gate"
echo "keep going" >/proc/llamux/prompt
llamux-tool read-alarm /proc/llamux/generate 1 >out 2>err &
reader=$!
lx_wait_for err '^read: EINTR$' 20 || lx_fail "no EINTR: $(cat err)"
lx_ok "SIGALRM interrupted the blocked read with EINTR"
touch gate
wait $reader || lx_fail "read-alarm: $(cat err)"
lx_expect_grep out '^keep going$' "reading on got the whole answer"
lx_expect_nogrep "$LX_DLOG" '^cancel' "the daemon got no CANCEL"
lx_expect_grep /proc/llamux/status ' 0 cancelled,' "nothing was cancelled"
