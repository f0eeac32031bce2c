# max_queue: prompts beyond it fail with EBUSY at open; O_NONBLOCK reads get
# EAGAIN; a blocked reader waits (no daemon) and is answered when one comes;
# a prompt counts once submitted, not while its file is open.
lx_load max_queue=3
for u in 1001 1002 1003; do
	lx_as $u sh -c 'echo "hi from $(id -u)" >/proc/llamux/prompt' || lx_fail "uid $u could not queue"
done
lx_ok "3 prompts queued without a daemon"
lx_expect_eq "$(lx_as 1004 llamux-tool write /proc/llamux/prompt 5 2>&1)" "open: EBUSY" "a 4th prompt: EBUSY"
lx_expect_grep /proc/llamux/status '^queue: 3 waiting, 0 answering, 0 being written, limit 3, 3 per uid' "status shows the full queue"
lx_expect_grep /proc/llamux/status ' 1 rejected$' "status counts the rejection"
lx_expect_eq "$(lx_as 1001 llamux-tool read-nonblock /proc/llamux/generate 2>&1)" "read: EAGAIN" "O_NONBLOCK read: EAGAIN"
llamux-tool as 1002 cat /proc/llamux/generate >a1002 &
reader=$!
lx_wait_blocked $reader || lx_fail "the reader did not block"
lx_ok "a reader blocks while no daemon is attached"
lx_daemon -b -p 2
lx_wait_for "$LX_DLOG" '^answered id=3 ' 30 || lx_fail "the queued prompts were not answered"
wait $reader
lx_expect_grep a1002 '^hi from 1002$' "the blocked reader got its answer"
lx_expect_grep /proc/llamux/status '^queue: 0 waiting, 0 answering, 0 being written' "queue empty again"
for i in 1 2 3; do
	llamux-tool hold /proc/llamux/prompt 60 2>/dev/null &
done
lx_wait_for /proc/llamux/status '3 being written' 10 || lx_fail "holders did not open the prompt"
lx_expect_eq "$(llamux-tool write /proc/llamux/prompt 5 2>&1)" "ok" "prompts merely held open take no slot"
