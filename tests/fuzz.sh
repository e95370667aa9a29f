#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vc-suite: guest
# vc-timeout: 300
#
# Netlink fuzzing of the "vcluster" generic netlink family, for a bounded
# time (VC_FUZZ_SECS, default 60: two thirds as root, one third as an
# unprivileged user).  A Python (stdlib only) fuzzer resolves the family
# with CTRL_CMD_GETFAMILY on a raw NETLINK_GENERIC socket and sends, one
# at a time, requests for every command id 0..VC_CMD_MAX+2 with and
# without NLM_F_DUMP: attribute sets built from the per-command policies
# with values at and around their boundaries, random attribute types
# 0..40 with random lengths 0..300 and payloads, well-formed and
# malformed nests, lying attribute lengths, truncated messages, bad
# genetlink headers (reserved byte, flags, a header cut short) and
# datagrams whose netlink framing is broken.  It is seeded: the seed is
# printed, VC_FUZZ_SEED=N replays the same request sequence.
#
# Safety.  The fuzzer runs in a network namespace that has NO address at
# all (loopback stays down, ip_nonlocal_bind is 0).  START opens one UDP
# socket bound to each local link's address; with no local address that
# bind fails (EADDRNOTAVAIL), so no START can succeed, and FENCE_ARM,
# which needs a running instance, can never arm a watchdog: however the
# fuzzer combines NODE_SET, KEY_SET and FENCE_ARM, nothing in this guest
# can be reset, panicked or killed by it.
#   One catch, found by the check below: in a namespace that has never
# had an IPv4 address the "local" routing table does not exist yet, and
# inet_addr_type() then answers RTN_BROADCAST for every address, which
# inet_bind() accepts -- so "no address" alone lets an IPv4 START succeed.
# The namespace therefore gets one route and nothing else: "unreachable
# default" in table local.  The table exists, no address is local, every
# IPv4 bind fails.  (IPv6 has no such quirk: ipv6_chk_addr() finds none.)
#   The suite checks the assumption before fuzzing (START with a complete
# valid configuration, keyed and insecure, for 198.18.0.1, 127.0.0.1,
# fd00::1 and ::1, must fail; FENCE_ARM must be refused), and the fuzzer
# stops at once should a START or FENCE_ARM ever be acknowledged.
#
# What is checked (per phase): every request got its reply (an ack or an
# error; ill-framed datagrams, which netlink_rcv_skb() drops silently,
# none), counted by errno; EINVAL/ERANGE replies carry an extack message.
# That is required for 100% of requests with a complete genetlink header:
# the policy code in lib/nlattr.c sets a message on every EINVAL/ERANGE
# path, genetlink's header checks do too (reserved byte, flags), and the
# module explains every rejection (issue 2's rule).  The one core path
# without a message is genl_family_rcv_msg()'s "nlmsg_len shorter than
# the genetlink header" -EINVAL: those are counted and reported apart.
# As the unprivileged user (setpriv --reuid 65534, no capabilities) every
# command that changes state must be refused with EPERM (or rejected by
# genetlink's header checks, which come before the permission check) and
# the instance must be left exactly as it was.  Afterwards the module
# still works: a keyed two-node cluster comes UP in fresh namespaces, and
# rmmod succeeds.  The rig checks the kernel log for WARN/BUG/oops.

set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vc.sh"

require_module

FUZZ_SECS=${VC_FUZZ_SECS:-60}
SEED=${VC_FUZZ_SEED:-$(( $(od -An -N4 -tu4 /dev/urandom) % 2147483647 ))}
PY=/usr/bin/python3
FZ=vcfuzz$$
WORK=$(mktemp -d /tmp/vcfuzz.XXXXXX)
chmod 755 "$WORK"	# the unprivileged phase reads fuzz.py from here
at_exit rm -rf "$WORK"
at_exit vc_teardown
at_exit ip netns del "$FZ"

[[ -x $PY ]] || skip_all "needs $PY"

plan 11

# ------------------------------------------------------------ the fuzzer
cat >"$WORK/fuzz.py" <<'PYEOF'
#!/usr/bin/python3
# vcluster generic netlink fuzzer (stdlib only).  Modes:
#   fuzz HEADER SECS SEED PHASE   -> JSON statistics on stdout
#   snapshot HEADER               -> hex digest of NODE_GET + PEER_GET dump
import errno
import hashlib
import json
import os
import random
import re
import socket
import struct
import sys
import time

NETLINK_GENERIC = 16
NLM_F_REQUEST, NLM_F_MULTI, NLM_F_ACK, NLM_F_ECHO = 0x1, 0x2, 0x4, 0x8
NLM_F_DUMP = 0x300
NLM_F_CAPPED, NLM_F_ACK_TLVS = 0x100, 0x200
NLMSG_ERROR, NLMSG_DONE = 2, 3
SOL_NETLINK, NETLINK_CAP_ACK, NETLINK_EXT_ACK = 270, 10, 11
NLMSGERR_ATTR_MSG, NLMSGERR_ATTR_MISS_TYPE = 1, 5
GENL_ID_CTRL, CTRL_CMD_GETFAMILY = 0x10, 3
CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME = 1, 2
NLA_F_NESTED, NLA_F_NET_BYTEORDER = 0x8000, 0x4000
REPLY_TIMEOUT = 5.0


