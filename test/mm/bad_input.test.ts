/*
 * Bad calls into the page allocator, and machines that cannot exist. The
 * kernel reports a bad free (mm/page_alloc.c bad_page(), VM_BUG_ON_PAGE with
 * CONFIG_DEBUG_VM, include/linux/mm.h put_page_testzero()) and kmem, which
 * keeps running where the kernel would have died, backs out without changing
 * anything. For each case: the report's text, the KernelBug thrown with
 * `errors: 'throw'`, and the allocator state before and after.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KernelBug, type BugKind } from '../../src/kernel/bug.ts';
import { ConfigError, resolveConfig, type MachineConfigInput } from '../../src/machine/config.ts';
import type { Kernel } from '../../src/kernel/kernel.ts';
import { allocatorState, boot, logged } from './helpers.ts';

/** The state a refused call must not touch: free/pcp lists and counters, plus the refcounts and flags of `pfns`. */
function snapshot(k: Kernel, pfns: number[]): string {
  const pages = pfns.map((pfn) => [pfn, k.pages.page_ref_count(pfn), k.pages.flags(pfn), k.pages.page_type(pfn), k.pages.private_(pfn)]);
  return allocatorState(k) + JSON.stringify(pages);
}

interface Case {
  name: string;
  config: MachineConfigInput;
  /** Set up; returns the call that is bad and the pages whose state must survive it. */
  setup(k: Kernel): { bad: () => void; pages: number[] };
  kind: BugKind;
  /** Checks on the log lines of the report. */
  expect(lines: string[], k: Kernel, pages: number[]): void;
}

const hex5 = (pfn: number) => pfn.toString(16).padStart(5, '0');

