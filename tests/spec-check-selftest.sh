#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/spec-check-selftest.sh - host unit test of tools/spec-check (TAP).
#
# tools/spec-check is only worth something if it fails when the spec and
# the header drift apart.  Each case below breaks a copy of the spec (or of
# the header) in one way and expects spec-check to exit 1 and to name the
# problem; the pristine files must pass.  Every tweak is verified to have
# changed the copy, so a tweak that no longer applies fails instead of
# passing vacuously.
#
# Runs on the host in about ten seconds; needs /usr/bin/python3 with
# python3-yaml and gcc.  With the ynl tree in $VC_CACHE (tools/fetch-kernels)
# the schema and ynl-gen-c paths are exercised too, otherwise the cases
# that need them are skipped.

set -u

REPO=${REPO:-$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)}
CHECK=$REPO/tools/spec-check
SPEC=$REPO/Documentation/netlink/specs/vcluster.yaml
HDR=$REPO/include/uapi/linux/vcluster.h

TMP=$(mktemp -d /tmp/spec-check-selftest.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1)); failed=$((failed + 1))
	echo "not ok $n - $1"
	[[ -n ${2:-} ]] && sed 's/^/# /' <<<"$2"
	return 0
}
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

[[ -x $CHECK ]] || { echo "1..0 # SKIP no tools/spec-check"; exit 4; }
/usr/bin/python3 -c 'import yaml' 2>/dev/null ||
	{ echo "1..0 # SKIP /usr/bin/python3 has no yaml module (apt-get install python3-yaml)"; exit 4; }
command -v gcc >/dev/null || { echo "1..0 # SKIP no gcc"; exit 4; }

HAVE_YNL=0
for d in "${VC_CACHE:-/var/cache/vcluster}/src/6.12" "${VC_CACHE:-/var/cache/vcluster}/src-6.12"; do
	[[ -f $d/tools/net/ynl/ynl-gen-c.py ]] && HAVE_YNL=1
done

# tweak FILE OLD NEW: replace the one occurrence of OLD (\n = newline).
tweak() {
	/usr/bin/python3 - "$@" <<'EOF'
import sys
path, old, new = sys.argv[1], sys.argv[2].replace('\\n', '\n'), sys.argv[3].replace('\\n', '\n')
s = open(path).read()
if s.count(old) != 1:
    sys.exit(f"tweak: {old!r} occurs {s.count(old)} times in {path}")
open(path, 'w').write(s.replace(old, new))
EOF
}

# case NAME EXPECT-REGEX WHAT OLD NEW [spec-check options]: WHAT is spec
# or header; the tweaked copy must make spec-check exit 1 with a message
# matching EXPECT-REGEX.
case_fails() {
	local name=$1 expect=$2 what=$3 old=$4 new=$5 out rc=0 spec=$TMP/spec.yaml hdr=$TMP/vcluster.h
	shift 5
	cp "$SPEC" "$spec"
	cp "$HDR" "$hdr"
	if [[ $what == spec ]]; then
		out=$(tweak "$spec" "$old" "$new" 2>&1) || { not_ok "$name" "$out"; return; }
	else
		out=$(tweak "$hdr" "$old" "$new" 2>&1) || { not_ok "$name" "$out"; return; }
	fi
	out=$("$CHECK" --spec "$spec" --header "$hdr" "$@" 2>&1) || rc=$?
	if ((rc != 1)); then
		not_ok "$name" "spec-check exited $rc, expected 1:
$out"
	elif ! grep -qE -- "$expect" <<<"$out"; then
		not_ok "$name" "spec-check failed without naming the problem (wanted /$expect/):
$out"
	else
		ok "$name"
	fi
}

echo "TAP version 13"
echo "1..27"

# --- the real files agree ----------------------------------------------------
t0=$(date +%s%N)
out=$("$CHECK" 2>&1) && ok "pristine spec and header agree" ||
	not_ok "pristine spec and header agree" "$out"
ms=$((($(date +%s%N) - t0) / 1000000))
if ((ms < 2000)); then ok "spec-check runs in under 2 s (${ms} ms)"; else
	not_ok "spec-check runs in under 2 s" "took ${ms} ms"; fi
out=$("$CHECK" --no-ynl 2>&1) && grep -q 'structure only' <<<"$out" &&
	ok "pristine files agree without ynl (and says so)" ||
	not_ok "pristine files agree without ynl (and says so)" "$out"

# --- spec drifts from the header ---------------------------------------------
case_fails "renamed attribute" 'VC_A_LINK_RTT_MS is not in the header' spec \
	'name: rtt-us' 'name: rtt-ms'
case_fails "inserted attribute shifts values" 'the spec says VC_A_NODE_CLUSTER_ID = 3' spec \
	'        name: cluster-id\n' '        name: extra\n        type: u32\n      -\n        name: cluster-id\n'
case_fails "enum entry dropped" 'VC_PEER_STATE_SUSPECT .* does not appear in the spec' spec \
	'      -\n        name: suspect\n        doc: Missed at least one interval.\n' ''
case_fails "operation dropped" 'VC_CMD_PEER_DEL .* does not appear in the spec' spec \
	'      name: peer-del\n' '      name: peer-gone\n'
