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
PY=/usr/bin/python3
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

echo "1..114"

expect 0 "--version" "$CTL" --version
expect 2 "no arguments is a usage error" "$CTL"
expect 0 "--help" "$CTL" --help
for c in "node show" "node set" start stop "peer add" "peer set" "peer del" \
	 "peer list" "peer show" monitor load "fence arm" "fence pet" "fence disarm" \
	 "fence show" "proc add" "proc del" "proc list" "key set" "key del" "key list" \
	 status "node list" "node standby" "node unstandby" "node maintenance" \
	 "node confirm-fenced" "cluster bootstrap" "cluster join" "cluster leave" watch history \
	 "resource add" "resource update" "resource enable" "resource disable" \
	 "resource maintenance" "resource move" "resource clear" "resource cleanup" \
	 "cluster maintenance" "cluster set"; do
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

# issue 4: the agent's subcommands without an agent
NOSOCK="$TMP/none.sock"
expect 3 "status without an agent (exit 3)" env VCLUSTER_SOCKET="$NOSOCK" "$CTL" status
expect_err "vclusterctl: status: cannot reach the agent at $NOSOCK: No such file or directory (is vclusterd running? -s PATH or \$VCLUSTER_SOCKET choose another socket)" \
	"status without an agent names the socket"
expect 3 "-s chooses the socket" "$CTL" -s "$NOSOCK" watch --count 1
expect_err "vclusterctl: watch: cannot reach the agent at $NOSOCK: No such file or directory (is vclusterd running? -s PATH or \$VCLUSTER_SOCKET choose another socket)" \
	"watch without an agent names the socket given with -s"
expect 3 "--socket=PATH after the command" "$CTL" node list --socket="$NOSOCK"
expect 2 "-s without a path" "$CTL" status -s
expect 2 "node standby without a node id" "$CTL" -s "$NOSOCK" node standby
expect_err "vclusterctl: node standby: missing NODEID (see 'vclusterctl node standby --help')" \
	"node standby says what is missing"
expect 2 "node maintenance with a bad switch" "$CTL" -s "$NOSOCK" node maintenance 2 maybe
expect 2 "watch with a bad count" "$CTL" -s "$NOSOCK" watch --count 0
expect 2 "cluster join with a bad role" "$CTL" -s "$NOSOCK" cluster join king
expect 2 "history with an unknown option" "$CTL" -s "$NOSOCK" history --frob

# issue 6: the policy commands' usage errors come before any connection
# (a parsed command would exit 3: there is no agent at $NOSOCK)
expect 2 "resource update without a name" "$CTL" -s "$NOSOCK" resource update
expect_err "vclusterctl: resource update: missing NAME (see 'vclusterctl resource update --help')" \
	"resource update says what is missing"
expect 2 "resource update with nothing to change" "$CTL" -s "$NOSOCK" resource update web
expect 2 "resource update with a bad duration" "$CTL" -s "$NOSOCK" resource update web --failure-timeout 5x
expect_err "vclusterctl: resource update: --failure-timeout: '5x' is not a duration (valid: a whole number with ms, s, min or h, or without a unit for seconds, e.g. 500ms, 20s, 2min) (see 'vclusterctl resource update --help')" \
	"a bad duration names the option and the valid forms"
expect 2 "resource update with a duration too long" "$CTL" -s "$NOSOCK" resource update web --failure-timeout 9000h
expect_err "vclusterctl: resource update: --failure-timeout: '9000h' is out of range (valid: 0 to 8784 h) (see 'vclusterctl resource update --help')" \
	"a duration too long names the range"
expect 2 "resource update with a bad --prefer" "$CTL" -s "$NOSOCK" resource update web --prefer 2=0
expect_err "vclusterctl: resource update: --prefer: '2=0' is not NODE[=SCORE] (valid: a node id 1..4294967295 and a score 1..1000000, default 100; e.g. 2 or 2=50) (see 'vclusterctl resource update --help')" \
	"a bad --prefer names the valid node ids and scores"
expect 2 "--ban and --no-ban together" "$CTL" -s "$NOSOCK" resource update web --ban 3 --no-ban
expect_err "vclusterctl: resource update: --ban and --no-ban contradict each other (see 'vclusterctl resource update --help')" \
	"--ban and --no-ban contradict each other"
expect 2 "resource add without a name" "$CTL" -s "$NOSOCK" resource add --ocf ocf:heartbeat:Dummy
expect_err "vclusterctl: resource add: missing NAME (see 'vclusterctl resource add --help')" \
	"resource add says the name is missing"
expect 2 "resource add with a bad --op duration" "$CTL" -s "$NOSOCK" resource add d --ocf ocf:heartbeat:Dummy --op start-timeout=20x
expect_err "vclusterctl: resource add: --op start-timeout: '20x' is not a duration (valid: a whole number with ms, s, min or h, or without a unit for seconds, e.g. 500ms, 20s, 2min) (see 'vclusterctl resource add --help')" \
	"a bad --op duration names the operation"
expect 2 "resource add --param for a VM" "$CTL" -s "$NOSOCK" resource add web --domain web --param a=b
expect 2 "resource add with a malformed agent" "$CTL" -s "$NOSOCK" resource add d --ocf heartbeat:Dummy
expect 2 "resource move without a node" "$CTL" -s "$NOSOCK" resource move web
expect 2 "resource cleanup with a bad --node" "$CTL" -s "$NOSOCK" resource cleanup web --node 0
expect 2 "cluster set with an unknown shutdown policy" "$CTL" -s "$NOSOCK" cluster set shutdown-policy hibernate
expect_err "vclusterctl: cluster set: 'hibernate' is not a shutdown policy (valid: migrate, stop, freeze) (see 'vclusterctl cluster set --help')" \
	"cluster set names the valid shutdown policies"
