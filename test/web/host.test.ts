/*
 * The explorer's kernel side and its page-side reader, in Node (no
 * browser): ExplorerHost (what the worker runs), MachineView (what the
 * page draws from, attached to the same SharedArrayBuffers), snapshots,
 * the trace store, and the URL's boot options. test/web/browser.test.ts
 * runs the same code in Chromium.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ExplorerHost, bootOptionsOf } from '../../src/web/host.ts';
import {
  MachineView, O_ALLOC, O_FREE, O_KERNEL, O_MEMMAP, O_PCP, O_PERCPU, O_SLAB,
} from '../../src/web/machine_view.ts';
import { DEFAULT_BOOT, bootFromQuery, bootToQuery, type BootOptions } from '../../src/web/protocol.ts';
import { decodeSnapshot, encodeSnapshot, restoreSnapshot, takeSnapshot, readSnapshot, SnapshotError } from '../../src/web/snapshot.ts';
import { TraceStore } from '../../src/web/trace_store.ts';
import { decompressBytes } from '../../src/web/decompress.ts';
import { readProc, procFileNames } from '../../src/fs/proc/procfs.ts';
import { start_kernel } from '../../src/init/main.ts';
import { resolveConfig } from '../../src/machine/config.ts';
import { parse_trace_text } from '../../src/trace/parse.ts';
import { TraceReplay } from '../../src/trace/replay.ts';
import { NR_SLAB_RECLAIMABLE_B, NR_SLAB_UNRECLAIMABLE_B } from '../../src/mm/mmzone.ts';
import type { Kernel } from '../../src/kernel/kernel.ts';
import { kmemCacheLayout } from '../../src/mm/slab_types.ts';

const EXCERPT = fileURLToPath(new URL('../../src/web/static/traces/build-20k.txt.xz', import.meta.url));
let excerptText: Uint8Array | null = null;
async function excerpt(): Promise<Uint8Array> {
  excerptText ??= await decompressBytes(readFileSync(EXCERPT));
  return excerptText;
}

function host(opts: Partial<BootOptions> = {}): ExplorerHost {
  const h = new ExplorerHost();
  h.boot({ ...DEFAULT_BOOT, mem: '256M', ...opts });
  return h;
}

/** Every /proc file kmem produces, by name. */
function procAll(k: Kernel): Record<string, string> {
  return Object.fromEntries(procFileNames().map((n) => [n, readProc(k, n)]));
}

function slabPages(k: Kernel): number {
  let bytes = 0;
  for (const pg of k.mmInit.pgdatPa) {
    for (const item of [NR_SLAB_RECLAIMABLE_B, NR_SLAB_UNRECLAIMABLE_B]) bytes += k.access.readLong(pg + k.mz.pgdat.vm_stat + item * k.layout.ptrSize);
  }
  return bytes / 4096;
}

/** What the buddy allocator says is free, by order (free blocks x 2^order), and on pcp lists. */
function kernelCounts(k: Kernel): { free: number[]; pcp: number } {
  const free = new Array<number>(11).fill(0);
  let pcp = 0;
  for (const z of k.buddy.zones) {
    for (let o = 0; o <= 10; o++) free[o] += k.buddy.nr_free(z, o) << o;
    pcp += k.buddy.pcpTotal(z);
  }
  return { free, pcp };
}

