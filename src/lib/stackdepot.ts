/*
 * The stack depot (lib/stackdepot.c, Linux 6.12): stack traces stored once
 * each, deduplicated through a hash table, and named by a 32-bit handle.
 * SLUB's owner tracking (slab_debug=U) keeps a handle in each struct track
 * instead of the trace itself, and prints the trace back with
 * stack_depot_print().
 *
 * Everything is in the machine's memory:
 *
 *   statics (in the kernel's .bss)
 *     +0   stack_table   u32 *  hash table: STACK_HASH_SIZE handles, 0 = empty bucket
 *     +P   pools_num     u32    pools allocated so far
 *     +P+4 pool_offset   u32    bytes used in the newest pool
 *     +P+8 pools[DEPOT_MAX_POOLS]  pool addresses (direct map)
 *     then pool_lock (int): stack_depot_save() runs under it, so that CPUs
 *     on different host threads can save traces at once
 *
 *   a pool: 1 << DEPOT_POOL_ORDER pages from the page allocator, filled with
 *   records, each DEPOT_STACK_ALIGN (16-byte) aligned:
 *     +0   next    u32  handle of the next record in the same hash bucket
 *     +4   hash    u32
 *     +8   size    u32  number of entries
 *     +12  (unused)
 *     +16  entries[size]  unsigned long: code addresses (kallsyms)
 *
 *   handle = pool_index_plus_1 (17 bits) | offset >> 4 (10 bits) << 17
 *            (union handle_parts; the 5 extra bits stay 0)
 *
 * The hash table is allocated on first use (the kernel allocates it at
 * boot from memblock when slab_debug has U, or with kvcalloc when the first
 * SLAB_STORE_USER cache appears) with 4096 buckets, the kernel's minimum.
 * The kernel hashes with jhash2(); kmem uses a fixed 32-bit mix of the
 * entries, so a run stores the same records every time. Records are never
 * evicted (slab tracking does not use STACK_DEPOT_FLAG_GET). When a pool
 * cannot be allocated, or DEPOT_MAX_POOLS are used up, stack_depot_save()
 * returns 0 and print_track() says "object allocation/free stack trace
 * missing", as in the kernel.
 */
import type { RamWords } from '../machine/ram_words.ts';
import type { Spinlocks } from '../kernel/locking/spinlock.ts';

export const DEPOT_POOL_ORDER = 2;
const PAGE_SIZE = 4096;
export const DEPOT_POOL_SIZE = PAGE_SIZE << DEPOT_POOL_ORDER;
export const DEPOT_STACK_ALIGN = 4;
const DEPOT_OFFSET_BITS = DEPOT_POOL_ORDER + 12 - DEPOT_STACK_ALIGN;
const DEPOT_POOL_INDEX_BITS = 32 - DEPOT_OFFSET_BITS - 5;
/** kmem's cap on pools: 256 pools of 16 KiB (the kernel's cap is 8192). */
export const DEPOT_MAX_POOLS = 256;
/** CONFIG_STACKDEPOT_MAX_FRAMES */
export const STACKDEPOT_MAX_FRAMES = 64;
const STACK_HASH_ORDER = 12;
const STACK_HASH_SIZE = 1 << STACK_HASH_ORDER;
const REC_HEADER = 16;

export interface StackDepotDeps {
  words: RamWords;
  ptrSize: 4 | 8;
  /** PAGE_OFFSET: direct-map address = PAGE_OFFSET + physical address. */
  pageOffset: number;
  /** Physical address of the depot's statics (StackDepot.staticBytes()). */
  staticsPa: number;
  /** Pages from the page allocator (zeroed not required, atomic): their direct-map address, 0 on failure. */
  allocPages(order: number): number;
  locks: Spinlocks;
}

export class StackDepot {
  private readonly pPoolsNum: number;
  private readonly pPoolOffset: number;
  private readonly pPools: number;
  private readonly pLock: number;

  constructor(private readonly d: StackDepotDeps) {
    this.pPoolsNum = d.staticsPa + d.ptrSize;
    this.pPoolOffset = this.pPoolsNum + 4;
    this.pPools = d.staticsPa + d.ptrSize + 8;
    this.pLock = this.pPools + DEPOT_MAX_POOLS * d.ptrSize;
  }

  /** Bytes of statics: the table pointer, two counters, the pool pointers, pool_lock. */
  static staticBytes(ptrSize: 4 | 8): number {
    return ptrSize + 8 + DEPOT_MAX_POOLS * ptrSize + 8;
  }

  private get table(): number {
    return this.d.words.rptr(this.d.staticsPa);
  }

  private get pools_num(): number {
    return this.d.words.r32(this.pPoolsNum) >>> 0;
  }

  private pool(i: number): number {
    return this.d.words.rptr(this.pPools + i * this.d.ptrSize);
  }

