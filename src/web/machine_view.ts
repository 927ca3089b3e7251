/*
 * The page's own view of the machine's memory: it attaches to the RAM's
 * SharedArrayBuffers (the kernel runs in a worker) and reads struct page
 * straight from the memmap, as crash(8) or drgn read a live kernel.
 *
 * classify() decides, for every page frame, who owns it:
 *
 *   PageBuddy head (page_type PGTY_buddy)      free block of order page->private,
 *                                              2^order pages from the head
 *   on a per_cpu_pages list                    pcp (found by walking every CPU's
 *                                              lists of every zone)
 *   PG_reserved                                memblock's: kernel image, memmap,
 *                                              percpu, firmware... by address
 *   PGTY_slab (struct slab over struct page)   slab of cache slab->slab_cache,
 *                                              2^compound_order pages
 *   PGTY_table                                 page table
 *   mapped by a vmalloc area                   vmalloc (vmalloc_view.ts walks
 *                                              the busy areas' page tables)
 *   anything else                              allocated (page allocator); a
 *                                              compound head takes its tails
 *
 * The worker changes memory while this reads it; a page caught half-way
 * through an update is drawn wrong for one frame, never followed off the
 * map (orders and list walks are bounded).
 *
 * No DOM here: the tests run it in Node on a machine booted in-process.
 */
import { PhysMem } from '../machine/memory.ts';
import { KmemAccess } from '../machine/kmem_access.ts';
import { usableRanges } from '../machine/config.ts';
import { I386_MAXMEM, PAGE_SIZE, X86_64, i386Layout, ptr64FromWords, type ArchLayout } from '../arch/x86/layout.ts';
import { Sparse } from '../mm/sparse.ts';
import {
  PAGEFLAG_NAMES, PGTY_buddy, PGTY_slab, PGTY_table, PG_head, PG_reserved, Pages, __NR_PAGEFLAGS, pageLayout,
  type PageLayout,
} from '../mm/page.ts';
import { slabLayout } from '../mm/slab_types.ts';
import { MIGRATETYPE_NAMES } from '../mm/mmzone.ts';
import type { MachineDescriptor } from './protocol.ts';
import { VmallocView } from './vmalloc_view.ts';

/* Owners: one byte per page frame. */
export const O_NONE = 0;
/** Free block of order o: O_FREE + o (orders 0..10). */
export const O_FREE = 1;
export const O_PCP = 12;
export const O_ALLOC = 13;
export const O_SLAB = 14;
export const O_PGTABLE = 15;
export const O_KERNEL = 16;
export const O_MEMMAP = 17;
export const O_PERCPU = 18;
export const O_RESERVED = 19;
export const O_FIRMWARE = 20;
/** Allocated by the page allocator and mapped into the vmalloc area. */
export const O_VMALLOC = 21;
export const N_OWNERS = 22;

export const OWNER_NAMES: readonly string[] = [
  'no RAM', ...Array.from({ length: 11 }, (_, o) => `free, order ${o}`), 'per-CPU list (pcp)', 'allocated (page allocator)',
  'slab', 'page table', 'kernel image', 'memmap (struct page)', 'percpu area', 'reserved (memblock)', 'firmware / BIOS',
  'vmalloc (mapped in the vmalloc area)',
];

const MAX_ORDER = 10;
const TWO32 = 4294967296;

/** The architecture layout of a configuration (init/main.ts archLayout, without importing the kernel). */
export function layoutOf(desc: MachineDescriptor): ArchLayout {
  if (desc.config.arch === 'x86_64') return X86_64;
  const maxPhys = Math.max(...usableRanges(desc.config.e820).map(([, e]) => e));
  return i386Layout(Math.min(Math.floor(maxPhys / PAGE_SIZE) * PAGE_SIZE, I386_MAXMEM));
}

export interface PageInfo {
  pfn: number;
  phys: number;
  /** struct page * (hex). */
  page: string;
  owner: number;
  ownerName: string;
  /** One line on the owner: "free block of order 3 at pfn 0x1238", "slab of kmalloc-64: 12/64 in use". */
  detail: string;
  flags: string[];
  flagsRaw: number;
  refcount: number;
  /** page_type / _mapcount word as signed. */
  pageType: number;
  private: number;
  mapping: number;
  index: number;
  zone: string;
  node: number;
  migratetype: string;
  /** The raw 32-bit words of struct page. */
  raw: number[];
}

