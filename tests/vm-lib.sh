# SPDX-License-Identifier: GPL-2.0
# Simulated hypervisor hosts for the VM suites, sourced after tests/lib.sh,
# tests/vc.sh and tests/agent-lib.sh (ag_cluster N makes the hosts' network
# namespaces and agent configs first).
#
# Host I is agent-lib's host I -- netns ${VC_NS}I, 198.18.0.I, files under
# $AG_DIR/nI/ -- plus a PID and a mount namespace of its own, whose init is
# tests/vm-host-init.sh.  In it run the host's own libvirtd and, unless
# --no-agent, the agent (vclusterd -c $(ag_conf I)).  SIGKILL of the init
# ends the PID namespace: libvirtd, agent, fencer and QEMUs die at once.
#
#     initial PID ns:   unshare --pid --fork --kill-child --mount ...
#                          |
#     host I's PID ns:  vm-host-init.sh (PID 1, reaps every orphan)
#                          |-- libvirtd ------ (QEMU, daemonized: its
#                          |-- vclusterd        parent becomes PID 1)
#                          |      `-- vcluster-fencer
#                          `-- qemu-system-x86_64 -name guest=VM,...
#
# Host I's files ($AG_DIR/nI/):
#   libvirt/libvirt-sock   libvirtd's socket (its unix_sock_dir): from
#                          outside, qemu:///system?socket=... (vm_host_uri);
#                          inside also /run/libvirt/libvirt-sock (a
#                          symlink), so qemu:///system works there
#   vm/etc/                passwd and group with libvirt-qemu, libvirt/
#                          (libvirtd.conf with the host's host_uuid,
#                          qemu.conf): /etc/libvirt inside, so domains
#                          defined there persist across power loss
#   vm/run/                /run/libvirt (emptied at every start: power loss
#                          loses it), vm/lib/ vm/cache/ vm/log/ are
#                          /var/{lib,cache,log}/libvirt (QEMU logs and the
#                          VMs' serial output in vm/log/qemu/)
#   vm/init.log, vm/libvirtd.log
#
# Functions (PIDs are the machine's, i.e. of the initial PID namespace;
# start hosts from the suite's own shell, not in $(...) or check, which
# would lose what they record):
#   vm_host_start I [--no-agent]    up when libvirtd answers (60 s at most)
#   vm_hosts_start "I J.." [--no-agent]   the same, started side by side
#   vm_host_uri I, vm_virsh I ARGS...
#   vm_host_tcp_uri I               host I's libvirtd seen from the other
#                                   hosts (qemu+tcp://198.18.0.I:16509/system;
#                                   reachable from the hosts' netns only)
#   vm_migrate I J NAME [VIRSH-ARGS...]   live peer-to-peer migration of
#                                   NAME from host I to host J (virsh
#                                   migrate --live --p2p; the guest's
#                                   memory goes over 198.18.0.0/24 too)
#   vm_host_power_off I             SIGKILL of the init; returns when every
#                                   process of the host is gone
#   vm_host_freeze I, vm_host_thaw I   SIGSTOP / SIGCONT of every process
#                                   of the host (QEMUs too); return when
#                                   all are stopped / none is
#   vm_agent_start I, vm_agent_stop I   the agent alone, on a host that
#                                   is up (start: when none runs, e.g.
#                                   after it was fenced)
#   vm_host_pids I, vm_host_init_pid I, vm_host_agent_pid I,
#   vm_qemu_pid I VM, vm_host_dir I, vm_serial I VM (the VM's console)
#   vm_guest_uptime I VM            the guest's uptime (seconds, as in its
#                                   /proc/uptime) in the last line its init
#                                   wrote to host I's serial file
#   vm_xml NAME [MEM_MIB [CMDLINE]], vm_uuid NAME
#                                   a tiny VM (TCG, direct kernel boot of
#                                   a Debian kernel and a busybox
#                                   initramfs, no disk, no NIC; its init
#                                   writes "vcvm NAME up SECONDS" to the
#                                   console every second)
#   vm_teardown                     every host down, logs kept (each start
#                                   registers it with at_exit unless it is
#                                   the latest cleanup already, so it runs
#                                   before agent-lib's ag_teardown)
#
# ag_teardown waits for every background job of the suite: stop yours (a
# vmcheck recorder, say) in a cleanup registered after ag_cluster.
#
# For hosts started here use the vm_* calls, not ag_start/ag_power_off/
# ag_stop/ag_agent_pid (they act on agent-only hosts, AG_PID, which stays
# empty for these); ag_ctl, ag_status and the rest work on both.
#
# The first libvirt call of a fresh libvirtd probes QEMU's capabilities
# (qemu-system-x86_64 and -i386: 1.3 s here when idle, 4 s for three hosts
# at once).  The probe's cache is kept in $VM_ASSETS/qemu-caps/ and copied
# into each host before its libvirtd starts (then it answers within 0.2 s);
# libvirt checks it (QEMU's and its own ctime and version) and probes again
# when it is stale, and the fresh result is kept for the next hosts.

