/*
 * Reference models, not targets: how fast an order-0 pcp alloc+free pair
 * could be in JavaScript if the kernel's state stays in memory words, as
 * kmem keeps it. Both run on one flat Int32Array with hard-coded word
 * offsets, in a single function the JIT can compile whole.
 *
 *   list_head model   only the pcp list: list_del (with poison) to
 *                     allocate, list_add to free, the list's count, the
 *                     page's refcount. 64-bit pointers as two words.
 *   pcp path model    every memory word kmem's 6.12 fast path reads or
 *                     writes for GFP_KERNEL order 0 when the pcp list is
 *                     neither empty nor over `high` (no refill, no drain):
 *                     allocator-ready flag; zone flags, NR_FREE_PAGES,
 *                     high watermark + boost, lowmem_reserve (zone_watermark_fast);
 *                     pcp free_count, list, count (rmqueue_pcplist); NUMA_HIT
 *                     and NUMA_LOCAL (zone_statistics); refcount and private
 *                     (prep_new_page); then refcount, page_type, flags,
 *                     mapping, pageblock migratetype (put_page_testzero,
 *                     free_pages_prepare checks); alloc_factor, list, count,
 *                     batch, flags, free_count, high/high_min/high_max
 *                     (free_unref_page_commit, nr_pcp_high). 64-bit fields
 *                     as two words. Byte and u16 fields get a word each
 *                     (slightly flattering).
 * The gap between kmem's row and the pcp path model is the cost of how the
 * code is layered, not of what it does.
 *
 * What is left of that gap (perf on the JIT's code, November 2026): the
 * models keep one typed array in a closure, so V8 hoists its base and
 * length out of the loop; kmem's state is spread over several typed arrays
 * (memmap, pcp, zone, zonestat, globals, per-CPU state), each reached from
 * an object field, each access with its own bounds check. alloc() and
 * free() are ~1.1-1.5 KB of bytecode, past V8's inlining limit (460 bytes),
 * so the pair is two calls with register spills, plus the gates a general
 * entry point needs (allocator ready, one host thread, tracepoints off,
 * init_on_free, atomic context). The cheap parts of the gap are gone:
 * imported constants (a module-cell load and TDZ check per use), fields
 * V8 stored as boxed doubles, a double division in page_to_pfn, hops
 * through zone.pcps[cpu].lists[i]. The 4x target (about 4 ns) is below
 * the pcp path model (10x): not reachable while the pair does what 6.12
 * does; the list_head model (3.4x) is the list work alone.
 */
import type { Task } from './harness.ts';

/** struct page: 16 words; lru at +2 (next lo/hi) and +4 (prev lo/hi). */
const PW = 16;
const F_FLAGS = 0;
const F_ZONE = 1; // the word with zone/node bits (x86_64: high word of flags)
const F_LRU = 2;
const F_MAPPING = 6;
const F_PRIVATE = 10;
const F_TYPE = 12;
const F_REF = 13;
const HI = -0x10000; // 0xffff0000: high word of a kernel pointer
const POISON1 = 0x100;
const POISON2 = 0x122;
const POISON_HI = -0x21530000; // 0xdead0000
const TWO32 = 4294967296;

/** Link pages 0..n-1 on the list whose head is at word `head`. */
function linkAll(m: Int32Array, head: number, n: number): void {
  m[head] = head;
  m[head + 1] = HI;
  m[head + 2] = head;
  m[head + 3] = HI;
  for (let i = 0; i < n; i++) {
    const e = i * PW + F_LRU;
    const prev = m[head + 2];
    m[head + 2] = e;
    m[e] = head;
    m[e + 1] = HI;
    m[e + 2] = prev;
    m[e + 3] = HI;
    m[prev] = e;
    m[prev + 1] = HI;
  }
}

