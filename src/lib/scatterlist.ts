/*
 * Scatter/gather lists (lib/scatterlist.c, include/linux/scatterlist.h).
 *
 * Large I/O does not need a physically contiguous buffer: a device (or its
 * driver) that can do scatter/gather takes a list of (page, offset, length)
 * segments. LDD3 chapter 8: "If you need large buffers for I/O, consider
 * scatter/gather rather than huge contiguous allocations."
 *
 *   struct scatterlist (x86_64: 32 bytes; i386: 20, PAE 24)
 *     +0  unsigned long page_link   struct page *, low bits: SG_CHAIN 0x01, SG_END 0x02
 *     +P  unsigned int  offset      P = sizeof(long)
 *     +P+4 unsigned int length
 *     +P+8 dma_addr_t   dma_address (aligned to 8 on x86_64)
 *     +..  unsigned int dma_length  (CONFIG_NEED_SG_DMA_LENGTH)
 *
 *   struct sg_table { struct scatterlist *sgl; unsigned int nents; unsigned int orig_nents; }
 *
 * An array of entries ends with an entry marked SG_END; a longer list is
 * made of arrays of SG_MAX_SINGLE_ALLOC entries (one page: 128 on x86_64)
 * whose last entry is a chain entry (SG_CHAIN, page_link = the next array),
 * so sg_next() is "the next entry, or the array the chain entry points
 * to". sg_alloc_table() allocates the arrays with kmalloc_array, or a whole
 * page (__get_free_page) when an array is exactly SG_MAX_SINGLE_ALLOC long.
 * sg_copy_from_buffer()/sg_copy_to_buffer() walk the segments page by page
 * through kmap_local_page (the sg_miter with SG_MITER_ATOMIC), so segments
 * in highmem work.
 *
 * SMP: no shared state. A table (struct sg_table and its chained chunks)
 * belongs to its caller, who serialises its users as a driver does; the
 * chunks come from kmalloc/__get_free_page, which do their own locking.
 */
import { PAGE_SIZE } from '../arch/x86/layout.ts';
import type { Kernel } from '../kernel/kernel.ts';

export const SG_CHAIN = 0x01;
export const SG_END = 0x02;
export const SG_PAGE_LINK_MASK = SG_CHAIN | SG_END;
const EINVAL = 22;
const ENOMEM = 12;
const UINT_MAX = 0xffffffff;

export interface SgLayout {
  size: number;
  offset: number;
  length: number;
  dma_address: number;
  dmaAddrBytes: 4 | 8;
  dma_length: number;
}

export class Scatterlist {
  readonly L: SgLayout;
  readonly SG_MAX_SINGLE_ALLOC: number;

  constructor(private readonly k: Kernel) {
    const p = k.layout.ptrSize;
    const pae = k.paging.pt.lv.pae;
    if (p === 8) this.L = { size: 32, offset: 8, length: 12, dma_address: 16, dmaAddrBytes: 8, dma_length: 24 };
    else if (pae) this.L = { size: 24, offset: 4, length: 8, dma_address: 12, dmaAddrBytes: 8, dma_length: 20 };
    else this.L = { size: 20, offset: 4, length: 8, dma_address: 12, dmaAddrBytes: 4, dma_length: 16 };
    this.SG_MAX_SINGLE_ALLOC = Math.floor(PAGE_SIZE / this.L.size);
  }

  /** &sgl[i] */
  at(sgl: number, i: number): number {
    return sgl + i * this.L.size;
  }

  private link(sg: number): number {
    return this.k.kaddr.readPtr(sg);
  }

  private setLink(sg: number, v: number): void {
    this.k.kaddr.writePtr(sg, v);
  }

  sg_is_chain(sg: number): boolean {
    return (this.link(sg) & SG_CHAIN) !== 0;
  }

  sg_is_last(sg: number): boolean {
    return (this.link(sg) & SG_END) !== 0;
  }

  sg_chain_ptr(sg: number): number {
    const v = this.link(sg);
    return v - (v & SG_PAGE_LINK_MASK);
  }