export class MachineView {
  readonly desc: MachineDescriptor;
  readonly layout: ArchLayout;
  readonly mem: PhysMem;
  readonly access: KmemAccess;
  readonly sparse: Sparse;
  readonly pages: Pages;
  readonly pl: PageLayout;
  readonly maxPfn: number;
  /** Owner of each page frame (O_*), as of the last classify(). */
  readonly owner: Uint8Array;
  /** For slab pages: index into `caches`. */
  readonly cacheIdx: Uint16Array;
  /** Slab caches seen, by index (struct kmem_cache *). */
  readonly caches: number[] = [];
  private readonly cacheIndex = new Map<number, number>();
  private readonly cacheNames = new Map<number, string>();
  /** Pages per owner, as of the last classify(). */
  readonly counts = new Float64Array(N_OWNERS);
  /** What PG_reserved pages are, by address. */
  private readonly reservedKind: Uint8Array;
  private readonly pcpStamp: Uint32Array;
  private stamp = 0;
  private readonly wType: number;
  private readonly wPrivate: number;
  private readonly wLru: number;
  private readonly ptr8: boolean;
  private readonly po: number;
  readonly vmalloc: VmallocView;
  /** For vmalloc pages: the virtual address the page is mapped at. */
  private readonly vmallocVa: Float64Array;

  constructor(desc: MachineDescriptor) {
    this.desc = desc;
    this.layout = layoutOf(desc);
    this.mem = PhysMem.attach(desc.shared);
    this.access = new KmemAccess(this.mem, this.layout);
    this.pl = pageLayout(this.layout);
    this.sparse = new Sparse(this.access, this.layout, this.pl, desc.memSectionPa, desc.vmemmapPmdPa, desc.maxPfn, desc.pageblockOrder);
    this.sparse.attach();
    this.pages = new Pages(this.sparse, this.pl);
    this.maxPfn = desc.maxPfn;
    this.owner = new Uint8Array(this.maxPfn);
    this.cacheIdx = new Uint16Array(this.maxPfn);
    this.pcpStamp = new Uint32Array(this.maxPfn);
    this.vmallocVa = new Float64Array(this.maxPfn);
    this.vmalloc = new VmallocView(this.mem, this.access, this.layout, desc.vmalloc, desc.paging);
    this.wType = this.pl.page_type >> 2;
    this.wPrivate = this.pl.private >> 2;
    this.wLru = this.pl.lru >> 2;
    this.ptr8 = this.layout.ptrSize === 8;
    this.po = this.layout.PAGE_OFFSET;
    if (slabLayout(this.layout.ptrSize).slab_cache !== this.pl.lru) throw new Error('struct slab: slab_cache is not at lru');

    // Reserved pages: firmware unless inside usable RAM; named regions over that.
    this.reservedKind = new Uint8Array(this.maxPfn).fill(O_FIRMWARE);
    for (const [s, e] of usableRanges(desc.config.e820)) {
      const a = Math.max(Math.ceil(s / PAGE_SIZE), 256); // the first 1 MiB is the BIOS's
      this.reservedKind.fill(O_RESERVED, Math.min(a, this.maxPfn), Math.min(Math.floor(e / PAGE_SIZE), this.maxPfn));
    }
    const kinds: Record<string, number> = { kernel: O_KERNEL, memmap: O_MEMMAP, percpu: O_PERCPU };
    for (const r of desc.reserved) {
      const kind = kinds[r.name.split(' ')[0]] ?? O_RESERVED;
      this.reservedKind.fill(kind, Math.max(0, r.start), Math.min(r.end, this.maxPfn));
    }
  }

  /** The name of a cache, read from its struct kmem_cache (cached by address). */
  cacheName(s: number): string {
    let name = this.cacheNames.get(s);
    if (name === undefined) {
      try {
        const namePtr = this.access.readPtr(s - this.po + this.desc.kmemCache.name);
        name = this.readString(namePtr, 64);
      } catch {
        name = '?';
      }
      this.cacheNames.set(s, name);
    }
    return name;
  }

  /** The caches on slab_caches, read from memory (newest first). */
  slabCaches(): number[] {
    const out: number[] = [];
    const head = this.desc.slabCachesPa;
    const headVa = head + this.po;
    let pos = this.access.readPtr(head);
    for (let n = 0; pos !== headVa && n < 10000; n++) {
      out.push(pos - this.desc.kmemCache.list);
      pos = this.access.readPtr(pos - this.po);
    }
    return out;
  }

  private readString(va: number, max: number): string {
    const pa = va - this.po;
    const bytes: number[] = [];
    for (let i = 0; i < max; i++) {
      const b = this.mem.read8(pa + i);
      if (b === 0) break;
      bytes.push(b);
    }
    return new TextDecoder().decode(new Uint8Array(bytes));
  }

  private cacheIndexOf(s: number): number {
    let i = this.cacheIndex.get(s);
    if (i === undefined) {
      i = this.caches.length;
      this.caches.push(s);
      this.cacheIndex.set(s, i);
    }
    return i;
  }

