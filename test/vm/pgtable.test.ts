/*
 * x86 page tables and TLBs: entry bits as pgtable_types.h defines them,
 * entries as stored in memory, the levels of each paging mode, the tables'
 * pages and their accounting, Accessed/Dirty set by the "CPU", and the
 * per-CPU TLBs with flush_tlb_kernel_range().
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PAGE_SIZE } from '../../src/arch/x86/layout.ts';
import {
  _PAGE_ACCESSED, _PAGE_CACHE_MODE_UC, _PAGE_CACHE_MODE_UC_MINUS, _PAGE_CACHE_MODE_WB, _PAGE_CACHE_MODE_WC,
  _PAGE_CACHE_MODE_WP, _PAGE_CACHE_MODE_WT, _PAGE_DIRTY, _PAGE_GLOBAL, _PAGE_NX, _PAGE_PRESENT, _PAGE_RW, _PAGE_TABLE,
  _KERNPG_TABLE, __PAGE_KERNEL, cachemode2protval, pfn_pte, pgprot2cachemode, pte_pfn,
} from '../../src/arch/x86/pgtable.ts';
import { TLB_ENTRIES, tlb_single_page_flush_ceiling } from '../../src/arch/x86/tlb.ts';
import { PGTY_table } from '../../src/mm/page.ts';
import { boot, faults, meminfoKb, tablePages } from './helpers.ts';

test('entry bits and protections are the kernel\'s', () => {
  assert.deepEqual([_PAGE_PRESENT, _PAGE_RW, _PAGE_ACCESSED, _PAGE_DIRTY, _PAGE_GLOBAL], [1, 2, 0x20, 0x40, 0x100]);
  assert.equal(_PAGE_TABLE, 0x67);
  assert.equal(_KERNPG_TABLE, 0x63);
  assert.equal(__PAGE_KERNEL - _PAGE_NX, 0x163);
  assert.equal(pte_pfn(pfn_pte(0x12345678, __PAGE_KERNEL)), 0x12345678);
  // PAT: WB WC UC- UC WB WP UC- WT, selected by PWT (1), PCD (2), PAT (4).
  assert.deepEqual([_PAGE_CACHE_MODE_WB, _PAGE_CACHE_MODE_WC, _PAGE_CACHE_MODE_UC_MINUS, _PAGE_CACHE_MODE_UC, _PAGE_CACHE_MODE_WT,
    _PAGE_CACHE_MODE_WP].map(cachemode2protval), [0, 0x08, 0x10, 0x18, 0x98, 0x88]);
  for (const m of [0, 1, 2, 3, 4, 5]) assert.equal(pgprot2cachemode(cachemode2protval(m)), m);
});

test('x86_64: 4 levels of 512 8-byte entries; a PTE in memory has NX in bit 63', () => {
  const k = boot({ mem: '128M', cpus: 1 });
  const pt = k.paging.pt;
  assert.deepEqual([pt.lv.nr, pt.lv.entrySize, ...pt.lv.ptrs], [4, 8, 512, 512, 512, 512]);
  assert.equal(pt.index(k.VMALLOC_START, 0), 0x192, 'pgd_index(0xffffc90000000000)');
  assert.equal(pt.index(k.layout.PAGE_OFFSET, 0), 0x111);
  assert.equal(pt.pgdPa, k.img.swapperPgDir, 'init_top_pgt in the kernel image');
  const a = k.vmalloc(PAGE_SIZE);
  const w = pt.walk(a);
  assert.equal(w.level, 3);
  const pfn = k.vmalloc_to_pfn(a);
  assert.equal(k.mem.read32(w.entryPa), (pfn * PAGE_SIZE + 0x163) >>> 0);
  assert.equal(k.mem.read32(w.entryPa + 4), 0x80000000);
  // Tables: PUD and PMD pages are PGTY_table and counted; the kernel PTE page is neither (6.12).
  const tables = tablePages(k);
  assert.deepEqual([...tables.values()].sort(), [1, 2, 3]);
  for (const [tpfn, level] of tables) {
    assert.equal(k.pages.page_type(tpfn) >>> 24 === PGTY_table, level < 3, `level ${level}`);
    assert.ok(!k.PageHighMem(k.pfn_to_page(tpfn)));
  }
  assert.equal(meminfoKb(k, 'PageTables'), 8);
  // Table entries are _PAGE_TABLE | the table's address.
  const pgdEntry = pt.readEntry(pt.pgdPa + 0x192 * 8);
  assert.equal(pgdEntry & 0xfff, 0x67);
  assert.equal(tables.get(pte_pfn(pgdEntry)), 1);
  k.vfree(a);
});

test('i386: 2 levels of 1024 4-byte entries, no NX; PAE: a 4-entry PDPT, 8-byte entries, NX', () => {
  const k = boot({ arch: 'i386', mem: '256M', cpus: 1 });
  const pt = k.paging.pt;
  assert.deepEqual([pt.lv.nr, pt.lv.entrySize, ...pt.lv.ptrs], [2, 4, 1024, 1024]);
  const a = k.vmalloc(PAGE_SIZE);
  const w = pt.walk(a);
  assert.equal(w.level, 1);
  assert.equal(k.mem.read32(w.entryPa), (k.vmalloc_to_pfn(a) * PAGE_SIZE + 0x163) >>> 0);
  assert.equal(pt.dump_pagetable(a + PAGE_SIZE, k.paging.maxLowPfn), `*pde = ${pt.entryHexPadded(pt.pgdPa + pt.index(a, 0) * 4)} *pte = 00000000 `);
  assert.equal(pt.dump_pagetable(0x1000, k.paging.maxLowPfn), '*pde = 00000000 ');
  const kp = boot({ arch: 'i386', mem: '256M', cpus: 1, pae: true });
  const pp = kp.paging.pt;
  assert.deepEqual([pp.lv.nr, pp.lv.entrySize, ...pp.lv.ptrs], [3, 8, 4, 512, 512]);
  const b = kp.vmalloc(PAGE_SIZE);
  const pdpt = pp.readEntry(pp.pgdPa + 3 * 8);
  assert.equal(pdpt & 0xfff, 1, 'a PAE PDPT entry holds only _PAGE_PRESENT');
  assert.equal(kp.mem.read32(pp.walk(b).entryPa + 4), 0x80000000, 'NX');
  assert.equal(meminfoKb(kp, 'PageTables'), 4, 'the PMD page');
  assert.match(pp.dump_pagetable(b + PAGE_SIZE, kp.paging.maxLowPfn), /^\*pdpt = [0-9a-f]{13}001 \*pde = [0-9a-f]{13}067 \*pte = 0{16} $/);
  const r = faults(kp, () => kp.kaddr.read8(b + PAGE_SIZE));
  assert.equal(r.lines[4], 'Oops: Oops: 0000 [#1] PREEMPT SMP NOPTI', 'PAE kernels have PTI (disabled)');
  assert.equal(r.lines[7], 'EIP: <anonymous>');
  assert.equal(r.lines.at(-2), `CR2: 00000000${(b + PAGE_SIZE).toString(16)}`);
  const r2 = faults(k, () => k.kaddr.read8(a + PAGE_SIZE));
  assert.equal(r2.lines[4], 'Oops: Oops: 0000 [#1] PREEMPT SMP', 'no PTI without PAE');
});

test('the CPU sets Accessed on use and Dirty on the first write in the leaf PTE', () => {
  const k = boot({ mem: '64M', cpus: 1 });
  const page = k.alloc_page(k.GFP_KERNEL);
  const prot = _PAGE_PRESENT + _PAGE_RW + _PAGE_GLOBAL + _PAGE_NX;
  const v = k.vmap([page], 1, k.VM_MAP, prot);
  const pt = k.paging.pt;
  assert.equal(pt.walk(v).value & 0xfff, 0x103);
  k.kaddr.read8(v);
  assert.equal(pt.walk(v).value & 0xfff, 0x123, 'accessed');
  k.kaddr.write8(v, 1);
  assert.equal(pt.walk(v).value & 0xfff, 0x163, 'dirty');
  k.vunmap(v);
  k.__free_page(page);
});

test('per-CPU TLBs: a miss walks, a hit does not; flush_tlb_kernel_range invalidates pages or flushes all', () => {
  const k = boot({ mem: '64M', cpus: 2 });
  const tlb = k.paging.tlb;
  const a = k.vmalloc(64 * PAGE_SIZE);
  const s0 = tlb.stats(0);
  k.kaddr.read32(a);
  k.kaddr.read32(a + 8);
  k.kaddr.read32(a + 16);
  let s = tlb.stats(0);
  assert.equal(s.misses - s0.misses, 1);
  assert.equal(s.hits - s0.hits, 2);
  // The direct map never goes through the TLB.
  k.kaddr.read32(k.__va(0x200000));
  assert.equal(tlb.stats(0).hits + tlb.stats(0).misses, s.hits + s.misses);
  // CPU 1 has its own TLB.
  k.set_cpu(1);
  k.kaddr.read32(a);
  assert.equal(tlb.stats(1).misses, 1);
  k.set_cpu(0);
  // Two pages conflicting on a slot (TLB_ENTRIES apart) evict each other.
  const b = k.vmalloc((TLB_ENTRIES + 1) * PAGE_SIZE);
  k.kaddr.read8(b);
  k.kaddr.read8(b + TLB_ENTRIES * PAGE_SIZE);
  assert.equal(tlb.lookup(0, b), -1);
  // A small range: INVLPG per page on every CPU; a large one: full flushes.
  s = tlb.stats(0);
  k.flush_tlb_kernel_range(a, a + 2 * PAGE_SIZE);
  assert.equal(tlb.stats(0).flushOne - s.flushOne, 2);
  assert.equal(tlb.stats(1).flushOne, 2);
  assert.equal(tlb.lookup(0, a), -1);
  assert.equal(tlb.lookup(1, a), -1);
  k.kaddr.read32(a);
  k.flush_tlb_kernel_range(a, a + (tlb_single_page_flush_ceiling + 1) * PAGE_SIZE);
  assert.equal(tlb.stats(0).flushAll - s.flushAll, 1);
  assert.equal(tlb.stats(1).flushAll, 1);
  assert.equal(tlb.lookup(0, a), -1);
  k.vfree(a);
  k.vfree(b);
});