  /** sg_page(sg): the struct page * */
  sg_page(sg: number): number {
    const v = this.link(sg);
    return v - (v & SG_PAGE_LINK_MASK);
  }

  offset(sg: number): number {
    return this.k.kaddr.read32(sg + this.L.offset);
  }

  length(sg: number): number {
    return this.k.kaddr.read32(sg + this.L.length);
  }

  sg_dma_address(sg: number): number {
    return this.L.dmaAddrBytes === 8 ? this.k.kaddr.read64(sg + this.L.dma_address) : this.k.kaddr.read32(sg + this.L.dma_address);
  }

  sg_dma_len(sg: number): number {
    return this.k.kaddr.read32(sg + this.L.dma_length);
  }

  set_dma(sg: number, addr: number, len: number): void {
    if (this.L.dmaAddrBytes === 8) this.k.kaddr.write64(sg + this.L.dma_address, addr);
    else this.k.kaddr.write32(sg + this.L.dma_address, addr);
    this.k.kaddr.write32(sg + this.L.dma_length, len);
  }

  sg_mark_end(sg: number): void {
    const v = this.link(sg);
    this.setLink(sg, v - (v & SG_CHAIN) + (v & SG_END ? 0 : SG_END));
  }

  sg_unmark_end(sg: number): void {
    const v = this.link(sg);
    if (v & SG_END) this.setLink(sg, v - SG_END);
  }

  /** sg_init_table(sgl, nents): zero the array and mark its last entry the end. */
  sg_init_table(sgl: number, nents: number): void {
    this.k.kaddr.fill(sgl, nents * this.L.size, 0);
    this.sg_mark_end(this.at(sgl, nents - 1));
  }

  /** sg_set_page(sg, page, len, offset); keeps the entry's SG_END/SG_CHAIN bits. */
  sg_set_page(sg: number, page: number, len: number, offset: number): void {
    const v = this.link(sg);
    this.setLink(sg, page + (v & SG_PAGE_LINK_MASK));
    this.k.kaddr.write32(sg + this.L.offset, offset);
    this.k.kaddr.write32(sg + this.L.length, len);
  }

  /** sg_set_buf(sg, buf, buflen): buf must be a direct-map (lowmem) address, as virt_to_page requires. */
  sg_set_buf(sg: number, buf: number, buflen: number): void {
    this.sg_set_page(sg, this.k.virt_to_page(buf), buflen, buf % PAGE_SIZE);
  }

  /** sg_init_one(sg, buf, buflen) */
  sg_init_one(sg: number, buf: number, buflen: number): void {
    this.sg_init_table(sg, 1);
    this.sg_set_buf(sg, buf, buflen);
  }

  /** sg_chain(prv, prv_nents, sgl): turn prv's last entry into a link to sgl. */
  sg_chain(prv: number, prvNents: number, sgl: number): void {
    const c = this.at(prv, prvNents - 1);
    this.k.kaddr.write32(c + this.L.offset, 0);
    this.k.kaddr.write32(c + this.L.length, 0);
    this.setLink(c, sgl + SG_CHAIN);
  }

  /** sg_next(sg): the next entry, through a chain link; 0 after the last. */
  sg_next(sg: number): number {
    if (this.sg_is_last(sg)) return 0;
    let n = sg + this.L.size;
    if (this.sg_is_chain(n)) n = this.sg_chain_ptr(n);
    return n;
  }

  /** for_each_sg(sglist, sg, nr, i) */
  *for_each_sg(sgl: number, nents: number): Generator<[number, number]> {
    let sg = sgl;
    for (let i = 0; i < nents && sg !== 0; i++, sg = i < nents ? this.sg_next(sg) : 0) yield [sg, i];
  }

  /** sg_nents(sg): entries up to the end mark. */
  sg_nents(sg: number): number {
    let n = 0;
    for (let s = sg; s !== 0; s = this.sg_next(s)) n++;
    return n;
  }

