# Per-uid state is freed when idle: an answer read to the end goes after
# keep_answer_secs, and with it the uid's record; settings keep it; at most
# max_users uids at once (EUSERS); max_answer_bytes is clamped.
lx_load max_users=8 keep_answer_secs=2
lx_daemon -p 2
for u in 2001 2002 2003 2004 2005 2006 2007 2008; do
	lx_as $u sh -c 'echo "hi from $(id -u)" >/proc/llamux/prompt; cat /proc/llamux/generate' >a$u
	grep -q "^hi from $u$" a$u || lx_fail "uid $u: $(cat a$u)"
done
lx_ok "8 uids answered"
lx_expect_grep /proc/llamux/status '^memory: [0-9]+ bytes held for 8 users' "8 user records while their answers are kept"
lx_expect_eq "$(lx_as 2009 llamux-tool write /proc/llamux/prompt 5 2>&1)" "open: EUSERS" "a 9th uid: EUSERS (max_users=8)"
lx_expect_eq "$(lx_as 2001 cat /proc/llamux/generate)" "[id=1 uid=2001 gid=2001 settings=]
hi from 2001" "within keep_answer_secs the answer reads again"
lx_as 2010 cat /proc/llamux/config >/dev/null 2>&1 && lx_fail "uid 2010 opened config past max_users"
lx_ok "config: EUSERS too"
lx_wait_for /proc/llamux/status '^memory: 0 bytes held for 0 users' 10 ||
	lx_fail "idle users were not freed: $(lx_status '^memory:')"
lx_ok "2 s after their answers were read, all 8 records are gone"
lx_expect_grep /proc/llamux/status '^kept answers: 2 s .*, 8 dropped so far' "status counts the dropped answers"
lx_expect_eq "$(lx_as 2002 cat /proc/llamux/generate | wc -c)" 0 "a dropped answer reads as no request"
lx_expect_eq "$(lx_as 2009 llamux-tool write /proc/llamux/prompt 5 2>&1)" ok "uid 2009 now gets in"
lx_as 2009 cat /proc/llamux/generate >/dev/null
lx_as 2010 sh -c 'echo "temperature=0.5" >/proc/llamux/config'
lx_wait_for /proc/llamux/status 'held for 1 users' 10 || lx_fail "uid 2009 not dropped: $(lx_status '^memory:')"
lx_ok "a uid with settings keeps its record"
lx_as 2010 sh -c ': >/proc/llamux/config'
lx_expect_grep /proc/llamux/status '^memory: 0 bytes held for 0 users' "clearing the settings frees it"
i=0
while [ $i -lt 300 ]; do
	lx_as $((3000 + i)) cat /proc/llamux/config || lx_fail "uid $((3000 + i)) could not read config"
	i=$((i + 1))
done
lx_expect_grep /proc/llamux/status '^memory: 0 bytes held for 0 users' "300 uids reading config leave nothing behind"
lx_daemon_stop
lx_unload
lx_load max_answer_bytes=4294967295
lx_expect_grep /proc/llamux/status '^limits: prompt 65536 bytes, answer 16777216 bytes$' "max_answer_bytes=4294967295 is clamped to 16 MiB"
lx_dmesg >dmesg.txt
lx_expect_grep dmesg.txt 'llamux: max_answer_bytes=4294967295 clamped to 16777216' "dmesg says so"