describe('MachineView reads the machine as the kernel sees it', () => {
  for (const opts of [{ mem: '256M', cpus: 2 }, { mem: '1G', cpus: 4, nodes: 2 }, { mem: '512M', arch: 'i386' as const, cpus: 1 }]) {
    it(`classifies every page frame: ${JSON.stringify(opts)}`, async () => {
      const h = host(opts);
      // Some of everything: slabs, pcp pages, allocated blocks, free holes.
      h.op({ kind: 'fragment', pages: 3000 });
      for (let i = 0; i < 50; i++) h.op({ kind: 'kmalloc', size: 700, gfp: 'GFP_KERNEL' });
      h.op({ kind: 'alloc_pages', order: 5, gfp: 'GFP_KERNEL' });
      h.op({ kind: 'alloc_pages', order: 0, gfp: 'GFP_KERNEL' });
      h.op({ kind: 'free_pages', page: h.state().allocs.at(-1)!.ptr, order: 0 });
      const v = new MachineView(h.descriptor());
      v.classify();
      const k = h.k;
      const kc = kernelCounts(k);
      for (let o = 0; o <= 10; o++) assert.equal(v.counts[O_FREE + o], kc.free[o], `free pages in order-${o} blocks`);
      assert.equal(v.counts[O_PCP], kc.pcp, 'pages on pcp lists');
      assert.ok(kc.pcp > 0, 'the freed page went to a pcp list');
      assert.equal(v.counts[O_SLAB], slabPages(k), 'slab pages (the node counters)');
      const img = k.img;
      assert.equal(v.counts[O_KERNEL], Math.ceil(img.bssEnd / 4096) - Math.floor(img.text / 4096), 'kernel image pages');
      assert.ok(v.counts[O_MEMMAP] >= Math.ceil((k.mem.size / 4096) * k.pages.pl.size / 4096) * 0.9, 'the memmap');
      assert.ok(v.counts[O_PERCPU] > 0);
      // The order-5 block: 32 pages, allocated, and its head is a compound head? (no __GFP_COMP: 32 plain pages)
      const big = h.state().allocs.find((a) => a.kind === 'pages' && a.order === 5)!;
      for (let i = 0; i < 32; i++) assert.equal(v.owner[big.pfn + i], O_ALLOC, `pfn ${big.pfn + i} of the order-5 block`);
      // Every kmalloc'd object's page is a slab page of kmalloc-1k.
      for (const a of h.state().allocs.filter((x) => x.kind === 'kmalloc')) {
        assert.equal(v.owner[a.pfn], O_SLAB);
        assert.equal(v.cacheName(v.caches[v.cacheIdx[a.pfn]]), 'kmalloc-1k');
      }
      // Hover information for a slab page names its cache and counts its objects.
      const info = v.pageInfo(h.state().allocs.find((x) => x.kind === 'kmalloc')!.pfn)!;
      assert.match(info.detail, /^slab of kmalloc-1k \(order \d, head pfn 0x[0-9a-f]+\): \d+\/\d+ objects in use/);
      assert.ok(info.flags.includes('head') || info.flags.length >= 0);
      // slab_caches read from memory by the page = the kernel's list.
      assert.deepEqual(v.slabCaches(), k.slab.caches());
    });
  }
});

