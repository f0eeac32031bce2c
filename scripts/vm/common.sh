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

# The kernels vm-test runs on: Debian's own (linux-image-amd64) and, on
# bookworm, the 6.12 series from bookworm-backports.  The backports suite is
# added to apt's sources pinned at -1, with only that kernel's image, headers
# and kbuild let through, so nothing else is ever upgraded from it.
VM_BPO_SUITE=bookworm-backports
VM_BPO_SOURCES=/etc/apt/sources.list.d/llamux-$VM_BPO_SUITE.sources
VM_BPO_PIN=/etc/apt/preferences.d/llamux-$VM_BPO_SUITE

# A usable kernel: a build dir and a /boot/vmlinuz.
vm_kernel_ok() { [ -d "/lib/modules/$1/build" ] && [ -f "/boot/vmlinuz-$1" ]; }

# Prints the installed usable *-amd64 kernels, oldest first.
vm_kernels_installed() {
	local k
	for k in $(ls -1 /lib/modules 2>/dev/null | grep -- '-amd64$' | sort -V); do
		vm_kernel_ok "$k" && echo "$k"
	done
}

# Prints the release of the kernel Debian's linux-image-amd64 depends on.
vm_default_kernel() {
	dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null |
		sed -n 's/^linux-image-\([^ ,]*-amd64\).*/\1/p'
}

# Installs the newest 6.12 kernel and headers from bookworm-backports (root,
# bookworm only) unless one is there.  Prints nothing; fails loudly.
vm_ensure_backports_kernel() {
	local img hdr
	vm_kernels_installed | grep -q '^6\.12\.' && return 0
	grep -q '^VERSION_CODENAME=bookworm$' /etc/os-release 2>/dev/null || return 0
	[ "$(id -u)" = 0 ] || vm_die "no 6.12 kernel: run as root to install it from $VM_BPO_SUITE"
	if ! [ -f "$VM_BPO_SOURCES" ]; then
		vm_say "adding $VM_BPO_SUITE to apt's sources (pinned: only the 6.12 kernel)"
		printf '%s\n' 'Types: deb' 'URIs: http://deb.debian.org/debian' \
			"Suites: $VM_BPO_SUITE" 'Components: main' \
			'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' >"$VM_BPO_SOURCES"
	fi
	printf '%s\n' 'Package: *' "Pin: release n=$VM_BPO_SUITE" 'Pin-Priority: -1' '' \
		'Package: linux-image-6.12.* linux-headers-6.12.* linux-kbuild-6.12.*' \
		"Pin: release n=$VM_BPO_SUITE" 'Pin-Priority: 500' >"$VM_BPO_PIN"
	apt-get update -qq -o DPkg::Lock::Timeout=600 || vm_die "apt-get update failed"
	img=$(apt-cache depends -t "$VM_BPO_SUITE" linux-image-amd64 | sed -n 's/^ *Depends: \(linux-image-6\.12\.[^ ]*\)$/\1/p' | head -1)
	hdr=$(apt-cache depends -t "$VM_BPO_SUITE" linux-headers-amd64 | sed -n 's/^ *Depends: \(linux-headers-6\.12\.[^ ]*\)$/\1/p' | head -1)
	[ -n "$img" ] && [ -n "$hdr" ] || vm_die "no 6.12 kernel in $VM_BPO_SUITE"
	vm_say "installing $img $hdr from $VM_BPO_SUITE"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		-o DPkg::Lock::Timeout=600 "$img" "$hdr" >/dev/null || vm_die "apt-get install $img $hdr failed"
}

# Prints the kernels to test, one a line: Debian's default, then the newest
# of each other series installed (6.12 from backports).  LLAMUX_VM_KERNELS
# (space-separated releases or series prefixes such as "6.1" "6.12") narrows it.
vm_test_kernels() {
	local def k series want
	def=$(vm_default_kernel)
	{
		vm_kernel_ok "$def" && echo "$def"
		for k in $(vm_kernels_installed); do
			series=$(echo "$k" | cut -d. -f1-2)
			echo "$series $k"
		done | awk -v def="$def" '{ split(def, d, "."); if ($1 != d[1] "." d[2]) last[$1] = $2 }
			END { for (s in last) print last[s] }' | sort -V
	} | while read -r k; do
		[ -n "${LLAMUX_VM_KERNELS:-}" ] || { echo "$k"; continue; }
		for want in $LLAMUX_VM_KERNELS; do
			case $k in "$want" | "$want".* | "$want"-*) echo "$k"; break ;; esac
		done
	done
}

# Sets KVER and VMLINUZ: LLAMUX_VM_KERNEL if set (a release), else Debian's
# default kernel, else the newest installed one.  Not uname -r: the host may
# run a kernel without module support.
vm_pick_kernel() {
	local best=${LLAMUX_VM_KERNEL:-}
	if [ -n "$best" ]; then
		vm_kernel_ok "$best" || vm_die "kernel $best: no /lib/modules/$best/build or /boot/vmlinuz-$best"
	else
		best=$(vm_default_kernel)
		vm_kernel_ok "$best" || best=$(vm_kernels_installed | tail -1)
	fi
	[ -n "$best" ] || vm_die "no /lib/modules/*-amd64 with a build dir and /boot/vmlinuz (linux-image-amd64, linux-headers-amd64)"
	KVER=$best
	VMLINUZ=/boot/vmlinuz-$KVER
}

vm_build() {
	make -s -C "$REPO/kmod" KDIR="/lib/modules/$KVER/build" OUT="$LLAMUX_BUILD/kmod-$KVER" >"$LLAMUX_BUILD/kmod-build-$KVER.log" 2>&1 ||
		{ cat "$LLAMUX_BUILD/kmod-build-$KVER.log"; vm_die "module build failed"; }
	if grep -qi 'warning:' "$LLAMUX_BUILD/kmod-build-$KVER.log"; then
		cat "$LLAMUX_BUILD/kmod-build-$KVER.log"
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
