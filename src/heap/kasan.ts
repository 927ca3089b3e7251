/*
 * The heap's free checks: the part of generic KASAN (mm/kasan/generic.c,
 * common.c, report.c) that catches a bad free, on a shadow of the heap.
 *
 * One shadow byte per 8-byte granule of the heap (KASAN_SHADOW_SCALE_SHIFT
 * 3), as KASAN keeps it; only the granule where a block starts is written:
 *
 *   heap        |  block A (live)   |  block B (freed)  | never a block  |
 *   granule      p>>3  ...           q>>3  ...
 *   shadow      [LIVE+id] .. ..     [FREE] .. .. ..     [0]
 *
 * alloc marks the block's first granule LIVE_CACHE + the id of the cache it
 * came from (the heap's table of caches, machine.ts; LIVE_PAGES for a block
 * of whole pages above 8 KiB) once the kernel has handed the block over, so
 * a free knows the block's kmem_cache from the mark it checks anyway; free
 * checks it and marks it FREE before the kernel takes the block back, so
 * the thread that owns a block is the only one writing its shadow byte:
 * plain byte stores, no atomics. A free of a FREE granule is KASAN's
 * "double-free", of anything else (0, a pointer into a block, a wild
 * pointer) its "invalid-free" (check_slab_allocation()); asking the size of
 * a block that is not live is the use-after-free or invalid-access report
 * of the access ksize() makes. The reports are the kernel's, printed to the
 * machine's log and thrown as KernelBug (the heap boots with errors:
 * 'throw'); the check comes before any state changes, so the heap stays
 * usable.
 *
 * The shadow lives in the heap's memory: up to four chunks of pages from
 * the page allocator, each covering 32 MiB (4 MiB of shadow, an order-10
 * block), their addresses in struct kmem_heap (machine.ts). A block freed
 * and its memory reused by a slab of another size leaves a stale FREE mark
 * behind; freeing that address again still gets a report (double-free
 * where KASAN, which repoisons whole slabs, would say invalid-free).
 */
import { PAGE_SIZE, formatPtr } from '../arch/x86/layout.ts';
import { KERN_ERR, TAINT_BAD_PAGE } from '../kernel/bug.ts';
import { dump_page } from '../mm/debug.ts';
import { __GFP_NOWARN } from '../include/linux/gfp_types.ts';
import type { BootedMm } from '../init/main.ts';
import type { Slub } from '../mm/slub.ts';

/** A live block of whole pages (above KMALLOC_MAX_CACHE_SIZE): kfree() takes it, a pool does not. */
export const SHADOW_LIVE_PAGES = 0x02;
/** A live slab block's first granule: SHADOW_LIVE_CACHE + the id of its cache (below machine.ts's MAX_CACHES). */
export const SHADOW_LIVE_CACHE = 0x10;
/** KASAN_SLAB_FREE: a block freed. */
export const SHADOW_FREE = 0xfb;
/** Bytes of heap one shadow chunk covers, and its shift. */
export const SHADOW_CHUNK_SHIFT = 25;
export const SHADOW_CHUNK_MASK = (1 << SHADOW_CHUNK_SHIFT) - 1;

/** kasan_init() for the heap: zeroed shadow chunks for `size` bytes; their physical addresses. */
export function allocShadow(m: BootedMm, size: number): number[] {
  const out: number[] = [];
  for (let covered = 0; covered < size; covered += 1 << SHADOW_CHUNK_SHIFT) {
    const bytes = Math.min(size - covered, 1 << SHADOW_CHUNK_SHIFT) >>> 3;
    let order = 0;
    while (PAGE_SIZE << order < bytes) order++;
    const pfn = m.buddy.__alloc_pages(__GFP_NOWARN, order, -1);
    if (pfn < 0) throw new RangeError(`kmem/heap: no room for the ${bytes}-byte shadow of a ${size}-byte heap`);
    m.mem.fill(pfn * PAGE_SIZE, PAGE_SIZE << order, 0);
    out.push(pfn * PAGE_SIZE);
  }
  return out;
}

export class KasanReports {
  private readonly po: number;

  constructor(private readonly m: BootedMm, private readonly slub: Slub) {
    this.po = m.layout.PAGE_OFFSET;
  }

