# A prompt takes a queue slot when it is submitted, not while its file is
# open: 64 prompt files held open by one uid lock nobody out.  Beside the
# global max_queue, max_queue_per_uid bounds one uid (EBUSY).  A prompt that
# no longer fits when its file closes is not dropped silently: its answer
# says so.
lx_load max_queue=3 max_queue_per_uid=1
chmod 777 "$T"
i=0
while [ $i -lt 64 ]; do
	llamux-tool as 1001 llamux-tool hold /proc/llamux/prompt 120 2>/dev/null &
	i=$((i + 1))
done
lx_wait_for /proc/llamux/status '64 being written' 20 || lx_fail "the holders did not open: $(lx_status '^queue')"
lx_expect_eq "$(lx_as 1002 llamux-tool write /proc/llamux/prompt 5 2>&1)" ok \
	"64 open prompt files of uid 1001: uid 1002's prompt still gets in"
lx_expect_eq "$(lx_as 1001 llamux-tool write /proc/llamux/prompt 5 2>&1)" ok "and so does uid 1001's own"
lx_daemon -s -p 2 -g "$T/gate"
lx_wait_for "$LX_DLOG" '^piece id=1 1/2' 10 || lx_fail "request 1 not started"
# uid 1003 writes its prompt, then waits with the file open.
lx_as 1003 sh -c 'exec 3>/proc/llamux/prompt; echo "late" >&3; echo x >written; while [ ! -f go ]; do sleep 0.1; done; exec 3>&-' &
late=$!
lx_wait_for written x 10 || lx_fail "uid 1003 could not write"
lx_expect_eq "$(lx_as 1002 llamux-tool write /proc/llamux/prompt 5 2>&1)" "open: EBUSY" \
	"uid 1002 has a request being answered: at max_queue_per_uid=1 its next prompt gets EBUSY"
lx_expect_eq "$(lx_as 1001 llamux-tool write /proc/llamux/prompt 5 2>&1)" ok \
	"uid 1001's queued prompt is superseded by its next one: that fits"
lx_expect_eq "$(lx_as 1004 llamux-tool write /proc/llamux/prompt 5 2>&1)" ok "uid 1004 has a slot"
lx_expect_eq "$(lx_as 1005 llamux-tool write /proc/llamux/prompt 5 2>&1)" "open: EBUSY" \
	"the 4th prompt overall: EBUSY (max_queue=3)"
touch go
wait $late
lx_expect_eq "$(lx_as 1003 cat /proc/llamux/generate)" "llamux: queue full: prompt not submitted" \
	"uid 1003's prompt, closed with the queue full, says so"
lx_expect_grep /proc/llamux/status ' 3 rejected$' "status counts the three rejections"
touch gate
lx_expect_grep "$(lx_as 1004 cat /proc/llamux/generate >a1004; echo a1004)" '^01234$' "the queued prompts are answered"
lx_expect_grep /proc/llamux/status '^queue: 0 waiting, 0 answering, 64 being written' "every slot is back; the holders still hold none"
