/*
 * The kernel's memblock test suite (tools/testing/memblock/tests, Linux 6.12)
 * ported scenario by scenario, plus kmem's own checks and a property test.
 *
 * The kernel harness (tests/common.c) mallocs PHYS_MEM_SIZE of "physical
 * memory", fills it with 1s and registers MEM_SIZE of it with memblock; NUMA
 * tests split those MEM_SIZE bytes into NUMA_NODES nodes. Here the same
 * dummy memory is a range of simulated RAM, and struct memblock with its
 * static arrays sits in the kernel's .data further up:
 *
 *   0        16M                 16M+32K        32M         64M
 *   +--------+-------------------+--------------+-----------+-------------+
 *   |        | MEM_SIZE (memory) | rest of the dummy memory  | kernel .data|
 *   +--------+-------------------+--------------+-----------+-------------+
 *            DUMMY_BASE                                     KDATA
 *
 * Scenarios not touching the dummy memory use the kernel tests' absolute
 * addresses (SZ_1G, SZ_2G, ...), which need no backing: memblock only records
 * them. Every test starts from a freshly initialised struct memblock, which
 * is what the kernel harness's reset_memblock_regions() and
 * reset_memblock_attributes() amount to. Top-down/bottom-up scenarios and
 * the zeroing/raw variants run as the kernel runs them.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PhysMem } from '../../src/machine/memory.ts';
import { KmemAccess } from '../../src/machine/kmem_access.ts';
import { PAGE_SIZE, X86_64, i386Layout, type ArchLayout } from '../../src/arch/x86/layout.ts';
import {
  ARCH_LOW_ADDRESS_LIMIT,
  INIT_MEMBLOCK_REGIONS,
  MEMBLOCK_ALLOC_ACCESSIBLE,
  MEMBLOCK_HOTPLUG,
  MEMBLOCK_MIRROR,
  MEMBLOCK_NONE,
  Memblock,
  NUMA_NO_NODE,
  PHYS_ADDR_MAX as physAddrMax,
  memblockDataSize,
  memblockDataSizes,
  memblockPlacement,
} from '../../src/mm/memblock.ts';

const SZ_2 = 2;
const SZ_4 = 4;
const SZ_8 = 8;
const SZ_16 = 16;
const SZ_32 = 32;
const SZ_64 = 64;
const SZ_128 = 128;
const SZ_256 = 256;
const SZ_512 = 512;
const SZ_1K = 1 << 10;
const SZ_2K = 2 << 10;
const SZ_4K = 4 << 10;
const SZ_8K = 8 << 10;
const SZ_16K = 16 << 10;
const SZ_32K = 32 << 10;
const SZ_64K = 64 << 10;
const SZ_128K = 128 << 10;
const SZ_512K = 512 << 10;
const SZ_1M = 1 << 20;
const SZ_2M = 2 << 20;
const SZ_4M = 4 << 20;
const SZ_8M = 8 << 20;
const SZ_16M = 16 << 20;
const SZ_32M = 32 << 20;
const SZ_64M = 64 << 20;
const SZ_128M = 128 << 20;
const SZ_256M = 256 << 20;
const SZ_512M = 512 << 20;
const SZ_1G = 2 ** 30;
const SZ_2G = 2 ** 31;

/* tests/common.h */
const MEM_SIZE = SZ_32K;
const PHYS_MEM_SIZE = SZ_16M;
const NUMA_NODES = 8;
const TEST_F_NONE = 0x0;
const TEST_F_RAW = 0x1;
const TEST_F_EXACT = 0x2;

/*
 * The harness's SMP_CACHE_BYTES is tools/include/linux/cache.h's 32, and
 * some scenarios depend on it (alloc_in_between: 64-byte gaps at both ends
 * must be too small for a 64-byte allocation aligned to it). kmem's own
 * checks use x86's L1_CACHE_BYTES, memblock's default alignment.
 */
const SMP_CACHE_BYTES = 32;
const L1_CACHE_BYTES = X86_64.cacheLine;
const SIZEOF_REGION = memblockDataSizes(X86_64).init_regions / INIT_MEMBLOCK_REGIONS;
const PAGE_ALIGN = (x: number) => Math.ceil(x / PAGE_SIZE) * PAGE_SIZE;

/* The machine: dummy physical memory at DUMMY_BASE, struct memblock at KDATA. */
const DUMMY_BASE = SZ_16M;
const KDATA = SZ_64M;
const physmem = PhysMem.create(SZ_128M, [[0, SZ_128M]]);
const kmem = new KmemAccess(physmem, X86_64);
const __va = (pa: number) => pa + X86_64.PAGE_OFFSET;
const __pa = (va: number) => va - X86_64.PAGE_OFFSET;
const PHYS_ADDR_MAX = physAddrMax(X86_64);

/** What the memblock under test printed. */
let printed: string[] = [];

/** A statically initialised struct memblock (reset_memblock_regions + reset_memblock_attributes). */
function reset_memblock(): Memblock {
  printed = [];
  return new Memblock(kmem, memblockPlacement(X86_64, KDATA), __va, __pa, (_level, text) => printed.push(text));
}

function fill_memblock(): void {
  physmem.fill(DUMMY_BASE, PHYS_MEM_SIZE, 1);
}

const region_end = (r: { base: number; size: number }) => r.base + r.size;

function assertRegion(mb: Memblock, type: number, idx: number, base: number, size: number): void {
  const r = mb.readRegion(type, idx);
  assert.equal(r.size, size, `${mb.readType(type).name}[${idx}].size`);
  assert.equal(r.base, base, `${mb.readType(type).name}[${idx}].base`);
}

function assertType(mb: Memblock, type: number, cnt: number, total_size: number): void {
  const t = mb.readType(type);
  assert.equal(t.cnt, cnt, `${t.name}.cnt`);
  assert.equal(t.total_size, total_size, `${t.name}.total_size`);
}

/**
 * One run of a scenario: an allocation direction and the TEST_F_* flags
 * choosing the function under test, as the kernel's run_top_down(),
 * run_bottom_up() and alloc_*_test_flags do.
 */
class Run {
  mb!: Memblock;
  constructor(readonly bottomUp: boolean, readonly flags: number) {}

  reset_memblock_regions(): Memblock {
    this.mb = reset_memblock();
    this.mb.memblock_set_bottom_up(this.bottomUp);
    return this.mb;
  }

  /** One MEM_SIZE memory region at DUMMY_BASE. */
  setup_memblock(): Memblock {
    const mb = this.reset_memblock_regions();
    mb.memblock_add(DUMMY_BASE, MEM_SIZE);
    fill_memblock();
    return mb;
  }

  /** MEM_SIZE split into NUMA_NODES nodes; node_fracs in basis points of MEM_SIZE. */
  setup_numa_memblock(node_fracs: readonly number[]): Memblock {
    const mb = this.reset_memblock_regions();
    let base = DUMMY_BASE;
    for (let i = 0; i < NUMA_NODES; i++) {
      const size = Math.floor((MEM_SIZE * node_fracs[i]) / 10000);
      mb.memblock_add_node(base, size, i, MEMBLOCK_HOTPLUG);
      base += size;
    }
    fill_memblock();
    return mb;
  }

  /** alloc_api.c run_memblock_alloc() */
  alloc(size: number, align: number): number {
    return this.flags & TEST_F_RAW ? this.mb.memblock_alloc_raw(size, align) : this.mb.memblock_alloc(size, align);
  }

  /** alloc_nid_api.c run_memblock_alloc_nid() */
  alloc_nid(size: number, align: number, min_addr: number, max_addr: number, nid: number): number {
    if (this.flags & TEST_F_EXACT) return this.mb.memblock_alloc_exact_nid_raw(size, align, min_addr, max_addr, nid);
    if (this.flags & TEST_F_RAW) return this.mb.memblock_alloc_try_nid_raw(size, align, min_addr, max_addr, nid);
    return this.mb.memblock_alloc_try_nid(size, align, min_addr, max_addr, nid);
  }

  /** Raw allocations still hold fill_memblock()'s 1s, the others are zeroed. */
  assert_mem_content(ptr: number, size: number): void {
    const bytes = physmem.readBytes(__pa(ptr), size);
    if (this.flags & TEST_F_RAW) assert.ok(bytes.every((b) => b !== 0), 'raw allocation was cleared');
    else assert.ok(bytes.every((b) => b === 0), 'allocation not zeroed');
  }
}

type Scenario = (t: Run) => void;
type Scenarios = Record<string, Scenario>;

const TOP_DOWN = { name: 'top-down', bottomUp: false } as const;
const BOTTOM_UP = { name: 'bottom-up', bottomUp: true } as const;

/**
 * Register a kernel test group: the direction-specific checks under their
 * direction, the generic ones under both.
 */
function suite(flags: number, topDown: Scenarios, bottomUp: Scenarios, generic: Scenarios): void {
  for (const [dir, specific] of [[TOP_DOWN, topDown], [BOTTOM_UP, bottomUp]] as const) {
    describe(dir.name, () => {
      for (const [name, body] of [...Object.entries(specific), ...Object.entries(generic)]) {
        test(name, () => body(new Run(dir.bottomUp, flags)));
      }
    });
  }
}

/* ---------------------------------------------------------------- basic_api.c */

