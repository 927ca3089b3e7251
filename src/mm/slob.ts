/*
 * SLOB: Simple List Of Blocks (mm/slob.c, Linux 6.1; removed in 6.4).
 *
 * A K&R-style heap over whole pages from the page allocator, shared by
 * every cache and by kmalloc. Modelled from the 6.1 source:
 *
 *  - Three lists of partially free pages (free_slob_small for requests
 *    below SLOB_BREAK1 = 256 bytes, free_slob_medium below SLOB_BREAK2 =
 *    1024, free_slob_large for the rest), linked through struct slab's
 *    slab_list (the struct page's lru); PageSlobFree (PG_private) marks a
 *    page that is on one of them. The three list_heads are SLOB's statics
 *    in the kernel's .bss.
 *  - Inside a page, free blocks form an address-ordered singly linked list
 *    of slob_t units (SLOB_UNIT = sizeof(slob_t) = 2 bytes, s16 since
 *    PAGE_SIZE <= 32767 * 2): a block of more than one unit holds its size
 *    in its first unit and the offset (in units, from the page base) of the
 *    next free block in its second; a one-unit block holds minus that
 *    offset. struct slab's freelist (page->index) points at the first free
 *    block and units (page->private) counts the free units.
 *  - slob_alloc(): first fit over the list for the size, skipping pages
 *    with too few free units or on another node (when a node is asked
 *    for); a page that satisfied the request is rotated to the front of its
 *    list (next-fit-like); a new page when nothing fits. slob_page_alloc()
 *    splits off an alignment fragment in front when the block is not
 *    aligned (align_offset: kmalloc's header sits before the aligned
 *    object). slob_free() returns a page to the page allocator when it
 *    becomes entirely free, puts a full page back on a list when its first
 *    block comes back, and otherwise inserts the block in address order,
 *    coalescing with its neighbours.
 *  - kmalloc: requests below PAGE_SIZE - minalign get a header of minalign
 *    (max(ARCH_KMALLOC_MINALIGN, ARCH_SLAB_MINALIGN) = 8 on x86_64 and
 *    i386) holding the request size in front of the object, so the trace's
 *    bytes_alloc is size + 8 (the rule the i386 slab_compare SLOB log
 *    shows); a power-of-two size is aligned to itself. Larger requests go
 *    straight to the page allocator (__GFP_COMP above order 0), bytes_alloc
 *    PAGE_SIZE << order. kfree() reads the header back on a slob page and
 *    frees whole pages otherwise; ksize() is SLOB_UNITS(*m) * SLOB_UNIT or
 *    the folio's size. Every slob page and large kmalloc is counted in
 *    NR_SLAB_UNRECLAIMABLE_B (SLOB has no reclaimable accounting).
 *  - kmem_cache_alloc(): objects of a cache below a page come from the same
 *    heap with the cache's alignment and no header (size rounded up to
 *    whole units; SLAB_TYPESAFE_BY_RCU adds a struct slob_rcu at the end,
 *    and kmem_cache_free() then frees through call_rcu()); larger objects
 *    are page-allocator pages of get_order(size). The constructor runs on
 *    every allocation. kmem_cache_boot, the cache of struct kmem_cache,
 *    is static (SLOB's .bss), as in 6.1.
 *  - struct kmem_cache (SLOB's in 6.1 mm/slab.h): object_size, size,
 *    align, flags, useroffset, usersize, name, refcount, ctor, list. It has
 *    no inuse: the common code's inuse is size (only cache merging uses it,
 *    and SLOB never merges: __kmem_cache_alias() is NULL under SLOB).
 *
 * SMP: one global spinlock, slob_lock, taken with spin_lock_irqsave()
 * around every walk or change of the free lists and of a page's blocks
 * (slob_alloc() drops it to get a new page from the page allocator and
 * takes it again to put the page on its list; slob_free() drops it before
 * giving an emptied page back). Its word follows kmem_cache_boot in SLOB's
 * statics:
 *
 *   +0        free_slob_small, free_slob_medium, free_slob_large (list_heads)
 *   +6P       kmem_cache_boot (struct kmem_cache)
 *   +6P+size  slob_lock
 *
 * kmem_rcu_free's code address is registered at boot, the same in every
 * host thread's boot, so it stays a JS field.
 *
 * What SLOB does not have, and so kmem under SLOB does not either: no
 * /proc/slabinfo (6.1 builds it only with CONFIG_SLAB or CONFIG_SLUB_DEBUG,
 * and SLUB_DEBUG depends on SLUB: reading it fails with ENOENT), no
 * shrinking, no slab debugging (slub_debug is ignored), no per-cache
 * object counts (kmem_cache_destroy() of a cache with live objects does
 * not notice), no checks on kfree() of a pointer that is not an object (a
 * wrong pointer corrupts the heap as in the kernel).
 *
 * struct slab under SLOB (6.1): slab_list at the struct page's lru, then
 * freelist and units where SLUB has freelist and counters; PGTY_slab in
 * page_type marks the page (6.1 set PG_slab; kmem keeps 6.12's struct page).
 */
