#!/bin/sh
# chat-reference.sh MODEL DIR LLAMUX...: what 26-daemon-chat expects from the daemon, made
# with `llamux run` (LLAMUX...: the command that runs it), greedy, 12 tokens:
#   DIR/turn1.txt   `run --chat -p MSG1`: the first answer
#   DIR/turn2.txt   `run --chat --messages DIR/conversation.json`: MSG1, the first answer
#                   (as the assistant's message) and MSG2, in one shot
#   DIR/turn2.err   its figures: "prompt N tokens" is the whole conversation's length
#   DIR/other.txt   `run --chat -p MSG2`: MSG2 as the first message of a conversation
#   DIR/raw.txt     `run -p "Once upon a time" -n 8`: raw completion, as chat=off answers
# Plain sh, so that the guest can run it too when the host did not.
set -eu
model=$1 dir=$2
shift 2
MSG1="Hello, who are you?"
MSG2="And what can you do?"
mkdir -p "$dir"
# A JSON string: backslashes, quotes and control characters escaped (perl-base is essential on Debian).
json() { printf '%s' "$1" | perl -0777 -pe 's/(["\\])/\\$1/g; s/([\x00-\x1f])/sprintf("\\u%04x", ord $1)/ge'; }
"$@" run -m "$model" --chat -p "$MSG1" -n 12 --temp 0 >"$dir/turn1.txt" 2>"$dir/turn1.err" || { cat "$dir/turn1.err" >&2; exit 1; }
answer1=$(cat "$dir/turn1.txt")
printf '[{"role": "user", "content": "%s"}, {"role": "assistant", "content": "%s"}, {"role": "user", "content": "%s"}]\n' \
	"$(json "$MSG1")" "$(json "$answer1")" "$(json "$MSG2")" >"$dir/conversation.json"
"$@" run -m "$model" --chat --messages "$dir/conversation.json" -n 12 --temp 0 >"$dir/turn2.txt" 2>"$dir/turn2.err" ||
	{ cat "$dir/turn2.err" >&2; exit 1; }
"$@" run -m "$model" --chat -p "$MSG2" -n 12 --temp 0 >"$dir/other.txt" 2>"$dir/other.err" || { cat "$dir/other.err" >&2; exit 1; }
"$@" run -m "$model" -p "Once upon a time" -n 8 --temp 0 >"$dir/raw.txt" 2>"$dir/raw.err" || { cat "$dir/raw.err" >&2; exit 1; }
