/*
 * The machine under a kmem/heap: a compact i386 kernel booted over the
 * heap's own memory, one simulated CPU per thread using the heap, and the
 * heap's own header in that memory.
 *
 *   physical  0     4K        ~100K                        top - memmap      size
 *             |page0| kernel image |  free pages: slabs, large blocks,   | memmap |
 *             |NULL | (compact)    |  the shadow, the header, per-CPU... |        |
 *
 * Why i386: its struct page is 32 bytes and its SPARSEMEM section 64 MiB,
 * so the memmap of a small heap is 512 KiB where x86_64's would be 2 MiB
 * (a whole 128 MiB section's, 2 MiB-aligned), and its pointers are one
 * word. Every address below 128 MiB is lowmem, so a heap address p is the
 * physical address of the block and __va(p) = p + PAGE_OFFSET. (Measured
 * on a loaded machine, the 64 B and mixed pairs cost the same on both.)
 *
 * SLUB runs as Linux 7.0 runs it, with percpu sheaves on every cache
 * (sheaves: 'all'; src/mm/slub_sheaves.ts): an allocation pops an object
 * from this CPU's sheaf of its size class and a free pushes it onto the
 * sheaf of its own class, whichever slab it came from, which is what makes
 * the mixed-size workload fast; sheaf_fastpath.ts does both on the heap's
 * one typed array.
 *
 * The compact image (MachineConfig.compact) starts right after page 0, so
 * physical page 0 stays unused and 0 can mean NULL. The machine's RAM is
 * one SharedArrayBuffer of exactly `size` bytes (one host section, so at
 * most 128 MiB): the heap's views index it by physical address.
 *
 * struct kmem_heap, in a zeroed page taken at creation, found by the
 * address share() hands to workers:
 *
 *   +0   magic        u32   KMEM_HEAP_MAGIC
 *   +4   mutex        s32   0 free, 1 held: pool creation and the pool table
 *   +8   large_pages  s32   pages held by live blocks above 8 KiB (Atomics)
 *   +12  large_blocks s32   how many such blocks (Atomics)
 *   +16  nr_caches    s32   entries of caches[] in use (Atomics; grows as pools are made)
 *   +20  shadow[4]    u32   physical address of each shadow chunk (kasan.ts)
 *   +36  nr_classes   s32   how many of caches[] are size classes
 *   +40  caches[224]  u32   __pa() of each struct kmem_cache the heap allocates from, by the
 *                           cache's id: the size classes smallest first (size_classes.ts; ids
 *                           0 .. nr_classes-1, made at creation), then the pools in creation order
 *
 * A cache's id is what the shadow byte of a live block of it holds (kasan.ts:
 * SHADOW_LIVE_CACHE + id), so that a free finds the block's cache without
 * reading its struct page. Entries are never removed (pools live as long as
 * the heap), so an id means the same cache in every thread.
 */
import { PAGE_SIZE } from '../arch/x86/layout.ts';
import { HOST_SECTION_SIZE } from '../machine/memory.ts';
import type { MachineConfig } from '../machine/config.ts';
import { start_kernel_mm, type BootedMm } from '../init/main.ts';
import { runAsCpu, type SharedMachine } from '../init/attach.ts';
import { BOOT_THREAD_ID, SmpError } from '../kernel/smp.ts';

/** The largest heap: one host section of the machine's RAM, so that one typed array covers it. */
export const HEAP_MAX_SIZE = HOST_SECTION_SIZE;
/** The smallest: what the compact kernel needs for itself and its first slabs, and a little more. */
export const HEAP_MIN_SIZE = 2 << 20;
/** The command line of a heap created with { debug: true }: consistency checks, red zones, poisoning. */
export const HEAP_DEBUG_CMDLINE = 'slub_debug=FZP';

export const KMEM_HEAP_MAGIC = 0x6b686561; // 'khea'
export const H_MAGIC = 0;
export const H_MUTEX = 4;
export const H_LARGE_PAGES = 8;
export const H_LARGE_BLOCKS = 12;
export const H_NR_CACHES = 16;
export const H_SHADOW = 20;
export const H_NR_CLASSES = 36;
export const H_CACHES = 40;
/** Entries of caches[]: ids 0..223, whose shadow marks (0x10..0xef) stay below KASAN's poison values. */
export const MAX_CACHES = 224;
export const MAX_SHADOW_CHUNKS = 4;

/** The machine a heap of `size` bytes for `workers` threads runs on. */
export function heapConfig(size: number, workers: number, debug: boolean): MachineConfig {
  if (!Number.isSafeInteger(size) || size <= 0) throw new RangeError(`kmem/heap: size must be a positive integer, got ${size}`);
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) {
    throw new RangeError(`kmem/heap: workers must be an integer from 1 to 64, got ${workers}`);
  }
  const bytes = Math.ceil(size / PAGE_SIZE) * PAGE_SIZE;
  if (bytes > HEAP_MAX_SIZE) {
    throw new RangeError(`kmem/heap: ${size} bytes is more than ${HEAP_MAX_SIZE} (128 MiB), the largest heap one SharedArrayBuffer holds`);
  }
  if (bytes < HEAP_MIN_SIZE) throw new RangeError(`kmem/heap: ${size} bytes is less than the smallest heap, ${HEAP_MIN_SIZE} (2 MiB)`);
  // what resolveConfig({ arch: 'i386', mem, cpus, compact: true, sheaves: 'all', mmio: [], e820: [RAM from 0] }) gives,
  // written out so that the bundle leaves the configuration parser out
  return {
    arch: 'i386', memBytes: bytes, cpus: workers, nodes: [{ memBytes: bytes, cpus: Array.from({ length: workers }, (_, c) => c) }],
    e820: [{ start: 0, end: bytes, type: 'usable' }], mmio: [], pae: false, seed: 1, cmdline: debug ? HEAP_DEBUG_CMDLINE : '',
    compact: true, sheaves: 'all',
  };
}

/** Boot the heap's machine; every kernel report throws a KernelBug carrying its text. */
export function bootHeapMachine(config: MachineConfig): BootedMm {
  try {
    return start_kernel_mm(config, { errors: 'throw' });
  } catch (e) {
    throw new RangeError(`kmem/heap: ${config.memBytes} bytes is too small for ${config.cpus} workers ` +
      `(each CPU takes a 256 KiB per-CPU area): ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * A worker joins (what src/init/attach.ts does for the full kernel): boot
 * the same configuration on scratch memory, which builds the same handles,
 * take over the heap's memory, and drive the lowest CPU no thread has
 * (the next one if another worker takes it first), as its own idle task.
 */
export function attachHeapMachine(shared: SharedMachine): BootedMm {
  const m = start_kernel_mm(shared.config, { errors: 'throw' });
  m.mem.adopt(shared.ram);
  for (let cpu = 1; cpu < shared.config.cpus; cpu++) {
    if (m.smp.threadOf(cpu) !== BOOT_THREAD_ID) continue;
    try {
      runAsCpu(m, cpu);
    } catch (e) {
      if (e instanceof SmpError) continue; // another worker took it first
      throw e;
    }
    return m;
  }
  throw new SmpError(`kmem/heap: all ${shared.config.cpus} workers of this heap are attached ` +
    `(the creating thread counts as one; Heap.create({ workers }) sets how many)`);
}
