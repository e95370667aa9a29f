#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
#
# tools/bench.d/guest.py - the part of tools/bench that runs inside the
# guest (one kernel, so every timestamp is on the same CLOCK_BOOTTIME).
#
#   guest.py latency --interval MS --misses N --detections D [--observers O]
#                    [--budget SEC] --out FILE.json
#   guest.py cpu --nodes N --interval MS --misses N --seconds S --out FILE.json
#   guest.py spin                       (calibration loop, prints seconds)
#
# latency: nodes 1..O+1 on one bridge (tests/vc.sh: netns nI, link l0,
# 198.18.0.I/24, switch netns vcsw), full mesh; a "vclusterctl monitor
# --json" in every node.  Every node is the victim in turn (so the timer
# phases are re-drawn by its restart).  Per round:
#   1. wait until every node sees every other node UP (from the events,
#      checked against "peer list" every 2 s), then 0..2 intervals more
#      so the cut falls at a random phase of the victim's heartbeat;
#   2. t0 = CLOCK_BOOTTIME, then SIOCSIFFLAGS clears IFF_UP on the victim's
#      l0 (a socket created in the victim's netns, no fork/exec between the
#      clock read and the cut);
#   3. each observer's peer-down about the victim gives latency =
#      time_ns - t0 and silence = time_ns - last_heard_ns (the kernel's);
#   4. heal: vclusterctl stop, l0 up, vclusterctl start (new incarnation:
#      DOWN is sticky per life), and back to 1.
# Any other peer-down (an observer declaring an observer, or the victim
# declared before the cut) is a false DOWN: TCG stalls the whole guest now
# and then.  Such a round is spoiled: its detections are not counted, the
# nodes involved are restarted, and the events are reported.
#
# cpu: N nodes fully meshed; guest CPU from /proc/stat over S seconds with
# the instances configured but stopped (baseline), then started and UP.

import argparse
import ctypes
import fcntl
import json
import os
import random
import selectors
import socket
import struct
import subprocess
import sys
import time

REPO = os.environ.get('REPO') or os.path.abspath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
VCTL = os.environ.get('VCTL') or os.path.join(REPO, 'user', 'vclusterctl')
CONF_DIR = '/tmp/vc'
CLUSTER_ID = 7

CLONE_NEWNET = 0x40000000
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1

libc = ctypes.CDLL(None, use_errno=True)


def boottime_ns():
    return time.clock_gettime_ns(time.CLOCK_BOOTTIME)


def log(msg):
    print(f'[{time.clock_gettime(time.CLOCK_BOOTTIME):9.3f}] {msg}', flush=True)


def setns(fd):
    if libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, f'setns: {os.strerror(e)}')


def sh(script, env=None):
    """Run a bash snippet with tests/lib.sh and tests/vc.sh sourced."""
    full = f'. {REPO}/tests/lib.sh && . {REPO}/tests/vc.sh && {script}'
    e = dict(os.environ)
    e.update(env or {})
    subprocess.run(['bash', '-c', full], check=True, env=e)


def vc_env(interval, misses):
    return {'VC_INTERVAL_MS': str(interval), 'VC_MISSES': str(misses),
            'VC_CLUSTER_ID': str(CLUSTER_ID), 'VC_CONF_DIR': CONF_DIR,
            'VCTL': VCTL}