VM_ASSETS=${VM_ASSETS:-${VC_BUILD:-$REPO/build}/vm-assets}
VM_INIT_SH=$TESTS_DIR/vm-host-init.sh
VM_QEMU=${VM_QEMU:-/usr/bin/qemu-system-x86_64}
VM_START_TIMEOUT_S=${VM_START_TIMEOUT_S:-60}
VM_GONE_TIMEOUT_S=${VM_GONE_TIMEOUT_S:-20}
VM_CAPS_DIR=qemu/capabilities	# under /var/cache/libvirt
VM_LIBVIRTD_PORT=16509		# libvirtd's TCP port, at each host's address
# The version of _vm_initrd's init: a kept initrd.gz of another version is
# made again (bump it with every change of the init).
VM_INITRD_VERSION=2

declare -a VM_INIT	# host I's init (PID 1 of its namespace)
declare -a VM_UNSHARE	# its parent, unshare, our child
declare -a VM_UNSHARE_T	# unshare's start time (/proc/PID/stat field 22)
declare -a VM_PIDNS	# inode of host I's PID namespace
declare -a VM_UP_MS	# how long host I's last start took

vm_host_dir() { echo "$AG_DIR/n$1"; }
vm_host_init_pid() { _vm_init_alive "$1" && echo "${VM_INIT[$1]}"; }
vm_host_uri() { echo "qemu:///system?socket=$AG_DIR/n$1/libvirt/libvirt-sock"; }
vm_host_tcp_uri() { echo "qemu+tcp://$(vc_addr "$1" 0):$VM_LIBVIRTD_PORT/system"; }

vm_virsh()
{
	local i=$1

	shift
	virsh -c "$(vm_host_uri "$i")" "$@"
}

# ------------------------------------------------------- suite helpers

# Resource fields as host I's replica has them.
res_field() { ag_status "$1" ".resources[] | select(.name == \"$2\") | .$3"; }
res_node() { res_field "$1" "$2" node; }
res_status() { res_field "$1" "$2" status; }

# running_on I RES HOST [ocf]: host I's replica says RES runs on HOST, and
# HOST really has its QEMU (not checked for an OCF resource: "ocf").
running_on()
{
	[[ $(res_node "$1" "$2") == "$3" && $(res_status "$1" "$2") == running ]] &&
		{ [[ ${4:-} == ocf ]] || vm_qemu_pid "$3" "$2" >/dev/null; }
}

# running_elsewhere I VM NOT: VM runs (per host I) on a host other than NOT.
running_elsewhere()
{
	local n

	n=$(res_node "$1" "$2")
	[[ -n $n && $n != 0 && $n != "$3" ]] && running_on "$1" "$2" "$n"
}

# other_than I...: a host of 1, 2, 3 other than those given, to ask.
other_than()
{
	local i

	for i in 1 2 3; do
		[[ " $* " == *" $i "* ]] || { echo "$i"; return; }
	done
}

