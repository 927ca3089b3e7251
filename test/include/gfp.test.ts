/*
 * GFP flags: the bit values of include/linux/gfp_types.h, the helpers of
 * include/linux/gfp.h and mm/page_alloc.c, and the text forms of
 * include/trace/events/mmflags.h, checked against Linux 6.12 and against the
 * gfp_flags strings of the project's real traces.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';

import {
  __GFP_ACCOUNT, __GFP_BITS_MASK, __GFP_BITS_SHIFT, __GFP_COMP, __GFP_DIRECT_RECLAIM, __GFP_DMA,
  __GFP_DMA32, __GFP_FS, __GFP_HARDWALL, __GFP_HIGH, __GFP_HIGHMEM, __GFP_IO, __GFP_KSWAPD_RECLAIM,
  __GFP_MEMALLOC, __GFP_MOVABLE, __GFP_NO_OBJ_EXT, __GFP_NOFAIL, __GFP_NOLOCKDEP, __GFP_NOMEMALLOC,
  __GFP_NORETRY, __GFP_NOWARN, __GFP_RECLAIM, __GFP_RECLAIMABLE, __GFP_RETRY_MAYFAIL,
  __GFP_SKIP_KASAN, __GFP_SKIP_ZERO, __GFP_THISNODE, __GFP_WRITE, __GFP_ZERO, __GFP_ZEROTAGS,
  GFP_ATOMIC, GFP_DMA, GFP_DMA32, GFP_HIGHUSER, GFP_HIGHUSER_MOVABLE, GFP_KERNEL,
  GFP_KERNEL_ACCOUNT, GFP_NOFS, GFP_NOIO, GFP_NOWAIT, GFP_TRANSHUGE, GFP_TRANSHUGE_LIGHT, GFP_USER,
  GFP_ZONEMASK,
} from '../../src/include/linux/gfp_types.ts';
import {
  __gfp_pfmemalloc_flags, ALLOC_CMA, ALLOC_CPUSET, ALLOC_HIGHATOMIC, ALLOC_KSWAPD,
  ALLOC_MIN_RESERVE, ALLOC_NO_WATERMARKS, ALLOC_NON_BLOCK, ALLOC_OOM, ALLOC_RESERVES,
  ALLOC_WMARK_HIGH, ALLOC_WMARK_LOW, ALLOC_WMARK_MASK, ALLOC_WMARK_MIN, GFP_ZONE_BAD, gfp_has_io_fs,
  gfp_migratetype, gfp_pfmemalloc_allowed, gfp_to_alloc_flags, gfp_to_alloc_flags_cma, gfp_zone,
  gfpflags_allow_blocking, I386_ZONES, MIGRATE_HIGHATOMIC, MIGRATE_MOVABLE, MIGRATE_PCPTYPES,
  MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE, X86_64_ZONES, zoneTypes,
  type GfpTaskContext,
} from '../../src/include/linux/gfp.ts';
import {
  format_gfp_mode, gfpflag_names, gfpflag_names_6_18, parse_gfp_flags, show_gfp_flags,
} from '../../src/include/trace/events/mmflags.ts';

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const gfp = fc.integer({ min: 0, max: __GFP_BITS_MASK });

test('__GFP_* bits have their 6.12 x86_64 values', () => {
  const bits: [number, number][] = [
    [__GFP_DMA, 0x1], [__GFP_HIGHMEM, 0x2], [__GFP_DMA32, 0x4], [__GFP_MOVABLE, 0x8],
    [__GFP_RECLAIMABLE, 0x10], [__GFP_HIGH, 0x20], [__GFP_IO, 0x40], [__GFP_FS, 0x80],
    [__GFP_ZERO, 0x100], [__GFP_DIRECT_RECLAIM, 0x400], [__GFP_KSWAPD_RECLAIM, 0x800],
    [__GFP_WRITE, 0x1000], [__GFP_NOWARN, 0x2000], [__GFP_RETRY_MAYFAIL, 0x4000],
    [__GFP_NOFAIL, 0x8000], [__GFP_NORETRY, 0x10000], [__GFP_MEMALLOC, 0x20000],
    [__GFP_COMP, 0x40000], [__GFP_NOMEMALLOC, 0x80000], [__GFP_HARDWALL, 0x100000],
    [__GFP_THISNODE, 0x200000], [__GFP_ACCOUNT, 0x400000], [__GFP_ZEROTAGS, 0x800000],
    [__GFP_NO_OBJ_EXT, 0x1000000],
  ];
  for (const [bit, value] of bits) assert.equal(bit, value);
  // Every bit but the unused 0x200 is taken, once.
  assert.equal(bits.reduce((m, [b]) => m | b, 0), __GFP_BITS_MASK & ~0x200);
  assert.equal(__GFP_SKIP_ZERO | __GFP_SKIP_KASAN | __GFP_NOLOCKDEP, 0);
  assert.equal(__GFP_BITS_SHIFT, 25);
  assert.equal(__GFP_BITS_MASK, 0x1ffffff);
  assert.equal(GFP_ZONEMASK, 0xf);
  assert.equal(__GFP_RECLAIM, 0xc00);
});

test('composite masks have their 6.12 values', () => {
  assert.equal(GFP_ATOMIC, 0x820);
  assert.equal(GFP_KERNEL, 0xcc0);
  assert.equal(GFP_KERNEL_ACCOUNT, 0x400cc0);
  assert.equal(GFP_NOWAIT, 0x2800);
  assert.equal(GFP_NOIO, 0xc00);
  assert.equal(GFP_NOFS, 0xc40);
  assert.equal(GFP_USER, 0x100cc0);
  assert.equal(GFP_DMA, 0x1);
  assert.equal(GFP_DMA32, 0x4);
  assert.equal(GFP_HIGHUSER, 0x100cc2);
  assert.equal(GFP_HIGHUSER_MOVABLE, 0x100cca);
  assert.equal(GFP_TRANSHUGE_LIGHT, 0x1c20ca);
  assert.equal(GFP_TRANSHUGE, 0x1c24ca);
});

test('enum zone_type numbering per configuration', () => {
  assert.deepEqual(
    [X86_64_ZONES.ZONE_DMA, X86_64_ZONES.ZONE_DMA32, X86_64_ZONES.ZONE_NORMAL,
      X86_64_ZONES.ZONE_HIGHMEM, X86_64_ZONES.ZONE_MOVABLE, X86_64_ZONES.ZONE_DEVICE,
      X86_64_ZONES.MAX_NR_ZONES],
    [0, 1, 2, -1, 3, -1, 4]);
  assert.deepEqual(
    [I386_ZONES.ZONE_DMA, I386_ZONES.ZONE_DMA32, I386_ZONES.ZONE_NORMAL, I386_ZONES.ZONE_HIGHMEM,
      I386_ZONES.ZONE_MOVABLE, I386_ZONES.ZONE_DEVICE, I386_ZONES.MAX_NR_ZONES],
    [0, -1, 1, 2, 3, -1, 4]);
  const withDevice = zoneTypes({ dma: true, dma32: true, highmem: false, device: true });
  assert.equal(withDevice.ZONE_DEVICE, 4);
  assert.equal(withDevice.MAX_NR_ZONES, 5);
});

test('GFP_ZONE_BAD marks every combination of two of DMA, DMA32, HIGHMEM', () => {
  assert.equal(GFP_ZONE_BAD, 0xe8e8);
  for (let bit = 0; bit < 16; bit++) {
    const n = (bit & __GFP_DMA ? 1 : 0) + (bit & __GFP_DMA32 ? 1 : 0) + (bit & __GFP_HIGHMEM ? 1 : 0);
    assert.equal((GFP_ZONE_BAD >> bit) & 1, n >= 2 ? 1 : 0, `bit ${bit}`);
  }
});

test('gfp_zone: every GFP_ZONE_TABLE entry on x86_64 and i386', () => {
  const B = -1;
  // index = flags & GFP_ZONEMASK (DMA 1, HIGHMEM 2, DMA32 4, MOVABLE 8)
  const x86_64 = [2, 0, 2, B, 1, B, B, B, 2, 0, 3, B, 1, B, B, B];
  const i386 = [1, 0, 2, B, 1, B, B, B, 1, 0, 3, B, 1, B, B, B];
  for (let bit = 0; bit < 16; bit++) {
    assert.equal(gfp_zone(bit, X86_64_ZONES), x86_64[bit], `x86_64 0x${bit.toString(16)}`);
    assert.equal(gfp_zone(bit, I386_ZONES), i386[bit], `i386 0x${bit.toString(16)}`);
  }
  // A kernel with neither DMA nor DMA32 nor HIGHMEM: all valid entries NORMAL (0) but M|H.
  const flat = zoneTypes({ dma: false, dma32: false, highmem: false });
  assert.deepEqual([0, 1, 2, 4, 8, 9, 0xa, 0xc].map((b) => gfp_zone(b, flat)), [0, 0, 0, 0, 0, 0, 1, 0]);
});

test('gfp_zone of the common masks', () => {
  const z = X86_64_ZONES;
  const i = I386_ZONES;
  assert.equal(gfp_zone(GFP_KERNEL, z), z.ZONE_NORMAL);
  assert.equal(gfp_zone(GFP_ATOMIC, z), z.ZONE_NORMAL);
  assert.equal(gfp_zone(GFP_DMA, z), z.ZONE_DMA);
  assert.equal(gfp_zone(GFP_DMA32, z), z.ZONE_DMA32);
  assert.equal(gfp_zone(GFP_DMA32, i), i.ZONE_NORMAL);
  assert.equal(gfp_zone(GFP_HIGHUSER, z), z.ZONE_NORMAL);
  assert.equal(gfp_zone(GFP_HIGHUSER, i), i.ZONE_HIGHMEM);
  assert.equal(gfp_zone(GFP_HIGHUSER_MOVABLE, z), z.ZONE_MOVABLE);
  assert.equal(gfp_zone(GFP_HIGHUSER_MOVABLE, i), i.ZONE_MOVABLE);
  assert.equal(gfp_zone(GFP_TRANSHUGE, z), z.ZONE_MOVABLE);
  assert.equal(gfp_zone(GFP_KERNEL | __GFP_MOVABLE, z), z.ZONE_NORMAL);
  assert.equal(gfp_zone(GFP_KERNEL | __GFP_DMA | __GFP_DMA32, z), -1);
  assert.equal(gfp_zone(GFP_HIGHUSER | __GFP_DMA, i), -1);
  fc.assert(fc.property(u32, (x) => gfp_zone(x, z) === gfp_zone(x & GFP_ZONEMASK, z)));
});

test('gfp_migratetype', () => {
  assert.deepEqual([MIGRATE_UNMOVABLE, MIGRATE_MOVABLE, MIGRATE_RECLAIMABLE, MIGRATE_PCPTYPES,
    MIGRATE_HIGHATOMIC], [0, 1, 2, 3, 3]);
  assert.equal(gfp_migratetype(GFP_KERNEL), MIGRATE_UNMOVABLE);
  assert.equal(gfp_migratetype(GFP_HIGHUSER_MOVABLE), MIGRATE_MOVABLE);
  assert.equal(gfp_migratetype(GFP_KERNEL | __GFP_RECLAIMABLE), MIGRATE_RECLAIMABLE);
  assert.equal(gfp_migratetype(__GFP_MOVABLE | __GFP_RECLAIMABLE), MIGRATE_HIGHATOMIC);
  assert.equal(gfp_migratetype(GFP_HIGHUSER_MOVABLE, true), MIGRATE_UNMOVABLE);
});

test('gfpflags_allow_blocking and gfp_has_io_fs', () => {
  assert.equal(gfpflags_allow_blocking(GFP_KERNEL), true);
  assert.equal(gfpflags_allow_blocking(GFP_NOIO), true);
  assert.equal(gfpflags_allow_blocking(GFP_ATOMIC), false);
  assert.equal(gfpflags_allow_blocking(GFP_NOWAIT), false);
  assert.equal(gfpflags_allow_blocking(GFP_TRANSHUGE_LIGHT), false);
  assert.equal(gfp_has_io_fs(GFP_KERNEL), true);
  assert.equal(gfp_has_io_fs(GFP_NOFS), false);
  assert.equal(gfp_has_io_fs(GFP_NOIO), false);
  assert.equal(gfp_has_io_fs(__GFP_FS), false);
});

test('ALLOC_* values of mm/internal.h', () => {
  assert.deepEqual([ALLOC_WMARK_MIN, ALLOC_WMARK_LOW, ALLOC_WMARK_HIGH, ALLOC_WMARK_MASK], [0, 1, 2, 3]);
  assert.equal(ALLOC_NO_WATERMARKS, 0x04);
  assert.equal(ALLOC_OOM, 0x08);
  assert.equal(ALLOC_RESERVES, 0x238);
  assert.equal(ALLOC_MIN_RESERVE, __GFP_HIGH);
  assert.equal(ALLOC_KSWAPD, __GFP_KSWAPD_RECLAIM);
});

test('gfp_to_alloc_flags', () => {
  const rt: GfpTaskContext = { rtTask: true };
  // GFP_KERNEL: min watermark, cpuset, wake kswapd.
  assert.equal(gfp_to_alloc_flags(GFP_KERNEL, 0), ALLOC_WMARK_MIN | ALLOC_CPUSET | ALLOC_KSWAPD);
  // GFP_ATOMIC: both reserve flags, cpuset ignored; order > 0 adds HIGHATOMIC.
  assert.equal(gfp_to_alloc_flags(GFP_ATOMIC, 0), ALLOC_MIN_RESERVE | ALLOC_NON_BLOCK | ALLOC_KSWAPD);
  assert.equal(gfp_to_alloc_flags(GFP_ATOMIC, 1),
    ALLOC_MIN_RESERVE | ALLOC_NON_BLOCK | ALLOC_HIGHATOMIC | ALLOC_KSWAPD);
  // GFP_NOWAIT: cannot block, but no __GFP_HIGH.
  assert.equal(gfp_to_alloc_flags(GFP_NOWAIT, 3), ALLOC_CPUSET | ALLOC_NON_BLOCK | ALLOC_KSWAPD);
  // __GFP_NOMEMALLOC: no NON_BLOCK even when it cannot block.
  assert.equal(gfp_to_alloc_flags(GFP_NOWAIT | __GFP_NOMEMALLOC, 0), ALLOC_CPUSET | ALLOC_KSWAPD);
  assert.equal(gfp_to_alloc_flags(GFP_ATOMIC | __GFP_NOMEMALLOC, 2), ALLOC_MIN_RESERVE | ALLOC_KSWAPD);
  assert.equal(gfp_to_alloc_flags(GFP_TRANSHUGE_LIGHT, 9), ALLOC_CPUSET);
  // Blocking __GFP_HIGH keeps the cpuset check.
  assert.equal(gfp_to_alloc_flags(GFP_KERNEL | __GFP_HIGH, 0),
    ALLOC_CPUSET | ALLOC_MIN_RESERVE | ALLOC_KSWAPD);
  // RT tasks get MIN_RESERVE for blocking requests, in task context only.
  assert.equal(gfp_to_alloc_flags(GFP_KERNEL, 0, rt), ALLOC_CPUSET | ALLOC_MIN_RESERVE | ALLOC_KSWAPD);
  assert.equal(gfp_to_alloc_flags(GFP_KERNEL, 0, { rtTask: true, softirqDisabled: true }),
    ALLOC_CPUSET | ALLOC_MIN_RESERVE | ALLOC_KSWAPD);
  assert.equal(gfp_to_alloc_flags(GFP_KERNEL, 0, { rtTask: true, inServingSoftirq: true }),
    ALLOC_CPUSET | ALLOC_KSWAPD);
  assert.equal(gfp_to_alloc_flags(GFP_KERNEL, 0, { rtTask: true, inHardirq: true }),
    ALLOC_CPUSET | ALLOC_KSWAPD);
  assert.equal(gfp_to_alloc_flags(GFP_NOWAIT, 0, rt), ALLOC_CPUSET | ALLOC_NON_BLOCK | ALLOC_KSWAPD);
  // CONFIG_CMA: movable requests may use CMA pageblocks.
  assert.equal(gfp_to_alloc_flags(GFP_HIGHUSER_MOVABLE, 0, undefined, true),
    ALLOC_CPUSET | ALLOC_KSWAPD | ALLOC_CMA);
  assert.equal(gfp_to_alloc_flags(GFP_HIGHUSER_MOVABLE, 0), ALLOC_CPUSET | ALLOC_KSWAPD);
  assert.equal(gfp_to_alloc_flags(GFP_KERNEL, 0, undefined, true), ALLOC_CPUSET | ALLOC_KSWAPD);
  assert.equal(gfp_to_alloc_flags_cma(GFP_HIGHUSER_MOVABLE, ALLOC_NO_WATERMARKS, true),
    ALLOC_NO_WATERMARKS | ALLOC_CMA);

  fc.assert(fc.property(gfp, fc.integer({ min: 0, max: 10 }), fc.boolean(), (x, order, rtTask) => {
    const f = gfp_to_alloc_flags(x, order, { rtTask });
    const nonBlock = !(x & __GFP_DIRECT_RECLAIM) && !(x & __GFP_NOMEMALLOC);
    return (f & (ALLOC_NO_WATERMARKS | ALLOC_OOM | ALLOC_WMARK_MASK)) === 0 &&
      (f & ALLOC_KSWAPD) === (x & __GFP_KSWAPD_RECLAIM) &&
      !!(f & ALLOC_NON_BLOCK) === nonBlock &&
      !!(f & ALLOC_HIGHATOMIC) === (nonBlock && order > 0 && !!(x & __GFP_HIGH));
  }));
});

test('__gfp_pfmemalloc_flags', () => {
  assert.equal(__gfp_pfmemalloc_flags(GFP_KERNEL), 0);
  assert.equal(__gfp_pfmemalloc_flags(GFP_ATOMIC | __GFP_MEMALLOC), ALLOC_NO_WATERMARKS);
  assert.equal(__gfp_pfmemalloc_flags(GFP_ATOMIC | __GFP_MEMALLOC | __GFP_NOMEMALLOC), 0);
  assert.equal(__gfp_pfmemalloc_flags(GFP_ATOMIC | __GFP_MEMALLOC, { inHardirq: true }), ALLOC_NO_WATERMARKS);
  assert.equal(__gfp_pfmemalloc_flags(GFP_KERNEL, { pfMemalloc: true }), ALLOC_NO_WATERMARKS);
  assert.equal(__gfp_pfmemalloc_flags(GFP_KERNEL | __GFP_NOMEMALLOC, { pfMemalloc: true }), 0);
  assert.equal(__gfp_pfmemalloc_flags(GFP_ATOMIC, { pfMemalloc: true, inHardirq: true }), 0);
  assert.equal(__gfp_pfmemalloc_flags(GFP_ATOMIC, { pfMemalloc: true, softirqDisabled: true }), 0);
  assert.equal(__gfp_pfmemalloc_flags(GFP_ATOMIC, { pfMemalloc: true, inServingSoftirq: true }),
    ALLOC_NO_WATERMARKS);
  assert.equal(__gfp_pfmemalloc_flags(GFP_KERNEL, { oomVictim: true }), ALLOC_OOM);
  assert.equal(__gfp_pfmemalloc_flags(GFP_ATOMIC, { oomVictim: true, inServingSoftirq: true }), 0);
  assert.equal(__gfp_pfmemalloc_flags(GFP_KERNEL, { oomVictim: true, pfMemalloc: true }), ALLOC_NO_WATERMARKS);
  assert.equal(gfp_pfmemalloc_allowed(GFP_KERNEL), false);
  assert.equal(gfp_pfmemalloc_allowed(GFP_KERNEL, { oomVictim: true }), true);
});

test('show_gfp_flags: greedy in the 6.12 table order', () => {
  assert.equal(show_gfp_flags(0), 'none');
  assert.equal(show_gfp_flags(GFP_KERNEL | __GFP_ZERO), 'GFP_KERNEL|__GFP_ZERO');
  assert.equal(show_gfp_flags(GFP_NOWAIT), 'GFP_NOWAIT');
  assert.equal(show_gfp_flags(GFP_KERNEL | __GFP_NOWARN), 'GFP_KERNEL|__GFP_NOWARN');
  assert.equal(show_gfp_flags(GFP_ATOMIC | __GFP_NOWARN), 'GFP_ATOMIC|__GFP_NOWARN');
  assert.equal(show_gfp_flags(GFP_ATOMIC | __GFP_DMA), 'GFP_ATOMIC|GFP_DMA');
  assert.equal(show_gfp_flags(GFP_USER | __GFP_DMA32 | __GFP_NOWARN), 'GFP_USER|GFP_DMA32|__GFP_NOWARN');
  assert.equal(show_gfp_flags(GFP_TRANSHUGE), 'GFP_TRANSHUGE');
  assert.equal(show_gfp_flags(GFP_TRANSHUGE_LIGHT), 'GFP_TRANSHUGE_LIGHT');
  assert.equal(show_gfp_flags(GFP_HIGHUSER_MOVABLE | __GFP_ZERO | __GFP_COMP),
    'GFP_HIGHUSER_MOVABLE|__GFP_COMP|__GFP_ZERO');
  assert.equal(show_gfp_flags(GFP_NOFS | __GFP_HIGHMEM | __GFP_MOVABLE | __GFP_HARDWALL),
    'GFP_NOFS|__GFP_HIGHMEM|__GFP_HARDWALL|__GFP_MOVABLE');
  // __GFP_RECLAIM alone is GFP_NOIO, which comes first.
  assert.equal(show_gfp_flags(__GFP_RECLAIM), 'GFP_NOIO');
  assert.equal(show_gfp_flags(__GFP_DIRECT_RECLAIM), '__GFP_DIRECT_RECLAIM');
  assert.equal(show_gfp_flags(__GFP_HIGH), '__GFP_HIGH');
  // Unnamed bits: the unused bit 9, __GFP_NO_OBJ_EXT, anything above __GFP_BITS_MASK.
  assert.equal(show_gfp_flags(0x200), '0x200');
  assert.equal(show_gfp_flags(GFP_KERNEL | __GFP_NO_OBJ_EXT), 'GFP_KERNEL|0x1000000');
  assert.equal(show_gfp_flags(~__GFP_BITS_MASK), '0xfe000000');
  assert.equal(show_gfp_flags(~__GFP_BITS_MASK | __GFP_HIGH), '__GFP_HIGH|0xfe000000');
});

test('show_gfp_flags with the 6.18 table: single bits in bit order', () => {
  assert.equal(show_gfp_flags(GFP_HIGHUSER_MOVABLE | __GFP_ZERO | __GFP_COMP, gfpflag_names_6_18),
    'GFP_HIGHUSER_MOVABLE|__GFP_ZERO|__GFP_COMP');
  assert.equal(show_gfp_flags(GFP_KERNEL | __GFP_ZERO, gfpflag_names_6_18), 'GFP_KERNEL|__GFP_ZERO');
  assert.equal(show_gfp_flags(GFP_NOWAIT, gfpflag_names_6_18), 'GFP_NOWAIT');
  assert.equal(show_gfp_flags(__GFP_RECLAIM, gfpflag_names_6_18), 'GFP_NOIO');
  assert.equal(show_gfp_flags(0, gfpflag_names_6_18), 'none');
});

test('format_gfp_mode: warn_alloc\'s mode:%#x(%pGg)', () => {
  assert.equal(format_gfp_mode(GFP_KERNEL), '0xcc0(GFP_KERNEL)');
  assert.equal(format_gfp_mode(GFP_ATOMIC | __GFP_NOWARN), '0x2820(GFP_ATOMIC|__GFP_NOWARN)');
  assert.equal(format_gfp_mode(GFP_TRANSHUGE), '0x1c24ca(GFP_TRANSHUGE)');
  assert.equal(format_gfp_mode(0x200 | GFP_KERNEL), '0xec0(GFP_KERNEL|0x200)');
  // %pGg prints nothing for 0, and the kernel's %#x prints 0 as 0x0.
  assert.equal(format_gfp_mode(0), '0x0()');
});

test('parse_gfp_flags inverts show_gfp_flags (both tables)', () => {
  for (const names of [gfpflag_names, gfpflag_names_6_18]) {
    fc.assert(fc.property(gfp, (x) => parse_gfp_flags(show_gfp_flags(x, names)) === x));
    fc.assert(fc.property(u32, (x) => parse_gfp_flags(show_gfp_flags(x, names)) === x));
  }
  // Only the unused bit and __GFP_NO_OBJ_EXT are left over as hex within __GFP_BITS_MASK.
  fc.assert(fc.property(gfp, (x) => {
    const last = show_gfp_flags(x).split('|').pop()!;
    return !last.startsWith('0x') || (parseInt(last, 16) & ~(0x200 | __GFP_NO_OBJ_EXT)) === 0;
  }));
  for (let bit = 0; bit < 32; bit++) {
    assert.equal(parse_gfp_flags(show_gfp_flags(2 ** bit)), 2 ** bit);
  }
});

test('parse_gfp_flags: names, hex, none and errors', () => {
  assert.equal(parse_gfp_flags('none'), 0);
  assert.equal(parse_gfp_flags('GFP_NOWAIT'), GFP_NOWAIT);
  assert.equal(parse_gfp_flags('GFP_KERNEL|__GFP_ZERO'), 0xdc0);
  assert.equal(parse_gfp_flags('__GFP_ZERO|GFP_KERNEL'), 0xdc0);
  assert.equal(parse_gfp_flags('__GFP_DMA|__GFP_DMA32|__GFP_NO_OBJ_EXT'), 0x1000005);
  assert.equal(parse_gfp_flags('GFP_KERNEL|0x200'), 0xec0);
  assert.equal(parse_gfp_flags('0xfe000000'), 0xfe000000);
  for (const bad of ['', 'GFP_KERNEL|', '|GFP_KERNEL', 'GFP_BOGUS', '0x', '0x123456789', 'gfp_kernel',
    'GFP_KERNEL|none', ' GFP_KERNEL', '208']) {
    assert.equal(parse_gfp_flags(bad), null, JSON.stringify(bad));
  }
});

test('parse_gfp_flags: pre-4.6 spellings map onto today\'s bits', () => {
  assert.equal(parse_gfp_flags('GFP_KERNEL|GFP_ZERO'), GFP_KERNEL | __GFP_ZERO);
  assert.equal(parse_gfp_flags('GFP_ATOMIC|GFP_NOWARN|GFP_NOMEMALLOC'),
    GFP_ATOMIC | __GFP_NOWARN | __GFP_NOMEMALLOC);
  // In old traces GFP_NOWAIT was 0 (printed instead of "none").
  assert.equal(parse_gfp_flags('GFP_NOWAIT', true), 0);
  assert.equal(parse_gfp_flags('GFP_KERNEL|GFP_ZERO', true), GFP_KERNEL | __GFP_ZERO);
  assert.equal(parse_gfp_flags('GFP_TEMPORARY'), GFP_KERNEL | __GFP_RECLAIMABLE);
  assert.equal(parse_gfp_flags('GFP_WAIT|GFP_IO', true), GFP_NOFS);
  assert.equal(parse_gfp_flags('GFP_USER|GFP_REPEAT|GFP_COLD|GFP_NOTRACK', true), GFP_USER | __GFP_RETRY_MAYFAIL);
  assert.equal(parse_gfp_flags('GFP_HIGHUSER_MOVABLE|GFP_NOWARN|GFP_NORETRY|GFP_NO_KSWAPD', true),
    (GFP_HIGHUSER_MOVABLE | __GFP_NOWARN | __GFP_NORETRY) & ~__GFP_KSWAPD_RECLAIM);
  assert.equal(parse_gfp_flags('GFP_DIRECT_RECLAIM|GFP_KSWAPD_RECLAIM|GFP_FS|GFP_WRITE'),
    __GFP_RECLAIM | __GFP_FS | __GFP_WRITE);
  // Old hex leftovers: only bits that never moved are meaningful.
  assert.equal(parse_gfp_flags('GFP_KERNEL|0x2', true), GFP_KERNEL | __GFP_HIGHMEM);
  assert.equal(parse_gfp_flags('GFP_KERNEL|0x1000000', true), null);

  // The strings of the 3.x slab_compare logs (32-bit kernel, SLUB/SLAB/SLOB).
  const old: [string, string][] = [
    ['GFP_ATOMIC', 'GFP_ATOMIC'],
    ['GFP_ATOMIC|GFP_ZERO', 'GFP_ATOMIC|__GFP_ZERO'],
    ['GFP_KERNEL', 'GFP_KERNEL'],
    ['GFP_KERNEL|GFP_COMP', 'GFP_KERNEL|__GFP_COMP'],
    ['GFP_KERNEL|GFP_COMP|GFP_ZERO', 'GFP_KERNEL|__GFP_COMP|__GFP_ZERO'],
    ['GFP_KERNEL|GFP_ZERO', 'GFP_KERNEL|__GFP_ZERO'],
    ['GFP_NOWARN', '__GFP_NOWARN'],
    ['GFP_USER|GFP_ZERO', 'GFP_USER|__GFP_ZERO'],
  ];
  for (const [text, today] of old) assert.equal(show_gfp_flags(parse_gfp_flags(text, true)!), today, text);
});

/*
 * Every distinct gfp_flags= string of ../shared/traces/kmem-trace-build.txt.xz
 * (Linux 6.18 x86_64, 212,524 events), with its count.
 */
