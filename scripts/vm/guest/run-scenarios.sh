# Guest script of `make vm-test`: runs every scenario in /llamux/scenarios/*/
# (dirs in the order given to the harness, files sorted by name), one at a
# time, each with a timeout, and reports each by name.  Exit 0 if all pass.
. /llamux/lib.sh

run_start=$(date +%s)
passed=0
failed=0
failed_names=
for f in /llamux/scenarios/*/*.sh; do
	[ -f "$f" ] || continue
	name=$(basename "$f" .sh)
	LX_SCENARIO=$name
	if [ -n "$LLAMUX_ONLY" ] && ! echo "$name" | grep -Eq "$LLAMUX_ONLY"; then
		continue
	fi
	limit=$(sed -n 's/^# timeout: *\([0-9][0-9]*\).*/\1/p' "$f" | head -1)
	limit=${limit:-$LLAMUX_SCENARIO_TIMEOUT}
	T=/tmp/scenario/$name
	rm -rf "$T"
	mkdir -p "$T"
	echo "llamux-vm: scenario $name start" >/dev/kmsg
	echo "llamux-vm: RUN  $name"
	start=$(date +%s)
	# Own session and process group, so that leftovers can be killed.
	T=$T LX_SCENARIO=$name setsid timeout "$limit" \
		sh -c '. /llamux/lib.sh; cd "$T" || exit 1; . "$0"' "$f" >"$T/output" 2>&1 &
	pid=$!
	wait $pid
	rc=$?
	kill -9 -- "-$pid" 2>/dev/null
	sleep 0.2
	sed 's/^/  /;s/^    /  /' "$T/output" | head -60
	[ $rc = 143 ] && echo "  FAIL: timed out after $limit s"
	if lx_loaded && ! (lx_unload) >"$T/unload" 2>&1; then
		cat "$T/unload"
		rc=1
	fi
	if lx_dmesg | grep -Eq "$LX_FAULTS"; then
		echo "  FAIL: kernel fault in dmesg"
		rc=1
	fi
	took=$(($(date +%s) - start))
	if [ $rc = 0 ]; then
		passed=$((passed + 1))
		echo "llamux-vm: PASS $name (${took} s)"
	else
		failed=$((failed + 1))
		failed_names="$failed_names $name"
		echo "  dmesg since the start of $name:"
		lx_dmesg | tail -25 | sed 's/^/    /'
		echo "llamux-vm: FAIL $name (${took} s)"
	fi
done
echo "llamux-vm: $passed passed, $failed failed in $(($(date +%s) - run_start)) s${failed_names:+; failed:$failed_names}"
[ $failed = 0 ] && [ $passed -gt 0 ]