import { PAGE_SIZE, ptr64FromWords, ptr64HiWord, ptr64LoWord } from '../arch/x86/layout.ts';
import { defineStruct } from '../kernel/struct_layout.ts';
import type { Bug } from '../kernel/bug.ts';
import type { Kallsyms } from '../kernel/kallsyms.ts';
import type { Spinlocks } from '../kernel/locking/spinlock.ts';
import type { Rcu } from '../kernel/rcu.ts';
import {
  INIT_LIST_HEAD, list_add, list_del, list_is_first, list_rotate_to_front,
} from '../lib/list.ts';
import { __GFP_COMP, __GFP_ZERO } from '../include/linux/gfp_types.ts';
import {
  ARCH_KMALLOC_MINALIGN, ARCH_SLAB_MINALIGN, KMALLOC_MAX_SIZE, SLAB_PANIC, SLAB_TYPESAFE_BY_RCU,
  ZERO_SIZE_PTR,
} from '../include/linux/slab.ts';
import { NR_SLAB_UNRECLAIMABLE_B } from './mmzone.ts';
import { PG_private, PGTY_slab } from './page.ts';
import type { SlabCommon } from './slab_common.ts';
import type { SlabPagesDeps } from './slab_pages.ts';
import { slabLayout, UP, type KmemCacheArgs, type KmemCacheCommon, type SlabAllocator, type SlabInfo } from './slab_types.ts';

export const SLOB_UNIT = 2;
export const SLOB_BREAK1 = 256;
export const SLOB_BREAK2 = 1024;
const SLOB_UNITS = (size: number) => Math.floor((size + SLOB_UNIT - 1) / SLOB_UNIT);
const SLOB_PAGE_UNITS = SLOB_UNITS(PAGE_SIZE);
/** max(ARCH_KMALLOC_MINALIGN, ARCH_SLAB_MINALIGN): kmalloc's header */
export const SLOB_MINALIGN = Math.max(ARCH_KMALLOC_MINALIGN, ARCH_SLAB_MINALIGN);

/** get_order() */
function getOrder(size: number): number {
  let order = 0;
  for (let s = Math.floor((size - 1) / PAGE_SIZE); s > 0; s = Math.floor(s / 2)) order++;
  return order;
}

function slobCacheLayout(ptrSize: 4 | 8) {
  return defineStruct(ptrSize, [
    ['object_size', 'u32'],
    ['size_', 'u32'],
    ['align', 'u32'],
    ['flags', 'u32'],
    ['useroffset', 'u32'],
    ['usersize', 'u32'],
    ['name', 'ptr'],
    ['refcount', 'int'],
    ['ctor', 'ptr'],
    ['list', 'list_head'],
  ]);
}

export interface SlobDeps extends SlabPagesDeps {
  bug: Bug;
  locks: Spinlocks;
  kallsyms: Kallsyms;
  rcu: Rcu;
  /** Physical address of SLOB's statics (staticBytes()). */
  staticsPa: number;
}

export class Slob implements SlabAllocator {
  readonly name = 'SLOB';
  readonly cache: KmemCacheCommon;
  readonly kmemCacheBytes: number;
  /** __kmem_cache_alias() is NULL under SLOB. */
  readonly mergeable = false;
  /** No /proc/slabinfo (no CONFIG_SLAB, no CONFIG_SLUB_DEBUG). */
  readonly hasSlabinfo = false;
  private readonly C: ReturnType<typeof slobCacheLayout>;
  private readonly po: number;
  private readonly ptr: 4 | 8;
  private readonly wFreelist: number;
  private readonly wUnits: number;
  /** sizeof(struct slob_rcu): rcu_head and an int, padded */
  private readonly slobRcuBytes: number;
  private kmemRcuFree = 0;

