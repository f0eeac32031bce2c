# Host side of the VM harness, sourced by boot.sh.  Finds or installs what
# the VM needs, builds the module and the static test programs against the
# Debian kernel, packs the initramfs and boots qemu.
# Everything it builds goes under $LLAMUX_BUILD (default build/vm), never into git.

VM_PACKAGES="qemu-system-x86 linux-image-amd64 linux-headers-amd64 busybox-static kmod cpio gcc make libc6-dev"

vm_say() { echo "vm: $*"; }
vm_die() { echo "vm: error: $*" >&2; exit 1; }

# Installs missing Debian packages when root; otherwise fails naming them.
vm_ensure_packages() {
	local missing="" p
	command -v dpkg-query >/dev/null 2>&1 || vm_die "not a Debian system: need $VM_PACKAGES"
	for p in $VM_PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		vm_die "missing Debian packages:$missing (run as root to install them, or: apt-get install --no-install-recommends$missing)"
	fi
	vm_say "installing:$missing"
	apt-get update -qq -o DPkg::Lock::Timeout=600 || vm_die "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		-o DPkg::Lock::Timeout=600 $missing >/dev/null || vm_die "apt-get install$missing failed"
}

# The newest Debian kernel with both an image and a build dir (not uname -r:
# the host may run a kernel without module support).
vm_pick_kernel() {
	local k best=""
	for k in $(ls -1 /lib/modules 2>/dev/null | grep -- '-amd64$' | sort -V); do
		[ -d "/lib/modules/$k/build" ] && [ -f "/boot/vmlinuz-$k" ] && best=$k
	done
	[ -n "$best" ] || vm_die "no /lib/modules/*-amd64 with a build dir and /boot/vmlinuz (linux-image-amd64, linux-headers-amd64)"
	KVER=$best
	VMLINUZ=/boot/vmlinuz-$KVER
}

vm_build() {
	make -s -C "$REPO/kmod" KDIR="/lib/modules/$KVER/build" OUT="$LLAMUX_BUILD/kmod-$KVER" >"$LLAMUX_BUILD/kmod-build.log" 2>&1 ||
		{ cat "$LLAMUX_BUILD/kmod-build.log"; vm_die "module build failed"; }
	if grep -qi 'warning:' "$LLAMUX_BUILD/kmod-build.log"; then
		cat "$LLAMUX_BUILD/kmod-build.log"
		vm_die "module build has warnings"
	fi
	make -s -C "$REPO/kmod/tests" OUT="$LLAMUX_BUILD/bin" >"$LLAMUX_BUILD/tests-build.log" 2>&1 ||
		{ cat "$LLAMUX_BUILD/tests-build.log"; vm_die "test programs build failed"; }
}

# The 9p client and its virtio transport, in dependency order.
vm_host_modules() {
	local m
	for m in virtio_pci 9pnet_virtio 9p; do
		modprobe -S "$KVER" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
	done | awk '!seen[$0]++'
}

