# Queue slots come back after cancels: while the daemon is busy, uid 1001
# writes 70 prompts, each superseding the one the daemon has read ahead.
# The daemon ends each dropped request with DONE, so the default 64-prompt
# queue never fills, and afterwards a prompt still gets through.
# timeout: 240
lx_load
lx_daemon -p 2 -g "$T/gate"
echo "keep the daemon busy" >/proc/llamux/prompt
lx_wait_for "$LX_DLOG" '^piece id=1 1/2' 10 || lx_fail "request 1 not started"
i=1
while [ $i -le 70 ]; do
	err=$(lx_as 1001 llamux-tool write /proc/llamux/prompt 20 2>&1)
	[ "$err" = ok ] || lx_fail "cycle $i: the prompt was refused: $err"
	lx_wait_for "$LX_DLOG" "^held id=$((i + 1))\$" 10 ||
		lx_fail "cycle $i: request $((i + 1)) was not read: $(tail -3 "$LX_DLOG")"
	i=$((i + 1))
done
lx_ok "70 prompts of uid 1001, each read ahead by the daemon, none refused"
lx_expect_eq "$(grep -c '^cancel id=[0-9]* (not started)' "$LX_DLOG")" 69 \
	"69 read-ahead requests cancelled by the next prompt"
lx_expect_grep /proc/llamux/status ' 69 superseded,' "status counts them superseded"
lx_expect_grep /proc/llamux/status '^queue: 0 waiting, 2 answering' \
	"only the busy request and the last prompt hold slots"
touch gate
lx_expect_grep /proc/llamux/generate '^keep the daemon busy$' "the busy request is answered"
lx_as 1002 sh -c 'echo "still gets through" >/proc/llamux/prompt' || lx_fail "uid 1002's prompt was refused"
lx_expect_grep "$(lx_as 1002 cat /proc/llamux/generate >a1002; echo a1002)" '^still gets through$' \
	"a prompt after the cycles gets through"
lx_expect_grep /proc/llamux/status '^queue: 0 waiting, 0 answering' "every slot is back"