describe('basic_api', () => {
  test('memblock_initialization_check', () => {
    const mb = reset_memblock();
    const memory = mb.readType(mb.memory);
    const reserved = mb.readType(mb.reserved);

    assert.notEqual(memory.regions, 0);
    assert.equal(memory.cnt, 0);
    assert.equal(memory.max, INIT_MEMBLOCK_REGIONS);
    assert.equal(memory.name, 'memory');

    assert.notEqual(reserved.regions, 0);
    assert.equal(reserved.cnt, 0);
    assert.equal(reserved.max, INIT_MEMBLOCK_REGIONS);
    assert.equal(reserved.name, 'reserved');

    assert.equal(mb.memblock_bottom_up(), false);
    assert.equal(mb.memblock_get_current_limit(), mb.MEMBLOCK_ALLOC_ANYWHERE);
  });

  /*
   * The add and reserve scenarios are the same ten, on memblock.memory and
   * on memblock.reserved: one body each, run on both.
   */
  const addOrReserve = (type: 'memory' | 'reserved') => {
    const add = (mb: Memblock, base: number, size: number) =>
      type === 'memory' ? mb.memblock_add(base, size) : mb.memblock_reserve(base, size);
    const fn = type === 'memory' ? 'add' : 'reserve';
    const scenarios: Record<string, () => void> = {
      /*
       * A simple test that adds a memory block of a specified base address
       * and size to the collection of available memory regions (memblock.memory).
       * Expect to create a new entry. The region counter and total memory get
       * updated.
       */
      [`memblock_${fn}_simple_check`]: () => {
        const r = type === 'memory' ? { base: SZ_1G, size: SZ_4M } : { base: SZ_2G, size: SZ_128M };
        const mb = reset_memblock();
        add(mb, r.base, r.size);

        assertRegion(mb, mb[type], 0, r.base, r.size);
        assertType(mb, mb[type], 1, r.size);
      },

      /*
       * A test that tries to add two memory blocks that don't overlap with one
       * another:
       *
       *  |        +--------+        +--------+  |
       *  |        |   r1   |        |   r2   |  |
       *  +--------+--------+--------+--------+--+
       *
       * Expect to add two correctly initialized entries to the collection of
       * available memory regions (memblock.memory). The total size and
       * region counter fields get updated.
       */
      [`memblock_${fn}_disjoint_check`]: () => {
        const [r1, r2] = type === 'memory'
          ? [{ base: SZ_1G, size: SZ_8K }, { base: SZ_1G + SZ_16K, size: SZ_8K }]
          : [{ base: SZ_256M, size: SZ_16M }, { base: SZ_512M, size: SZ_512M }];
        const mb = reset_memblock();
        add(mb, r1.base, r1.size);
        add(mb, r2.base, r2.size);

        assertRegion(mb, mb[type], 0, r1.base, r1.size);
        assertRegion(mb, mb[type], 1, r2.base, r2.size);
        assertType(mb, mb[type], 2, r1.size + r2.size);
      },

      /*
       * A test that tries to add two memory blocks r1 and r2, where r2 overlaps
       * with the beginning of r1 (that is r1.base < r2.base + r2.size):
       *
       *  |    +----+----+------------+          |
       *  |    |    |r2  |   r1       |          |
       *  +----+----+----+------------+----------+
       *       ^    ^
       *       |    |
       *       |    r1.base
       *       |
       *       r2.base
       *
       * Expect to merge the two entries into one region that starts at r2.base
       * and has size of two regions minus their intersection. The total size of
       * the available memory is updated, and the region counter stays the same.
       */
      [`memblock_${fn}_overlap_top_check`]: () => {
        const [r1, r2] = type === 'memory'
          ? [{ base: SZ_512M, size: SZ_1G }, { base: SZ_256M, size: SZ_512M }]
          : [{ base: SZ_1G, size: SZ_1G }, { base: SZ_128M, size: SZ_1G }];
        const total_size = r1.base - r2.base + r1.size;
        const mb = reset_memblock();
        add(mb, r1.base, r1.size);
        add(mb, r2.base, r2.size);

        assertRegion(mb, mb[type], 0, r2.base, total_size);
        assertType(mb, mb[type], 1, total_size);
      },

      /*
       * A test that tries to add two memory blocks r1 and r2, where r2 overlaps
       * with the end of r1 (that is r2.base < r1.base + r1.size):
       *
       *  |  +--+------+----------+              |
       *  |  |  | r1   | r2       |              |
       *  +--+--+------+----------+--------------+
       *     ^  ^
       *     |  |
       *     |  r2.base
       *     |
       *     r1.base
       *
       * Expect to merge the two entries into one region that starts at r1.base
       * and has size of two regions minus their intersection. The total size of
       * the available memory is updated, and the region counter stays the same.
       */
      [`memblock_${fn}_overlap_bottom_check`]: () => {
        const [r1, r2] = type === 'memory'
          ? [{ base: SZ_128M, size: SZ_512M }, { base: SZ_256M, size: SZ_1G }]
          : [{ base: SZ_2K, size: SZ_128K }, { base: SZ_128K, size: SZ_128K }];
        const total_size = r2.base - r1.base + r2.size;
        const mb = reset_memblock();
        add(mb, r1.base, r1.size);
        add(mb, r2.base, r2.size);

        assertRegion(mb, mb[type], 0, r1.base, total_size);
        assertType(mb, mb[type], 1, total_size);
      },

      /*
       * A test that tries to add two memory blocks r1 and r2, where r2 is
       * within the range of r1 (that is r1.base < r2.base &&
       * r2.base + r2.size < r1.base + r1.size):
       *
       *  |   +-------+--+-----------------------+
       *  |   |       |r2|      r1               |
       *  +---+-------+--+-----------------------+
       *      ^
       *      |
       *      r1.base
       *
       * Expect to merge two entries into one region that stays the same.
       * The counter and total size of available memory are not updated.
       */
      [`memblock_${fn}_within_check`]: () => {
        const [r1, r2] = type === 'memory'
          ? [{ base: SZ_8M, size: SZ_32M }, { base: SZ_16M, size: SZ_1M }]
          : [{ base: SZ_1M, size: SZ_8M }, { base: SZ_2M, size: SZ_64K }];
        const mb = reset_memblock();
        add(mb, r1.base, r1.size);
        add(mb, r2.base, r2.size);

        assertRegion(mb, mb[type], 0, r1.base, r1.size);
        assertType(mb, mb[type], 1, r1.size);
      },

      /*
       * A simple test that tries to add the same memory block twice. Expect
       * the counter and total size of available memory to not be updated.
       */
      [`memblock_${fn}_twice_check`]: () => {
        const r = { base: SZ_16K, size: SZ_2M };
        const mb = reset_memblock();
        add(mb, r.base, r.size);
        add(mb, r.base, r.size);

        assertType(mb, mb[type], 1, r.size);
      },

      /*
       * A test that tries to add two memory blocks that don't overlap with one
       * another and then add a third memory block in the space between the first two:
       *
       *  |        +--------+--------+--------+  |
       *  |        |   r1   |   r3   |   r2   |  |
       *  +--------+--------+--------+--------+--+
       *
       * Expect to merge the three entries into one region that starts at r1.base
       * and has size of r1.size + r2.size + r3.size. The region counter and total
       * size of the available memory are updated.
       */
      [`memblock_${fn}_between_check`]: () => {
        const r1 = { base: SZ_1G, size: SZ_8K };
        const r2 = { base: SZ_1G + SZ_16K, size: SZ_8K };
        const r3 = { base: SZ_1G + SZ_8K, size: SZ_8K };
        const total_size = r1.size + r2.size + r3.size;
        const mb = reset_memblock();
        add(mb, r1.base, r1.size);
        add(mb, r2.base, r2.size);
        add(mb, r3.base, r3.size);

        assertRegion(mb, mb[type], 0, r1.base, total_size);
        assertType(mb, mb[type], 1, total_size);
      },

      /*
       * A simple test that tries to add a memory block r when r extends past
       * PHYS_ADDR_MAX:
       *
       *                               +--------+
       *                               |    r   |
       *                               +--------+
       *  |                            +----+
       *  |                            | rgn|
       *  +----------------------------+----+
       *
       * Expect to add a memory block of size PHYS_ADDR_MAX - r.base. Expect the
       * total size of available memory and the counter to be updated.
       */
      [`memblock_${fn}_near_max_check`]: () => {
        const r = { base: PHYS_ADDR_MAX - SZ_1M, size: SZ_2M };
        const total_size = PHYS_ADDR_MAX - r.base;
        const mb = reset_memblock();
        add(mb, r.base, r.size);

        assertRegion(mb, mb[type], 0, r.base, total_size);
        assertType(mb, mb[type], 1, total_size);
      },
    };
    return scenarios;
  };

  describe('memblock_add', () => {
    for (const [name, body] of Object.entries(addOrReserve('memory'))) test(name, body);

    /*
     * A simple test that adds a memory block of a specified base address, size,
     * NUMA node and memory flags to the collection of available memory regions.
     * Expect to create a new entry. The region counter and total memory get
     * updated.
     */
    test('memblock_add_node_simple_check', () => {
      const r = { base: SZ_1M, size: SZ_16M };
      const mb = reset_memblock();
      mb.memblock_add_node(r.base, r.size, 1, MEMBLOCK_HOTPLUG);

      assertRegion(mb, mb.memory, 0, r.base, r.size);
      assert.equal(mb.readRegion(mb.memory, 0).nid, 1);
      assert.equal(mb.readRegion(mb.memory, 0).flags, MEMBLOCK_HOTPLUG);
      assertType(mb, mb.memory, 1, r.size);
    });

    /*
     * A test that trying to add the 129th memory block.
     * Expect to trigger memblock_double_array() to double the
     * memblock.memory.max, find a new valid memory as
     * memory.regions.
     */
    test('memblock_add_many_check', () => {
      const r = { base: SZ_16K, size: SZ_16K };
      const size = SZ_64;
      const gap_size = SZ_64;
      const mb = reset_memblock();
      mb.memblock_allow_resize();
      fill_memblock();

      /*
       * Split the dummy memory into small blocks, first a block large enough
       * to be chosen by memblock_double_array().
       */
      let base = PAGE_ALIGN(DUMMY_BASE);
      const new_memory_regions_size = PAGE_ALIGN(INIT_MEMBLOCK_REGIONS * 2 * SIZEOF_REGION);
      mb.memblock_add(base, new_memory_regions_size);
      base += new_memory_regions_size + gap_size;

      for (let i = 0; i < INIT_MEMBLOCK_REGIONS; i++) {
        /* keep a gap between the blocks so that they do not merge */
        mb.memblock_add(base, size);
        base += size + gap_size;
        assertType(mb, mb.memory, i + 2, new_memory_regions_size + (i + 1) * size);
      }

      /* memblock_double_array() has run: memory.max doubled, its new array reserved */
      assert.equal(mb.readType(mb.memory).max, INIT_MEMBLOCK_REGIONS * 2);
      assertType(mb, mb.reserved, 1, new_memory_regions_size);

      /* memblock_add() still works after the doubling */
      mb.memblock_add(r.base, r.size);
      assertRegion(mb, mb.memory, 0, r.base, r.size);
      assertType(mb, mb.memory, INIT_MEMBLOCK_REGIONS + 2, INIT_MEMBLOCK_REGIONS * size + new_memory_regions_size + r.size);
      assert.equal(mb.readType(mb.memory).max, INIT_MEMBLOCK_REGIONS * 2);
    });
  });

  describe('memblock_reserve', () => {
    for (const [name, body] of Object.entries(addOrReserve('reserved'))) test(name, body);

    /*
     * Fill memblock.reserved with INIT_MEMBLOCK_REGIONS regions at
     * base(i) for each i but `skip`, then reserve the skipped one: the
     * array doubles, the new array itself becomes one more reserved region.
     */
    const fillThenReserveSkipped = (mb: Memblock, skip: number, first: number, base: (i: number) => number) => {
      for (let i = first; i <= INIT_MEMBLOCK_REGIONS + first; i++) {
        if (i === skip) continue;
        /* reserve fake memory regions to fill the array */
        mb.memblock_reserve(base(i), MEM_SIZE);
        const n = i < skip ? i + 1 - first : i - first;
        assertType(mb, mb.reserved, n, n * MEM_SIZE);
      }

      /* this reserves the 129th region and doubles the array */
      mb.memblock_reserve(base(skip), MEM_SIZE);

      const new_reserved_regions_size = PAGE_ALIGN(INIT_MEMBLOCK_REGIONS * 2 * SIZEOF_REGION);
      assertType(mb, mb.reserved, INIT_MEMBLOCK_REGIONS + 2, (INIT_MEMBLOCK_REGIONS + 1) * MEM_SIZE + new_reserved_regions_size);
      assert.equal(mb.readType(mb.reserved).max, INIT_MEMBLOCK_REGIONS * 2);
      return new_reserved_regions_size;
    };

    /* After the doubling, memblock_reserve() still works. */
    const reserveAfterDoubling = (mb: Memblock, new_reserved_regions_size: number) => {
      const r = { base: SZ_16K, size: SZ_16K };
      mb.memblock_reserve(r.base, r.size);
      assertRegion(mb, mb.reserved, 0, r.base, r.size);
      assertType(mb, mb.reserved, INIT_MEMBLOCK_REGIONS + 3,
        (INIT_MEMBLOCK_REGIONS + 1) * MEM_SIZE + new_reserved_regions_size + r.size);
      assert.equal(mb.readType(mb.reserved).max, INIT_MEMBLOCK_REGIONS * 2);
    };

    /*
     * A test that trying to reserve the 129th memory block.
     * Expect to trigger memblock_double_array() to double the
     * memblock.memory.max, find a new valid memory as
     * reserved.regions.
     */
    test('memblock_reserve_many_check', () => {
      const mb = reset_memblock();
      mb.memblock_allow_resize();
      /* a memory region for double_array() */
      fill_memblock();
      mb.memblock_add(DUMMY_BASE, MEM_SIZE);

      /* the gaps keep the regions from merging */
      const size = fillThenReserveSkipped(mb, INIT_MEMBLOCK_REGIONS, 0, (i) => SZ_128K + MEM_SIZE * 2 * i);
      reserveAfterDoubling(mb, size);
    });

    /*
     * A test that trying to reserve the 129th memory block at all locations.
     * Expect to trigger memblock_double_array() to double the
     * memblock.memory.max, find a new valid memory as reserved.regions.
     *
     *  0               1               2                 128
     *  +-------+       +-------+       +-------+         +-------+
     *  |  32K  |       |  32K  |       |  32K  |   ...   |  32K  |
     *  +-------+-------+-------+-------+-------+         +-------+
     *          |<-32K->|       |<-32K->|
     *
     */
    test('memblock_reserve_all_locations_check', () => {
      const MEMORY_BASE = (idx: number) => SZ_128K + MEM_SIZE * 2 * idx;
      /* reserve the 129th region at every possible position */
      for (let skip = 0; skip < INIT_MEMBLOCK_REGIONS + 1; skip++) {
        const mb = reset_memblock();
        mb.memblock_allow_resize();
        /* a memory region for double_array() */
        fill_memblock();
        mb.memblock_add(DUMMY_BASE, MEM_SIZE);

        const size = fillThenReserveSkipped(mb, skip, 0, MEMORY_BASE);
        reserveAfterDoubling(mb, size);
      }
    });

    /*
     * A test that trying to reserve the 129th memory block at all locations.
     * Expect to trigger memblock_double_array() to double the
     * memblock.memory.max, find a new valid memory as reserved.regions. And make
     * sure it doesn't conflict with the range we want to reserve.
     *
     * For example, we have 128 regions in reserved and now want to reserve
     * the skipped one. Since reserved is full, memblock_double_array() would find
     * an available range in memory for the new array. We intended to put two
     * ranges in memory with one is the exact range of the skipped one. Before
     * commit 48c3b583bbdd ("mm/memblock: fix overlapping allocation when doubling
     * reserved array"), the new array would sits in the skipped range which is a
     * conflict. The expected new array should be allocated from memory.regions[0].
     *
     *           0                               1
     * memory    +-------+                       +-------+
     *           |  32K  |                       |  32K  |
     *           +-------+ ------+-------+-------+-------+
     *                   |<-32K->|<-32K->|<-32K->|
     *
     *                           0               skipped           127
     * reserved                  +-------+       .........         +-------+
     *                           |  32K  |       .  32K  .   ...   |  32K  |
     *                           +-------+-------+-------+         +-------+
     *                                   |<-32K->|
     *                                           ^
     *                                           |
     *                                           |
     *                                           skipped one
     */
    test('memblock_reserve_many_may_conflict_check', () => {
      fill_memblock();
      const offset = PAGE_ALIGN(DUMMY_BASE);
      const MEMORY_BASE_OFFSET = (idx: number) => offset + MEM_SIZE * 2 * idx;

      for (let skip = 1; skip <= INIT_MEMBLOCK_REGIONS + 1; skip++) {
        const mb = reset_memblock();
        mb.memblock_allow_resize();
        /* a memory region for double_array() */
        mb.memblock_add(MEMORY_BASE_OFFSET(0), MEM_SIZE);
        /* the region reserved as the 129th: double_array() must not use it */
        mb.memblock_add(MEMORY_BASE_OFFSET(skip), MEM_SIZE);

        const size = fillThenReserveSkipped(mb, skip, 1, MEMORY_BASE_OFFSET);

        /* the new array is at the top of memory region 0 */
        const first = mb.readRegion(mb.reserved, 0);
        assert.equal(region_end(first), MEMORY_BASE_OFFSET(0) + SZ_32K);
        assert.equal(first.size, size);

        reserveAfterDoubling(mb, size);
      }
    });
  });

  /*
   * memblock_remove() on memblock.memory and memblock_free() on
   * memblock.reserved: the same eight scenarios, one body each.
   */
  const removeOrFree = (type: 'memory' | 'reserved') => {
    const add = (mb: Memblock, base: number, size: number) =>
      type === 'memory' ? mb.memblock_add(base, size) : mb.memblock_reserve(base, size);
    const remove = (mb: Memblock, base: number, size: number) =>
      type === 'memory' ? mb.memblock_remove(base, size) : mb.memblock_free(__va(base), size);
    const fn = type === 'memory' ? 'remove' : 'free';
    const scenarios: Record<string, () => void> = {
      /*
       * A simple test that tries to remove a region r1 from the array of
       * available memory regions. By "removing" a region we mean overwriting it
       * with the next region r2 in memblock.memory:
       *
       *  |  ......          +----------------+  |
       *  |  : r1 :          |       r2       |  |
       *  +--+----+----------+----------------+--+
       *                     ^
       *                     |
       *                     rgn.base
       *
       * Expect to add two memory blocks r1 and r2 and then remove r1 so that
       * r2 is the first available region. The region counter and total size
       * are updated.
       */
      [`memblock_${fn}_simple_check`]: () => {
        const [r1, r2] = type === 'memory'
          ? [{ base: SZ_2K, size: SZ_4K }, { base: SZ_128K, size: SZ_4M }]
          : [{ base: SZ_4M, size: SZ_1M }, { base: SZ_8M, size: SZ_1M }];
        const mb = reset_memblock();
        add(mb, r1.base, r1.size);
        add(mb, r2.base, r2.size);
        remove(mb, r1.base, r1.size);

        assertRegion(mb, mb[type], 0, r2.base, r2.size);
        assertType(mb, mb[type], 1, r2.size);
      },

      /*
       * A test that tries to remove a region r2 that was not registered as
       * available memory (i.e. has no corresponding entry in memblock.memory):
       *
       *                     +----------------+
       *                     |       r2       |
       *                     +----------------+
       *  |  +----+                              |
       *  |  | r1 |                              |
       *  +--+----+------------------------------+
       *     ^
       *     |
       *     rgn.base
       *
       * Expect the array, regions counter and total size to not be modified.
       */
      [`memblock_${fn}_absent_check`]: () => {
        const [r1, r2] = type === 'memory'
          ? [{ base: SZ_512K, size: SZ_4M }, { base: SZ_64M, size: SZ_1G }]
          : [{ base: SZ_2M, size: SZ_8K }, { base: SZ_16M, size: SZ_128M }];
        const mb = reset_memblock();
        add(mb, r1.base, r1.size);
        remove(mb, r2.base, r2.size);

        assertRegion(mb, mb[type], 0, r1.base, r1.size);
        assertType(mb, mb[type], 1, r1.size);
      },

      /*
       * A test that tries to remove a region r2 that overlaps with the
       * beginning of the already existing entry r1
       * (that is r1.base < r2.base + r2.size):
       *
       *           +-----------------+
       *           |       r2        |
       *           +-----------------+
       *  |                 .........+--------+  |
       *  |                 :     r1 |  rgn   |  |
       *  +-----------------+--------+--------+--+
       *                    ^        ^
       *                    |        |
       *                    |        rgn.base
       *                    r1.base
       *
       * Expect that only the intersection of both regions is removed from the
       * available memory pool. The regions counter and total size are updated.
       */
      [`memblock_${fn}_overlap_top_check`]: () => {
        const [r1, r2] = type === 'memory'
          ? [{ base: SZ_32M, size: SZ_32M }, { base: SZ_16M, size: SZ_32M }]
          : [{ base: SZ_8M, size: SZ_32M }, { base: SZ_1M, size: SZ_8M }];
        const r2_end = r2.base + r2.size;
        const total_size = r1.base + r1.size - r2_end;
        const mb = reset_memblock();
        add(mb, r1.base, r1.size);
        remove(mb, r2.base, r2.size);

        assertRegion(mb, mb[type], 0, r2_end, total_size);
        assertType(mb, mb[type], 1, total_size);
      },

      /*
       * A test that tries to remove a region r2 that overlaps with the end of
       * the already existing region r1 (that is r2.base < r1.base + r1.size):
       *
       *        +--------------------------------+
       *        |               r2               |
       *        +--------------------------------+
       *  | +---+.....                           |
       *  | |rgn| r1 :                           |
       *  +-+---+----+---------------------------+
       *    ^
       *    |
       *    r1.base
       *
       * Expect that only the intersection of both regions is removed from the
       * available memory pool. The regions counter and total size are updated.
       */
      [`memblock_${fn}_overlap_bottom_check`]: () => {
        const [r1, r2] = type === 'memory'
          ? [{ base: SZ_2M, size: SZ_64M }, { base: SZ_32M, size: SZ_256M }]
          : [{ base: SZ_8M, size: SZ_32M }, { base: SZ_32M, size: SZ_32M }];
        const total_size = r2.base - r1.base;
        const mb = reset_memblock();
        add(mb, r1.base, r1.size);
        remove(mb, r2.base, r2.size);

        assertRegion(mb, mb[type], 0, r1.base, total_size);
        assertType(mb, mb[type], 1, total_size);
      },

      /*
       * A test that tries to remove a region r2 that is within the range of
       * the already existing entry r1 (that is
       * (r1.base < r2.base) && (r2.base + r2.size < r1.base + r1.size)):
       *
       *                  +----+
       *                  | r2 |
       *                  +----+
       *  | +-------------+....+---------------+ |
       *  | |     rgn1    | r1 |     rgn2      | |
       *  +-+-------------+----+---------------+-+
       *    ^
       *    |
       *    r1.base
       *
       * Expect that the region is split into two - one that ends at r2.base and
       * another that starts at r2.base + r2.size, with appropriate sizes. The
       * region counter and total size are updated.
       */
      [`memblock_${fn}_within_check`]: () => {
        const [r1, r2] = type === 'memory'
          ? [{ base: SZ_1M, size: SZ_32M }, { base: SZ_16M, size: SZ_1M }]
          : [{ base: SZ_1M, size: SZ_8M }, { base: SZ_4M, size: SZ_1M }];
        const r1_size = r2.base - r1.base;
        const r2_size = r1.base + r1.size - (r2.base + r2.size);
        const mb = reset_memblock();
        add(mb, r1.base, r1.size);
        remove(mb, r2.base, r2.size);

        assertRegion(mb, mb[type], 0, r1.base, r1_size);
        assertRegion(mb, mb[type], 1, r2.base + r2.size, r2_size);
        assertType(mb, mb[type], 2, r1_size + r2_size);
      },

      /*
       * A simple test that tries to remove a region r1 from the array of
       * available memory regions when r1 is the only available region.
       * Expect to add a memory block r1 and then remove r1 so that a dummy
       * region is added. The region counter stays the same, and the total size
       * is updated.
       */
      [`memblock_${fn}_only_region_check`]: () => {
        const r1 = { base: SZ_2K, size: SZ_4K };
        const mb = reset_memblock();
        add(mb, r1.base, r1.size);
        remove(mb, r1.base, r1.size);

        assertRegion(mb, mb[type], 0, 0, 0);
        assertType(mb, mb[type], 0, 0);
      },

      /*
       * A simple test that tries remove a region r2 from the array of available
       * memory regions when r2 extends past PHYS_ADDR_MAX:
       *
       *                               +--------+
       *                               |   r2   |
       *                               +--------+
       *  |                        +---+....+
       *  |                        |rgn|    |
       *  +------------------------+---+----+
       *
       * Expect that only the portion between PHYS_ADDR_MAX and r2.base is removed.
       * Expect the total size of available memory to be updated and the counter to
       * not be updated.
       */
      [`memblock_${fn}_near_max_check`]: () => {
        const r1 = { base: PHYS_ADDR_MAX - SZ_2M, size: SZ_2M };
        const r2 = { base: PHYS_ADDR_MAX - SZ_1M, size: SZ_2M };
        const total_size = r1.size - (PHYS_ADDR_MAX - r2.base);
        const mb = reset_memblock();
        add(mb, r1.base, r1.size);
        remove(mb, r2.base, r2.size);

        assertRegion(mb, mb[type], 0, r1.base, total_size);
        assertType(mb, mb[type], 1, total_size);
      },

      /*
       * A test that tries to remove a region r3 that overlaps with two existing
       * regions r1 and r2:
       *
       *            +----------------+
       *            |       r3       |
       *            +----------------+
       *  |    +----+.....   ........+--------+
       *  |    |    |r1  :   :       |r2      |     |
       *  +----+----+----+---+-------+--------+-----+
       *
       * Expect that only the intersections of r1 with r3 and r2 with r3 are removed
       * from the available memory pool. Expect the total size of available memory to
       * be updated and the counter to not be updated.
       */
      [`memblock_${fn}_overlap_two_check`]: () => {
        const r1 = { base: SZ_16M, size: SZ_32M };
        const r2 = { base: SZ_64M, size: SZ_64M };
        const r3 = { base: SZ_32M, size: SZ_64M };
        const r3_end = r3.base + r3.size;
        const new_r1_size = r3.base - r1.base;
        const new_r2_size = r2.base + r2.size - r3_end;
        const mb = reset_memblock();
        add(mb, r1.base, r1.size);
        add(mb, r2.base, r2.size);
        remove(mb, r3.base, r3.size);

        assertRegion(mb, mb[type], 0, r1.base, new_r1_size);
        assertRegion(mb, mb[type], 1, r3_end, new_r2_size);
        assertType(mb, mb[type], 2, new_r1_size + new_r2_size);
      },
    };
    return scenarios;
  };

  describe('memblock_remove', () => {
    for (const [name, body] of Object.entries(removeOrFree('memory'))) test(name, body);
  });

  describe('memblock_free', () => {
    for (const [name, body] of Object.entries(removeOrFree('reserved'))) test(name, body);
  });

  test('memblock_set_bottom_up_check', () => {
    const mb = reset_memblock();
    mb.memblock_set_bottom_up(false);
    assert.equal(mb.memblock_bottom_up(), false);
    mb.memblock_set_bottom_up(true);
    assert.equal(mb.memblock_bottom_up(), true);
  });

  test('memblock_bottom_up_check', () => {
    const mb = reset_memblock();
    const bottom_up = () => physmem.read8(KDATA) !== 0;
    mb.memblock_set_bottom_up(false);
    assert.equal(mb.memblock_bottom_up(), bottom_up());
    assert.equal(mb.memblock_bottom_up(), false);
    mb.memblock_set_bottom_up(true);
    assert.equal(mb.memblock_bottom_up(), bottom_up());
    assert.equal(mb.memblock_bottom_up(), true);
  });

  describe('memblock_trim_memory', () => {
    const alignment = SMP_CACHE_BYTES;

    /*
     * A test that tries to trim memory when both ends of the memory region are
     * aligned. Expect that the memory will not be trimmed. Expect the counter to
     * not be updated.
     */
    test('memblock_trim_memory_aligned_check', () => {
      const r = { base: alignment, size: alignment * 4 };
      const mb = reset_memblock();
      mb.memblock_add(r.base, r.size);
      mb.memblock_trim_memory(alignment);

      assertRegion(mb, mb.memory, 0, r.base, r.size);
      assert.equal(mb.readType(mb.memory).cnt, 1);
    });

    /*
     * A test that tries to trim memory when there are two available regions, r1 and
     * r2. Region r1 is aligned on both ends and region r2 is unaligned on one end
     * and smaller than the alignment:
     *
     *                                     alignment
     *                                     |--------|
     * |        +-----------------+        +------+   |
     * |        |        r1       |        |  r2  |   |
     * +--------+-----------------+--------+------+---+
     *          ^        ^        ^        ^      ^
     *          |________|________|________|      |
     *                            |               Unaligned address
     *                Aligned addresses
     *
     * Expect that r1 will not be trimmed and r2 will be removed. Expect the
     * counter to be updated.
     */
    test('memblock_trim_memory_too_small_check', () => {
      const r1 = { base: alignment, size: alignment * 2 };
      const r2 = { base: alignment * 4, size: alignment - SZ_2 };
      const mb = reset_memblock();
      mb.memblock_add(r1.base, r1.size);
      mb.memblock_add(r2.base, r2.size);
      mb.memblock_trim_memory(alignment);

      assertRegion(mb, mb.memory, 0, r1.base, r1.size);
      assert.equal(mb.readType(mb.memory).cnt, 1);
    });

    /*
     * A test that tries to trim memory when there are two available regions, r1 and
     * r2. Region r1 is aligned on both ends and region r2 is unaligned at the base
     * and aligned at the end:
     *
     *                               Unaligned address
     *                                       |
     *                                       v
     * |        +-----------------+          +---------------+   |
     * |        |        r1       |          |      r2       |   |
     * +--------+-----------------+----------+---------------+---+
     *          ^        ^        ^        ^        ^        ^
     *          |________|________|________|________|________|
     *                            |
     *                    Aligned addresses
     *
     * Expect that r1 will not be trimmed and r2 will be trimmed at the base.
     * Expect the counter to not be updated.
     */
    test('memblock_trim_memory_unaligned_base_check', () => {
      const offset = SZ_2;
      const r1 = { base: alignment, size: alignment * 2 };
      const r2 = { base: alignment * 4 + offset, size: alignment * 2 - offset };
      const new_r2_base = r2.base + (alignment - offset);
      const new_r2_size = r2.size - (alignment - offset);
      const mb = reset_memblock();
      mb.memblock_add(r1.base, r1.size);
      mb.memblock_add(r2.base, r2.size);
      mb.memblock_trim_memory(alignment);

      assertRegion(mb, mb.memory, 0, r1.base, r1.size);
      assertRegion(mb, mb.memory, 1, new_r2_base, new_r2_size);
      assert.equal(mb.readType(mb.memory).cnt, 2);
    });

    /*
     * A test that tries to trim memory when there are two available regions, r1 and
     * r2. Region r1 is aligned on both ends and region r2 is aligned at the base
     * and unaligned at the end:
     *
     *                                             Unaligned address
     *                                                     |
     *                                                     v
     * |        +-----------------+        +---------------+   |
     * |        |        r1       |        |      r2       |   |
     * +--------+-----------------+--------+---------------+---+
     *          ^        ^        ^        ^        ^        ^
     *          |________|________|________|________|________|
     *                            |
     *                    Aligned addresses
     *
     * Expect that r1 will not be trimmed and r2 will be trimmed at the end.
     * Expect the counter to not be updated.
     */
    test('memblock_trim_memory_unaligned_end_check', () => {
      const offset = SZ_2;
      const r1 = { base: alignment, size: alignment * 2 };
      const r2 = { base: alignment * 4, size: alignment * 2 - offset };
      const new_r2_size = r2.size - (alignment - offset);
      const mb = reset_memblock();
      mb.memblock_add(r1.base, r1.size);
      mb.memblock_add(r2.base, r2.size);
      mb.memblock_trim_memory(alignment);

      assertRegion(mb, mb.memory, 0, r1.base, r1.size);
      assertRegion(mb, mb.memory, 1, r2.base, new_r2_size);
      assert.equal(mb.readType(mb.memory).cnt, 2);
    });
  });

  test('memblock_overlaps_region_check', () => {
    const r = { base: SZ_1G, size: SZ_4M };
    const mb = reset_memblock();
    mb.memblock_add(r.base, r.size);
    const overlaps = (base: number, size: number) => mb.memblock_overlaps_region(mb.memory, base, size);

    /* Far Away */
    assert.equal(overlaps(SZ_1M, SZ_1M), false);
    assert.equal(overlaps(SZ_2G, SZ_1M), false);
    /* Neighbor */
    assert.equal(overlaps(SZ_1G - SZ_1M, SZ_1M), false);
    assert.equal(overlaps(SZ_1G + SZ_4M, SZ_1M), false);
    /* Partial Overlap */
    assert.equal(overlaps(SZ_1G - SZ_1M, SZ_2M), true);
    assert.equal(overlaps(SZ_1G + SZ_2M, SZ_2M), true);
    /* Totally Overlap */
    assert.equal(overlaps(SZ_1G, SZ_4M), true);
    assert.equal(overlaps(SZ_1G - SZ_2M, SZ_8M), true);
    assert.equal(overlaps(SZ_1G + SZ_1M, SZ_1M), true);
  });
});

