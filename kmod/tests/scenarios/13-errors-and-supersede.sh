# The daemon's ERROR reaches the reader as a last line; an answer over
# max_answer_bytes is cut with an error and a CANCEL; a newer prompt of the
# same uid supersedes (and cancels) the one being answered.
lx_load max_answer_bytes=300
lx_daemon -e "bad setting: temperature=abc"
echo "temperature=abc" >/proc/llamux/config
echo "hello" >/proc/llamux/prompt
lx_expect_eq "$(cat /proc/llamux/generate)" "llamux: bad setting: temperature=abc" "ERROR is shown to the reader"
lx_expect_grep /proc/llamux/status ' 1 failed,' "status counts the failure"
lx_daemon_stop
: >/proc/llamux/config
lx_expect_eq "$(cat /proc/llamux/config | wc -c)" 0 "an empty write clears the config"
lx_daemon -p 4 -t 300
llamux-tool write /proc/llamux/prompt 400 2>/dev/null
lx_expect_eq "$(tail -1 /proc/llamux/generate)" "llamux: answer too long" "an answer over the limit ends with an error"
lx_wait_for "$LX_DLOG" '^cancel id=2 ' 10 || lx_fail "the daemon got no CANCEL for the long answer"
lx_ok "and the daemon got a CANCEL"
lx_daemon_stop
lx_daemon -b -p 6 -g "$T/gate"
echo "old question" >/proc/llamux/prompt
cat /proc/llamux/generate >old &
reader=$!
lx_wait_for "$LX_DLOG" '^piece id=3 1/6' 30 || lx_fail "no answer started"
# The reader must have opened generate before the newer prompt: opened after
# it, it would follow the new question, which waits for the gate.
lx_wait_blocked $reader || lx_fail "the old reader is not waiting in generate"
echo "new question" >/proc/llamux/prompt
wait $reader
lx_expect_eq "$(tail -1 old)" "llamux: superseded by a newer prompt" "the old reader sees it superseded"
lx_wait_for "$LX_DLOG" '^cancel id=3 ' 10 || lx_fail "the daemon got no CANCEL for the old question"
lx_ok "the daemon got a CANCEL for it"
touch gate
lx_expect_grep /proc/llamux/generate '^new question$' "the new question is answered"
lx_expect_grep /proc/llamux/status ' 1 superseded,' "status counts it"