def parse_enums(path):
    """Every enumerator of the uapi header, by name."""
    text = open(path).read()
    text = re.sub(r'/\*.*?\*/', '', text, flags=re.S)
    vals = {}
    for body in re.findall(r'enum\s+\w+\s*\{(.*?)\}', text, flags=re.S):
        n = 0
        for item in body.split(','):
            item = item.strip()
            if not item:
                continue
            if '=' in item:
                name, expr = [x.strip() for x in item.split('=', 1)]
                n = int(expr, 0)
            else:
                name = item
            vals[name] = n
            n += 1
    for name, val in re.findall(r'#define\s+(VC_\w+)\s+(\d+)\b', text):
        vals.setdefault(name, int(val))
    return vals


def align4(n):
    return (n + 3) & ~3


def nla(atype, payload=b'', flags=0):
    hdr = struct.pack('=HH', 4 + len(payload), atype | flags)
    return hdr + payload + b'\0' * (align4(len(payload)) - len(payload))


def parse_attrs(buf):
    out = []
    off = 0
    while off + 4 <= len(buf):
        ln, t = struct.unpack_from('=HH', buf, off)
        if ln < 4 or off + ln > len(buf):
            break
        out.append((t & 0x3fff, buf[off + 4:off + ln]))
        off += align4(ln)
    return out


class NL:
    def __init__(self):
        s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
        s.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        s.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        except OSError:
            pass
        s.bind((0, 0))
        s.settimeout(REPLY_TIMEOUT)
        self.s = s
        self.seq = random.randrange(1, 1 << 30)
        self.stale = 0

    def next_seq(self):
        self.seq = (self.seq + 1) & 0xffffffff or 1
        return self.seq

    @staticmethod
    def msg(mtype, flags, seq, cmd, attrs=b'', version=1, reserved=0):
        body = struct.pack('=BBH', cmd, version, reserved) + attrs
        return struct.pack('=IHHII', 16 + len(body), mtype, flags, seq, 0) + body

    def send(self, data):
        self.s.sendto(data, (0, 0))

    def wait(self, seq):
        """Messages until the one ending request @seq: (errno, extack
        message or None, miss-type present, data messages), or None on
        timeout.  Replies to older requests are counted and dropped."""
        data_msgs = []
        deadline = time.monotonic() + REPLY_TIMEOUT
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.s.settimeout(left)
            try:
                buf = self.s.recv(1 << 20)
            except socket.timeout:
                return None
            off = 0
            while off + 16 <= len(buf):
                ln, mtype, flags, mseq, _ = struct.unpack_from('=IHHII', buf, off)
                if ln < 16:
                    break
                m = buf[off:off + ln]
                off += align4(ln)
                if mseq != seq:
                    self.stale += 1
                    continue
                if mtype == NLMSG_ERROR or mtype == NLMSG_DONE:
                    err = 0
                    if len(m) >= 20:
                        err = -struct.unpack_from('=i', m, 16)[0]
                    text = None
                    miss = False
                    if mtype == NLMSG_ERROR and flags & NLM_F_ACK_TLVS:
                        if flags & NLM_F_CAPPED:
                            toff = 20 + 16
                        else:
                            olen = struct.unpack_from('=I', m, 20)[0]
                            toff = 20 + align4(olen)
                        for t, v in parse_attrs(m[toff:]):
                            if t == NLMSGERR_ATTR_MSG:
                                text = v.rstrip(b'\0').decode(errors='replace')
                            elif t == NLMSGERR_ATTR_MISS_TYPE:
                                miss = True
                    elif mtype == NLMSG_DONE and flags & NLM_F_ACK_TLVS:
                        for t, v in parse_attrs(m[20:]):
                            if t == NLMSGERR_ATTR_MSG:
                                text = v.rstrip(b'\0').decode(errors='replace')
                    return (err, text, miss, data_msgs)
                data_msgs.append(m)

    def request(self, mtype, flags, cmd, attrs=b''):
        seq = self.next_seq()
        self.send(self.msg(mtype, flags, seq, cmd, attrs))
        return self.wait(seq)

    def family(self, name):
        r = self.request(GENL_ID_CTRL, NLM_F_REQUEST | NLM_F_ACK,
                         CTRL_CMD_GETFAMILY,
                         nla(CTRL_ATTR_FAMILY_NAME, name.encode() + b'\0'))
        if not r or r[0]:
            raise SystemExit('family %s not found: %s' %
                             (name, r and os.strerror(r[0])))
        for m in r[3]:
            for t, v in parse_attrs(m[20:]):
                if t == CTRL_ATTR_FAMILY_ID:
                    return struct.unpack('=H', v[:2])[0]
        raise SystemExit('no family id in the reply')


def own_start_time():
    stat = open('/proc/self/stat').read()
    return int(stat[stat.rindex(')') + 2:].split()[19])