  private readPtrWords(a: Int32Array, i: number): number {
    return this.ptr8 ? ptr64FromWords(a[i], a[i + 1]) : a[i] >>> 0;
  }

  /** Mark the pages on every CPU's pcp lists with the current stamp. */
  private markPcp(): void {
    const stamp = this.stamp;
    const lruOff = this.pl.lru;
    for (const list of this.desc.pcpLists) {
      const headVa = list.pa + this.po;
      let pos = this.access.readPtr(list.pa);
      const n = 1 << list.order;
      for (let guard = 0; pos !== headVa && guard < 1 << 20; guard++) {
        const pfn = this.pages.pfnOfLru(pos);
        if (pfn < 0 || pfn >= this.maxPfn) break;
        for (let i = 0; i < n && pfn + i < this.maxPfn; i++) this.pcpStamp[pfn + i] = stamp;
        pos = this.access.readPtr(this.sparse.pagePhys(pfn) + lruOff);
      }
    }
  }

  /** Classify every page frame from the memmap as it is now. Returns the time taken (ms). */
  classify(): number {
    const t0 = performance.now();
    this.stamp = (this.stamp + 1) >>> 0 || 1;
    this.markPcp();
    const owner = this.owner;
    const cacheIdx = this.cacheIdx;
    const counts = this.counts;
    counts.fill(0);
    const pcp = this.pcpStamp;
    const stamp = this.stamp;
    const reserved = this.reservedKind;
    const sp = this.sparse;
    const pps = sp.PAGES_PER_SECTION;
    const { wType, wPrivate, wLru } = this;
    const max = this.maxPfn;
    let pfn = 0;
    while (pfn < max) {
      if (!sp.pfn_valid(pfn)) {
        const end = Math.min(max, (Math.floor(pfn / pps) + 1) * pps);
        owner.fill(O_NONE, pfn, end);
        counts[O_NONE] += end - pfn;
        pfn = end;
        continue;
      }
      const a = sp.arr(pfn);
      const w = sp.word(pfn);
      const type = a[w + wType] >>> 24;
      let o: number;
      let n = 1;
      if (type === PGTY_buddy) {
        const order = a[w + wPrivate];
        o = O_FREE + (order >= 0 && order <= MAX_ORDER ? order : 0);
        n = 1 << (order >= 0 && order <= MAX_ORDER ? order : 0);
      } else if (pcp[pfn] === stamp) {
        o = O_PCP;
      } else if (a[w] & (1 << PG_reserved)) {
        o = reserved[pfn];
      } else if (type === PGTY_slab) {
        o = O_SLAB;
        const ci = this.cacheIndexOf(this.readPtrWords(a, w + wLru));
        if (a[w] & (1 << PG_head) && pfn + 1 < max) {
          const order = this.pages.flags(pfn + 1) & 0xff;
          n = 1 << (order <= MAX_ORDER ? order : 0);
        }
        cacheIdx.fill(ci, pfn, Math.min(pfn + n, max));
      } else if (type === PGTY_table) {
        o = O_PGTABLE;
      } else {
        o = O_ALLOC;
        if (a[w] & (1 << PG_head) && pfn + 1 < max) {
          const order = this.pages.flags(pfn + 1) & 0xff;
          n = 1 << (order <= MAX_ORDER ? order : 0);
        }
      }
      const end = Math.min(pfn + n, max);
      if (n === 1) owner[pfn] = o;
      else owner.fill(o, pfn, end);
      counts[o] += end - pfn;
      pfn = end;
    }
    this.vmalloc.forEachPage(this.markVmalloc);
    return performance.now() - t0;
  }

  /** A page an area maps: vmalloc's own, when the page allocator's view is "allocated". */
  private readonly markVmalloc = (pfn: number, va: number): void => {
    if (pfn >= this.maxPfn || this.owner[pfn] !== O_ALLOC) return;
    this.owner[pfn] = O_VMALLOC;
    this.counts[O_ALLOC]--;
    this.counts[O_VMALLOC]++;
    this.vmallocVa[pfn] = va;
  };

