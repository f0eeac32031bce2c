# A prompt written in 100 small write() calls is submitted whole, on close.
lx_load
lx_daemon -p 5
awk 'BEGIN { for (i = 0; i < 100; i++) printf "w%03d-xy", i }' >prompt.txt
dd if=prompt.txt of=/proc/llamux/prompt bs=7 2>dd.err || lx_fail "dd: $(cat dd.err)"
lx_expect_grep dd.err '^100\+0 records out' "dd wrote 100 blocks of 7 bytes"
cat /proc/llamux/generate >answer
tail -c 700 answer | cmp -s - prompt.txt || lx_fail "the answer does not end with the 700-byte prompt"
lx_expect_eq "$(wc -c <answer)" "$((700 + $(head -1 answer | wc -c)))" "the 700-byte prompt arrived whole"
lx_expect_eq "$(grep -c '^request ' "$LX_DLOG")" 1 "as one request"
llamux-tool write /proc/llamux/prompt 3000 3 2>/dev/null || lx_fail "1000 writes of 3 bytes failed"
cat /proc/llamux/generate >answer2
lx_expect_grep "$LX_DLOG" 'prompt=3000$' "1000 writes of 3 bytes arrive as one 3000-byte prompt"
