#!/usr/bin/env python3
"""scan_pick.py SWEEP_LOG OUT.json: the scan.cl configuration of each shape
class from `scan_timing --sweep` output, as a mambacl-tuning-2 file.

Classes: d_inner 1536 -> [1024, 2047], 2048 -> [2048, 4095], 5120 -> [5120,
8191] (not 1.4b's 4096), others the power-of-two range; batch 1 -> [1, 1],
batch > 1 -> [2, 0]. Per class the configuration with the least geometric
mean of (its time / the best time) over the class's shapes; time_ms and
default_time_ms are the sums over those shapes of its time and of the
configuration the runtime picked before."""
import json, math, re, sys
from collections import defaultdict

def d_class(d):
    fixed = {1536: [1024, 2047], 2048: [2048, 4095], 5120: [5120, 8191]}
    if d in fixed: return fixed[d]
    lo = 1 << (d.bit_length() - 1)
    return [lo, 2 * lo - 1]

def main():
    log, out = sys.argv[1], sys.argv[2]
    times = defaultdict(dict)  # shape -> defines -> ms
    picked, device = {}, None
    for line in open(log):
        f = line.rstrip('\n').split('\t')
        if f[0] == 'device' and len(f) == 5:
            device = {'platform': f[2], 'name': f[3], 'driver': f[4]}
            continue
        m = re.match(r'(sweep|picked) (\d+) (\d+) (\d+) ([0-9.]+) +(.*)$', line.strip())
        if not m or float(m.group(5)) <= 0: continue
        shape = tuple(int(m.group(i)) for i in (2, 3, 4))
        (times[shape] if m.group(1) == 'sweep' else picked)[m.group(6) if m.group(1) == 'sweep' else shape] = \
            float(m.group(5)) if m.group(1) == 'sweep' else float(m.group(5))
    classes = defaultdict(list)
    for shape in times:
        b, d, L = shape
        classes[(tuple(d_class(d)), b == 1)].append(shape)
    entries = []
    for (dc, b1), shapes in sorted(classes.items()):
        common = set.intersection(*(set(times[s]) for s in shapes))
        best = {s: min(times[s].values()) for s in shapes}
        score = lambda c: math.exp(sum(math.log(times[s][c] / best[s]) for s in shapes) / len(shapes))
        win = min(common, key=score)
        params = {k: int(v) for k, v in re.findall(r'-D(\w+)=(-?\d+)', win)}
        entries.append({
            'class': {'d_inner': list(dc), 'batch': [1, 1] if b1 else [2, 0]},
            'params': params,
            'time_ms': round(sum(times[s][win] for s in shapes), 4),
            'default_time_ms': round(sum(picked.get(s, 0) for s in shapes), 4),
            'shape': 'scan_timing --sweep ' + ' '.join('%dx%dx%d' % s for s in sorted(shapes)),
        })
        print('class d_inner %s batch %s: %s (geomean/best %.3f) %s' % (
            dc, '1' if b1 else '2+', ' '.join('%dx%dx%d %.4f (was %.4f)' % (s + (times[s][win], picked.get(s, 0)))
                                             for s in sorted(shapes)), score(win), win))
    doc = {'format': 'mambacl-tuning-2', 'device': device, 'families': {'scan.cl': entries}}
    json.dump(doc, open(out, 'w'), indent=1)

if __name__ == '__main__':
    main()
