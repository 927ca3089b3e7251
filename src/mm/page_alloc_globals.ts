/*
 * The page allocator's global variables, kept in the kernel's .data as their
 * C counterparts are (mm/page_alloc.c, mm/mm_init.c):
 *
 *   +0  int min_free_kbytes              +4  int user_min_free_kbytes
 *   +8  int watermark_scale_factor       +12 int page_group_by_mobility_disabled
 *   +16 int ready (memblock_free_all() done, the buddy allocator is open)
 *   +20 int kswapd_pending (some node's kswapd is woken and has not run yet)
 *   +24 unsigned long totalreserve_pages (u64)
 *   +32 int sysctl_lowmem_reserve_ratio[MAX_NR_ZONES]
 *   then int init_on_alloc, int init_on_free (mm_init.c's static keys, set by
 *        the init_on_alloc= / init_on_free= boot options)
 */
import { PhysMem } from '../machine/memory.ts';

const G_MIN_FREE_KBYTES = 0;
const G_USER_MIN_FREE_KBYTES = 1;
const G_WATERMARK_SCALE_FACTOR = 2;
export const G_MOBILITY_DISABLED = 3;
export const G_READY = 4;
export const G_KSWAPD_PENDING = 5;
const G_TOTALRESERVE = 6;
const G_LOWMEM_RESERVE_RATIO = 8;

export class PageAllocGlobals {
  /** The words, for the allocator's fast path (pcp_fast.ts), which reads them directly. */
  a: Int32Array;
  readonly w: number;

  constructor(mem: PhysMem, private readonly pa: number, private readonly nrZones: number) {
    this.a = mem.i32At(pa);
    this.w = PhysMem.wordIndex(pa);
  }

  /** The RAM was adopted from another thread: fetch the typed array again. */
  rebind(mem: PhysMem): void {
    this.a = mem.i32At(this.pa);
  }

  static bytes(maxNrZones: number): number {
    return 32 + 4 * maxNrZones + 8;
  }

  /** The boot-time defaults. */
  init(lowmemReserveRatio: readonly number[]): void {
    this.a.fill(0, this.w, this.w + PageAllocGlobals.bytes(this.nrZones) / 4);
    this.user_min_free_kbytes = -1;
    this.watermark_scale_factor = 10;
    this.lowmem_reserve_ratio = lowmemReserveRatio;
  }

  get min_free_kbytes(): number { return this.a[this.w + G_MIN_FREE_KBYTES]; }
  set min_free_kbytes(v: number) { this.a[this.w + G_MIN_FREE_KBYTES] = v; }
  get user_min_free_kbytes(): number { return this.a[this.w + G_USER_MIN_FREE_KBYTES]; }
  set user_min_free_kbytes(v: number) { this.a[this.w + G_USER_MIN_FREE_KBYTES] = v; }
  get watermark_scale_factor(): number { return this.a[this.w + G_WATERMARK_SCALE_FACTOR]; }
  set watermark_scale_factor(v: number) { this.a[this.w + G_WATERMARK_SCALE_FACTOR] = v; }
  /** Set when memory is too small to group pages by mobility (build_all_zonelists). */
  get page_group_by_mobility_disabled(): boolean { return this.a[this.w + G_MOBILITY_DISABLED] !== 0; }
  set page_group_by_mobility_disabled(v: boolean) { this.a[this.w + G_MOBILITY_DISABLED] = v ? 1 : 0; }
  /** memblock_free_all() has run: the buddy allocator is open. */
  get ready(): boolean { return this.a[this.w + G_READY] !== 0; }
  set ready(v: boolean) { this.a[this.w + G_READY] = v ? 1 : 0; }

  /** Physical address of kswapd_pending, for vmscan.ts. */
  kswapdPendingPa(globalsPa: number): number {
    return globalsPa + 4 * G_KSWAPD_PENDING;
  }

  get totalreserve_pages(): number {
    return (this.a[this.w + G_TOTALRESERVE] >>> 0) + this.a[this.w + G_TOTALRESERVE + 1] * 4294967296;
  }

  set totalreserve_pages(v: number) {
    const hi = Math.floor(v / 4294967296);
    this.a[this.w + G_TOTALRESERVE] = (v - hi * 4294967296) | 0;
    this.a[this.w + G_TOTALRESERVE + 1] = hi;
  }

  /** Word index of init_on_alloc (init_on_free follows). */
  get initOnAllocWord(): number { return this.w + G_LOWMEM_RESERVE_RATIO + this.nrZones; }

  /** want_init_on_alloc() without __GFP_ZERO: init_on_alloc=1. */
  get init_on_alloc(): boolean { return this.a[this.w + G_LOWMEM_RESERVE_RATIO + this.nrZones] !== 0; }
  set init_on_alloc(v: boolean) { this.a[this.w + G_LOWMEM_RESERVE_RATIO + this.nrZones] = v ? 1 : 0; }
  /** want_init_on_free(): init_on_free=1. */
  get init_on_free(): boolean { return this.a[this.w + G_LOWMEM_RESERVE_RATIO + this.nrZones + 1] !== 0; }
  set init_on_free(v: boolean) { this.a[this.w + G_LOWMEM_RESERVE_RATIO + this.nrZones + 1] = v ? 1 : 0; }

  get lowmem_reserve_ratio(): number[] {
    return Array.from(this.a.subarray(this.w + G_LOWMEM_RESERVE_RATIO, this.w + G_LOWMEM_RESERVE_RATIO + this.nrZones));
  }

  set lowmem_reserve_ratio(v: readonly number[]) {
    for (let i = 0; i < this.nrZones; i++) this.a[this.w + G_LOWMEM_RESERVE_RATIO + i] = v[i] ?? 0;
  }
}
