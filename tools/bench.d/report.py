#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
#
# tools/bench.d/report.py DIR SETTINGS DETECTIONS: print tools/bench's
# tables from the JSON files the guest left in DIR (latency-<I>x<M>.json,
# cpu.json, spin-guest.json, spin-host.json).  Exit 0 when every setting
# has its detections and the figures pass the sanity checks, 1 otherwise.

import json
import os
import sys


def load(d, name):
    try:
        with open(os.path.join(d, name)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def ms(v):
    return '-' if v is None else f'{v:.1f}'


def main():
    d, settings, want = sys.argv[1], sys.argv[2].split(), int(sys.argv[3])
    problems = []
    notes = []

    auth = {load(d, f'latency-{s}.json').get('authenticated')
            for s in settings if load(d, f'latency-{s}.json')}
    print('Failure-detection latency: cut of the victim -> PEER_DOWN on each '
          'observer (ms)' + (', authenticated heartbeats' if auth == {True}
                             else ''))
    print()
    hdr = (f'{"setting":<11} {"dead":>5} {"n":>4} {"p50":>6} {"p99":>6} '
           f'{"max":>6}  {"theory":>11}  {"silence p50/p99/max":>20}  '
           f'{"spoiled":>7} {"false":>5}')
    print(hdr)
    print('-' * len(hdr))
    rows = []
    for s in settings:
        r = load(d, f'latency-{s}.json')
        interval, misses = (int(x) for x in s.split('x'))
        name = f'{interval} ms x {misses}'
        if r is None:
            print(f'{name:<11} no result (see the guest output above)')
            problems.append(f'{name}: no result')
            continue
        dead = r['dead_ms']
        lat, sil = r['latency_ms'], r['silence_ms']
        n = lat['n']
        theory = f'{dead - interval}..{dead + interval}'
        print(f'{name:<11} {dead:>5} {n:>4} {ms(lat.get("p50")):>6} '
              f'{ms(lat.get("p99")):>6} {ms(lat.get("max")):>6}  {theory:>11}  '
              f'{ms(sil.get("p50")) + "/" + ms(sil.get("p99")) + "/" + ms(sil.get("max")):>20}  '
              f'{r["spoiled_rounds"]:>3}/{r["rounds"]:<3} {len(r["false_downs"]):>5}')
        rows.append((name, r, interval))
        if n < want:
            problems.append(f'{name}: {n} detections, {want} wanted')
        for e in r.get('errors', []):
            problems.append(f'{name}: {e}')
    print()
    print('theory: the victim\'s last heartbeat left 0..interval before the '
          'cut and the observers\' ageing tick\n'
          '  has its own phase, so cut -> DOWN lies in (dead - interval, '
          'dead + interval], centred on\n'
          '  the dead time; the kernel\'s own silence before DOWN '
          '(time_ns - last_heard_ns) in (dead, dead + interval].')
    print('  Anything beyond that is delivery and timer lateness (TCG '
          'inflates it).  Target on real hardware:\n'
          '  p99 <= 50 ms at 10 ms x 3.')
    for name, r, interval in rows:
        dets = r['detections']
        if not dets:
            continue
        dead = r['dead_ms']
        over = sum(1 for x in dets if x['latency_ms'] > dead + interval)
        under = sum(1 for x in dets if x['latency_ms'] <= dead - interval)
        cut, nt = r['cut_us'], r['notify_ms']
        notes.append(
            f'{name}: {over} of {len(dets)} above the theory bound, {under} '
            f'below (late heartbeat before the cut: {r["late_heartbeats"]}); '
            f'the cut ioctl took p50 {cut["p50"] / 1000:.1f} ms, max '
            f'{cut["max"] / 1000:.1f} ms (t0 is taken before it); '
            f'event -> monitor p50 {nt["p50"]:.1f} ms, p99 {nt["p99"]:.1f} ms; '
            f'{r["rounds"]} rounds in {r["seconds"]:.0f} s')
        if r.get('events_lost'):
            notes.append(f'{name}: a monitor reported {r["events_lost"]} '
                         f'event overrun(s) (states re-read from peer list)')
        if r.get('startup_restarts'):
            notes.append(f'{name}: {r["startup_restarts"]} node restart(s) '
                         f'at start-up (false DOWNs while forming)')
        for fd in r['false_downs'][:6]:
            notes.append(
                f'{name}: FALSE DOWN in round {fd["round"]}: node '
                f'{fd["observer"]} declared node {fd["peer"]} DOWN '
                f'({fd["reason"]}, {"before" if fd["before_cut"] else "after"}'
                f' the cut, silence {ms(fd["silence_ms"])} ms)')
        if len(r['false_downs']) > 6:
            notes.append(f'{name}: ... {len(r["false_downs"]) - 6} more false '
                         f'DOWNs')
    print()
    for n in notes:
        print('  ' + n)

    c = load(d, 'cpu.json')
    if c is not None:
        print()
        topo = c['topology']
        auth = ('authenticated heartbeats' if c.get('authenticated') else
                'unauthenticated heartbeats')
        print(f'CPU cost of heartbeating {c["peers"]} peers at '
              f'{c["interval_ms"]} ms x {c["misses"]} ({c["nodes"]} netns '
              f'nodes in the guest, {topo}, {auth})')
        print()
        if topo == 'star':
            print('  topology: node 1 has the 16 others as peers, each of them '
                  'only node 1.  A full mesh of 17\n'
                  '  would put 17 x 16 x 100 = 27,200 heartbeats/s on one '
                  'emulated CPU: under TCG it saturates\n'
                  '  and collapses into false DOWNs, so it would measure the '
                  'emulator.  Node 1 does what any node\n'
                  '  with 16 peers does; the 16 leaves together send and '
                  'receive as many (shorter) datagrams,\n'
                  '  so node 1 costs between half and all of the extra CPU.')
        b, rn = c.get('baseline'), c.get('running')
        if b:
            print(f'  guest CPU, instances configured but stopped: '
                  f'{b["busy_pct"]:6.2f} % of one core ({b["wall_s"]:.0f} s)')
        if rn:
            print(f'  guest CPU, heartbeating, all UP:             '
                  f'{rn["busy_pct"]:6.2f} % of one core ({rn["wall_s"]:.0f} s; '
                  f'ksoftirqd {rn["ksoftirqd_pct"]:.2f} %)')
            print(f'  extra:                                       '
                  f'{c["extra_pct"]:6.2f} %')
            if topo == 'star':
                print(f'  per node with 16 peers:                      '
                      f'{c["per_node_pct"]:6.2f} % of one core '
                      f'(at most {c["per_node_max_pct"]:.2f} %)')
            else:
                print(f'  per node (extra / {c["nodes"]}):                  '
                      f'{c["per_node_pct"]:6.2f} % of one core')
            print(f'  node 1 sent {c["tx_pps"]:.0f}/s, received '
                  f'{c["rx_pps"]:.0f}/s heartbeats '
                  f'(expected {c["expected_pps"]:.0f}/s each); '
                  f'{c["us_per_heartbeat"]:.1f} us of guest CPU per heartbeat '
                  f'(send + receive)' if topo == 'star' else
                  f'  {c["tx_pps"]:.0f} heartbeats/s sent, {c["rx_pps"]:.0f}/s '
                  f'received (expected {c["expected_pps"]:.0f}/s); '
                  f'{c["us_per_heartbeat"]:.1f} us of guest CPU per heartbeat')
            if c.get('startup_restarts'):
                print(f'  note: {c["startup_restarts"]} node restart(s) were '
                      f'needed at start-up (false DOWNs while the nodes '
                      f'started)')
        for e in c.get('errors', []):
            problems.append(f'cpu: {e}')
        sg, sh = load(d, 'spin-guest.json'), load(d, 'spin-host.json')
        if rn and sg and sh and sh['spin_s'] > 0:
            f = sg['spin_s'] / sh['spin_s']
            print(f'  TCG: a CPU-bound loop runs {f:.0f}x slower in the guest '
                  f'than on this host; scaled by that,\n'
                  f'  a node with 16 peers would cost roughly '
                  f'{c["per_node_pct"] / f:.3f} % of a host core natively '
                  f'(an order of magnitude, not a measurement).')
    elif 'cpu' in sys.argv[4:]:
        problems.append('cpu: no result')

    print()
    if problems:
        print('PROBLEMS:')
        for p in problems:
            print('  - ' + p)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
