# The whole run so far: no BUG/WARNING/Oops/general protection in dmesg, and
# no prompt text of any earlier scenario.
dmesg >all
lx_expect_nogrep all "$LX_FAULTS" "no kernel fault in the whole run's dmesg"
lx_expect_nogrep all 'Once upon|prompt [0-9]+ from|survive the garbage|first user' "no prompt text in dmesg"
lx_expect_grep all 'llamux: loaded' "the module logged its loads"