export function listHeadModelTask(): Task {
  const n = 1024;
  const head = n * PW;
  const COUNT = head + 4;
  const m = new Int32Array(head + 8);
  linkAll(m, head, n);
  m[COUNT] = n;
  return {
    name: 'raw Int32Array list_head model (pcp list only), lifo', unit: 'pair',
    run(iters) {
      let sum = 0;
      for (let i = 0; i < iters; i++) {
        // allocate: list_del(first), count--, refcount = 1
        const first = m[head];
        if (first === head) throw new Error('list_head model: empty');
        const next = m[first];
        const prev = m[first + 2];
        m[next + 2] = prev;
        m[next + 3] = HI;
        m[prev] = next;
        m[prev + 1] = HI;
        m[first] = POISON1;
        m[first + 1] = POISON_HI;
        m[first + 2] = POISON2;
        m[first + 3] = POISON_HI;
        m[COUNT]--;
        const page = first - F_LRU;
        m[page + F_REF] = 1;
        sum = (sum + page) | 0;
        // free: put_page_testzero, list_add(&page->lru, head), count++
        if (m[page + F_REF] !== 1) throw new Error('list_head model: bad refcount');
        m[page + F_REF] = 0;
        const e = page + F_LRU;
        const nx = m[head];
        m[nx + 2] = e;
        m[nx + 3] = HI;
        m[e] = nx;
        m[e + 1] = HI;
        m[e + 2] = head;
        m[e + 3] = HI;
        m[head] = e;
        m[head + 1] = HI;
        m[COUNT]++;
      }
      return sum;
    },
  };
}