  /** The struct page of pfn, decoded, for the hover panel. Reads memory now. */
  pageInfo(pfn: number): PageInfo | null {
    if (pfn < 0 || pfn >= this.maxPfn) return null;
    const owner = this.owner[pfn];
    const base = { pfn, phys: pfn * PAGE_SIZE, owner, ownerName: OWNER_NAMES[owner] };
    if (!this.sparse.pfn_valid(pfn)) {
      return {
        ...base, page: '-', detail: 'no memory section here (a hole in the physical address space)', flags: [], flagsRaw: 0,
        refcount: 0, pageType: 0, private: 0, mapping: 0, index: 0, zone: '-', node: 0, migratetype: '-', raw: [],
      };
    }
    const p = this.pages;
    const raw = Array.from(p.rawWords(pfn));
    const flagsRaw = p.flags(pfn);
    const flags: string[] = [];
    for (let b = 0; b < __NR_PAGEFLAGS; b++) if (flagsRaw & (1 << b)) flags.push(PAGEFLAG_NAMES[b]);
    const zoneIdx = p.page_zonenum(pfn);
    const nid = p.page_to_nid(pfn);
    const zone = this.desc.zones.find((z) => z.nid === nid && z.idx === zoneIdx)?.name ?? `zone ${zoneIdx}`;
    const mapping = this.ptr8 ? (raw[this.pl.mapping >> 2] >>> 0) + (raw[(this.pl.mapping >> 2) + 1] & 0xffff) * TWO32
      : raw[this.pl.mapping >> 2] >>> 0;
    const mt = this.sparse.get_pageblock_migratetype(pfn);
    return {
      ...base,
      page: hex(this.sparse.page_to_virt(pfn), this.layout),
      detail: this.detail(pfn, owner),
      flags,
      flagsRaw,
      refcount: p.page_ref_count(pfn),
      pageType: p.page_type(pfn),
      private: p.private_(pfn),
      mapping,
      index: p.indexLo(pfn) >>> 0,
      zone,
      node: nid,
      migratetype: MIGRATETYPE_NAMES[mt] ?? String(mt),
      raw,
    };
  }

  /** The head of the block pfn belongs to, for free blocks and compound pages; pfn itself otherwise. */
  blockHead(pfn: number): { head: number; order: number } {
    const owner = this.owner[pfn];
    if (owner >= O_FREE && owner <= O_FREE + MAX_ORDER) {
      const order = owner - O_FREE;
      const head = pfn - (pfn % (1 << order));
      return { head, order };
    }
    if (this.pages.PageTail(pfn)) {
      for (let order = 1; order <= MAX_ORDER; order++) {
        const head = pfn - (pfn % (1 << order));
        if (this.pages.testFlag(head, PG_head)) return { head, order: this.pages.compound_order(head) };
      }
    }
    if (this.pages.testFlag(pfn, PG_head)) return { head: pfn, order: this.pages.compound_order(pfn) };
    return { head: pfn, order: 0 };
  }

  private detail(pfn: number, owner: number): string {
    const hx = (v: number) => '0x' + v.toString(16);
    if (owner >= O_FREE && owner <= O_FREE + MAX_ORDER) {
      const { head, order } = this.blockHead(pfn);
      return `free block of order ${order} (${1 << order} pages) at pfn ${hx(head)}, on the buddy free list`;
    }
    if (owner === O_SLAB) {
      const { head, order } = this.blockHead(pfn);
      const s = this.readPtrWords(this.sparse.arr(head), this.sparse.word(head) + this.wLru);
      const counters = this.sparse.arr(head)[this.sparse.word(head) + (slabLayout(this.layout.ptrSize).counters >> 2)] >>> 0;
      const inuse = counters & 0xffff;
      const objects = (counters >>> 16) & 0x7fff;
      const frozen = counters >>> 31 ? ', frozen (a CPU slab)' : '';
      return `slab of ${this.cacheName(s)} (order ${order}, head pfn ${hx(head)}): ${inuse}/${objects} objects in use${frozen}`;
    }
    if (owner === O_VMALLOC) return `vmalloc: mapped at ${hex(this.vmallocVa[pfn], this.layout)} (refcount ${this.pages.page_ref_count(pfn)})`;
    if (owner === O_PCP) return 'free, cached on a CPU\'s per_cpu_pages list (not counted in NR_FREE_PAGES)';
    if (owner === O_ALLOC) {
      const { head, order } = this.blockHead(pfn);
      return order > 0 ? `allocated: compound page of order ${order}, head pfn ${hx(head)}`
        : `allocated (refcount ${this.pages.page_ref_count(pfn)})`;
    }
    for (const r of this.desc.reserved) if (pfn >= r.start && pfn < r.end) return `reserved: ${r.name}`;
    return OWNER_NAMES[owner];
  }

  /** The 4 KiB of page frame pfn. */
  readPage(pfn: number): Uint8Array {
    return this.mem.readBytes(pfn * PAGE_SIZE, PAGE_SIZE);
  }

  /** Whether pfn's page frame is backed RAM (has bytes to show). */
  isBacked(pfn: number): boolean {
    return this.mem.isBacked(pfn * PAGE_SIZE, PAGE_SIZE);
  }
}

/** An address as %px prints it. */
export function hex(v: number, layout: ArchLayout): string {
  if (layout.bits === 32) return (v >>> 0).toString(16).padStart(8, '0');
  if (v >= 0x800000000000) return 'ffff' + v.toString(16).padStart(12, '0');
  return v.toString(16).padStart(16, '0');
}
