# timeout: 600
# 200 prompts from 4 processes (4 uids) in parallel, each reading its own
# answers: all answered, none lost or crossed.
lx_load
lx_daemon -b -p 2
mkdir out
chmod 777 out
for u in 1001 1002 1003 1004; do
	lx_as $u sh -c '
		u=$(id -u); i=1
		while [ $i -le 50 ]; do
			echo "prompt $i from $u" >/proc/llamux/prompt || exit 1
			cat /proc/llamux/generate >>out/$u || exit 1
			i=$((i + 1))
		done' &
	workers="$workers $!"
done
# shellcheck disable=SC2086
wait $workers
for u in 1001 1002 1003 1004; do
	[ "$(grep -c "^prompt [0-9]* from $u$" out/$u)" = 50 ] || lx_fail "uid $u: $(grep -c from out/$u) answers"
	[ "$(sed -n 's/^prompt \([0-9]*\) from.*/\1/p' out/$u | sort -n | uniq | wc -l)" = 50 ] ||
		lx_fail "uid $u: answers missing or doubled"
	[ "$(grep -c "^\[id=[0-9]* uid=$u gid=$u settings=\]$" out/$u)" = 50 ] || lx_fail "uid $u: wrong headers"
	[ "$(wc -l <out/$u)" = 100 ] || lx_fail "uid $u: foreign lines"
done
lx_ok "4 uids x 50 answers, each its own, none lost or crossed"
lx_expect_eq "$(grep -c '^answered ' "$LX_DLOG")" 200 "the daemon answered 200 requests"
lx_expect_grep /proc/llamux/status '^requests: 200 submitted, 200 answered, 0 failed, 0 cancelled, 0 superseded' "status: 200 submitted, 200 answered"
lx_expect_eq "$(lx_live)" 4 "4 live requests (one per uid)"
