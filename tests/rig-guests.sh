#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vc-suite: host
# vc-timeout: 400
#
# The multi-guest rig: three guests on one bridge (198.18.1.1-3, the host
# at 198.18.1.254 on the bridge) ping each other; guest 3 loses power and
# the others see it gone; a paused guest and a cut link stop answering and
# come back.  The host drives the scenario; the guests run this same script
# ("guest" role) and report through files in $VC_SHARED.

set -euo pipefail
. "$(dirname "$0")/lib.sh"

guest_role() {
	local me=$VC_GUEST p
	for p in 1 2 3; do
		[[ $p == "$me" ]] && continue
		wait_for -t 120 ping -c1 -W1 "198.18.1.$p" && signal "g$me-sees-$p"
		wait_for -t 30 ping -6 -c1 -W1 "fd00:1::$p" && signal "g$me-sees6-$p"
	done
	wait_signal -t 300 killed-3
	if [[ $me != 3 ]]; then
		wait_for -t 30 not ping -c1 -W1 198.18.1.3 && signal "g$me-lost-3"
		p=$((3 - me))
		ping -c1 -W2 "198.18.1.$p" >/dev/null && signal "g$me-still-$p"
	fi
	wait_signal -t 300 done
}

if [[ ${VC_IN_GUEST:-} == 1 ]]; then
	guest_role
	exit 0
fi

[[ $(id -u) == 0 ]] || skip_all "needs root (netns, taps)"
plan 10

vm_net_create 3
for i in 1 2 3; do
	vm_start "$i" "$0" guest
done

all_see() {
	local a b
	for a in 1 2 3; do
		for b in 1 2 3; do
			[[ $a == "$b" ]] && continue
			test -e "$VC_SHARED/g$a-sees-$b" || return 1
			test -e "$VC_SHARED/g$a-sees6-$b" || return 1
		done
	done
}
t0=$(date +%s)
check "3 guests ping each other (IPv4 and IPv6)" wait_for -t 240 all_see
diag "guests meshed after $(($(date +%s) - t0)) s"
check "host reaches every guest over the bridge" \
	eval 'for i in 1 2 3; do vm_ns ping -c1 -W2 198.18.1.$i || exit 1; done'

vm_kill 3
rc=0
vm_wait 3 || rc=$?
check "killed guest 3 ends without a result (vmrun 125)" test "$rc" = 125
signal killed-3
check "guest 1 sees guest 3 gone" wait_signal -t 60 g1-lost-3
check "guest 2 sees guest 3 gone" wait_signal -t 60 g2-lost-3
check "guests 1 and 2 still reach each other" \
	eval 'wait_signal -t 10 g1-still-2 && wait_signal -t 10 g2-still-1'

vm_pause 2
check "paused guest 2 stops answering" wait_for -t 10 not vm_ns ping -c1 -W1 198.18.1.2
vm_resume 2
vm_cut 2 in
check "cut link: frames to guest 2 dropped, then healed" \
	eval 'wait_for -t 10 not vm_ns ping -c1 -W1 198.18.1.2 &&
	      vm_heal 2 && wait_for -t 30 vm_ns ping -c1 -W1 198.18.1.2'

signal done
rc1=0 rc2=0
vm_wait 1 || rc1=$?
vm_wait 2 || rc2=$?
check "guests 1 and 2 exit 0" test "$rc1$rc2" = 00
check "guest kernel logs clean" "$VMRUN" check-dmesg \
	"$VC_LOGDIR"/g{1,2}/console.log "$VC_LOGDIR"/g{1,2}/dmesg
finish
