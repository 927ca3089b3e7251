/*
 * SLUB's fast paths (mm/slub.c slab_alloc_node() and do_slab_free(), with
 * the kmalloc()/kfree() front ends of mm/slab_common.c): the common case of
 * kmem_cache_alloc(), kmalloc(), kfree() and kmem_cache_free() written out
 * on the RAM's Int32Arrays, in small monomorphic functions that allocate
 * nothing and use no Atomics.
 *
 * The common case is: this CPU's kmem_cache_cpu has a CPU slab and a
 * non-empty lockless freelist (allocation), or the object belongs to this
 * CPU's slab (free); no slab debugging on the cache, no tracepoint enabled
 * (SlabCommon checks its hooks), no init_on_alloc / init_on_free, no
 * __GFP_ZERO, no node asked for. Anything else, and every case where the
 * kernel would report something (a bad pointer, a double free, an atomic
 * context with __GFP_DIRECT_RECLAIM), returns "not handled" (-1 or false)
 * and the caller takes the general path, which does it all and reports.
 * A miss that is no error goes straight to SLUB's slow paths
 * (__slab_alloc(), __slab_free()).
 *
 * What one allocation touches (x86_64; kmem_cache_cpu at a per-CPU address):
 *
 *   s (struct kmem_cache)     +0 cpu_slab ---+       +40 offset
 *                                            |
 *   per-CPU unit of this CPU  + cpu_slab:  kmem_cache_cpu
 *                                            +0  freelist (lo, hi)  --> object
 *                                            +8  tid (lo, hi)       += TID_STEP
 *                                            +16 slab (lo, hi)      != NULL
 *                             + slub_flush: work  (0: no flush asked; slub.ts)
 *   object + s->offset        next free object (lo, hi), copied into freelist
 *
 * A cache with percpu sheaves (slub_sheaves.ts; s->cpu_sheaves != NULL)
 * takes the sheaf paths instead: allocation pops main->objects[--size],
 * free pushes main->objects[size++] while size < s->sheaf_capacity, for an
 * object of any slab. An empty or full main sheaf, a held local lock (a
 * re-entered path) and a pending flush go to slub.ts (alloc_pcs_slow,
 * free_pcs_slow); on a machine with more than one node every free does (the
 * object must be on this CPU's node).
 *
 *   per-CPU unit + cpu_sheaves: slub_percpu_sheaves
 *                                 +0 lock (u8, 0)  +8 main (lo, hi) --> slab_sheaf
 *                                                       +24 size, +32 objects[size - 1] (lo, hi)
 *
 * Nothing about a cache is kept in JS: every field is read from the struct
 * kmem_cache in memory at each call, so a cache created by another host
 * thread works by its address alone. Only layouts (word offsets) and the
 * machine's constants are fields.
 *
 * Pointers. A 64-bit kernel pointer is two 32-bit words. Slab objects are
 * in the direct map (PAGE_OFFSET + pa), whose high word is
 * 0xffff8880 + (pa >> 32): the physical address is lo + (hi - 0xffff8880)
 * * 2^32, two integer operations and no call. A NULL freelist is hi == 0
 * (no direct-map pointer has a zero high word). struct slab pointers are
 * vmemmap addresses, compared as the JS form of the pointer. On i386 a
 * pointer is one word, lowmem at PAGE_OFFSET + pa. A compound page's tail
 * (an object in a slab of order > 0) leads to its head through
 * compound_head (vmemmap only; without it the general path does it).
 *
 * SMP: the kmem_cache_cpu is this CPU's own per-CPU data, touched by no
 * other CPU (the kernel's this_cpu_cmpxchg is atomic only against its own
 * CPU), so plain loads and stores. The slub_flush work word is set by
 * another thread asking this CPU to flush its slabs (slub.ts, flush_all)
 * and only read here, with a plain load: while it is set both paths miss
 * (MISS) until __slab_alloc() or the general free serves the request.
 * Each CPU's per-CPU unit is reached through one Int32Array and word index
 * computed at boot (and again on mem.onRebind); a unit that straddles two
 * RAM sections makes that CPU's fast paths miss, and SLUB's general code
 * does the same work with its own accessors.
 */
