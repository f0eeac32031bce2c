#!/usr/bin/env bash
# `make vm-test`: the kernel module's scenarios (kmod/tests/scenarios) plus
# any extra scenario dirs, in one VM boot.
#   scripts/vm/vm-test.sh [--only REGEX] [--scenarios DIR]...
# Extra dirs also come from LLAMUX_VM_SCENARIOS (space-separated).
set -uo pipefail
HARNESS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HARNESS/../.." && pwd)
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
exec "$HARNESS/boot.sh" --name vm-test "${dirs[@]}" "$HARNESS/guest/run-scenarios.sh"
