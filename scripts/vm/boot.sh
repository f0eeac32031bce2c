#!/usr/bin/env bash
# Boots the Debian kernel under qemu with the llamux module, the test programs
# and the host's / (read-only 9p at /host) and runs GUEST_SCRIPT in the guest.
# Passes only when the guest reports a pass both ways: the isa-debug-exit code
# (33) and the console marker.  See scripts/vm/README.md for the guest side.
#
#   scripts/vm/boot.sh [--timeout SECONDS] [--name NAME] [--scenarios DIR]...
#                      GUEST_SCRIPT [ARGS...]
set -uo pipefail

HARNESS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HARNESS/../.." && pwd)
LLAMUX_BUILD=${LLAMUX_BUILD:-$REPO/build/vm}
. "$HARNESS/common.sh"

timeout_s=${LLAMUX_VM_TIMEOUT:-1500}
name=boot
scenario_dirs=()
while [ $# -gt 0 ]; do
	case $1 in
	--timeout) timeout_s=$2; shift 2 ;;
	--name) name=$2; shift 2 ;;
	--scenarios) scenario_dirs+=("$(cd "$2" && pwd)") || vm_die "no dir $2"; shift 2 ;;
	--) shift; break ;;
	-*) vm_die "unknown option $1" ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || vm_die "usage: boot.sh [--timeout S] [--name N] [--scenarios DIR]... GUEST_SCRIPT [ARGS...]"
script=$1
shift
GUEST_ARGS=("$@")
[ -f "$script" ] || vm_die "no guest script $script"

start=$(date +%s)
mkdir -p "$LLAMUX_BUILD"
vm_ensure_packages
vm_pick_kernel
vm_build
INITRD=$LLAMUX_BUILD/$name.initramfs.gz
vm_initramfs "$INITRD" "$script" "${scenario_dirs[@]}"
accel=$(vm_accel)
log=$LLAMUX_BUILD/$name.console.log
vm_say "kernel $KVER, ${accel%% -cpu*}, log $log"

# shellcheck disable=SC2086 # $accel is a list of options
timeout "$timeout_s" qemu-system-x86_64 $accel -smp "${LLAMUX_VM_CPUS:-2}" -m "${LLAMUX_VM_MEM:-2G}" \
	-nographic -no-reboot -nic none \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
	-virtfs local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap \
	-kernel "$VMLINUZ" -initrd "$INITRD" \
	-append "console=ttyS0 panic=-1 quiet loglevel=4 ${LLAMUX_VM_APPEND:-}" \
	</dev/null 2>&1 | sed -u 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1bc//g; s/\r$//' | tee "$log"
rc=${PIPESTATUS[0]}

verdict=fail
if [ "$rc" = 124 ]; then
	vm_say "no verdict: timed out after $timeout_s s"
elif [ "$rc" = 33 ] && grep -qx 'LLAMUX-VM-VERDICT: PASS' "$log"; then
	verdict=pass
elif [ "$rc" = 35 ] && grep -qx 'LLAMUX-VM-VERDICT: FAIL' "$log"; then
	:
else
	vm_say "no verdict from the guest (qemu exit $rc)"
fi
# Kernel lines only (they start with a printk timestamp): programs in the guest
# may print "WARNING:" themselves (the JDK does).
if grep -Eq '^\[ *[0-9]+\.[0-9]+\] .*(BUG:|WARNING:|Oops|general protection|KASAN)' "$log"; then
	vm_say "kernel fault on the console"
	verdict=fail
fi
vm_say "$name: ${verdict^^} in $(($(date +%s) - start)) s wall time"
[ $verdict = pass ]