class Gen:
    """Request generator: (cmd, flags, datagram builder inputs)."""

    U8, U16, U32, U64, BE32, BIN, IP6, NEST = range(8)
    WIDTH = {U8: 1, U16: 2, U32: 4, U64: 8, BE32: 4}

    def __init__(self, E, rng):
        self.E = E
        self.r = rng
        self.cmd_max = E['__VC_CMD_MAX'] - 1
        self.pid = os.getpid()
        self.start = own_start_time()
        e = E
        L = lambda n: e['VC_A_LINK_' + n]
        N = lambda n: e['VC_A_NODE_' + n]
        P = lambda n: e['VC_A_PEER_' + n]
        U32MAX, U64MAX = 0xffffffff, 0xffffffffffffffff
        addr4 = [0xc6120001, 0, 0x7f000001, 0xe0000001, 0xffffffff,
                 0x0a000001, 0xc61200ff]
        addr6 = [bytes.fromhex('fd00' + '00' * 13 + '01'), b'\0' * 16,
                 b'\0' * 15 + b'\1',
                 bytes.fromhex('fe80' + '00' * 13 + '01'),
                 bytes.fromhex('ff02' + '00' * 13 + '01'),
                 b'\0' * 10 + b'\xff\xff' + bytes([198, 18, 0, 1])]
        local_link = {
            L('ID'): (self.U32, [0, 1, 7, 8, 9, U32MAX]),
            L('ADDR4'): (self.BE32, addr4),
            L('ADDR6'): (self.IP6, addr6),
            L('PORT'): (self.U16, [0, 1, 5420, 65535]),
            L('STATE'): (self.U32, [0, 1, 2, 3]),
            L('RTT_US'): (self.U32, [0, 1]),
            L('BAD_MAC'): (self.U64, [0, 1]),
        }
        peer_link = dict(local_link)
        self.node_set = {
            N('CLUSTER_ID'): (self.U32, [0, 1, 7, U32MAX]),
            N('NODE_ID'): (self.U32, [0, 1, 2, 3, U32MAX]),
            N('VOTES'): (self.U32, [0, 1, 2, U32MAX]),
            N('PORT'): (self.U16, [0, 1, 5420, 65535]),
            N('INCARNATION'): (self.U64, [0, 1, 2, 1 << 63, U64MAX]),
            N('INTERVAL_MS'): (self.U32, [0, 1, 2, 59999, 60000, 60001]),
            N('MISSES'): (self.U32, [0, 1, 2, 3, 1000, 1001]),
            N('PAYLOAD'): (self.BIN, [0, 1, 63, 64, 65, 300]),
            N('LINK'): (self.NEST, local_link),
            N('EXPECTED_VOTES'): (self.U32, [0, 1, 2, 3, 4, 5, U32MAX]),
            N('FENCE_MARGIN_MS'): (self.U32, [0, 100, 60000, 60001]),
            N('INSECURE'): (self.U32, [0, 1, 2]),
            # read only: refused by the policy
            N('DEAD_MS'): (self.U32, [0, 30]),
            N('STATE'): (self.U32, [1, 2]),
            N('SEQ'): (self.U64, [0, 1]),
            N('QUORATE'): (self.U32, [0, 1]),
            N('FENCED'): (self.U32, [0, 1]),
            N('AUTH'): (self.U32, [0, 1]),
            N('RX_BAD_MAC'): (self.U64, [0]),
            N('KEY'): (self.NEST, {e['VC_A_KEY_ID']: (self.U32, [1])}),
        }
        fence = {
            N('FENCE_ACTION'): (self.U32, [0, 1, 2, 3, 4, 5, U32MAX]),
            N('AGENT_TIMEOUT_MS'): (self.U32, [0, 1, 9, 10, 11, 1000,
                                               600000, 600001, U32MAX]),
            N('QUORUM_TIMEOUT_MS'): (self.U32, [0, 1, 9, 10, 600000,
                                                600001]),
            N('KILL_BOUND_MS'): (self.U32, [0, 9, 10, 60000, 60001]),
            N('PRETIMEOUT_MS'): (self.U32, [0, 5, 9, 10, 999, 1000,
                                            600000, 600001]),
            N('NOWAYOUT'): (self.U32, [0, 1, 2]),
            N('FENCE_ARMED'): (self.U32, [1]),
        }
        peer = {
            P('NODE_ID'): (self.U32, [0, 1, 2, 3, 64, 65, U32MAX]),
            P('VOTES'): (self.U32, [0, 1, U32MAX]),
            P('LINK'): (self.NEST, peer_link),
            P('STATE'): (self.U32, [1, 3]),
            P('FENCED_BY_NS'): (self.U64, [0]),
        }
        peer_id = {P('NODE_ID'): peer[P('NODE_ID')]}
        proc = {
            e['VC_A_PROC_PID']: (self.U32, [0, 1, self.pid, self.pid + 1,
                                            (1 << 31) - 1, U32MAX]),
            e['VC_A_PROC_START_TIME']: (self.U64, [self.start, self.start,
                                                   0, self.start + 1,
                                                   U64MAX]),
        }
        key = {
            e['VC_A_KEY_ID']: (self.U32, [0, 1, 2, 3, 255, 256, U32MAX]),
            e['VC_A_KEY_VALUE']: (self.BIN, [0, 31, 32, 32, 33, 64]),
            e['VC_A_KEY_PRIMARY']: (self.U32, [0, 1, 2]),
        }
        C = lambda n: e['VC_CMD_' + n]
        inc = {N('INCARNATION'): self.node_set[N('INCARNATION')]}
        self.schema = {
            C('NODE_GET'): {}, C('NODE_SET'): self.node_set,
            C('START'): inc, C('STOP'): {},
            C('PEER_ADD'): peer, C('PEER_SET'): peer,
            C('PEER_DEL'): peer_id, C('PEER_GET'): peer_id,
            C('EVENT'): {}, C('FENCE_ARM'): fence, C('FENCE_PET'): {},
            C('FENCE_DISARM'): {}, C('PROC_ADD'): proc,
            C('PROC_DEL'): proc, C('PROC_GET'): proc,
            C('KEY_SET'): key, C('KEY_DEL'): key,
        }

    # -- values
    def value(self, kind, choices):
        r = self.r
        if kind == self.BIN:
            n = r.choice(choices) if r.random() < 0.8 else r.randint(0, 300)
            return r.randbytes(n)
        if kind == self.IP6:
            v = r.choice(choices)
            if r.random() < 0.15:
                v = v[:r.choice([0, 4, 15])] + (b'\0' * r.choice([0, 1]))
            return v
        if kind == self.NEST:
            body = self.nest_body(choices)
            if self.r.random() < 0.15:
                body = self.corrupt(body)       # a malformed nest
            return body
        width = self.WIDTH[kind]
        if r.random() < 0.75:
            v = r.choice(choices)
        else:
            v = r.getrandbits(width * 8)
        if r.random() < 0.1:            # a near miss: off by one
            v += r.choice([-1, 1])
        if r.random() < 0.12:           # the wrong width
            width = r.choice([0, 1, 2, 3, 4, 5, 8, 12])
        v &= (1 << (width * 8)) - 1 if width else 0
        if kind == self.BE32 and width == 4:
            return struct.pack('>I', v)
        return v.to_bytes(width, 'little')

    def nest_body(self, policy):
        r = self.r
        out = b''
        for _ in range(r.choice([0, 1, 2, 2, 3, 4])):
            if policy and r.random() < 0.85:
                t = r.choice(list(policy))
                kind, choices = policy[t]
                out += nla(t, self.value(kind, choices),
                           NLA_F_NESTED if kind == self.NEST else 0)
            else:
                out += self.random_attr(depth=1)
        return out

    def random_attr(self, depth=0):
        r = self.r
        t = r.randint(0, 40)
        flags = 0
        if r.random() < 0.1:
            flags |= NLA_F_NET_BYTEORDER
        if depth < 12 and r.random() < 0.15:
            # a nest of random attributes, flagged or not
            body = b''.join(self.random_attr(depth + 1)
                            for _ in range(r.randint(0, 3)))
            if r.random() < 0.8:
                flags |= NLA_F_NESTED
            return nla(t, body[:65000], flags)
        if r.random() < 0.1:
            flags |= NLA_F_NESTED
        n = r.choice([0, 1, 2, 3, 4, 8, 16, 17, r.randint(0, 300)])
        return nla(t, r.randbytes(n), flags)

    def schema_attrs(self, cmd):
        r = self.r
        pol = self.schema.get(cmd) or self.node_set
        out = b''
        for _ in range(r.choice([0, 1, 1, 2, 3, 4, 6])):
            if r.random() < 0.9:
                t = r.choice(list(pol))
                kind, choices = pol[t]
                flags = 0
                if kind == self.NEST:
                    if r.random() < 0.9:
                        flags = NLA_F_NESTED
                elif r.random() < 0.04:
                    flags = NLA_F_NESTED
                out += nla(t, self.value(kind, choices), flags)
            else:
                out += self.random_attr()
        return out

    def random_attrs(self):
        return b''.join(self.random_attr()
                        for _ in range(self.r.randint(0, 8)))

    # -- corruption of a well-framed message's attributes
    def corrupt(self, attrs):
        r = self.r
        how = r.randrange(4)
        if how == 0 and len(attrs) >= 4:
            # lie in one attribute's length field
            offs = [0]
            off = 0
            while off + 4 <= len(attrs):
                ln = struct.unpack_from('=H', attrs, off)[0]
                if ln < 4:
                    break
                off += align4(ln)
                if off + 4 <= len(attrs):
                    offs.append(off)
            o = r.choice(offs)
            bad = r.choice([0, 1, 2, 3, 5, 0xffff, len(attrs) - o + 4,
                            r.randint(0, 400)])
            return attrs[:o] + struct.pack('=H', bad & 0xffff) + attrs[o + 2:]
        if how == 1 and attrs:
            return attrs[:r.randrange(len(attrs))]      # truncated
        if how == 2:
            return attrs + r.randbytes(r.randint(1, 3))  # trailing bytes
        return r.randbytes(r.randint(1, 64))              # garbage

    def request(self, forced=None):
        """Returns (cmd, flags, datagram parts) as a dict."""
        r = self.r
        if forced:
            cmd, dump = forced
            mode = 'schema' if r.random() < 0.5 else 'random'
        else:
            mode = r.choices(['schema', 'random', 'malformed', 'header',
                              'frame'], [40, 25, 20, 10, 5])[0]
            if mode == 'schema' and r.random() < 0.9:
                cmd = r.choice(list(self.schema))
            else:
                cmd = r.randint(0, self.cmd_max + 2)
            dump = r.random() < 0.3
        flags = NLM_F_REQUEST | NLM_F_ACK | (NLM_F_DUMP if dump else 0)
        req = {'mode': mode, 'cmd': cmd, 'flags': flags, 'version': 1,
               'reserved': 0, 'attrs': b'', 'hdrlen': None, 'trailer': b'',
               'framing': 'ok'}
        if mode in ('schema', 'header'):
            req['attrs'] = self.schema_attrs(cmd)
        elif mode == 'random':
            req['attrs'] = self.random_attrs()
        elif mode == 'malformed':
            base = (self.schema_attrs(cmd) if r.random() < 0.6
                    else self.random_attrs())
            req['attrs'] = self.corrupt(base)
            if r.random() < 0.1:
                # junk after the message, shorter than a netlink header:
                # netlink_rcv_skb() ignores it
                req['trailer'] = r.randbytes(r.randint(1, 15))
        elif mode == 'frame':
            how = r.randrange(3)
            if how == 0:
                req['framing'] = 'short-datagram'       # < 16 bytes
            elif how == 1:
                req['framing'] = 'nlmsg_len-bad'        # < 16 or > datagram
            else:
                req['hdrlen'] = r.randint(0, 3)         # genl header cut
        if mode == 'header':
            how = r.randrange(4)
            if how == 0:
                req['reserved'] = r.randint(1, 0xffff)
            elif how == 1:
                req['version'] = r.randint(0, 255)
            elif how == 2:
                req['flags'] |= r.choice([0x10, 0x20, 0x100, 0x200, 0x400,
                                          0x800, 0x1000, NLM_F_ECHO])
            else:
                req['flags'] &= ~NLM_F_REQUEST          # ack only
        return req


