/*
 * SLUB debugging (mm/slub.c under CONFIG_SLUB_DEBUG, Linux 6.12), the
 * parts that are plain computation: the slab_debug= option, which caches
 * it applies to (kmem_cache_flags()), the object layout calculate_sizes()
 * gives with the debug flags, struct track, and the call-site names owner
 * tracking records. The checks and reports themselves are in slub.ts,
 * next to the allocator paths they are part of.
 *
 * CONFIG_SLUB_DEBUG is on and CONFIG_SLUB_DEBUG_ON off, as in distribution
 * kernels: no cache is debugged unless the command line or the cache's own
 * flags ask for it.
 *
 *   slab_debug (or slub_debug) on its own    F, Z, P, U on every cache
 *   slab_debug=<flags>                        those flags on every cache
 *   slab_debug=<flags>,<cache>,<cache>...     only on these caches ("kmalloc-*" globs)
 *   slab_debug=<flags>;<flags>,<caches>;...   several blocks; a block without
 *                                             a cache list sets the global flags
 *   flags: F sanity checks (SLAB_CONSISTENCY_CHECKS), Z red zones, P poisoning,
 *          U owner tracking (SLAB_STORE_USER), T trace, A fault injection
 *          (CONFIG_FAILSLAB: off, the flag is 0), O leave out caches whose
 *          minimum order the metadata would raise, - nothing
 *
 * The object with every debug flag (x86_64; "fp" only when the free
 * pointer cannot overlay the object: poisoning, a constructor, RCU, a red
 * zone after a kmalloc object):
 *
 *   | red_left_pad | object_size | right red zone | fp | 2 * struct track | orig_size | pad word | align |
 *   |  0xbb / 0xcc | 0x6b..0xa5  | 0xbb / 0xcc    |    | alloc, free      | (kmalloc) | 0x5a ...          |
 *   ^ slot start   ^ object     ^ object_size     ^ s->inuse                          s->size - red_left_pad
 *
 * The reports follow 6.12's mm/slub.c (the 6.12.y text: a damaged range is
 * "[Right Redzone overwritten] 0x..-0x.. @offset=N. First byte 0x.. instead
 * of 0x..", then "BUG <cache> (<taint>): Object corrupt"; older kernels
 * printed "BUG <cache>: Right Redzone overwritten" and "INFO: " lines).
 * Where kmem differs:
 *   - %pS names a symbol with +0x0/0x100 (kallsyms has no machine code), and
 *     a track's stack trace is read from the JavaScript stack (stacktrace.ts);
 *   - jiffies (age=) come from the machine's clock with HZ = 1000;
 *   - the slab_debug_enabled static key is not modelled: s->flags decides,
 *     which is what the key amounts to once any cache has debug flags;
 *   - the KUnit "slab_errors" resource is one pointer in SLUB's statics
 *     (Slub.set_kunit_slab_errors()), not looked up per task;
 *   - two states the kernel would crash or corrupt on are kept consistent
 *     instead: a debug slab left on the partial list with no free object
 *     by a repair (its free pointer zapped) is moved to the full list after
 *     the NULL-pointer oops the kernel would have; a slab whose freelist
 *     on_freelist() cleared is not added to the partial list a second time
 *     when an object comes back;
 *   - without F, a pointer that is no object's start is still reported and
 *     not freed (as kmem does for every cache);
 *   - no_hash_pointers makes SLUB's reports print addresses; slab_common's
 *     own warnings keep hashing them.
 */
import {
  SLAB_CONSISTENCY_CHECKS, SLAB_FAILSLAB, SLAB_KMALLOC, SLAB_NOLEAKTRACE, SLAB_NO_USER_FLAGS, SLAB_POISON,
  SLAB_RED_ZONE, SLAB_STORE_USER, SLAB_TRACE, SLAB_TYPESAFE_BY_RCU,
} from '../include/linux/slab.ts';
import type { JsFrame } from '../kernel/stacktrace.ts';