describe('ExplorerHost operations', () => {
  it('kmalloc, kmem_cache_alloc, alloc_pages and their frees: results, allocation list, touched pages', () => {
    const h = host();
    const r1 = h.op({ kind: 'kmalloc', size: 100, gfp: 'GFP_KERNEL|__GFP_ZERO' });
    assert.ok(r1.ok);
    assert.match(r1.text, /^kmalloc\(100, GFP_KERNEL\|__GFP_ZERO\) = ffff8880[0-9a-f]{8} \(kmalloc-128, pfn 0x[0-9a-f]+\)$/);
    const cr = h.op({ kind: 'cache_create', name: 'demo_cache', size: 200, align: 0 });
    assert.ok(cr.ok, cr.text);
    const s = cr.caches[0];
    const r2 = h.op({ kind: 'cache_alloc', cache: s, gfp: 'GFP_KERNEL' });
    assert.ok(r2.ok);
    assert.match(r2.text, /^kmem_cache_alloc\(demo_cache, GFP_KERNEL\) = /);
    const r3 = h.op({ kind: 'alloc_pages', order: 3, gfp: 'GFP_KERNEL' });
    assert.ok(r3.ok);
    assert.equal(r3.pfns.length, 8);
    assert.match(r3.text, /zone DMA32\)$/);
    let st = h.state();
    assert.deepEqual(st.allocs.map((a) => a.kind), ['kmalloc', 'cache', 'pages']);
    // SLUB's slabinfo counts a CPU slab's objects as active: count the objects in use from the slabs themselves.
    const inUse = () => h.cacheDetail(s)!.slabs.reduce((n, sl) => n + sl.free.filter((f) => f < 0).length, 0);
    assert.equal(inUse(), 1);
    for (const a of st.allocs) {
      const r = h.op(a.kind === 'pages' ? { kind: 'free_pages', page: a.ptr, order: a.order }
        : a.kind === 'cache' ? { kind: 'cache_free', cache: a.cache, ptr: a.ptr } : { kind: 'kfree', ptr: a.ptr });
      assert.ok(r.ok, r.text);
    }
    st = h.state();
    assert.deepEqual(st.allocs, []);
    assert.equal(inUse(), 0);
    assert.equal(st.tainted, 'Not tainted');
  });

  it('refuses bad input with a message, not an exception', () => {
    const h = host();
    for (const op of [
      { kind: 'kmalloc', size: 10, gfp: 'GFP_KERNAL' },
      { kind: 'alloc_pages', order: 11, gfp: 'GFP_KERNEL' },
      { kind: 'cache_create', name: 'bad name!', size: 10, align: 0 },
      { kind: 'cache_alloc', cache: 12345, gfp: 'GFP_KERNEL' },
    ] as const) {
      const r = h.op(op);
      assert.equal(r.ok, false, op.kind);
      assert.ok(r.text.length > 10);
    }
    assert.match(h.op({ kind: 'kmalloc', size: 10, gfp: 'GFP_KERNAL' }).text, /unknown GFP flags "GFP_KERNAL"/);
  });

  it('memory pressure down to the low watermark wakes kswapd; release gives it back', () => {
    const h = host({ mem: '128M' });
    const free0 = h.state().memory.nodes[0].zones.reduce((n, z) => n + z.freePages, 0);
    const r = h.op({ kind: 'pressure', to: 'low' });
    assert.ok(r.ok);
    const zones = h.state().memory.nodes[0].zones.filter((z) => z.populated);
    const free = zones.reduce((n, z) => n + z.freePages, 0);
    assert.ok(free <= zones.reduce((n, z) => n + z.low, 0) + 64, `${free} free after pressure`);
    assert.equal(h.state().held, r.pfns.length);
    h.op({ kind: 'release' });
    h.op({ kind: 'drain' });
    assert.equal(h.state().held, 0);
    const after = h.state().memory.nodes[0].zones.reduce((n, z) => n + z.freePages, 0);
    assert.ok(Math.abs(after - free0) < 64, `${after} free after release, ${free0} before`);
  });

  it('a cache opened up: its slabs, where SLUB keeps them, and each object free or in use in freelist order', () => {
    const h = host();
    const s = h.op({ kind: 'cache_create', name: 'objs', size: 512, align: 0 }).caches[0];
    for (let i = 0; i < 20; i++) h.op({ kind: 'cache_alloc', cache: s, gfp: 'GFP_KERNEL' });
    const allocs = h.state().allocs;
    for (const a of allocs.slice(0, 5)) h.op({ kind: 'cache_free', cache: s, ptr: a.ptr });
    const d = h.cacheDetail(s)!;
    assert.equal(d.name, 'objs');
    assert.equal(d.objsize, 512);
    const used = d.slabs.reduce((n, sl) => n + sl.free.filter((f) => f < 0).length, 0);
    assert.equal(used, 15);
    for (const sl of d.slabs) {
      assert.equal(sl.free.length, sl.objects);
      const positions = sl.free.filter((f) => f >= 0).sort((a, b) => a - b);
      assert.deepEqual(positions, positions.map((_, i) => i), 'freelist positions are 0..n-1');
      assert.match(sl.where, /^(cpu\d+(-partial)?|node\d+-partial|full)$/);
    }
    assert.equal(h.cacheDetail(999)!, null);
  });

  it('boots with percpu sheaves when asked (sheaves: all, 7.0): the cache view shows each CPU\'s sheaves and the barn', () => {
    const h = host({ sheaves: 'all' });
    assert.equal(h.k.config.sheaves, 'all');
    assert.equal(bootOptionsOf(h.k).sheaves, 'all');
    const s = h.op({ kind: 'cache_create', name: 'objs', size: 512, align: 0 }).caches[0];
    for (let i = 0; i < 5; i++) h.op({ kind: 'cache_alloc', cache: s, gfp: 'GFP_KERNEL' });
    const lists = h.cacheDetail(s)!.lists;
    const cpu0 = lists.find((r) => r.owner === 'cpu0')!;
    assert.ok(cpu0.sheaves !== null && cpu0.sheaves.capacity > 0 && cpu0.sheaves.main === cpu0.sheaves.capacity - 5, JSON.stringify(cpu0.sheaves));
    assert.deepEqual(lists.find((r) => r.owner === 'node0')!.barn, { full: 0, empty: 1 });
    assert.equal(host().k.config.sheaves, undefined, 'the default machine is 6.12');
  });
});