import { PAGE_SIZE } from '../arch/x86/layout.ts';
import { HOST_SECTION_SIZE, type PhysMem } from '../machine/memory.ts';
import type { Sched } from '../kernel/sched.ts';
import { __GFP_DIRECT_RECLAIM, __GFP_ZERO } from '../include/linux/gfp_types.ts';
import { PGTY_slab } from './page.ts';
import type { Sparse } from './sparse.ts';
import type { PageAllocGlobals } from './page_alloc_globals.ts';
import type { SlabFastpath } from './slab_types.ts';
import { SLAB_DEBUG_FLAGS } from './slub_debug.ts';

const INV_SECTION = 1 / HOST_SECTION_SIZE;
const SECTION_MASK = HOST_SECTION_SIZE - 1;
const INV_PAGE = 1 / PAGE_SIZE;
const TWO32 = 4294967296;

/** What push() did. */
export const PUSHED = 0;
/** The object's slab is not this CPU's slab: __slab_free(). */
export const NOT_CPU_SLAB = 1;
/** The object is already the head of the freelist (set_freepointer()'s BUG_ON). */
export const DOUBLE_FREE = 2;
/** Not done: a flush of this CPU's slabs is pending, or its per-CPU unit straddles two RAM sections. */
export const MISS = 3;

/** The slow paths the fast paths fall into (slub.ts). */
export interface SlubSlowPaths {
  /** __slab_alloc(): serve a pending flush, then ___slab_alloc(); the object or 0. */
  __slab_alloc(s: number, gfp: number, node: number, origSize: number): number;
  /** __slab_free(): head..tail (cnt objects) back to the slab at pfn, which is no CPU slab of this CPU. */
  __slab_free(s: number, pfn: number, head: number, tail: number, cnt: number): void;
  /** A cache with sheaves whose main sheaf could not give an object: alloc_from_pcs(), else the slabs; the object or 0. */
  alloc_pcs_slow(s: number, gfp: number, origSize: number): number;
  /** A cache with sheaves whose main sheaf could not take x (in the slab at pfn): free_to_pcs(), else do_slab_free(). */
  free_pcs_slow(s: number, pfn: number, x: number): void;
}

/** SlubFastpath.sheafWords(): word offsets (byte offset / 4) and one CPU's per-CPU unit, for a 32-bit machine. */
export interface SheafWords {
  /** struct kmem_cache: cpu_sheaves (a per-CPU offset; 0: no sheaves), sheaf_capacity */
  kwCpuSheaves: number;
  kwSheafCapacity: number;
  /** struct slub_percpu_sheaves: main, spare (lock is its first byte) */
  pwMain: number;
  pwSpare: number;
  /** struct slab_sheaf: size, objects[] */
  swSize: number;
  swObjects: number;
  /** Physical address of the CPU's per-CPU unit, and the word offset in it of the slub_flush work word. */
  unitPa: number;
  flushWork: number;
}

/** The machine's and the structures' constants the fast paths index with (byte offsets). */
export interface SlubFastpathLayout {
  ptrSize: 4 | 8;
  pageOffset: number;
  /** VMEMMAP_START, 0 without SPARSEMEM_VMEMMAP (i386). */
  vmemmap: number;
  structPage: number;
  /** End of the direct map, as an offset from PAGE_OFFSET. */
  lowmemBytes: number;
  /** Physical address of CPU 0's per-CPU unit, and the unit size. */
  pcpuBase: number;
  pcpuUnit: number;
  /** TID_STEP */
  tidStep: number;
  /* struct kmem_cache */
  cpu_slab: number;
  flags: number;
  size: number;
  offset: number;
  /* struct kmem_cache_cpu */
  c_freelist: number;
  c_tid: number;
  c_slab: number;
  /* struct slab */
  slab_cache: number;
  counters: number;
  page_type: number;
  /* struct kmem_cache's cpu_sheaves and sheaf_capacity (-1: a machine without sheaves) */
  cpu_sheaves: number;
  sheaf_capacity: number;
  /* struct slub_percpu_sheaves' main and spare, struct slab_sheaf's size and objects */
  pcs_main: number;
  pcs_spare: number;
  sheaf_size: number;
  sheaf_objects: number;
  /** One NUMA node: every object is on this CPU's node. */
  singleNode: boolean;
}

