#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
#
# tools/bench.d/dc-run.py - the measuring half of tools/bench.d/dc-failover:
# vclusterd agents, one simulated host each (a network namespace, the agent
# as init of its own PID namespace), on one bridge.  The same code runs on
# this machine (user transport) and inside a QEMU guest (kernel transport,
# then the user transport again), so the transports get the same topology,
# timing, fault and clock.
#
#   dc-run.py failover --transport user|kernel --runs N [--hosts 3]
#             [--interval MS] [--misses N] [--budget SEC] --out FILE.json
#   dc-run.py idle --transport user|kernel [--hosts 5] [--settle SEC]
#             [--seconds SEC] [--interval MS] [--misses N] --out FILE.json
#   dc-run.py report DIR            the tables, from DIR/*.json
#
# Environment: VCD (vclusterd; vcluster-fencer next to it), VCTL
# (vclusterctl), DC_WORK (where the hosts' files go; default a fresh
# /tmp/dcbench.*), DC_WHERE (a label: "this machine", "TCG guest ..."),
# DC_PLACE ("host" or "guest", for the report).
#
# failover, per run:
#   1. wait until every agent names the same DC, is quorate and armed, and
#      the DC has every node online with strong (kill) fencing armed;
#   2. a "watch" on every survivor's control socket, then a random pause of
#      up to one heartbeat interval (the fault falls at a random phase);
#   3. t0 = CLOCK_BOOTTIME; the DC's host dies: its veth is set down at the
#      switch (one ioctl, no fork/exec after reading the clock) and its
#      agent, the init of its PID namespace, gets SIGKILL, which kills every
#      process of that host (fencer included).  With the kernel transport
#      the module's node of that netns is also stopped right after (its
#      heartbeats were already cut at t0): power loss takes the kernel too;
#   4. from the survivors' events (boottime_ns, one clock: one kernel):
#        t_down   first "peer-state" DOWN of the old DC (the transport)
#        t_dc     first "dc-changed" naming a new DC
#        t_fenced first "node-fenced" of the old DC (applied, so committed)
#      and window_ms of the new DC's fence record ("history");
#   5. the dead host restarts (link up, agent started: a new incarnation)
#      and the next run waits until it is online again (step 1).
# A survivor declaring another survivor DOWN during a run is a false DOWN:
# that run is spoiled (not counted) and reported.  Outside the runs, an
# agent that exits on its own (fenced after a false DOWN) is restarted, and
# one still unarmed after STUCK_S is restarted too; both are reported.
#
# idle: N hosts, all voters, settle, then every second for S seconds each
# agent's (and, user transport, fencer's) utime+stime (/proc/PID/stat, as %
# of one core) and VmRSS.

import argparse
import ctypes
import fcntl
import json
import math
import os
import random
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

REPO = os.environ.get('REPO') or os.path.abspath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
VCD = os.environ.get('VCD') or os.path.join(REPO, 'user', 'agent', 'vclusterd')
VCTL = os.environ.get('VCTL') or os.path.join(REPO, 'user', 'vclusterctl')
WHERE = os.environ.get('DC_WHERE', 'this machine')
PLACE = os.environ.get('DC_PLACE', 'host')	# "host" or "guest": file names
# Namespace names of our own, so that suites running beside us never clash.
SW = 'dcbsw'
NS = 'dcb'
CLUSTER_ID = 7

# The timing both transports run with (dc-failover prints it).
FENCE = {'action': 'kill', 'agent-timeout-ms': 1000,
         'quorum-timeout-ms': 300, 'kill-bound-ms': 100}
ELECTION_MS = 1000
# A cluster not whole after this long has an agent stuck (see unstick()).
STUCK_S = 15

CLONE_NEWNET = 0x40000000
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1
PR_SET_PDEATHSIG = 1

libc = ctypes.CDLL(None, use_errno=True)


def boottime_ns():
    return time.clock_gettime_ns(time.CLOCK_BOOTTIME)


def log(msg):
    print(f'[{time.clock_gettime(time.CLOCK_BOOTTIME):9.3f}] {msg}', flush=True)


def setns(fd):
    if libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, f'setns: {os.strerror(e)}')


def die_with_parent():
    """preexec_fn: SIGKILL when this script dies, whatever kills it; the
    agent (unshare --kill-child) follows, and with it its PID namespace."""
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def vc_sh(script):
    """A bash snippet with tests/vc.sh (its topology) and our names."""
    env = dict(os.environ, VC_SW=SW, VC_NS=NS, VCTL=VCTL)
    subprocess.run(['bash', '-c', f'. {REPO}/tests/vc.sh && {script}'],
                   check=True, env=env)


