#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Timing and parsing helpers of tools/bench.d/pcmk-failover.

  pcmk-run.py state RSC              crm_mon -X on stdin; prints
                                     "HOST DC ONLINE" when RSC is started
                                     on exactly one node and nothing failed;
                                     exit 1 (and why, on stderr) otherwise.
  pcmk-run.py kill PID TIMEOUT RSC FILE:INIT...
                                     SIGKILL PID (t0, CLOCK_MONOTONIC read
                                     just before kill(2)), then poll every
                                     2 ms for one of the FILEs (a survivor's
                                     Dummy state file: written by the
                                     agent's start) = t1; then poll that
                                     survivor's crm_mon (through nsenter
                                     into INIT's namespaces) until the CIB
                                     shows RSC started there = t2.  Prints
                                     "INDEX MS CIB_MS" (INDEX of the FILE
                                     that appeared, from 0), or exits 1.
"""

import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

POLL_S = 0.002


def now_ns():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


def started_on(root, rsc):
    """Nodes the crm_mon XML says RSC is running on, and whether it failed."""
    for r in root.iter('resource'):
        if r.get('id') != rsc:
            continue
        nodes = [n.get('name') for n in r.findall('node')]
        return (nodes if r.get('role') == 'Started' else []), r.get('failed') == 'true'
    return [], False


def cmd_state(rsc):
    """Stable enough to start a run: a DC, RSC started once, no failure."""
    try:
        root = ET.fromstring(sys.stdin.read())
    except ET.ParseError as e:
        print(f'no crm_mon XML: {e}', file=sys.stderr)
        return 1
    dc = root.find('summary/current_dc')
    if dc is None or dc.get('present') != 'true':
        print('no DC', file=sys.stderr)
        return 1
    online = [n.get('name') for n in root.findall('nodes/node')
              if n.get('online') == 'true' and n.get('pending') != 'true'
              and n.get('unclean') != 'true']
    nodes, failed = started_on(root, rsc)
    if failed or root.find('failures/failure') is not None:
        print(f'{rsc} failed', file=sys.stderr)
        return 1
    if len(nodes) != 1:
        print(f'{rsc} started on {nodes}', file=sys.stderr)
        return 1
    print(nodes[0], dc.get('name'), ','.join(online))
    return 0


def crm_started_on(init, rsc):
    """Where RSC runs, asked from inside the host whose init is INIT."""
    try:
        out = subprocess.run(['nsenter', '-t', str(init), '-m', '-n', '-p',
                              'crm_mon', '-1', '-X'], capture_output=True,
                             timeout=5, check=False).stdout
        return started_on(ET.fromstring(out), rsc)[0]
    except (subprocess.TimeoutExpired, ET.ParseError):
        return []


def cmd_kill(pid, timeout, rsc, specs):
    watch = []
    for s in specs:
        f, init = s.rsplit(':', 1)
        watch.append((f, int(init)))
    for f, _ in watch:
        if os.path.exists(f):
            print(f'{f} exists before the kill', file=sys.stderr)
            return 1
    end = now_ns() + int(timeout * 1e9)
    t0 = now_ns()
    os.kill(pid, signal.SIGKILL)
    hit = None
    while hit is None:
        t = now_ns()
        for i, (f, _) in enumerate(watch):
            if os.path.exists(f):
                hit, t1 = i, t
                break
        else:
            if t > end:
                print(f'no survivor started {rsc} within {timeout} s', file=sys.stderr)
                return 1
            time.sleep(POLL_S)
    # The file appears when the agent's start touches it: the CIB learns of
    # the start's result a little later (the agent exits, the executor
    # reports, the controller records it).  t2 is when a crm_mon call that
    # shows it returned: late by up to one call (~20-30 ms).
    while True:
        nodes = crm_started_on(watch[hit][1], rsc)
        t = now_ns()
        if nodes:
            node = nodes[0]
            t2 = t
            break
        if t > end:
            print(f'the CIB never showed {rsc} started', file=sys.stderr)
            return 1
    print(hit, f'{(t1 - t0) / 1e6:.1f}', f'{(t2 - t0) / 1e6:.1f}', node)
    return 0


def main(argv):
    if len(argv) >= 2 and argv[0] == 'state':
        return cmd_state(argv[1])
    if len(argv) >= 5 and argv[0] == 'kill':
        return cmd_kill(int(argv[1]), float(argv[2]), argv[3], argv[4:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