# Packs the initramfs: busybox, /init, the module, the test programs, the
# guest library, the guest script and its scenario dirs.
#   vm_initramfs OUT GUEST_SCRIPT [SCENARIO_DIR...]
vm_initramfs() {
	local out=$1 script=$2 root=$LLAMUX_BUILD/initramfs m f i=0 d
	shift 2
	rm -rf "$root"
	mkdir -p "$root"/bin "$root"/proc "$root"/sys "$root"/dev "$root"/tmp "$root"/host \
		"$root"/llamux/kmods "$root"/llamux/bin "$root"/llamux/scenarios
	cp /bin/busybox "$root/bin/busybox"
	cp "$HARNESS/guest/init" "$root/init"
	chmod 755 "$root/init"
	cp "$HARNESS/guest/lib.sh" "$HARNESS/guest/run-scenarios.sh" "$root/llamux/"
	cp "$script" "$root/llamux/guest-script"
	cp "$LLAMUX_BUILD/kmod-$KVER/llamux.ko" "$root/llamux/llamux.ko"
	cp "$LLAMUX_BUILD"/bin/* "$root/llamux/bin/"
	for m in $(vm_host_modules); do
		case $m in
		*.ko) cp "$m" "$root/llamux/kmods/" ;;
		*.ko.xz) xz -dc "$m" >"$root/llamux/kmods/$(basename "$m" .xz)" ;;
		*.ko.zst) zstd -qdc "$m" >"$root/llamux/kmods/$(basename "$m" .zst)" ;;
		*) vm_die "unexpected module file $m" ;;
		esac
		basename "${m%.xz}" .zst >>"$root/llamux/kmods/order"
	done
	for d in "$@"; do
		[ -d "$d" ] || vm_die "no scenario dir $d"
		i=$((i + 1))
		mkdir -p "$root/llamux/scenarios/$i"
		cp "$d"/*.sh "$root/llamux/scenarios/$i/" 2>/dev/null ||
			vm_die "no *.sh scenarios in $d"
	done
	{
		echo "LLAMUX_REPO=/host$REPO"
		echo "LLAMUX_HOST_REPO=$REPO"
		echo "LLAMUX_KVER=$KVER"
		echo "LLAMUX_ONLY='${LLAMUX_VM_ONLY:-}'"
		echo "LLAMUX_KMOD_PARAMS='${LLAMUX_KMOD_PARAMS:-}'"
		echo "LLAMUX_SCENARIO_TIMEOUT=${LLAMUX_SCENARIO_TIMEOUT:-180}"
	} >"$root/llamux/env"
	: >"$root/llamux/args"
	[ ${#GUEST_ARGS[@]} = 0 ] || printf '%s\n' "${GUEST_ARGS[@]}" >"$root/llamux/args"
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out"
}

# Prints the qemu accelerator options.  KVM only when a probe boot proves it
# works: on some hosts /dev/kvm exists but qemu aborts or hangs under it.
# LLAMUX_VM_ACCEL=kvm|tcg forces a choice; the probe result is cached per host boot.
vm_accel() {
	local want=${LLAMUX_VM_ACCEL:-auto} cache=$LLAMUX_BUILD/kvm-probe key rc
	# LLAMUX_VM_TCG_THREAD=single: one host thread for all vCPUs.  The JVM patches its
	# own compiled code while other threads run it, and multi-threaded TCG crashed the
	# guest JVM (SIGSEGV at pc 0) now and then; the daemon scenarios therefore use single.
	local tcg="-accel tcg,thread=${LLAMUX_VM_TCG_THREAD:-multi} -cpu max"
	case $want in
	tcg) echo "$tcg"; return ;;
	kvm) echo "-accel kvm -cpu host"; return ;;
	esac
	if ! [ -r /dev/kvm ] || ! [ -w /dev/kvm ]; then
		echo "$tcg"
		return
	fi
	key="$(cat /proc/sys/kernel/random/boot_id 2>/dev/null) $VMLINUZ"
	if [ -f "$cache" ] && [ "$(sed -n 1p "$cache")" = "$key" ]; then
		[ "$(sed -n 2p "$cache")" = kvm ] && echo "-accel kvm -cpu host" || echo "$tcg"
		return
	fi
	# The probe boots the real kernel and initramfs; /init answers at once.
	timeout 10 qemu-system-x86_64 -accel kvm -cpu host -smp 1 -m 256M -nographic \
		-no-reboot -nic none -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-kernel "$VMLINUZ" -initrd "$INITRD" \
		-append "console=ttyS0 panic=-1 quiet loglevel=1 llamux.probe=1" \
		</dev/null >"$LLAMUX_BUILD/kvm-probe.log" 2>&1
	rc=$?
	if [ $rc = 33 ]; then
		printf '%s\nkvm\n' "$key" >"$cache"
		echo "-accel kvm -cpu host"
	else
		printf '%s\ntcg\n' "$key" >"$cache"
		echo "$tcg"
	fi
}
