/*
 * Highmem (mm/highmem.c) on i386: kmap's pkmap window, kmap_local_page and
 * kmap_atomic's per-CPU fixmap slots, page_address of highmem pages, and
 * kunmap of a page that is not mapped. On x86_64 kmap is page_address.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KernelBug } from '../../src/kernel/bug.ts';
import { PAGE_SIZE } from '../../src/arch/x86/layout.ts';
import { boot, logged, mapped } from './helpers.ts';
import { shareMachine } from '../../src/init/attach.ts';
import { startTsWorker } from '../../src/node/ts_worker.ts';
import type { Kernel } from '../../src/kernel/kernel.ts';

for (const mem of ['1G', '3G']) {
  test(`kmap on i386 ${mem}: a pkmap address, data lands in the highmem page, kunmap releases`, () => {
    const k = boot({ arch: 'i386', mem, cpus: 2 });
    const page = k.alloc_page(k.GFP_HIGHUSER);
    assert.ok(page !== 0);
    assert.ok(k.PageHighMem(page));
    assert.equal(k.page_address(page), 0, 'an unmapped highmem page has no address');
    const va = k.kmap(page);
    assert.ok(va >= k.highmem.PKMAP_BASE && va < k.highmem.PKMAP_ADDR(k.highmem.LAST_PKMAP), va.toString(16));
    assert.equal(k.page_address(page), va, 'page_address finds the kmap');
    assert.equal(k.kmap(page), va, 'a second kmap shares the slot');
    assert.equal(k.highmem.pkmap_count(k.highmem.PKMAP_NR(va)), 3);
    k.kaddr.write32(va + 0x40, 0xfeedface);
    k.kaddr.writeBytes(va + 0x100, new TextEncoder().encode('highmem'));
    assert.equal(k.mem.read32(k.page_to_phys(page) + 0x40), 0xfeedface, 'the bytes are in the page');
    assert.equal(new TextDecoder().decode(k.mem.readBytes(k.page_to_phys(page) + 0x100, 7)), 'highmem');
    k.kunmap(page);
    k.kunmap(page);
    assert.equal(k.highmem.pkmap_count(k.highmem.PKMAP_NR(va)), 1, 'mapped but unused until the next flush');
    // Wrapping the pkmap allocator flushes every unused slot.
    k.highmem.flush_all_zero_pkmaps();
    assert.equal(k.highmem.pkmap_count(k.highmem.PKMAP_NR(va)), 0);
    assert.equal(mapped(k, va), false);
    assert.equal(k.page_address(page), 0);
    // A lowmem page: kmap is page_address.
    const low = k.alloc_page(k.GFP_KERNEL);
    assert.equal(k.kmap(low), k.page_address(low));
    k.kunmap(low);
    k.__free_page(page);
    k.__free_page(low);
  });
}

test('kmap: many pages get distinct slots; slots are reused after the allocator wraps', () => {
  const k = boot({ arch: 'i386', mem: '1G', cpus: 1 });
  const pages = Array.from({ length: 40 }, () => k.alloc_page(k.GFP_HIGHUSER));
  const vas = pages.map((p) => k.kmap(p));
  assert.equal(new Set(vas).size, 40);
  vas.forEach((va, i) => k.kaddr.write32(va, i * 7));
  pages.forEach((p, i) => assert.equal(k.mem.read32(k.page_to_phys(p)), i * 7));
  pages.forEach((p) => k.kunmap(p));
  assert.deepEqual(k.highmem.pkmapStats(), { used: 0, idle: 40 });
  // Map enough distinct pages to wrap: flush_all_zero_pkmaps clears the idle ones.
  const more = Array.from({ length: k.highmem.LAST_PKMAP - 1 }, () => k.alloc_page(k.GFP_HIGHUSER));
  for (const p of more) k.kunmap((k.kmap(p), p));
  assert.ok(k.highmem.pkmapStats().idle <= k.highmem.LAST_PKMAP);
});

/** kmap() every pkmap slot with a page of its own; the pages. */
function kmapAllSlots(k: Kernel): number[] {
  const pages = Array.from({ length: k.highmem.LAST_PKMAP }, () => k.alloc_page(k.GFP_HIGHUSER));
  for (const p of pages) assert.notEqual(k.kmap(p), 0);
  assert.deepEqual(k.highmem.pkmapStats(), { used: k.highmem.LAST_PKMAP, idle: 0 });
  return pages;
}

test('kmap with every pkmap slot in use, alone: the sleep that could never end is reported, NULL, nothing changes', () => {
  const k = boot({ arch: 'i386', mem: '1G', cpus: 1 });
  const pages = kmapAllSlots(k);
  const extra = k.alloc_page(k.GFP_HIGHUSER);
  let va = -1;
  const lines = logged(k, () => { va = k.kmap(extra); });
  assert.equal(va, 0);
  assert.equal(lines[0], 'kmem: kmap would sleep forever: no pkmap slot can become free (single-threaded)');
  assert.match(lines[1], new RegExp(`waits on pkmap_map_wait .*all ${k.highmem.LAST_PKMAP} pkmap slots are in use`));
  assert.ok(lines.some((l) => l.trim() === 'kmap_high'));
  assert.deepEqual(k.highmem.pkmapStats(), { used: k.highmem.LAST_PKMAP, idle: 0 });
  k.kunmap(pages[0]);
  assert.notEqual(k.kmap(extra), 0, 'once a slot is unused, kmap wraps, flushes it and takes it');
});