def key_config():
    """'key-file = ...' for the [node] section when this vclusterctl knows
    heartbeat keys (then the kernel wants one: measure what production
    runs), '' for a build without them."""
    key = f'{CONF_DIR}/cluster.key'
    with open(key, 'w') as f:
        f.write(os.urandom(32).hex() + '\n')
    probe = f'{CONF_DIR}/probe.conf'
    line = 'key-file = cluster.key\n'
    with open(probe, 'w') as f:
        f.write(f'[node]\ncluster-id = 1\nnode-id = 1\nlink0 = 198.18.0.1\n'
                f'{line}\n[peer 2]\nlink0 = 198.18.0.2\n')
    r = subprocess.run([VCTL, 'load', '--check', probe],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return line if r.returncode == 0 else ''


def build_topology(n, interval, misses, peers):
    """tests/vc.sh's topology: vcsw with br0, nodes n1..nN on link 0
    (198.18.0.I/24); PEERS[i] lists the peers in node i's config.
    Returns True when the nodes authenticate their heartbeats."""
    sh('vc_teardown; vc_switch && for ((i = 1; i <= %d; i++)); do '
       'vc_netns_node $i 1 || exit 1; done' % n, vc_env(interval, misses))
    key = key_config()
    for i in range(1, n + 1):
        with open(f'{CONF_DIR}/n{i}.conf', 'w') as f:
            f.write(f'[node]\ncluster-id = {CLUSTER_ID}\nnode-id = {i}\n'
                    f'interval-ms = {interval}\nmisses = {misses}\n'
                    f'link0 = 198.18.0.{i}\n{key}')
            for j in peers[i]:
                f.write(f'\n[peer {j}]\nlink0 = 198.18.0.{j}\n')
    return bool(key)


def teardown():
    sh('vc_teardown')


class Node:
    def __init__(self, i):
        self.id = i
        self.ns = f'n{i}'
        self.nsfd = os.open(f'/run/netns/{self.ns}', os.O_RDONLY)
        # A socket that lives in the node's netns: ioctls on it act there.
        own = os.open('/proc/self/ns/net', os.O_RDONLY)
        try:
            setns(self.nsfd)
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        finally:
            setns(own)
            os.close(own)
        self.mon = None
        self.buf = b''

    def _enter(self):
        setns(self.nsfd)

    def popen(self, args, **kw):
        return subprocess.Popen([VCTL] + args, preexec_fn=self._enter,
                                pass_fds=(self.nsfd,), **kw)

    def ctl(self, *args, check=True, capture=False):
        r = subprocess.run([VCTL] + list(args), preexec_fn=self._enter,
                           pass_fds=(self.nsfd,), check=False,
                           stdout=subprocess.PIPE if capture else None)
        if check and r.returncode != 0:
            raise RuntimeError(f'node {self.id}: vclusterctl {" ".join(args)} '
                               f'exited {r.returncode}')
        return r.stdout.decode() if capture else r.returncode

    def ifreq(self, ifname, up):
        name = ifname.encode()
        r = fcntl.ioctl(self.sock, SIOCGIFFLAGS, struct.pack('16s24x', name))
        flags = struct.unpack_from('16sH', r)[1]
        flags = flags | IFF_UP if up else flags & ~IFF_UP
        return struct.pack('16sH22x', name, flags)

    def close(self):
        if self.mon:
            self.mon.kill()
            self.mon.wait()
        self.sock.close()
        os.close(self.nsfd)


class Cluster:
    def __init__(self, n, interval, misses, star=False):
        """N nodes, full mesh; with STAR node 1 has all others as peers and
        each of them only node 1."""
        self.n = n
        self.interval = interval
        self.misses = misses
        self.dead_ms = interval * misses
        if star:
            self.peers = {i: [j for j in range(2, n + 1)] if i == 1 else [1]
                          for i in range(1, n + 1)}
        else:
            self.peers = {i: [j for j in range(1, n + 1) if j != i]
                          for i in range(1, n + 1)}
        self.authenticated = build_topology(n, interval, misses, self.peers)
        self.nodes = {i: Node(i) for i in range(1, n + 1)}
        self.sel = selectors.DefaultSelector()
        self.events = []
        self.state = {(o, s): 'new' for o in self.nodes for s in self.peers[o]}

    def start_monitors(self):
        for nd in self.nodes.values():
            ready = f'{CONF_DIR}/n{nd.id}.ready'
            if os.path.exists(ready):
                os.unlink(ready)
            nd.monlog = f'{CONF_DIR}/n{nd.id}.monitor.log'
            nd.mon = nd.popen(['monitor', '--json', '--ready', ready],
                              stdout=subprocess.PIPE, bufsize=0,
                              stderr=open(nd.monlog, 'w'))
            os.set_blocking(nd.mon.stdout.fileno(), False)
            self.sel.register(nd.mon.stdout, selectors.EVENT_READ, nd)
        end = time.monotonic() + 30
        for nd in self.nodes.values():
            while not os.path.exists(f'{CONF_DIR}/n{nd.id}.ready'):
                if time.monotonic() > end or nd.mon.poll() is not None:
                    raise RuntimeError(f'monitor of node {nd.id} not ready')
                time.sleep(0.01)

    def load_all(self, start=True):
        for nd in self.nodes.values():
            args = ['load', f'{CONF_DIR}/n{nd.id}.conf']
            if start:
                args.append('--start')
            nd.ctl(*args)

    def pump(self, timeout):
        """Read whatever the monitors have, for at most TIMEOUT seconds."""
        for key, _ in self.sel.select(timeout):
            nd = key.data
            try:
                data = os.read(key.fd, 65536)
            except BlockingIOError:
                continue
            if not data:
                self.sel.unregister(key.fileobj)
                raise RuntimeError(f'monitor of node {nd.id} exited')
            nd.buf += data
            *lines, nd.buf = nd.buf.split(b'\n')
            for line in lines:
                if line.strip():
                    self.on_event(nd.id, json.loads(line))

    def on_event(self, obs, ev):
        ev['obs'] = obs
        self.events.append(ev)
        kind = ev.get('event', '')
        if kind.startswith('peer-') and 'node_id' in ev:
            self.state[(obs, ev['node_id'])] = kind[5:]
        elif kind == 'node-started':
            for s in self.peers[obs]:
                self.state[(obs, s)] = 'new'
        elif kind == 'node-stopped':
            for s in self.peers[obs]:
                self.state[(obs, s)] = 'down'

    def all_up(self):
        return all(v == 'up' for v in self.state.values())

    def wait(self, cond, secs):
        end = time.monotonic() + secs
        while not cond():
            left = end - time.monotonic()
            if left <= 0:
                return False
            self.pump(min(left, 0.05))
        return True

    def restart(self, ids):
        for i in sorted(ids):
            self.nodes[i].ctl('stop')
            self.nodes[i].ctl('start')

    def sync(self):
        """Read every node's real peer states (events can be lost when a
        monitor's socket overruns, or read after a newer state)."""
        self.pump(0)
        for nd in self.nodes.values():
            for p in json.loads(nd.ctl('peer', 'list', '--json', capture=True)):
                self.state[(nd.id, p['node_id'])] = p['state']

    def wait_all_up(self, secs):
        """Wait on the events, checking the real states every 2 s."""
        end = time.monotonic() + secs
        while True:
            if self.wait(self.all_up, min(2, max(0, end - time.monotonic()))):
                return True
            self.sync()
            if self.all_up():
                return True
            if time.monotonic() >= end:
                return False

    def repair(self, attempts=4):
        """Bring every node back UP after false DOWNs: DOWN is sticky for
        a life, so restart nodes (greedily the one in most DOWN pairs) until
        no DOWN pair is left, then wait.  Returns the restarted node ids."""
        restarted = []
        for _ in range(attempts):
            self.sync()
            down = [k for k, v in self.state.items() if v == 'down']
            while down:
                cnt = {}
                for o, s in down:
                    cnt[o] = cnt.get(o, 0) + 1
                    cnt[s] = cnt.get(s, 0) + 1
                i = max(sorted(cnt), key=cnt.get)
                self.restart([i])
                restarted.append(i)
                down = [(o, s) for o, s in down if i not in (o, s)]
            if self.wait_all_up(10):
                return restarted
        raise RuntimeError('cannot bring the cluster back UP: %s' %
                           {k: v for k, v in self.state.items() if v != 'up'})

    def events_lost(self):
        n = 0
        for nd in self.nodes.values():
            try:
                with open(nd.monlog) as f:
                    n += f.read().count('events lost')
            except (OSError, AttributeError):
                pass
        return n

    def close(self):
        for nd in self.nodes.values():
            nd.close()
        teardown()


def pct(vals, p):
    """Nearest-rank percentile."""
    if not vals:
        return None
    s = sorted(vals)
    k = max(1, -(-len(s) * p // 100))
    return s[int(k) - 1]


def summary(vals):
    if not vals:
        return {'n': 0}
    return {'n': len(vals), 'min': min(vals), 'p50': pct(vals, 50),
            'p99': pct(vals, 99), 'max': max(vals),
            'mean': sum(vals) / len(vals)}


def latency(a):
    n = a.observers + 1
    rng = random.Random(a.seed)
    c = Cluster(n, a.interval, a.misses)
    res = {'interval_ms': a.interval, 'misses': a.misses,
           'dead_ms': c.dead_ms, 'observers': a.observers, 'rounds': 0,
           'spoiled_rounds': 0, 'false_downs': [], 'missed': 0,
           'late_heartbeats': 0, 'detections': [], 'errors': []}
    res['authenticated'] = c.authenticated
    t_start = time.monotonic()
    try:
        c.start_monitors()
        c.load_all()
        if not c.wait_all_up(30):
            res['startup_restarts'] = len(c.repair())
        cut = {i: nd.ifreq('l0', up=False) for i, nd in c.nodes.items()}
        heal = {i: nd.ifreq('l0', up=True) for i, nd in c.nodes.items()}
        # False-DOWN accounting starts here; earlier events are the start-up.
        checked = len(c.events)
        log(f'{a.interval} ms x {a.misses}: {n} nodes UP, '
            f'{a.detections} detections wanted')
        dets = res['detections']
        while len(dets) < a.detections:
            if time.monotonic() - t_start > a.budget:
                res['errors'].append(f'time budget of {a.budget} s used up '
                                     f'after {len(dets)} detections')
                break
            res['rounds'] += 1
            rnd = res['rounds']
            # Every node is the victim in turn, so every node's timer phase
            # is re-drawn (a restart) and observed by the others.
            vid = (rnd - 1) % n + 1
            victim = c.nodes[vid]
            observers = [i for i in c.nodes if i != vid]
            # The all-UP that ended the last wait was a heartbeat arriving:
            # wait a random 0..2 intervals so the cut falls at a random
            # phase of the victim's heartbeat.
            c.wait(lambda: False, rng.uniform(0, 2 * a.interval) / 1000)
            mark = len(c.events)
            t0 = boottime_ns()
            fcntl.ioctl(victim.sock, SIOCSIFFLAGS, cut[vid])
            t1 = boottime_ns()
            got = {}

            def detected():
                for ev in c.events[mark:]:
                    if (ev['event'] == 'peer-down' and ev['node_id'] == vid
                            and ev['obs'] in observers and ev['obs'] not in got):
                        got[ev['obs']] = ev
                return len(got) == len(observers)

            c.wait(detected, (c.dead_ms + a.interval) / 1000 + 5)
            victim.ctl('stop')
            fcntl.ioctl(victim.sock, SIOCSIFFLAGS, heal[vid])
            victim.ctl('start')

            # Events that are not this round's expected detections.
            def false_downs():
                bad = []
                for idx in range(checked, len(c.events)):
                    ev = c.events[idx]
                    if ev['event'] != 'peer-down':
                        continue
                    if idx >= mark and ev['obs'] == vid:
                        continue        # the victim's own view once cut off
                    if idx >= mark and got.get(ev['obs']) is ev:
                        continue        # a detection
                    bad.append(ev)
                return bad

            ok = c.wait(lambda: c.all_up() or false_downs(), 5)
            if not ok and not false_downs():
                ok = c.wait_all_up(15)
            bad = false_downs()
            if bad:
                res['spoiled_rounds'] += 1
                for ev in bad:
                    res['false_downs'].append({
                        'round': rnd, 'observer': ev['obs'],
                        'peer': ev['node_id'], 'reason': ev.get('reason'),
                        'before_cut': c.events.index(ev) < mark,
                        'time_from_cut_ms': (ev['time_ns'] - t0) / 1e6,
                        'silence_ms': (ev['time_ns'] - ev['last_heard_ns']) / 1e6
                        if ev.get('last_heard_ns') else None})
                # Let the DOWNs settle (both ends declare), then restart.
                time.sleep(c.dead_ms * 2 / 1000)
                restarted = c.repair()
                log(f'round {rnd}: spoiled by {len(bad)} false DOWN(s); '
                    f'restarted nodes {restarted}')
                checked = len(c.events)
                continue
            if not ok:
                raise RuntimeError(f'round {rnd}: cluster not UP again after '
                                   f'the victim restarted: ' + str(
                                       {k: v for k, v in c.state.items()
                                        if v != 'up'}))
            checked = len(c.events)
            res['missed'] += len(observers) - len(got)
            for obs, ev in sorted(got.items()):
                d = {'round': rnd, 'victim': vid, 'observer': obs, 't0_ns': t0,
                     'cut_us': (t1 - t0) / 1e3,
                     'latency_ms': (ev['time_ns'] - t0) / 1e6,
                     'silence_ms': (ev['time_ns'] - ev['last_heard_ns']) / 1e6,
                     'last_heard_before_cut_ms': (t0 - ev['last_heard_ns']) / 1e6,
                     'notify_ms': (ev['rx_ns'] - ev['time_ns']) / 1e6,
                     'reason': ev.get('reason')}
                if d['last_heard_before_cut_ms'] > a.interval:
                    res['late_heartbeats'] += 1
                dets.append(d)
            if rnd % 5 == 0:
                log(f'round {rnd}: {len(dets)} detections, '
                    f'{res["spoiled_rounds"]} spoiled')
    except (RuntimeError, OSError, subprocess.SubprocessError, ValueError) as e:
        res['errors'].append(f'aborted: {e}')
        log(f'latency {a.interval} ms x {a.misses}: aborted: {e}')
    finally:
        res['seconds'] = time.monotonic() - t_start
        res['events_lost'] = c.events_lost()
        c.close()
    for key in ('latency_ms', 'silence_ms', 'notify_ms', 'cut_us'):
        res[key] = summary([d[key] for d in res['detections']])
    # Clock sanity: the kernel's own silence must exceed the dead time, and
    # no detection may precede the cut.
    bad = [d for d in res['detections'] if d['silence_ms'] <= c.dead_ms or
           d['latency_ms'] <= 0]
    if bad:
        res['errors'].append(f'{len(bad)} detections violate silence > dead '
                             f'time or latency > 0 (clock sources?)')
    not_timeout = [d for d in res['detections'] if d['reason'] != 'timeout']
    if not_timeout:
        res['errors'].append(f'{len(not_timeout)} detections with a reason '
                             f'other than timeout')
    if res['missed']:
        res['errors'].append(f'{res["missed"]} detections missing (an observer '
                             f'never reported the victim DOWN)')
    return res


def cpu_sample():
    """(seconds since boot, idle CPU-seconds summed over CPUs), read
    together from /proc/uptime (10 ms resolution)."""
    with open('/proc/uptime') as f:
        up, idle = (float(x) for x in f.read().split())
    return up, idle


def ksoftirqd_ns():
    """CPU time of the ksoftirqd threads (schedstat: exact ns)."""
    tot = 0
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            with open(f'/proc/{pid}/comm') as f:
                if not f.read().startswith('ksoftirqd/'):
                    continue
            with open(f'/proc/{pid}/schedstat') as f:
                tot += int(f.read().split()[0])
        except OSError:
            pass
    return tot


def measure(secs):
    """Guest CPU busy share over SECS.  Busy time is wall time minus idle
    time: with NO_HZ the kernel measures idle time exactly, while the
    user/system/softirq ticks of /proc/stat miss short bursts of work
    (a heartbeat burst that ends before the next tick is never sampled)."""
    ncpu = os.cpu_count()
    k0 = ksoftirqd_ns()
    w0, i0 = cpu_sample()
    time.sleep(secs)
    w1, i1 = cpu_sample()
    k1 = ksoftirqd_ns()
    wall = w1 - w0
    # Percent of one core (up to 100 * ncpu).
    return {'busy_pct': 100.0 * (wall * ncpu - (i1 - i0)) / wall,
            'ksoftirqd_pct': 100.0 * (k1 - k0) / 1e9 / (w1 - w0),
            'wall_s': wall, 'ncpu': ncpu}


def peer_stats(c, ids=None):
    """Peer states and link counters summed over nodes IDS (default all)."""
    tx = rx = lost = 0
    states = {}
    for i in ids or c.nodes:
        nd = c.nodes[i]
        for p in json.loads(nd.ctl('peer', 'list', '--json', capture=True)):
            states[(nd.id, p['node_id'])] = p['state']
            for ln in p.get('links', []):
                tx += ln.get('tx_packets', 0)
                rx += ln.get('rx_packets', 0)
                lost += ln.get('lost', 0)
    return states, tx, rx, lost


def bring_up(c, res, secs=60):
    """Poll the node views until every peer is UP.  A view that went DOWN
    (sticky for that life: a TCG stall at start-up) is repaired by
    restarting nodes, greedily the one in most DOWN pairs first."""
    end = time.monotonic() + secs
    while time.monotonic() < end:
        st = peer_stats(c)[0]
        down = [k for k, v in st.items() if v == 'down']
        if all(v == 'up' for v in st.values()):
            return True
        if down:
            res.setdefault('startup_restarts', 0)
            while down:
                cnt = {}
                for o, s in down:
                    cnt[o] = cnt.get(o, 0) + 1
                    cnt[s] = cnt.get(s, 0) + 1
                i = max(cnt, key=cnt.get)
                c.restart([i])
                res['startup_restarts'] += 1
                down = [(o, s) for o, s in down if i not in (o, s)]
        time.sleep(0.5)
    res['errors'].append(f'the nodes did not all come UP within {secs} s '
                         f'(guest saturated?)')
    return False


def cpu(a):
    """CPU cost of heartbeating 16 peers: a star (node 1 with N-1 peers,
    each of them with node 1 only) or a full mesh of N nodes."""
    star = a.topology == 'star'
    c = Cluster(a.nodes, a.interval, a.misses, star=star)
    res = {'nodes': a.nodes, 'topology': a.topology, 'peers': a.nodes - 1,
           'interval_ms': a.interval, 'misses': a.misses,
           'seconds': a.seconds, 'errors': [],
           'authenticated': c.authenticated}
    try:
        c.load_all(start=False)
        time.sleep(1)
        log(f'cpu: {a.nodes} nodes ({a.topology}) configured and stopped: '
            f'baseline {a.seconds} s')
        res['baseline'] = measure(a.seconds)
        for nd in c.nodes.values():
            nd.ctl('start')

        if not bring_up(c, res):
            return res
        # Counters of the hub (star) or of every node (mesh).
        who = [1] if star else None
        # Rates over the interval between the two counter reads (each
        # stamped in the middle of its vclusterctl run).
        c0 = boottime_ns()
        _, tx0, rx0, _ = peer_stats(c, who)
        c0 = (c0 + boottime_ns()) / 2
        log(f'cpu: all UP: running {a.seconds} s')
        res['running'] = measure(a.seconds)
        c1 = boottime_ns()
        _, tx1, rx1, _ = peer_stats(c, who)
        c1 = (c1 + boottime_ns()) / 2
        st, _, _, lost = peer_stats(c)
        res['tx_pps'] = (tx1 - tx0) / ((c1 - c0) / 1e9)
        res['rx_pps'] = (rx1 - rx0) / ((c1 - c0) / 1e9)
        res['expected_pps'] = (a.nodes - 1) * 1000 / a.interval * \
            (1 if star else a.nodes)
        res['lost_total'] = lost
        notup = sorted(k for k, v in st.items() if v != 'up')
        res['not_up_after'] = len(notup)
        if notup:
            res['errors'].append(f'{len(notup)} peer views not UP after the '
                                 f'measurement (false DOWNs: guest saturated '
                                 f'or stalled): {notup[:8]}')
        extra = res['running']['busy_pct'] - res['baseline']['busy_pct']
        res['extra_pct'] = extra
        # Star: the hub sends and receives (N-1) per interval, the N-1
        # leaves together as many (smaller membership lists): the hub is
        # between half and all of the extra.  Mesh: N identical nodes.
        res['per_node_pct'] = extra / 2 if star else extra / a.nodes
        res['per_node_max_pct'] = extra if star else extra / a.nodes
        # Heartbeat datagrams per second in the guest (each sent by one
        # node and received by another): star hub's plus the leaves'.
        dgrams = res['expected_pps'] * (2 if star else 1)
        res['us_per_heartbeat'] = extra / 100 * 1e6 / dgrams
    finally:
        c.close()
    return res


def spin(_a):
    t = time.process_time()
    x = 0
    for i in range(2_000_000):
        x += i & 7
    return {'spin_s': time.process_time() - t}


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest='cmd', required=True)
    p = sub.add_parser('latency')
    p.add_argument('--interval', type=int, required=True)
    p.add_argument('--misses', type=int, required=True)
    p.add_argument('--detections', type=int, default=100)
    p.add_argument('--observers', type=int, default=4)
    p.add_argument("--budget", type=float, default=150)
    p.add_argument('--seed', type=int, default=None)
    p.add_argument('--out', required=True)
    p = sub.add_parser('cpu')
    p.add_argument('--nodes', type=int, default=17)
    p.add_argument('--topology', choices=('star', 'mesh'), default='star')
    p.add_argument('--interval', type=int, default=10)
    p.add_argument('--misses', type=int, default=3)
    p.add_argument('--seconds', type=float, default=10)
    p.add_argument('--out', required=True)
    p = sub.add_parser('spin')
    p.add_argument('--out', required=True)
    a = ap.parse_args()
    os.makedirs(CONF_DIR, exist_ok=True)
    res = {'latency': latency, 'cpu': cpu, 'spin': spin}[a.cmd](a)
    res['kernel'] = os.uname().release
    with open(a.out + '.tmp', 'w') as f:
        json.dump(res, f, indent=1)
    os.rename(a.out + '.tmp', a.out)
    for e in res.get('errors', []):
        log(f'{a.cmd}: {e}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