  constructor(private readonly d: SlobDeps, private readonly common: SlabCommon) {
    this.ptr = d.layout.ptrSize;
    this.po = d.layout.PAGE_OFFSET;
    this.C = slobCacheLayout(this.ptr);
    this.cache = { ...this.C, inuse: this.C.size_ };
    this.kmemCacheBytes = this.C.size;
    const sl = slabLayout(this.ptr);
    this.wFreelist = sl.freelist >> 2;
    this.wUnits = sl.counters >> 2;
    this.slobRcuBytes = 3 * this.ptr;
  }

  /** The three list heads, kmem_cache_boot, slob_lock. */
  static staticBytes(ptrSize: 4 | 8): number {
    return 6 * ptrSize + slobCacheLayout(ptrSize).size + 4;
  }

  /** slob_lock's physical address. */
  private get slobLock(): number {
    return this.d.staticsPa + 6 * this.ptr + this.C.size;
  }

  private listVa(i: number): number {
    return this.po + this.d.staticsPa + i * 2 * this.ptr;
  }

  private get kmemCacheBoot(): number {
    return this.po + this.d.staticsPa + 6 * this.ptr;
  }

  /* struct slab fields ------------------------------------------------ */

  private getFreelist(pfn: number): number {
    const a = this.d.pages.loc.arr(pfn);
    const i = this.d.pages.loc.word(pfn) + this.wFreelist;
    return this.ptr === 8 ? ptr64FromWords(a[i], a[i + 1]) : a[i] >>> 0;
  }

  private setFreelist(pfn: number, v: number): void {
    const a = this.d.pages.loc.arr(pfn);
    const i = this.d.pages.loc.word(pfn) + this.wFreelist;
    if (this.ptr === 8) {
      a[i] = ptr64LoWord(v);
      a[i + 1] = ptr64HiWord(v);
    } else {
      a[i] = v | 0;
    }
  }

  private getUnits(pfn: number): number {
    return this.d.pages.loc.arr(pfn)[this.d.pages.loc.word(pfn) + this.wUnits];
  }

  private setUnits(pfn: number, v: number): void {
    const a = this.d.pages.loc.arr(pfn);
    const i = this.d.pages.loc.word(pfn) + this.wUnits;
    a[i] = v;
    if (this.ptr === 8) a[i + 1] = v < 0 ? -1 : 0;
  }

  private slabList(pfn: number): number {
    return this.d.pages.lru(pfn);
  }

  private u32(s: number, off: number): number {
    return this.d.words.r32(s - this.po + off);
  }

  /* slob_t blocks ------------------------------------------------------ */

  private units16(b: number): number {
    const v = this.d.mem.read16(b - this.po);
    return v >= 0x8000 ? v - 0x10000 : v;
  }

  /** The page a block is in (its physical address is below 2^53: & works on its low word). */
  private base(b: number): number {
    return b - ((b - this.po) & (PAGE_SIZE - 1));
  }

  /** set_slob() */
  private set_slob(s: number, size: number, next: number): void {
    const offset = (next - this.base(s)) / SLOB_UNIT;
    if (size > 1) {
      this.d.mem.write16(s - this.po, size & 0xffff);
      this.d.mem.write16(s - this.po + SLOB_UNIT, offset & 0xffff);
    } else {
      this.d.mem.write16(s - this.po, -offset & 0xffff);
    }
  }

  /** slob_units() */
  private slob_units(s: number): number {
    const u = this.units16(s);
    return u > 0 ? u : 1;
  }

  /** slob_next() */
  private slob_next(s: number): number {
    const u = this.units16(s);
    const next = u < 0 ? -u : this.units16(s + SLOB_UNIT);
    return this.base(s) + next * SLOB_UNIT;
  }

  /** slob_last() */
  private slob_last(s: number): boolean {
    return ((this.slob_next(s) - this.po) & (PAGE_SIZE - 1)) === 0;
  }

  /* The allocator proper ------------------------------------------------ */