/* ---------------------------------------------------------------- alloc_api.c */

const allocTopDown: Scenarios = {
  /*
   * A simple test that tries to allocate a small memory region.
   * Expect to allocate an aligned region near the end of the available memory.
   */
  alloc_top_down_simple_check(t) {
    const size = SZ_2;
    const mb = t.setup_memblock();
    const expected_start = mb.memblock_end_of_DRAM() - SMP_CACHE_BYTES;

    const allocated_ptr = t.alloc(size, SMP_CACHE_BYTES);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, size);
    assertRegion(mb, mb.reserved, 0, expected_start, size);
    assertType(mb, mb.reserved, 1, size);
  },

  /*
   * A test that tries to allocate memory next to a reserved region that starts at
   * the misaligned address. Expect to create two separate entries, with the new
   * entry aligned to the provided alignment:
   *
   *              +
   * |            +--------+         +--------|
   * |            |  rgn2  |         |  rgn1  |
   * +------------+--------+---------+--------+
   *              ^
   *              |
   *              Aligned address boundary
   *
   * The allocation direction is top-down and region arrays are sorted from lower
   * to higher addresses, so the new region will be the first entry in
   * memory.reserved array. The previously reserved region does not get modified.
   * Region counter and total size get updated.
   */
  alloc_top_down_disjoint_check(t) {
    const r2_size = SZ_16;
    /* Use custom alignment */
    const alignment = SMP_CACHE_BYTES * 2;
    const mb = t.setup_memblock();
    const r1 = { base: mb.memblock_end_of_DRAM() - SZ_2, size: SZ_2 };
    const expected_start = mb.memblock_end_of_DRAM() - alignment;
    mb.memblock_reserve(r1.base, r1.size);

    const allocated_ptr = t.alloc(r2_size, alignment);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, r2_size);
    /* after the allocation regions[1] is the "old" region */
    assertRegion(mb, mb.reserved, 1, r1.base, r1.size);
    assertRegion(mb, mb.reserved, 0, expected_start, r2_size);
    assertType(mb, mb.reserved, 2, r1.size + r2_size);
  },

  /*
   * A test that tries to allocate memory when there is enough space at the end
   * of the previously reserved block (i.e. first fit):
   *
   *  |              +--------+--------------|
   *  |              |   r1   |      r2      |
   *  +--------------+--------+--------------+
   *
   * Expect a merge of both regions. Only the region size gets updated.
   */
  alloc_top_down_before_check(t) {
    /* The first region ends at the aligned address to test region merging */
    const r1_size = SMP_CACHE_BYTES;
    const r2_size = SZ_512;
    const total_size = r1_size + r2_size;
    const mb = t.setup_memblock();
    mb.memblock_reserve(mb.memblock_end_of_DRAM() - total_size, r1_size);

    const allocated_ptr = t.alloc(r2_size, SMP_CACHE_BYTES);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, r2_size);
    assertRegion(mb, mb.reserved, 0, mb.memblock_end_of_DRAM() - total_size, total_size);
    assertType(mb, mb.reserved, 1, total_size);
  },

  /*
   * A test that tries to allocate memory when there is not enough space at the
   * end of the previously reserved block (i.e. second fit):
   *
   *  |            +-----------+------+     |
   *  |            |     r2    |  r1  |     |
   *  +------------+-----------+------+-----+
   *
   * Expect a merge of both regions. Both the base address and size of the region
   * get updated.
   */
  alloc_top_down_after_check(t) {
    const r2_size = SZ_512;
    const mb = t.setup_memblock();
    /* The first region starts at the aligned address to test region merging */
    const r1 = { base: mb.memblock_end_of_DRAM() - SMP_CACHE_BYTES, size: SZ_8 };
    const total_size = r1.size + r2_size;
    mb.memblock_reserve(r1.base, r1.size);

    const allocated_ptr = t.alloc(r2_size, SMP_CACHE_BYTES);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, r2_size);
    assertRegion(mb, mb.reserved, 0, r1.base - r2_size, total_size);
    assertType(mb, mb.reserved, 1, total_size);
  },

  /*
   * A test that tries to allocate memory when there are two reserved regions with
   * a gap too small to fit the new region:
   *
   *  |       +--------+----------+   +------|
   *  |       |   r3   |    r2    |   |  r1  |
   *  +-------+--------+----------+---+------+
   *
   * Expect to allocate a region before the one that starts at the lower address,
   * and merge them into one. The region counter and total size fields get
   * updated.
   */
  alloc_top_down_second_fit_check(t) {
    const r3_size = SZ_1K;
    const mb = t.setup_memblock();
    const r1 = { base: mb.memblock_end_of_DRAM() - SZ_512, size: SZ_512 };
    const r2 = { base: r1.base - SZ_512, size: SZ_256 };
    const total_size = r1.size + r2.size + r3_size;
    mb.memblock_reserve(r1.base, r1.size);
    mb.memblock_reserve(r2.base, r2.size);

    const allocated_ptr = t.alloc(r3_size, SMP_CACHE_BYTES);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, r3_size);
    assertRegion(mb, mb.reserved, 0, r2.base - r3_size, r2.size + r3_size);
    assertType(mb, mb.reserved, 2, total_size);
  },
};

const allocBottomUp: Scenarios = {
  /*
   * A simple test that tries to allocate a small memory region.
   * Expect to allocate an aligned region at the beginning of the available
   * memory.
   */
  alloc_bottom_up_simple_check(t) {
    const mb = t.setup_memblock();

    const allocated_ptr = t.alloc(SZ_2, SMP_CACHE_BYTES);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, SZ_2);
    assertRegion(mb, mb.reserved, 0, mb.memblock_start_of_DRAM(), SZ_2);
    assertType(mb, mb.reserved, 1, SZ_2);
  },

  /*
   * A test that tries to allocate memory next to a reserved region that starts at
   * the misaligned address. Expect to create two separate entries, with the new
   * entry aligned to the provided alignment:
   *
   *                      +
   *  |    +----------+   +----------+     |
   *  |    |   rgn1   |   |   rgn2   |     |
   *  +----+----------+---+----------+-----+
   *                      ^
   *                      |
   *                      Aligned address boundary
   *
   * The allocation direction is bottom-up, so the new region will be the second
   * entry in memory.reserved array. The previously reserved region does not get
   * modified. Region counter and total size get updated.
   */
  alloc_bottom_up_disjoint_check(t) {
    const r2_size = SZ_16;
    /* Use custom alignment */
    const alignment = SMP_CACHE_BYTES * 2;
    const mb = t.setup_memblock();
    const r1 = { base: mb.memblock_start_of_DRAM() + SZ_2, size: SZ_2 };
    const expected_start = mb.memblock_start_of_DRAM() + alignment;
    mb.memblock_reserve(r1.base, r1.size);

    const allocated_ptr = t.alloc(r2_size, alignment);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, r2_size);
    assertRegion(mb, mb.reserved, 0, r1.base, r1.size);
    assertRegion(mb, mb.reserved, 1, expected_start, r2_size);
    assertType(mb, mb.reserved, 2, r1.size + r2_size);
  },

  /*
   * A test that tries to allocate memory when there is enough space at
   * the beginning of the previously reserved block (i.e. first fit):
   *
   *  |------------------+--------+         |
   *  |        r1        |   r2   |         |
   *  +------------------+--------+---------+
   *
   * Expect a merge of both regions. Only the region size gets updated.
   */
  alloc_bottom_up_before_check(t) {
    const r1_size = SZ_512;
    const r2_size = SZ_128;
    const total_size = r1_size + r2_size;
    const mb = t.setup_memblock();
    mb.memblock_reserve(mb.memblock_start_of_DRAM() + r1_size, r2_size);

    const allocated_ptr = t.alloc(r1_size, SMP_CACHE_BYTES);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, r1_size);
    assertRegion(mb, mb.reserved, 0, mb.memblock_start_of_DRAM(), total_size);
    assertType(mb, mb.reserved, 1, total_size);
  },

  /*
   * A test that tries to allocate memory when there is not enough space at
   * the beginning of the previously reserved block (i.e. second fit):
   *
   *  |    +--------+--------------+         |
   *  |    |   r1   |      r2      |         |
   *  +----+--------+--------------+---------+
   *
   * Expect a merge of both regions. Only the region size gets updated.
   */
  alloc_bottom_up_after_check(t) {
    const r2_size = SZ_512;
    const mb = t.setup_memblock();
    /* The first region starts at the aligned address to test region merging */
    const r1 = { base: mb.memblock_start_of_DRAM() + SMP_CACHE_BYTES, size: SZ_64 };
    const total_size = r1.size + r2_size;
    mb.memblock_reserve(r1.base, r1.size);

    const allocated_ptr = t.alloc(r2_size, SMP_CACHE_BYTES);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, r2_size);
    assertRegion(mb, mb.reserved, 0, r1.base, total_size);
    assertType(mb, mb.reserved, 1, total_size);
  },

  /*
   * A test that tries to allocate memory when there are two reserved regions, the
   * first one starting at the beginning of the available memory, with a gap too
   * small to fit the new region:
   *
   *  |------------+     +--------+--------+  |
   *  |     r1     |     |   r2   |   r3   |  |
   *  +------------+-----+--------+--------+--+
   *
   * Expect to allocate after the second region, which starts at the higher
   * address, and merge them into one. The region counter and total size fields
   * get updated.
   */
  alloc_bottom_up_second_fit_check(t) {
    const r3_size = SZ_1K;
    const mb = t.setup_memblock();
    const r1 = { base: mb.memblock_start_of_DRAM(), size: SZ_512 };
    const r2 = { base: r1.base + r1.size + SZ_512, size: SZ_256 };
    const total_size = r1.size + r2.size + r3_size;
    mb.memblock_reserve(r1.base, r1.size);
    mb.memblock_reserve(r2.base, r2.size);

    const allocated_ptr = t.alloc(r3_size, SMP_CACHE_BYTES);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, r3_size);
    assertRegion(mb, mb.reserved, 1, r2.base, r2.size + r3_size);
    assertType(mb, mb.reserved, 2, total_size);
  },
};

const allocGeneric: Scenarios = {
  /*
   * A test that tries to allocate memory when there are two reserved regions with
   * a gap big enough to accommodate the new region:
   *
   *  |     +--------+--------+--------+     |
   *  |     |   r2   |   r3   |   r1   |     |
   *  +-----+--------+--------+--------+-----+
   *
   * Expect to merge all of them, creating one big entry in memblock.reserved
   * array. The region counter and total size fields get updated.
   */
  alloc_in_between_generic_check(t) {
    const gap_size = SMP_CACHE_BYTES;
    const r3_size = SZ_64;
    /* Calculate regions size so there's just enough space for the new entry */
    const rgn_size = (MEM_SIZE - (2 * gap_size + r3_size)) / 2;
    const mb = t.setup_memblock();
    const r1 = { size: rgn_size, base: mb.memblock_end_of_DRAM() - (gap_size + rgn_size) };
    const r2 = { size: rgn_size, base: mb.memblock_start_of_DRAM() + gap_size };
    const total_size = r1.size + r2.size + r3_size;
    mb.memblock_reserve(r1.base, r1.size);
    mb.memblock_reserve(r2.base, r2.size);

    const allocated_ptr = t.alloc(r3_size, SMP_CACHE_BYTES);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, r3_size);
    assertRegion(mb, mb.reserved, 0, r1.base - r2.size - r3_size, total_size);
    assertType(mb, mb.reserved, 1, total_size);
  },

  /*
   * A test that tries to allocate memory when the memory is filled with reserved
   * regions with memory gaps too small to fit the new region:
   *
   * +-------+
   * |  new  |
   * +--+----+
   *    |    +-----+    +-----+    +-----+    |
   *    |    | res |    | res |    | res |    |
   *    +----+-----+----+-----+----+-----+----+
   *
   * Expect no allocation to happen.
   */
  alloc_small_gaps_generic_check(t) {
    const region_size = SZ_1K;
    const gap_size = SZ_256;
    const mb = t.setup_memblock();
    for (let region_end = mb.memblock_start_of_DRAM(); region_end < mb.memblock_end_of_DRAM(); region_end += gap_size + region_size) {
      mb.memblock_reserve(region_end + gap_size, region_size);
    }

    assert.equal(t.alloc(region_size, SMP_CACHE_BYTES), 0);
  },

  /*
   * A test that tries to allocate memory when all memory is reserved.
   * Expect no allocation to happen.
   */
  alloc_all_reserved_generic_check(t) {
    const mb = t.setup_memblock();
    /* Simulate full memory */
    mb.memblock_reserve(mb.memblock_start_of_DRAM(), MEM_SIZE);

    assert.equal(t.alloc(SZ_256, SMP_CACHE_BYTES), 0);
  },

  /*
   * A test that tries to allocate memory when the memory is almost full,
   * with not enough space left for the new region:
   *
   *                                +-------+
   *                                |  new  |
   *                                +-------+
   *  |-----------------------------+   |
   *  |          reserved           |   |
   *  +-----------------------------+---+
   *
   * Expect no allocation to happen.
   */
  alloc_no_space_generic_check(t) {
    const available_size = SZ_256;
    const reserved_size = MEM_SIZE - available_size;
    const mb = t.setup_memblock();
    /* Simulate almost-full memory */
    mb.memblock_reserve(mb.memblock_start_of_DRAM(), reserved_size);

    assert.equal(t.alloc(SZ_1K, SMP_CACHE_BYTES), 0);
  },

  /*
   * A test that tries to allocate memory when the memory is almost full,
   * but there is just enough space left:
   *
   *  |---------------------------+---------|
   *  |          reserved         |   new   |
   *  +---------------------------+---------+
   *
   * Expect to allocate memory and merge all the regions. The total size field
   * gets updated.
   */
  alloc_limited_space_generic_check(t) {
    const available_size = SZ_256;
    const reserved_size = MEM_SIZE - available_size;
    const mb = t.setup_memblock();
    /* Simulate almost-full memory */
    mb.memblock_reserve(mb.memblock_start_of_DRAM(), reserved_size);

    const allocated_ptr = t.alloc(available_size, SMP_CACHE_BYTES);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, available_size);
    assertRegion(mb, mb.reserved, 0, mb.memblock_start_of_DRAM(), MEM_SIZE);
    assertType(mb, mb.reserved, 1, MEM_SIZE);
  },

  /*
   * A test that tries to allocate memory when there is no available memory
   * registered (i.e. memblock.memory has only a dummy entry).
   * Expect no allocation to happen.
   */
  alloc_no_memory_generic_check(t) {
    const mb = t.reset_memblock_regions();

    assert.equal(t.alloc(SZ_1K, SMP_CACHE_BYTES), 0);
    assertRegion(mb, mb.reserved, 0, 0, 0);
    assert.equal(mb.readType(mb.reserved).total_size, 0);
  },

  /*
   * A test that tries to allocate a region that is larger than the total size of
   * available memory (memblock.memory):
   *
   *  +-----------------------------------+
   *  |                 new               |
   *  +-----------------------------------+
   *  |                                 |
   *  |                                 |
   *  +---------------------------------+
   *
   * Expect no allocation to happen.
   */
  alloc_too_large_generic_check(t) {
    const mb = t.setup_memblock();

    assert.equal(t.alloc(MEM_SIZE + SZ_2, SMP_CACHE_BYTES), 0);
    assertRegion(mb, mb.reserved, 0, 0, 0);
    assert.equal(mb.readType(mb.reserved).total_size, 0);
  },
};

describe('alloc_api', () => {
  for (const flags of [TEST_F_NONE, TEST_F_RAW]) {
    describe(flags & TEST_F_RAW ? 'memblock_alloc_raw' : 'memblock_alloc', () => {
      suite(flags, allocTopDown, allocBottomUp, allocGeneric);
    });
  }
});

/* -------------------------------------------------------- alloc_helpers_api.c */

