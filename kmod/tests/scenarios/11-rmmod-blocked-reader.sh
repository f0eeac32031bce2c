# rmmod while a reader blocks in generate (no daemon) and a prompt writer
# holds its file open: the reader returns, the module unloads, and a new
# load works.
lx_load
echo "nobody answers this" >/proc/llamux/prompt
cat /proc/llamux/generate >out 2>err &
reader=$!
llamux-tool hold /proc/llamux/prompt 60 2>/dev/null &
lx_wait_blocked $reader || lx_fail "the reader did not block"
lx_ok "a reader blocks in generate"
timeout 20 rmmod llamux || lx_fail "rmmod failed or hung"
lx_ok "rmmod succeeded"
i=0
while kill -0 $reader 2>/dev/null; do
	i=$((i + 1))
	[ $i -ge 100 ] && lx_fail "the reader is still blocked after rmmod"
	sleep 0.1
done
lx_ok "the reader returned"
lx_expect_eq "$(cat out)" "llamux: module unloaded" "it read 'llamux: module unloaded'"
[ -e /proc/llamux ] && lx_fail "/proc/llamux still exists"
lx_ok "/proc/llamux is gone"
lx_load
lx_daemon -p 2
echo "after reload" >/proc/llamux/prompt
lx_expect_grep /proc/llamux/generate '^after reload$' "reloaded module works"
