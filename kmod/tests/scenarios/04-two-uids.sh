# Two uids write prompts at the same time; each reads only its own answer,
# with its own settings; a uid without a request reads nothing, at once.
lx_load
lx_daemon -p 4 -t 100
lx_as 1001 sh -c 'echo temperature=0.1 >/proc/llamux/config'
lx_as 1002 sh -c 'echo temperature=0.2 >/proc/llamux/config'
lx_as 1001 sh -c 'echo "prompt of 1001" >/proc/llamux/prompt; cat /proc/llamux/generate' >a1001 &
p1=$!
lx_as 1002 sh -c 'echo "prompt of 1002" >/proc/llamux/prompt; cat /proc/llamux/generate' >a1002 &
p2=$!
wait $p1 $p2
for u in 1001 1002; do
	lx_expect_grep a$u "^\[id=[12] uid=$u gid=$u settings=temperature=0\.${u#100}\]$" "uid $u got its header and settings"
	lx_expect_grep a$u "^prompt of $u$" "uid $u got its own prompt"
	[ "$(wc -l <a$u)" = 2 ] || lx_fail "uid $u answer has other lines: $(cat a$u)"
done
lx_expect_nogrep a1001 1002 "uid 1001 saw nothing of 1002"
lx_expect_nogrep a1002 1001 "uid 1002 saw nothing of 1001"
lx_as 1001 cat /proc/llamux/generate | cmp -s - a1001 || lx_fail "uid 1001 reads a different answer later"
lx_ok "uid 1001 reads the same answer again"
start=$(date +%s)
lx_expect_eq "$(lx_as 1003 cat /proc/llamux/generate | wc -c)" 0 "uid 1003 (no request) reads nothing"
[ $(($(date +%s) - start)) -le 2 ] || lx_fail "the read without a request did not return at once"
lx_expect_eq "$(cat /proc/llamux/generate | wc -c)" 0 "root (no request) reads nothing"
lx_expect_eq "$(lx_as 1002 cat /proc/llamux/config)" "temperature=0.2" "uid 1002 reads its own config"
lx_expect_eq "$(lx_as 1003 cat /proc/llamux/config | wc -c)" 0 "uid 1003 has no config"
lx_as 1002 cat /proc/llamux/status >status
lx_expect_grep status '^your request: [12], done' "status shows uid 1002 its request"
