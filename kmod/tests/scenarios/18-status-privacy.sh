# /proc/llamux/status is readable by everyone: it shows totals (queue,
# counters, tokens, speed) and the reader's own request, never another
# user's request id or figures.
lx_load
lx_daemon -p 2 -S "model: test daemon"
lx_as 1001 sh -c 'head -c 1234 /dev/zero | tr "\0" a >/proc/llamux/prompt; cat /proc/llamux/generate >/dev/null'
lx_as 1003 sh -c 'head -c 2345 /dev/zero | tr "\0" b >/proc/llamux/prompt; cat /proc/llamux/generate >/dev/null'
lx_as 1002 cat /proc/llamux/status >status1002
lx_as 1001 cat /proc/llamux/status >status1001
sed 's/^/  | /' status1002
lx_expect_grep status1002 '^answers: 3579 prompt tokens, 4 generated tokens in total' "totals over both answers"
lx_expect_grep status1002 '^your request: none$' "uid 1002 has no request of its own"
lx_expect_nogrep status1002 '1234|2345' "no other user's prompt size"
lx_expect_nogrep status1002 '^last|uid[ =]?[0-9]' "no other user's last answer or uid"
lx_expect_grep status1001 '^your request: 1, done, [0-9]+ answer bytes, 1234 prompt tokens, 2 generated tokens$' \
	"uid 1001 sees its own request's figures"
lx_expect_nogrep status1001 '2345' "but not uid 1003's"