const allocFromTopDown: Scenarios = {
  /*
   * A test that tries to allocate a memory region above an address that is too
   * close to the end of the memory:
   *
   *              +        +
   *  |           +--------+---+      |
   *  |           |   rgn  +   |      |
   *  +-----------+--------+---+------+
   *              ^        ^
   *              |        |
   *              |        min_addr
   *              |
   *              Aligned address
   *              boundary
   *
   * Expect to prioritize granting memory over satisfying the minimal address
   * requirement.
   */
  alloc_from_top_down_high_addr_check(t) {
    const size = SZ_32;
    const mb = t.setup_memblock();
    /* The address is too close to the end of the memory */
    const min_addr = mb.memblock_end_of_DRAM() - SZ_16;

    const allocated_ptr = mb.memblock_alloc_from(size, SMP_CACHE_BYTES, min_addr);

    assert.notEqual(allocated_ptr, 0);
    assertRegion(mb, mb.reserved, 0, mb.memblock_end_of_DRAM() - SMP_CACHE_BYTES, size);
    assertType(mb, mb.reserved, 1, size);
  },

  /*
   * A test that tries to allocate a memory region when there is no space
   * available above the minimal address above a certain address:
   *
   *                     +
   *  |        +---------+-------------|
   *  |        |   rgn   |             |
   *  +--------+---------+-------------+
   *                     ^
   *                     |
   *                     min_addr
   *
   * Expect to prioritize granting memory over satisfying the minimal address
   * requirement and to allocate next to the previously reserved region. The
   * regions get merged into one.
   */
  alloc_from_top_down_no_space_above_check(t) {
    const r1_size = SZ_64;
    const r2_size = SZ_2;
    const total_size = r1_size + r2_size;
    const mb = t.setup_memblock();
    const min_addr = mb.memblock_end_of_DRAM() - SMP_CACHE_BYTES * 2;
    /* No space above this address */
    mb.memblock_reserve(min_addr, r2_size);

    const allocated_ptr = mb.memblock_alloc_from(r1_size, SMP_CACHE_BYTES, min_addr);

    assert.notEqual(allocated_ptr, 0);
    assertRegion(mb, mb.reserved, 0, min_addr - r1_size, total_size);
    assertType(mb, mb.reserved, 1, total_size);
  },

  /*
   * A test that tries to allocate a memory region with a minimal address below
   * the start address of the available memory. As the allocation is top-down,
   * first reserve a region that will force allocation near the start.
   * Expect successful allocation and merge of both regions.
   */
  alloc_from_top_down_min_addr_cap_check(t) {
    const r1_size = SZ_64;
    const mb = t.setup_memblock();
    const start_addr = mb.memblock_start_of_DRAM();
    const min_addr = start_addr - SMP_CACHE_BYTES * 3;
    mb.memblock_reserve(start_addr + r1_size, MEM_SIZE - r1_size);

    const allocated_ptr = mb.memblock_alloc_from(r1_size, SMP_CACHE_BYTES, min_addr);

    assert.notEqual(allocated_ptr, 0);
    assertRegion(mb, mb.reserved, 0, start_addr, MEM_SIZE);
    assertType(mb, mb.reserved, 1, MEM_SIZE);
  },
};

const allocFromBottomUp: Scenarios = {
  /*
   * A test that tries to allocate a memory region above an address that is too
   * close to the end of the memory:
   *
   *                             +
   *  |-----------+              +     |
   *  |    rgn    |              |     |
   *  +-----------+--------------+-----+
   *  ^                          ^
   *  |                          |
   *  Aligned address            min_addr
   *  boundary
   *
   * Expect to prioritize granting memory over satisfying the minimal address
   * requirement. Allocation happens at beginning of the available memory.
   */
  alloc_from_bottom_up_high_addr_check(t) {
    const size = SZ_32;
    const mb = t.setup_memblock();
    /* The address is too close to the end of the memory */
    const min_addr = mb.memblock_end_of_DRAM() - SZ_8;

    const allocated_ptr = mb.memblock_alloc_from(size, SMP_CACHE_BYTES, min_addr);

    assert.notEqual(allocated_ptr, 0);
    assertRegion(mb, mb.reserved, 0, mb.memblock_start_of_DRAM(), size);
    assertType(mb, mb.reserved, 1, size);
  },

  /*
   * A test that tries to allocate a memory region when there is no space
   * available above the minimal address above a certain address:
   *
   *                   +
   *  |-----------+    +-------------------|
   *  |    rgn    |    |                   |
   *  +-----------+----+-------------------+
   *                   ^
   *                   |
   *                   min_addr
   *
   * Expect to prioritize granting memory over satisfying the minimal address
   * requirement and to allocate at the beginning of the available memory.
   */
  alloc_from_bottom_up_no_space_above_check(t) {
    const r1_size = SZ_64;
    const mb = t.setup_memblock();
    const min_addr = mb.memblock_start_of_DRAM() + SZ_128;
    const r2_size = mb.memblock_end_of_DRAM() - min_addr;
    /* No space above this address */
    mb.memblock_reserve(min_addr - SMP_CACHE_BYTES, r2_size);

    const allocated_ptr = mb.memblock_alloc_from(r1_size, SMP_CACHE_BYTES, min_addr);

    assert.notEqual(allocated_ptr, 0);
    assertRegion(mb, mb.reserved, 0, mb.memblock_start_of_DRAM(), r1_size);
    assertType(mb, mb.reserved, 2, r1_size + r2_size);
  },

  /*
   * A test that tries to allocate a memory region with a minimal address below
   * the start address of the available memory. Expect to allocate a region
   * at the beginning of the available memory.
   */
  alloc_from_bottom_up_min_addr_cap_check(t) {
    const r1_size = SZ_64;
    const mb = t.setup_memblock();
    const start_addr = mb.memblock_start_of_DRAM();
    const min_addr = start_addr - SMP_CACHE_BYTES * 3;

    const allocated_ptr = mb.memblock_alloc_from(r1_size, SMP_CACHE_BYTES, min_addr);

    assert.notEqual(allocated_ptr, 0);
    assertRegion(mb, mb.reserved, 0, start_addr, r1_size);
    assertType(mb, mb.reserved, 1, r1_size);
  },
};

const allocFromGeneric: Scenarios = {
  /*
   * A simple test that tries to allocate a memory region above a specified,
   * aligned address:
   *
   *             +
   *  |          +-----------+         |
   *  |          |    rgn    |         |
   *  +----------+-----------+---------+
   *             ^
   *             |
   *             Aligned min_addr
   *
   * Expect to allocate a cleared region at the minimal memory address.
   */
  alloc_from_simple_generic_check(t) {
    const size = SZ_16;
    const mb = t.setup_memblock();
    const min_addr = mb.memblock_end_of_DRAM() - SMP_CACHE_BYTES;

    const allocated_ptr = mb.memblock_alloc_from(size, SMP_CACHE_BYTES, min_addr);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, size);
    assertRegion(mb, mb.reserved, 0, min_addr, size);
    assertType(mb, mb.reserved, 1, size);
  },

  /*
   * A test that tries to allocate a memory region above a certain address.
   * The minimal address here is not aligned:
   *
   *         +      +
   *  |      +      +---------+            |
   *  |      |      |   rgn   |            |
   *  +------+------+---------+------------+
   *         ^      ^------.
   *         |             |
   *       min_addr        Aligned address
   *                       boundary
   *
   * Expect to allocate a cleared region at the closest aligned memory address.
   */
  alloc_from_misaligned_generic_check(t) {
    const size = SZ_32;
    const mb = t.setup_memblock();
    /* A misaligned address */
    const min_addr = mb.memblock_end_of_DRAM() - (SMP_CACHE_BYTES * 2 - 1);

    const allocated_ptr = mb.memblock_alloc_from(size, SMP_CACHE_BYTES, min_addr);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, size);
    assertRegion(mb, mb.reserved, 0, mb.memblock_end_of_DRAM() - SMP_CACHE_BYTES, size);
    assertType(mb, mb.reserved, 1, size);
  },
};

describe('alloc_helpers_api', () => {
  describe('memblock_alloc_from', () => {
    suite(TEST_F_NONE, allocFromTopDown, allocFromBottomUp, allocFromGeneric);
  });
});

/* ------------------------------------------------------------ alloc_nid_api.c */

const nidRangeTopDown: Scenarios = {
  /*
   * A simple test that tries to allocate a memory region within min_addr and
   * max_addr range:
   *
   *        +                   +
   *   |    +       +-----------+      |
   *   |    |       |    rgn    |      |
   *   +----+-------+-----------+------+
   *        ^                   ^
   *        |                   |
   *        min_addr           max_addr
   *
   * Expect to allocate a region that ends at max_addr.
   */
  alloc_nid_top_down_simple_check(t) {
    const size = SZ_128;
    const mb = t.setup_memblock();
    const min_addr = mb.memblock_start_of_DRAM() + SMP_CACHE_BYTES * 2;
    const max_addr = min_addr + SZ_512;

    const allocated_ptr = t.alloc_nid(size, SMP_CACHE_BYTES, min_addr, max_addr, NUMA_NO_NODE);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, size);
    assertRegion(mb, mb.reserved, 0, max_addr - size, size);
    assert.equal(region_end(mb.readRegion(mb.reserved, 0)), max_addr);
    assertType(mb, mb.reserved, 1, size);
  },

  /*
   * A simple test that tries to allocate a memory region within min_addr and
   * max_addr range, where the end address is misaligned:
   *
   *         +       +            +
   *  |      +       +---------+  +    |
   *  |      |       |   rgn   |  |    |
   *  +------+-------+---------+--+----+
   *         ^       ^            ^
   *         |       |            |
   *       min_add   |            max_addr
   *                 |
   *                 Aligned address
   *                 boundary
   *
   * Expect to allocate an aligned region that ends before max_addr.
   */
  alloc_nid_top_down_end_misaligned_check(t) {
    const size = SZ_128;
    const misalign = SZ_2;
    const mb = t.setup_memblock();
    const min_addr = mb.memblock_start_of_DRAM() + SMP_CACHE_BYTES * 2;
    const max_addr = min_addr + SZ_512 + misalign;

    const allocated_ptr = t.alloc_nid(size, SMP_CACHE_BYTES, min_addr, max_addr, NUMA_NO_NODE);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, size);
    assertRegion(mb, mb.reserved, 0, max_addr - size - misalign, size);
    assert.ok(region_end(mb.readRegion(mb.reserved, 0)) < max_addr);
    assertType(mb, mb.reserved, 1, size);
  },

  /*
   * A test that tries to allocate a memory region, which can't fit into
   * min_addr and max_addr range:
   *
   *           +          +     +
   *  |        +----------+-----+    |
   *  |        |   rgn    +     |    |
   *  +--------+----------+-----+----+
   *           ^          ^     ^
   *           |          |     |
   *           Aligned    |    max_addr
   *           address    |
   *           boundary   min_add
   *
   * Expect to drop the lower limit and allocate a memory region which
   * ends at max_addr (if the address is aligned).
   */
  alloc_nid_top_down_narrow_range_check(t) {
    const size = SZ_256;
    const mb = t.setup_memblock();
    const min_addr = mb.memblock_start_of_DRAM() + SZ_512;
    const max_addr = min_addr + SMP_CACHE_BYTES;

    const allocated_ptr = t.alloc_nid(size, SMP_CACHE_BYTES, min_addr, max_addr, NUMA_NO_NODE);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, size);
    assertRegion(mb, mb.reserved, 0, max_addr - size, size);
    assertType(mb, mb.reserved, 1, size);
  },

  /*
   * A test that tries to allocate memory within min_addr and max_add range, when
   * there are two reserved regions at the borders, with a gap big enough to fit
   * a new region:
   *
   *                +           +
   *  |    +--------+   +-------+------+  |
   *  |    |   r2   |   |  rgn  |  r1  |  |
   *  +----+--------+---+-------+------+--+
   *                ^           ^
   *                |           |
   *                min_addr    max_addr
   *
   * Expect to merge the new region with r1. The second region does not get
   * updated. The total size field gets updated.
   */
  alloc_nid_top_down_reserved_with_space_check(t) {
    const r3_size = SZ_64;
    const gap_size = SMP_CACHE_BYTES;
    const mb = t.setup_memblock();
    const r1 = { base: mb.memblock_end_of_DRAM() - SMP_CACHE_BYTES * 2, size: SMP_CACHE_BYTES };
    const r2 = { size: SZ_128, base: r1.base - (r3_size + gap_size + SZ_128) };
    const total_size = r1.size + r2.size + r3_size;
    const min_addr = r2.base + r2.size;
    const max_addr = r1.base;
    mb.memblock_reserve(r1.base, r1.size);
    mb.memblock_reserve(r2.base, r2.size);

    const allocated_ptr = t.alloc_nid(r3_size, SMP_CACHE_BYTES, min_addr, max_addr, NUMA_NO_NODE);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, r3_size);
    assertRegion(mb, mb.reserved, 1, max_addr - r3_size, r1.size + r3_size);
    assertRegion(mb, mb.reserved, 0, r2.base, r2.size);
    assertType(mb, mb.reserved, 2, total_size);
  },

  /*
   * A test that tries to allocate memory within min_addr and max_add range, when
   * there are two reserved regions at the borders, with a gap that can't fit
   * a new region:
   *
   *                       +    +
   *  |  +----------+------+    +------+   |
   *  |  |    r3    |  r2  |    |  r1  |   |
   *  +--+----------+------+----+------+---+
   *                       ^    ^
   *                       |    |
   *                       |    max_addr
   *                       |
   *                       min_addr
   *
   * Expect to merge the new region with r2. The second region does not get
   * updated. The total size counter gets updated.
   */
  alloc_nid_top_down_reserved_no_space_check(t) {
    const r3_size = SZ_256;
    const gap_size = SMP_CACHE_BYTES;
    const mb = t.setup_memblock();
    const r1 = { base: mb.memblock_end_of_DRAM() - SMP_CACHE_BYTES * 2, size: SMP_CACHE_BYTES };
    const r2 = { size: SZ_128, base: r1.base - (SZ_128 + gap_size) };
    const total_size = r1.size + r2.size + r3_size;
    const min_addr = r2.base + r2.size;
    const max_addr = r1.base;
    mb.memblock_reserve(r1.base, r1.size);
    mb.memblock_reserve(r2.base, r2.size);

    const allocated_ptr = t.alloc_nid(r3_size, SMP_CACHE_BYTES, min_addr, max_addr, NUMA_NO_NODE);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, r3_size);
    assertRegion(mb, mb.reserved, 1, r1.base, r1.size);
    assertRegion(mb, mb.reserved, 0, r2.base - r3_size, r2.size + r3_size);
    assertType(mb, mb.reserved, 2, total_size);
  },

  /*
   * A test that tries to allocate a memory region, where max_addr is
   * bigger than the end address of the available memory. Expect to allocate
   * a region that ends before the end of the memory.
   */
  alloc_nid_top_down_cap_max_check(t) {
    const size = SZ_256;
    const mb = t.setup_memblock();
    const min_addr = mb.memblock_end_of_DRAM() - SZ_1K;
    const max_addr = mb.memblock_end_of_DRAM() + SZ_256;

    const allocated_ptr = t.alloc_nid(size, SMP_CACHE_BYTES, min_addr, max_addr, NUMA_NO_NODE);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, size);
    assertRegion(mb, mb.reserved, 0, mb.memblock_end_of_DRAM() - size, size);
    assertType(mb, mb.reserved, 1, size);
  },

  /*
   * A test that tries to allocate a memory region, where min_addr is
   * smaller than the start address of the available memory. Expect to allocate
   * a region that ends before the end of the memory.
   */
  alloc_nid_top_down_cap_min_check(t) {
    const size = SZ_1K;
    const mb = t.setup_memblock();
    const min_addr = mb.memblock_start_of_DRAM() - SZ_256;
    const max_addr = mb.memblock_end_of_DRAM();

    const allocated_ptr = t.alloc_nid(size, SMP_CACHE_BYTES, min_addr, max_addr, NUMA_NO_NODE);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, size);
    assertRegion(mb, mb.reserved, 0, mb.memblock_end_of_DRAM() - size, size);
    assertType(mb, mb.reserved, 1, size);
  },
};

