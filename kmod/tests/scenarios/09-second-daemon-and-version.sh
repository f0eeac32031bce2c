# /dev/llamux is 0600 and single-open: a second opener gets EBUSY; a daemon
# speaking another protocol version is refused (EPROTO) and dmesg says so;
# the module cannot be removed while a daemon holds the device.
lx_load
lx_expect_eq "$(stat -c %a /dev/llamux)" 600 "/dev/llamux is mode 0600"
lx_expect_eq "$(lx_as 1001 llamux-tool open /dev/llamux 2>&1)" "open: EACCES" "a non-root user cannot open it"
lx_daemon
lx_expect_eq "$(llamux-tool open /dev/llamux 2>&1)" "open: EBUSY" "a second open: EBUSY"
llamux-testd >second.log 2>&1
lx_expect_eq "$?:$(cat second.log)" "2:open /dev/llamux: EBUSY" "a second daemon cannot attach"
rmmod llamux 2>/dev/null && lx_fail "rmmod succeeded with a daemon attached"
lx_ok "rmmod refused while a daemon holds the device"
lx_daemon_stop
llamux-testd -V 99 >v99.log 2>&1
lx_expect_eq "$?:$(cat v99.log)" "3:hello version 99 refused: EPROTO" "protocol version 99: EPROTO"
lx_dmesg >dmesg.txt
lx_expect_grep dmesg.txt 'llamux: daemon \(pid [0-9]+\) speaks protocol version 99, this module speaks 1: refused' "dmesg logs the refusal"
lx_daemon -p 2
echo "after the refusal" >/proc/llamux/prompt
lx_expect_grep /proc/llamux/generate '^after the refusal$' "a correct daemon then works"