export class SlubFastpath implements SlabFastpath {
  private readonly i32: readonly Int32Array[];
  private readonly po: number;
  private readonly ptr8: boolean;
  /** The high word of a direct-map pointer to physical address 0 (x86_64: 0xffff8880). */
  private readonly dmHi: number;
  private readonly vmemmap: number;
  private readonly structPage: number;
  private readonly lowmemBytes: number;
  private readonly pcpuBase: number;
  private readonly pcpuUnit: number;
  private readonly tidStep: number;
  private readonly kwCpuSlab: number;
  private readonly kwFlags: number;
  private readonly kwSize: number;
  private readonly kwOffset: number;
  private readonly cwFreelist: number;
  private readonly cwTid: number;
  private readonly cwSlab: number;
  private readonly wSlabCache: number;
  private readonly wCounters: number;
  private readonly wType: number;
  /** Word offsets of the sheaves' fields; kwCpuSheaves -1 on a machine without sheaves. */
  private readonly kwCpuSheaves: number;
  private readonly kwSheafCapacity: number;
  private readonly pwMain: number;
  private readonly pwSpare: number;
  private readonly swSize: number;
  private readonly swObjects: number;
  private readonly singleNode: boolean;
  /**
   * Each CPU's per-CPU unit: the RAM section's Int32Array holding it and
   * the word index of its start (-1 if the unit straddles two sections:
   * then the fast paths always miss on that CPU). Refetched on rebind.
   */
  private readonly unitArr: Int32Array[] = [];
  private readonly unitWord: Int32Array;
  /** Word offset, in a per-CPU unit, of struct slub_flush_work's work word (set once kmem_cache_init() allocated it). */
  private flushWork = 0;
  /** mainSheaf()'s second result: the RAM section's Int32Array holding the main sheaf. */
  private sheafArr: Int32Array;

  constructor(
    L: SlubFastpathLayout,
    private readonly mem: PhysMem,
    nrCpus: number,
    private readonly sparse: Sparse,
    private readonly sched: Sched,
    private readonly globals: PageAllocGlobals,
    private readonly slow: SlubSlowPaths,
  ) {
    this.i32 = mem.i32;
    this.po = L.pageOffset;
    this.ptr8 = L.ptrSize === 8;
    this.dmHi = this.ptr8 ? Math.floor(L.pageOffset / TWO32) | 0xffff0000 : 0;
    this.vmemmap = L.vmemmap;
    this.structPage = L.structPage;
    this.lowmemBytes = L.lowmemBytes;
    this.pcpuBase = L.pcpuBase;
    this.pcpuUnit = L.pcpuUnit;
    this.tidStep = L.tidStep;
    this.kwCpuSlab = L.cpu_slab >> 2;
    this.kwFlags = L.flags >> 2;
    this.kwSize = L.size >> 2;
    this.kwOffset = L.offset >> 2;
    this.cwFreelist = L.c_freelist >> 2;
    this.cwTid = L.c_tid >> 2;
    this.cwSlab = L.c_slab >> 2;
    this.wSlabCache = L.slab_cache >> 2;
    this.wCounters = L.counters >> 2;
    this.wType = L.page_type >> 2;
    this.kwCpuSheaves = L.cpu_sheaves < 0 ? -1 : L.cpu_sheaves >> 2;
    this.kwSheafCapacity = L.sheaf_capacity >> 2;
    this.pwMain = L.pcs_main >> 2;
    this.pwSpare = L.pcs_spare >> 2;
    this.swSize = L.sheaf_size >> 2;
    this.swObjects = L.sheaf_objects >> 2;
    this.singleNode = L.singleNode;
    this.unitWord = new Int32Array(nrCpus);
    this.sheafArr = this.i32[0];
    this.fetchUnits();
    mem.onRebind(() => this.fetchUnits());
  }

  private fetchUnits(): void {
    for (let cpu = 0; cpu < this.unitWord.length; cpu++) {
      const base = this.pcpuBase + cpu * this.pcpuUnit;
      const sec = Math.floor(base * INV_SECTION);
      this.unitArr[cpu] = this.mem.i32[sec];
      this.unitWord[cpu] = Math.floor((base + this.pcpuUnit - 1) * INV_SECTION) === sec ? (base - sec * HOST_SECTION_SIZE) >> 2 : -1;
    }
  }

  /**
   * What a fast path of the sheaves specialised to one machine needs (the
   * heap's, src/heap/sheaf_fastpath.ts): the sheaves' and the caches' word
   * offsets, CPU cpu's per-CPU unit (physical address) and its flush word.
   * null on a machine without sheaves or with more than one node.
   */
  sheafWords(cpu: number): SheafWords | null {
    if (this.kwCpuSheaves < 0 || !this.singleNode || this.ptr8) return null;
    return {
      kwCpuSheaves: this.kwCpuSheaves, kwSheafCapacity: this.kwSheafCapacity, pwMain: this.pwMain, pwSpare: this.pwSpare,
      swSize: this.swSize, swObjects: this.swObjects, unitPa: this.pcpuBase + cpu * this.pcpuUnit,
      flushWork: this.flushWork,
    };
  }

