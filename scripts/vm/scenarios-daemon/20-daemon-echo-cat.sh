# The real daemon and model: echo + cat prints what `llamux run` prints with the same
# greedy settings; the log has one line per request and no prompt text.
# timeout: 400
. "$LLAMUX_REPO/scripts/vm/scenarios-daemon/lib/daemon.sh"
lx_load
lxd_start
lxd_ask "temperature=0 max_tokens=24" >answer
# scripts/daemon-vm-test runs `llamux run` on the host before the boot (a JVM start and a
# generation under emulation take minutes); without that file it runs here.
host_run=$LLAMUX_REPO/build/vm/daemon-run-expected.txt
if [ -s "$host_run" ] && [ "$host_run" -nt "$LLAMUX_REPO/target/llamux.jar" ]; then
	cp "$host_run" expected
	lx_say "llamux run output: computed on the host with the same jar and model"
else
	lxd_llamux run -m "$LXD_MODEL" -p "Once upon a time" -n 24 --temp 0 >expected 2>run.err ||
		lx_fail "llamux run failed: $(cat run.err)"
fi
cmp -s answer expected || lx_fail "the answers differ: daemon '$(cat answer)' vs run '$(cat expected)'"
lx_ok "echo + cat = llamux run --temp 0 -n 24: $(head -1 answer | head -c 70)..."
lx_expect_grep /proc/llamux/status '^your request: 1, done, [0-9]+ answer bytes, 5 prompt tokens, 24 generated tokens$' "the kernel got DONE with the counts"
lx_expect_grep /proc/llamux/status '^answers: 5 prompt tokens, 24 generated tokens in total, [0-9.]+ tokens/s on average' "status totals them"
lx_expect_grep /proc/llamux/status '^  model: .*F32' "status shows the model"
lx_expect_grep /proc/llamux/status '^  requests: 1 served' "status shows the daemon's counters"
lx_expect_nogrep /proc/llamux/status 'uid[ =][0-9]|^ *last' "status names no request's user or figures"
lx_expect_grep "$LXD_LOG" 'INFO RequestLoop: request 1 uid 0: 5 prompt tokens \([0-9.]+ tok/s\), 24 generated \([0-9.]+ tok/s\), token limit reached' \
	"one log line for the request with counts and speeds"
lx_expect_nogrep "$LXD_LOG" 'Once upon|upon a time' "no prompt or answer text in the log"
lxd_stop
lx_ok "SIGTERM stops the daemon cleanly"
