# The model in huge pages: with pages reserved in the guest the daemon maps the model
# with MAP_HUGETLB and says so in status; without, it falls back with a warning.
# timeout: 400
. "$LLAMUX_REPO/scripts/vm/scenarios-daemon/lib/daemon.sh"
free_pages() { sed -n 's/^HugePages_Free: *//p' /proc/meminfo; }
echo 8 >/proc/sys/vm/nr_hugepages
lx_expect_eq "$(free_pages)" 8 "8 huge pages reserved"
lx_load
lxd_start --huge-pages hugetlb
lx_expect_grep /proc/llamux/status '^  memory: [0-9.]+ MiB in huge pages \(MAP_HUGETLB\), 1 huge pages of 2 MiB, locked \(mlock\)' \
	"status: the model is in one locked 2 MiB huge page"
lx_expect_eq "$(free_pages)" 7 "the daemon holds one of them"
lx_expect_grep "$LXD_LOG" 'INFO ModelMemory: model memory: .* huge pages \(MAP_HUGETLB\)' "the log says so too"
lxd_ask "temperature=0 max_tokens=8" >answer
lx_expect_grep answer '^Once upon a time' "the model answers from huge-page memory"
lxd_stop
lx_expect_eq "$(free_pages)" 8 "the page is free again after the daemon stops"
echo 0 >/proc/sys/vm/nr_hugepages
lxd_start
lx_expect_grep "$LXD_LOG" 'WARN ModelMemory: model memory: no MAP_HUGETLB mapping of 2 MiB: .*sysctl vm.nr_hugepages=1' \
	"without reserved pages: a warning naming the fix"
lx_expect_grep /proc/llamux/status '^  memory: .* in transparent huge pages \(madvise\)' "and transparent huge pages instead"
lxd_stop