  private slob_page_free(pfn: number): boolean {
    return this.d.pages.testFlag(pfn, PG_private);
  }

  private set_slob_page_free(pfn: number, list: number): void {
    list_add(this.d.kaddr, this.slabList(pfn), list);
    this.d.pages.setFlag(pfn, PG_private);
  }

  private clear_slob_page_free(pfn: number): void {
    list_del(this.d.kaddr, this.slabList(pfn));
    this.d.pages.clearFlag(pfn, PG_private);
  }

  /** slob_new_pages(): pages for the heap or a big object, counted as unreclaimable slab; 0 on failure. */
  private slob_new_pages(gfp: number, order: number, node: number): number {
    const pfn = this.d.buddy.__alloc_pages(gfp, order, node);
    if (pfn < 0) return 0;
    this.common.mod_node_page_state(this.d.pages.page_to_nid(pfn), NR_SLAB_UNRECLAIMABLE_B, PAGE_SIZE << order);
    return this.po + pfn * PAGE_SIZE;
  }

  /** slob_free_pages() */
  private slob_free_pages(b: number, order: number): void {
    const pfn = Math.floor((b - this.po) / PAGE_SIZE);
    this.d.sched.mm_account_reclaimed_pages(1 << order);
    this.common.mod_node_page_state(this.d.pages.page_to_nid(pfn), NR_SLAB_UNRECLAIMABLE_B, -(PAGE_SIZE << order));
    this.d.buddy.__free_pages(pfn, order);
  }

  /**
   * slob_page_alloc(): a block of size bytes in the page, or 0. A page left
   * with no free units is taken off its list (the kernel's
   * page_removed_from_list: the caller sees units == 0).
   */
  private slob_page_alloc(pfn: number, size: number, align: number, alignOffset: number): number {
    const units = SLOB_UNITS(size);
    let prev = 0;
    let delta = 0;
    for (let cur = this.getFreelist(pfn); ; prev = cur, cur = this.slob_next(cur)) {
      let avail = this.slob_units(cur);
      let aligned = 0;
      if (align) {
        aligned = Math.ceil((cur + alignOffset) / align) * align - alignOffset;
        delta = (aligned - cur) / SLOB_UNIT;
      }
      if (avail >= units + delta) {
        if (delta) {
          const next = this.slob_next(cur);
          this.set_slob(aligned, avail - delta, next);
          this.set_slob(cur, delta, aligned);
          prev = cur;
          cur = aligned;
          avail = this.slob_units(cur);
        }
        const next = this.slob_next(cur);
        if (avail === units) {
          if (prev) this.set_slob(prev, this.slob_units(prev), next);
          else this.setFreelist(pfn, next);
        } else {
          const rest = cur + units * SLOB_UNIT;
          if (prev) this.set_slob(prev, this.slob_units(prev), rest);
          else this.setFreelist(pfn, rest);
          this.set_slob(rest, avail - units, next);
        }
        const left = this.getUnits(pfn) - units;
        this.setUnits(pfn, left);
        if (left === 0) this.clear_slob_page_free(pfn);
        return cur;
      }
      if (this.slob_last(cur)) return 0;
    }
  }

  private listFor(size: number): number {
    return this.listVa(size < SLOB_BREAK1 ? 0 : size < SLOB_BREAK2 ? 1 : 2);
  }

