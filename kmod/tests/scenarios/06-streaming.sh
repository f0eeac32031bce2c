# Streaming: a reader gets the first piece while the daemon has not sent the
# rest (it holds them until the scenario opens a gate), then the rest, then EOF.
lx_load
lx_daemon -p 4 -g "$T/gate"
echo "stream me please, piece by piece" >/proc/llamux/prompt
# A reader keeps generate open on fd 3: were the last one closed early, the
# request would be cancelled (42-cancel-on-close).
exec 3</proc/llamux/generate
dd of=first bs=65536 count=1 <&3 2>/dev/null
lx_expect_grep "$LX_DLOG" '^piece id=1 1/4' "the first read returned after piece 1"
lx_expect_nogrep "$LX_DLOG" '^piece id=1 [234]/4' "before the daemon sent any other piece"
touch gate
cat /proc/llamux/generate >full
exec 3<&-
lx_expect_grep "$LX_DLOG" '^answered id=1 ' "the daemon finished"
[ "$(wc -c <first)" -gt 0 ] && [ "$(wc -c <first)" -lt "$(wc -c <full)" ] ||
	lx_fail "first read: $(wc -c <first) bytes of $(wc -c <full)"
head -c "$(wc -c <first)" full | cmp -s - first || lx_fail "the first piece is not a prefix of the answer"
lx_ok "the first read is a strict prefix of the answer ($(wc -c <first) of $(wc -c <full) bytes)"
lx_expect_grep full '^stream me please, piece by piece$' "the full answer arrived"