const nidRangeBottomUp: Scenarios = {
  /*
   * A simple test that tries to allocate a memory region within min_addr and
   * max_addr range:
   *
   *        +                       +
   *   |    +-----------+           |      |
   *   |    |    rgn    |           |      |
   *   +----+-----------+-----------+------+
   *        ^                       ^
   *        |                       |
   *        min_addr                max_addr
   *
   * Expect to allocate a region that ends before max_addr.
   */
  alloc_nid_bottom_up_simple_check(t) {
    const size = SZ_128;
    const mb = t.setup_memblock();
    const min_addr = mb.memblock_start_of_DRAM() + SMP_CACHE_BYTES * 2;
    const max_addr = min_addr + SZ_512;

    const allocated_ptr = t.alloc_nid(size, SMP_CACHE_BYTES, min_addr, max_addr, NUMA_NO_NODE);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, size);
    assertRegion(mb, mb.reserved, 0, min_addr, size);
    assert.ok(region_end(mb.readRegion(mb.reserved, 0)) < max_addr);
    assertType(mb, mb.reserved, 1, size);
  },

  /*
   * A simple test that tries to allocate a memory region within min_addr and
   * max_addr range, where the start address is misaligned:
   *
   *        +                     +
   *  |     +   +-----------+     +     |
   *  |     |   |    rgn    |     |     |
   *  +-----+---+-----------+-----+-----+
   *        ^   ^----.            ^
   *        |        |            |
   *     min_add     |            max_addr
   *                 |
   *                 Aligned address
   *                 boundary
   *
   * Expect to allocate an aligned region that ends before max_addr.
   */
  alloc_nid_bottom_up_start_misaligned_check(t) {
    const size = SZ_128;
    const misalign = SZ_2;
    const mb = t.setup_memblock();
    const min_addr = mb.memblock_start_of_DRAM() + misalign;
    const max_addr = min_addr + SZ_512;

    const allocated_ptr = t.alloc_nid(size, SMP_CACHE_BYTES, min_addr, max_addr, NUMA_NO_NODE);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, size);
    assertRegion(mb, mb.reserved, 0, min_addr + (SMP_CACHE_BYTES - misalign), size);
    assert.ok(region_end(mb.readRegion(mb.reserved, 0)) < max_addr);
    assertType(mb, mb.reserved, 1, size);
  },

  /*
   * A test that tries to allocate a memory region, which can't fit into min_addr
   * and max_addr range:
   *
   *                      +    +
   *  |---------+         +    +      |
   *  |   rgn   |         |    |      |
   *  +---------+---------+----+------+
   *                      ^    ^
   *                      |    |
   *                      |    max_addr
   *                      |
   *                      min_add
   *
   * Expect to drop the lower limit and allocate a memory region which
   * starts at the beginning of the available memory.
   */
  alloc_nid_bottom_up_narrow_range_check(t) {
    const size = SZ_256;
    const mb = t.setup_memblock();
    const min_addr = mb.memblock_start_of_DRAM() + SZ_512;
    const max_addr = min_addr + SMP_CACHE_BYTES;

    const allocated_ptr = t.alloc_nid(size, SMP_CACHE_BYTES, min_addr, max_addr, NUMA_NO_NODE);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, size);
    assertRegion(mb, mb.reserved, 0, mb.memblock_start_of_DRAM(), size);
    assertType(mb, mb.reserved, 1, size);
  },

  /*
   * A test that tries to allocate memory within min_addr and max_add range, when
   * there are two reserved regions at the borders, with a gap big enough to fit
   * a new region:
   *
   *                +           +
   *  |    +--------+-------+   +------+  |
   *  |    |   r2   |  rgn  |   |  r1  |  |
   *  +----+--------+-------+---+------+--+
   *                ^           ^
   *                |           |
   *                min_addr    max_addr
   *
   * Expect to merge the new region with r2. The second region does not get
   * updated. The total size field gets updated.
   */
  alloc_nid_bottom_up_reserved_with_space_check(t) {
    const r3_size = SZ_64;
    const gap_size = SMP_CACHE_BYTES;
    const mb = t.setup_memblock();
    const r1 = { base: mb.memblock_end_of_DRAM() - SMP_CACHE_BYTES * 2, size: SMP_CACHE_BYTES };
    const r2 = { size: SZ_128, base: r1.base - (r3_size + gap_size + SZ_128) };
    const total_size = r1.size + r2.size + r3_size;
    const min_addr = r2.base + r2.size;
    const max_addr = r1.base;
    mb.memblock_reserve(r1.base, r1.size);
    mb.memblock_reserve(r2.base, r2.size);

    const allocated_ptr = t.alloc_nid(r3_size, SMP_CACHE_BYTES, min_addr, max_addr, NUMA_NO_NODE);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, r3_size);
    assertRegion(mb, mb.reserved, 1, max_addr, r1.size);
    assertRegion(mb, mb.reserved, 0, r2.base, r2.size + r3_size);
    assertType(mb, mb.reserved, 2, total_size);
  },

  /*
   * A test that tries to allocate memory within min_addr and max_add range, when
   * there are two reserved regions at the borders, with a gap of a size equal to
   * the size of the new region:
   *
   *                         +   +
   *  |----------+    +------+   +----+  |
   *  |    r3    |    |  r2  |   | r1 |  |
   *  +----------+----+------+---+----+--+
   *                         ^   ^
   *                         |   |
   *                         |  max_addr
   *                         |
   *                         min_addr
   *
   * Expect to drop the lower limit and allocate memory at the beginning of the
   * available memory. The region counter and total size fields get updated.
   * Other regions are not modified.
   */
  alloc_nid_bottom_up_reserved_no_space_check(t) {
    const r3_size = SZ_256;
    const gap_size = SMP_CACHE_BYTES;
    const mb = t.setup_memblock();
    const r1 = { base: mb.memblock_end_of_DRAM() - SMP_CACHE_BYTES * 2, size: SMP_CACHE_BYTES };
    const r2 = { size: SZ_128, base: r1.base - (SZ_128 + gap_size) };
    const total_size = r1.size + r2.size + r3_size;
    const min_addr = r2.base + r2.size;
    const max_addr = r1.base;
    mb.memblock_reserve(r1.base, r1.size);
    mb.memblock_reserve(r2.base, r2.size);

    const allocated_ptr = t.alloc_nid(r3_size, SMP_CACHE_BYTES, min_addr, max_addr, NUMA_NO_NODE);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, r3_size);
    assertRegion(mb, mb.reserved, 0, mb.memblock_start_of_DRAM(), r3_size);
    assertRegion(mb, mb.reserved, 1, r2.base, r2.size);
    assertRegion(mb, mb.reserved, 2, r1.base, r1.size);
    assertType(mb, mb.reserved, 3, total_size);
  },

  /*
   * A test that tries to allocate a memory region, where max_addr is
   * bigger than the end address of the available memory. Expect to allocate
   * a region that starts at the min_addr.
   */
  alloc_nid_bottom_up_cap_max_check(t) {
    const size = SZ_256;
    const mb = t.setup_memblock();
    const min_addr = mb.memblock_start_of_DRAM() + SZ_1K;
    const max_addr = mb.memblock_end_of_DRAM() + SZ_256;

    const allocated_ptr = t.alloc_nid(size, SMP_CACHE_BYTES, min_addr, max_addr, NUMA_NO_NODE);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, size);
    assertRegion(mb, mb.reserved, 0, min_addr, size);
    assertType(mb, mb.reserved, 1, size);
  },

  /*
   * A test that tries to allocate a memory region, where min_addr is
   * smaller than the start address of the available memory. Expect to allocate
   * a region at the beginning of the available memory.
   */
  alloc_nid_bottom_up_cap_min_check(t) {
    const size = SZ_1K;
    const mb = t.setup_memblock();
    const min_addr = mb.memblock_start_of_DRAM();
    const max_addr = mb.memblock_end_of_DRAM() - SZ_256;

    const allocated_ptr = t.alloc_nid(size, SMP_CACHE_BYTES, min_addr, max_addr, NUMA_NO_NODE);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, size);
    assertRegion(mb, mb.reserved, 0, mb.memblock_start_of_DRAM(), size);
    assertType(mb, mb.reserved, 1, size);
  },
};

const nidRangeGeneric: Scenarios = {
  /*
   * A test that tries to allocate a memory region within min_addr min_addr range,
   * with min_addr being so close that it's next to an allocated region:
   *
   *          +                        +
   *  |       +--------+---------------|
   *  |       |   r1   |      rgn      |
   *  +-------+--------+---------------+
   *          ^                        ^
   *          |                        |
   *          min_addr                 max_addr
   *
   * Expect a merge of both regions. Only the region size gets updated.
   */
  alloc_nid_min_reserved_generic_check(t) {
    const r1_size = SZ_128;
    const r2_size = SZ_64;
    const total_size = r1_size + r2_size;
    const mb = t.setup_memblock();
    const max_addr = mb.memblock_end_of_DRAM();
    const min_addr = max_addr - r2_size;
    const reserved_base = min_addr - r1_size;
    mb.memblock_reserve(reserved_base, r1_size);

    const allocated_ptr = t.alloc_nid(r2_size, SMP_CACHE_BYTES, min_addr, max_addr, NUMA_NO_NODE);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, r2_size);
    assertRegion(mb, mb.reserved, 0, reserved_base, total_size);
    assertType(mb, mb.reserved, 1, total_size);
  },

  /*
   * A test that tries to allocate a memory region within min_addr and max_addr,
   * with max_addr being so close that it's next to an allocated region:
   *
   *             +             +
   *  |          +-------------+--------|
   *  |          |     rgn     |   r1   |
   *  +----------+-------------+--------+
   *             ^             ^
   *             |             |
   *             min_addr      max_addr
   *
   * Expect a merge of regions. Only the region size gets updated.
   */
  alloc_nid_max_reserved_generic_check(t) {
    const r1_size = SZ_64;
    const r2_size = SZ_128;
    const total_size = r1_size + r2_size;
    const mb = t.setup_memblock();
    const max_addr = mb.memblock_end_of_DRAM() - r1_size;
    const min_addr = max_addr - r2_size;
    mb.memblock_reserve(max_addr, r1_size);

    const allocated_ptr = t.alloc_nid(r2_size, SMP_CACHE_BYTES, min_addr, max_addr, NUMA_NO_NODE);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, r2_size);
    assertRegion(mb, mb.reserved, 0, min_addr, total_size);
    assertType(mb, mb.reserved, 1, total_size);
  },

  /*
   * A simple test that tries to allocate a memory region, which spans over the
   * min_addr and max_addr range:
   *
   *         +               +
   *  |      +---------------+       |
   *  |      |      rgn      |       |
   *  +------+---------------+-------+
   *         ^               ^
   *         |               |
   *         min_addr        max_addr
   *
   * Expect to allocate a region that starts at min_addr and ends at
   * max_addr, given that min_addr is aligned.
   */
  alloc_nid_exact_address_generic_check(t) {
    const size = SZ_1K;
    const mb = t.setup_memblock();
    const min_addr = mb.memblock_start_of_DRAM() + SMP_CACHE_BYTES;
    const max_addr = min_addr + size;

    const allocated_ptr = t.alloc_nid(size, SMP_CACHE_BYTES, min_addr, max_addr, NUMA_NO_NODE);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, size);
    assertRegion(mb, mb.reserved, 0, min_addr, size);
    assert.equal(region_end(mb.readRegion(mb.reserved, 0)), max_addr);
    assertType(mb, mb.reserved, 1, size);
  },

  /*
   * A test that tries to allocate memory within min_addr and max_add range, when
   * there are two reserved regions at the borders, with a gap of a size equal to
   * the size of the new region:
   *
   *                 +        +
   *  |     +--------+--------+--------+     |
   *  |     |   r2   |   r3   |   r1   |     |
   *  +-----+--------+--------+--------+-----+
   *                 ^        ^
   *                 |        |
   *                 min_addr max_addr
   *
   * Expect to merge all of the regions into one. The region counter and total
   * size fields get updated.
   */
  alloc_nid_reserved_full_merge_generic_check(t) {
    const r3_size = SZ_64;
    const mb = t.setup_memblock();
    const r1 = { base: mb.memblock_end_of_DRAM() - SMP_CACHE_BYTES * 2, size: SMP_CACHE_BYTES };
    const r2 = { size: SZ_128, base: r1.base - (r3_size + SZ_128) };
    const total_size = r1.size + r2.size + r3_size;
    const min_addr = r2.base + r2.size;
    const max_addr = r1.base;
    mb.memblock_reserve(r1.base, r1.size);
    mb.memblock_reserve(r2.base, r2.size);

    const allocated_ptr = t.alloc_nid(r3_size, SMP_CACHE_BYTES, min_addr, max_addr, NUMA_NO_NODE);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, r3_size);
    assertRegion(mb, mb.reserved, 0, r2.base, total_size);
    assertType(mb, mb.reserved, 1, total_size);
  },

  /*
   * A test that tries to allocate memory within min_addr and max_add range, but
   * it's too narrow and everything else is reserved:
   *
   *            +-----------+
   *            |    new    |
   *            +-----------+
   *                 +      +
   *  |--------------+      +----------|
   *  |      r2      |      |    r1    |
   *  +--------------+------+----------+
   *                 ^      ^
   *                 |      |
   *                 |      max_addr
   *                 |
   *                 min_addr
   *
   * Expect no allocation to happen.
   */
  alloc_nid_reserved_all_generic_check(t) {
    const r3_size = SZ_256;
    const gap_size = SMP_CACHE_BYTES;
    const mb = t.setup_memblock();
    const r1 = { base: mb.memblock_end_of_DRAM() - SMP_CACHE_BYTES, size: SMP_CACHE_BYTES };
    const r2 = { size: MEM_SIZE - (SMP_CACHE_BYTES + gap_size), base: mb.memblock_start_of_DRAM() };
    const min_addr = r2.base + r2.size;
    const max_addr = r1.base;
    mb.memblock_reserve(r1.base, r1.size);
    mb.memblock_reserve(r2.base, r2.size);

    assert.equal(t.alloc_nid(r3_size, SMP_CACHE_BYTES, min_addr, max_addr, NUMA_NO_NODE), 0);
  },

  /*
   * A test that tries to allocate a memory region, which can't fit into
   * min_addr and max_addr range, with the latter being too close to the beginning
   * of the available memory:
   *
   *   +-------------+
   *   |     new     |
   *   +-------------+
   *         +       +
   *         |       +              |
   *         |       |              |
   *         +-------+--------------+
   *         ^       ^
   *         |       |
   *         |       max_addr
   *         |
   *         min_addr
   *
   * Expect no allocation to happen.
   */
  alloc_nid_low_max_generic_check(t) {
    const size = SZ_1K;
    const mb = t.setup_memblock();
    const min_addr = mb.memblock_start_of_DRAM();
    const max_addr = min_addr + SMP_CACHE_BYTES;

    assert.equal(t.alloc_nid(size, SMP_CACHE_BYTES, min_addr, max_addr, NUMA_NO_NODE), 0);
  },
};

/*
 * The fraction of MEM_SIZE in each node, in basis points (1/10000):
 *
 *   | node0 1/4 |n1 1/16| node2 1/8 | node3 1/8 |n4 1/16|n5 1/16| node6 1/4 |n7 1/16|
 */
const node_fractions = [2500, 625, 1250, 1250, 625, 625, 2500, 625];

/** setup_numa_memblock(node_fractions), and a reader of node nid's memory region. */
function numaSetup(t: Run) {
  const mb = t.setup_numa_memblock(node_fractions);
  const node = (nid: number) => mb.readRegion(mb.memory, nid);
  return { mb, node };
}

const nidNumaTopDown: Scenarios = {
  /*
   * A test that tries to allocate a memory region in a specific NUMA node that
   * has enough memory to allocate a region of the requested size.
   * Expect to allocate an aligned region at the end of the requested node.
   */
  alloc_nid_top_down_numa_simple_check(t) {
    const nid_req = 3;
    const { mb, node } = numaSetup(t);
    const req_node = node(nid_req);
    assert.ok(SZ_4 <= req_node.size);
    const size = req_node.size / SZ_4;

    const allocated_ptr = t.alloc_nid(size, SMP_CACHE_BYTES, mb.memblock_start_of_DRAM(), mb.memblock_end_of_DRAM(), nid_req);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, size);
    assertRegion(mb, mb.reserved, 0, region_end(req_node) - size, size);
    assert.ok(req_node.base <= mb.readRegion(mb.reserved, 0).base);
    assertType(mb, mb.reserved, 1, size);
  },

  /*
   * A test that tries to allocate a memory region in a specific NUMA node that
   * does not have enough memory to allocate a region of the requested size:
   *
   *  |   +-----+          +------------------+     |
   *  |   | req |          |     expected     |     |
   *  +---+-----+----------+------------------+-----+
   *
   *  |                             +---------+     |
   *  |                             |   rgn   |     |
   *  +-----------------------------+---------+-----+
   *
   * Expect to allocate an aligned region at the end of the last node that has
   * enough memory (in this case, nid = 6) after falling back to NUMA_NO_NODE.
   */
  alloc_nid_top_down_numa_small_node_check(t) {
    const nid_req = 1;
    const nid_exp = 6;
    const { mb, node } = numaSetup(t);
    const exp_node = node(nid_exp);
    const size = SZ_2 * node(nid_req).size;

    const allocated_ptr = t.alloc_nid(size, SMP_CACHE_BYTES, mb.memblock_start_of_DRAM(), mb.memblock_end_of_DRAM(), nid_req);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, size);
    assertRegion(mb, mb.reserved, 0, region_end(exp_node) - size, size);
    assert.ok(exp_node.base <= mb.readRegion(mb.reserved, 0).base);
    assertType(mb, mb.reserved, 1, size);
  },

  /*
   * A test that tries to allocate a memory region in a specific NUMA node that
   * is fully reserved:
   *
   *  |              +---------+            +------------------+     |
   *  |              |requested|            |     expected     |     |
   *  +--------------+---------+------------+------------------+-----+
   *
   *  |              +---------+                     +---------+     |
   *  |              | reserved|                     |   new   |     |
   *  +--------------+---------+---------------------+---------+-----+
   *
   * Expect to allocate an aligned region at the end of the last node that is
   * large enough and has enough unreserved memory (in this case, nid = 6) after
   * falling back to NUMA_NO_NODE. The region count and total size get updated.
   */
  alloc_nid_top_down_numa_node_reserved_check(t) {
    const nid_req = 2;
    const nid_exp = 6;
    const { mb, node } = numaSetup(t);
    const req_node = node(nid_req);
    const exp_node = node(nid_exp);
    const size = req_node.size;
    mb.memblock_reserve(req_node.base, req_node.size);

    const allocated_ptr = t.alloc_nid(size, SMP_CACHE_BYTES, mb.memblock_start_of_DRAM(), mb.memblock_end_of_DRAM(), nid_req);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, size);
    assertRegion(mb, mb.reserved, 1, region_end(exp_node) - size, size);
    assert.ok(exp_node.base <= mb.readRegion(mb.reserved, 1).base);
    assertType(mb, mb.reserved, 2, size + req_node.size);
  },

  /*
   * A test that tries to allocate a memory region in a specific NUMA node that
   * is partially reserved but has enough memory for the allocated region:
   *
   *  |           +---------------------------------------+          |
   *  |           |               requested               |          |
   *  +-----------+---------------------------------------+----------+
   *
   *  |           +------------------+              +-----+          |
   *  |           |     reserved     |              | new |          |
   *  +-----------+------------------+--------------+-----+----------+
   *
   * Expect to allocate an aligned region at the end of the requested node. The
   * region count and total size get updated.
   */
  alloc_nid_top_down_numa_part_reserved_check(t) {
    const nid_req = 4;
    const { mb, node } = numaSetup(t);
    const req_node = node(nid_req);
    assert.ok(SZ_8 <= req_node.size);
    const r1 = { base: req_node.base, size: req_node.size / SZ_2 };
    const size = r1.size / SZ_4;
    mb.memblock_reserve(r1.base, r1.size);

    const allocated_ptr = t.alloc_nid(size, SMP_CACHE_BYTES, mb.memblock_start_of_DRAM(), mb.memblock_end_of_DRAM(), nid_req);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, size);
    assertRegion(mb, mb.reserved, 1, region_end(req_node) - size, size);
    assert.ok(req_node.base <= mb.readRegion(mb.reserved, 1).base);
    assertType(mb, mb.reserved, 2, size + r1.size);
  },

  /*
   * A test that tries to allocate a memory region in a specific NUMA node that
   * is partially reserved and does not have enough contiguous memory for the
   * allocated region:
   *
   *  |           +-----------------------+         +----------------------|
   *  |           |       requested       |         |       expected       |
   *  +-----------+-----------------------+---------+----------------------+
   *
   *  |                 +----------+                           +-----------|
   *  |                 | reserved |                           |    new    |
   *  +-----------------+----------+---------------------------+-----------+
   *
   * Expect to allocate an aligned region at the end of the last node that is
   * large enough and has enough unreserved memory (in this case,
   * nid = NUMA_NODES - 1) after falling back to NUMA_NO_NODE. The region count
   * and total size get updated.
   */
  alloc_nid_top_down_numa_part_reserved_fallback_check(t) {
    const nid_req = 4;
    const nid_exp = NUMA_NODES - 1;
    const { mb, node } = numaSetup(t);
    const req_node = node(nid_req);
    const exp_node = node(nid_exp);
    assert.ok(SZ_4 <= req_node.size);
    const size = req_node.size / SZ_2;
    const r1 = { base: req_node.base + size / SZ_2, size };
    mb.memblock_reserve(r1.base, r1.size);

    const allocated_ptr = t.alloc_nid(size, SMP_CACHE_BYTES, mb.memblock_start_of_DRAM(), mb.memblock_end_of_DRAM(), nid_req);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, size);
    assertRegion(mb, mb.reserved, 1, region_end(exp_node) - size, size);
    assert.ok(exp_node.base <= mb.readRegion(mb.reserved, 1).base);
    assertType(mb, mb.reserved, 2, size + r1.size);
  },

  /*
   * A test that tries to allocate a memory region that spans over the min_addr
   * and max_addr range and overlaps with two different nodes, where the first
   * node is the requested node:
   *
   *                                min_addr
   *                                |           max_addr
   *                                |           |
   *                                v           v
   *  |           +-----------------------+-----------+              |
   *  |           |       requested       |   node3   |              |
   *  +-----------+-----------------------+-----------+--------------+
   *                                +           +
   *  |                       +-----------+                          |
   *  |                       |    rgn    |                          |
   *  +-----------------------+-----------+--------------------------+
   *
   * Expect to drop the lower limit and allocate a memory region that ends at
   * the end of the requested node.
   */
  alloc_nid_top_down_numa_split_range_low_check(t) {
    const nid_req = 2;
    const size = SZ_512;
    const { mb, node } = numaSetup(t);
    const req_node = node(nid_req);
    const req_node_end = region_end(req_node);
    const min_addr = req_node_end - SZ_256;
    const max_addr = min_addr + size;

    const allocated_ptr = t.alloc_nid(size, SMP_CACHE_BYTES, min_addr, max_addr, nid_req);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, size);
    assertRegion(mb, mb.reserved, 0, req_node_end - size, size);
    assert.ok(req_node.base <= mb.readRegion(mb.reserved, 0).base);
    assertType(mb, mb.reserved, 1, size);
  },

  /*
   * A test that tries to allocate a memory region that spans over the min_addr
   * and max_addr range and overlaps with two different nodes, where the second
   * node is the requested node:
   *
   *                               min_addr
   *                               |         max_addr
   *                               |         |
   *                               v         v
   *  |      +--------------------------+---------+                |
   *  |      |         expected         |requested|                |
   *  +------+--------------------------+---------+----------------+
   *                               +         +
   *  |                       +---------+                          |
   *  |                       |   rgn   |                          |
   *  +-----------------------+---------+--------------------------+
   *
   * Expect to drop the lower limit and allocate a memory region that
   * ends at the end of the first node that overlaps with the range.
   */
  alloc_nid_top_down_numa_split_range_high_check(t) {
    const nid_req = 3;
    const nid_exp = nid_req - 1;
    const size = SZ_512;
    const { mb, node } = numaSetup(t);
    const exp_node = node(nid_exp);
    const exp_node_end = region_end(exp_node);
    const min_addr = exp_node_end - SZ_256;
    const max_addr = min_addr + size;

    const allocated_ptr = t.alloc_nid(size, SMP_CACHE_BYTES, min_addr, max_addr, nid_req);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, size);
    assertRegion(mb, mb.reserved, 0, exp_node_end - size, size);
    assert.ok(exp_node.base <= mb.readRegion(mb.reserved, 0).base);
    assertType(mb, mb.reserved, 1, size);
  },

  /*
   * A test that tries to allocate a memory region that spans over the min_addr
   * and max_addr range and overlaps with two different nodes, where the requested
   * node ends before min_addr:
   *
   *                                         min_addr
   *                                         |         max_addr
   *                                         |         |
   *                                         v         v
   *  |    +---------------+        +-------------+---------+          |
   *  |    |   requested   |        |    node1    |  node2  |          |
   *  +----+---------------+--------+-------------+---------+----------+
   *                                         +         +
   *  |          +---------+                                           |
   *  |          |   rgn   |                                           |
   *  +----------+---------+-------------------------------------------+
   *
   * Expect to drop the lower limit and allocate a memory region that ends at
   * the end of the requested node.
   */
  alloc_nid_top_down_numa_no_overlap_split_check(t) {
    const nid_req = 2;
    const size = SZ_512;
    const { mb, node } = numaSetup(t);
    const req_node = node(nid_req);
    const min_addr = node(6).base - SZ_256;
    const max_addr = min_addr + size;

    const allocated_ptr = t.alloc_nid(size, SMP_CACHE_BYTES, min_addr, max_addr, nid_req);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, size);
    assertRegion(mb, mb.reserved, 0, region_end(req_node) - size, size);
    assert.ok(req_node.base <= mb.readRegion(mb.reserved, 0).base);
    assertType(mb, mb.reserved, 1, size);
  },

  /*
   * A test that tries to allocate memory within min_addr and max_add range when
   * the requested node and the range do not overlap, and requested node ends
   * before min_addr. The range overlaps with multiple nodes along node
   * boundaries:
   *
   *                          min_addr
   *                          |                                 max_addr
   *                          |                                 |
   *                          v                                 v
   *  |-----------+           +----------+----...----+----------+      |
   *  | requested |           | min node |    ...    | max node |      |
   *  +-----------+-----------+----------+----...----+----------+------+
   *                          +                                 +
   *  |                                                   +-----+      |
   *  |                                                   | rgn |      |
   *  +---------------------------------------------------+-----+------+
   *
   * Expect to allocate a memory region at the end of the final node in
   * the range after falling back to NUMA_NO_NODE.
   */
  alloc_nid_top_down_numa_no_overlap_low_check(t) {
    noOverlapFallback(t, 0);
  },

  /*
   * A test that tries to allocate memory within min_addr and max_add range when
   * the requested node and the range do not overlap, and requested node starts
   * after max_addr. The range overlaps with multiple nodes along node
   * boundaries:
   *
   *        min_addr
   *        |                                 max_addr
   *        |                                 |
   *        v                                 v
   *  |     +----------+----...----+----------+        +-----------+   |
   *  |     | min node |    ...    | max node |        | requested |   |
   *  +-----+----------+----...----+----------+--------+-----------+---+
   *        +                                 +
   *  |                                 +-----+                        |
   *  |                                 | rgn |                        |
   *  +---------------------------------+-----+------------------------+
   *
   * Expect to allocate a memory region at the end of the final node in
   * the range after falling back to NUMA_NO_NODE.
   */
  alloc_nid_top_down_numa_no_overlap_high_check(t) {
    noOverlapFallback(t, 7);
  },
};