  /** kasan_report_invalid_free(): a free of a block that is not live (shadow state `state`). */
  badFree(p: number, fn: string, state: number): never {
    const va = p + this.po;
    this.report(state === SHADOW_FREE ? 'double-free' : 'invalid-free', fn, [`Free of addr ${this.ptr(va)} by task ${this.task()}`],
      ['print_report', 'kasan_report_invalid_free', 'check_slab_allocation', '__kasan_slab_free', 'slab_free', fn], p, '');
  }

  /** kasan_check_byte() failing in ksize()/krealloc(): the size of a block that is not live was asked for. */
  badAccess(p: number, fn: string, state: number): never {
    const va = p + this.po;
    const freed = state === SHADOW_FREE;
    const kind = freed ? (this.slabPfn(p) >= 0 ? 'slab-use-after-free' : 'use-after-free') : 'invalid-access';
    this.report(kind, fn, [`Read of size 1 at addr ${this.ptr(va)} by task ${this.task()}`],
      ['print_report', 'kasan_report', '__kasan_check_byte', fn], p, freed ? 'freed ' : '');
  }

  /**
   * start_report() .. end_report(): the description, dump_stack_lvl(), the
   * object and page the address belongs to; taints B; throws the KernelBug.
   */
  private report(kind: string, fn: string, description: string[], frames: string[], p: number, regionState: string): never {
    const lines = ['==================================================================', `BUG: KASAN: ${kind} in ${fn}`, ...description, ''];
    const log = (from: number) => {
      for (let i = from; i < lines.length; i++) this.m.log.printk(KERN_ERR, lines[i]);
    };
    log(0);
    lines.push(...this.m.bug.dump_stack(frames, KERN_ERR));
    const mark = lines.length;
    lines.push('');
    const slabPfn = this.slabPfn(p);
    if (slabPfn >= 0) lines.push(...this.describeObject(slabPfn, p, regionState), '');
    if (this.pfnOf(p) >= 0) {
      const head = this.slub.folioPfn(p + this.po);
      lines.push('The buggy address belongs to the physical page:',
        ...dump_page(this.m.pages, this.m.layout, head, 'kasan: bad access detected'), '');
    }
    lines.push('==================================================================');
    log(mark);
    this.m.bug.reported('BUG', lines, TAINT_BAD_PAGE);
    throw new Error(lines.join('\n')); // not reached: the heap boots with errors: 'throw'
  }

  /** describe_object_addr(): the object p falls in (nearest_obj()) and where in it. */
  private describeObject(slabPfn: number, p: number, regionState: string): string[] {
    const s = this.slub.slab_cache(slabPfn);
    const c = this.slub.cache;
    const w = this.m.slab;
    const size = this.field(s, c.size_);
    const objectSize = this.field(s, c.object_size);
    const first = slabPfn * PAGE_SIZE + this.field(s, c.red_left_pad);
    const object = first + Math.max(0, Math.floor((p - first) / size)) * size;
    const rel = p < object ? `${object - p} bytes to the left` : p >= object + objectSize
      ? `${p - object - objectSize} bytes to the right` : `${p - object} bytes inside`;
    const va = object + this.po;
    return [
      `The buggy address belongs to the object at ${this.ptr(va)}`,
      ` which belongs to the cache ${w.cacheName(s)} of size ${objectSize}`,
      `The buggy address is located ${rel} of`,
      ` ${regionState}${objectSize}-byte region [${this.ptr(va)}, ${this.ptr(va + objectSize)})`,
    ];
  }

  /** The pfn of the page at heap address p, -1 if p is in no page of the machine's. */
  private pfnOf(p: number): number {
    const pfn = Math.floor(p / PAGE_SIZE);
    return p >= 0 && p < this.m.mem.size && this.m.sparse.pfn_valid(pfn) ? pfn : -1;
  }

  /** The pfn of the slab p is in, -1 if none. */
  private slabPfn(p: number): number {
    if (this.pfnOf(p) < 0) return -1;
    const head = this.slub.folioPfn(p + this.po);
    return this.slub.isSlab(head) ? head : -1;
  }

  private field(s: number, off: number): number {
    return this.m.mem.read32(s - this.po + off);
  }

  private ptr(va: number): string {
    return formatPtr(this.m.layout, va);
  }

  private task(): string {
    return `${this.m.sched.comm()}/${this.m.sched.pid()}`;
  }
}