def build(req, seq, family):
    body = struct.pack('=BBH', req['cmd'], req['version'], req['reserved'])
    if req['hdrlen'] is not None:
        body = body[:req['hdrlen']]
    else:
        body += req['attrs']
    ln = 16 + len(body)
    return struct.pack('=IHHII', ln, family, req['flags'], seq, 0) + body


def fuzz(header, secs, seed, phase):
    E = parse_enums(header)
    rng = random.Random(seed)
    random.seed(seed)
    nl = NL()
    fam = nl.family('vcluster')
    gen = Gen(E, rng)
    C = {E[k]: k[7:] for k in E if k.startswith('VC_CMD_') and
         not k.startswith('VC_CMD_MAX')}
    changes = {E['VC_CMD_' + n] for n in (
        'NODE_SET', 'START', 'STOP', 'PEER_ADD', 'PEER_SET', 'PEER_DEL',
        'FENCE_ARM', 'FENCE_PET', 'FENCE_DISARM', 'PROC_ADD', 'PROC_DEL',
        'KEY_SET', 'KEY_DEL')}
    never_ok = {E['VC_CMD_START'], E['VC_CMD_FENCE_ARM']}
    ncmd = gen.cmd_max + 3
    forced = [(c, d) for c in range(ncmd) for d in (False, True)]

    st = {'seed': seed, 'phase': phase, 'family': fam, 'requests': 0,
          'errno': {}, 'per_cmd': {}, 'no_reply': 0, 'no_reply_ex': [],
          'ill_framed': 0, 'ill_framed_replied': 0, 'stale': 0,
          'inval_full': 0, 'inval_full_msg': 0, 'inval_nomsg_ex': [],
          'inval_short_hdr': 0, 'inval_short_hdr_msg': 0,
          'miss_only': 0, 'uid': os.geteuid(),
          'cap_eff': [l.split()[1] for l in open('/proc/self/status')
                      if l.startswith('CapEff')][0],
          'change_clean': 0, 'change_clean_eperm': 0, 'perm_bad': 0,
          'perm_bad_ex': [], 'acked_start_or_arm': 0, 'extack_msgs': {}}

    def bump(d, k):
        d[k] = d.get(k, 0) + 1

    end = time.monotonic() + secs
    i = 0
    while time.monotonic() < end or i < len(forced):
        req = gen.request(forced[i] if i < len(forced) else None)
        i += 1
        seq = nl.next_seq()
        data = build(req, seq, fam)
        st['requests'] += 1
        cmdname = C.get(req['cmd'], str(req['cmd']))
        kind = 'dump' if (req['flags'] & NLM_F_DUMP) == NLM_F_DUMP else 'do'
        bump(st['per_cmd'], '%s/%s' % (cmdname, kind))

        if req['framing'] != 'ok':
            # Broken framing: no reply.  A sentinel request behind it
            # proves the socket is answered again and nothing came back.
            if req['framing'] == 'short-datagram':
                # (0 bytes: netlink_sendmsg() refuses, ENODATA)
                data = rng.randbytes(rng.randint(1, 15))
            else:
                ln = rng.choice([0, 1, 15, len(data) + 1, len(data) + 100,
                                 0xffffffff])
                data = struct.pack('=I', ln) + data[4:]
            st['ill_framed'] += 1
            nl.send(data)
            stale0 = nl.stale
            r = nl.request(fam, NLM_F_REQUEST | NLM_F_ACK,
                           E['VC_CMD_NODE_GET'])
            if r is None:
                st['no_reply'] += 1
            if nl.stale != stale0:
                st['ill_framed_replied'] += 1
            continue

        nl.send(data + req['trailer'])
        r = nl.wait(seq)
        if r is None:
            st['no_reply'] += 1
            if len(st['no_reply_ex']) < 5:
                st['no_reply_ex'].append('%s flags %#x attrs %s' % (
                    cmdname, req['flags'], req['attrs'][:48].hex()))
            continue
        err, text, miss, _ = r
        name = ('OK' if not err else 'EOPNOTSUPP' if err == errno.EOPNOTSUPP
                else errno.errorcode.get(err, str(err)))
        bump(st['errno'], name)
        if text:
            bump(st['extack_msgs'], text[:80])

        if err == 0 and req['cmd'] in never_ok and \
           req['flags'] & NLM_F_REQUEST:
            # The safety assumption failed: stop touching the instance.
            st['acked_start_or_arm'] += 1
            print('FUZZ ABORT: %s was acknowledged' % cmdname,
                  file=sys.stderr)
            break

        if err in (errno.EINVAL, errno.ERANGE):
            if req['hdrlen'] is not None:
                st['inval_short_hdr'] += 1
                st['inval_short_hdr_msg'] += bool(text)
            else:
                st['inval_full'] += 1
                if text:
                    st['inval_full_msg'] += 1
                else:
                    st['miss_only'] += miss
                    if len(st['inval_nomsg_ex']) < 10:
                        st['inval_nomsg_ex'].append(
                            '%s/%s %s flags %#x ver %d res %d attrs %s' % (
                                cmdname, kind, name, req['flags'],
                                req['version'], req['reserved'],
                                req['attrs'][:64].hex()))

        if phase == 'unpriv' and req['cmd'] in changes and \
           req['hdrlen'] is None and req['flags'] & NLM_F_REQUEST:
            # genl_header_check(): reserved byte 0, and besides both
            # DUMP bits only REQUEST, ACK and ECHO
            f = req['flags']
            if f & NLM_F_DUMP == NLM_F_DUMP:
                f &= ~NLM_F_DUMP
            clean = (req['reserved'] == 0 and
                     f & ~(NLM_F_REQUEST | NLM_F_ACK | NLM_F_ECHO) == 0)
            if clean and kind == 'do':
                st['change_clean'] += 1
                st['change_clean_eperm'] += err == errno.EPERM
            # Allowed: EPERM; EOPNOTSUPP (6.12 looks up do/dump before
            # the permission check); EINVAL from the header checks.
            good = (err == errno.EPERM or
                    (kind == 'dump' and err == errno.EOPNOTSUPP) or
                    (not clean and err == errno.EINVAL))
            if not good:
                st['perm_bad'] += 1
                if len(st['perm_bad_ex']) < 10:
                    st['perm_bad_ex'].append('%s/%s -> %s %s' % (
                        cmdname, kind, name, text or ''))
    st['stale'] = nl.stale
    # the most frequent extack messages only
    top = sorted(st['extack_msgs'].items(), key=lambda kv: -kv[1])[:25]
    st['extack_msgs'] = dict(top)
    json.dump(st, sys.stdout, indent=1, sort_keys=True)
    print()