  /** slob_alloc(): first fit over the partially free pages of the size's list, else a new page. */
  private slob_alloc(size: number, gfp: number, align: number, node: number, alignOffset: number): number {
    const list = this.listFor(size);
    const k = this.d.kaddr;
    let b = 0;
    let flags = this.d.locks.spin_lock_irqsave(this.slobLock);
    for (let pos = k.readPtr(list); pos !== list; pos = k.readPtr(pos)) {
      const pfn = this.d.pages.pfnOfLru(pos);
      if (node !== -1 && this.d.pages.page_to_nid(pfn) !== node) continue;
      if (this.getUnits(pfn) < SLOB_UNITS(size)) continue;
      b = this.slob_page_alloc(pfn, size, align, alignOffset);
      if (b === 0) continue;
      if (this.getUnits(pfn) !== 0 && !list_is_first(k, pos, list)) list_rotate_to_front(k, pos, list);
      break;
    }
    this.d.locks.spin_unlock_irqrestore(this.slobLock, flags);
    if (b === 0) {
      b = this.slob_new_pages(gfp & ~__GFP_ZERO, 0, node);
      if (b === 0) return 0;
      const pfn = (b - this.po) / PAGE_SIZE;
      this.d.pages.setType(pfn, PGTY_slab);
      flags = this.d.locks.spin_lock_irqsave(this.slobLock);
      this.setUnits(pfn, SLOB_PAGE_UNITS);
      this.setFreelist(pfn, b);
      INIT_LIST_HEAD(k, this.slabList(pfn));
      this.set_slob(b, SLOB_PAGE_UNITS, b + PAGE_SIZE);
      this.set_slob_page_free(pfn, list);
      b = this.slob_page_alloc(pfn, size, align, alignOffset);
      this.d.locks.spin_unlock_irqrestore(this.slobLock, flags);
      if (b === 0) throw new Error('slob_alloc: BUG_ON(!b)');
    }
    if (gfp & __GFP_ZERO) this.d.mem.fill(b - this.po, size, 0);
    return b;
  }

  /** slob_free(): give back a block of size bytes. */
  private slob_free(block: number, size: number): void {
    if (block === 0 || block === ZERO_SIZE_PTR) return;
    const pfn = Math.floor((block - this.po) / PAGE_SIZE);
    const units = SLOB_UNITS(size);
    const b = block;
    const flags = this.d.locks.spin_lock_irqsave(this.slobLock);
    if (this.getUnits(pfn) + units === SLOB_PAGE_UNITS) {
      if (this.slob_page_free(pfn)) this.clear_slob_page_free(pfn);
      this.d.locks.spin_unlock_irqrestore(this.slobLock, flags);
      this.d.pages.clearType(pfn);
      this.setFreelist(pfn, 0);
      this.setUnits(pfn, 0);
      this.slob_free_pages(b, 0);
      return;
    }
    if (!this.slob_page_free(pfn)) {
      this.setUnits(pfn, units);
      this.setFreelist(pfn, b);
      this.set_slob(b, units, this.base(b) + PAGE_SIZE);
      this.set_slob_page_free(pfn, this.listFor(size));
      this.d.locks.spin_unlock_irqrestore(this.slobLock, flags);
      return;
    }
    this.free_block_in_page(pfn, b, units);
    this.d.locks.spin_unlock_irqrestore(this.slobLock, flags);
  }

  /** slob_free()'s last case: the block into the page's address-ordered free list, coalescing. */
  private free_block_in_page(pfn: number, b: number, units: number): void {
    this.setUnits(pfn, this.getUnits(pfn) + units);
    const freelist = this.getFreelist(pfn);
    if (b < freelist) {
      let next = freelist;
      if (b + units * SLOB_UNIT === freelist) {
        units += this.slob_units(freelist);
        next = this.slob_next(freelist);
      }
      this.set_slob(b, units, next);
      this.setFreelist(pfn, b);
    } else {
      let prev = freelist;
      let next = this.slob_next(prev);
      while (b > next) {
        prev = next;
        next = this.slob_next(prev);
      }
      if (!this.slob_last(prev) && b + units * SLOB_UNIT === next) {
        units += this.slob_units(next);
        this.set_slob(b, units, this.slob_next(next));
      } else {
        this.set_slob(b, units, next);
      }
      if (prev + this.slob_units(prev) * SLOB_UNIT === b) {
        units = this.slob_units(b) + this.slob_units(prev);
        this.set_slob(prev, units, this.slob_next(b));
      } else {
        this.set_slob(prev, this.slob_units(prev), b);
      }
    }
  }

  /* kmalloc ------------------------------------------------------------- */

  /** __do_kmalloc_node(): [the object or 0, bytes_alloc for the trace (-1: no event)]. */
  kmalloc_node(size: number, gfp: number, node: number): [number, number] {
    const minalign = SLOB_MINALIGN;
    if ((size >>> 0) === size && size < PAGE_SIZE - minalign) {
      if (size === 0) return [ZERO_SIZE_PTR, -1];
      let align = minalign;
      if ((size & (size - 1)) === 0) align = Math.max(minalign, size);
      const m = this.slob_alloc(size + minalign, gfp, align, node, minalign);
      if (m === 0) return [0, size + minalign];
      this.d.words.w32(m - this.po, size);
      return [m + minalign, size + minalign];
    }
    // a negative or fractional size is a size_t too big for any order
    const order = (size >>> 0) === size && size <= KMALLOC_MAX_SIZE ? getOrder(size) : 64;
    const ret = this.slob_new_pages(order ? gfp | __GFP_COMP : gfp, order, node);
    return [ret, PAGE_SIZE * 2 ** Math.min(order, 52)];
  }

