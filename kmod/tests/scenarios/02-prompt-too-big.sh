# A 1 MiB prompt (over the 64 KiB default limit) fails with EFBIG and is not
# submitted, whether in one write or in 4 KiB pieces; exactly the limit works;
# the limit is a module parameter.
lx_load
lx_daemon -p 2
lx_expect_eq "$(llamux-tool write /proc/llamux/prompt 1048576 2>&1)" "write: EFBIG" "1 MiB in one write: EFBIG"
lx_expect_eq "$(llamux-tool write /proc/llamux/prompt 1048576 4096 2>&1)" "write: EFBIG" "1 MiB in 4 KiB writes: EFBIG"
lx_expect_eq "$(llamux-tool write /proc/llamux/prompt 65537 2>&1)" "write: EFBIG" "65537 bytes: EFBIG"
lx_expect_grep /proc/llamux/status '^requests: 0 submitted' "nothing was submitted"
lx_expect_eq "$(llamux-tool write /proc/llamux/prompt 65536 2>&1)" "ok" "exactly 65536 bytes: accepted"
cat /proc/llamux/generate >answer
lx_expect_eq "$(wc -c <answer)" "$((65536 + $(head -1 answer | wc -c)))" "the whole prompt came back"
lx_expect_eq "$(grep -c '^request ' "$LX_DLOG")" 1 "the daemon got exactly one request"
lx_expect_grep "$LX_DLOG" 'prompt=65536$' "of 65536 prompt bytes"
lx_daemon_stop
lx_unload
lx_load max_prompt_bytes=100
lx_expect_eq "$(llamux-tool write /proc/llamux/prompt 101 2>&1)" "write: EFBIG" "max_prompt_bytes=100: 101 bytes get EFBIG"
lx_expect_eq "$(llamux-tool write /proc/llamux/prompt 100 2>&1)" "ok" "max_prompt_bytes=100: 100 bytes pass"
lx_unload
insmod /llamux/llamux.ko max_prompt_bytes=2000000 2>/dev/null && lx_fail "a prompt limit over the wire limit was accepted"
lx_ok "a prompt limit over the wire limit is refused at load"