const REAL_TRACE_GFP_FLAGS: [string, number][] = [
  ['GFP_ATOMIC', 926],
  ['GFP_ATOMIC|__GFP_NOWARN', 64],
  ['GFP_ATOMIC|__GFP_NOWARN|__GFP_NORETRY|__GFP_NOMEMALLOC', 110],
  ['GFP_ATOMIC|__GFP_RECLAIMABLE|__GFP_NOWARN|__GFP_NORETRY|__GFP_COMP', 2],
  ['GFP_HIGHUSER_MOVABLE|__GFP_COMP', 6021],
  ['GFP_HIGHUSER_MOVABLE|__GFP_WRITE|__GFP_COMP', 905],
  ['GFP_HIGHUSER_MOVABLE|__GFP_WRITE|__GFP_NOWARN|__GFP_NORETRY|__GFP_COMP', 32],
  ['GFP_HIGHUSER_MOVABLE|__GFP_ZERO|__GFP_COMP', 12350],
  ['GFP_HIGHUSER|__GFP_ACCOUNT', 215],
  ['GFP_KERNEL', 46539],
  ['GFP_KERNEL_ACCOUNT', 336],
  ['GFP_KERNEL_ACCOUNT|__GFP_ZERO', 306],
  ['GFP_KERNEL_ACCOUNT|__GFP_ZERO|__GFP_COMP', 3195],
  ['GFP_KERNEL|__GFP_NOWARN|__GFP_NORETRY|__GFP_COMP', 15],
  ['GFP_KERNEL|__GFP_RECLAIMABLE|__GFP_NOWARN|__GFP_NORETRY|__GFP_COMP', 16],
  ['GFP_KERNEL|__GFP_ZERO', 9403],
  ['GFP_KERNEL|__GFP_ZERO|__GFP_COMP', 18],
  ['GFP_NOFS', 403],
  ['GFP_NOFS|__GFP_COMP', 18],
  ['GFP_NOFS|__GFP_HIGHMEM|__GFP_MOVABLE|__GFP_NOWARN|__GFP_NORETRY|__GFP_COMP|__GFP_HARDWALL', 11333],
  ['GFP_NOFS|__GFP_MOVABLE|__GFP_NOFAIL|__GFP_COMP|__GFP_HARDWALL', 30],
  ['GFP_NOFS|__GFP_MOVABLE|__GFP_ZERO|__GFP_HARDWALL', 1],
  ['GFP_NOFS|__GFP_MOVABLE|__GFP_ZERO|__GFP_NOFAIL|__GFP_HARDWALL|__GFP_ACCOUNT', 30],
  ['GFP_NOFS|__GFP_NOFAIL|__GFP_COMP', 4],
  ['GFP_NOFS|__GFP_NOFAIL|__GFP_COMP|__GFP_HARDWALL', 113],
  ['GFP_NOFS|__GFP_RECLAIMABLE|__GFP_NOWARN|__GFP_NORETRY|__GFP_COMP', 221],
  ['GFP_NOFS|__GFP_RECLAIMABLE|__GFP_NOWARN|__GFP_NORETRY|__GFP_COMP|__GFP_HARDWALL', 1],
  ['GFP_NOFS|__GFP_ZERO', 1675],
  ['GFP_NOFS|__GFP_ZERO|__GFP_COMP', 15],
  ['GFP_NOFS|__GFP_ZERO|__GFP_HARDWALL', 1],
  ['GFP_NOFS|__GFP_ZERO|__GFP_NOFAIL', 358],
  ['GFP_NOFS|__GFP_ZERO|__GFP_NOFAIL|__GFP_ACCOUNT', 9097],
  ['GFP_NOFS|__GFP_ZERO|__GFP_NOFAIL|__GFP_HARDWALL|__GFP_ACCOUNT', 113],
  ['GFP_NOWAIT', 6645],
  ['GFP_NOWAIT|__GFP_ACCOUNT', 370],
  ['GFP_NOWAIT|__GFP_COMP', 319],
  ['GFP_NOWAIT|__GFP_FS|__GFP_NORETRY|__GFP_NOMEMALLOC', 237],
  ['GFP_NOWAIT|__GFP_NORETRY|__GFP_COMP|__GFP_NOMEMALLOC', 1],
  ['GFP_NOWAIT|__GFP_NORETRY|__GFP_NOMEMALLOC', 988],
  ['GFP_NOWAIT|__GFP_RECLAIMABLE|__GFP_NORETRY|__GFP_COMP', 2],
  ['GFP_NOWAIT|__GFP_ZERO', 26],
  ['GFP_NOWAIT|__GFP_ZERO|__GFP_ACCOUNT', 319],
  ['__GFP_RECLAIMABLE|__GFP_IO|__GFP_NOWARN|__GFP_NORETRY|__GFP_COMP|__GFP_NOMEMALLOC', 15],
];

