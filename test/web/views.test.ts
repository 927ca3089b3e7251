/*
 * The explorer's newer views, in Node (no browser): the vmalloc area and
 * page-table walks as the page reads them from the shared RAM, each CPU's
 * and node's part of a slab cache, the live stream of kmem trace events,
 * the `kmem demo` chapters run as the worker runs them, and the slab
 * implementation as a boot option. test/web/browser.test.ts shows the same
 * in Chromium.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ExplorerHost } from '../../src/web/host.ts';
import { MachineView, O_ALLOC, O_VMALLOC } from '../../src/web/machine_view.ts';
import { DEFAULT_BOOT, type BootOptions } from '../../src/web/protocol.ts';
import { demoList, runDemoChapter } from '../../src/web/demo.ts';
import { decompressBytes } from '../../src/web/decompress.ts';
import { readProc } from '../../src/fs/proc/procfs.ts';
import { CHAPTERS } from '../../src/cli/demo/index.ts';
import { Slab } from '../../src/mm/slab.ts';
import { resolveConfig } from '../../src/machine/config.ts';
import { shareMachine } from '../../src/init/attach.ts';

const EXCERPT = fileURLToPath(new URL('../../src/web/static/traces/build-20k.txt.xz', import.meta.url));

function host(opts: Partial<BootOptions> = {}): ExplorerHost {
  const h = new ExplorerHost();
  h.boot({ ...DEFAULT_BOOT, mem: '256M', ...opts });
  return h;
}

describe('the vmalloc view', () => {
  for (const arch of ['x86_64', 'i386'] as const) {
    it(`an area's scattered pages and the page-table walk, read from memory (${arch})`, () => {
      const h = host({ arch });
      const k = h.k;
      h.op({ kind: 'kmalloc', size: 5000, gfp: 'GFP_KERNEL' }); // something between the area's pages, on purpose
      const r = h.op({ kind: 'vmalloc', size: 5 * 4096 - 100 });
      assert.ok(r.ok, r.text);
      assert.equal(r.pfns.length, 5);
      assert.match(r.text, /^vmalloc\(20380\) = [0-9a-f]+ \(5 pages, the first at pfn 0x[0-9a-f]+\)$/);
      const addr = r.addr!;
      const v = new MachineView(h.descriptor());
      v.classify();
      // The page reads the busy list itself: the same areas the kernel's vmallocinfo lists.
      const areas = v.vmalloc.areas();
      const st = h.state();
      assert.deepEqual(areas.map((a) => a.start), st.vmalloc.filter((x) => !x.unpurged).map((x) => x.start));
      assert.deepEqual(st.vmalloc.map((x) => x.line + '\n').join(''), readProc(k, 'vmallocinfo'));
      const area = areas.find((a) => a.start === addr)!;
      assert.equal(area.nrPages, 5);
      assert.equal(area.end - area.start, 6 * 4096, 'five pages and the guard page');
      // Its frames: what the kernel's page tables map, each one the page map's vmalloc colour.
      assert.deepEqual(v.vmalloc.pfns(area), r.pfns);
      for (let i = 0; i < 5; i++) assert.equal(k.paging.vm.vmalloc_to_pfn(addr + i * 4096), r.pfns[i]);
      for (const pfn of r.pfns) assert.equal(v.owner[pfn], O_VMALLOC);
      assert.match(v.pageInfo(r.pfns[2])!.detail, /^vmalloc: mapped at [0-9a-f]+/);
      // The walk, level by level: the entries the kernel's own fault report prints.
      const w = v.vmalloc.walk(addr + 2 * 4096 + 123);
      assert.deepEqual(w.levels.map((l) => l.name), arch === 'x86_64' ? ['PGD', 'P4D', 'PUD', 'PMD', 'PTE'] : ['PGD', 'PTE']);
      assert.equal(w.pfn, r.pfns[2]);
      assert.equal(w.phys, r.pfns[2] * 4096 + 123);
      const pte = w.levels[w.levels.length - 1];
      assert.ok(pte.leaf && pte.present);
      assert.ok(pte.flags.includes('P') && pte.flags.includes('RW') && pte.flags.includes('G'));
      if (arch === 'x86_64') {
        assert.ok(pte.flags.includes('NX'));
        const dump = k.paging.pt.dump_pagetable(addr + 2 * 4096, k.paging.maxLowPfn);
        const printed = w.levels.map((l) => `${l.name} ${l.raw.replace(/^0+(?=.)/, '')}`).join(' ');
        assert.equal(printed, dump.trim());
      } else {
        const dump = k.paging.pt.dump_pagetable(addr + 2 * 4096, k.paging.maxLowPfn);
        assert.equal(`*pde = ${w.levels[0].raw} *pte = ${pte.raw} `, dump);
      }
      // Each table the walk passes through is the page the entry above points at.
      // (The P4D is folded into the PGD: the same entry, read again.)
      for (let i = 1; i < w.levels.length; i++) {
        const l = w.levels[i];
        assert.equal(l.tablePa, l.name === 'P4D' ? w.levels[0].tablePa : w.levels[i - 1].pfn * 4096, l.name);
      }
      // An address nothing maps: the walk stops at the first entry that is not present.
      const guard = v.vmalloc.walk(area.end - 4096);
      assert.equal(guard.pfn, -1);
      assert.equal(guard.levels[guard.levels.length - 1].present, false);
      // vfree: the area goes, its pages go back to the page allocator.
      assert.ok(h.op({ kind: 'vfree', addr }).ok);
      v.classify();
      assert.ok(!v.vmalloc.areas().some((a) => a.start === addr));
      for (const pfn of r.pfns) assert.notEqual(v.owner[pfn], O_VMALLOC);
      assert.ok(!h.state().allocs.some((a) => a.kind === 'vmalloc'));
      assert.equal(v.counts[O_VMALLOC], 0);
      assert.ok(v.counts[O_ALLOC] > 0);
    });
  }
});

describe('a cache per CPU and per node', () => {
  it('SLUB: the CPU slab, its lockless freelist, CPU partial slabs, the node partial list', () => {
    const h = host({ cpus: 2 });
    const k = h.k;
    const s = h.op({ kind: 'cache_create', name: 'percpu_view', size: 256, align: 0 }).caches[0];
    for (let i = 0; i < 3; i++) h.op({ kind: 'cache_alloc', cache: s, gfp: 'GFP_KERNEL' });
    let d = h.cacheDetail(s)!;
    const perSlab = d.objects_per_slab;
    let cpu0 = d.lists.find((r) => r.owner === 'cpu0')!;
    assert.ok(cpu0.active, 'cpu0 has a slab');
    assert.equal(cpu0.cachedName, 'lockless freelist');
    assert.equal(cpu0.cached, perSlab - 3, 'the rest of the slab is on the lockless freelist');
    assert.deepEqual(d.lists.find((r) => r.owner === 'cpu1'), { owner: 'cpu1', active: null, cached: 0, limit: -1,
      cachedName: 'lockless freelist', partial: [], nrPartial: 0, full: -1, free: -1, sheaves: null, barn: null });
    // The same cache allocated from on CPU 1: a slab of its own.
    h.op({ kind: 'cache_alloc', cache: s, gfp: 'GFP_KERNEL' }, 1);
    const cpu1 = h.cacheDetail(s)!.lists.find((r) => r.owner === 'cpu1')!;
    assert.ok(cpu1.active && cpu1.active.pfn !== cpu0.active.pfn);
    assert.equal(cpu1.cached, perSlab - 1);
    h.op({ kind: 'cache_free', cache: s, ptr: h.state().allocs[3].ptr }, 1);
    assert.equal(h.op({ kind: 'kmalloc', size: 8, gfp: 'GFP_KERNEL' }, 7).text, 'there is no CPU 7');
    // Fill two more slabs, then free one object of the first full one: it goes to the CPU's partial list.
    for (let i = 3; i < 3 * perSlab; i++) h.op({ kind: 'cache_alloc', cache: s, gfp: 'GFP_KERNEL' });
    const first = h.state().allocs[0];
    h.op({ kind: 'cache_free', cache: s, ptr: first.ptr });
    d = h.cacheDetail(s)!;
    cpu0 = d.lists.find((r) => r.owner === 'cpu0')!;
    assert.equal(cpu0.nrPartial, 1);
    assert.deepEqual(cpu0.partial.map((p) => [p.pfn, p.inuse]), [[first.pfn, perSlab - 1]]);
    assert.equal(d.slabs.find((x) => x.pfn === first.pfn)!.where, 'cpu0-partial');
    // The node's list: what SLUB's own walk (slabsOf) says is on it.
    const node0 = d.lists.find((r) => r.owner === 'node0')!;
    const impl = k.slab.impl as unknown as { slabsOf(s: number): { pfn: number; where: string }[] };
    assert.deepEqual(node0.partial.map((p) => p.pfn), impl.slabsOf(s).filter((x) => x.where === 'node0-partial').map((x) => x.pfn));
  });

  it('SLAB: each CPU\'s array cache and the node\'s partial, full and free lists', () => {
    const h = host({ slab: 'slab' });
    const impl = h.k.slab.impl;
    assert.ok(impl instanceof Slab);
    const s = h.op({ kind: 'cache_create', name: 'ac_view', size: 128, align: 0 }).caches[0];
    for (let i = 0; i < 5; i++) h.op({ kind: 'cache_alloc', cache: s, gfp: 'GFP_KERNEL' });
    const d = h.cacheDetail(s)!;
    const cpu0 = d.lists.find((r) => r.owner === 'cpu0')!;
    assert.equal(cpu0.cachedName, 'array cache');
    assert.equal(cpu0.cached, impl.cpuAvail(s, 0));
    assert.ok(cpu0.cached > 0, 'the refill left objects in the array cache');
    assert.equal(cpu0.limit, impl.tunables(s).limit);
    const node0 = d.lists.find((r) => r.owner === 'node0')!;
    const slabs = d.slabs.length;
    assert.equal(node0.nrPartial + node0.full + node0.free, slabs);
    // Each object as SLAB sees it: five in use; the slabs count those in the array cache as taken too (slab->active).
    assert.equal(d.slabs.reduce((n, sl) => n + sl.free.filter((f) => f < 0).length, 0), 5);
    assert.equal(d.slabs.reduce((n, sl) => n + sl.inuse, 0), 5 + cpu0.cached);
    assert.deepEqual(d.slabs.map((sl) => sl.where), d.slabs.map((sl) => (sl.inuse === sl.objects ? 'node0-full' : sl.inuse === 0 ? 'node0-free' : 'node0-partial')));
    assert.equal(d.objsize, Number(readProc(h.k, 'slabinfo').split('\n').find((l) => l.startsWith('ac_view '))!.trim().split(/\s+/)[3]));
    assert.match(readProc(h.k, 'slabinfo'), /^ac_view /m);
  });
});

describe('the trace event stream', () => {
  it('streams the enabled kmem events as ftrace lines, each once', async () => {
    const h = host();
    assert.equal(h.setFtrace(['kmalloc', 'kfree'], false), true);
    h.state(); // what boot and the enable left
    const r = h.op({ kind: 'kmalloc', size: 100, gfp: 'GFP_KERNEL' });
    h.op({ kind: 'alloc_pages', order: 1, gfp: 'GFP_KERNEL' }); // mm_page_alloc: not enabled
    h.op({ kind: 'kfree', ptr: r.addr! });
    const st = h.state();
    assert.deepEqual(st.ftraceEvents, ['kfree', 'kmalloc']);
    assert.equal(st.ftraceHashPtr, false);
    const lines = st.ftrace.filter((l) => /: (kmalloc|kfree): /.test(l));
    assert.equal(lines.length, 2, st.ftrace.join('\n'));
    assert.match(lines[0], /^\s+\S+-\d+\s+\[000\] \S{5}\s+\d+\.\d{6}: kmalloc: call_site=explorer_kmalloc\S* ptr=ffff8880[0-9a-f]{8} bytes_req=100 bytes_alloc=128 gfp_flags=GFP_KERNEL node=-1 accounted=false$/);
    assert.match(lines[1], /kfree: call_site=explorer_kfree\S* ptr=ffff8880[0-9a-f]{8}$/);
    assert.ok(!st.ftrace.some((l) => l.includes('mm_page_alloc')));
    assert.deepEqual(h.state().ftrace, [], 'read once: the buffer is consumed');
    // Off, and bad names refused with nothing changed.
    assert.equal(h.setFtrace(['kmalloc', 'no_such_event']), false);
    assert.deepEqual(h.state().ftraceEvents, ['kfree', 'kmalloc']);
    // A new boot (or a trace sought back) keeps the stream on the fresh machine.
    h.boot(h.opts);
    assert.deepEqual(h.state().ftraceEvents, ['kfree', 'kmalloc']);
    h.op({ kind: 'kmalloc', size: 300, gfp: 'GFP_KERNEL' });
    assert.ok(h.state().ftrace.some((l) => l.includes('bytes_req=300 bytes_alloc=512')));
    // While a trace plays: its events, with the trace's call sites, on the CPUs of its lines.
    h.loadTrace('excerpt', await decompressBytes(readFileSync(EXCERPT)));
    h.playTo(400);
    const played = h.state().ftrace;
    assert.ok(played.some((l) => /\[001\] .* kmalloc: call_site=\w+\+0x[0-9a-f]+\/0x[0-9a-f]+ /.test(l)), played.slice(0, 5).join('\n'));
    assert.equal(h.setFtrace([]), true);
    h.op({ kind: 'kmalloc', size: 64, gfp: 'GFP_KERNEL' });
    assert.deepEqual(h.state().ftrace, []);
    assert.equal(h.k.trace.is_enabled('kmalloc'), false);
  });
});

describe('kmem demo in the explorer', () => {
  it('lists every chapter, runs one, and hands over the machine it booted', async () => {
    assert.deepEqual(demoList().map((c) => c.id), CHAPTERS.map((c) => c.id));
    const run = await runDemoChapter('vmalloc', undefined);
    assert.match(run.text, /^Chapter 8: .*\n=+\n/);
    assert.ok(run.kernel, 'the chapter booted a machine');
    const h = host();
    h.adopt(run.kernel, run.bootMs);
    assert.equal(h.k, run.kernel);
    assert.equal(resolveConfig({ mem: h.opts.mem }).memBytes, run.kernel.config.memBytes, 'the boot options say which machine');
    assert.ok(h.state().vmalloc.length > 0, 'what the chapter left in the vmalloc area');
    await assert.rejects(runDemoChapter('no-such-chapter', undefined), /no chapter/);
  });

  it('the replay chapter replays the shipped excerpt of the shared trace', async () => {
    const bytes = await decompressBytes(readFileSync(EXCERPT));
    const run = await runDemoChapter('replay', async () => [bytes]);
    assert.match(run.text, /Here are the first\s+20,000\s+events:/);
    assert.ok(!run.text.includes('a sample of it'));
  });
});

describe('a worker per CPU', () => {
  it('a CPU\'s host attaches to the machine, runs its CPU, and gives it back', () => {
    const h = host({ cpus: 2 });
    const s = h.op({ kind: 'cache_create', name: 'cpu1_cache', size: 96, align: 0 }).caches[0];
    // What src/web/cpu_worker.ts does (here on the same thread): attach as CPU 1.
    const cpu1 = new ExplorerHost();
    cpu1.attachTo(shareMachine(h.k), 1);
    const r = cpu1.op({ kind: 'cache_alloc', cache: s, gfp: 'GFP_KERNEL' }, 1);
    assert.ok(r.ok, r.text);
    assert.equal(r.alloc?.cacheName, 'cpu1_cache');
    // The kernel worker sees the object in CPU 1's slab, in the shared memory, and lists it when told.
    assert.ok(h.cacheDetail(s)!.lists.find((x) => x.owner === 'cpu1')!.active);
    h.record(r);
    assert.deepEqual(h.state().allocs.map((a) => a.ptr), [r.addr]);
    assert.match(h.op({ kind: 'kmalloc', size: 8, gfp: 'GFP_KERNEL' }, 1).text, /^CPU 1 is run by another worker$/);
    const f = cpu1.op({ kind: 'cache_free', cache: s, ptr: r.addr! }, 1);
    assert.deepEqual(f.freed, { kind: 'cache', ptr: r.addr });
    h.record(f);
    assert.deepEqual(h.state().allocs, []);
    // Events enabled by the kernel worker after CPU 1 attached: CPU 1 records them too (cpu_worker.ts re-reads the hooks).
    h.setFtrace(['kmalloc'], false);
    h.state();
    cpu1.k.trace.attach();
    const km = cpu1.op({ kind: 'kmalloc', size: 200, gfp: 'GFP_KERNEL' }, 1);
    const lines = h.state().ftrace;
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0], new RegExp(`\\[001\\] .* kmalloc: call_site=explorer_kmalloc\\S* ptr=${km.text.split(' = ')[1].slice(0, 16)} bytes_req=200 bytes_alloc=256 `));
    cpu1.k.detach();
    assert.ok(h.op({ kind: 'kmalloc', size: 8, gfp: 'GFP_KERNEL' }, 1).ok, 'CPU 1 is the kernel worker\'s again');
  });
});

describe('the slab implementation as a boot option', () => {
  for (const slab of ['slab', 'slob', 'slqb'] as const) {
    it(`boots ${slab}`, () => {
      const h = host({ slab });
      assert.equal(h.k.slab.impl.name, slab.toUpperCase());
      assert.equal(h.opts.slab, slab);
      assert.equal(h.descriptor().config.slab, slab);
    });
  }
});