/** What slab_debug without flags turns on. */
export const DEBUG_DEFAULT_FLAGS = SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER;
/** The debug flags that store metadata in the object (left out by O when they raise the minimum order). */
export const DEBUG_METADATA_FLAGS = SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER;
/** Any of these makes a cache a debug cache (kmem_cache_debug()): no per-CPU fast paths for it. */
export const SLAB_DEBUG_FLAGS = SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER | SLAB_TRACE | SLAB_CONSISTENCY_CHECKS;
/** Internal SLUB flag: the object itself is poisoned (SLAB_POISON without RCU or a constructor). */
export const __OBJECT_POISON = 1 << 17;
/** TRACK_ADDRS_COUNT: frames kept per stack trace. */
export const TRACK_ADDRS_COUNT = 16;

/** setup_slub_debug()'s result: slub_debug, slub_debug_string, disable_higher_order_debug. */
export interface SlubDebugParams {
  /** The global debug flags (every cache no block names). */
  flags: number;
  /** The option's text when it names caches (blocks with cache lists), else null. */
  string: string | null;
  /** O was given. */
  disableHigherOrder: boolean;
  /** pr_err() lines for unknown flag characters, printed as the option is parsed. */
  errors: string[];
}

interface Block {
  flags: number;
  /** The cache list (up to the end of the block), or null when the block has none. */
  slabs: string | null;
  higherOrderDisable: boolean;
  /** Where the next block starts, or -1. */
  next: number;
}

/** parse_slub_debug_flags(): one ';'-separated block starting at str[pos]. */
function parse_slub_debug_flags(str: string, pos: number, init: boolean, errors: string[]): Block {
  let i = pos;
  let flags = 0;
  let higherOrderDisable = false;
  while (i < str.length && str[i] === ';') i++;
  if (str[i] === ',') {
    // no options but a cache list: full debugging for those caches
    flags = DEBUG_DEFAULT_FLAGS;
  } else {
    for (; i < str.length && str[i] !== ',' && str[i] !== ';'; i++) {
      switch (str[i].toLowerCase()) {
        case '-': flags = 0; break;
        case 'f': flags |= SLAB_CONSISTENCY_CHECKS; break;
        case 'z': flags |= SLAB_RED_ZONE; break;
        case 'p': flags |= SLAB_POISON; break;
        case 'u': flags |= SLAB_STORE_USER; break;
        case 't': flags |= SLAB_TRACE; break;
        case 'a': flags |= SLAB_FAILSLAB; break;
        case 'o': higherOrderDisable = true; break;
        default:
          if (init) errors.push(`slab_debug option '${str[i]}' unknown. skipped`);
      }
    }
  }
  let slabs: string | null = null;
  if (str[i] === ',') {
    const start = ++i;
    while (i < str.length && str[i] !== ';') i++;
    slabs = str.slice(start, i);
  } else {
    while (i < str.length && str[i] !== ';') i++;
  }
  while (i < str.length && str[i] === ';') i++;
  return { flags, slabs, higherOrderDisable, next: i < str.length ? i : -1 };
}

/**
 * setup_slub_debug() for one slab_debug / slub_debug parameter: `value` is
 * what follows the name ("=FZ,kmalloc-64", "" for the bare name), applied
 * over `prev` (the state an earlier occurrence left, CONFIG_SLUB_DEBUG_ON
 * off at first).
 */
export function setup_slub_debug(value: string, prev: SlubDebugParams): SlubDebugParams {
  const errors: string[] = [];
  let globalFlags = DEBUG_DEFAULT_FLAGS;
  let string = prev.string;
  let disableHigherOrder = prev.disableHigherOrder;
  if (value.startsWith('=') && value.length > 1) {
    const str = value.slice(1);
    let globalChanged = false;
    let listSpecified = false;
    for (let pos = 0; pos >= 0;) {
      const b = parse_slub_debug_flags(str, pos, true, errors);
      if (b.higherOrderDisable) disableHigherOrder = true;
      if (b.slabs === null) {
        globalFlags = b.flags;
        globalChanged = true;
      } else {
        listSpecified = true;
      }
      pos = b.next;
    }
    if (listSpecified) {
      if (!globalChanged) globalFlags = prev.flags;
      string = str;
    }
  }
  return { flags: globalFlags, string, disableHigherOrder, errors };
}

/** The slab_debug state with no option given (CONFIG_SLUB_DEBUG_ON off). */
export function noSlubDebug(): SlubDebugParams {
  return { flags: 0, string: null, disableHigherOrder: false, errors: [] };
}