test('kmap with every pkmap slot in use, SMP: it sleeps until another CPU kunmaps one', async () => {
  const k = boot({ arch: 'i386', mem: '1G', cpus: 2 });
  const pages = kmapAllSlots(k);
  const slot = k.page_address(pages[7]);
  const w = startTsWorker(new URL('./workers/kunmap_later.ts', import.meta.url), {
    workerData: { machine: shareMachine(k), page: pages[7] },
  });
  await new Promise((resolve) => w.once('message', resolve));
  const extra = k.alloc_page(k.GFP_HIGHUSER);
  const t0 = Date.now();
  let va = 0;
  const lines = logged(k, () => { va = k.kmap(extra); }); // blocks this thread until the worker's kunmap
  assert.ok(Date.now() - t0 >= 50, 'it slept');
  assert.deepEqual(lines, [], 'no report');
  assert.equal(va, slot, 'the slot the other CPU gave up');
  await new Promise((resolve) => w.once('exit', resolve));
  k.kunmap(extra);
});

test('kmap_atomic / kmap_local_page: per-CPU fixmap slots nest like a stack; preemption is off under kmap_atomic', () => {
  const k = boot({ arch: 'i386', mem: '1G', cpus: 2 });
  const a = k.alloc_page(k.GFP_HIGHUSER);
  const b = k.alloc_page(k.GFP_HIGHUSER);
  const c = k.alloc_page(k.GFP_HIGHUSER);
  const va = k.kmap_atomic(a);
  assert.equal(k.sched.preempt_count(), 1);
  const vb = k.kmap_atomic(b);
  assert.equal(k.sched.preempt_count(), 2);
  assert.equal(va - vb, PAGE_SIZE, 'the next fixmap slot is one page lower');
  assert.equal(va, k.highmem.__fix_to_virt(68), 'FIX_KMAP_BEGIN + 0 on CPU 0');
  k.kaddr.write32(vb, 0xb);
  k.kaddr.write32(va, 0xa);
  assert.equal(k.highmem.localDepth(), 2);
  k.kunmap_atomic(vb);
  k.kunmap_atomic(va);
  assert.equal(k.sched.preempt_count(), 0);
  assert.equal(k.highmem.localDepth(), 0);
  assert.equal(k.mem.read32(k.page_to_phys(a)), 0xa);
  assert.equal(k.mem.read32(k.page_to_phys(b)), 0xb);
  assert.equal(mapped(k, va), false);
  assert.equal(k.page_address(a), 0, 'a local mapping is not page_address');
  // Another CPU has its own slots.
  k.set_cpu(1);
  const v1 = k.kmap_local_page(c);
  assert.equal(v1, k.highmem.__fix_to_virt(68 + 16));
  assert.equal(k.sched.preempt_count(), 0, 'kmap_local_page leaves preemption on');
  k.kunmap_local(v1);
  k.set_cpu(0);
  // Out of order: the kernel's WARN_ON_ONCE.
  const x = k.kmap_local_page(a);
  const y = k.kmap_local_page(b);
  const lines = logged(k, () => k.kunmap_local(x));
  assert.ok(lines.some((l) => l.includes('WARNING: CPU: 0 PID: 0 at mm/highmem.c:623 kunmap_local_indexed')), lines.join('\n'));
  void y;
});

test('sleeping under kmap_atomic is reported; kmap itself may sleep', () => {
  const k = boot({ arch: 'i386', mem: '1G', cpus: 1 });
  const a = k.alloc_page(k.GFP_HIGHUSER);
  const va = k.kmap_atomic(a);
  const lines = logged(k, () => k.msleep(1));
  assert.ok(lines.includes('BUG: scheduling while atomic: swapper/0/0/0x00000001'), lines.join('\n'));
  const l2 = logged(k, () => k.kunmap(k.alloc_page(k.GFP_KERNEL)));
  void l2;
  const l3 = logged(k, () => k.kmap(a));
  assert.ok(l3.some((l) => l.startsWith('BUG: sleeping function called from invalid context at include/linux/highmem-internal.h')), l3.join('\n'));
  k.kunmap_atomic(va);
});

test('kunmap of a page that is not kmapped: kernel BUG at mm/highmem.c:371, nothing changes', () => {
  const k = boot({ arch: 'i386', mem: '1G', cpus: 1 }, { errors: 'throw' });
  const a = k.alloc_page(k.GFP_HIGHUSER);
  const b = k.alloc_page(k.GFP_HIGHUSER);
  const vb = k.kmap(b);
  const before = k.highmem.pkmapStats();
  assert.throws(() => k.kunmap(a), (e: unknown) => e instanceof KernelBug && e.report.includes('kernel BUG at mm/highmem.c:371!'));
  assert.deepEqual(k.highmem.pkmapStats(), before);
  assert.equal(k.page_address(b), vb);
  // errors: 'log' reports and goes on.
  const k2 = boot({ arch: 'i386', mem: '1G', cpus: 1 });
  const p = k2.alloc_page(k2.GFP_HIGHUSER);
  const lines = logged(k2, () => k2.kunmap(p));
  assert.ok(lines.includes('kernel BUG at mm/highmem.c:371!'));
  assert.ok(lines.some((l) => l === ' kunmap_high'));
});

test('x86_64: no highmem; kmap, kmap_local_page and kmap_atomic return page_address', () => {
  const k = boot({ mem: '256M', cpus: 1 });
  const p = k.alloc_page(k.GFP_HIGHUSER);
  assert.equal(k.kmap(p), k.page_address(p));
  const v = k.kmap_atomic(p);
  assert.equal(v, k.page_address(p));
  k.kunmap_atomic(v);
  assert.equal(k.sched.preempt_count(), 0);
  k.kunmap(p);
  const logLines = logged(k, () => k.kunmap_local(k.kmap_local_page(p)));
  assert.deepEqual(logLines, []);
});
