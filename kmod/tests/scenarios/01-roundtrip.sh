# echo + cat round trip through the test daemon: the answer is the reader's
# own prompt with its uid and settings; config reads back; no prompt in dmesg.
lx_load dyndbg=+p
lx_daemon -p 3 -t 20 -S "model: test daemon"
echo "temperature=0.5" >/proc/llamux/config
echo "Once upon a time" >/proc/llamux/prompt
cat /proc/llamux/generate >answer
printf '[id=1 uid=0 gid=0 settings=temperature=0.5]\nOnce upon a time\n' >expected
cmp -s answer expected || lx_fail "answer differs: $(cat answer)"
lx_ok "answer is the prompt back, with uid 0 and the settings"
cat /proc/llamux/generate | cmp -s - expected || lx_fail "a second read differs"
lx_ok "a second cat shows the same answer"
lx_expect_eq "$(cat /proc/llamux/config)" "temperature=0.5" "config reads back"
lx_expect_grep "$LX_DLOG" '^answered id=1 ' "the daemon answered request 1"
cat /proc/llamux/status >status
lx_expect_grep status '^requests: 1 submitted, 1 answered, 0 failed' "status counts the answer"
lx_expect_grep status '^answers: 17 prompt tokens, 3 generated tokens in total, [0-9]+\.[0-9]{3} tokens/s on average$' "status totals the DONE counters"
lx_expect_grep status '^model: test daemon$' "status shows the daemon's text"
lx_expect_grep status '^your request: 1, done, 61 answer bytes, 17 prompt tokens, 3 generated tokens$' "status shows the reader's request with its counters"
lx_dmesg >dmesg.txt
lx_expect_grep dmesg.txt 'llamux: daemon \(pid [0-9]+\) handshake done' "dmesg logs the handshake"
lx_expect_grep dmesg.txt 'llamux: request 1 queued: uid 0, 16 settings \+ 17 prompt bytes' "debug lines (dyndbg=+p) log sizes and ids"
lx_expect_nogrep dmesg.txt 'Once upon|temperature' "no prompt or settings text in dmesg, even with debug on"
lx_daemon_stop
lx_expect_grep /proc/llamux/status '^daemon: not attached' "status shows the daemon gone"
lx_unload
lx_dmesg | grep -q 'llamux: unloaded' || lx_fail "no unload line in dmesg"
lx_ok "unloaded"
