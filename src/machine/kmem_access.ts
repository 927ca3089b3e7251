/*
 * Word-sized access to simulated memory as the kernel's C types see it.
 *
 * `unsigned long` and pointers are 8 bytes on x86_64 and 4 on i386. This
 * class reads and writes them at physical addresses, so struct accessors
 * elsewhere can be written once for both architectures:
 *
 *   x86_64 pointer at pa:  [ lo 32 bits ][ hi 32 bits = 0xffff____ ]
 *   i386 pointer at pa:    [ 32 bits ]
 *
 * Pointer values are JS numbers in the form layout.ts describes (the low 48
 * bits of a canonical x86_64 address).
 */
import { PhysMem } from './memory.ts';
import { ptr64FromWords, ptr64HiWord, ptr64LoWord, type ArchLayout } from '../arch/x86/layout.ts';

const TWO32 = 4294967296;

export class KmemAccess {
  readonly ptrSize: 8 | 4;
  constructor(readonly mem: PhysMem, readonly layout: ArchLayout) {
    this.ptrSize = layout.ptrSize;
  }

  readPtr(pa: number): number {
    const a = this.mem.i32At(pa);
    const i = PhysMem.wordIndex(pa);
    if (this.ptrSize === 4) return a[i] >>> 0;
    return ptr64FromWords(a[i], a[i + 1]);
  }

  writePtr(pa: number, v: number): void {
    const a = this.mem.i32At(pa);
    const i = PhysMem.wordIndex(pa);
    if (this.ptrSize === 4) {
      a[i] = v | 0;
      return;
    }
    a[i] = ptr64LoWord(v);
    a[i + 1] = ptr64HiWord(v);
  }

  /** unsigned long, as a JS number (exact below 2^53). */
  readUlong(pa: number): number {
    return this.ptrSize === 4 ? this.mem.read32(pa) : this.mem.read64(pa);
  }

  writeUlong(pa: number, v: number): void {
    if (this.ptrSize === 4) this.mem.write32(pa, v);
    else this.mem.write64(pa, v);
  }

  /** long (signed), as a JS number. */
  readLong(pa: number): number {
    if (this.ptrSize === 4) return this.mem.read32(pa) | 0;
    const lo = this.mem.read32(pa);
    const hi = this.mem.read32(pa + 4) | 0;
    return hi * TWO32 + lo;
  }

  writeLong(pa: number, v: number): void {
    if (this.ptrSize === 4) {
      this.mem.write32(pa, v);
      return;
    }
    const lo = ((v % TWO32) + TWO32) % TWO32;
    this.mem.write32(pa, lo);
    this.mem.write32(pa + 4, Math.floor(v / TWO32));
  }
}