def pct(values, q):
    """Nearest-rank percentile (p99 of 30 values is the largest)."""
    s = sorted(values)
    return s[max(0, math.ceil(q / 100 * len(s)) - 1)] if s else None


class CtlError(Exception):
    pass


def ctl_request(path, cmd, args=None, timeout=2.0):
    """One request on a fresh connection to an agent's control socket."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        try:
            s.connect(path)
            req = {'id': 1, 'cmd': cmd}
            if args:
                req['args'] = args
            s.sendall(json.dumps(req).encode() + b'\n')
            buf = b''
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
                while b'\n' in buf:
                    line, buf = buf.split(b'\n', 1)
                    msg = json.loads(line)
                    if msg.get('id') == 1:
                        if not msg.get('ok'):
                            raise CtlError(msg.get('error'))
                        return msg.get('result')
        except (OSError, ValueError) as e:
            raise CtlError(str(e)) from e
    raise CtlError(f'{cmd}: no reply')


class Watch:
    """A "watch" subscription: events as they come, one JSON per line."""

    def __init__(self, host):
        self.host = host
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(2.0)
        self.sock.connect(host.sock)
        self.sock.sendall(b'{"id":1,"cmd":"watch"}\n')
        self.buf = b''
        self.events = []
        self.closed = False
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            for msg in self._lines(self.sock.recv(65536)):
                if msg.get('id') == 1:
                    if not msg.get('ok'):
                        raise CtlError(f'watch: {msg.get("error")}')
                    self.sock.setblocking(False)
                    return
                self.events.append(msg)
        raise CtlError('watch: no reply')

    def _lines(self, data):
        if not data:
            self.closed = True
        self.buf += data
        while b'\n' in self.buf:
            line, self.buf = self.buf.split(b'\n', 1)
            if line.strip():
                yield json.loads(line)

    def read(self):
        try:
            data = self.sock.recv(1 << 20)
        except BlockingIOError:
            return
        except OSError:
            data = b''
        for msg in self._lines(data):
            if 'event' in msg:
                self.events.append(msg)

    def close(self):
        self.sock.close()


class Host:
    def __init__(self, cl, i):
        self.cl = cl
        self.id = i
        self.ns = f'{NS}{i}'
        self.dir = os.path.join(cl.work, f'n{i}')
        self.conf = os.path.join(self.dir, f'n{i}.conf')
        self.sock = os.path.join(self.dir, 'vclusterd.sock')
        self.logf = os.path.join(self.dir, 'vclusterd.log')
        self.swport = f'n{i}l0'		# its veth's end in the switch (vc.sh)
        self.proc = None		# unshare; the agent is its child
        self.pid = None			# the agent (init of the PID namespace)
        self.starts = 0

    def write_conf(self, n, voters, interval, misses, transport):
        os.makedirs(self.dir, exist_ok=True)
        lines = ['[node]', f'cluster-id = {CLUSTER_ID}', f'node-id = {self.id}',
                 f'link0 = 198.18.0.{self.id}', f'interval-ms = {interval}',
                 f'misses = {misses}', f'key-file = {self.cl.key}']
        if self.id > voters:
            lines.append('votes = 0')
        lines += ['', '[fence]'] + [f'{k} = {v}' for k, v in FENCE.items()]
        lines += ['', '[agent]', 'cluster-name = bench', f'transport = {transport}',
                  'data-dir = data', 'control-socket = vclusterd.sock',
                  f'election-timeout-ms = {ELECTION_MS}', 'auto-bootstrap = yes',
                  'log-level = info']
        for j in range(1, n + 1):
            if j != self.id:
                lines += ['', f'[peer {j}]', f'link0 = 198.18.0.{j}']
                if j > voters:
                    lines.append('votes = 0')
        with open(self.conf, 'w') as f:
            f.write('\n'.join(lines) + '\n')

    def start(self):
        self.starts += 1
        with open(self.logf, 'a') as lf:
            lf.write(f'--- start {self.starts} at boottime {boottime_ns()}\n')
            lf.flush()
            self.proc = subprocess.Popen(
                ['ip', 'netns', 'exec', self.ns, 'unshare', '--pid', '--fork',
                 '--kill-child', '--mount-proc', VCD, '-c', self.conf],
                stdin=subprocess.DEVNULL, stdout=lf, stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent)
        self.pid = None
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and self.pid is None:
            self.pid = self._child(self.proc.pid)
            if self.pid is None:
                time.sleep(0.01)
        if self.pid is None:
            with open(self.logf) as lf:
                tail = ''.join(lf.readlines()[-3:])
            raise RuntimeError(f'host {self.id}: the agent did not start: {tail}')

    @staticmethod
    def _child(pid, comm=None):
        try:
            for tid in os.listdir(f'/proc/{pid}/task'):
                with open(f'/proc/{pid}/task/{tid}/children') as f:
                    for c in f.read().split():
                        if comm is None:
                            return int(c)
                        with open(f'/proc/{c}/comm') as cf:
                            if cf.read().strip() == comm:
                                return int(c)
        except OSError:
            pass
        return None

    def fencer_pid(self):
        return self._child(self.pid, 'vcluster-fencer') if self.pid else None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def power_off(self):
        """The measured fault: returns t0 (CLOCK_BOOTTIME, ns)."""
        t0 = boottime_ns()
        self.cl.link(self.swport, False)
        os.kill(self.pid, signal.SIGKILL)
        return t0

    def reap(self):
        if self.proc:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        self.pid = None

    def kill(self):
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
        self.reap()

    def stop_kernel_node(self):
        """Power loss takes the host's kernel too: end the module's node of
        this netns (its heartbeats were cut at t0)."""
        r = subprocess.run(['ip', 'netns', 'exec', self.ns, VCTL, 'stop'],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if r.returncode != 0:
            log(f'host {self.id}: vclusterctl stop: {r.stdout.decode().strip()}')

    def status(self):
        return ctl_request(self.sock, 'status')

    def history(self):
        return ctl_request(self.sock, 'history').get('events', [])


class Cluster:
    def __init__(self, n, voters, interval, misses, transport):
        self.n = n
        self.interval = interval
        self.misses = misses
        self.transport = transport
        work = os.environ.get('DC_WORK')
        if work:
            os.makedirs(work, exist_ok=True)
            self.work = tempfile.mkdtemp(prefix='dcbench.', dir=work)
        else:
            self.work = tempfile.mkdtemp(prefix='dcbench.')
        self.key = os.path.join(self.work, 'cluster.key')
        with open(self.key, 'w') as f:
            f.write(os.urandom(32).hex() + '\n')
        os.chmod(self.key, 0o600)
        vc_sh(f'vc_teardown; vc_switch && for ((i = 1; i <= {n}; i++)); do '
              f'vc_netns_node $i 1 || exit 1; done')
        self.swfd = os.open(f'/run/netns/{SW}', os.O_RDONLY)
        own = os.open('/proc/self/ns/net', os.O_RDONLY)
        try:
            setns(self.swfd)
            self.swsock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        finally:
            setns(own)
            os.close(own)
        self.hosts = {i: Host(self, i) for i in range(1, n + 1)}
        self.revived = []
        for h in self.hosts.values():
            h.write_conf(n, voters, interval, misses, transport)

    def link(self, ifname, up):
        """Set a switch port up or down: one ioctl in the switch's netns."""
        name = ifname.encode()
        r = fcntl.ioctl(self.swsock, SIOCGIFFLAGS, struct.pack('16s24x', name))
        flags = struct.unpack_from('16sH', r)[1]
        flags = flags | IFF_UP if up else flags & ~IFF_UP
        fcntl.ioctl(self.swsock, SIOCSIFFLAGS, struct.pack('16sH22x', name, flags))

    def teardown(self, keep_logs=None):
        for h in self.hosts.values():
            h.kill()
        self.swsock.close()
        os.close(self.swfd)
        vc_sh('vc_teardown')
        if keep_logs:
            os.makedirs(keep_logs, exist_ok=True)
            for h in self.hosts.values():
                if os.path.exists(h.logf):
                    shutil.copy(h.logf, os.path.join(keep_logs, f'n{h.id}.log'))
        shutil.rmtree(self.work, ignore_errors=True)

    def statuses(self):
        out = {}
        for i, h in self.hosts.items():
            try:
                out[i] = h.status()
            except CtlError:
                out[i] = None
        return out

    def stable(self):
        """The DC every agent agrees on, when the cluster is whole: every
        agent quorate and armed with every node online in its replicated
        state, the DC sees every node UP and armed with strong fencing.
        None otherwise."""
        if not all(h.running() for h in self.hosts.values()):
            return None
        st = self.statuses()
        dcs = {s.get('dc') if s else None for s in st.values()}
        if len(dcs) != 1:
            return None
        dc = dcs.pop()
        if dc not in self.hosts:
            return None
        for s in st.values():
            if not s.get('quorate') or not (s.get('fence') or {}).get('armed'):
                return None
            # Every host has applied every node-up: a run starting before
            # a follower learnt that commit measures a cluster still forming.
            if [nd.get('state') for nd in s.get('nodes') or []] != ['online'] * self.n:
                return None
        nodes = st[dc].get('nodes') or []
        if len(nodes) != self.n:
            return None
        for nd in nodes:
            f = nd.get('fence') or {}
            if nd.get('state') != 'online' or not f.get('armed') or not f.get('strong'):
                return None
            if nd.get('id') != dc and nd.get('membership') != 'up':
                return None
        return dc

    def revive(self):
        """Restart every host whose agent exited on its own (fenced after
        a false DOWN, say): a real host would reboot.  Each is counted."""
        for h in self.hosts.values():
            if h.proc is not None and not h.running():
                rc = h.proc.returncode
                h.reap()
                self.revived.append({'host': h.id, 'exit': rc, 'at': boottime_ns()})
                log(f'host {h.id}: its agent exited (code {rc}) unasked: restarting it')
                self.link(h.swport, True)
                h.start()

    def unstick(self):
        """Restart every agent that is not armed: one that lost its peers
        before it armed (a false DOWN while starting: DOWN is sticky for a
        life, and an unarmed host does not fence itself) would wait
        forever.  Each is counted."""
        for i, st in self.statuses().items():
            if st and (st.get('fence') or {}).get('armed'):
                continue
            h = self.hosts[i]
            log(f'host {i}: not armed after {STUCK_S} s, its peers '
                f'{[nd.get("membership") for nd in (st or {}).get("nodes") or []]}: restarting it')
            h.kill()
            self.revived.append({'host': i, 'exit': 'stuck', 'at': boottime_ns()})
            self.link(h.swport, True)
            h.start()

    def wait_stable(self, timeout):
        # Polls are spaced: in a TCG guest this script's own CPU is the
        # agents' and the kernel's.
        start = time.monotonic()
        deadline = start + timeout
        unstuck = start
        while time.monotonic() < deadline:
            self.revive()
            dc = self.stable()
            if dc is not None:
                return dc
            if time.monotonic() - unstuck > STUCK_S:
                self.unstick()
                unstuck = time.monotonic()
            time.sleep(0.25)
        return None

    def describe(self):
        out = []
        for i, s in self.statuses().items():
            if not s:
                out.append(f'host {i}: no answer (running: {self.hosts[i].running()})')
                continue
            nodes = ' '.join(f'{nd.get("id")}:{nd.get("state")}/{nd.get("membership")}'
                             f'{"+" if (nd.get("fence") or {}).get("armed") else "-"}'
                             for nd in s.get('nodes') or [])
            out.append(f'host {i}: dc {s.get("dc")} term {s.get("term")} '
                       f'{s.get("raft_state")} quorate {s.get("quorate")} '
                       f'armed {(s.get("fence") or {}).get("armed")} [{nodes}]')
        return '\n'.join(out)