  /** The bytes_alloc of kmalloc(size): size + the header below a page, else whole pages. */
  kmalloc_bytes_alloc(size: number): number {
    if ((size >>> 0) === size && size < PAGE_SIZE - SLOB_MINALIGN) return size === 0 ? 0 : size + SLOB_MINALIGN;
    return PAGE_SIZE * 2 ** ((size >>> 0) === size && size <= KMALLOC_MAX_SIZE ? getOrder(size) : 0);
  }

  /** kfree()'s SLOB part: the header on a slob page, the whole folio otherwise. */
  private kfree(block: number): void {
    const pfn = this.folioPfn(block);
    if (this.isSlab(pfn)) {
      const m = block - SLOB_MINALIGN;
      this.slob_free(m, this.d.words.r32(m - this.po) + SLOB_MINALIGN);
      return;
    }
    const order = this.d.pages.compound_order(pfn);
    this.slob_free_pages(this.po + pfn * PAGE_SIZE, order);
  }

  /** __ksize() */
  ksize(block: number): number {
    const pfn = this.folioPfn(block);
    if (!this.isSlab(pfn)) return PAGE_SIZE * 2 ** this.d.pages.compound_order(pfn);
    const m = block - SLOB_MINALIGN;
    return SLOB_UNITS(this.d.words.r32(m - this.po)) * SLOB_UNIT;
  }

  /** kmalloc_size_roundup() (mm/slob.c) */
  kmalloc_size_roundup(size: number): number {
    if (size === 0) return 0;
    return Math.ceil(size / ARCH_KMALLOC_MINALIGN) * ARCH_KMALLOC_MINALIGN;
  }

  /* The SlabAllocator interface ----------------------------------------- */

  /** kmem_cache_init(): kmem_cache = &kmem_cache_boot; slab_state = UP. */
  kmem_cache_init(): void {
    const k = this.d.kaddr;
    for (let i = 0; i < 3; i++) INIT_LIST_HEAD(k, this.listVa(i));
    this.d.locks.spin_lock_init(this.slobLock);
    const s = this.kmemCacheBoot;
    const pa = s - this.po;
    this.d.mem.fill(pa, this.C.size, 0);
    this.d.words.wptr(pa + this.C.name, this.common.rodataString('kmem_cache'));
    this.d.words.w32(pa + this.C.object_size, this.C.size);
    this.d.words.w32(pa + this.C.size_, this.C.size);
    this.d.words.w32(pa + this.C.flags, SLAB_PANIC);
    this.d.words.w32(pa + this.C.align, ARCH_KMALLOC_MINALIGN);
    this.d.words.w32(pa + this.C.refcount, -1);
    this.common.kmem_cache = s;
    this.kmemRcuFree = this.d.kallsyms.register('kmem_rcu_free', (head) => this.kmem_rcu_free(head));
    this.common.slab_state = UP;
  }

  /** __kmem_cache_create() (with slab_common's part: name, sizes, alignment, usercopy). */
  do_kmem_cache_create(s: number, name: number, size: number, args: KmemCacheArgs, flags: number): number {
    const pa = s - this.po;
    const w = this.d.words;
    w.wptr(pa + this.C.name, name);
    w.w32(pa + this.C.object_size, size);
    let sz = size;
    if (flags & SLAB_TYPESAFE_BY_RCU) sz += this.slobRcuBytes;
    w.w32(pa + this.C.size_, SLOB_UNITS(sz) * SLOB_UNIT);
    w.w32(pa + this.C.align, args.align);
    w.w32(pa + this.C.flags, flags);
    w.w32(pa + this.C.useroffset, args.useroffset);
    w.w32(pa + this.C.usersize, args.usersize);
    w.wptr(pa + this.C.ctor, args.ctor);
    return 0;
  }