test('every gfp_flags string of the real 6.18 trace round-trips', () => {
  const sorted = (s: string) => s.split('|').sort().join('|');
  for (const [text] of REAL_TRACE_GFP_FLAGS) {
    const flags = parse_gfp_flags(text);
    assert.notEqual(flags, null, text);
    assert.equal(show_gfp_flags(flags!, gfpflag_names_6_18), text);
    // 6.12 prints the same names, possibly in another order.
    assert.equal(sorted(show_gfp_flags(flags!)), sorted(text), text);
  }
  assert.equal(show_gfp_flags(parse_gfp_flags('GFP_HIGHUSER_MOVABLE|__GFP_ZERO|__GFP_COMP')!),
    'GFP_HIGHUSER_MOVABLE|__GFP_COMP|__GFP_ZERO');
});

test('the literal list matches the trace file', (t) => {
  const trace = fileURLToPath(new URL('../../../shared/traces/kmem-trace-build.txt.xz', import.meta.url));
  if (!existsSync(trace)) {
    t.skip('trace not present');
    return;
  }
  let text: string;
  try {
    text = execFileSync('xz', ['-dc', trace], { encoding: 'utf8', maxBuffer: 1 << 30 });
  } catch {
    t.skip('xz not available');
    return;
  }
  const counts = new Map<string, number>();
  for (const m of text.matchAll(/gfp_flags=(\S*)/g)) counts.set(m[1], (counts.get(m[1]) ?? 0) + 1);
  assert.deepEqual(new Map(REAL_TRACE_GFP_FLAGS), counts);
});