  /** Where the slub_flush work word is in each CPU's unit (per-CPU offset). */
  setFlushWork(perCpuOffset: number): void {
    this.flushWork = perCpuOffset >> 2;
  }

  /** c->tid = next_tid(c->tid): an unsigned long += TID_STEP. ca[t] is the tid's low word. */
  private nextTid(ca: Int32Array, t: number): void {
    const tid = (ca[t] >>> 0) + this.tidStep;
    ca[t] = tid | 0;
    if (this.ptr8 && tid >= TWO32) ca[t + 1] = (ca[t + 1] + 1) | 0;
  }

  /**
   * The word index, in this CPU's unit array, of its kmem_cache_cpu of the
   * cache whose fields are at ka[ki..]; -1 if the fast paths cannot be
   * used: a flush of this CPU's slabs is pending (slub_flush.work != 0),
   * or the unit or kmem_cache_cpu is not where the fast paths can index it.
   */
  private cpuSlabWord(ua: Int32Array, uw: number, ka: Int32Array, ki: number): number {
    if (uw < 0 || ua[uw + this.flushWork] !== 0) return -1;
    const off = ka[ki + this.kwCpuSlab] >>> 0;
    return off < this.pcpuUnit ? uw + (off >> 2) : -1;
  }

  /**
   * The lockless pop of slab_alloc_node(): c->freelist = get_freepointer(
   * object), c->tid = next_tid(c->tid). The object (kernel virtual
   * address), or 0 when this CPU has no CPU slab of s, its freelist is
   * empty, or a flush is pending.
   */
  pop(s: number): number {
    const spa = s - this.po;
    return this.popFrom(this.i32[(spa * INV_SECTION) | 0], (spa & SECTION_MASK) >> 2);
  }

  /** pop() for the cache whose fields are at ka[ki..]. */
  private popFrom(ka: Int32Array, ki: number): number {
    const cpu = this.sched.cpu;
    const ca = this.unitArr[cpu];
    const ci = this.cpuSlabWord(ca, this.unitWord[cpu], ka, ki);
    if (ci < 0) return 0;
    const f = ci + this.cwFreelist;
    if (this.ptr8) {
      const hi = ca[f + 1];
      if (hi === 0 || ca[ci + this.cwSlab + 1] === 0) return 0;
      const opa = (ca[f] >>> 0) + (hi - this.dmHi) * TWO32;
      const npa = opa + (ka[ki + this.kwOffset] >>> 0);
      const na = this.i32[(npa * INV_SECTION) | 0];
      const ni = (npa & SECTION_MASK) >> 2;
      ca[f] = na[ni];
      ca[f + 1] = na[ni + 1];
      this.nextTid(ca, ci + this.cwTid);
      return opa + this.po;
    }
    const object = ca[f] >>> 0;
    if (object === 0 || ca[ci + this.cwSlab] === 0) return 0;
    const npa = object - this.po + (ka[ki + this.kwOffset] >>> 0);
    ca[f] = this.i32[(npa * INV_SECTION) | 0][(npa & SECTION_MASK) >> 2];
    this.nextTid(ca, ci + this.cwTid);
    return object;
  }

  /**
   * This CPU's main sheaf of the cache at ka[ki..]: the word index of its
   * struct slab_sheaf in this.sheafArr (set here), or -1 when the sheaves
   * cannot be used here: a flush pending, the local lock held (a re-entered
   * slow path), the per-CPU unit not indexable, no main sheaf. (An array
   * and an integer rather than a physical address: V8 does not inline this
   * into every caller, and a small integer return is not boxed.)
   */
  private mainSheaf(ka: Int32Array, ki: number): number {
    const cpu = this.sched.cpu;
    const ua = this.unitArr[cpu];
    const uw = this.unitWord[cpu];
    if (uw < 0 || ua[uw + this.flushWork] !== 0) return -1;
    const off = ka[ki + this.kwCpuSheaves] >>> 0;
    if (off >= this.pcpuUnit) return -1;
    const pw = uw + (off >> 2);
    if ((ua[pw] & 0xff) !== 0) return -1;
    const m = pw + this.pwMain;
    let mpa: number;
    if (this.ptr8) {
      const hi = ua[m + 1];
      if (hi === 0) return -1;
      mpa = (ua[m] >>> 0) + (hi - this.dmHi) * TWO32;
    } else {
      const v = ua[m] >>> 0;
      if (v === 0) return -1;
      mpa = v - this.po;
    }
    this.sheafArr = this.i32[(mpa * INV_SECTION) | 0];
    return (mpa & SECTION_MASK) >> 2;
  }