/**
 * The requested node lies outside [min_addr, max_addr) = nodes 2..5: the
 * allocation falls back to NUMA_NO_NODE inside the range, at its top
 * (top-down) or bottom (bottom-up).
 */
function noOverlapFallback(t: Run, nid_req: number): void {
  const size = SZ_64;
  const { mb, node } = numaSetup(t);
  const min_node = node(2);
  const max_node = node(5);
  const min_addr = min_node.base;
  const max_addr = region_end(max_node);

  const allocated_ptr = t.alloc_nid(size, SMP_CACHE_BYTES, min_addr, max_addr, nid_req);

  assert.notEqual(allocated_ptr, 0);
  t.assert_mem_content(allocated_ptr, size);
  const new_rgn = mb.readRegion(mb.reserved, 0);
  if (t.bottomUp) {
    assertRegion(mb, mb.reserved, 0, min_addr, size);
    assert.ok(region_end(new_rgn) <= region_end(min_node));
  } else {
    assertRegion(mb, mb.reserved, 0, max_addr - size, size);
    assert.ok(max_node.base <= new_rgn.base);
  }
  assertType(mb, mb.reserved, 1, size);
}

const nidNumaBottomUp: Scenarios = {
  /*
   * A test that tries to allocate a memory region in a specific NUMA node that
   * has enough memory to allocate a region of the requested size.
   * Expect to allocate an aligned region at the beginning of the requested node.
   */
  alloc_nid_bottom_up_numa_simple_check(t) {
    const nid_req = 3;
    const { mb, node } = numaSetup(t);
    const req_node = node(nid_req);
    assert.ok(SZ_4 <= req_node.size);
    const size = req_node.size / SZ_4;

    const allocated_ptr = t.alloc_nid(size, SMP_CACHE_BYTES, mb.memblock_start_of_DRAM(), mb.memblock_end_of_DRAM(), nid_req);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, size);
    assertRegion(mb, mb.reserved, 0, req_node.base, size);
    assert.ok(region_end(mb.readRegion(mb.reserved, 0)) <= region_end(req_node));
    assertType(mb, mb.reserved, 1, size);
  },

  /*
   * A test that tries to allocate a memory region in a specific NUMA node that
   * does not have enough memory to allocate a region of the requested size:
   *
   *  |----------------------+-----+                |
   *  |       expected       | req |                |
   *  +----------------------+-----+----------------+
   *
   *  |---------+                                   |
   *  |   rgn   |                                   |
   *  +---------+-----------------------------------+
   *
   * Expect to allocate an aligned region at the beginning of the first node that
   * has enough memory (in this case, nid = 0) after falling back to NUMA_NO_NODE.
   */
  alloc_nid_bottom_up_numa_small_node_check(t) {
    const nid_req = 1;
    const nid_exp = 0;
    const { mb, node } = numaSetup(t);
    const exp_node = node(nid_exp);
    const size = SZ_2 * node(nid_req).size;

    const allocated_ptr = t.alloc_nid(size, SMP_CACHE_BYTES, mb.memblock_start_of_DRAM(), mb.memblock_end_of_DRAM(), nid_req);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, size);
    assertRegion(mb, mb.reserved, 0, exp_node.base, size);
    assert.ok(region_end(mb.readRegion(mb.reserved, 0)) <= region_end(exp_node));
    assertType(mb, mb.reserved, 1, size);
  },

  /*
   * A test that tries to allocate a memory region in a specific NUMA node that
   * is fully reserved:
   *
   *  |----------------------+     +-----------+                    |
   *  |       expected       |     | requested |                    |
   *  +----------------------+-----+-----------+--------------------+
   *
   *  |-----------+                +-----------+                    |
   *  |    new    |                |  reserved |                    |
   *  +-----------+----------------+-----------+--------------------+
   *
   * Expect to allocate an aligned region at the beginning of the first node that
   * is large enough and has enough unreserved memory (in this case, nid = 0)
   * after falling back to NUMA_NO_NODE. The region count and total size get
   * updated.
   */
  alloc_nid_bottom_up_numa_node_reserved_check(t) {
    const nid_req = 2;
    const nid_exp = 0;
    const { mb, node } = numaSetup(t);
    const req_node = node(nid_req);
    const exp_node = node(nid_exp);
    const size = req_node.size;
    mb.memblock_reserve(req_node.base, req_node.size);

    const allocated_ptr = t.alloc_nid(size, SMP_CACHE_BYTES, mb.memblock_start_of_DRAM(), mb.memblock_end_of_DRAM(), nid_req);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, size);
    assertRegion(mb, mb.reserved, 0, exp_node.base, size);
    assert.ok(region_end(mb.readRegion(mb.reserved, 0)) <= region_end(exp_node));
    assertType(mb, mb.reserved, 2, size + req_node.size);
  },

  /*
   * A test that tries to allocate a memory region in a specific NUMA node that
   * is partially reserved but has enough memory for the allocated region:
   *
   *  |           +---------------------------------------+         |
   *  |           |               requested               |         |
   *  +-----------+---------------------------------------+---------+
   *
   *  |           +------------------+-----+                        |
   *  |           |     reserved     | new |                        |
   *  +-----------+------------------+-----+------------------------+
   *
   * Expect to allocate an aligned region in the requested node that merges with
   * the existing reserved region. The total size gets updated.
   */
  alloc_nid_bottom_up_numa_part_reserved_check(t) {
    const nid_req = 4;
    const { mb, node } = numaSetup(t);
    const req_node = node(nid_req);
    assert.ok(SZ_8 <= req_node.size);
    const r1 = { base: req_node.base, size: req_node.size / SZ_2 };
    const size = r1.size / SZ_4;
    const total_size = size + r1.size;
    mb.memblock_reserve(r1.base, r1.size);

    const allocated_ptr = t.alloc_nid(size, SMP_CACHE_BYTES, mb.memblock_start_of_DRAM(), mb.memblock_end_of_DRAM(), nid_req);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, size);
    assertRegion(mb, mb.reserved, 0, req_node.base, total_size);
    assert.ok(region_end(mb.readRegion(mb.reserved, 0)) <= region_end(req_node));
    assertType(mb, mb.reserved, 1, total_size);
  },

  /*
   * A test that tries to allocate a memory region in a specific NUMA node that
   * is partially reserved and does not have enough contiguous memory for the
   * allocated region:
   *
   *  |----------------------+       +-----------------------+         |
   *  |       expected       |       |       requested       |         |
   *  +----------------------+-------+-----------------------+---------+
   *
   *  |-----------+                        +----------+                |
   *  |    new    |                        | reserved |                |
   *  +-----------+------------------------+----------+----------------+
   *
   * Expect to allocate an aligned region at the beginning of the first
   * node that is large enough and has enough unreserved memory (in this case,
   * nid = 0) after falling back to NUMA_NO_NODE. The region count and total size
   * get updated.
   */
  alloc_nid_bottom_up_numa_part_reserved_fallback_check(t) {
    const nid_req = 4;
    const nid_exp = 0;
    const { mb, node } = numaSetup(t);
    const req_node = node(nid_req);
    const exp_node = node(nid_exp);
    assert.ok(SZ_4 <= req_node.size);
    const size = req_node.size / SZ_2;
    const r1 = { base: req_node.base + size / SZ_2, size };
    mb.memblock_reserve(r1.base, r1.size);

    const allocated_ptr = t.alloc_nid(size, SMP_CACHE_BYTES, mb.memblock_start_of_DRAM(), mb.memblock_end_of_DRAM(), nid_req);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, size);
    assertRegion(mb, mb.reserved, 0, exp_node.base, size);
    assert.ok(region_end(mb.readRegion(mb.reserved, 0)) <= region_end(exp_node));
    assertType(mb, mb.reserved, 2, size + r1.size);
  },

  /*
   * A test that tries to allocate a memory region that spans over the min_addr
   * and max_addr range and overlaps with two different nodes, where the first
   * node is the requested node:
   *
   *                                min_addr
   *                                |           max_addr
   *                                |           |
   *                                v           v
   *  |           +-----------------------+-----------+              |
   *  |           |       requested       |   node3   |              |
   *  +-----------+-----------------------+-----------+--------------+
   *                                +           +
   *  |           +-----------+                                      |
   *  |           |    rgn    |                                      |
   *  +-----------+-----------+--------------------------------------+
   *
   * Expect to drop the lower limit and allocate a memory region at the beginning
   * of the requested node.
   */
  alloc_nid_bottom_up_numa_split_range_low_check(t) {
    const nid_req = 2;
    const size = SZ_512;
    const { mb, node } = numaSetup(t);
    const req_node = node(nid_req);
    const req_node_end = region_end(req_node);
    const min_addr = req_node_end - SZ_256;
    const max_addr = min_addr + size;

    const allocated_ptr = t.alloc_nid(size, SMP_CACHE_BYTES, min_addr, max_addr, nid_req);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, size);
    assertRegion(mb, mb.reserved, 0, req_node.base, size);
    assert.ok(region_end(mb.readRegion(mb.reserved, 0)) <= req_node_end);
    assertType(mb, mb.reserved, 1, size);
  },

  /*
   * A test that tries to allocate a memory region that spans over the min_addr
   * and max_addr range and overlaps with two different nodes, where the second
   * node is the requested node:
   *
   *                                                min_addr
   *                                                |         max_addr
   *                                                |         |
   *                                                v         v
   *  |------------------+        +----------------------+---------+      |
   *  |     expected     |        |       previous       |requested|      |
   *  +------------------+--------+----------------------+---------+------+
   *                                                +         +
   *  |---------+                                                         |
   *  |   rgn   |                                                         |
   *  +---------+---------------------------------------------------------+
   *
   * Expect to drop the lower limit and allocate a memory region at the beginning
   * of the first node that has enough memory.
   */
  alloc_nid_bottom_up_numa_split_range_high_check(t) {
    const nid_req = 3;
    const nid_exp = 0;
    const size = SZ_512;
    const { mb, node } = numaSetup(t);
    const req_node = node(nid_req);
    const exp_node = node(nid_exp);
    /* (sic: the kernel test takes the requested node's end) */
    const exp_node_end = region_end(req_node);
    const min_addr = req_node.base - SZ_256;
    const max_addr = min_addr + size;

    const allocated_ptr = t.alloc_nid(size, SMP_CACHE_BYTES, min_addr, max_addr, nid_req);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, size);
    assertRegion(mb, mb.reserved, 0, exp_node.base, size);
    assert.ok(region_end(mb.readRegion(mb.reserved, 0)) <= exp_node_end);
    assertType(mb, mb.reserved, 1, size);
  },

  /*
   * A test that tries to allocate a memory region that spans over the min_addr
   * and max_addr range and overlaps with two different nodes, where the requested
   * node ends before min_addr:
   *
   *                                          min_addr
   *                                         |         max_addr
   *                                         |         |
   *                                         v         v
   *  |    +---------------+        +-------------+---------+         |
   *  |    |   requested   |        |    node1    |  node2  |         |
   *  +----+---------------+--------+-------------+---------+---------+
   *                                         +         +
   *  |    +---------+                                                |
   *  |    |   rgn   |                                                |
   *  +----+---------+------------------------------------------------+
   *
   * Expect to drop the lower limit and allocate a memory region that starts at
   * the beginning of the requested node.
   */
  alloc_nid_bottom_up_numa_no_overlap_split_check(t) {
    const nid_req = 2;
    const size = SZ_512;
    const { mb, node } = numaSetup(t);
    const req_node = node(nid_req);
    const min_addr = node(6).base - SZ_256;
    const max_addr = min_addr + size;

    const allocated_ptr = t.alloc_nid(size, SMP_CACHE_BYTES, min_addr, max_addr, nid_req);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, size);
    assertRegion(mb, mb.reserved, 0, req_node.base, size);
    assert.ok(region_end(mb.readRegion(mb.reserved, 0)) <= region_end(req_node));
    assertType(mb, mb.reserved, 1, size);
  },

  /*
   * A test that tries to allocate memory within min_addr and max_add range when
   * the requested node and the range do not overlap, and requested node ends
   * before min_addr. The range overlaps with multiple nodes along node
   * boundaries:
   *
   *                          min_addr
   *                          |                                 max_addr
   *                          |                                 |
   *                          v                                 v
   *  |-----------+           +----------+----...----+----------+      |
   *  | requested |           | min node |    ...    | max node |      |
   *  +-----------+-----------+----------+----...----+----------+------+
   *                          +                                 +
   *  |                       +-----+                                  |
   *  |                       | rgn |                                  |
   *  +-----------------------+-----+----------------------------------+
   *
   * Expect to allocate a memory region at the beginning of the first node
   * in the range after falling back to NUMA_NO_NODE.
   */
  alloc_nid_bottom_up_numa_no_overlap_low_check(t) {
    noOverlapFallback(t, 0);
  },

  /*
   * A test that tries to allocate memory within min_addr and max_add range when
   * the requested node and the range do not overlap, and requested node starts
   * after max_addr. The range overlaps with multiple nodes along node
   * boundaries:
   *
   *        min_addr
   *        |                                 max_addr
   *        |                                 |
   *        v                                 v
   *  |     +----------+----...----+----------+         +---------+   |
   *  |     | min node |    ...    | max node |         |requested|   |
   *  +-----+----------+----...----+----------+---------+---------+---+
   *        +                                 +
   *  |     +-----+                                                   |
   *  |     | rgn |                                                   |
   *  +-----+-----+---------------------------------------------------+
   *
   * Expect to allocate a memory region at the beginning of the first node
   * in the range after falling back to NUMA_NO_NODE.
   */
  alloc_nid_bottom_up_numa_no_overlap_high_check(t) {
    noOverlapFallback(t, 7);
  },
};