# fence_window_ms I NODE: the window the DC waited for NODE's last fence.
fence_window_ms()
{
	"$VCTL" -s "$(ag_sock "$1")" history --json |
		jq -s -r "map(select(.op == \"node-fenced\" and .node == $2)) | last | .window_ms"
}

EXPECT=()	# --expect-restart arguments for a suite's final vmcheck verify
# expect_restart HOST T VM: VM of HOST (failed at T) must run again within
# its window + 3 s.
expect_restart()
{
	local w

	[[ -n $3 ]] || return 0		# it ran nothing
	w=$(fence_window_ms "$(other_than "$1")" "$1")
	[[ $w =~ ^[0-9]+$ ]] || w=$((AG_INTERVAL_MS * AG_MISSES + AG_QUORUM_TIMEOUT_MS + AG_KILL_BOUND_MS + 1000))
	EXPECT+=(--expect-restart "h$1 $2 $((w + 3000)) $3")
	diag "bound for $3 after host $1 failed: window $w ms + 3000 ms"
}

# ------------------------------------------------------------- assets

# vm_assets: the guest kernel and initramfs in $VM_ASSETS, made once (under
# a lock: suites may run side by side), the initramfs again when its init
# is of another version ($VM_ASSETS/initrd.version).
vm_assets()
{
	[[ -s $VM_ASSETS/vmlinuz && -s $VM_ASSETS/initrd.gz ]] && _vm_initrd_current && return 0
	mkdir -p "$VM_ASSETS" || return 1
	(
		flock 9
		[[ -s $VM_ASSETS/vmlinuz ]] || _vm_kernel || exit 1
		[[ -s $VM_ASSETS/initrd.gz ]] && _vm_initrd_current || _vm_initrd || exit 1
	) 9>"$VM_ASSETS/.lock"
}

_vm_initrd_current()
{
	[[ $(cat "$VM_ASSETS/initrd.version" 2>/dev/null) == "$VM_INITRD_VERSION" ]]
}

# _vm_kernel: any bootable bzImage: the guest kernels of tools/fetch-kernels
# first (the machine's own /boot may be unreadable or absent in CI).
_vm_kernel()
{
	local k cache=${VC_CACHE:-/var/cache/vcluster}

	for k in "$cache"/kernels/6.1/boot/vmlinuz-* "$cache"/kernels/6.12/boot/vmlinuz-* \
		 /boot/vmlinuz-*; do
		[[ -r $k ]] || continue
		cp -L "$k" "$VM_ASSETS/vmlinuz.tmp" &&
			mv "$VM_ASSETS/vmlinuz.tmp" "$VM_ASSETS/vmlinuz"
		return
	done
	echo "vm-lib: no guest kernel (run tools/fetch-kernels)" >&2
	return 1
}

# _vm_initrd: busybox and an init that says which VM it is on the serial
# console, then idles but for a line a second with the guest's uptime
# ("vcvm NAME up 12.34", /proc/uptime's first field): after a live
# migration the destination's serial file goes on from a larger uptime
# than the source's last line (the guest did not reboot).  The suites
# watch QEMU and these lines, nothing else.  With vcbusy=1 on the kernel
# command line a shell loop keeps the vCPU busy as well.
_vm_initrd()
{
	local d rc=0

	command -v cpio >/dev/null || { echo "vm-lib: cpio is not installed" >&2; return 1; }
	[[ -x /bin/busybox ]] || { echo "vm-lib: busybox-static is not installed" >&2; return 1; }
	d=$(mktemp -d "$VM_ASSETS/initrd.XXXXXX") || return 1
	mkdir -p "$d/bin" "$d/proc" "$d/dev"
	cp /bin/busybox "$d/bin/busybox"
	cat >"$d/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t devtmpfs dev /dev
for a in $(/bin/busybox cat /proc/cmdline); do
	case $a in
	vcvm=*) vm=${a#vcvm=} ;;
	vcbusy=1) busy=1 ;;
	esac