case_fails "explicit value changed" 'the spec says VC_A_EVENT_UNSPEC = 1' spec \
	'        name: unspec\n        type: unused\n        value: 0\n      -\n        name: pad\n        type: pad\n      -\n        name: type\n' \
	'        name: unspec\n        type: unused\n        value: 1\n      -\n        name: pad\n        type: pad\n      -\n        name: type\n' --no-ynl
case_fails "u64 attribute declared u32" "type u32, the header says u64" spec \
	'        name: lost\n        type: u64' '        name: lost\n        type: u32'
case_fails "be32 address declared host order" "type u32, the header says be32" spec \
	'        byte-order: big-endian\n' ''
case_fails "repeated nest without multi-attr" 'multi-attr False' spec \
	'        nested-attributes: link\n        multi-attr: true\n        doc: |\n          Local links' \
	'        nested-attributes: link\n        doc: |\n          Local links'
case_fails "attribute bound to the wrong enum" 'the header says enum vc_peer_state' spec \
	'        enum: peer-state\n' '        enum: link-state\n'
case_fails "changing command without admin permission" 'peer-del. changes state but lacks' spec \
	'      doc: Remove a peer (a joining, up or suspect peer goes DOWN first, reason removed).\n      attribute-set: peer\n      flags: [ uns-admin-perm ]\n' \
	'      doc: Remove a peer (a joining, up or suspect peer goes DOWN first, reason removed).\n      attribute-set: peer\n'
case_fails "multicast group renamed" 'VC_GENL_MCGRP_EVENTS is "events" in the header' spec \
	'    -\n      name: events\n      c-define-name' '    -\n      name: event\n      c-define-name'
case_fails "family version changed" 'the spec says VC_GENL_VERSION = 2' spec \
	'version: 1' 'version: 2'
case_fails "constant changed" 'the spec says VC_MAX_PEERS = 32' spec \
	'    value: 64\n    header: linux/vcluster.h\n    doc: Peers' '    value: 32\n    header: linux/vcluster.h\n    doc: Peers'
case_fails "dangling attribute reference in an operation" "attribute 'cluster-idx' is not in attribute set 'node'" spec \
	'      do:\n        request:\n          attributes:\n            - cluster-id\n' \
	'      do:\n        request:\n          attributes:\n            - cluster-idx\n'

# --- header drifts from the spec ---------------------------------------------
case_fails "header gains an attribute" 'VC_A_PEER_FOO .* does not appear in the spec' header \
	'	VC_A_PEER_PAYLOAD,		/* binary, its latest payload */\n' \
	'	VC_A_PEER_PAYLOAD,		/* binary, its latest payload */\n	VC_A_PEER_FOO,			/* u32 */\n'
case_fails "header gains an enum" 'enum vc_fence_mood has no counterpart in the spec' header \
	'enum vc_link_attrs {' 'enum vc_fence_mood {\n	VC_FENCE_MOOD_CALM,\n};\n\nenum vc_link_attrs {'
case_fails "header gains a constant" '#define VC_PROC_MAX_COUNT does not appear in the spec' header \
	'#define VC_KEY_LEN		32\n' '#define VC_KEY_LEN		32\n#define VC_PROC_MAX_COUNT	1024\n'
case_fails "spec loses a constant" '#define VC_KEY_LEN does not appear in the spec' spec \
	'    name: vc-key-len\n' '    name: vc-key-length\n'
case_fails "wire auth enum value dropped" 'VC_WIRE_AUTH_BLAKE2S .* does not appear in the spec' spec \
	'      -\n        name: blake2s\n' '      -\n        name: blake2b\n'
case_fails "nest bound to a set that does not exist" "nested-attributes 'key-inf' is not an attribute set" spec \
	'        nested-attributes: key-info\n' '        nested-attributes: key-inf\n'

# --- protocol.rst's wire layout tables ---------------------------------------
proto_fails() {	# proto_fails NAME EXPECT SED-EXPR
	local out rc=0
	sed "$3" "$REPO/Documentation/protocol.rst" >"$TMP/protocol.rst"
	if cmp -s "$TMP/protocol.rst" "$REPO/Documentation/protocol.rst"; then
		not_ok "$1" "sed '$3' changed nothing in protocol.rst"
		return
	fi
	out=$("$CHECK" --protocol "$TMP/protocol.rst" 2>&1) || rc=$?
	if ((rc == 1)) && grep -qE -- "$2" <<<"$out"; then ok "$1"; else
		not_ok "$1" "exit $rc, wanted /$2/:
$out"; fi
}
proto_fails "protocol.rst: wrong field size" 'field incarnation: the doc says size 4' \
	's/^32      8     incarnation/32      4     incarnation/'
proto_fails "protocol.rst: wrong member offset" 'field state: the doc says offset 5' \
	's/^4       1     state  /5       1     state  /'
proto_fails "protocol.rst: key_id row missing" 'field reserved: offset 81, but the previous row ends at 81|field reserved: the doc says offset 81' \
	'/^81      1     key_id/d; s/^82      6     reserved/81      6     reserved/'

# --- schema (needs the ynl tree) ---------------------------------------------
if ((HAVE_YNL)); then
	case_fails "spec violates the genetlink-legacy schema" "schema genetlink-legacy.yaml: .*'colour'" spec \
		'version: 1\n' 'version: 1\ncolour: blue\n'
else
	skip "spec violates the genetlink-legacy schema" "no ynl tree in \$VC_CACHE (run tools/fetch-kernels)"
fi

((failed == 0)) && exit 0
exit 1
