/*
 * Shared by the paging, vmalloc and ioremap tests: booting, the log lines a
 * call produced (without timestamps), the page-table pages found by walking
 * init_mm's tables out of simulated memory, and the invariants of the
 * vmap_area lists.
 */
import assert from 'node:assert/strict';
import { start_kernel, type BootOptions } from '../../src/init/main.ts';
import { resolveConfig, type MachineConfigInput } from '../../src/machine/config.ts';
import { readProc } from '../../src/fs/proc/procfs.ts';
import { KernelBug } from '../../src/kernel/bug.ts';
import type { Kernel } from '../../src/kernel/kernel.ts';
import { _PAGE_PRESENT, _PAGE_PSE, pte_pfn } from '../../src/arch/x86/pgtable.ts';
import { PGTY_table } from '../../src/mm/page.ts';
import { PAGE_SIZE } from '../../src/arch/x86/layout.ts';

export function boot(input: MachineConfigInput, opts: BootOptions = {}): Kernel {
  return start_kernel(resolveConfig(input), opts);
}

/** Log lines since seq, without timestamps. */
export function logSince(k: Kernel, seq: number): string[] {
  return k.log.dmesg(seq).split('\n').filter((l) => l !== '').map((l) => l.replace(/^\[[ \d.]+\] /, ''));
}

/** Lines logged while fn ran. */
export function logged(k: Kernel, fn: () => void): string[] {
  const seq = k.log.nextSeq;
  fn();
  return logSince(k, seq);
}

/** Run fn, which must throw a KernelBug; its report and the log lines. */
export function faults(k: Kernel, fn: () => unknown): { bug: KernelBug; lines: string[] } {
  const seq = k.log.nextSeq;
  let bug: KernelBug | null = null;
  try {
    fn();
  } catch (e) {
    if (!(e instanceof KernelBug)) throw e;
    bug = e;
  }
  assert.ok(bug, 'expected a KernelBug');
  return { bug, lines: logSince(k, seq) };
}

/** Run fn, which must back out with a KernelBug 'deadlock' (a lock another CPU holds); the lines logged. */
export function deadlocks(k: Kernel, fn: () => unknown): string {
  const seq = k.log.nextSeq;
  assert.throws(fn, (e: unknown) => e instanceof KernelBug && e.kind === 'deadlock');
  return logSince(k, seq).join('\n');
}

/** A meminfo field in kB. */
export function meminfoKb(k: Kernel, name: string): number {
  const m = new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(readProc(k, 'meminfo'));
  assert.ok(m, name);
  return Number(m[1]);
}

/** Every page-table page below swapper_pg_dir (pfn -> level of the table), found by walking the tables. */
export function tablePages(k: Kernel): Map<number, number> {
  const pt = k.paging.pt;
  const out = new Map<number, number>();
  const visit = (tablePa: number, level: number) => {
    for (let i = 0; i < pt.lv.ptrs[level]; i++) {
      const v = pt.readEntry(tablePa + i * pt.lv.entrySize);
      if ((v & _PAGE_PRESENT) === 0 || level === pt.lv.nr - 1 || (level > 0 && (v & _PAGE_PSE) !== 0)) continue;
      const pfn = pte_pfn(v);
      out.set(pfn, level + 1);
      visit(pfn * PAGE_SIZE, level + 1);
    }
  };
  visit(pt.pgdPa, 0);
  return out;
}

/** What meminfo PageTables should say: the table pages with a ctor (PUD and PMD pages), in kB. */
export function pageTableKb(k: Kernel): number {
  let n = 0;
  for (const pfn of tablePages(k).keys()) if (k.pages.page_type(pfn) >>> 24 === PGTY_table) n++;
  return n * 4;
}

/**
 * The vmap_area lists: each sorted and disjoint, and free + busy + lazy
 * tiling [1, ULONG_MAX] exactly (every address of the vmalloc space is in
 * exactly one of them).
 */
export function checkVmapAreas(k: Kernel): void {
  const vm = k.paging.vm;
  if (!vm.initialized) return;
  const all = [
    ...vm.ranges('free').map((r) => [...r, 'free'] as const),
    ...vm.ranges('busy').map((r) => [...r, 'busy'] as const),
    ...vm.ranges('lazy').map((r) => [...r, 'lazy'] as const),
  ].sort((a, b) => a[0] - b[0]);
  for (const which of ['free', 'busy', 'lazy'] as const) {
    const r = vm.ranges(which);
    for (let i = 1; i < r.length; i++) assert.ok(r[i - 1][1] <= r[i][0], `${which} list not sorted/disjoint`);
  }
  const ulongMax = k.layout.ptrSize === 8 ? 2 ** 48 - 1 : 0xffffffff;
  assert.equal(all[0][0], 1, 'the free space starts at 1');
  assert.equal(all[all.length - 1][1], ulongMax, 'the free space ends at ULONG_MAX');
  for (let i = 1; i < all.length; i++) {
    assert.equal(all[i - 1][1], all[i][0], `gap or overlap between ${all[i - 1][2]} and ${all[i][2]} at ${all[i][0].toString(16)}`);
    // Two adjacent free areas would have been merged.
    assert.ok(!(all[i - 1][2] === 'free' && all[i][2] === 'free'), 'adjacent free areas not merged');
  }
}

/** The mapped-ness of a kernel virtual address, by walking the tables (no TLB). */
export function mapped(k: Kernel, va: number): boolean {
  return k.paging.pt.walk(va).mapped;
}