done
echo "vcluster test VM ${vm:-?} up"
# vcbusy=1: a vCPU that never idles, for the checker's tests
[ -n "$busy" ] && while :; do :; done </dev/null &
while :; do
	read -r up idle </proc/uptime
	echo "vcvm ${vm:-?} up $up"
	/bin/busybox sleep 1
done
EOF
	chmod 755 "$d/init"
	(cd "$d" && find . | cpio -o -H newc --quiet | gzip -1) >"$VM_ASSETS/initrd.gz.tmp" || rc=1
	rm -rf "$d"
	((rc == 0)) || return 1
	mv "$VM_ASSETS/initrd.gz.tmp" "$VM_ASSETS/initrd.gz" &&
		echo "$VM_INITRD_VERSION" >"$VM_ASSETS/initrd.version"
}

# vm_uuid NAME: a fixed UUID derived from the name (version 4 layout).
vm_uuid()
{
	local h

	h=$(printf 'vcluster-vm:%s' "$1" | md5sum)
	echo "${h:0:8}-${h:8:4}-4${h:13:3}-8${h:17:3}-${h:20:12}"
}

# vm_xml NAME [MEM_MIB [CMDLINE]]: the domain XML of a tiny VM.  It is the
# same for every host: the serial file is in the host's private
# /var/log/libvirt.  CMDLINE adds to the kernel's (e.g. vcbusy=1).  It
# migrates between the hosts as it is: kernel, initramfs and emulator are
# the machine's own files, the same on every host; the serial file's
# folder exists on each (a migrated VM goes on writing to the target's);
# no disk, no NIC; libvirt pins machine='pc' to the version it started with.
vm_xml()
{
	local name=$1 mem=${2:-128} extra=${3:+ $3}

	vm_assets || return 1
	cat <<EOF
<domain type='qemu'>
  <name>$name</name>
  <uuid>$(vm_uuid "$name")</uuid>
  <memory unit='MiB'>$mem</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$VM_ASSETS/vmlinuz</kernel>
    <initrd>$VM_ASSETS/initrd.gz</initrd>
    <cmdline>console=ttyS0 quiet panic=-1 vcvm=$name$extra</cmdline>
  </os>
  <features><acpi/></features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>$VM_QEMU</emulator>
    <serial type='file'>
      <source path='/var/log/libvirt/qemu/$name.serial' append='on'/>
      <target port='0'/>
    </serial>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
}

# vm_serial I NAME: the VM's serial output on host I, so far.
vm_serial() { cat "$AG_DIR/n$1/vm/log/qemu/$2.serial" 2>/dev/null; }