export function pcpPathModelTask(): Task {
  const n = 1024;
  // zone: flags, NR_FREE_PAGES, _watermark[HIGH], watermark_boost, lowmem_reserve[NORMAL], NUMA events
  const Z = n * PW;
  const Z_FLAGS = Z;
  const Z_FREE = Z + 2;
  const Z_WMARK_HIGH = Z + 4;
  const Z_BOOST = Z + 6;
  const Z_RESERVE = Z + 8;
  const Z_NUMA_HIT = Z + 10;
  const Z_NUMA_LOCAL = Z + 12;
  const Z_HIGHATOMIC = Z + 14;
  // per_cpu_pages
  const P = Z + 16;
  const P_COUNT = P;
  const P_HIGH = P + 1;
  const P_HIGH_MIN = P + 2;
  const P_HIGH_MAX = P + 3;
  const P_BATCH = P + 4;
  const P_FLAGS = P + 5;
  const P_ALLOC_FACTOR = P + 6;
  const P_FREE_COUNT = P + 7;
  const P_LIST = P + 8;
  const READY = P + 16;
  const m = new Int32Array(READY + 2);
  const pageblockMt = new Uint8Array(n >> 9 || 1).fill(1);
  linkAll(m, P_LIST, n);
  for (let i = 0; i < n; i++) {
    m[i * PW + F_TYPE] = -1;
    m[i * PW + F_ZONE] = 2 << 23; // ZONE_NORMAL in the zone bits
  }
  m[P_COUNT] = n;
  m[P_HIGH] = m[P_HIGH_MIN] = 2518;
  m[P_HIGH_MAX] = 15359;
  m[P_BATCH] = 63;
  m[Z_FREE] = 900_000;
  m[Z_WMARK_HIGH] = 9_000;
  m[READY] = 1;
  const BELOW_HIGH = 1 << 2;
  const RECLAIM_ACTIVE = 1 << 1;
  const CHECK_AT_FREE = (1 << 13) | (1 << 0) | (1 << 1) | (1 << 5) | (1 << 7) | (1 << 14);
  return {
    name: 'raw Int32Array pcp path model (every field kmem touches), lifo', unit: 'pair',
    run(iters) {
      let sum = 0;
      for (let it = 0; it < iters; it++) {
        /* __alloc_pages */
        if (m[READY] === 0) throw new Error('not ready');
        // get_page_from_freelist -> zone_watermark_fast(order 0)
        if ((m[Z_FLAGS] & BELOW_HIGH) !== 0) throw new Error('model: below high');
        const free = (m[Z_FREE] >>> 0) + m[Z_FREE + 1] * TWO32;
        const unusable = (m[Z_HIGHATOMIC] >>> 0) + m[Z_HIGHATOMIC + 1] * TWO32;
        const mark = (m[Z_WMARK_HIGH] >>> 0) + m[Z_WMARK_HIGH + 1] * TWO32 + (m[Z_BOOST] >>> 0) + m[Z_BOOST + 1] * TWO32;
        const reserve = (m[Z_RESERVE] >>> 0) + m[Z_RESERVE + 1] * TWO32;
        if (!(free - Math.min(free, unusable) > mark + reserve)) throw new Error('model: watermark');
        // rmqueue_pcplist
        m[P_FREE_COUNT] >>= 1;
        const first = m[P_LIST];
        if (first === P_LIST) throw new Error('model: refill');
        const next = m[first];
        const prev = m[first + 2];
        m[next + 2] = prev;
        m[next + 3] = HI;
        m[prev] = next;
        m[prev + 1] = HI;
        m[first] = POISON1;
        m[first + 1] = POISON_HI;
        m[first + 2] = POISON2;
        m[first + 3] = POISON_HI;
        m[P_COUNT]--;
        // zone_statistics: NUMA_HIT, NUMA_LOCAL (64-bit increments)
        let lo = (m[Z_NUMA_HIT] >>> 0) + 1;
        m[Z_NUMA_HIT] = lo | 0;
        if (lo === TWO32) m[Z_NUMA_HIT + 1]++;
        lo = (m[Z_NUMA_LOCAL] >>> 0) + 1;
        m[Z_NUMA_LOCAL] = lo | 0;
        if (lo === TWO32) m[Z_NUMA_LOCAL + 1]++;
        // prep_new_page
        const page = first - F_LRU;
        m[page + F_REF] = 1;
        m[page + F_PRIVATE] = 0;
        m[page + F_PRIVATE + 1] = 0;
        sum = (sum + page) | 0;

        /* __free_pages(page, 0) */
        const ref = m[page + F_REF];
        if (ref <= 0 || m[page + F_TYPE] >>> 24 === 0xf0) throw new Error('model: bad ref');
        m[page + F_REF] = 0;
        // free_pages_prepare checks
        const pfn = page / PW;
        if (pfn < 0 || pfn >= n) throw new Error('model: pfn');
        const flags = m[page + F_FLAGS];
        if (m[page + F_TYPE] !== -1 || m[page + F_MAPPING] !== 0 || m[page + F_MAPPING + 1] !== 0 ||
          m[page + F_REF] !== 0 || (flags & CHECK_AT_FREE) !== 0 || (flags & (1 << 6)) !== 0) throw new Error('model: bad page');
        const zoneIdx = (m[page + F_ZONE] >>> 23) & 7;
        const mt = pageblockMt[pfn >>> 9];
        if (zoneIdx !== 2 || mt > 2) throw new Error('model: zone');
        // free_unref_page_commit
        m[P_ALLOC_FACTOR] >>= 1;
        const e = page + F_LRU;
        const nx = m[P_LIST];
        m[nx + 2] = e;
        m[nx + 3] = HI;
        m[e] = nx;
        m[e + 1] = HI;
        m[e + 2] = P_LIST;
        m[e + 3] = HI;
        m[P_LIST] = e;
        m[P_LIST + 1] = HI;
        m[P_COUNT]++;
        const batch = m[P_BATCH];
        m[P_FLAGS] &= ~1;
        if (m[P_FREE_COUNT] < batch << 5) m[P_FREE_COUNT]++;
        // nr_pcp_high
        const high = Math.min(Math.max(m[P_HIGH], m[P_HIGH_MIN]), m[P_HIGH_MAX]);
        m[P_HIGH] = high;
        const zf = m[Z_FLAGS];
        if ((zf & RECLAIM_ACTIVE) !== 0 || (zf & BELOW_HIGH) !== 0) throw new Error('model: reclaim');
        if (m[P_COUNT] >= high) throw new Error('model: drain');
      }
      return sum;
    },
  };
}