# ---------------------------------------------------------------- failover

def first(events, pred):
    t = [e['boottime_ns'] for e in events if pred(e)]
    return min(t) if t else None


def one_run(cl, k, deadline_s=15.0):
    """One failover; a dict describing it (see the header)."""
    old = cl.wait_stable(30)
    if old is None:
        return {'run': k, 'error': 'cluster not whole after 30 s', 'state': cl.describe()}
    victim = cl.hosts[old]
    survivors = [h for h in cl.hosts.values() if h.id != old]
    watches = [Watch(h) for h in survivors]
    sel = selectors.DefaultSelector()
    for w in watches:
        sel.register(w.sock, selectors.EVENT_READ, w)
    time.sleep(random.uniform(0, cl.interval / 1000))
    t0 = victim.power_off()
    if cl.transport == 'kernel':
        victim.stop_kernel_node()
    victim.reap()

    def evs():
        return [e for w in watches for e in w.events]

    def fenced(e):
        return e.get('event') == 'node-fenced' and e.get('subject') == old

    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        for key, _ in sel.select(timeout=0.2):
            key.data.read()
            if key.data.closed:	# that survivor's agent is gone
                sel.unregister(key.fileobj)
        if any(fenced(e) for e in evs()):
            break
    time.sleep(0.1)	# the other survivors' copies of the last events
    for w in watches:
        if not w.closed:
            w.read()
        w.close()
    sel.close()
    ev = evs()

    r = {'run': k, 'victim': old, 't0': t0}
    t_down = first(ev, lambda e: e.get('event') == 'peer-state' and e.get('peer') == old
                   and e.get('state') == 'down')
    t_dc = first(ev, lambda e: e.get('event') == 'dc-changed' and e.get('dc') not in (None, old))
    t_f = first(ev, fenced)
    new = [e for e in ev if e.get('event') == 'dc-changed' and e.get('dc') not in (None, old)]
    r['new_dc'] = min(new, key=lambda e: e['boottime_ns'])['dc'] if new else None
    r['term'] = max((e.get('term', 0) for e in new), default=None)
    for name, t in (('down_ms', t_down), ('dc_ms', t_dc), ('fenced_ms', t_f)):
        r[name] = (t - t0) / 1e6 if t is not None else None
    false = [e for e in ev if e.get('event') == 'peer-state' and e.get('state') == 'down'
             and (e.get('peer') != old or e['boottime_ns'] < t0)]
    if false:
        r['false_downs'] = [{'observer': e.get('node'), 'peer': e.get('peer'),
                             'at_ms': (e['boottime_ns'] - t0) / 1e6} for e in false]
    decisions = [e for e in ev if e.get('event') == 'dc-decision' and e.get('subject') == old]
    if decisions:
        r['decisions'] = [{'action': e.get('action'), 'window_ms': e.get('window_ms'),
                           'by': e.get('node'), 'at_ms': (e['boottime_ns'] - t0) / 1e6}
                          for e in decisions]
    if r['new_dc'] in cl.hosts:
        try:
            recs = [x for x in cl.hosts[r['new_dc']].history()
                    if x.get('op') == 'node-fenced' and x.get('node') == old]
            if recs:
                rec = recs[-1]
                r['window_ms'] = rec.get('window_ms')
                r['how'] = rec.get('how')
                r['fenced_by'] = rec.get('dc')
        except CtlError as e:
            r['history_error'] = str(e)
    if t_f is None:
        r['error'] = ('no new DC' if t_dc is None else 'old DC not fenced') + \
            f' within {deadline_s:.0f} s'
        r['state'] = cl.describe()
    # The dead host comes back (a new life); step 1 of the next run waits.
    cl.link(victim.swport, True)
    victim.start()
    return r