/** Every slab_debug= / slub_debug= on the command line, in order (each occurrence overrides the last). */
export function parseSlubDebugCmdline(cmdline: string): SlubDebugParams {
  let p = noSlubDebug();
  const errors: string[] = [];
  for (const param of cmdline.split(/\s+/)) {
    const m = /^sl[au]b_debug(=.*)?$/.exec(param);
    if (!m) continue;
    p = setup_slub_debug(m[1] ?? '', p);
    errors.push(...p.errors);
  }
  return { ...p, errors };
}

/**
 * kmem_cache_flags(): the debug flags a cache named `name` gets: those of
 * the first block whose cache list matches the name (a trailing '*' is a
 * prefix glob), else the global ones. SLAB_NO_USER_FLAGS caches get none;
 * SLAB_NOLEAKTRACE caches no U from the global flags.
 */
export function kmem_cache_flags(flags: number, name: string, slubDebug: number, slubDebugString: string | null): number {
  if (flags & SLAB_NO_USER_FLAGS) return flags;
  let local = slubDebug;
  if (flags & SLAB_NOLEAKTRACE) local &= ~SLAB_STORE_USER;
  const len = name.length;
  if (slubDebugString !== null) {
    const str = slubDebugString;
    for (let pos = 0; pos >= 0;) {
      const b = parse_slub_debug_flags(str, pos, false, []);
      pos = b.next;
      if (b.slabs === null) continue;
      for (const item of b.slabs.split(',')) {
        const glob = item.indexOf('*');
        // strncmp(name, iter, cmplen): with a glob the prefix, else max(len, item) bytes (an exact match)
        const match = glob >= 0 ? name.startsWith(item.slice(0, glob)) : name === item.slice(0, Math.max(len, item.length));
        if (match) return flags | b.flags;
      }
    }
  }
  return flags | local;
}

/** struct track (with CONFIG_STACKDEPOT): where each field is, and its size. */
export function trackLayout(ptrSize: 4 | 8): { size: number; addr: number; handle: number; cpu: number; pid: number; when: number } {
  // unsigned long addr; depot_stack_handle_t handle; int cpu; int pid; unsigned long when;
  return ptrSize === 8
    ? { size: 32, addr: 0, handle: 8, cpu: 12, pid: 16, when: 24 }
    : { size: 20, addr: 0, handle: 4, cpu: 8, pid: 12, when: 16 };
}

/** What calculate_sizes() works out for an object (the part before calculate_order()). */
export interface ObjectLayout {
  /** s->flags with __OBJECT_POISON set or cleared. */
  flags: number;
  inuse: number;
  offset: number;
  redLeftPad: number;
  size: number;
}

/** The metadata sizes calculate_sizes() adds, which depend on the kernel's version and configuration. */
export interface MetadataSizes {
  ptrSize: 4 | 8;
  /** sizeof(struct track): 32 on x86_64 with CONFIG_STACKDEPOT (6.12), 152 with 16 saved addresses (before 5.17). */
  track: number;
  /** sizeof the kmalloc original-size word with SLAB_STORE_USER (6.12: unsigned long; 0 before 6.1). */
  origSize: number;
}

/**
 * calculate_sizes() up to the order: the free pointer's offset, s->inuse,
 * the red zones and s->size, for an object of objectSize bytes with
 * alignment align. `freeptrOffset` is kmem_cache_args's freeptr_offset
 * (null when not used).
 */