  /** alloc_from_pcs()'s fast path: main->objects[--size], or 0 when main is empty or the sheaves cannot be used. */
  private pcsPop(ka: Int32Array, ki: number): number {
    const mi = this.mainSheaf(ka, ki);
    if (mi < 0) return 0;
    const ma = this.sheafArr;
    const size = ma[mi + this.swSize] - 1;
    if (size < 0) return 0;
    ma[mi + this.swSize] = size;
    if (this.ptr8) {
      const oi = mi + this.swObjects + size * 2;
      return (ma[oi] >>> 0) + (ma[oi + 1] - this.dmHi) * TWO32 + this.po;
    }
    return ma[mi + this.swObjects + size] >>> 0;
  }

  /** free_to_pcs()'s fast path: main->objects[size++] = x; false when main is full or the sheaves cannot be used. */
  private pcsPush(ka: Int32Array, ki: number, x: number): boolean {
    const mi = this.mainSheaf(ka, ki);
    if (mi < 0) return false;
    const ma = this.sheafArr;
    const size = ma[mi + this.swSize];
    if (size >= ka[ki + this.kwSheafCapacity]) return false;
    if (this.ptr8) {
      const oi = mi + this.swObjects + size * 2;
      const xpa = x - this.po;
      ma[oi] = xpa | 0;
      ma[oi + 1] = (this.dmHi + ((xpa * (1 / TWO32)) | 0)) | 0;
    } else {
      ma[mi + this.swObjects + size] = x | 0;
    }
    ma[mi + this.swSize] = size + 1;
    return true;
  }

  /** Does the cache at ka[ki..] have percpu sheaves (s->cpu_sheaves != NULL: a per-CPU offset, in the low word)? */
  private hasSheaves(ka: Int32Array, ki: number): boolean {
    return this.kwCpuSheaves >= 0 && ka[ki + this.kwCpuSheaves] !== 0;
  }

  /**
   * do_slab_free()'s fast path: the chain head..tail (linked through the
   * free pointers, tail's to be set) onto this CPU's freelist if pfn is
   * this CPU's slab of s. PUSHED, NOT_CPU_SLAB, DOUBLE_FREE (tail is
   * already the freelist's head; nothing done) or MISS.
   */
  push(s: number, pfn: number, head: number, tail: number): number {
    const spa = s - this.po;
    return this.pushTo(this.i32[(spa * INV_SECTION) | 0], (spa & SECTION_MASK) >> 2, pfn, head, tail);
  }

  /** push() for the cache whose fields are at ka[ki..]. */
  private pushTo(ka: Int32Array, ki: number, pfn: number, head: number, tail: number): number {
    const cpu = this.sched.cpu;
    const ca = this.unitArr[cpu];
    const ci = this.cpuSlabWord(ca, this.unitWord[cpu], ka, ki);
    if (ci < 0) return MISS;
    const f = ci + this.cwFreelist;
    const tpa = tail - this.po + (ka[ki + this.kwOffset] >>> 0);
    const ta = this.i32[(tpa * INV_SECTION) | 0];
    const ti = (tpa & SECTION_MASK) >> 2;
    if (this.ptr8) {
      const sl = ci + this.cwSlab;
      if ((ca[sl] >>> 0) + (ca[sl + 1] & 0xffff) * TWO32 !== this.vmemmap + pfn * this.structPage) return NOT_CPU_SLAB;
      const lo = ca[f];
      const hi = ca[f + 1];
      if (hi !== 0 && (lo >>> 0) + (hi - this.dmHi) * TWO32 === tail - this.po) return DOUBLE_FREE;
      ta[ti] = lo;
      ta[ti + 1] = hi;
      const hpa = head - this.po;
      ca[f] = hpa | 0;
      ca[f + 1] = (this.dmHi + ((hpa * (1 / TWO32)) | 0)) | 0;
    } else {
      if (ca[ci + this.cwSlab] >>> 0 !== this.sparse.page_to_virt(pfn)) return NOT_CPU_SLAB;
      const fp = ca[f];
      if (fp >>> 0 === tail) return DOUBLE_FREE;
      ta[ti] = fp;
      ca[f] = head | 0;
    }
    this.nextTid(ca, ci + this.cwTid);
    return PUSHED;
  }