# vm_guest_uptime I NAME: the uptime in the last whole "vcvm NAME up S"
# line of host I's serial file; fails when there is none.  A last line
# still being written (the console writes byte by byte) is not whole:
# read fails on it, so the loop ends before it.
vm_guest_uptime()
{
	local f=$AG_DIR/n$1/vm/log/qemu/$2.serial want="vcvm $2 up " line up=

	[[ -r $f ]] || return 1
	while IFS= read -r line; do
		line=${line%$'\r'}
		[[ $line == "$want"* && ${line#"$want"} =~ ^[0-9]+\.[0-9]+$ ]] && up=${line#"$want"}
	done < <(tail -n 5 "$f")
	[[ -n $up ]] && echo "$up"
}

# vm_migrate I J NAME [VIRSH-ARGS...]: live migration of NAME from host I
# to host J, peer to peer: host I's libvirtd talks to host J's over TCP
# and QEMU sends the memory to J's migration_host (both 198.18.0.J).
# Without --persistent the domain is transient on J and stays defined
# (inactive) on I.
vm_migrate()
{
	local i=$1 j=$2 name=$3

	shift 3
	vm_virsh "$i" migrate --live --p2p "$@" "$name" "$(vm_host_tcp_uri "$j")"
}

# ------------------------------------------------------------- host files

# _vm_host_files I: host I's passwd, group and libvirt configuration (the
# machine has no libvirt-daemon-system: no libvirt-qemu user, no qemu.conf).
_vm_host_files()
{
	local i=$1 h=$AG_DIR/n$1 d

	for d in libvirt vm/etc/libvirt vm/run vm/lib vm/cache vm/log/qemu; do
		mkdir -p "$h/$d" || return 1
	done
	cp /etc/passwd "$h/vm/etc/passwd" && cp /etc/group "$h/vm/etc/group" || return 1
	grep -q '^libvirt-qemu:' /etc/passwd ||
		echo 'libvirt-qemu:x:64055:64055:Libvirt Qemu:/var/lib/libvirt:/usr/sbin/nologin' >>"$h/vm/etc/passwd"
	grep -q '^libvirt-qemu:' /etc/group || echo 'libvirt-qemu:x:64055:' >>"$h/vm/etc/group"
	grep -q '^kvm:' /etc/group || echo 'kvm:x:64056:' >>"$h/vm/etc/group"
	# TCP without authentication (auth_tcp = "none") is for these test
	# namespaces only: the address exists solely on the rig's private
	# bridge.  Never configure a real host like this.  vm-host-init.sh
	# starts libvirtd with --listen, without which it ignores listen_tcp.
	cat >"$h/vm/etc/libvirt/libvirtd.conf" <<-EOF
	# host $i of a vcluster VM suite (tests/vm-lib.sh)
	unix_sock_dir = "$h/libvirt"
	host_uuid = "$(printf '6c766972-7400-4000-8000-%012d' "$i")"
	log_outputs = "3:stderr"
	# peer-to-peer migration: test namespaces only, no authentication
	listen_tls = 0
	listen_tcp = 1
	listen_addr = "$(vc_addr "$i" 0)"
	tcp_port = "$VM_LIBVIRTD_PORT"
	auth_tcp = "none"
	EOF
	# migration_host: the address the source's QEMU sends the guest's
	# memory to (the host name, libvirt's default, resolves nowhere here).
	cat >"$h/vm/etc/libvirt/qemu.conf" <<-EOF
	# host $i of a vcluster VM suite (tests/vm-lib.sh)
	user = "root"
	group = "root"
	security_driver = "none"
	cgroup_controllers = [ ]
	namespaces = [ ]
	stdio_handler = "file"
	migration_host = "$(vc_addr "$i" 0)"
	migration_address = "$(vc_addr "$i" 0)"
	EOF
}

# _vm_agent_migration I: host I's agent live-migrates to the others'
# libvirtd over the rig's bridge (they listen there, see _vm_host_files),
# unless the suite set its own migrate-uri.
_vm_agent_migration()
{
	local conf

	conf=$(ag_conf "$1")
	[[ -w $conf ]] || return 0
	grep -q '^migrate-uri' "$conf" && return 0
	sed -i "/^\[agent\]\$/a migrate-uri = qemu+tcp://%a:$VM_LIBVIRTD_PORT/system" "$conf"
}

# _vm_caps_seed I: the kept capability cache into host I's (before its
# libvirtd starts; libvirt itself decides whether it is still valid).
_vm_caps_seed()
{
	local dst=$AG_DIR/n$1/vm/cache/$VM_CAPS_DIR

	compgen -G "$VM_ASSETS/qemu-caps/*.xml" >/dev/null || return 0
	mkdir -p "$dst" && cp -p "$VM_ASSETS"/qemu-caps/*.xml "$dst/"
}

# _vm_caps_keep I: host I's capability cache back into $VM_ASSETS when it
# differs (first run, or libvirt found the kept one stale and probed).
_vm_caps_keep()
{
	local f k src=$AG_DIR/n$1/vm/cache/$VM_CAPS_DIR

	compgen -G "$src/*.xml" >/dev/null || return 0
	mkdir -p "$VM_ASSETS/qemu-caps" || return 1
	for f in "$src"/*.xml; do
		k=$VM_ASSETS/qemu-caps/${f##*/}
		cmp -s "$f" "$k" && continue
		cp -p "$f" "$k.tmp.$$" && mv "$k.tmp.$$" "$k"
	done
}

# ------------------------------------------------------------- processes

# _vm_stime PID: the process's start time (clock ticks since boot), which
# tells a PID's owner from a later process that reuses the number.
_vm_stime()
{
	local s

	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	read -r -a s <<<"$s"
	echo "${s[19]}"
}

# _vm_state PID: the process's state letter (R, S, T, Z, ...).
_vm_state()
{
	local s

	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	echo "${s%% *}"
}

# vm_host_pids I: every process of host I's PID namespace (found by the
# namespace's inode; thread group leaders only).
vm_host_pids()
{
	local ino=${VM_PIDNS[$1]:-}

	[[ -n $ino ]] || return 1
	stat -L -c '%i %n' /proc/[0-9]*/ns/pid 2>/dev/null |
		awk -v ino="$ino" '$1 == ino { split($2, p, "/"); print p[3] }'
}

# _vm_init_alive I: host I's init still runs (checked by its namespace, so
# a reused PID is never taken for it).
_vm_init_alive()
{
	local p=${VM_INIT[$1]:-}

	[[ -n $p && -n ${VM_PIDNS[$1]:-} ]] || return 1
	[[ $(stat -L -c %i "/proc/$p/ns/pid" 2>/dev/null) == "${VM_PIDNS[$1]}" ]]
}

# _vm_unshare_gone I: host I's unshare has exited (it waits for the init,
# whose exit the kernel holds back until the namespace is empty).
_vm_unshare_gone()
{
	local p=${VM_UNSHARE[$1]:-} t

	[[ -n $p ]] || return 0
	t=$(_vm_stime "$p") || return 0
	[[ $t != "${VM_UNSHARE_T[$1]}" || $(_vm_state "$p") == Z ]]
}

_vm_host_gone()
{
	_vm_unshare_gone "$1" && [[ -z $(vm_host_pids "$1") ]]
}

# _vm_find_init I: the child of host I's unshare, once it is in a PID
# namespace other than ours.
_vm_find_init()
{
	local i=$1 p ino

	p=$(pgrep -P "${VM_UNSHARE[i]}") || return 1
	ino=$(stat -L -c %i "/proc/$p/ns/pid") || return 1
	[[ $ino != $(stat -L -c %i /proc/self/ns/pid) ]] || return 1
	VM_INIT[i]=$p
	VM_PIDNS[i]=$ino
}

# vm_host_agent_pid I
vm_host_agent_pid()
{
	_vm_init_alive "$1" || return 1
	pgrep -P "${VM_INIT[$1]}" -x vclusterd
}

# vm_qemu_pid I VM: the QEMU running VM on host I (libvirt names it with
# -name guest=VM,...).
vm_qemu_pid()
{
	local i=$1 vm=$2 p a args

	for p in $(vm_host_pids "$i"); do
		[[ $(cat "/proc/$p/comm" 2>/dev/null) == qemu-system-* ]] || continue
		mapfile -d '' args <"/proc/$p/cmdline" 2>/dev/null || continue
		for a in "${args[@]}"; do
			if [[ $a == "guest=$vm" || $a == "guest=$vm,"* ]]; then
				echo "$p"
				return 0
			fi
		done
	done
	return 1
}

# ------------------------------------------------------------- start, stop

# _vm_host_launch I [--no-agent]: start host I's init in the background.
_vm_host_launch()
{
	local i=$1 h=$AG_DIR/n$1 args

	if [[ -n ${VM_INIT[i]:-} ]]; then
		echo "vm_host_start: host $i is already up" >&2
		return 1
	fi
	[[ -e /run/netns/$VC_NS$i ]] || { echo "vm_host_start: no netns $VC_NS$i (ag_cluster first)" >&2; return 1; }
	args=()
	[[ ${2:-} == --no-agent ]] && args+=(--no-agent)
	args+=("$h")
	# the agent's command even with --no-agent, for vm_agent_start
	if [[ -x $VCD && -r $(ag_conf "$i") ]]; then
		args+=("$VCD" "$(ag_conf "$i")" "$(ag_log "$i")")
	elif [[ ${2:-} != --no-agent ]]; then
		echo "vm_host_start: no $VCD or $(ag_conf "$i")" >&2
		return 1
	fi
	vm_assets && _vm_host_files "$i" || return 1
	_vm_agent_migration "$i"
	# power loss lost the runtime state (QEMU PIDs, sockets)
	rm -rf "${h:?}/vm/run" "$h/libvirt" "$h/vm/ready" &&
		mkdir -p "$h/vm/run" "$h/libvirt" || return 1
	_vm_caps_seed "$i"
	# vm_teardown must run before agent-lib's ag_teardown, whose "wait"
	# would wait for the hosts: be the latest cleanup registered
	[[ ${_at_exit[-1]:-} == "vm_teardown " ]] || at_exit vm_teardown
	ip netns exec "$VC_NS$i" unshare --pid --fork --kill-child --mount --mount-proc \
		bash "$VM_INIT_SH" "${args[@]}" >>"$h/vm/init.log" 2>&1 </dev/null &
	VM_UNSHARE[i]=$!
	VM_UNSHARE_T[i]=$(_vm_stime $!)
	VM_UP_MS[i]=$(date +%s%N)
	if ! wait_for -t 10 _vm_find_init "$i"; then
		echo "vm_host_start: host $i: no init in a new PID namespace" >&2
		_vm_host_kill "$i"
		return 1
	fi
}

# _vm_up I: the init is ready (its agent started, SIGUSR1 handled) and
# libvirtd answers.
_vm_up()
{
	[[ -e $AG_DIR/n$1/vm/ready ]] && vm_virsh "$1" version
}

# _vm_up_or_down I: up, or the init is gone (no use waiting).
_vm_up_or_down()
{
	! _vm_init_alive "$1" || _vm_up "$1"
}

# _vm_host_wait I: until host I's libvirtd answers.
_vm_host_wait()
{
	local i=$1 h=$AG_DIR/n$1

	wait_for -t "$VM_START_TIMEOUT_S" _vm_up_or_down "$i"
	if ! _vm_init_alive "$i" || ! _vm_up "$i" >/dev/null 2>&1; then
		{
			echo "vm_host_start: host $i: libvirtd does not answer"
			tail -n 20 "$h/vm/init.log" "$h/vm/libvirtd.log"
		} >&2
		_vm_host_kill "$i"
		return 1
	fi
	VM_UP_MS[i]=$((($(date +%s%N) - VM_UP_MS[i]) / 1000000))
	_vm_caps_keep "$i"
}

vm_host_start()
{
	_vm_host_launch "$@" && _vm_host_wait "$1"
}

# vm_hosts_start "I J ..." [--no-agent]: all started, then all waited for.
# Without a kept capability cache the first host starts alone: its probe
# fills the cache for the others (side by side, each would probe).
vm_hosts_start()
{
	local i rc=0 hosts

	read -r -a hosts <<<"$1"
	if ! compgen -G "$VM_ASSETS/qemu-caps/*.xml" >/dev/null; then
		vm_host_start "${hosts[0]}" "${2:-}" || return 1
		hosts=("${hosts[@]:1}")
	fi
	for i in "${hosts[@]}"; do
		_vm_host_launch "$i" "${2:-}" || return 1
	done
	for i in "${hosts[@]}"; do
		_vm_host_wait "$i" || rc=1
	done
	return $rc
}

# _vm_host_kill I: SIGKILL of host I's init; waits until every process of
# the host is gone and unshare is reaped.
_vm_host_kill()
{
	local i=$1 rc=0

	[[ -n ${VM_UNSHARE[i]:-} ]] || return 0
	_vm_init_alive "$i" && kill -KILL "${VM_INIT[i]}"
	if ! wait_for -t "$VM_GONE_TIMEOUT_S" _vm_host_gone "$i"; then
		echo "vm-lib: host $i: processes left after ${VM_GONE_TIMEOUT_S} s: $(vm_host_pids "$i" | tr '\n' ' ')" >&2
		rc=1
	fi
	# reap unshare unless agent-lib's teardown did (then it is not ours)
	wait "${VM_UNSHARE[i]}" 2>/dev/null
	VM_INIT[i]='' VM_UNSHARE[i]='' VM_UNSHARE_T[i]='' VM_PIDNS[i]=''
	return $rc
}

# vm_agent_start I: the agent again on host I, which is up and has none
# (its last one exited, e.g. fenced); returns once it runs.
vm_agent_start()
{
	local i=$1

	_vm_init_alive "$i" || { echo "vm_agent_start: host $i is down" >&2; return 1; }
	if vm_host_agent_pid "$i" >/dev/null; then
		echo "vm_agent_start: host $i's agent runs already" >&2
		return 1
	fi
	kill -USR1 "${VM_INIT[i]}" && wait_for -t 10 vm_host_agent_pid "$i"
}

# vm_agent_stop I: SIGTERM to host I's agent (a planned stop; libvirtd and
# the VMs stay); returns once it has exited.
vm_agent_stop()
{
	local a

	a=$(vm_host_agent_pid "$1") || return 0
	kill -TERM "$a" && wait_for -t 30 not vm_host_agent_pid "$1"
}

# vm_host_power_off I: the host loses power: everything of it dies at once.
vm_host_power_off()
{
	_vm_host_kill "$1"
}

# _vm_signal_all I SIG: SIG to every process of host I, again until no new
# one shows up (a process may fork between the scan and its signal).
_vm_signal_all()
{
	local i=$1 sig=$2 p new pass
	local -A sent=()

	for ((pass = 0; pass < 10; pass++)); do
		new=0
		for p in $(vm_host_pids "$i"); do
			[[ -n ${sent[$p]:-} ]] && continue
			kill "-$sig" "$p" 2>/dev/null
			sent[$p]=1
			new=1
		done
		((new)) || return 0
	done
	return 1
}

# _vm_host_all I STATE|notSTATE: every process of host I is (not) in STATE.
_vm_host_all()
{
	local i=$1 want=$2 p s n=0

	for p in $(vm_host_pids "$i"); do
		s=$(_vm_state "$p") || continue
		n=$((n + 1))
		if [[ $want == not* ]]; then
			[[ $s != "${want#not}" ]] || return 1
		else
			[[ $s == "$want" ]] || return 1
		fi
	done
	((n > 0))
}

# vm_host_freeze I: the whole host hangs (SIGSTOP, QEMUs included); returns
# once every process of it is stopped.
vm_host_freeze()
{
	_vm_init_alive "$1" || return 1
	_vm_signal_all "$1" STOP && wait_for -t 5 _vm_host_all "$1" T
}

vm_host_thaw()
{
	_vm_init_alive "$1" || return 1
	_vm_signal_all "$1" CONT && wait_for -t 5 _vm_host_all "$1" notT
}

# vm_teardown: every host down, its logs kept in $VC_LOGDIR (tests/run
# keeps that folder for a failed suite).
vm_teardown()
{
	local i h d rc=0

	for i in "${!VM_UNSHARE[@]}"; do
		[[ -n ${VM_UNSHARE[i]} ]] || continue
		_vm_host_kill "$i" || rc=1
	done
	for h in "$AG_DIR"/n[0-9]*; do
		[[ -d $h/vm ]] || continue
		i=${h##*/n}
		_vm_caps_keep "$i"
		[[ -n ${VC_LOGDIR:-} ]] || continue
		d=$VC_LOGDIR/$(basename "$AG_DIR")-n$i-vm
		mkdir -p "$d" &&
			cp "$h/vm/init.log" "$h/vm/libvirtd.log" "$h"/vm/log/qemu/* "$d/" 2>/dev/null
	done
	return $rc
}