const CASES: Case[] = [
  {
    name: 'double free of an order-0 page (it sits on a pcp list)',
    config: { arch: 'x86_64', mem: '128M', cpus: 2 },
    setup(k) {
      const page = k.alloc_page(k.GFP_KERNEL);
      k.__free_page(page);
      return { bad: () => k.__free_page(page), pages: [k.page_to_pfn(page)] };
    },
    kind: 'BUG',
    expect(lines, _k, [pfn]) {
      assert.equal(lines[0], `page: refcount:0 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x${pfn.toString(16)}`);
      assert.ok(lines.includes('page dumped because: VM_BUG_ON_PAGE(page_ref_count(page) == 0)'));
      const cut = lines.indexOf('------------[ cut here ]------------');
      assert.ok(cut > 0);
      assert.equal(lines[cut + 1], 'kernel BUG at include/linux/mm.h:1140!');
      assert.equal(lines[cut + 2], 'Oops: invalid opcode: 0000 [#1] PREEMPT SMP NOPTI');
    },
  },
  {
    name: 'double free of an order-4 block (merged back into the buddy lists)',
    config: { arch: 'i386', mem: '256M', cpus: 1 },
    setup(k) {
      const va = k.__get_free_pages(k.GFP_KERNEL, 4);
      k.free_pages(va, 4);
      const pfn = k.page_to_pfn(k.virt_to_page(va));
      assert.ok(k.pages.PageBuddy(pfn));
      return { bad: () => k.free_pages(va, 4), pages: [pfn] };
    },
    kind: 'BUG',
    expect(lines) {
      assert.match(lines[0], /^page: refcount:0 mapcount:0 mapping:00000000 index:0x0 pfn:0x[0-9a-f]+$/);
      assert.ok(lines.includes('page_type: f0(buddy)'));
      assert.ok(lines.includes('page dumped because: VM_BUG_ON_PAGE(page_ref_count(page) == 0)'));
      assert.ok(lines.includes('kernel BUG at include/linux/mm.h:1140!'));
    },
  },
  {
    name: 'freeing a compound page with the wrong order',
    config: { arch: 'x86_64', mem: '128M', cpus: 1 },
    setup(k) {
      const page = k.alloc_pages(k.GFP_KERNEL | k.__GFP_COMP, 2);
      const pfn = k.page_to_pfn(page);
      return { bad: () => k.__free_pages(page, 1), pages: [pfn, pfn + 1, pfn + 2, pfn + 3] };
    },
    kind: 'BUG',
    expect(lines, _k, [pfn]) {
      assert.equal(lines[0], `page: refcount:0 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x${pfn.toString(16)}`);
      assert.match(lines[1], /^flags: 0x[0-9a-f]+\(head\|node=0\|zone=1\)$/);
      assert.ok(lines.includes('page dumped because: VM_BUG_ON_PAGE(compound && compound_order(page) != order)'));
      assert.ok(lines.includes('kernel BUG at mm/page_alloc.c:1132!'));
    },
  },
  {
    name: 'freeing more than was allocated: the extra page belongs to someone else',
    config: { arch: 'x86_64', mem: '128M', cpus: 1 },
    setup(k) {
      const page = k.alloc_pages(k.GFP_KERNEL, 1);
      k.split_page(page, 1); // both pages now have a reference of their own
      const pfn = k.page_to_pfn(page);
      return { bad: () => k.__free_pages(page, 1), pages: [pfn, pfn + 1] };
    },
    kind: 'Bad page state',
    expect(lines, _k, [pfn]) {
      assert.equal(lines[0], `BUG: Bad page state in process swapper/0  pfn:${hex5(pfn + 1)}`);
      assert.equal(lines[1], `page: refcount:1 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x${(pfn + 1).toString(16)}`);
      assert.ok(lines.includes('page dumped because: nonzero _refcount'));
      assert.ok(lines.includes('Modules linked in:'));
      assert.ok(lines.includes('Call Trace:'));
    },
  },
  {
    name: 'freeing with an order the address is not aligned to',
    config: { arch: 'x86_64', mem: '128M', cpus: 1 },
    setup(k) {
      const va = k.__get_free_pages(k.GFP_KERNEL, 2);
      k.split_page(k.virt_to_page(va), 2);
      const pfn = k.page_to_pfn(k.virt_to_page(va));
      k.free_page(va + 2 * 4096); // page 2 is free now; page 1 with order 1 would cover 1..2
      return { bad: () => k.free_pages(va + 4096, 1), pages: [pfn + 1, pfn + 2] };
    },
    kind: 'BUG',
    expect(lines) {
      assert.ok(lines.includes('page dumped because: VM_BUG_ON_PAGE(pfn & ((1 << order) - 1))'));
      assert.ok(lines.includes('kernel BUG at mm/page_alloc.c:825!'));
    },
  },
  {
    name: 'freeing a reserved page: the kernel image',
    config: { arch: 'x86_64', mem: '128M', cpus: 1 },
    setup(k) {
      const pfn = k.img.text / 4096; // 16 MiB: the start of .text
      assert.ok(k.PageReserved(k.pfn_to_page(pfn)));
      return { bad: () => k.__free_page(k.pfn_to_page(pfn)), pages: [pfn] };
    },
    kind: 'Bad page state',
    expect(lines) {
      assert.equal(lines[0], 'BUG: Bad page state in process swapper/0  pfn:01000');
      assert.equal(lines[1], 'page: refcount:0 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x1000');
      assert.match(lines[2], /^flags: 0x[0-9a-f]+\(reserved\|node=0\|zone=1\)$/);
      assert.ok(lines.includes('page dumped because: PAGE_FLAGS_CHECK_AT_FREE flag(s) set'));
    },
  },
  {
    name: 'freeing a page of the BIOS hole by its direct-map address (it has a struct page, PG_reserved)',
    config: { arch: 'i386', mem: '128M', cpus: 1 },
    setup(k) {
      return { bad: () => k.free_page(k.__va(0xa0000)), pages: [0xa0] };
    },
    kind: 'Bad page state',
    expect(lines) {
      assert.equal(lines[0], 'BUG: Bad page state in process swapper/0  pfn:000a0');
      assert.match(lines[2], /^flags: 0x[0-9a-f]+\(reserved\|node=0\|zone=0\)$/);
      assert.ok(lines.includes('page dumped because: PAGE_FLAGS_CHECK_AT_FREE flag(s) set'));
    },
  },
  {
    name: 'free_pages() of an address outside RAM',
    config: { arch: 'x86_64', mem: '128M', cpus: 1 },
    setup(k) {
      return { bad: () => k.free_pages(k.layout.PAGE_OFFSET + 5 * 2 ** 30, 0), pages: [] };
    },
    kind: 'BUG',
    expect(lines) {
      // VM_BUG_ON(!virt_addr_valid((void *)addr)): a bare BUG, nothing dumped before it.
      assert.deepEqual(lines.slice(0, 3), [
        '------------[ cut here ]------------',
        'kernel BUG at mm/page_alloc.c:4955!',
        'Oops: invalid opcode: 0000 [#1] PREEMPT SMP NOPTI',
      ]);
      assert.match(lines[3], /^CPU: 0 UID: 0 PID: 0 Comm: swapper\/0 Not tainted 6\.12\.0-kmem #1$/);
      assert.ok(lines.includes(' free_pages'));
    },
  },
  {
    name: 'free_pages() of a user-space address',
    config: { arch: 'i386', mem: '128M', cpus: 1 },
    setup(k) {
      return { bad: () => k.free_pages(0x08048000, 0), pages: [] };
    },
    kind: 'BUG',
    expect(lines) {
      assert.equal(lines[1], 'kernel BUG at mm/page_alloc.c:4955!');
    },
  },
  {
    name: 'split_page() of a compound page',
    config: { arch: 'x86_64', mem: '128M', cpus: 1 },
    setup(k) {
      const page = k.alloc_pages(k.GFP_KERNEL | k.__GFP_COMP, 2);
      const pfn = k.page_to_pfn(page);
      return { bad: () => k.split_page(page, 2), pages: [pfn, pfn + 1, pfn + 2, pfn + 3] };
    },
    kind: 'BUG',
    expect(lines) {
      assert.ok(lines.includes('page dumped because: VM_BUG_ON_PAGE(PageCompound(page))'));
      assert.ok(lines.includes('kernel BUG at mm/page_alloc.c:2878!'));
    },
  },
];

for (const c of CASES) {
  test(`bad input: ${c.name}`, () => {
    // Logged, and nothing changes.
    const k = boot(c.config);
    const { bad, pages } = c.setup(k);
    const before = snapshot(k, pages);
    const lines = logged(k, bad);
    assert.ok(lines.length > 3, 'no report');
    c.expect(lines, k, pages);
    assert.equal(snapshot(k, pages), before, 'allocator state changed');
    // The report taints the kernel (after its own dump: the first report says "Not tainted").
    assert.notEqual(k.bug.tainted, 0);

    // errors: 'throw': the same report, as a KernelBug, and still nothing changes.
    const t = boot(c.config, { errors: 'throw' });
    const s = c.setup(t);
    const tBefore = snapshot(t, s.pages);
    let thrown: unknown = null;
    const tLines = logged(t, () => {
      try {
        s.bad();
      } catch (e) {
        thrown = e;
      }
    });
    assert.ok(thrown instanceof KernelBug, `expected a KernelBug, got ${String(thrown)}`);
    assert.equal(thrown.kind, c.kind);
    assert.match(thrown.message, c.kind === 'BUG' ? /^kernel BUG at \S+:\d+!$/ : /^BUG: Bad page state in process swapper\/0  pfn:[0-9a-f]{5}$/);
    // The exception carries the report as it was logged.
    const report = thrown.report.split('\n');
    for (const l of report) assert.ok(tLines.includes(l), `report line not in the log: ${JSON.stringify(l)}`);
    c.expect(report, t, s.pages);
    assert.equal(snapshot(t, s.pages), tBefore, 'allocator state changed (errors: throw)');
  });
}

test('bad input: a bad free leaves a usable machine; the right free then works', () => {
  const k = boot({ arch: 'x86_64', mem: '128M', cpus: 1 });
  const page = k.alloc_pages(k.GFP_KERNEL | k.__GFP_COMP, 3);
  const free0 = allocatorState(k);
  k.__free_pages(page, 2);
  assert.equal(allocatorState(k), free0);
  assert.equal(k.page_count(page), 1);
  k.__free_pages(page, 3);
  assert.equal(k.page_count(page), 0);
  assert.equal(k.pages.compound_order(k.page_to_pfn(page)), 0);
});

test('bad input: an unknown gfp bit is dropped silently, as gfp_allowed_mask does (no "Unexpected gfp" from the page allocator)', () => {
  // kmalloc_fix_flags() in mm/slab_common.c prints "Unexpected gfp: ..."; __alloc_pages_noprof()
  // just masks: gfp &= gfp_allowed_mask.
  const a = boot({ arch: 'x86_64', mem: '128M', cpus: 1 });
  const b = boot({ arch: 'x86_64', mem: '128M', cpus: 1 });
  const seq = a.log.nextSeq;
  for (const order of [0, 3, 9]) {
    const pa = a.alloc_pages(a.GFP_KERNEL | 1 << 30, order);
    const pb = b.alloc_pages(b.GFP_KERNEL, order);
    assert.notEqual(pa, 0);
    assert.equal(a.page_to_pfn(pa), b.page_to_pfn(pb));
  }
  assert.equal(a.log.dmesg(seq), '');
  assert.equal(allocatorState(a), allocatorState(b));
  // Bit 25, just above the known ones, too.
  assert.notEqual(a.alloc_pages(a.GFP_ATOMIC | 1 << 25, 0), 0);
  assert.equal(a.log.dmesg(seq), '');
});

/* ------------------------------------------------------------------ */
/* Machines that cannot exist                                         */
/* ------------------------------------------------------------------ */

function configError(input: unknown): ConfigError {
  try {
    resolveConfig(input);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
    return e;
  }
  assert.fail(`accepted: ${JSON.stringify(input)}`);
}

test('config: overlapping e820 entries name the entry', () => {
  const e = configError({
    arch: 'x86_64',
    e820: [
      { start: 0, end: '0x9fc00', type: 'usable' },
      { start: '0x100000', end: '64M', type: 'usable' },
      { start: '32M', size: '1M', type: 'reserved' },
    ],
  });
  assert.equal(e.field, 'e820[2]');
  assert.equal(e.message, 'e820[2]: overlaps e820[1] ([mem 0x0000000002000000-0x00000000020fffff])');
});

test('config: a node without memory names the node', () => {
  const zero = configError({ mem: '1G', cpus: 2, nodes: [{ mem: '1G', cpus: [0] }, { mem: 0, cpus: [1] }] });
  assert.equal(zero.field, 'nodes[1].mem');
  assert.match(zero.message, /node 1 has no memory/);
  // Memory on paper only: the e820 map's RAM ends before node 1's share starts.
  const beyond = configError({
    mem: '256M', cpus: 2,
    e820: [{ start: 0, end: '0x9fc00', type: 'usable' }, { start: '0x100000', end: '128M', type: 'usable' }],
    nodes: [{ mem: '128M', cpus: [0] }, { mem: '128M', cpus: [1] }],
  });
  assert.equal(beyond.field, 'nodes[1]');
  assert.match(beyond.message, /no usable RAM/);
});

test('config: more than 4 GiB on i386 needs PAE', () => {
  const e = configError({ arch: 'i386', mem: '5G' });
  assert.equal(e.field, 'mem');
  assert.match(e.message, /non-PAE i386 kernel can use \(4 GiB, HIGHMEM4G\); set pae/);
  // With PAE the description is valid.
  assert.equal(resolveConfig({ arch: 'i386', mem: '5G', pae: true }).memBytes, 5 * 2 ** 30);
});

test('config: other impossible machines name their field', () => {
  assert.equal(configError({ mem: '16M' }).field, 'mem');
  assert.equal(configError({ cpus: 0 }).field, 'cpus');
  assert.equal(configError({ arch: 'arm64' }).field, 'arch');
  assert.equal(configError({ cpus: 2, nodes: [{ mem: '1G', cpus: [0, 1] }, { mem: '1G', cpus: [1] }] }).field, 'nodes[1].cpus[0]');
  assert.equal(configError({ arch: 'i386', mem: '1G', nodes: 2 }).field, 'nodes');
  assert.equal(configError({ e820: [{ start: 0, end: '1M', type: 'reserved' }] }).field, 'e820');
});