  /** sg_nents_for_len(sg, len): entries needed for len bytes, or -EINVAL. */
  sg_nents_for_len(sg: number, len: number): number {
    if (!len) return 0;
    let n = 0;
    let total = 0;
    for (let s = sg; s !== 0; s = this.sg_next(s)) {
      n++;
      total += this.length(s);
      if (total >= len) return n;
    }
    return -EINVAL;
  }

  sgt_sgl(sgt: number): number {
    return this.k.kaddr.readPtr(sgt);
  }

  sgt_nents(sgt: number): number {
    return this.k.kaddr.read32(sgt + this.k.layout.ptrSize);
  }

  sgt_orig_nents(sgt: number): number {
    return this.k.kaddr.read32(sgt + this.k.layout.ptrSize + 4);
  }

  set_sgt_nents(sgt: number, n: number): void {
    this.k.kaddr.write32(sgt + this.k.layout.ptrSize, n);
  }

  /** sizeof(struct sg_table) */
  get sgTableSize(): number {
    return this.k.layout.ptrSize + 8;
  }

  private sg_kmalloc(nents: number, gfp: number): number {
    if (nents === this.SG_MAX_SINGLE_ALLOC) return this.k.__get_free_page(gfp);
    return this.k.kmalloc_array(nents, this.L.size, gfp);
  }

  private sg_kfree(sg: number, nents: number): void {
    if (nents === this.SG_MAX_SINGLE_ALLOC) this.k.free_page(sg);
    else this.k.kfree(sg);
  }

  /** sg_alloc_table(table, nents, gfp): 0, -EINVAL (nents 0) or -ENOMEM (what was allocated is freed). */
  sg_alloc_table(sgt: number, nents: number, gfp: number): number {
    const kk = this.k.kaddr;
    kk.fill(sgt, this.sgTableSize, 0);
    if (nents === 0) return -EINVAL;
    const max = this.SG_MAX_SINGLE_ALLOC;
    let left = nents;
    let prv = 0;
    do {
      let sgSize = left;
      let allocSize = left;
      if (allocSize > max) {
        allocSize = max;
        sgSize = allocSize - 1;
      }
      left -= sgSize;
      const sg = this.sg_kmalloc(allocSize, gfp);
      if (sg === 0) {
        // __sg_alloc_table() fails with the partial table; sg_alloc_table() frees it.
        // "the last entry of the previous table won't be used for linkage": count it, so sg_free_table frees it whole.
        if (prv) {
          const n = this.sgt_orig_nents(sgt) + 1;
          kk.write32(sgt + this.k.layout.ptrSize, n);
          kk.write32(sgt + this.k.layout.ptrSize + 4, n);
        }
        this.sg_free_table(sgt);
        return -ENOMEM;
      }
      this.sg_init_table(sg, allocSize);
      const n = this.sgt_orig_nents(sgt) + sgSize;
      kk.write32(sgt + this.k.layout.ptrSize, n);
      kk.write32(sgt + this.k.layout.ptrSize + 4, n);
      if (prv) this.sg_chain(prv, max, sg);
      else kk.writePtr(sgt, sg);
      if (!left) this.sg_mark_end(this.at(sg, sgSize - 1));
      prv = sg;
    } while (left);
    return 0;
  }

  /** sg_free_table(table): free every array of the chain. */
  sg_free_table(sgt: number): void {
    const max = this.SG_MAX_SINGLE_ALLOC;
    let sgl = this.sgt_sgl(sgt);
    let orig = this.sgt_orig_nents(sgt);
    while (orig && sgl) {
      let allocSize = orig;
      let sgSize: number;
      let next = 0;
      if (allocSize > max) {
        next = this.sg_chain_ptr(this.at(sgl, max - 1));
        allocSize = max;
        sgSize = allocSize - 1;
      } else {
        sgSize = allocSize;
      }
      orig -= sgSize;
      this.sg_kfree(sgl, allocSize);
      sgl = next;
    }
    this.k.kaddr.fill(sgt, this.sgTableSize, 0);
  }