const nidNumaGeneric: Scenarios = {
  /*
   * A test that tries to allocate a memory region in a specific NUMA node that
   * does not have enough memory to allocate a region of the requested size.
   * Additionally, none of the nodes have enough memory to allocate the region:
   *
   * +-----------------------------------+
   * |                new                |
   * +-----------------------------------+
   *     |-------+-------+-------+-------+-------+-------+-------+-------|
   *     | node0 | node1 | node2 | node3 | node4 | node5 | node6 | node7 |
   *     +-------+-------+-------+-------+-------+-------+-------+-------+
   *
   * Expect no allocation to happen.
   */
  alloc_nid_numa_large_region_generic_check(t) {
    const nid_req = 3;
    const size = MEM_SIZE / SZ_2;
    const { mb } = numaSetup(t);

    assert.equal(t.alloc_nid(size, SMP_CACHE_BYTES, mb.memblock_start_of_DRAM(), mb.memblock_end_of_DRAM(), nid_req), 0);
  },

  /*
   * A test that tries to allocate memory within min_addr and max_addr range when
   * there are two reserved regions at the borders. The requested node starts at
   * min_addr and ends at max_addr and is the same size as the region to be
   * allocated:
   *
   *                     min_addr
   *                     |                       max_addr
   *                     |                       |
   *                     v                       v
   *  |      +-----------+-----------------------+-----------------------|
   *  |      |   node5   |       requested       |         node7         |
   *  +------+-----------+-----------------------+-----------------------+
   *                     +                       +
   *  |             +----+-----------------------+----+                  |
   *  |             | r2 |          new          | r1 |                  |
   *  +-------------+----+-----------------------+----+------------------+
   *
   * Expect to merge all of the regions into one. The region counter and total
   * size fields get updated.
   */
  alloc_nid_numa_reserved_full_merge_generic_check(t) {
    const nid_req = 6;
    const nid_next = nid_req + 1;
    const { mb, node } = numaSetup(t);
    const req_node = node(nid_req);
    const size = req_node.size;
    const r1 = { base: node(nid_next).base, size: SZ_128 };
    const r2 = { size: SZ_128, base: r1.base - (size + SZ_128) };
    const total_size = r1.size + r2.size + size;
    const min_addr = r2.base + r2.size;
    const max_addr = r1.base;
    mb.memblock_reserve(r1.base, r1.size);
    mb.memblock_reserve(r2.base, r2.size);

    const allocated_ptr = t.alloc_nid(size, SMP_CACHE_BYTES, min_addr, max_addr, nid_req);

    assert.notEqual(allocated_ptr, 0);
    t.assert_mem_content(allocated_ptr, size);
    const new_rgn = mb.readRegion(mb.reserved, 0);
    assertRegion(mb, mb.reserved, 0, r2.base, total_size);
    assert.ok(new_rgn.base <= req_node.base);
    assert.ok(region_end(req_node) <= region_end(new_rgn));
    assertType(mb, mb.reserved, 1, total_size);
  },

  /*
   * A test that tries to allocate memory within min_addr and max_add range,
   * where the total range can fit the region, but it is split between two nodes
   * and everything else is reserved. Additionally, nid is set to NUMA_NO_NODE
   * instead of requesting a specific node:
   *
   *                         +-----------+
   *                         |    new    |
   *                         +-----------+
   *  |      +---------------------+-----------|
   *  |      |      prev node      | next node |
   *  +------+---------------------+-----------+
   *                         +           +
   *  |----------------------+           +-----|
   *  |          r1          |           |  r2 |
   *  +----------------------+-----------+-----+
   *                         ^           ^
   *                         |           |
   *                         |           max_addr
   *                         |
   *                         min_addr
   *
   * Expect no allocation to happen.
   */
  alloc_nid_numa_split_all_reserved_generic_check(t) {
    const size = SZ_256;
    const { mb, node } = numaSetup(t);
    const r2base = node(7).base + SZ_128;
    const r2 = { base: r2base, size: mb.memblock_end_of_DRAM() - r2base };
    const r1 = { size: MEM_SIZE - (r2.size + size), base: mb.memblock_start_of_DRAM() };
    const min_addr = r1.base + r1.size;
    const max_addr = r2.base;
    mb.memblock_reserve(r1.base, r1.size);
    mb.memblock_reserve(r2.base, r2.size);

    assert.equal(t.alloc_nid(size, SMP_CACHE_BYTES, min_addr, max_addr, NUMA_NO_NODE), 0);
  },
};

/* alloc_node_on_correct_nid: not a _check, run under both directions with the nid NUMA tests */
const allocNodeGeneric: Scenarios = {
  /*
   * A simple test that tries to allocate a memory region through the
   * memblock_alloc_node() on a NUMA node with id `nid`. Expected to have the
   * correct NUMA node set for the new region.
   */
  alloc_node_on_correct_nid(t) {
    const nid_req = 2;
    const size = SZ_512;
    const { mb, node } = numaSetup(t);

    const allocated_ptr = mb.memblock_alloc_node(size, SMP_CACHE_BYTES, nid_req);

    assert.notEqual(allocated_ptr, 0);
    assert.equal(node(nid_req).nid, nid_req);
  },
};

describe('alloc_nid_api', () => {
  for (const flags of [TEST_F_NONE, TEST_F_RAW]) {
    describe(flags & TEST_F_RAW ? 'memblock_alloc_try_nid_raw' : 'memblock_alloc_try_nid', () => {
      describe('range', () => suite(flags, nidRangeTopDown, nidRangeBottomUp, nidRangeGeneric));
      describe('NUMA', () =>
        suite(flags, nidNumaTopDown, nidNumaBottomUp, { ...nidNumaGeneric, ...allocNodeGeneric }));
    });
  }
});

/* ------------------------------------------------------ alloc_exact_nid_api.c */

/*
 * The NUMA scenarios where the requested node can hold the allocation are
 * the alloc_nid_api.c ones, now with memblock_alloc_exact_nid_raw(); where it
 * cannot, there is no fallback to other nodes and nothing is allocated.
 */
const exactNumaTopDown: Scenarios = {
  alloc_exact_nid_top_down_numa_simple_check: nidNumaTopDown.alloc_nid_top_down_numa_simple_check,
  alloc_exact_nid_top_down_numa_part_reserved_check: nidNumaTopDown.alloc_nid_top_down_numa_part_reserved_check,
  alloc_exact_nid_top_down_numa_split_range_low_check: nidNumaTopDown.alloc_nid_top_down_numa_split_range_low_check,
  alloc_exact_nid_top_down_numa_no_overlap_split_check: nidNumaTopDown.alloc_nid_top_down_numa_no_overlap_split_check,

  /*
   * A test that tries to allocate memory within min_addr and max_add range when
   * the requested node and the range do not overlap, and requested node ends
   * before min_addr. The range overlaps with multiple nodes along node
   * boundaries:
   *
   *                          min_addr
   *                          |                                 max_addr
   *                          |                                 |
   *                          v                                 v
   *  |-----------+           +----------+----...----+----------+      |
   *  | requested |           | min node |    ...    | max node |      |
   *  +-----------+-----------+----------+----...----+----------+------+
   *                          +                                 +
   *  |     +-----+                                                    |
   *  |     | rgn |                                                    |
   *  +-----+-----+----------------------------------------------------+
   *
   * Expect to drop the lower limit and allocate a memory region that ends at
   * the end of the requested node.
   */
  alloc_exact_nid_top_down_numa_no_overlap_low_check(t) {
    exactNoOverlapLow(t);
  },
};

const exactNumaBottomUp: Scenarios = {
  alloc_exact_nid_bottom_up_numa_simple_check: nidNumaBottomUp.alloc_nid_bottom_up_numa_simple_check,
  alloc_exact_nid_bottom_up_numa_part_reserved_check: nidNumaBottomUp.alloc_nid_bottom_up_numa_part_reserved_check,
  alloc_exact_nid_bottom_up_numa_split_range_low_check: nidNumaBottomUp.alloc_nid_bottom_up_numa_split_range_low_check,
  alloc_exact_nid_bottom_up_numa_no_overlap_split_check: nidNumaBottomUp.alloc_nid_bottom_up_numa_no_overlap_split_check,

  /*
   * A test that tries to allocate memory within min_addr and max_add range when
   * the requested node and the range do not overlap, and requested node ends
   * before min_addr. The range overlaps with multiple nodes along node
   * boundaries:
   *
   *                          min_addr
   *                          |                                 max_addr
   *                          |                                 |
   *                          v                                 v
   *  |-----------+           +----------+----...----+----------+      |
   *  | requested |           | min node |    ...    | max node |      |
   *  +-----------+-----------+----------+----...----+----------+------+
   *                          +                                 +
   *  |-----+                                                          |
   *  | rgn |                                                          |
   *  +-----+----------------------------------------------------------+
   *
   * Expect to drop the lower limit and allocate a memory region that starts at
   * the beginning of the requested node.
   */
  alloc_exact_nid_bottom_up_numa_no_overlap_low_check(t) {
    exactNoOverlapLow(t);
  },
};

/**
 * Node 0 ends below [min_addr, max_addr) = nodes 2..5: exact_nid drops the
 * lower limit instead and allocates in node 0, at its top or bottom.
 */
function exactNoOverlapLow(t: Run): void {
  const nid_req = 0;
  const size = SZ_64;
  const { mb, node } = numaSetup(t);
  const req_node = node(nid_req);

  const allocated_ptr = mb.memblock_alloc_exact_nid_raw(size, SMP_CACHE_BYTES, node(2).base, region_end(node(5)), nid_req);

  assert.notEqual(allocated_ptr, 0);
  t.assert_mem_content(allocated_ptr, size);
  if (t.bottomUp) {
    assertRegion(mb, mb.reserved, 0, req_node.base, size);
    assert.ok(region_end(mb.readRegion(mb.reserved, 0)) <= region_end(req_node));
  } else {
    assertRegion(mb, mb.reserved, 0, region_end(req_node) - size, size);
  }
  assertType(mb, mb.reserved, 1, size);
}

const exactNumaGeneric: Scenarios = {
  /*
   * A test that tries to allocate a memory region in a specific NUMA node that
   * does not have enough memory to allocate a region of the requested size:
   *
   *  |   +-----+                            |
   *  |   | req |                            |
   *  +---+-----+----------------------------+
   *
   *  +---------+
   *  |   rgn   |
   *  +---------+
   *
   * Expect no allocation to happen.
   */
  alloc_exact_nid_numa_small_node_generic_check(t) {
    const nid_req = 1;
    const { mb, node } = numaSetup(t);
    const size = SZ_2 * node(nid_req).size;

    assert.equal(mb.memblock_alloc_exact_nid_raw(size, SMP_CACHE_BYTES, mb.memblock_start_of_DRAM(), mb.memblock_end_of_DRAM(), nid_req), 0);
  },

  /*
   * A test that tries to allocate a memory region in a specific NUMA node that
   * is fully reserved:
   *
   *  |              +---------+             |
   *  |              |requested|             |
   *  +--------------+---------+-------------+
   *
   *  |              +---------+             |
   *  |              | reserved|             |
   *  +--------------+---------+-------------+
   *
   * Expect no allocation to happen.
   */
  alloc_exact_nid_numa_node_reserved_generic_check(t) {
    const nid_req = 2;
    const { mb, node } = numaSetup(t);
    const req_node = node(nid_req);
    mb.memblock_reserve(req_node.base, req_node.size);

    assert.equal(mb.memblock_alloc_exact_nid_raw(req_node.size, SMP_CACHE_BYTES, mb.memblock_start_of_DRAM(), mb.memblock_end_of_DRAM(), nid_req), 0);
  },

  /*
   * A test that tries to allocate a memory region in a specific NUMA node that
   * is partially reserved and does not have enough contiguous memory for the
   * allocated region:
   *
   *  |           +-----------------------+    |
   *  |           |       requested       |    |
   *  +-----------+-----------------------+----+
   *
   *  |                 +----------+           |
   *  |                 | reserved |           |
   *  +-----------------+----------+-----------+
   *
   * Expect no allocation to happen.
   */
  alloc_exact_nid_numa_part_reserved_fail_generic_check(t) {
    const nid_req = 4;
    const { mb, node } = numaSetup(t);
    const req_node = node(nid_req);
    assert.ok(SZ_4 <= req_node.size);
    const size = req_node.size / SZ_2;
    mb.memblock_reserve(req_node.base + size / SZ_2, size);

    assert.equal(mb.memblock_alloc_exact_nid_raw(size, SMP_CACHE_BYTES, mb.memblock_start_of_DRAM(), mb.memblock_end_of_DRAM(), nid_req), 0);
  },

  /*
   * A test that tries to allocate a memory region that spans over the min_addr
   * and max_addr range and overlaps with two different nodes, where the second
   * node is the requested node:
   *
   *                               min_addr
   *                               |         max_addr
   *                               |         |
   *                               v         v
   *  |      +--------------------------+---------+                |
   *  |      |        first node        |requested|                |
   *  +------+--------------------------+---------+----------------+
   *
   * Expect no allocation to happen.
   */
  alloc_exact_nid_numa_split_range_high_generic_check(t) {
    const nid_req = 3;
    const size = SZ_512;
    const { mb, node } = numaSetup(t);
    const min_addr = node(nid_req).base - SZ_256;

    assert.equal(mb.memblock_alloc_exact_nid_raw(size, SMP_CACHE_BYTES, min_addr, min_addr + size, nid_req), 0);
  },

  /*
   * A test that tries to allocate memory within min_addr and max_add range when
   * the requested node and the range do not overlap, and requested node starts
   * after max_addr. The range overlaps with multiple nodes along node
   * boundaries:
   *
   *        min_addr
   *        |                                 max_addr
   *        |                                 |
   *        v                                 v
   *  |     +----------+----...----+----------+        +-----------+   |
   *  |     | min node |    ...    | max node |        | requested |   |
   *  +-----+----------+----...----+----------+--------+-----------+---+
   *
   * Expect no allocation to happen.
   */
  alloc_exact_nid_numa_no_overlap_high_generic_check(t) {
    const nid_req = 7;
    const { mb, node } = numaSetup(t);

    assert.equal(mb.memblock_alloc_exact_nid_raw(SZ_64, SMP_CACHE_BYTES, node(2).base, region_end(node(5)), nid_req), 0);
  },

  alloc_exact_nid_numa_large_region_generic_check: nidNumaGeneric.alloc_nid_numa_large_region_generic_check,
  alloc_exact_nid_numa_reserved_full_merge_generic_check: nidNumaGeneric.alloc_nid_numa_reserved_full_merge_generic_check,
  alloc_exact_nid_numa_split_all_reserved_generic_check: nidNumaGeneric.alloc_nid_numa_split_all_reserved_generic_check,
};

describe('alloc_exact_nid_api', () => {
  describe('memblock_alloc_exact_nid_raw', () => {
    const flags = TEST_F_RAW | TEST_F_EXACT;
    describe('range', () => suite(flags, nidRangeTopDown, nidRangeBottomUp, nidRangeGeneric));
    describe('NUMA', () => suite(flags, exactNumaTopDown, exactNumaBottomUp, exactNumaGeneric));
  });
});

/* ------------------------------------------------------------- kmem's own checks */