describe('traces in the explorer', () => {
  it('the stored trace replays exactly as the parser feeds TraceReplay (what kmem replay runs)', async () => {
    const text = await excerpt();
    // The explorer's way: parse into columns, play event by event.
    const h = host({ mem: '1G' });
    const st = h.loadTrace('build-20k', text);
    assert.equal(st.total, 20000);
    assert.equal(st.ncpus, 2);
    h.playTo(7000);
    h.playTo(20000);
    // kmem replay's way.
    const k = start_kernel(resolveConfig({ mem: '1G', cpus: 2 }), { errors: 'log' });
    const r = new TraceReplay(k);
    const parsed = parse_trace_text(text, (e) => r.event(e));
    const want = r.finish(parsed);
    const got = h.replayResult()!;
    for (const key of ['events', 'unmatched_frees', 'failed_allocs', 'kfree_null', 'implicit_frees', 'caches_created', 'peak_slab_pages',
      'slab_pages_end', 'bytes_req', 'bytes_alloc'] as const) {
      assert.equal(got[key], want[key], key);
    }
    assert.equal(readProc(h.k, 'slabinfo'), readProc(k, 'slabinfo'));
    assert.equal(readProc(h.k, 'buddyinfo'), readProc(k, 'buddyinfo'));
    assert.equal(h.state().slabinfo, readProc(k, 'slabinfo'));
    assert.match(h.traceStatus(false, 0)!.last, /^#20000 kmem_cache_alloc: call_site=\S+ ptr=[0-9a-f]{16} name=names_cache /);
  });

  it('seeking back boots again and plays up to the point', async () => {
    const text = await excerpt();
    const h = host();
    h.loadTrace('build-20k', text);
    h.seek(3000);
    const k1 = h.k;
    h.seek(1200);
    assert.notEqual(h.k, k1, 'a new machine');
    assert.equal(h.tracePos, 1200);
    const ref = host();
    ref.loadTrace('build-20k', text);
    ref.playTo(1200);
    assert.equal(readProc(h.k, 'slabinfo'), readProc(ref.k, 'slabinfo'));
    assert.equal(readProc(h.k, 'zoneinfo'), readProc(ref.k, 'zoneinfo'));
  });

  it('TraceStore keeps every field the replay and the status line use', () => {
    const text = [
      '# tracer: nop',
      '  a-1 [001] ..... 1.000001: kmalloc: call_site=f+0x1/0x2 ptr=00000000aaaaaaaa bytes_req=100 bytes_alloc=128 gfp_flags=GFP_KERNEL|__GFP_ZERO node=-1 accounted=false',
      '  a-1 [000] ..... 1.000002: kmem_cache_alloc: call_site=g+0x1/0x2 ptr=00000000bbbbbbbb name=dentry bytes_req=192 bytes_alloc=192 gfp_flags=GFP_KERNEL node=0 accounted=true',
      '  a-1 [000] ..... 1.000003: mm_page_alloc: page=00000000cccccccc pfn=0x1234 order=2 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE',
      '  a-1 [001] ..... 1.000004: mm_page_free: page=00000000cccccccc pfn=0x1234 order=2',
      '  a-1 [001] ..... 1.000005: kfree: call_site=h+0x1/0x2 ptr=00000000aaaaaaaa',
      '',
    ].join('\n');
    const events: string[] = [];
    parse_trace_text(text, (e) => events.push(JSON.stringify({ ...e })));
    const { store } = TraceStore.parse(text);
    assert.equal(store.length, 5);
    for (let i = 0; i < store.length; i++) {
      const want = JSON.parse(events[i]) as Record<string, unknown>;
      const got = { ...store.at(i) } as unknown as Record<string, unknown>;
      for (const key of ['kind', 'type', 'cpu', 'ptr', 'page', 'pfn', 'order', 'migratetype', 'bytes_req', 'bytes_alloc', 'gfp_flags', 'gfp',
        'node', 'accounted', 'name', 'name_id', 'call_site', 'call_site_id', 'ts', 'line', 'pid', 'comm', 'fields']) {
        if (key === 'ptr' && (want.kind as number) >= 4) continue;
        if (key === 'page' && (want.kind as number) < 4) continue;
        assert.deepEqual(got[key], want[key], `event ${i} ${key}`);
      }
    }
  });
});

describe('snapshots', () => {
  it('save and load: the same machine, /proc byte for byte, and it goes on the same way', async () => {
    const text = await excerpt();
    const h = host({ mem: '512M', cpus: 2 });
    h.loadTrace('build-20k', text);
    h.playTo(9000); // creates caches, some with the replay's constructor
    h.op({ kind: 'kmalloc', size: 3000, gfp: 'GFP_KERNEL' });
    h.op({ kind: 'alloc_pages', order: 2, gfp: 'GFP_KERNEL' });
    const before = procAll(h.k);
    const bytes = await h.saveSnapshot();
    assert.equal(bytes[0], 0x1f, 'gzip');
    assert.ok(bytes.length < 4 << 20, `${bytes.length} bytes`);
    const h2 = new ExplorerHost();
    await h2.loadSnapshot(bytes);
    assert.deepEqual(procAll(h2.k), before);
    assert.deepEqual(h2.state().allocs, h.state().allocs);
    assert.equal(h2.k.dmesg(), h.k.dmesg());
    // Both machines now do the same thing and stay equal, constructors included (a new inode-like slab).
    const withCtor = h.k.slab.caches().filter((s) => h.k.access.readPtr(h.k.__pa(s) + kmemCacheLayout(8).ctor) !== 0);
    assert.ok(withCtor.length > 0, 'the replay made caches with a constructor');
    for (const x of [h, h2]) {
      for (let i = 0; i < 40; i++) x.op({ kind: 'kmalloc', size: 96, gfp: 'GFP_KERNEL' });
      for (const s of x.k.slab.caches()) for (let i = 0; i < 3; i++) x.k.kmem_cache_alloc(s, x.k.GFP_KERNEL);
    }
    assert.deepEqual(procAll(h2.k), procAll(h.k));
    assert.deepEqual(h2.state().allocs, h.state().allocs);
  });

  it('stores only pages that are not zero, and refuses what is not a snapshot', async () => {
    const k = start_kernel(resolveConfig({ mem: '1G', cpus: 2 }), { errors: 'log' });
    const raw = takeSnapshot(k);
    const snap = readSnapshot(raw);
    assert.ok(snap.header.pages > 1000 && snap.header.pages < 8000, `${snap.header.pages} pages stored`);
    assert.equal(snap.header.config.memBytes, 2 ** 30);
    const gz = await encodeSnapshot(k);
    assert.ok(gz.length < 1 << 20, `${gz.length} bytes gzipped`);
    const back = restoreSnapshot(await decodeSnapshot(gz));
    assert.equal(readProc(back, 'zoneinfo'), readProc(k, 'zoneinfo'));
    await assert.rejects(decodeSnapshot(new TextEncoder().encode('hello, world')), SnapshotError);
    await assert.rejects(decodeSnapshot(raw.subarray(0, 1000)), /cut short/);
  });
});

describe('boot options in the URL', () => {
  it('round-trips, leaving out defaults and ignoring junk', () => {
    const o: BootOptions = { mem: '512M', cpus: 4, arch: 'i386', nodes: 1, cmdline: 'slab_nomerge', slab: 'slab', sheaves: 'all' };
    const q = bootToQuery(o);
    assert.equal(q.toString(), 'mem=512M&cpus=4&arch=i386&cmdline=slab_nomerge&slab=slab&sheaves=all');
    assert.deepEqual(bootFromQuery(q), o);
    assert.deepEqual(bootFromQuery(new URLSearchParams('cpus=lots&arch=arm64&slab=slab2&sheaves=some')), DEFAULT_BOOT);
    assert.equal(bootToQuery(DEFAULT_BOOT).toString(), '');
  });
});