  /** slob_alloc_node() */
  slab_alloc_node(s: number, gfp: number, node: number): number {
    const size = this.u32(s, this.C.size_);
    const b = size < PAGE_SIZE ? this.slob_alloc(size, gfp, this.u32(s, this.C.align), node, 0)
      : this.slob_new_pages(gfp, getOrder(size), node);
    if (b !== 0) {
      const ctor = this.d.words.rptr(s - this.po + this.C.ctor);
      if (ctor !== 0) {
        if (gfp & __GFP_ZERO) this.d.bug.warn('mm/slob.c', 611, 'slob_alloc_node', null, ['kmem_cache_alloc'], true);
        this.d.kallsyms.call(ctor, b);
      }
    }
    return b;
  }

  /** __kmem_cache_free() */
  private __kmem_cache_free(b: number, size: number): void {
    if (size < PAGE_SIZE) this.slob_free(b, size);
    else this.slob_free_pages(b, getOrder(size));
  }

  private kmem_rcu_free(head: number): number {
    const size = this.d.words.r32(head - this.po + 2 * this.ptr);
    this.__kmem_cache_free(head - (size - this.slobRcuBytes), size);
    return 0;
  }

  /** kmem_cache_free() (s != 0) or kfree() (s == 0). */
  slab_free_object(s: number, x: number): boolean {
    if (s === 0) {
      this.kfree(x);
      return true;
    }
    const size = this.u32(s, this.C.size_);
    if (size < PAGE_SIZE && !this.isSlab(this.folioPfn(x))) return false;
    if (this.u32(s, this.C.flags) & SLAB_TYPESAFE_BY_RCU) {
      const rcu = x + size - this.slobRcuBytes;
      this.d.words.w32(rcu - this.po + 2 * this.ptr, size);
      this.d.rcu.call_rcu(rcu, this.kmemRcuFree);
    } else {
      this.__kmem_cache_free(x, size);
    }
    return true;
  }

  __kmem_cache_shrink(): number {
    return 0;
  }

  __kmem_cache_shutdown(): number {
    return 0;
  }

  __kmem_cache_release(): void {
    /* nothing: SLOB keeps no per-cache state */
  }

  get_slabinfo(_s: number, _out: SlabInfo): void {
    /* SLOB has no slabinfo */
  }

  slab_ksize(s: number): number {
    return this.u32(s, this.C.size_);
  }

  object_is_free(): boolean {
    return false;
  }

  folioPfn(va: number): number {
    const pfn = Math.floor((va - this.po) / PAGE_SIZE);
    if (!this.d.pages.PageTail(pfn)) return pfn;
    const head = this.d.kaddr.readPtr(this.d.pages.lru(pfn)) - 1;
    return this.d.pages.page_to_pfn(head);
  }

  isSlab(pfn: number): boolean {
    return this.d.pages.page_type(pfn) >>> 24 === PGTY_slab;
  }

  /** SLOB pages belong to no cache. */
  slab_cache(): number {
    return 0;
  }

  /* For tests and reports ------------------------------------------------ */

  /** SLOB's one lock word (a physical address), for tests. */
  lockWords(): number[] {
    return [this.slobLock];
  }

  /** The pages on each free list (small, medium, large) with their free units. */
  freeLists(): { pfn: number; units: number }[][] {
    const k = this.d.kaddr;
    const out: { pfn: number; units: number }[][] = [];
    for (let i = 0; i < 3; i++) {
      const list = this.listVa(i);
      const pages: { pfn: number; units: number }[] = [];
      for (let pos = k.readPtr(list); pos !== list; pos = k.readPtr(pos)) {
        const pfn = this.d.pages.pfnOfLru(pos);
        pages.push({ pfn, units: this.getUnits(pfn) });
      }
      out.push(pages);
    }
    return out;
  }

  /** The free blocks of a slob page: [address, units]. */
  freeBlocks(pfn: number): [number, number][] {
    const out: [number, number][] = [];
    if (!this.slob_page_free(pfn)) return out;
    for (let cur = this.getFreelist(pfn); ; cur = this.slob_next(cur)) {
      out.push([cur, this.slob_units(cur)]);
      if (this.slob_last(cur)) return out;
    }
  }
}