def cmd_failover(a):
    cl = Cluster(a.hosts, a.hosts, a.interval, a.misses, a.transport)
    result = {'transport': a.transport, 'where': WHERE, 'place': PLACE, 'hosts': a.hosts,
              'voters': a.hosts, 'interval_ms': a.interval, 'misses': a.misses,
              'fence': FENCE, 'election_timeout_ms': ELECTION_MS,
              'runs_wanted': a.runs, 'runs': [], 'spoiled': [], 'failed': []}
    logs = os.path.join(os.path.dirname(os.path.abspath(a.out)), f'logs-{a.transport}-{PLACE}')
    ok = False
    try:
        for h in cl.hosts.values():
            h.start()
        t_start = time.monotonic()
        if cl.wait_stable(60) is None:
            raise RuntimeError('the cluster did not form within 60 s:\n' + cl.describe())
        log(f'{a.transport}: cluster formed in {time.monotonic() - t_start:.1f} s')
        k = 0
        budget_end = time.monotonic() + a.budget
        while len(result['runs']) < a.runs and time.monotonic() < budget_end:
            k += 1
            if k > a.runs + max(5, a.runs // 3):
                break
            r = one_run(cl, k)
            # A false DOWN explains whatever else went wrong in that run
            # (survivors that lost each other lose quorum and fence).
            if 'false_downs' in r:
                result['spoiled'].append(r)
                log(f'run {k}: spoiled by a false DOWN: {r["false_downs"]}'
                    f'{" (" + r["error"] + ")" if "error" in r else ""}')
            elif 'error' in r:
                result['failed'].append(r)
                log(f'run {k}: FAILED: {r["error"]}\n{r.get("state", "")}')
                if len(result['failed']) >= 3:
                    break
            else:
                result['runs'].append(r)
                log(f'run {k}: DC {r["victim"]} killed: DOWN {r["down_ms"]:.1f} ms, '
                    f'new DC {r["new_dc"]} {r["dc_ms"]:.1f} ms, fenced '
                    f'{r["fenced_ms"]:.1f} ms (window {r.get("window_ms")} ms)')
        ok = len(result['runs']) >= a.runs
    except Exception as e:
        result['error'] = str(e)
        log(f'{a.transport}: {e}')
    finally:
        result['revived'] = cl.revived
        clean = ok and not (cl.revived or result['failed'] or result['spoiled'])
        cl.teardown(keep_logs=None if clean else logs)
        with open(a.out, 'w') as f:
            json.dump(result, f, indent=1)
    return 0 if ok else 1


# ---------------------------------------------------------------- idle

def proc_ticks(pid):
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return int(fields[11]) + int(fields[12])	# utime, stime (fields 14, 15)


def proc_rss_kib(pid):
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return 0


def idle_measure(cl, a, hz):
    """One measurement; (per-process figures, DC) or raises CtlError when
    the cluster did not stay whole (a process gone, another DC)."""
    dc = cl.wait_stable(60)
    if dc is None:
        raise CtlError('the cluster is not whole after 60 s:\n' + cl.describe())
    log(f'idle {a.transport}: {a.hosts} hosts whole, DC {dc}; settling {a.settle} s')
    time.sleep(a.settle)
    procs = {}
    for h in cl.hosts.values():
        procs[(h.id, 'agent')] = h.pid
        fp = h.fencer_pid()
        if fp:
            procs[(h.id, 'fencer')] = fp
    samples = {k: [] for k in procs}
    t_start = time.monotonic()
    for s in range(a.seconds + 1):
        while time.monotonic() < t_start + s:
            time.sleep(0.01)
        now = time.monotonic()
        try:
            for k, pid in procs.items():
                samples[k].append((now, proc_ticks(pid), proc_rss_kib(pid)))
        except OSError:
            raise CtlError(f'host {k[0]}: its {k[1]} exited while measuring '
                           f'(fenced after a false DOWN?)') from None
    if cl.stable() != dc:
        raise CtlError('the DC changed or the cluster broke while measuring:\n' + cl.describe())
    per = []
    for (i, what), sm in sorted(samples.items()):
        span = sm[-1][0] - sm[0][0]
        cpu_mean = (sm[-1][1] - sm[0][1]) / hz / span * 100
        # Windows of 5 s: one tick (10 ms) in 1 s would be 1 %.
        win = [(sm[j + 5][1] - sm[j][1]) / hz / (sm[j + 5][0] - sm[j][0]) * 100
               for j in range(0, len(sm) - 5, 5)]
        rss = [x[2] for x in sm]
        per.append({'host': i, 'proc': what, 'dc': i == dc,
                    'cpu_mean_pct': cpu_mean, 'cpu_max5s_pct': max(win) if win else cpu_mean,
                    'rss_mean_kib': sum(rss) / len(rss), 'rss_max_kib': max(rss)})
    return per, dc


def cmd_idle(a):
    cl = Cluster(a.hosts, a.hosts, a.interval, a.misses, a.transport)
    hz = os.sysconf('SC_CLK_TCK')
    result = {'transport': a.transport, 'where': WHERE, 'place': PLACE, 'hosts': a.hosts,
              'voters': a.hosts, 'interval_ms': a.interval, 'misses': a.misses,
              'settle_s': a.settle, 'seconds': a.seconds, 'clk_tck': hz,
              'failed_attempts': []}
    logs = os.path.join(os.path.dirname(os.path.abspath(a.out)), f'logs-idle-{a.transport}-{PLACE}')
    ok = False
    try:
        for h in cl.hosts.values():
            h.start()
        # A false DOWN (the machine stalled) spoils an attempt; one more.
        for attempt in (1, 2):
            try:
                per, dc = idle_measure(cl, a, hz)
                result.update({'dc': dc, 'per': per})
                ok = True
                break
            except CtlError as e:
                result['failed_attempts'].append(str(e))
                log(f'idle {a.transport}: attempt {attempt}: {e}')
        if not ok:
            result['error'] = 'no attempt stayed whole'
    except Exception as e:
        result['error'] = str(e)
        log(f'idle {a.transport}: {e}')
    finally:
        result['revived'] = cl.revived
        cl.teardown(keep_logs=None if ok and not result['failed_attempts'] else logs)
        with open(a.out, 'w') as f:
            json.dump(result, f, indent=1)
    return 0 if ok else 1


# ---------------------------------------------------------------- report

def fmt(v, d=0):
    return '-' if v is None else f'{v:.{d}f}'


def label(r):
    return f'{r["transport"]}/{r.get("place", "host")}'


def fo_stats(r):
    runs = r['runs']
    c = [x['dc_ms'] for x in runs]
    f = [x['fenced_ms'] for x in runs]
    return {'dc': (pct(c, 50), pct(c, 99)), 'f': (pct(f, 50), pct(f, 99))}


def print_ratio(text, num, den):
    k, u = fo_stats(num), fo_stats(den)

    def ratio(x, y):
        return f'{x / y:.2f}' if x and y else '-'
    print(f'  {text}: new DC p50 {ratio(k["dc"][0], u["dc"][0])}, '
          f'p99 {ratio(k["dc"][1], u["dc"][1])}; fenced p50 {ratio(k["f"][0], u["f"][0])}, '
          f'p99 {ratio(k["f"][1], u["f"][1])}')


def report_failover(res):
    r0 = res[0]
    fe = r0['fence']
    print(f'DC failover, {", ".join(label(r) for r in res)} side by side in this run')
    print(f'  topology: {r0["hosts"]} voters, one bridge, each host a netns + PID namespace')
    for r in res:
        print(f'  {label(r):12} {r["where"]}: heartbeat {r["interval_ms"]} ms x '
              f'{r["misses"]} misses')
    print(f'  fence action {fe["action"]}, quorum timeout {fe["quorum-timeout-ms"]} ms, '
          f'kill bound {fe["kill-bound-ms"]} ms, agent timeout {fe["agent-timeout-ms"]} ms, '
          f'election timeout {r0["election_timeout_ms"]} ms')
    print('  fault: t0 = CLOCK_BOOTTIME, then the DC host\'s veth set down at the switch')
    print('  and SIGKILL to its agent (PID-namespace init: the whole host); kernel')
    print('  transport: its netns\'s module node is stopped right after')
    print('  times in ms after t0, from the survivors\' events (one kernel clock);')
    print('  DOWN: the transport\'s; new DC: first dc-changed naming another DC;')
    print('  fenced: the old DC\'s node-fenced applied (committed); window: the')
    print('  fence window in the new DC\'s record; elect: new DC - DOWN of each run;')
    print('  p99 nearest-rank (of 30 runs: the largest)')
    if any(r['interval_ms'] != 10 for r in res):
        print('  (heartbeat not 10 ms x 3: 10 x 3 does not hold on this shared machine,')
        print('  see tools/bench.d/dc-failover --help)')
    print()
    hdr = (f'  {"transport":12} {"runs":>4} {"spoil":>5} {"fail":>4} | {"DOWN p50":>8} {"p99":>6} | '
           f'{"new DC p50":>10} {"p99":>6} {"max":>6} | {"fenced p50":>10} {"p99":>6} '
           f'{"max":>6} | {"elect p50":>9} {"p99":>5} | {"window":>6}')
    print(hdr)
    print('  ' + '-' * (len(hdr) - 2))
    for r in res:
        runs = r['runs']
        d = [x['down_ms'] for x in runs if x.get('down_ms') is not None]
        c = [x['dc_ms'] for x in runs]
        f = [x['fenced_ms'] for x in runs]
        w = sorted({x.get('window_ms') for x in runs if x.get('window_ms') is not None})
        wtxt = '/'.join(str(x) for x in w) if len(w) <= 2 else f'{w[0]}..{w[-1]}'
        el = [x['dc_ms'] - x['down_ms'] for x in runs if x.get('down_ms') is not None]
        print(f'  {label(r):12} {len(runs):>4} {len(r["spoiled"]):>5} {len(r["failed"]):>4} | '
              f'{fmt(pct(d, 50), 1):>8} {fmt(pct(d, 99), 1):>6} | '
              f'{fmt(pct(c, 50), 1):>10} {fmt(pct(c, 99), 1):>6} {fmt(max(c) if c else None, 1):>6} | '
              f'{fmt(pct(f, 50), 1):>10} {fmt(pct(f, 99), 1):>6} {fmt(max(f) if f else None, 1):>6} | '
              f'{fmt(pct(el, 50), 1):>9} {fmt(pct(el, 99), 0):>5} | {wtxt or "-":>6}')
    worst = max((x['dc_ms'] for r in res for x in r['runs']), default=None)
    if worst is not None:
        verdict = 'below' if worst < r0['election_timeout_ms'] else 'NOT below'
        print(f'  slowest new DC {worst:.0f} ms after t0: {verdict} the raft election timeout '
              f'({r0["election_timeout_ms"]} ms)')
    by = {label(r): r for r in res}
    if 'kernel/guest' in by and 'user/guest' in by:
        print_ratio('ratio kernel/user, both in the TCG guest', by['kernel/guest'], by['user/guest'])
    if 'kernel/guest' in by and 'user/host' in by:
        print_ratio('ratio kernel (TCG guest) / user (this machine)', by['kernel/guest'],
                    by['user/host'])
    for r in res:
        how = {x.get('how') for x in r['runs']}
        if how - {'auto'}:
            print(f'  NOTE {label(r)}: fence records not all automatic: {sorted(map(str, how))}')
        for x in r['spoiled']:
            fd = ', '.join(f'{d["observer"]} saw {d["peer"]} DOWN at {d["at_ms"]:.0f} ms'
                           for d in x['false_downs'])
            print(f'  spoiled {label(r)} run {x["run"]} (false DOWN, not counted): {fd}'
                  f'{"; then " + x["error"] if x.get("error") else ""}')
        for x in r['failed']:
            print(f'  FAILED {label(r)} run {x["run"]}: {x["error"]}')
        if r.get('revived'):
            print(f'  NOTE {label(r)}: {len(r["revived"])} agent restart(s) outside the runs '
                  f'(exit 3: fenced after a false DOWN; -N: killed by signal N; stuck: not '
                  f'armed after {STUCK_S} s, restarted by the benchmark): '
                  f'hosts {[x["host"] for x in r["revived"]]}, exit codes '
                  f'{sorted({str(x["exit"]) for x in r["revived"]})}')
        if r.get('error'):
            print(f'  ERROR {label(r)}: {r["error"]}')
        if len(r['runs']) < r['runs_wanted']:
            print(f'  NOTE {label(r)}: {len(r["runs"])} runs of {r["runs_wanted"]} wanted')


def report_idle(res):
    for r in res:
        print(f'Idle cost, {r["transport"]} transport on {r["where"]}: {r["hosts"]} hosts '
              f'({r["voters"]} voters), heartbeat {r["interval_ms"]} ms x {r["misses"]}, '
              f'settled {r["settle_s"]} s, measured {r["seconds"]} s')
        if r.get('error') and not r.get('per'):
            print(f'  ERROR: {r["error"]}')
            continue
        print('  CPU = utime+stime from /proc/PID/stat, % of one core (mean over the whole')
        print('  time; max of 5 s windows); RSS = VmRSS sampled every second')
        if r['transport'] == 'kernel':
            print('  (kernel transport: the heartbeats run in the guest kernel, not in the')
            print('  agent; the guest CPU is emulated by TCG: CPU figures are inflated)')
        print(f'  {"host":6} {"process":8} {"CPU mean %":>10} {"max %":>7} {"RSS mean KiB":>12} '
              f'{"max KiB":>8}')
        for p in r['per']:
            tag = f'{p["host"]}{" DC" if p["dc"] else ""}'
            print(f'  {tag:6} {p["proc"]:8} {p["cpu_mean_pct"]:>10.2f} {p["cpu_max5s_pct"]:>7.2f} '
                  f'{p["rss_mean_kib"]:>12.0f} {p["rss_max_kib"]:>8}')
        for what in ('agent', 'fencer'):
            ps = [p for p in r['per'] if p['proc'] == what]
            if ps:
                print(f'  {"all":6} {what:8} {sum(p["cpu_mean_pct"] for p in ps) / len(ps):>10.2f} '
                      f'{max(p["cpu_max5s_pct"] for p in ps):>7.2f} '
                      f'{sum(p["rss_mean_kib"] for p in ps) / len(ps):>12.0f} '
                      f'{max(p["rss_max_kib"] for p in ps):>8}   (mean / max over hosts)')
        if r.get('revived'):
            print(f'  NOTE: agents restarted: {[(x["host"], x["exit"]) for x in r["revived"]]}')
        for e in r.get('failed_attempts') or []:
            print(f'  NOTE: an attempt was spoiled and repeated: {e.splitlines()[0]}')
        print()


def cmd_report(a):
    def load(kind):
        out = []
        for name in ('user-host', 'kernel-guest', 'user-guest'):
            p = os.path.join(a.dir, f'{kind}-{name}.json')
            if os.path.exists(p):
                with open(p) as f:
                    out.append(json.load(f))
        return out
    fo = load('failover')
    idle = load('idle')
    if fo:
        report_failover(fo)
        print()
    report_idle(idle)
    bad = [r for r in fo if r.get('error') or len(r['runs']) < r['runs_wanted']]
    bad += [r for r in idle if r.get('error')]
    return 1 if bad or not fo else 0


def main():
    p = argparse.ArgumentParser(description=__doc__)
    sub = p.add_subparsers(dest='cmd', required=True)
    f = sub.add_parser('failover')
    f.add_argument('--transport', choices=('user', 'kernel'), required=True)
    f.add_argument('--runs', type=int, default=30)
    f.add_argument('--hosts', type=int, default=3)
    f.add_argument('--interval', type=int, default=20)
    f.add_argument('--misses', type=int, default=3)
    f.add_argument('--budget', type=int, default=300)
    f.add_argument('--out', required=True)
    i = sub.add_parser('idle')
    i.add_argument('--transport', choices=('user', 'kernel'), required=True)
    i.add_argument('--hosts', type=int, default=5)
    i.add_argument('--settle', type=int, default=10)
    i.add_argument('--seconds', type=int, default=30)
    i.add_argument('--interval', type=int, default=20)
    i.add_argument('--misses', type=int, default=3)
    i.add_argument('--out', required=True)
    r = sub.add_parser('report')
    r.add_argument('dir')
    a = p.parse_args()
    # SIGTERM (tools/bench interrupted, vmrun's timeout) cleans up like ^C.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    return {'failover': cmd_failover, 'idle': cmd_idle, 'report': cmd_report}[a.cmd](a)


if __name__ == '__main__':
    sys.exit(main())
