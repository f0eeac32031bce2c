#!/usr/bin/env bash
# `make vm-test`: the kernel module's scenarios (kmod/tests/scenarios) plus
# any extra scenario dirs, in one VM boot per kernel: Debian's own kernel
# (6.1 on bookworm) and the 6.12 one from bookworm-backports (installed,
# pinned, when missing).  Prints how many scenarios passed on each kernel.
#   scripts/vm/vm-test.sh [--only REGEX] [--scenarios DIR]...
# Extra dirs also come from LLAMUX_VM_SCENARIOS (space-separated);
# LLAMUX_VM_KERNELS="6.1" (releases or series) narrows the kernels.
set -uo pipefail
HARNESS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HARNESS/../.." && pwd)
LLAMUX_BUILD=${LLAMUX_BUILD:-$REPO/build/vm}
. "$HARNESS/common.sh"
dirs=(--scenarios "$REPO/kmod/tests/scenarios")
for d in ${LLAMUX_VM_SCENARIOS:-}; do
	dirs+=(--scenarios "$d")
done
while [ $# -gt 0 ]; do
	case $1 in
	--only) export LLAMUX_VM_ONLY=$2; shift 2 ;;
	--scenarios) dirs+=(--scenarios "$2"); shift 2 ;;
	*) echo "usage: vm-test.sh [--only REGEX] [--scenarios DIR]..." >&2; exit 2 ;;
	esac
done
vm_ensure_packages
vm_ensure_backports_kernel
mapfile -t kernels < <(vm_test_kernels)
[ ${#kernels[@]} -gt 0 ] || vm_die "no kernel to test (LLAMUX_VM_KERNELS=${LLAMUX_VM_KERNELS:-})"
vm_say "kernels: ${kernels[*]}"
summary=()
ok=1
for k in "${kernels[@]}"; do
	LLAMUX_VM_KERNEL=$k "$HARNESS/boot.sh" --name "vm-test-$k" "${dirs[@]}" "$HARNESS/guest/run-scenarios.sh"
	rc=$?
	counts=$(sed -n 's/^llamux-vm: \([0-9]* passed, [0-9]* failed\) in .*/\1/p' "$LLAMUX_BUILD/vm-test-$k.console.log" | tail -1)
	if [ $rc = 0 ]; then
		summary+=("kernel $k: PASS, ${counts:-no count}")
	else
		summary+=("kernel $k: FAIL, ${counts:-no count}")
		ok=0
	fi
done
for line in "${summary[@]}"; do
	vm_say "$line"
done
[ $ok = 1 ]
