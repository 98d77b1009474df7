#!/usr/bin/env python3
# Reads the output of scripts/before-after.sh for the two SeedSlim engines
# (weir and baseline) and prints, per binary, the median and range of the
# per-round weir/baseline ratio, and how the two compare.
#   scripts/before-after.sh REV 21 5x ./bench PATTERNS... > out.txt; scripts/slim-ratio.py out.txt
import re,sys,statistics as st
vals={}
for l in open(sys.argv[1]):
    k=l.split()[0].split(':')[0]+':'+re.search(r'engine=(\w+)',l).group(1)
    rate=float(re.search(r'([\d.]+) records/s',l).group(1)); cpu=float(re.search(r'([\d.]+) cpu-ns/record',l).group(1))
    vals.setdefault(k,[]).append((rate,cpu))
def med(xs): xs=sorted(xs); return st.median(xs),xs[0],xs[-1]
g=lambda k,i=0:[v[i] for v in vals[k]]
bw,bb,aw,ab=g('before:weir'),g('before:baseline'),g('after:weir'),g('after:baseline')
for name,xs in [('before weir',bw),('before baseline',bb),('after weir',aw),('after baseline',ab)]:
    print('%-16s records/s median %.2fM [%.2f..%.2f]'%((name,)+tuple(x/1e6 for x in med(xs))))
rb=[w/b for w,b in zip(bw,bb)]; ra=[w/b for w,b in zip(aw,ab)]
print('weir/baseline before: %.3f [%.3f..%.3f]'%med(rb))
print('weir/baseline after:  %.3f [%.3f..%.3f]'%med(ra))
print('after/before of the weir/baseline medians: %.3f'%(st.median(ra)/st.median(rb)))
print('per-round after weir / before weir: %.3f [%.3f..%.3f]'%med([a/b for a,b in zip(aw,bw)]))
print('per-round after baseline / before baseline (same code): %.3f [%.3f..%.3f]'%med([a/b for a,b in zip(ab,bb)]))
print('cpu-ns/record weir before %.1f [%.1f..%.1f]'%med(g('before:weir',1)), 'after %.1f [%.1f..%.1f]'%med(g('after:weir',1)))
print('rounds',len(bw))