  /**
   * sg_alloc_table_from_pages(sgt, pages, n_pages, offset, size, gfp): one
   * segment per run of physically contiguous pages (max_segment UINT_MAX,
   * rounded down to a page), the first starting at offset.
   */
  sg_alloc_table_from_pages(sgt: number, pages: readonly number[], nPages: number, offset: number, size: number, gfp: number): number {
    const pfns = pages.slice(0, nPages).map((p) => this.k.page_to_pfn(p));
    const maxSegment = Math.floor(UINT_MAX / PAGE_SIZE) * PAGE_SIZE;
    const chunks: [number, number][] = []; // [first page index, pages]
    for (let i = 0; i < nPages;) {
      let j = i + 1;
      let segLen = PAGE_SIZE;
      while (j < nPages && pfns[j] === pfns[j - 1] + 1 && segLen + PAGE_SIZE <= maxSegment) {
        j++;
        segLen += PAGE_SIZE;
      }
      chunks.push([i, j - i]);
      i = j;
    }
    const rc = this.sg_alloc_table(sgt, chunks.length, gfp);
    if (rc) return rc;
    let off = offset;
    let left = size;
    let sg = this.sgt_sgl(sgt);
    for (const [first, n] of chunks) {
      const len = Math.min(left, n * PAGE_SIZE - off);
      this.sg_set_page(sg, pages[first], len, off);
      left -= len;
      off = 0;
      sg = this.sg_next(sg);
    }
    return 0;
  }

  /** Total bytes of the segments (for tests and the demo). */
  totalLength(sgl: number, nents: number): number {
    let n = 0;
    for (const [sg] of this.for_each_sg(sgl, nents)) n += this.length(sg);
    return n;
  }

  /** sg_copy_buffer(): copy between buf (a kernel virtual address) and the segments, page by page. */
  private sg_copy_buffer(sgl: number, nents: number, buf: number, buflen: number, toBuffer: boolean, skip = 0): number {
    let done = 0;
    let toSkip = skip;
    for (const [sg] of this.for_each_sg(sgl, nents)) {
      if (done >= buflen) break;
      const len = this.length(sg);
      if (toSkip >= len) {
        toSkip -= len;
        continue;
      }
      const pfn0 = this.k.page_to_pfn(this.sg_page(sg));
      let pos = this.offset(sg) + toSkip;
      let rest = len - toSkip;
      toSkip = 0;
      while (rest > 0 && done < buflen) {
        const pfn = pfn0 + Math.floor(pos / PAGE_SIZE);
        const inPage = pos % PAGE_SIZE;
        const n = Math.min(PAGE_SIZE - inPage, rest, buflen - done);
        const va = this.k.highmem.kmap_local_page(this.k.pfn_to_page(pfn));
        if (toBuffer) this.k.kaddr.writeBytes(buf + done, this.k.kaddr.readBytes(va + inPage, n));
        else this.k.kaddr.writeBytes(va + inPage, this.k.kaddr.readBytes(buf + done, n));
        this.k.highmem.kunmap_local(va);
        done += n;
        pos += n;
        rest -= n;
      }
    }
    return done;
  }

  /** sg_copy_from_buffer(sgl, nents, buf, buflen): buf -> segments; bytes copied. */
  sg_copy_from_buffer(sgl: number, nents: number, buf: number, buflen: number): number {
    return this.sg_copy_buffer(sgl, nents, buf, buflen, false);
  }

  /** sg_copy_to_buffer(sgl, nents, buf, buflen): segments -> buf; bytes copied. */
  sg_copy_to_buffer(sgl: number, nents: number, buf: number, buflen: number): number {
    return this.sg_copy_buffer(sgl, nents, buf, buflen, true);
  }

  sg_pcopy_from_buffer(sgl: number, nents: number, buf: number, buflen: number, skip: number): number {
    return this.sg_copy_buffer(sgl, nents, buf, buflen, false, skip);
  }

  sg_pcopy_to_buffer(sgl: number, nents: number, buf: number, buflen: number, skip: number): number {
    return this.sg_copy_buffer(sgl, nents, buf, buflen, true, skip);
  }
}
