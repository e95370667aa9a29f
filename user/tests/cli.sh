#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Command-line checks that need no kernel module: exit codes, --help on
# every subcommand, usage errors, "module not loaded", load --check, and
# vcl-inject's crafted datagrams.  TAP output; exit 1 on any failure.
#
# usage: tests/cli.sh PATH/TO/vclusterctl PATH/TO/vcl-inject

CTL=${1:?usage: $0 vclusterctl vcl-inject}
INJ=${2:?usage: $0 vclusterctl vcl-inject}
TMP=$(mktemp -d) || exit 1
trap 'rm -rf "$TMP"' EXIT

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; sed 's/^/# /' "$TMP/out" "$TMP/err"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

# expect RC DESCRIPTION CMD...: run CMD, check its exit code
expect() {
	want=$1 desc=$2
	shift 2
	"$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	if [ "$rc" -eq "$want" ]; then ok "$desc"; else echo "# exit $rc, wanted $want" >>"$TMP/err"; not_ok "$desc"; fi
}

# expect_err TEXT DESCRIPTION: the last command's stderr is exactly TEXT
expect_err() {
	if [ "$(cat "$TMP/err")" = "$1" ]; then ok "$2"; else echo "# wanted: $1" >>"$TMP/err"; not_ok "$2"; fi
}

echo "1..30"

expect 0 "--version" "$CTL" --version
expect 2 "no arguments is a usage error" "$CTL"
expect 0 "--help" "$CTL" --help
for c in "node show" "node set" start stop "peer add" "peer set" "peer del" \
	 "peer list" "peer show" monitor load; do
	# shellcheck disable=SC2086
	"$CTL" $c --help >"$TMP/out" 2>"$TMP/err"
	if [ $? -eq 0 ] && grep -q "^usage: vclusterctl $c " "$TMP/out"; then
		ok "$c --help"
	else
		not_ok "$c --help"
	fi
done
expect 2 "unknown command" "$CTL" frobnicate
expect 2 "help for an unknown command" "$CTL" help frobnicate
expect 2 "node set with a bad value" "$CTL" node set misses 1
expect_err "vclusterctl: node set: misses: '1' is out of range (valid: 2..1000) (see 'vclusterctl node set --help')" \
	"node set names the key and the valid range"
expect 2 "peer add with a bad link id" "$CTL" peer add 2 link 9 198.18.0.2

"$CTL" node show >"$TMP/out" 2>"$TMP/err"
rc=$?
if [ $rc -eq 3 ]; then
	expect_err "vclusterctl: node show: vcluster module not loaded (generic netlink family 'vcluster' not found)" \
		"node show without the module says so (exit 3)"
else
	skip "node show without the module says so (exit 3)" "the vcluster family exists here (exit $rc)"
fi

cat >"$TMP/good.conf" <<'CONF'
[node]
cluster-id = 7
node-id = 1
link0 = 198.18.0.1
link1 = fd00::1

[peer 2]
votes = 1
link0 = 198.18.0.2
link1 = [fd00::2]:5421
CONF
printf '[node]\nnode-id = 1\n\n[peer 2]\nlink0 = 198.18.0.2\nlnk1 = fd00::2\n' >"$TMP/bad.conf"
expect 0 "load --check of a good file" "$CTL" load "$TMP/good.conf" --check
expect 2 "load --check of a bad file" "$CTL" load "$TMP/bad.conf" --check
expect_err "vclusterctl: load: $TMP/bad.conf:6: unknown key 'lnk1' in [peer 2] (valid: votes, link0..link7)" \
	"load names file, line, key and what is valid"
expect 2 "load of a missing file" "$CTL" load "$TMP/missing.conf"

# vcl-inject: every kind is crafted and self-checked by the decoder
IDS="--cluster-id 7 --node-id 2 --dest-node-id 1"
all=1
for k in valid truncated bad-magic bad-version bad-hdr-len bad-type bad-auth \
	 bad-length too-many-members oversize-payload foreign unknown-node bad-dest bad-link replay; do
	# shellcheck disable=SC2086
	"$INJ" $IDS --print "$k" >"$TMP/out" 2>"$TMP/err" || { all=0; echo "# $k failed"; }
done
[ $all -eq 1 ] && ok "vcl-inject crafts every kind" || not_ok "vcl-inject crafts every kind"
# shellcheck disable=SC2086
len=$("$INJ" $IDS --member 1:up:5 --payload 0102 --print valid | tr -d '\n' | wc -c)
[ "$len" -eq $(( (88 + 16 + 2) * 2 )) ] && ok "valid datagram has 88 + 16 + 2 bytes" || not_ok "valid datagram has 88 + 16 + 2 bytes ($len hex digits)"
# shellcheck disable=SC2086
expect 1 "vcl-inject refuses a truncation that is not shorter" "$INJ" $IDS --print --length 88 truncated
# shellcheck disable=SC2086
expect 2 "vcl-inject without ids is a usage error" "$INJ" --print valid

PY=/usr/bin/python3
if [ -x "$PY" ]; then
	"$PY" - "$TMP/port" >"$TMP/recv" 2>&1 <<'PYEOF' &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.settimeout(10)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
a = s.recv(4096); b = s.recv(4096); c = s.recv(4096)
print(len(a), len(b), len(c), a == c, a != b)
PYEOF
	pid=$!
	i=0
	while [ ! -f "$TMP/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	# shellcheck disable=SC2086
	expect 0 "vcl-inject replay sends over UDP" "$INJ" $IDS --to "127.0.0.1:$(cat "$TMP/port" 2>/dev/null)" --count 2 replay
	wait $pid
	[ "$(cat "$TMP/recv")" = "88 88 88 True True" ] && ok "replay repeats the first datagram" || { cp "$TMP/recv" "$TMP/out"; not_ok "replay repeats the first datagram"; }
else
	skip "vcl-inject replay sends over UDP" "no /usr/bin/python3"
	skip "replay repeats the first datagram" "no /usr/bin/python3"
fi

[ "$n" -eq 30 ] || { echo "# ran $n checks, planned 30"; failed=$((failed + 1)); }
[ $failed -eq 0 ] || { echo "# $failed failed"; exit 1; }
exit 0
