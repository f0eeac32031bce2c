# Kernel memory one uid can pin is bounded: 2,000 prompts of 64 KiB, each
# with its generate file kept open, hold what the requests need (the prompt
# is freed once superseded), under max_user_bytes; with a small limit the
# writes get EDQUOT and the counter stays under it; another uid is served.
# timeout: 400
ulimit -n 4400
lx_load
llamux-tool as 1001 llamux-tool pin /proc/llamux 2000 65536 >pin.out 2>&1 &
pinner=$!
lx_wait_for pin.out '^holding' 300 || lx_fail "the pinner did not finish: $(cat pin.out)"
lx_expect_grep pin.out '^pinned 2000 of 2000$' "2000 prompts of 64 KiB, 2000 generate files held open"
mine=$(lx_as 1001 sed -n 's/^your memory: \([0-9]*\) bytes$/\1/p' /proc/llamux/status)
[ "$mine" -le 4194304 ] || lx_fail "uid 1001 holds $mine bytes, over the 4 MiB limit"
lx_ok "uid 1001 holds $mine bytes (limit 4194304; the prompts alone were 131072000)"
lx_say "$(lx_status '^memory:')"
lx_daemon -p 2
lx_as 1002 sh -c 'echo "still served" >/proc/llamux/prompt; cat /proc/llamux/generate' >a1002
lx_expect_grep a1002 '^still served$' "another uid is served meanwhile"
kill $pinner
wait $pinner 2>/dev/null
lx_wait_for /proc/llamux/status '^live requests: 2$' 10 ||
	lx_fail "uid 1001's requests were not freed: $(lx_status '^live requests:')"
mine=$(lx_as 1001 sed -n 's/^your memory: \([0-9]*\) bytes$/\1/p' /proc/llamux/status)
[ "$mine" -le 140000 ] || lx_fail "uid 1001 still holds $mine bytes"
lx_ok "closing the files frees all but uid 1001's latest answer (its 64 KiB prompt echoed): $mine bytes"
lx_daemon_stop
lx_unload

lx_load max_user_bytes=262144
llamux-tool as 1001 llamux-tool pin /proc/llamux 2000 65536 >pin2.out 2>&1 &
pinner=$!
lx_wait_for pin2.out '^holding' 300 || lx_fail "the pinner did not finish: $(cat pin2.out)"
lx_say "$(head -2 pin2.out)"
lx_expect_grep pin2.out '^refused at [0-9]+: (open prompt|write): EDQUOT$' "past max_user_bytes, prompts get EDQUOT"
mine=$(lx_as 1001 sed -n 's/^your memory: \([0-9]*\) bytes$/\1/p' /proc/llamux/status)
[ "$mine" -le 262144 ] || lx_fail "uid 1001 holds $mine bytes, over the 262144 limit"
lx_ok "uid 1001 holds $mine bytes, under max_user_bytes=262144"
lx_daemon -p 2
lx_as 1002 sh -c 'echo "served too" >/proc/llamux/prompt; cat /proc/llamux/generate' >b1002
lx_expect_grep b1002 '^served too$' "another uid is served"
kill $pinner
wait $pinner 2>/dev/null
lx_ok "the pinner is gone"