expect 2 "cluster set migrate-max 0" "$CTL" -s "$NOSOCK" cluster set migrate-max 0
expect 2 "cluster maintenance with a bad switch" "$CTL" -s "$NOSOCK" cluster maintenance maybe
expect 3 "a good resource update reaches for the agent (exit 3)" "$CTL" -s "$NOSOCK" resource update web --prefer 2 --no-ban --failure-timeout 2min
expect 3 "a good cluster set reaches for the agent (exit 3)" "$CTL" -s "$NOSOCK" cluster set shutdown-policy freeze migrate-max 2
if [ -x "$PY" ]; then
	"$PY" -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$TMP/stale.sock"
	expect 3 "a socket nobody listens on (exit 3)" "$CTL" -s "$TMP/stale.sock" status --json
	if grep -q "Connection refused (is vclusterd running?" "$TMP/err"; then
		ok "a stale socket is reported as refused"
	else
		not_ok "a stale socket is reported as refused"
	fi
else
	skip "a socket nobody listens on (exit 3)" "no $PY"
	skip "a stale socket is reported as refused" "no $PY"
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

# issue 3: keys, [fence], fence/proc/key argument errors (no module needed)
head -c32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$TMP/good.key"
printf 'abc\n' >"$TMP/short.key"
printf '[node]\nexpected-votes = 3\nkey-file = good.key\ninsecure = no\n[fence]\naction = log\nquorum-timeout-ms = 200\n' >"$TMP/keyed.conf"
expect 0 "load --check reads a relative key-file" "$CTL" load "$TMP/keyed.conf" --check
printf '[node]\nnode-id = 1\nkey-file = short.key\n' >"$TMP/shortkey.conf"
expect 2 "load --check of a bad key file" "$CTL" load "$TMP/shortkey.conf" --check
expect_err "vclusterctl: load: $TMP/shortkey.conf:3: key 'key-file' in [node]: $TMP/short.key: has 3 hex digits, not 64 (valid: 64 hex digits and an optional newline, e.g. from 'head -c32 /dev/urandom | od -An -tx1 | tr -d \" \\n\"')" \
	"key file errors name the config line, the key file and the format"
expect 2 "load --arm without [fence]" "$CTL" load "$TMP/good.conf" --arm
expect 2 "key set with a bad key file" "$CTL" key set 1 "$TMP/short.key"
expect 2 "key set with a bad id" "$CTL" key set 256 "$TMP/good.key"
expect_err "vclusterctl: key set: '256' is not a key id (valid: 1..255) (see 'vclusterctl key set --help')" \
	"key set names the valid ids"
expect 2 "fence arm with a bad action" "$CTL" fence arm explode
expect_err "vclusterctl: fence arm: 'explode' is not a fence action (valid: log, kill, panic, reboot) (see 'vclusterctl fence arm --help')" \
	"fence arm names the valid actions"
expect 2 "fence pet --for without --every" "$CTL" fence pet --for 1
expect 2 "proc add with a bad pid" "$CTL" proc add 0

# vcl-inject: every kind is crafted and self-checked by the decoder
IDS="--cluster-id 7 --node-id 2 --dest-node-id 1"
all=1
for k in valid truncated bad-magic bad-version bad-hdr-len bad-type bad-auth \
	 bad-length too-many-members oversize-payload foreign unknown-node bad-dest bad-link replay; do
	# shellcheck disable=SC2086
	"$INJ" $IDS --print "$k" >"$TMP/out" 2>"$TMP/err" || { all=0; echo "# $k failed"; }
done
[ $all -eq 1 ] && ok "vcl-inject crafts every kind" || not_ok "vcl-inject crafts every kind"
all=1
for k in valid truncated bad-magic bad-version bad-hdr-len bad-type bad-auth \
	 bad-length too-many-members oversize-payload foreign unknown-node bad-dest bad-link replay \
	 bad-mac wrong-key unknown-key no-mac; do
	# shellcheck disable=SC2086
	"$INJ" $IDS --key-file "$TMP/good.key" --key-id 3 --print "$k" >"$TMP/out" 2>"$TMP/err" || { all=0; echo "# $k failed"; }
done
[ $all -eq 1 ] && ok "vcl-inject crafts every kind signed" || not_ok "vcl-inject crafts every kind signed"
# shellcheck disable=SC2086
expect 2 "vcl-inject bad-mac needs a key" "$INJ" $IDS --print bad-mac
if [ -x /usr/bin/python3 ]; then
	# shellcheck disable=SC2086
	"$INJ" $IDS --key-file "$TMP/good.key" --key-id 3 --member 1:up:5 --print valid >"$TMP/out" 2>"$TMP/err"
	/usr/bin/python3 - "$TMP/out" "$TMP/good.key" <<'PYEOF' >>"$TMP/err" 2>&1
import hashlib, sys
d = bytes.fromhex(open(sys.argv[1]).read().strip())
k = bytes.fromhex(open(sys.argv[2]).read().strip())
ok = len(d) == 88 + 16 + 32 and d[7] == 1 and d[81] == 3 and \
     hashlib.blake2s(d[:-32], key=k).digest() == d[-32:]
sys.exit(0 if ok else 1)
PYEOF
	[ $? -eq 0 ] && ok "signed datagram verifies with Python's hashlib.blake2s" || not_ok "signed datagram verifies with Python's hashlib.blake2s"
else
	skip "signed datagram verifies with Python's hashlib.blake2s" "no /usr/bin/python3"
fi
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

[ "$n" -eq 114 ] || { echo "# ran $n checks, planned 114"; failed=$((failed + 1)); }
[ $failed -eq 0 ] || { echo "# $failed failed"; exit 1; }
exit 0
