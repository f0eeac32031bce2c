# /proc/llamux/config reaches the daemon per user: max_tokens, temperature and seed take
# effect; a bad value or an unknown key is an error the reader sees, naming it.
# timeout: 400
. "$LLAMUX_REPO/scripts/vm/scenarios-daemon/lib/daemon.sh"
lx_load
lxd_start
lxd_ask "temperature=0 max_tokens=4" >short
lx_expect_grep /proc/llamux/status '^your request: .*, [0-9]+ prompt tokens, 4 generated tokens$' "max_tokens=4 gives 4 tokens"
lx_as 1000 sh -c 'echo "temperature=0 max_tokens=12" >/proc/llamux/config; echo "Once upon a time" >/proc/llamux/prompt; cat /proc/llamux/generate' >long
lx_as 1000 cat /proc/llamux/status >status1000
lx_expect_grep status1000 '^your request: .*, [0-9]+ prompt tokens, 12 generated tokens$' "uid 1000's own max_tokens=12"
lx_expect_grep /proc/llamux/status '^your request: .*, [0-9]+ prompt tokens, 4 generated tokens$' "uid 0 still sees its own request"
head -c $(($(wc -c <short) - 1)) short >short.text
[ "$(head -c "$(wc -c <short.text)" long)" = "$(cat short.text)" ] && [ "$(wc -c <long)" -gt "$(wc -c <short)" ] ||
	lx_fail "greedy answers should share a prefix: '$(cat short)' vs '$(cat long)'"
lx_ok "greedy: the 4-token answer starts the 12-token one"
lxd_ask "temperature=1 top_k=0 top_p=1 min_p=0 seed=7 max_tokens=16" >seed7a
lxd_ask >seed7b
cmp -s seed7a seed7b || lx_fail "seed=7 twice gave different text"
lx_ok "the same seed gives the same text"
lxd_ask "temperature=1 top_k=0 top_p=1 min_p=0 seed=8 max_tokens=16" >seed8
cmp -s seed7a seed8 && lx_fail "seed=8 gave the same text as seed=7"
lx_ok "another seed gives other text"
lxd_ask "temperature=hot" >bad
lx_expect_eq "$(cat bad)" "llamux: bad value in 'temperature=hot': expected a number from 0 (greedy) to 100 (in /proc/llamux/config)" \
	"a bad value is an error naming it"
lxd_ask "colour=blue max_tokens=3" >unknown
lx_expect_grep unknown "^llamux: unknown setting 'colour' \(known: temperature, top_k, top_p, min_p, repeat_penalty, repeat_last_n, seed, max_tokens, chat, system\)" \
	"an unknown key is an error naming it"
lx_expect_grep /proc/llamux/status '^  requests: 5 served .*, 2 failed' "the daemon counts the failures"
lxd_stop