  /** The hash of a trace (stands in for jhash2(entries, size * 2, STACK_HASH_SEED)). */
  private static hash(entries: readonly number[]): number {
    let h = 0x9747b28c ^ entries.length;
    for (const e of entries) {
      const lo = e % 4294967296;
      const hi = (e - lo) / 4294967296;
      h = Math.imul(h ^ (lo | 0), 0x5bd1e995);
      h ^= h >>> 15;
      h = Math.imul(h ^ (hi | 0), 0x27d4eb2f);
      h ^= h >>> 13;
    }
    return h >>> 0;
  }

  /** Physical address of the record a handle names, or -1 for a handle that names none. */
  private recordPa(handle: number): number {
    const poolIndexPlus1 = handle & ((1 << DEPOT_POOL_INDEX_BITS) - 1);
    const offset = ((handle >>> DEPOT_POOL_INDEX_BITS) & ((1 << DEPOT_OFFSET_BITS) - 1)) << DEPOT_STACK_ALIGN;
    if (poolIndexPlus1 === 0 || poolIndexPlus1 > this.pools_num) return -1;
    return this.pool(poolIndexPlus1 - 1) - this.d.pageOffset + offset;
  }

  private entriesMatch(pa: number, hash: number, entries: readonly number[]): boolean {
    const w = this.d.words;
    if (w.r32(pa + 4) >>> 0 !== hash || w.r32(pa + 8) >>> 0 !== entries.length) return false;
    for (let i = 0; i < entries.length; i++) if (w.rptr(pa + REC_HEADER + i * this.d.ptrSize) !== entries[i]) return false;
    return true;
  }

  /** stack_depot_save(): the handle of this trace, stored if new; 0 if it cannot be stored. */
  stack_depot_save(entries: readonly number[]): number {
    if (entries.length === 0) return 0;
    if (entries.length > STACKDEPOT_MAX_FRAMES) entries = entries.slice(0, STACKDEPOT_MAX_FRAMES);
    const flags = this.d.locks.spin_lock_irqsave(this.pLock);
    try {
      return this.save_locked(entries);
    } finally {
      this.d.locks.spin_unlock_irqrestore(this.pLock, flags);
    }
  }

  private save_locked(entries: readonly number[]): number {
    const w = this.d.words;
    const po = this.d.pageOffset;
    let table = this.table;
    if (table === 0) {
      table = this.d.allocPages(STACK_HASH_ORDER + 2 - 12);
      if (table === 0) return 0;
      for (let i = 0; i < STACK_HASH_SIZE; i++) w.w32(table - po + 4 * i, 0);
      w.wptr(this.d.staticsPa, table);
    }
    const hash = StackDepot.hash(entries);
    const bucket = table - po + 4 * (hash & (STACK_HASH_SIZE - 1));
    for (let h = w.r32(bucket) >>> 0; h !== 0;) {
      const pa = this.recordPa(h);
      if (pa < 0) break;
      if (this.entriesMatch(pa, hash, entries)) return h;
      h = w.r32(pa) >>> 0;
    }
    // depot_alloc_stack(): room in the current pool, else a new pool
    const bytes = Math.ceil((REC_HEADER + entries.length * this.d.ptrSize) / 16) * 16;
    let poolsNum = this.pools_num;
    let offset = w.r32(this.pPoolOffset) >>> 0;
    if (poolsNum === 0 || offset + bytes > DEPOT_POOL_SIZE) {
      if (poolsNum >= DEPOT_MAX_POOLS) return 0;
      const pool = this.d.allocPages(DEPOT_POOL_ORDER);
      if (pool === 0) return 0;
      w.wptr(this.pPools + poolsNum * this.d.ptrSize, pool);
      poolsNum++;
      w.w32(this.pPoolsNum, poolsNum);
      offset = 0;
    }
    const pa = this.pool(poolsNum - 1) - po + offset;
    const handle = (poolsNum | ((offset >> DEPOT_STACK_ALIGN) << DEPOT_POOL_INDEX_BITS)) >>> 0;
    w.w32(pa, w.r32(bucket));
    w.w32(pa + 4, hash);
    w.w32(pa + 8, entries.length);
    w.w32(pa + 12, 0);
    for (let i = 0; i < entries.length; i++) w.wptr(pa + REC_HEADER + i * this.d.ptrSize, entries[i]);
    w.w32(this.pPoolOffset, offset + bytes);
    w.w32(bucket, handle);
    return handle;
  }

  /** stack_depot_fetch(): the entries of a stored trace ([] for 0 or a handle that names nothing). */
  stack_depot_fetch(handle: number): number[] {
    if (handle === 0) return [];
    const pa = this.recordPa(handle);
    if (pa < 0) return [];
    const n = this.d.words.r32(pa + 8) >>> 0;
    const out: number[] = [];
    for (let i = 0; i < n && i < STACKDEPOT_MAX_FRAMES; i++) out.push(this.d.words.rptr(pa + REC_HEADER + i * this.d.ptrSize));
    return out;
  }
}
