/*
 * Summarise a V8 .cpuprofile (what `node --cpu-prof` writes): the functions
 * with the most self time and the most inclusive time, counting only samples
 * whose stack passes through a given function (the benchmark loop), plus the
 * share of all samples spent in GC. Usable on its own:
 *
 *   node --import tsx bench/cpuprofile.ts [--root FUNCTION] FILE.cpuprofile...
 *
 * With several files (node writes one per thread: tsx's loader runs in a
 * thread of its own), the one with the most samples under the root is used.
 *
 * Line numbers are left out: tsx hands V8 transformed code, so the profile's
 * lines are not the .ts file's lines; function names survive (tsx keeps them).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

export interface FnShare { fn: string; selfPct: number; totalPct: number }
export interface ProfileSummary {
  /** Samples whose stack passes through the root function. */
  samples: number;
  /** Share of all samples in the garbage collector (they sit outside any JS stack). */
  gcPct: number;
  /** Share of all samples under the root function. */
  rootPct: number;
  top: FnShare[];
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function key(cf: CallFrame): string {
  const file = cf.url.replace(/^file:\/\//, '').replace(ROOT, '');
  return `${cf.functionName || '(anonymous)'}${file ? ` (${file})` : ''}`;
}

export function summariseProfile(p: CpuProfile, rootFn: string, topN = 15): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) byId.set(n.id, n);
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let counted = 0;
  let gc = 0;
  for (const id of p.samples) {
    const leaf = byId.get(id)!;
    if (leaf.callFrame.functionName === '(garbage collector)') gc++;
    // Walk to the root; keep the frames below the benchmark loop.
    const path: string[] = [];
    let under = false;
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const cf = byId.get(cur)!.callFrame;
      if (cf.functionName === rootFn) {
        under = true;
        break;
      }
      path.push(key(cf));
    }
    if (!under) continue;
    counted++;
    const leafKey = path.length ? path[0] : rootFn;
    self.set(leafKey, (self.get(leafKey) ?? 0) + 1);
    for (const f of new Set(path)) total.set(f, (total.get(f) ?? 0) + 1);
  }
  const pct = (n: number, of: number) => (of ? (100 * n) / of : 0);
  const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, topN)
    .map(([fn, n]) => ({ fn, selfPct: pct(n, counted), totalPct: pct(total.get(fn) ?? n, counted) }));
  return { samples: counted, gcPct: pct(gc, p.samples.length), rootPct: pct(counted, p.samples.length), top };
}

/** Summarise the file (of several) with the most samples under rootFn. */
export function summariseFiles(files: readonly string[], rootFn: string, topN = 15): ProfileSummary {
  let best: ProfileSummary | null = null;
  for (const f of files) {
    const s = summariseProfile(JSON.parse(readFileSync(f, 'utf8')) as CpuProfile, rootFn, topN);
    if (best === null || s.samples > best.samples) best = s;
  }
  if (best === null) throw new Error('no profile files');
  return best;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  let root = 'order0PairLoop';
  const r = args.indexOf('--root');
  if (r >= 0) root = args.splice(r, 2)[1];
  const s = summariseFiles(args, root, 25);
  const lines = [`${s.samples} samples under ${root} (${s.rootPct.toFixed(1)}% of all), GC ${s.gcPct.toFixed(1)}%`,
    ...s.top.map((t) => `${t.selfPct.toFixed(1).padStart(5)}% self ${t.totalPct.toFixed(1).padStart(5)}% total  ${t.fn}`)];
  process.stdout.write(lines.join('\n') + '\n');
}