  /**
   * kmem_cache_alloc(s, gfp) and kmalloc's allocation from its cache (a
   * kmalloc passes the size asked for as origSize, kmem_cache_alloc 0):
   * the object, 0 if the slow path failed, -1 for the general path.
   */
  alloc(s: number, gfp: number, origSize: number): number {
    if (s === 0 || (gfp & __GFP_ZERO) !== 0) return -1;
    // might_alloc(): the general path reports sleeping in atomic context
    if ((gfp & __GFP_DIRECT_RECLAIM) !== 0 && this.sched.atomicContext()) return -1;
    const g = this.globals;
    if (g.init_on_alloc || g.init_on_free) return -1;
    const spa = s - this.po;
    const ka = this.i32[(spa * INV_SECTION) | 0];
    const ki = (spa & SECTION_MASK) >> 2;
    if (this.hasSheaves(ka, ki)) {
      const object = this.pcsPop(ka, ki);
      return object !== 0 ? object : this.slow.alloc_pcs_slow(s, gfp, origSize);
    }
    const object = this.popFrom(ka, ki);
    if (object !== 0) return object;
    return this.slow.__slab_alloc(s, gfp, -1, origSize);
  }

  /** kfree(x) of a slab object: true when done, false for the general path. */
  kfree(x: number): boolean {
    return this.free(0, x);
  }

  /** kmem_cache_free(s, x) of an object of s: true when done, false for the general path. */
  cache_free(s: number, x: number): boolean {
    return s !== 0 && this.free(s, x);
  }

  /**
   * The free of x, an object of cache `expect` (0: of whatever cache it is
   * in): virt_to_slab() through the memmap, then onto this CPU's freelist,
   * or __slab_free() for another slab. What the general path reports (not
   * a slab object, another cache than the caller's, a debug cache, a
   * pointer that is not an object's start, a double free) and
   * init_on_free go there.
   */
  private free(expect: number, x: number): boolean {
    const pa = x - this.po;
    // NULL, ZERO_SIZE_PTR and anything outside the direct map: the general path
    if (!(pa >= PAGE_SIZE && pa < this.lowmemBytes)) return false;
    const sparse = this.sparse;
    let pfn = (pa * INV_PAGE) | 0;
    let a = sparse.arr(pfn);
    if (a.length === 0) return false;
    let w = sparse.word(pfn) + this.wSlabCache;
    let head = a[w];
    if ((head & 1) !== 0) {
      // a tail page: compound_head - 1 is the head's struct page (vmemmap)
      if (this.vmemmap === 0) return false;
      pfn = ((head >>> 0) - 1 + (a[w + 1] & 0xffff) * TWO32 - this.vmemmap) / this.structPage;
      a = sparse.arr(pfn);
      w = sparse.word(pfn) + this.wSlabCache;
      head = a[w];
    }
    if (a[w + this.wType - this.wSlabCache] >>> 24 !== PGTY_slab) return false;
    const s = this.ptr8 ? (head >>> 0) + (a[w + 1] & 0xffff) * TWO32 : head >>> 0;
    // cache_from_obj(): another cache than the caller's is the general path's warning
    if (expect !== 0 && s !== expect) return false;
    const spa = s - this.po;
    const ka = this.i32[(spa * INV_SECTION) | 0];
    const ki = (spa & SECTION_MASK) >> 2;
    if ((ka[ki + this.kwFlags] & SLAB_DEBUG_FLAGS) !== 0 || this.globals.init_on_free) return false;
    const size = ka[ki + this.kwSize];
    const off = (pa - pfn * PAGE_SIZE) | 0;
    // off % size, without a division for the power-of-two sizes
    const rem = (size & (size - 1)) === 0 ? off & (size - 1) : off % size;
    if (rem !== 0 || off >= ((a[w + this.wCounters - this.wSlabCache] >>> 16) & 0x7fff) * size) return false;
    if (this.hasSheaves(ka, ki)) {
      if (!this.singleNode || !this.pcsPush(ka, ki, x)) this.slow.free_pcs_slow(s, pfn, x);
      return true;
    }
    const r = this.pushTo(ka, ki, pfn, x, x);
    if (r === PUSHED) return true;
    if (r !== NOT_CPU_SLAB) return false;
    this.slow.__slab_free(s, pfn, x, x, 1);
    return true;
  }
}
