/*
 * Physical memory: the machine's RAM as real bytes in SharedArrayBuffers.
 *
 * The physical address space is cut into host sections of 128 MiB, each its
 * own SharedArrayBuffer, created only where the firmware map puts RAM:
 *
 *   physical address   0        128M       256M  ...  3G         4G        5G
 *                      +----------+----------+--    --+-- hole --+---------+
 *   host section       |    0     |    1     |  ...   | (absent) |   32    |
 *                      +----------+----------+--    --+----------+---------+
 *
 * The last section is cut where the address space ends. A buffer's pages
 * cost host memory only once touched, so a 16 GiB machine
 * whose kernel has touched 50 MiB costs about 50 MiB. Several threads can
 * share the same buffers (SMP); `buffers` is what a worker needs to attach.
 *
 * Every access goes through a section lookup; hot paths that touch one
 * structure repeatedly take the section's typed array once (`i32At`) and
 * index it directly. x86 is little-endian and so is every host JavaScript
 * runs on, so typed arrays give the right byte order.
 *
 * An access outside backed RAM throws PhysAccessError: the caller (the page
 * fault path, the bad-pointer checks) turns it into the kernel's report.
 */

export const HOST_SECTION_SHIFT = 27;
export const HOST_SECTION_SIZE = 2 ** HOST_SECTION_SHIFT;

/**
 * pa modulo the section size. Physical addresses pass 2^32, so no 32-bit
 * `&`; and `%` on a double is a slow library call, so subtract instead.
 */
export function sectionOffset(pa: number): number {
  return pa - Math.floor(pa / HOST_SECTION_SIZE) * HOST_SECTION_SIZE;
}

const TWO32 = 4294967296;

export class PhysAccessError extends Error {
  constructor(readonly paddr: number, readonly len: number) {
    super(`physical access outside RAM: ${paddr.toString(16)}+${len}`);
    this.name = 'PhysAccessError';
  }
}

/** A handle to the machine's RAM that can be posted to a worker. */
export interface PhysMemShared {
  size: number;
  buffers: (SharedArrayBuffer | null)[];
}

export class PhysMem {
  /** End of the physical address space backed (exclusive), in bytes. */
  readonly size: number;
  readonly buffers: (SharedArrayBuffer | null)[];
  readonly u8: Uint8Array[];
  readonly i32: Int32Array[];
  readonly u16: Uint16Array[];
  private static readonly EMPTY8 = new Uint8Array(0);
  private static readonly EMPTY32 = new Int32Array(0);
  private static readonly EMPTY16 = new Uint16Array(0);

  private constructor(shared: PhysMemShared) {
    this.size = shared.size;
    this.buffers = shared.buffers;
    this.u8 = shared.buffers.map((b) => (b ? new Uint8Array(b) : PhysMem.EMPTY8));
    this.i32 = shared.buffers.map((b) => (b ? new Int32Array(b) : PhysMem.EMPTY32));
    this.u16 = shared.buffers.map((b) => (b ? new Uint16Array(b) : PhysMem.EMPTY16));
  }

  /** Back every host section that overlaps one of the [start, end) ranges. */
  static create(size: number, ranges: readonly (readonly [number, number])[]): PhysMem {
    const n = Math.ceil(size / HOST_SECTION_SIZE);
    const buffers: (SharedArrayBuffer | null)[] = new Array(n).fill(null);
    for (const [start, end] of ranges) {
      const first = Math.floor(start / HOST_SECTION_SIZE);
      const last = Math.floor((end - 1) / HOST_SECTION_SIZE);
      // the last section ends where the address space does (a small machine is one small buffer)
      for (let s = first; s <= last; s++) buffers[s] ??= new SharedArrayBuffer(Math.min(HOST_SECTION_SIZE, size - s * HOST_SECTION_SIZE));
    }
    return new PhysMem({ size, buffers });
  }

  static attach(shared: PhysMemShared): PhysMem {
    return new PhysMem(shared);
  }

  share(): PhysMemShared {
    return { size: this.size, buffers: this.buffers.slice() };
  }

  private readonly rebindHooks: (() => void)[] = [];

  /**
   * Code that keeps a section's typed array in a field (a hot path indexing
   * it directly) registers here how to fetch it again: adopt() swaps the
   * buffers underneath.
   */
  onRebind(hook: () => void): void {
    this.rebindHooks.push(hook);
  }

  /**
   * Take over another machine's RAM (a worker attaching to a running
   * machine): the same sections, the same sizes; every view is replaced in
   * place and the rebind hooks run.
   */
  adopt(shared: PhysMemShared): void {
    if (shared.size !== this.size || shared.buffers.length !== this.buffers.length) {
      throw new Error(`cannot adopt RAM of ${shared.size} bytes into a machine of ${this.size}`);
    }
    shared.buffers.forEach((b, s) => {
      if ((b === null) !== (this.buffers[s] === null)) throw new Error(`host section ${s}: RAM layouts differ`);
      if (b === null) return;
      this.buffers[s] = b;
      this.u8[s] = new Uint8Array(b);
      this.i32[s] = new Int32Array(b);
      this.u16[s] = new Uint16Array(b);
    });
    for (const hook of this.rebindHooks) hook();
  }

