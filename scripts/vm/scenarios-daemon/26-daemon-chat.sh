# Conversations with an instruct model (synthetic-chat-Q8_0): two turns through /proc/llamux;
# the second answer is what a one-shot `llamux run --chat` of the whole conversation gives,
# and the second request processes only its new tokens; another uid's conversation does not
# see the first's; chat=off is raw completion; /reset starts over.
# timeout: 1800
. "$LLAMUX_REPO/scripts/vm/scenarios-daemon/lib/daemon.sh"
LXD_MODEL=${LXD_MODEL%/*}/synthetic-chat-Q8_0.gguf
chroot /host test -f "$LXD_MODEL" || lx_fail "no chat model at $LXD_MODEL"
MSG1="Hello, who are you?"
MSG2="And what can you do?"
# The references (lib/chat-reference.sh): made on the host by scripts/daemon-vm-test, where a
# JVM starts in a second; without them, here.
ref=$LLAMUX_REPO/build/vm/chat
if [ -s "$ref/turn2.txt" ] && [ "$ref/turn2.txt" -nt "$LLAMUX_REPO/target/llamux.jar" ]; then
	lx_say "llamux run --chat references: computed on the host with the same jar and model"
else
	ref=/tmp/llamux-chat-ref-$$
	lxd_host scripts/vm/scenarios-daemon/lib/chat-reference.sh "$LXD_MODEL" "$ref" \
		"$(lxd_java_home)/bin/java" @scripts/jvm-options -jar target/llamux.jar || lx_fail "llamux run --chat failed"
	ref=/host$ref
fi
full2=$(sed -n 's/^llamux: prompt \([0-9]*\) tokens.*/\1/p' "$ref/turn2.err")
full1=$(sed -n 's/^llamux: prompt \([0-9]*\) tokens.*/\1/p' "$ref/turn1.err")
[ -n "$full2" ] && [ -n "$full1" ] || lx_fail "no prompt length in the references"
lx_load
lxd_start
lx_expect_grep "$LXD_LOG" 'INFO Daemon: conversations in the model.s chat template; KV caches for [0-9]+ users' \
	"the daemon serves conversations"

# done_prompt_tokens: DONE's prompt_tokens of the reader's last request, from status.
done_prompt_tokens() { sed -n 's/^your request: .*, \([0-9]*\) prompt tokens, [0-9]* generated tokens$/\1/p' /proc/llamux/status; }

echo "temperature=0 max_tokens=12" >/proc/llamux/config
echo "$MSG1" >/proc/llamux/prompt
cat /proc/llamux/generate >turn1
cmp -s turn1 "$ref/turn1.txt" || lx_fail "turn 1 differs: daemon '$(cat turn1)' vs run --chat '$(cat "$ref/turn1.txt")'"
p1=$(done_prompt_tokens)
lx_expect_eq "$p1" "$full1" "turn 1 = llamux run --chat -p: '$(head -c 50 turn1)...', its $full1 prompt tokens processed"

echo "$MSG2" >/proc/llamux/prompt
cat /proc/llamux/generate >turn2
cmp -s turn2 "$ref/turn2.txt" || lx_fail "turn 2 differs: daemon '$(cat turn2)' vs one-shot run --chat --messages '$(cat "$ref/turn2.txt")'"
lx_ok "turn 2 = llamux run --chat --messages (both turns, the first answer as the assistant's): '$(head -c 50 turn2)...'"
p2=$(done_prompt_tokens)
line=$(grep -E 'INFO RequestLoop: request 2 uid 0: ' "$LXD_LOG") || lx_fail "no log line for request 2"
cached2=$(echo "$line" | sed -n 's/.*, chat: 4 messages, prompt [0-9]* tokens, \([0-9]*\) cached.*/\1/p')
echo "$line" | grep -q ", chat: 4 messages, prompt $full2 tokens, " || lx_fail "the log line lacks the conversation's $full2 tokens: $line"
[ -n "$cached2" ] && [ $((p2 + cached2)) -eq "$full2" ] && [ "$cached2" -gt "$full1" ] ||
	lx_fail "turn 2 should process only what follows the cached turn 1: DONE $p2, cached '$cached2', whole $full2"
lx_ok "turn 2 processed $p2 of the conversation's $full2 tokens ($cached2 cached: turn 1's $full1-token prompt and its answer)"

lx_as 1000 sh -c "echo 'temperature=0 max_tokens=12' >/proc/llamux/config; echo '$MSG2' >/proc/llamux/prompt; cat /proc/llamux/generate" >other
cmp -s other "$ref/other.txt" || lx_fail "uid 1000's first turn differs from run --chat -p '$MSG2': '$(cat other)' vs '$(cat "$ref/other.txt")'"
lx_as 1000 cat /proc/llamux/status >status1000
other_full=$(sed -n 's/^llamux: prompt \([0-9]*\) tokens.*/\1/p' "$ref/other.err")
lx_expect_grep status1000 "^your request: .*, $other_full prompt tokens, 12 generated tokens$" \
	"uid 1000's conversation is its own: the answer of a first turn, all $other_full prompt tokens processed"

echo "chat=off temperature=0 max_tokens=8" >/proc/llamux/config
echo "Once upon a time" >/proc/llamux/prompt
cat /proc/llamux/generate >raw
cmp -s raw "$ref/raw.txt" || lx_fail "chat=off differs from llamux run -p: '$(cat raw)' vs '$(cat "$ref/raw.txt")'"
lx_ok "chat=off: raw completion, as llamux run prints it: '$(cat raw)'"

echo "temperature=0 max_tokens=12" >/proc/llamux/config
echo "/reset" >/proc/llamux/prompt
lx_expect_eq "$(cat /proc/llamux/generate)" "llamux: conversation reset" "/reset starts over"
lx_expect_nogrep "$LXD_LOG" 'who are you|what can you do|upon a time|figure' "no prompt or answer text in the log"
lxd_stop
