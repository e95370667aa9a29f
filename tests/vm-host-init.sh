#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/vm-host-init.sh - PID 1 of one simulated hypervisor host
# (tests/vm-lib.sh starts it in the host's netns, in a new PID and mount
# namespace, through unshare --pid --fork --mount --mount-proc):
#
#	vm-host-init.sh [--no-agent] HOSTDIR [VCD CONF LOG]
#
# HOSTDIR is $AG_DIR/nI; vm-lib.sh has written HOSTDIR/vm/etc/ (passwd,
# group and libvirt/ with libvirtd.conf and qemu.conf) before.  This script
#
#   1. gives the host its own files: a tmpfs on /run (runtime state is lost
#      at power loss, as on a real machine) and HOSTDIR/vm/{etc/libvirt,run,
#      lib,cache,log} bound on /etc/libvirt, /run/libvirt, /var/lib/libvirt,
#      /var/cache/libvirt and /var/log/libvirt; a folder the machine lacks
#      is made in a private overlay of its top folder, so the machine's own
#      tree is never written;
#   2. starts libvirtd (foreground, its output in HOSTDIR/vm/libvirtd.log;
#      also listening on TCP at the host's address, for migration) and
#      waits for its socket in HOSTDIR/libvirt/ (the unix_sock_dir),
#      which it links to /run/libvirt/libvirt-sock: qemu:///system (the
#      agent's LIBVIRT_DEFAULT_URI) reaches it from inside;
#   3. with VCD CONF LOG, starts the agent: VCD -c CONF >>LOG (unless
#      --no-agent), and again on each SIGUSR1 when none runs (a fenced
#      agent's end is not the host's: libvirtd stays up);
#   4. waits for its children for ever.  As PID 1 it inherits every orphan
#      of the namespace (libvirt daemonizes QEMU) and bash's wait reaps
#      them all.
#
# SIGKILL of this process ends the namespace: libvirtd, agent, fencer and
# QEMUs die together, which is how the tests cut a host's power.  Exit 1
# (the host goes down) when a mount fails or libvirtd does not come up.

set -u

AT_BOOT=1
if [[ ${1:-} == --no-agent ]]; then
	AT_BOOT=0
	shift
fi
H=${1:?usage: vm-host-init.sh [--no-agent] HOSTDIR [VCD CONF LOG]}
VCD=${2:-}
CONF=${3:-}
LOG=${4:-}
SOCK=$H/libvirt/libvirt-sock
LIBVIRTD_TIMEOUT_S=30
AGENT=

say() { echo "vm-host-init[$H]: $*" >&2; }
die() { say "$*"; exit 1; }

# The overlays made so far, by top folder (each is mounted once: a second
# overlay would hide the bind mounts made under the first).
declare -A OVL=()

# make_point DIR: DIR exists afterwards; when the machine lacks it, it is
# made in a private overlay of its top folder (/var, /etc, ...).
make_point()
{
	local dir=$1 top d

	[[ -d $dir ]] && return 0
	top=${dir#/}
	top=/${top%%/*}
	if [[ -z ${OVL[$top]:-} ]]; then
		d=$H/vm/ovl${top//\//-}
		mkdir -p "$d/up" "$d/work" || return 1
		mount -t overlay "vmhost${top//\//-}" \
			-o "lowerdir=$top,upperdir=$d/up,workdir=$d/work" "$top" || return 1
		OVL[$top]=1
	fi
	mkdir -p "$dir"
}

# setup_mounts: this host's private folders (the mount namespace is ours:
# unshare made its propagation private, nothing leaks to the machine).
setup_mounts()
{
	local pair dirs=(
		"/etc/libvirt:$H/vm/etc/libvirt"
		"/var/lib/libvirt:$H/vm/lib"
		"/var/cache/libvirt:$H/vm/cache"
		"/var/log/libvirt:$H/vm/log"
	)

	mount -t tmpfs -o mode=755 vmhost-run /run || return 1
	mkdir -p /run/lock /run/libvirt || return 1
	# first every mount point (an overlay mounted later would hide binds)
	for pair in "${dirs[@]}"; do
		make_point "${pair%%:*}" || return 1
	done
	dirs+=("/run/libvirt:$H/vm/run")
	for pair in "${dirs[@]}"; do
		mount --bind "${pair#*:}" "${pair%%:*}" || return 1
	done
	mount --bind "$H/vm/etc/passwd" /etc/passwd &&
		mount --bind "$H/vm/etc/group" /etc/group
}

# wait_socket PID: until libvirtd (PID) has made its socket; fails when it
# exits first or after LIBVIRTD_TIMEOUT_S.
wait_socket()
{
	local pid=$1 end=$((SECONDS + LIBVIRTD_TIMEOUT_S))

	until [[ -S $SOCK ]]; do
		kill -0 "$pid" 2>/dev/null || return 1
		((SECONDS < end)) || return 1
		sleep 0.05
	done
}

# start_agent: the agent, unless it runs already (SIGUSR1 asks for it).
start_agent()
{
	[[ -n $VCD ]] || { say "no agent configured"; return 0; }
	if [[ -n $AGENT && $(cat "/proc/$AGENT/comm" 2>/dev/null) == vclusterd ]]; then
		say "agent already running (pid $AGENT)"
		return 0
	fi
	"$VCD" -c "$CONF" >>"$LOG" 2>&1 </dev/null &
	AGENT=$!
	say "agent started (pid $AGENT)"
}

(($$ == 1)) || die "must be PID 1 of a new PID namespace"
setup_mounts || die "cannot set up the host's mounts"

# Niced, and the QEMUs it starts with it: tiny VMs booting under TCG eat
# whole CPUs, and on this shared machine they must not starve the cluster
# stack, as a real host's VMs do not (vclusterd.service runs at Nice=-10).
# --listen: also on TCP as libvirtd.conf says (the host's address only; for
# peer-to-peer migration between the simulated hosts).
nice -n 10 libvirtd --listen --pid-file /run/libvirtd.pid >>"$H/vm/libvirtd.log" 2>&1 </dev/null &
wait_socket $! || die "libvirtd did not come up in ${LIBVIRTD_TIMEOUT_S} s (see $H/vm/libvirtd.log)"
say "libvirtd up (pid $!)"
# the default socket path too, so that qemu:///system works in here
ln -s "$SOCK" /run/libvirt/libvirt-sock
export LIBVIRT_DEFAULT_URI=qemu:///system

((AT_BOOT)) && start_agent
trap start_agent USR1
# vm-lib.sh's start waits for this (and for libvirtd to answer)
: >"$H/vm/ready"

# PID 1 lives until it is killed; the sleep only keeps wait blocking (a
# trapped signal ends a wait: loop, but keep one sleep).
sleep infinity &
idle=$!
while :; do
	wait
	kill -0 "$idle" 2>/dev/null || { sleep infinity & idle=$!; }
done