describe('kmem memblock', () => {
  test('struct memblock and its regions are laid out as in the kernel (x86_64)', () => {
    const at = memblockPlacement(X86_64, KDATA);
    const mb = reset_memblock();
    mb.memblock_add_node(0x1000000, 0x8000, 3, MEMBLOCK_HOTPLUG);

    assert.deepEqual(memblockDataSizes(X86_64), { memblock: 96, init_regions: 128 * 24, statics: 28 });
    assert.deepEqual(at, { memblock: KDATA, memory_init_regions: KDATA + 96, reserved_init_regions: KDATA + 96 + 3072, statics: KDATA + 96 + 6144 });
    assert.equal(memblockDataSize(X86_64), 96 + 6144 + 32);
    assert.equal(mb.memory, KDATA + 16);
    assert.equal(mb.reserved, KDATA + 56);
    /* current_limit = MEMBLOCK_ALLOC_ANYWHERE = ~0 */
    assert.equal(physmem.read64n(KDATA + 8), 0xffffffffffffffffn);
    /* memory: cnt, max, total_size, regions (a direct-map pointer), name */
    assert.equal(physmem.read64(KDATA + 16), 1);
    assert.equal(physmem.read64(KDATA + 24), 128);
    assert.equal(physmem.read64(KDATA + 32), 0x8000);
    assert.equal(physmem.read64n(KDATA + 40), 0xffff888000000000n + BigInt(at.memory_init_regions));
    /* regions[0]: base, size, flags, nid */
    assert.equal(physmem.read64(at.memory_init_regions), 0x1000000);
    assert.equal(physmem.read64(at.memory_init_regions + 8), 0x8000);
    assert.equal(physmem.read32(at.memory_init_regions + 16), MEMBLOCK_HOTPLUG);
    assert.equal(physmem.read32(at.memory_init_regions + 20), 3);
  });

  test('i386 without PAE: 4-byte phys_addr_t, no nid', () => {
    const layout: ArchLayout = i386Layout(SZ_512M);
    const mem = PhysMem.create(SZ_128M, [[0, SZ_64M]]);
    const va = (pa: number) => pa + layout.PAGE_OFFSET;
    const lines: string[] = [];
    const mb = new Memblock(new KmemAccess(mem, layout), memblockPlacement(layout, SZ_32M), va, (v) => v - layout.PAGE_OFFSET,
      (_l, text) => lines.push(text));

    assert.deepEqual(memblockDataSizes(layout), { memblock: 48, init_regions: 128 * 12, statics: 28 });
    assert.equal(mb.PHYS_ADDR_MAX, 0xffffffff);
    assert.equal(mem.read32(SZ_32M + 4), 0xffffffff);
    mb.memblock_add(SZ_16M, SZ_1M);
    mb.memblock_reserve(SZ_16M, SZ_4K);
    const p = mb.memblock_alloc(SZ_64, 0x40);
    assert.equal(p, va(SZ_16M + SZ_1M - SZ_64));
    assert.deepEqual(mb.readRegions(mb.reserved), [
      { base: SZ_16M, size: SZ_4K, flags: 0, nid: 0 },
      { base: SZ_16M + SZ_1M - SZ_64, size: SZ_64, flags: 0, nid: 0 },
    ]);
    /* regions[] entries are 12 bytes: reserved[1].base at +12 */
    assert.equal(mem.read32(memblockPlacement(layout, SZ_32M).reserved_init_regions + 12), SZ_16M + SZ_1M - SZ_64);
    mb.early_memblock('debug');
    mb.memblock_dump_all();
    assert.equal(lines[3], ' memory[0x0]\t[0x01000000-0x010fffff], 0x00100000 bytes flags: 0x0');
  });

  test('memblock=debug prints the kernel lines', () => {
    const mb = reset_memblock();
    mb.early_memblock('debug');
    mb.memblock_add(SZ_16M, SZ_32K, 'e820__memblock_setup+0x4e/0x90');
    mb.memblock_add_node(SZ_32M, SZ_4K, 1, MEMBLOCK_HOTPLUG, 'numa_init');
    mb.memblock_reserve(SZ_16M, SZ_4K, 'setup_arch+0x2c0/0xd80');
    mb.memblock_alloc(SZ_64, L1_CACHE_BYTES, 'sparse_init');
    mb.memblock_phys_alloc_range(SZ_4K, SZ_4K, SZ_16M, SZ_32M, 'init_mem_mapping');
    mb.memblock_phys_free(SZ_16M, SZ_4K, 'free_initrd');
    mb.memblock_dump_all();

    assert.deepEqual(printed, [
      'memblock_add: [0x0000000001000000-0x0000000001007fff] e820__memblock_setup+0x4e/0x90',
      'memblock_add_node: [0x0000000002000000-0x0000000002000fff] nid=1 flags=1 numa_init',
      'memblock_reserve: [0x0000000001000000-0x0000000001000fff] setup_arch+0x2c0/0xd80',
      'memblock_alloc_try_nid: 64 bytes align=0x40 nid=-1 from=0x0000000000000000 max_addr=0x0000000000000000 sparse_init',
      'memblock_reserve: [0x0000000002000fc0-0x0000000002000fff] memblock_alloc_range_nid',
      'memblock_phys_alloc_range: 4096 bytes align=0x1000 from=0x0000000001000000 max_addr=0x0000000002000000 init_mem_mapping',
      'memblock_reserve: [0x0000000001007000-0x0000000001007fff] memblock_alloc_range_nid',
      'memblock_phys_free: [0x0000000001000000-0x0000000001000fff] free_initrd',
      'MEMBLOCK configuration:',
      ' memory size = 0x0000000000009000 reserved size = 0x0000000000001040',
      ' memory.cnt  = 0x2',
      ' memory[0x0]\t[0x0000000001000000-0x0000000001007fff], 0x0000000000008000 bytes flags: 0x0',
      ' memory[0x1]\t[0x0000000002000000-0x0000000002000fff], 0x0000000000001000 bytes on node 1 flags: 0x1',
      ' reserved.cnt  = 0x2',
      ' reserved[0x0]\t[0x0000000001007000-0x0000000001007fff], 0x0000000000001000 bytes flags: 0x0',
      ' reserved[0x1]\t[0x0000000002000fc0-0x0000000002000fff], 0x0000000000000040 bytes flags: 0x0',
    ]);
  });

  test('without memblock=debug nothing is printed', () => {
    const mb = reset_memblock();
    mb.memblock_add(SZ_16M, SZ_32K);
    mb.memblock_alloc(SZ_64, L1_CACHE_BYTES);
    mb.memblock_dump_all();
    assert.deepEqual(printed, []);
  });

  test('doubling prints where the new array went', () => {
    const mb = reset_memblock();
    mb.early_memblock('debug');
    mb.memblock_allow_resize();
    mb.memblock_add(DUMMY_BASE, MEM_SIZE);
    for (let i = 0; i <= INIT_MEMBLOCK_REGIONS; i++) mb.memblock_reserve(SZ_1G + i * SZ_2K, SZ_1K);
    const end = DUMMY_BASE + MEM_SIZE;
    const newSize = INIT_MEMBLOCK_REGIONS * 2 * SIZEOF_REGION;
    const hex = (v: number) => '0x' + v.toString(16).padStart(16, '0');
    assert.ok(printed.includes(`memblock: reserved is doubled to 256 at [${hex(end - SZ_8K)}-${hex(end - SZ_8K + newSize - 1)}]`));
    assertRegion(mb, mb.reserved, 0, end - SZ_8K, SZ_8K);
  });

  test('running out of regions before memblock_allow_resize() panics', () => {
    const mb = reset_memblock();
    mb.memblock_add(DUMMY_BASE, MEM_SIZE);
    for (let i = 0; i < INIT_MEMBLOCK_REGIONS; i++) mb.memblock_reserve(SZ_1G + i * SZ_2K, SZ_1K);
    assert.throws(() => mb.memblock_reserve(SZ_2G, SZ_1K), /Kernel panic - not syncing: memblock: cannot resize reserved array/);
  });

  test('align 0 means L1_CACHE_BYTES, after a stack dump', () => {
    const mb = reset_memblock();
    mb.memblock_add(DUMMY_BASE, MEM_SIZE);
    const p = mb.memblock_alloc(SZ_8, 0, 'setup_log_buf');
    assert.equal(__pa(p), DUMMY_BASE + MEM_SIZE - L1_CACHE_BYTES);
    assert.deepEqual(printed, ['Call Trace:', ' memblock_alloc_range_nid', ' setup_log_buf']);
  });

  test('after memblock_free_all_done() allocations WARN once and fail; add and reserve still work', () => {
    const mb = reset_memblock();
    mb.memblock_add(DUMMY_BASE, MEM_SIZE);
    mb.memblock_free_all_done();
    assert.equal(mb.slab_is_available(), true);

    assert.equal(mb.memblock_alloc(SZ_64, L1_CACHE_BYTES), 0);
    assert.equal(mb.memblock_phys_alloc(SZ_64, L1_CACHE_BYTES), 0);
    assert.deepEqual(printed, [
      '------------[ cut here ]------------',
      'WARNING: CPU: 0 PID: 0 at mm/memblock.c:1454 memblock_alloc_range_nid',
      '---[ end trace 0000000000000000 ]---',
    ]);
    assert.equal(mb.memblock_reserve(DUMMY_BASE, SZ_4K), 0);
    assert.equal(mb.memblock_add(SZ_1G, SZ_1M), 0);
    assertType(mb, mb.reserved, 1, SZ_4K);
    assertType(mb, mb.memory, 2, MEM_SIZE + SZ_1M);
  });

  test('memblock_alloc_raw leaves the bytes, memblock_alloc clears them', () => {
    const mb = reset_memblock();
    mb.memblock_add(DUMMY_BASE, MEM_SIZE);
    fill_memblock();
    const raw = mb.memblock_alloc_raw(SZ_256, L1_CACHE_BYTES);
    const zeroed = mb.memblock_alloc(SZ_256, L1_CACHE_BYTES);
    assert.ok(physmem.readBytes(__pa(raw), SZ_256).every((b) => b === 1));
    assert.ok(physmem.readBytes(__pa(zeroed), SZ_256).every((b) => b === 0));
    mb.memblock_free(zeroed, SZ_256);
    mb.memblock_free(0, SZ_256);
    assertType(mb, mb.reserved, 1, SZ_256);
  });

  test('current_limit bounds the memblock_alloc*() family, not explicit physical ranges', () => {
    const mb = reset_memblock();
    mb.memblock_add(DUMMY_BASE, MEM_SIZE);
    mb.memblock_set_current_limit(DUMMY_BASE + SZ_4K);
    assert.equal(mb.memblock_get_current_limit(), DUMMY_BASE + SZ_4K);

    assert.equal(__pa(mb.memblock_alloc(SZ_64, L1_CACHE_BYTES)), DUMMY_BASE + SZ_4K - SZ_64);
    assert.equal(__pa(mb.memblock_alloc_try_nid(SZ_64, L1_CACHE_BYTES, 0, mb.MEMBLOCK_ALLOC_ANYWHERE, NUMA_NO_NODE)),
      DUMMY_BASE + SZ_4K - 2 * SZ_64);
    assert.equal(mb.memblock_phys_alloc(SZ_64, L1_CACHE_BYTES), DUMMY_BASE + SZ_4K - 3 * SZ_64);
    assert.equal(mb.memblock_phys_alloc_range(SZ_64, L1_CACHE_BYTES, 0, mb.MEMBLOCK_ALLOC_ANYWHERE), DUMMY_BASE + MEM_SIZE - SZ_64);
  });

  test('the bootmem aliases: zeroed, aligned, *_low below 4 GiB, panic on failure', () => {
    const mb = reset_memblock();
    const SZ_5G = 5 * SZ_1G;
    mb.memblock_add(DUMMY_BASE, MEM_SIZE);
    /* memory above 4 GiB, never touched: allocations that may go there are physical */
    mb.memblock_add(SZ_5G, MEM_SIZE);
    fill_memblock();

    assert.equal(mb.memblock_phys_alloc(SZ_64, L1_CACHE_BYTES), SZ_5G + MEM_SIZE - SZ_64);
    const low = mb.alloc_bootmem_low(100);
    assert.equal(__pa(low), DUMMY_BASE + MEM_SIZE - 2 * L1_CACHE_BYTES);
    assert.ok(physmem.readBytes(__pa(low), 100).every((b) => b === 0));
    const lowPages = mb.alloc_bootmem_low_pages(100);
    assert.equal(__pa(lowPages), DUMMY_BASE + MEM_SIZE - PAGE_SIZE);
    assert.ok(__pa(lowPages) + 100 <= ARCH_LOW_ADDRESS_LIMIT);
    assert.equal(__pa(mb.memblock_alloc_low(SZ_64, L1_CACHE_BYTES)), DUMMY_BASE + MEM_SIZE - 3 * L1_CACHE_BYTES);

    mb.free_bootmem(__pa(lowPages), 100);
    assert.equal(mb.memblock_is_region_reserved(__pa(lowPages), 100), false);

    mb.memblock_set_current_limit(ARCH_LOW_ADDRESS_LIMIT);
    assert.equal(__pa(mb.alloc_bootmem(SZ_16)), DUMMY_BASE + MEM_SIZE - 4 * L1_CACHE_BYTES);
    assert.equal(__pa(mb.alloc_bootmem_pages(SZ_16)), DUMMY_BASE + MEM_SIZE - PAGE_SIZE);
    assert.throws(() => mb.alloc_bootmem(SZ_1M), /Kernel panic - not syncing: Out of memory/);
    assert.deepEqual(printed.slice(-2), [`bootmem alloc of ${SZ_1M} bytes failed!`, 'Kernel panic - not syncing: Out of memory']);
  });

  test('MEMBLOCK_NOMAP memory is never allocated', () => {
    const mb = reset_memblock();
    mb.memblock_add(DUMMY_BASE, MEM_SIZE);
    mb.memblock_mark_nomap(DUMMY_BASE + MEM_SIZE - SZ_4K, SZ_4K);
    assert.equal(mb.readType(mb.memory).cnt, 2);
    assert.equal(mb.memblock_is_map_memory(DUMMY_BASE + MEM_SIZE - 1), false);
    assert.equal(mb.memblock_is_memory(DUMMY_BASE + MEM_SIZE - 1), true);

    assert.equal(__pa(mb.memblock_alloc(SZ_64, L1_CACHE_BYTES)), DUMMY_BASE + MEM_SIZE - SZ_4K - SZ_64);
    mb.memblock_clear_nomap(DUMMY_BASE + MEM_SIZE - SZ_4K, SZ_4K);
    assert.equal(mb.readType(mb.memory).cnt, 1);
  });

  test('mirrored memory: only with kernelcore=mirror, then preferred, with a warning when short', () => {
    const mb = reset_memblock();
    mb.memblock_add(DUMMY_BASE, MEM_SIZE);
    mb.memblock_mark_mirror(DUMMY_BASE, SZ_4K);
    assert.equal(mb.readRegion(mb.memory, 0).flags, MEMBLOCK_NONE);

    mb.set_mirrored_kernelcore(true);
    mb.memblock_mark_mirror(DUMMY_BASE, SZ_4K);
    assert.equal(mb.memblock_has_mirror(), true);
    assert.equal(mb.readRegion(mb.memory, 0).flags, MEMBLOCK_MIRROR);

    assert.equal(__pa(mb.memblock_alloc(SZ_64, L1_CACHE_BYTES)), DUMMY_BASE + SZ_4K - SZ_64);
    assert.equal(__pa(mb.memblock_alloc(SZ_8K, L1_CACHE_BYTES)), DUMMY_BASE + MEM_SIZE - SZ_8K);
    assert.deepEqual(printed, ['Could not allocate 0x0000000000002000 bytes of mirrored memory']);
  });

  test('hotplug flags and memblock_set_node split and merge regions', () => {
    const mb = reset_memblock();
    mb.memblock_add(DUMMY_BASE, MEM_SIZE);
    mb.memblock_mark_hotplug(DUMMY_BASE + SZ_4K, SZ_4K);
    assert.deepEqual(mb.readRegions(mb.memory).map((r) => r.flags), [0, MEMBLOCK_HOTPLUG, 0]);
    mb.memblock_clear_hotplug(DUMMY_BASE, MEM_SIZE);
    assert.equal(mb.readType(mb.memory).cnt, 1);

    mb.memblock_set_node(DUMMY_BASE, SZ_16K, mb.memory, 0);
    mb.memblock_set_node(DUMMY_BASE + SZ_16K, SZ_16K, mb.memory, 1);
    assert.deepEqual(mb.readRegions(mb.memory), [
      { base: DUMMY_BASE, size: SZ_16K, flags: 0, nid: 0 },
      { base: DUMMY_BASE + SZ_16K, size: SZ_16K, flags: 0, nid: 1 },
    ]);
    assert.equal(__pa(mb.memblock_alloc_node(SZ_64, L1_CACHE_BYTES, 0)), DUMMY_BASE + SZ_16K - SZ_64);
  });

  test('iterators and queries', () => {
    const mb = reset_memblock();
    mb.memblock_add_node(DUMMY_BASE, SZ_16K, 0, MEMBLOCK_NONE);
    mb.memblock_add_node(DUMMY_BASE + SZ_16K, SZ_16K + 100, 1, MEMBLOCK_NONE);
    mb.memblock_reserve(DUMMY_BASE + SZ_4K, SZ_16K);
    const ranges = (walk: (cb: (s: number, e: number, nid?: number) => unknown) => void) => {
      const out: number[][] = [];
      walk((s, e, nid) => void out.push(nid === undefined ? [s - DUMMY_BASE, e - DUMMY_BASE] : [s - DUMMY_BASE, e - DUMMY_BASE, nid]));
      return out;
    };

    assert.deepEqual(ranges((cb) => mb.for_each_mem_range(cb)), [[0, SZ_16K], [SZ_16K, SZ_32K + 100]]);
    assert.deepEqual(ranges((cb) => mb.for_each_free_mem_range(NUMA_NO_NODE, cb)),
      [[0, SZ_4K, 0], [SZ_4K + SZ_16K, SZ_32K + 100, 1]]);
    assert.deepEqual(ranges((cb) => mb.for_each_free_mem_range(1, cb)), [[SZ_4K + SZ_16K, SZ_32K + 100, 1]]);
    assert.deepEqual(ranges((cb) => mb.for_each_free_mem_range_reverse(NUMA_NO_NODE, cb)),
      [[SZ_4K + SZ_16K, SZ_32K + 100, 1], [0, SZ_4K, 0]]);
    assert.deepEqual(ranges((cb) => mb.for_each_reserved_mem_range(cb)), [[SZ_4K, SZ_4K + SZ_16K]]);
    const pfn = DUMMY_BASE / PAGE_SIZE;
    const pfns: number[][] = [];
    mb.for_each_mem_pfn_range(mb.MAX_NUMNODES, (s, e, nid) => void pfns.push([s - pfn, e - pfn, nid]));
    assert.deepEqual(pfns, [[0, 4, 0], [4, 8, 1]]);
    let calls = 0;
    mb.for_each_free_mem_range(NUMA_NO_NODE, () => ++calls);
    assert.equal(calls, 1, 'a truthy return stops the walk');

    assert.equal(mb.memblock_phys_mem_size(), SZ_32K + 100);
    assert.equal(mb.memblock_reserved_size(), SZ_16K);
    assert.equal(mb.memblock_start_of_DRAM(), DUMMY_BASE);
    assert.equal(mb.memblock_end_of_DRAM(), DUMMY_BASE + SZ_32K + 100);
    assert.equal(mb.memblock_is_memory(DUMMY_BASE + SZ_32K + 99), true);
    assert.equal(mb.memblock_is_memory(DUMMY_BASE + SZ_32K + 100), false);
    assert.equal(mb.memblock_is_reserved(DUMMY_BASE + SZ_4K), true);
    assert.equal(mb.memblock_is_reserved(DUMMY_BASE + SZ_4K - 1), false);
    assert.equal(mb.memblock_is_region_memory(DUMMY_BASE, SZ_16K), true);
    assert.equal(mb.memblock_is_region_memory(DUMMY_BASE, SZ_16K + 1), false);
    assert.equal(mb.memblock_is_region_reserved(0, DUMMY_BASE + SZ_4K), false);
    assert.equal(mb.memblock_is_region_reserved(0, DUMMY_BASE + SZ_4K + 1), true);
  });
});

/* ------------------------------------------------------------- property test */

/*
 * Random add/remove/reserve/free/alloc sequences in a window of GRANULES
 * 8-byte granules at DUMMY_BASE, checked after every step against a model
 * holding, per granule, its node (or none) and whether it is reserved:
 * both region arrays must be exactly the model's maximal runs (sorted,
 * disjoint, merged, total_size the sum), and each allocation must land
 * where the kernel's policy puts it: the highest (lowest when bottom-up)
 * aligned fit inside one free range, on the requested node if it has one.
 */
describe('memblock against a model', () => {
  const G = 8;
  const GRANULES = 1024;
  const MAX_NUMNODES = 64;

  type Op =
    | { op: 'add' | 'remove' | 'reserve' | 'free'; s: number; l: number; nid: number }
    | { op: 'alloc'; l: number; alignLog: number; bottomUp: boolean; nid: number };

  const span = { s: fc.integer({ min: 0, max: GRANULES - 1 }), l: fc.integer({ min: 1, max: GRANULES / 4 }) };
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ op: fc.constantFrom('add', 'remove', 'reserve', 'free'), ...span, nid: fc.constantFrom(0, 1, MAX_NUMNODES) }),
    fc.record({
      op: fc.constant('alloc'),
      l: fc.integer({ min: 1, max: 64 }),
      alignLog: fc.integer({ min: 3, max: 9 }),
      bottomUp: fc.boolean(),
      nid: fc.constantFrom(NUMA_NO_NODE, 0, 1),
    }),
  );

  /** Maximal runs of equal non-null keys, as regions in bytes. */
  function runs(key: (g: number) => number | null): { base: number; size: number; nid: number }[] {
    const out: { base: number; size: number; nid: number }[] = [];
    for (let g = 0; g < GRANULES; ) {
      const k = key(g);
      let e = g + 1;
      while (e < GRANULES && key(e) === k) e++;
      if (k !== null) out.push({ base: DUMMY_BASE + g * G, size: (e - g) * G, nid: k });
      g = e;
    }
    return out;
  }

  function checkType(mb: Memblock, type: number, expected: { base: number; size: number; nid: number }[]): void {
    const info = mb.readType(type);
    const regions = mb.readRegions(type);
    assert.ok(info.cnt <= info.max);
    for (let i = 0; i + 1 < regions.length; i++) {
      const [a, b] = [regions[i], regions[i + 1]];
      assert.ok(a.size > 0 && region_end(a) <= b.base, `${info.name} sorted and disjoint`);
      assert.ok(region_end(a) < b.base || a.nid !== b.nid || a.flags !== b.flags, `${info.name} merged`);
    }
    assert.equal(info.total_size, regions.reduce((sum, r) => sum + r.size, 0));
    assert.deepEqual(regions.map((r) => ({ base: r.base, size: r.size, nid: r.nid })), expected);
  }

  test('regions, free ranges and allocations follow the model', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60, size: 'max' }), (ops) => {
        const mb = reset_memblock();
        physmem.fill(DUMMY_BASE, GRANULES * G, 0xaa);
        const node = new Int16Array(GRANULES).fill(-1);
        const reserved = new Uint8Array(GRANULES);
        const free = (g: number) => node[g] >= 0 && !reserved[g];

        for (const o of ops) {
          if (o.op === 'alloc') {
            const size = o.l * G;
            const align = 1 << o.alignLog;
            /* the fits: aligned, all granules free and on one node (one free range) */
            const fits = (nid: number) => {
              const out: number[] = [];
              for (let g = 0; g + o.l <= GRANULES; g++) {
                if ((DUMMY_BASE + g * G) % align) continue;
                let ok = true;
                for (let i = g; ok && i < g + o.l; i++) ok = free(i) && node[i] === node[g] && (nid < 0 || node[i] === nid);
                if (ok) out.push(g);
              }
              return out;
            };
            const pick = (c: number[]) => (c.length ? (o.bottomUp ? c[0] : c[c.length - 1]) : -1);
            let g = pick(fits(o.nid));
            if (g < 0 && o.nid >= 0) g = pick(fits(NUMA_NO_NODE));

            mb.memblock_set_bottom_up(o.bottomUp);
            const ptr = mb.memblock_alloc_try_nid(size, align, 0, MEMBLOCK_ALLOC_ACCESSIBLE, o.nid);
            assert.equal(ptr ? __pa(ptr) : -1, g < 0 ? -1 : DUMMY_BASE + g * G);
            if (g >= 0) {
              assert.ok(physmem.readBytes(DUMMY_BASE + g * G, size).every((b) => b === 0));
              reserved.fill(1, g, g + o.l);
            }
          } else {
            const e = Math.min(o.s + o.l, GRANULES);
            const [base, size] = [DUMMY_BASE + o.s * G, (e - o.s) * G];
            if (o.op === 'add') {
              if (o.nid === MAX_NUMNODES) mb.memblock_add(base, size);
              else mb.memblock_add_node(base, size, o.nid, MEMBLOCK_NONE);
              for (let g = o.s; g < e; g++) if (node[g] < 0) node[g] = o.nid;
            } else if (o.op === 'remove') {
              mb.memblock_remove(base, size);
              node.fill(-1, o.s, e);
            } else if (o.op === 'reserve') {
              mb.memblock_reserve(base, size);
              reserved.fill(1, o.s, e);
            } else {
              mb.memblock_phys_free(base, size);
              reserved.fill(0, o.s, e);
            }
          }

          checkType(mb, mb.memory, runs((g) => (node[g] < 0 ? null : node[g])));
          checkType(mb, mb.reserved, runs((g) => (reserved[g] ? MAX_NUMNODES : null)));
          const ranges: { base: number; size: number; nid: number }[] = [];
          mb.for_each_free_mem_range(NUMA_NO_NODE, (s, e, nid) => void ranges.push({ base: s, size: e - s, nid }));
          assert.deepEqual(ranges, runs((g) => (free(g) ? node[g] : null)));
        }
      }),
      { numRuns: 200 },
    );
  });
});
