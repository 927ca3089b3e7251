/*
 * Word access to RAM by physical address, for hot paths.
 *
 * PhysMem's accessors check every address and throw outside RAM; that is
 * right for code handed arbitrary addresses. An allocator's fast path reads
 * its own structures, at addresses it computed itself, millions of times a
 * second: RamWords indexes the host sections' Int32Arrays directly.
 *
 *   pa -> section = floor(pa / 128 MiB)      (a multiply by 2^-27, exact)
 *         word    = (pa mod 128 MiB) >> 2    (ToInt32(pa) & (2^27 - 1): exact below 2^53)
 *
 * Every access must be naturally aligned (a 4-byte field at a multiple of 4,
 * a pointer at a multiple of its size), so it never straddles two host
 * sections. Addresses outside backed RAM are the caller's bug: they read
 * undefined instead of throwing. Pointers use the JS form of layout.ts
 * (x86_64: canonical addresses as 48-bit numbers, LIST_POISON values with
 * bit 48 set).
 */
import { HOST_SECTION_SIZE, type PhysMem } from './memory.ts';
import { ptr64FromWords, ptr64HiWord, ptr64LoWord } from '../arch/x86/layout.ts';

const INV_SECTION = 1 / HOST_SECTION_SIZE;
const SECTION_MASK = HOST_SECTION_SIZE - 1;
const TWO32 = 4294967296;

/** atomic_long_add(delta, v) on the long at word i of arr (lw words per long); |delta| < 2^31 (2^32 with lw 2). */
export function atomicLongAdd(arr: Int32Array, i: number, lw: number, delta: number, threaded: boolean): void {
  if (!threaded) {
    if (lw === 1) {
      arr[i] = (arr[i] + delta) | 0;
      return;
    }
    const lo = (arr[i] >>> 0) + delta;
    arr[i] = lo | 0;
    if (lo >= TWO32) arr[i + 1] = (arr[i + 1] + 1) | 0;
    else if (lo < 0) arr[i + 1] = (arr[i + 1] - 1) | 0;
    return;
  }
  const old = Atomics.add(arr, i, delta) >>> 0;
  if (lw === 1) return;
  const lo = old + delta;
  if (lo >= TWO32) Atomics.add(arr, i + 1, 1);
  else if (lo < 0) Atomics.sub(arr, i + 1, 1);
}

export class RamWords {
  readonly i32: readonly Int32Array[];
  readonly u8: readonly Uint8Array[];
  /** sizeof(void *) == 8 */
  readonly ptr8: boolean;

  constructor(mem: PhysMem, ptrSize: 8 | 4) {
    this.i32 = mem.i32;
    this.u8 = mem.u8;
    this.ptr8 = ptrSize === 8;
  }

  /** The byte at pa. */
  r8(pa: number): number {
    return this.u8[(pa * INV_SECTION) | 0][pa & SECTION_MASK];
  }

  /** The 32-bit word at pa, signed. */
  r32(pa: number): number {
    return this.i32[(pa * INV_SECTION) | 0][(pa & SECTION_MASK) >> 2];
  }

  w32(pa: number, v: number): void {
    this.i32[(pa * INV_SECTION) | 0][(pa & SECTION_MASK) >> 2] = v;
  }

  /** atomic_long_add(delta, the long at pa): Atomics when other host threads may add too. */
  addLong(pa: number, delta: number, threaded: boolean): void {
    atomicLongAdd(this.i32[(pa * INV_SECTION) | 0], (pa & SECTION_MASK) >> 2, this.ptr8 ? 2 : 1, delta, threaded);
  }

  /** A pointer (void *). */
  rptr(pa: number): number {
    const a = this.i32[(pa * INV_SECTION) | 0];
    const i = (pa & SECTION_MASK) >> 2;
    return this.ptr8 ? ptr64FromWords(a[i], a[i + 1]) : a[i] >>> 0;
  }

  wptr(pa: number, v: number): void {
    const a = this.i32[(pa * INV_SECTION) | 0];
    const i = (pa & SECTION_MASK) >> 2;
    if (this.ptr8) {
      a[i] = ptr64LoWord(v);
      a[i + 1] = ptr64HiWord(v);
    } else {
      a[i] = v | 0;
    }
  }

  /** An unsigned long (exact below 2^53). */
  rulong(pa: number): number {
    const a = this.i32[(pa * INV_SECTION) | 0];
    const i = (pa & SECTION_MASK) >> 2;
    return this.ptr8 ? (a[i] >>> 0) + (a[i + 1] >>> 0) * TWO32 : a[i] >>> 0;
  }

  /** A long (signed). */
  rlong(pa: number): number {
    const a = this.i32[(pa * INV_SECTION) | 0];
    const i = (pa & SECTION_MASK) >> 2;
    return this.ptr8 ? (a[i] >>> 0) + a[i + 1] * TWO32 : a[i];
  }

  /** Store a long or unsigned long (two's complement below 2^53 in magnitude). */
  wlong(pa: number, v: number): void {
    const a = this.i32[(pa * INV_SECTION) | 0];
    const i = (pa & SECTION_MASK) >> 2;
    if (this.ptr8) {
      const hi = Math.floor(v / TWO32);
      a[i] = (v - hi * TWO32) | 0;
      a[i + 1] = hi | 0;
    } else {
      a[i] = v | 0;
    }
  }
}

/**
 * The same words by direct-map kernel virtual address (va = PAGE_OFFSET +
 * pa), for allocators whose structures are named by their kernel address
 * (struct kmem_cache, kmem_cache_node, array caches): a field is
 * (struct address, offset) or an address.
 */
export class VaWords {
  constructor(private readonly w: RamWords, private readonly pageOffset: number) {}

  /** A 32-bit field of the struct at va. */
  u32(va: number, off: number): number {
    return this.w.r32(va - this.pageOffset + off);
  }

  set32(va: number, off: number, v: number): void {
    this.w.w32(va - this.pageOffset + off, v);
  }

  /** The pointer at va. */
  rp(va: number): number {
    return this.w.rptr(va - this.pageOffset);
  }

  wp(va: number, v: number): void {
    this.w.wptr(va - this.pageOffset, v);
  }

  /** The unsigned long at va. */
  ul(va: number): number {
    return this.w.rulong(va - this.pageOffset);
  }

  setUl(va: number, v: number): void {
    this.w.wlong(va - this.pageOffset, v);
  }

  addUl(va: number, delta: number): void {
    const pa = va - this.pageOffset;
    this.w.wlong(pa, this.w.rulong(pa) + delta);
  }
}
