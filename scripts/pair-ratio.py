#!/usr/bin/env python3
# Reads benchmark lines (scripts/interleave.sh or scripts/before-after.sh
# output) and prints, per binary (before:, after:, or the one binary), the median [min..max] of a metric for two benchmarks and of their
# per-round ratio: the i-th line matching NUM over the i-th matching DEN,
# so both sides of a ratio ran in the same round, under the same load.
#   scripts/pair-ratio.py out.txt 'Startup/engine=weir-' 'Startup/engine=conc-' [records/s]
#   scripts/pair-ratio.py out.txt 'batch=64/workers=3/stats=on' 'weir_notiming:BenchmarkStatsOverhead/batch=64/' cpu-ns/record
import re, statistics as st, sys

path, num, den = sys.argv[1:4]
metric = sys.argv[4] if len(sys.argv) > 4 else 'records/s'
vals = {}
for line in open(path):
    m = re.match(r'^(?:(\S+?):)?(Benchmark\S+)', line)
    if not m:
        continue
    f = line.split()
    try:
        v = float(f[f.index(metric) - 1])
    except ValueError:
        continue
    prefix, name = m.group(1) or '', m.group(2)
    if prefix not in ('before', 'after'):
        # A build tag (interleave.sh's TAGS:) is part of the name: on and
        # off binaries pair within a round.
        name, prefix = (prefix + ':' if prefix else '') + name, ''
    for side, pat in (('num', num), ('den', den)):
        if pat in name:
            vals.setdefault(prefix, {}).setdefault(side, []).append(v)

def med(xs):
    xs = sorted(xs)
    return '%.4g [%.4g..%.4g]' % (st.median(xs), xs[0], xs[-1])

for prefix, d in vals.items():
    a, b = d.get('num', []), d.get('den', [])
    n = min(len(a), len(b))
    if n == 0:
        continue
    label = prefix or '-'
    print('%-8s %s %s: %s' % (label, num, metric, med(a)))
    print('%-8s %s %s: %s' % (label, den, metric, med(b)))
    print('%-8s ratio %s / %s: %s  (%d rounds)' % (label, num, den, med([x / y for x, y in zip(a[:n], b[:n])]), n))
