# Streaming: the reader sees text while the daemon is still generating.  CANCEL: killing
# the reader stops the generation in the daemon, which then serves the next request.
# timeout: 400
. "$LLAMUX_REPO/scripts/vm/scenarios-daemon/lib/daemon.sh"
lx_load
lxd_start
lxd_long_answer stream
grep -q '^your request: 1, answering' /proc/llamux/status || lx_fail "request already over: $(grep '^your' /proc/llamux/status)"
size1=$(wc -c <stream)
lxd_wait_size stream $((size1 + 20)) 60 || lx_fail "the stream did not grow"
grep -q '^your request: 1, answering' /proc/llamux/status || lx_fail "request over before the check"
lx_ok "streaming: $size1 then $(wc -c <stream) bytes read while the daemon still generates"
kill -KILL $LXD_READER
wait $LXD_READER 2>/dev/null
lx_wait_for "$LXD_LOG" 'request 1 uid 0: .* cancelled' 30 || lx_fail "the daemon did not stop request 1: $(tail -3 "$LXD_LOG")"
generated=$(sed -n 's/.*request 1 uid 0: .*, \([0-9]*\) generated.*/\1/p' "$LXD_LOG")
[ "$generated" -lt 1500 ] || lx_fail "generated all $generated tokens"
lx_ok "killing the reader cancelled the generation after $generated of 1500 tokens"
lx_expect_grep /proc/llamux/status '^requests: .* 1 cancelled' "the kernel counts the cancel"
lxd_ask "max_tokens=3" >next
lx_expect_grep /proc/llamux/status '^your request: 2, done, .*, [0-9]+ prompt tokens, 3 generated tokens$' "the next request is answered"
# A newer prompt from the same user supersedes the running one: also a CANCEL.
echo "max_tokens=1500" >/proc/llamux/config
echo "Once upon a time" >/proc/llamux/prompt
cat /proc/llamux/generate >old &
old_pid=$!
lxd_wait_size old 20 120 || lx_fail "no text for the first prompt"
echo "max_tokens=2" >/proc/llamux/config
echo "Once upon a time" >/proc/llamux/prompt
wait $old_pid
lx_expect_grep old '^llamux: superseded by a newer prompt' "the older reader is told why it ended"
lx_wait_for "$LXD_LOG" 'request 3 uid 0: .* cancelled' 30 || lx_fail "superseded request 3 was not cancelled"
lx_ok "a newer prompt cancels the older one in the daemon"
cat /proc/llamux/generate >newer
lx_expect_grep /proc/llamux/status '^your request: 4, done, .*, [0-9]+ prompt tokens, 2 generated tokens$' "the newer prompt is answered"
lxd_stop