export function calculateObjectLayout(objectSize: number, align: number, flags: number, hasCtor: boolean,
  freeptrOffset: number | null, m: MetadataSizes): ObjectLayout {
  const ptr = m.ptrSize;
  const ALIGN = (x: number, a: number) => (x + a - 1) & ~(a - 1);
  let size = ALIGN(objectSize, ptr);
  if ((flags & SLAB_POISON) && !(flags & SLAB_TYPESAFE_BY_RCU) && !hasCtor) flags |= __OBJECT_POISON;
  else flags &= ~__OBJECT_POISON;
  if ((flags & SLAB_RED_ZONE) && size === objectSize) size += ptr;
  const inuse = size;
  const origSize = (flags & SLAB_STORE_USER) !== 0 && (flags & SLAB_KMALLOC) !== 0;
  let offset: number;
  if (((flags & SLAB_TYPESAFE_BY_RCU) && freeptrOffset === null) || (flags & SLAB_POISON) || hasCtor ||
    ((flags & SLAB_RED_ZONE) && (objectSize < ptr || origSize))) {
    offset = size;
    size += ptr;
  } else if ((flags & SLAB_TYPESAFE_BY_RCU) && freeptrOffset !== null) {
    offset = freeptrOffset;
  } else {
    offset = Math.floor(objectSize / 2 / ptr) * ptr;
  }
  if (flags & SLAB_STORE_USER) {
    size += 2 * m.track;
    if (flags & SLAB_KMALLOC) size += m.origSize;
  }
  let redLeftPad = 0;
  if (flags & SLAB_RED_ZONE) {
    size += ptr;
    redLeftPad = ALIGN(ptr, align);
    size += redLeftPad;
  }
  size = ALIGN(size, align);
  return { flags, inuse, offset, redLeftPad, size };
}

/**
 * The kernel entry point each kmem API name stands for in a stack trace
 * (what the first frame of an "Allocated in" / "Freed in" trace names).
 */
const API_FRAMES: Readonly<Record<string, string>> = {
  kmalloc: '__kmalloc_noprof', kzalloc: '__kmalloc_noprof', kcalloc: '__kmalloc_noprof',
  kmalloc_array: '__kmalloc_noprof', kmalloc_node: '__kmalloc_node_noprof', kzalloc_node: '__kmalloc_node_noprof',
  kcalloc_node: '__kmalloc_node_noprof', kmalloc_array_node: '__kmalloc_node_noprof',
  __kmalloc_cache: '__kmalloc_cache_noprof',
  kmem_cache_alloc: 'kmem_cache_alloc_noprof', kmem_cache_zalloc: 'kmem_cache_alloc_noprof',
  kmem_cache_alloc_node: 'kmem_cache_alloc_node_noprof', kmem_cache_alloc_bulk: 'kmem_cache_alloc_bulk_noprof',
  krealloc: 'krealloc_noprof', kmemdup: 'kmemdup_noprof', kstrdup: 'kstrdup', kstrdup_const: 'kstrdup_const',
  kfree: 'kfree', kfree_sensitive: 'kfree_sensitive', kzfree: 'kfree_sensitive', kmem_cache_free: 'kmem_cache_free',
  kmem_cache_free_bulk: 'kmem_cache_free_bulk', kfree_bulk: 'kmem_cache_free_bulk',
};

/**
 * The trace set_track() records, from a JS stack (innermost first): the
 * kernel entry point of the innermost slab API frame (with the wrappers
 * around it that are the same kernel function: Kernel.kmalloc around
 * SlabCommon.kmalloc, kzalloc around kmalloc), then the functions that
 * called it, up to TRACK_ADDRS_COUNT names, each named once where the
 * Kernel object and the slab code both have it; the first caller is the
 * track's addr (_RET_IP_). kmem's own frames keep their JS names (a
 * cache's name copied by kmem_cache_create() is "Allocated in
 * kmem_cache_create"). null when no slab API is on the stack.
 */
export function trackFrames(frames: readonly JsFrame[]): { entry: string; callers: string[] } | null {
  let i = frames.findIndex((f) => f.kmem && API_FRAMES[f.name] !== undefined);
  if (i < 0) return null;
  const entry = API_FRAMES[frames[i].name];
  while (i + 1 < frames.length && frames[i + 1].kmem &&
    (frames[i + 1].name === frames[i].name || API_FRAMES[frames[i + 1].name] === entry)) i++;
  const callers: string[] = [];
  for (let j = i + 1; j < frames.length && callers.length < TRACK_ADDRS_COUNT - 1; j++) {
    const f = frames[j];
    const name = f.kmem && API_FRAMES[f.name] !== undefined ? API_FRAMES[f.name] : f.name;
    if (f.kmem && j > i + 1 && frames[j - 1].kmem && frames[j - 1].name === f.name) continue;
    callers.push(name);
  }
  return { entry, callers };
}