def snapshot(header):
    """Digest of what NODE_GET and a PEER_GET dump report."""
    E = parse_enums(header)
    nl = NL()
    fam = nl.family('vcluster')
    h = hashlib.sha256()
    for cmd, flags in ((E['VC_CMD_NODE_GET'], NLM_F_REQUEST | NLM_F_ACK),
                       (E['VC_CMD_PEER_GET'], NLM_F_REQUEST | NLM_F_DUMP)):
        r = nl.request(fam, flags, cmd)
        if r is None or r[0]:
            raise SystemExit('snapshot: request failed: %r' % (r,))
        for m in r[3]:
            h.update(m[20:])
    print(h.hexdigest())


if __name__ == '__main__':
    if sys.argv[1] == 'fuzz':
        fuzz(sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    elif sys.argv[1] == 'snapshot':
        snapshot(sys.argv[2])
    else:
        raise SystemExit('usage: fuzz.py fuzz|snapshot ...')
PYEOF

HEADER=$REPO/include/uapi/linux/vcluster.h

fz() { ip netns exec "$FZ" "$@"; }
fz_ctl() { ip netns exec "$FZ" "$VCTL" "$@"; }

# jq_get FILE EXPR
jq_get() { jq -r "$2" "$1"; }

# report FILE: the statistics of one phase as diagnostics.
report() {
	local f=$1
	diag "phase $(jq_get "$f" .phase): $(jq_get "$f" .requests) requests, seed $(jq_get "$f" .seed), euid $(jq_get "$f" .uid) CapEff $(jq_get "$f" .cap_eff)"
	diag "  replies by errno: $(jq -c .errno "$f")"
	diag "  per command: $(jq -c .per_cmd "$f")"
	diag "  ill-framed datagrams $(jq_get "$f" .ill_framed) (replied to: $(jq_get "$f" .ill_framed_replied)), no reply $(jq_get "$f" .no_reply), stale replies $(jq_get "$f" .stale)"
	diag "  EINVAL/ERANGE with a complete genetlink header: $(jq_get "$f" .inval_full_msg) of $(jq_get "$f" .inval_full) carry an extack message"
	diag "  EINVAL for a genetlink header cut short (core, no message expected): $(jq_get "$f" .inval_short_hdr) ($(jq_get "$f" .inval_short_hdr_msg) with a message)"
}

load_module || bail_out "cannot load $VC_MODULE"

# --------------------------------------------- 1. the safety assumption
ip netns add "$FZ" || bail_out "cannot create netns $FZ"
ip -n "$FZ" route add unreachable default table local ||
	bail_out "cannot create the local routing table in $FZ"
head -c32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$WORK/key"

netns_bare() {
	local a
	a=$(ip -n "$FZ" -o addr show)
	[[ -z $a ]] || { echo "addresses: $a"; return 1; }
	ip -n "$FZ" -o link show lo | grep -q 'state DOWN' ||
		{ echo "lo is not down"; return 1; }
	a=$(ip -n "$FZ" route show table all type local)
	[[ -z $a ]] || { echo "local routes: $a"; return 1; }
	ip -n "$FZ" route show table local | grep -q '^unreachable default' ||
		{ echo "no local table"; return 1; }
	[[ $(fz sysctl -n net.ipv4.ip_nonlocal_bind) == 0 ]] ||
		{ echo "ip_nonlocal_bind set"; return 1; }
	if [[ -e /proc/sys/net/ipv6/ip_nonlocal_bind ]]; then
		[[ $(fz sysctl -n net.ipv6.ip_nonlocal_bind) == 0 ]] ||
			{ echo "ipv6 ip_nonlocal_bind set"; return 1; }
	fi
}
check "fuzz netns $FZ: no address, no local route, loopback down, no nonlocal bind" netns_bare

# start_refused ADDR: a complete, valid configuration on ADDR cannot start.
start_refused() {
	local addr=$1 out rc=0

	fz_ctl node set cluster-id 7 node-id 1 interval-ms 10 misses 3 \
		link 0 "$addr" || return 1
	out=$(fz_ctl start 2>&1) && { echo "START succeeded on $addr"; fz_ctl stop; return 1; }
	echo "$addr: $out"
	grep -qi 'cannot bind' <<<"$out" || return 1
	out=$(fz_ctl fence arm reboot agent-timeout-ms 10 2>&1) &&
		{ echo "FENCE_ARM succeeded"; return 1; }
	grep -qi 'not running' <<<"$out" || { echo "$out"; return 1; }
	[[ $(fz_ctl node show --json | jq -r .state) == stopped ]] || return 1
	[[ $(fz_ctl node show --json | jq -r .fence_armed) == false ]]
}
safety() {
	# insecure first, then with a key (both ways a START is otherwise valid)
	fz_ctl node set link 0 198.18.0.1 insecure 1 || return 1
	fz_ctl peer add 2 link 0 198.18.0.2 || return 1
	start_refused 198.18.0.1 || return 1
	start_refused 127.0.0.1 || return 1
	fz_ctl key set 1 "$WORK/key" primary || return 1
	fz_ctl node set insecure 0 || return 1
	start_refused 198.18.0.1 || return 1
	fz_ctl peer del 2 || return 1
	fz_ctl node set link 0 fd00::1 || return 1
	fz_ctl peer add 2 link 0 fd00::2 || return 1
	start_refused fd00::1 || return 1
	start_refused ::1 || return 1
	fz_ctl peer del 2
}
safety_out=$(safety 2>&1)
if [[ $? == 0 ]]; then
	ok "START with a valid config (keyed or insecure, v4/v6, loopback addresses) fails there; FENCE_ARM refused"
	diag "$safety_out"
else
	not_ok "START with a valid config (keyed or insecure, v4/v6, loopback addresses) fails there; FENCE_ARM refused" "$safety_out"
	bail_out "the fuzz netns would let START succeed: not fuzzing"
fi

# ------------------------------------------------------ 2. fuzz as root
ROOT_SECS=$((FUZZ_SECS * 2 / 3))
USER_SECS=$((FUZZ_SECS - ROOT_SECS))
diag "fuzz seed $SEED (VC_FUZZ_SEED=$SEED reproduces), $FUZZ_SECS s"

rc=0
fz "$PY" "$WORK/fuzz.py" fuzz "$HEADER" "$ROOT_SECS" "$SEED" root \
	>"$WORK/root.json" 2>"$WORK/root.err" || rc=$?
R=$WORK/root.json
if ((rc == 0)) && [[ -s $R ]] && (($(jq_get "$R" .requests) > 0)) &&
   (($(jq_get "$R" .acked_start_or_arm) == 0)); then
	ok "root: $(jq_get "$R" .requests) requests in ${ROOT_SECS} s, the kernel and the guest survived"
	report "$R"
else
	not_ok "root: fuzzer ran without a kernel crash" "exit $rc: $(cat "$WORK/root.err")"
	bail_out "the root fuzzer failed"
fi

all_answered() {
	local f=$1
	(($(jq_get "$f" .no_reply) == 0)) && (($(jq_get "$f" .ill_framed_replied) == 0))
}
if all_answered "$R"; then
	ok "root: every request got its ack or error, no hang; ill-framed datagrams none ($(jq_get "$R" .ill_framed))"
else
	not_ok "root: every request got its ack or error" "$(jq -c '{no_reply, no_reply_ex, ill_framed_replied}' "$R")"
fi

extack_all() {
	local f=$1
	jq -e .inval_full "$f" >/dev/null 2>&1 || return 1
	[[ $(jq_get "$f" .inval_full) == "$(jq_get "$f" .inval_full_msg)" ]]
}
if extack_all "$R"; then
	ok "root: every EINVAL/ERANGE ($(jq_get "$R" .inval_full)) carries an extack message"
else
	not_ok "root: every EINVAL/ERANGE carries an extack message" \
		"$(jq_get "$R" .inval_full_msg) of $(jq_get "$R" .inval_full); without: $(jq -r '.inval_nomsg_ex[]' "$R")"
fi
diag "most frequent extack messages: $(jq -c .extack_msgs "$R")"

covered() {
	local want
	want=$(( 2 * ($(grep -c '^	VC_CMD_' "$HEADER") + 2) ))
	(($(jq_get "$R" '.per_cmd | length') >= want)) ||
		{ echo "only $(jq -c '.per_cmd | keys' "$R"), want $want"; return 1; }
}
check "root: every command id 0..VC_CMD_MAX+2 was sent as do and as dump" covered

never_ran() {
	local j
	j=$(fz_ctl node show --json) || return 1
	[[ $(jq -r .state <<<"$j") == stopped && $(jq -r .fence_armed <<<"$j") == false ]] ||
		{ echo "$j"; return 1; }
}
check "root: the fuzzed instance never ran and was never armed" never_ran

# ---------------------------------------------------- 3. unprivileged
snap0=$(fz "$PY" "$WORK/fuzz.py" snapshot "$HEADER" 2>&1)
rc=0
fz setpriv --reuid 65534 --regid 65534 --clear-groups \
	"$PY" "$WORK/fuzz.py" fuzz "$HEADER" "$USER_SECS" $((SEED + 1)) unpriv \
	>"$WORK/user.json" 2>"$WORK/user.err" || rc=$?
U=$WORK/user.json
if ((rc == 0)) && [[ -s $U ]] && (($(jq_get "$U" .requests) > 0)) &&
   [[ $(jq_get "$U" .uid) != 0 && $(jq_get "$U" .cap_eff) == 0000000000000000 ]] &&
   all_answered "$U"; then
	ok "unprivileged (uid 65534, no capabilities): $(jq_get "$U" .requests) requests, every one answered"
	report "$U"
else
	not_ok "unprivileged: fuzzer ran, every request answered" \
		"exit $rc: $(cat "$WORK/user.err"; jq -c '{uid, cap_eff, no_reply, no_reply_ex, ill_framed_replied}' "$U" 2>&1)"
fi

perm_ok() {
	local f=$1
	[[ -s $f ]] && jq -e . "$f" >/dev/null 2>&1 || return 1
	(($(jq_get "$f" .perm_bad) == 0)) &&
	(($(jq_get "$f" .change_clean) > 0)) &&
	[[ $(jq_get "$f" .change_clean) == "$(jq_get "$f" .change_clean_eperm)" ]] &&
	extack_all "$f"
}
snap1=$(fz "$PY" "$WORK/fuzz.py" snapshot "$HEADER" 2>&1)
if perm_ok "$U" && [[ $snap0 == "$snap1" ]]; then
	ok "unprivileged: all $(jq_get "$U" .change_clean) well-formed changes refused with EPERM, the rest by header checks; the instance unchanged"
else
	not_ok "unprivileged: changes refused with EPERM, instance unchanged" \
		"$(jq -c '{perm_bad, perm_bad_ex, change_clean, change_clean_eperm, inval_full, inval_full_msg, inval_nomsg_ex}' "$U" 2>&1)
snapshot before $snap0, after $snap1"
fi

ip netns del "$FZ"

# --------------------------------------- 4. the module still works
cluster_up() {
	local i

	vc_switch || return 1
	for i in 1 2; do
		vc_netns_node "$i" 1 || return 1
		vc_write_conf "$i" 2 1 || return 1
		vc_ctl "$i" key set 1 "$WORK/key" || return 1
		vc_ctl "$i" load --start "$VC_CONF_DIR/n$i.conf" || return 1
	done
	wait_for -t 30 vc_all_up 2 || { vc_ctl 1 peer list; return 1; }
	[[ $(vc_node_field 1 auth) == blake2s && $(vc_node_field 2 auth) == blake2s ]] ||
		{ echo "auth: $(vc_node_field 1 auth) $(vc_node_field 2 auth)"; return 1; }
}
check "afterwards a keyed two-node cluster comes UP in fresh netns" cluster_up

vc_teardown
# netns cleanup runs in a workqueue; the module goes once it is done
unload() {
	modprobe -r vcluster 2>&1 && ! test -e /sys/module/vcluster
}
check "rmmod vcluster succeeds" wait_for -t 20 unload
finish