  /** True if [pa, pa+len) lies in backed memory. */
  isBacked(pa: number, len = 1): boolean {
    if (pa < 0 || len < 0 || pa + len > this.size) return false;
    const first = Math.floor(pa / HOST_SECTION_SIZE);
    const last = Math.floor((pa + Math.max(len, 1) - 1) / HOST_SECTION_SIZE);
    for (let s = first; s <= last; s++) if (this.buffers[s] === null) return false;
    return true;
  }

  /** The Int32Array of the section holding `pa` (which must be 4-aligned). */
  i32At(pa: number): Int32Array {
    const a = this.i32[Math.floor(pa / HOST_SECTION_SIZE)];
    if (a === undefined || a.length === 0) throw new PhysAccessError(pa, 4);
    return a;
  }

  /** Index of the 32-bit word at `pa` inside i32At(pa). */
  static wordIndex(pa: number): number {
    return sectionOffset(pa) >>> 2;
  }

  private sec8(pa: number, len: number): Uint8Array {
    const a = this.u8[Math.floor(pa / HOST_SECTION_SIZE)];
    if (a === undefined || a.length === 0) throw new PhysAccessError(pa, len);
    return a;
  }

  read8(pa: number): number {
    return this.sec8(pa, 1)[sectionOffset(pa)];
  }

  write8(pa: number, v: number): void {
    this.sec8(pa, 1)[sectionOffset(pa)] = v;
  }

  read16(pa: number): number {
    if ((pa & 1) === 0) {
      const a = this.u16[Math.floor(pa / HOST_SECTION_SIZE)];
      if (a === undefined || a.length === 0) throw new PhysAccessError(pa, 2);
      return a[sectionOffset(pa) >>> 1];
    }
    return this.read8(pa) | (this.read8(pa + 1) << 8);
  }

  write16(pa: number, v: number): void {
    this.write8(pa, v & 0xff);
    this.write8(pa + 1, (v >>> 8) & 0xff);
  }

  /** Unsigned 32-bit read. */
  read32(pa: number): number {
    if ((pa & 3) === 0) return this.i32At(pa)[PhysMem.wordIndex(pa)] >>> 0;
    return (this.read16(pa) | (this.read16(pa + 2) << 16)) >>> 0;
  }

  write32(pa: number, v: number): void {
    if ((pa & 3) === 0) {
      this.i32At(pa)[PhysMem.wordIndex(pa)] = v | 0;
      return;
    }
    this.write16(pa, v & 0xffff);
    this.write16(pa + 2, (v >>> 16) & 0xffff);
  }

  /** 64-bit read as a JS number: exact below 2^53 (counters, sizes, physical addresses). */
  read64(pa: number): number {
    return this.read32(pa) + this.read32(pa + 4) * TWO32;
  }

  write64(pa: number, v: number): void {
    const hi = Math.floor(v / TWO32);
    this.write32(pa, v - hi * TWO32);
    this.write32(pa + 4, hi);
  }

  /** 64-bit read as a BigInt, for values that may use all 64 bits. */
  read64n(pa: number): bigint {
    return BigInt(this.read32(pa)) | (BigInt(this.read32(pa + 4)) << 32n);
  }

  write64n(pa: number, v: bigint): void {
    this.write32(pa, Number(v & 0xffffffffn));
    this.write32(pa + 4, Number((v >> 32n) & 0xffffffffn));
  }

  /** Copy bytes out; crosses section boundaries. */
  readBytes(pa: number, len: number, out = new Uint8Array(len)): Uint8Array {
    let done = 0;
    while (done < len) {
      const p = pa + done;
      const off = sectionOffset(p);
      const n = Math.min(len - done, HOST_SECTION_SIZE - off);
      out.set(this.sec8(p, n).subarray(off, off + n), done);
      done += n;
    }
    return out;
  }

  writeBytes(pa: number, src: Uint8Array): void {
    let done = 0;
    while (done < src.length) {
      const p = pa + done;
      const off = sectionOffset(p);
      const n = Math.min(src.length - done, HOST_SECTION_SIZE - off);
      this.sec8(p, n).set(src.subarray(done, done + n), off);
      done += n;
    }
  }

  fill(pa: number, len: number, byte: number): void {
    let done = 0;
    while (done < len) {
      const p = pa + done;
      const off = sectionOffset(p);
      const n = Math.min(len - done, HOST_SECTION_SIZE - off);
      this.sec8(p, n).fill(byte, off, off + n);
      done += n;
    }
  }

  copy(dst: number, src: number, len: number): void {
    this.writeBytes(dst, this.readBytes(src, len));
  }
}
