/*
 * Kernel linked lists in simulated memory (include/linux/list.h,
 * include/linux/poison.h, lib/list_debug.c, Linux 6.12).
 *
 * A list is made of `struct list_head` records that live in the machine's
 * memory, embedded in the structures they link, exactly as in C:
 *
 *   struct list_head {            x86_64          i386
 *       struct list_head *next;   offset 0 (8)    offset 0 (4)
 *       struct list_head *prev;   offset 8 (8)    offset 4 (4)
 *   };
 *
 *          +------+      +------+      +------+
 *   ... -->| head |----->|  a   |----->|  b   |---> (back to head)
 *   (tail)<|      |<-----|      |<-----|      |
 *          +------+      +------+      +------+
 *
 * The list is circular with a sentinel head; an empty list's head points
 * to itself both ways. `struct hlist_head { first }` and `struct hlist_node
 * { next, pprev }` are the one-pointer-head variant used by hash tables;
 * pprev holds the address of the pointer that points at the node (the
 * previous node's `next` or the head's `first`, both at offset 0).
 *
 * Every function takes the memory it works through first (PointerMemory),
 * then the kernel's arguments; every struct is named by its kernel virtual
 * address, a JS number in the form layout.ts describes. `container_of` is
 * address arithmetic: the caller passes the member's offset in its struct.
 * The list_for_each* macros become functions taking a callback (return
 * true to `break`); each returns the cursor where it stopped, as the C loop
 * leaves it. Hot paths can open-code the loop instead, as the macro does:
 *
 *   for (let pos = m.readPtr(head); pos !== head; pos = m.readPtr(pos)) ...
 *
 * Poison: list_del() leaves LIST_POISON1 in next and LIST_POISON2 in prev,
 * 0x100 and 0x122 plus POISON_POINTER_DELTA. On i386 the delta is 0, so the
 * values are plain 32-bit numbers. On x86_64 the delta is
 * CONFIG_ILLEGAL_POINTER_VALUE = 0xdead000000000000: the stored pointers are
 * 0xdead000000000100 and 0xdead000000000122, which are not canonical and so
 * have no form as "the low 48 bits of a canonical address". Their JS form
 * sets bit 48, which no canonical address form has:
 *
 *   stored 8 bytes          JS number             meaning
 *   ffff888000001000        0x888000001000        kernel address (bit 47 = 1)
 *   0000000000001000        0x000000001000        user address
 *   dead000000000100        0x1000000000100       POISON_POINTER_DELTA + 0x100
 *                           (2**48 + 0x100)
 *
 * PointerMemory implementations must keep that correspondence on x86_64
 * (ptr64LoWord/ptr64HiWord/ptr64FromWords do the conversion;
 * LinearPointerMemory below is a complete implementation). Dereferencing a
 * poison pointer lands far outside any mapping, as the non-canonical
 * address would fault on the real machine.
 *
 * CONFIG_DEBUG_LIST / CONFIG_LIST_HARDENED: the memory object may carry a
 * ListDebugOptions (field `listDebug`). With it absent or null, list_add and
 * list_del do no checking at all (one property load). With it set, they run
 * __list_add_valid / __list_del_entry_valid first; on corruption the report
 * goes to the reporter with lib/list_debug.c's text and the list is not
 * touched (list_del and list_del_init still poison or re-init the entry
 * itself afterwards, as the kernel does).
 *
 * Nothing here allocates on the add/delete paths: no closures, arrays or
 * objects are created per call.
 */
import { HOST_SECTION_SIZE, type PhysMem } from '../machine/memory.ts';
import type { ArchLayout } from '../arch/x86/layout.ts';
import { formatPtr, X86_64, i386Layout, ptr64LoWord, ptr64HiWord, ptr64FromWords } from '../arch/x86/layout.ts';
export { ptr64LoWord, ptr64HiWord, ptr64FromWords };

const TWO48 = 281474976710656;

/* ------------------------------------------------------------------------ */
/* Memory the lists work through                                            */
/* ------------------------------------------------------------------------ */

/**
 * A corruption report: `msg` is the text lib/list_debug.c passes to
 * CHECK_DATA_CORRUPTION, without its trailing newline; `fn` is the function
 * that reports it (for the WARNING line). A reporter may throw (BUG() for
 * CONFIG_BUG_ON_DATA_CORRUPTION); the operation then does not complete.
 */
export type ListCorruptionReporter = (msg: string, fn: ListCheckFunction) => void;
export type ListCheckFunction = '__list_add_valid_or_report' | '__list_del_entry_valid_or_report';

export interface ListDebugOptions {
  /** CONFIG_DEBUG_LIST (selects LIST_HARDENED): every check, reported by lib/list_debug.c. */
  debugList: boolean;
  /**
   * CONFIG_LIST_HARDENED without DEBUG_LIST: only the cheap inline checks;
   * NULL and poison pointers are not checked first but dereferenced (and
   * fault). A failed check is then reported as with DEBUG_LIST.
   */
  listHardened: boolean;
  report: ListCorruptionReporter | null;
}

/**
 * Pointer-sized access to memory at kernel virtual addresses.
 *
 * readPtr/writePtr move one `void *` (8 bytes on x86_64, 4 on i386) in the
 * JS form described at the top of this file; on x86_64 that includes the
 * poison values (JS numbers in [2**48, 2**49) stand for
 * 0xdead000000000000 + (v - 2**48)).
 */
export interface PointerMemory {
  readonly ptrSize: 8 | 4;
  readPtr(addr: number): number;
  writePtr(addr: number, v: number): void;
  /** List integrity checking; absent or null: off, no cost. */
  listDebug?: ListDebugOptions | null;
}

/* ------------------------------------------------------------------------ */
/* Poison values (include/linux/poison.h)                                   */
/* ------------------------------------------------------------------------ */

/** CONFIG_ILLEGAL_POINTER_VALUE on x86_64, the value stored in memory. */
export const ILLEGAL_POINTER_VALUE_X86_64 = 0xdead000000000000n;
/** The JS form of POISON_POINTER_DELTA on x86_64 (bit 48; see the top of the file). */
export const POISON_POINTER_DELTA_JS64 = TWO48;

/** POISON_POINTER_DELTA in JS form: 0 on i386. */
export function POISON_POINTER_DELTA(ptrSize: 8 | 4): number {
  return ptrSize === 8 ? TWO48 : 0;
}

/** LIST_POISON1 = 0x100 + POISON_POINTER_DELTA, in JS form. */
export function LIST_POISON1(ptrSize: 8 | 4): number {
  return ptrSize === 8 ? TWO48 + 0x100 : 0x100;
}

/** LIST_POISON2 = 0x122 + POISON_POINTER_DELTA, in JS form. */
export function LIST_POISON2(ptrSize: 8 | 4): number {
  return ptrSize === 8 ? TWO48 + 0x122 : 0x122;
}

/** The exact value a pointer in JS form has in memory (for tests and dumps). */
export function ptrToBigInt(ptrSize: 8 | 4, v: number): bigint {
  if (ptrSize === 4) return BigInt(v >>> 0);
  return (BigInt(ptr64HiWord(v) >>> 0) << 32n) | BigInt(ptr64LoWord(v) >>> 0);
}

const FMT64 = X86_64;
const FMT32 = i386Layout(0);

/** A pointer as printk's %px prints it: 16 or 8 hex digits, poison included. */
export function formatPx(ptrSize: 8 | 4, v: number): string {
  if (ptrSize === 4) return formatPtr(FMT32, v);
  if (v >= TWO48) return ptrToBigInt(8, v).toString(16).padStart(16, '0');
  return formatPtr(FMT64, v);
}

/* ------------------------------------------------------------------------ */
/* A PointerMemory for a linear mapping onto PhysMem                        */
/* ------------------------------------------------------------------------ */

/**
 * Kernel virtual addresses [virtBase, ...) mapped linearly onto physical
 * memory from physBase: the direct map (__va(pa) = pa + PAGE_OFFSET) when
 * virtBase = PAGE_OFFSET and physBase = 0. Pointer values are stored as
 * KmemAccess stores them, plus the x86_64 poison range (see the top of the
 * file). An address outside backed RAM throws PhysAccessError, which is
 * what dereferencing a poison pointer does.
 */
export class LinearPointerMemory implements PointerMemory {
  readonly ptrSize: 8 | 4;
  listDebug: ListDebugOptions | null = null;
  private readonly delta: number;

  constructor(
    readonly mem: PhysMem,
    readonly layout: ArchLayout,
    readonly virtBase: number,
    readonly physBase = 0,
  ) {
    this.ptrSize = layout.ptrSize;
    this.delta = virtBase - physBase;
  }

  /** The physical address behind a virtual one. */
  pa(addr: number): number {
    return addr - this.delta;
  }

  readPtr(addr: number): number {
    const pa = addr - this.delta;
    const a = this.mem.i32At(pa);
    const i = (pa % HOST_SECTION_SIZE) >>> 2;
    if (this.ptrSize === 4) return a[i] >>> 0;
    return ptr64FromWords(a[i], a[i + 1]);
  }

  writePtr(addr: number, v: number): void {
    const pa = addr - this.delta;
    const a = this.mem.i32At(pa);
    const i = (pa % HOST_SECTION_SIZE) >>> 2;
    if (this.ptrSize === 4) {
      a[i] = v | 0;
      return;
    }
    a[i] = ptr64LoWord(v);
    a[i + 1] = ptr64HiWord(v);
  }
}

/* ------------------------------------------------------------------------ */
/* CONFIG_DEBUG_LIST checks (lib/list_debug.c)                              */
/* ------------------------------------------------------------------------ */

function corruption(d: ListDebugOptions, msg: string, fn: ListCheckFunction): false {
  if (d.report !== null) d.report(msg, fn);
  return false;
}

/**
 * Performs the full set of list corruption checks before __list_add().
 * On list corruption reports a warning, and returns false.
 */
export function __list_add_valid_or_report(
  m: PointerMemory,
  d: ListDebugOptions,
  newEntry: number,
  prev: number,
  next: number,
): boolean {
  const F = '__list_add_valid_or_report';
  const p = m.ptrSize;
  if (prev === 0) return corruption(d, 'list_add corruption. prev is NULL.', F);
  if (next === 0) return corruption(d, 'list_add corruption. next is NULL.', F);
  const nextPrev = m.readPtr(next + p);
  if (nextPrev !== prev)
    return corruption(
      d,
      `list_add corruption. next->prev should be prev (${formatPx(p, prev)}), but was ${formatPx(p, nextPrev)}. (next=${formatPx(p, next)}).`,
      F,
    );
  const prevNext = m.readPtr(prev);
  if (prevNext !== next)
    return corruption(
      d,
      `list_add corruption. prev->next should be next (${formatPx(p, next)}), but was ${formatPx(p, prevNext)}. (prev=${formatPx(p, prev)}).`,
      F,
    );
  if (newEntry === prev || newEntry === next)
    return corruption(
      d,
      `list_add double add: new=${formatPx(p, newEntry)}, prev=${formatPx(p, prev)}, next=${formatPx(p, next)}.`,
      F,
    );
  return true;
}

/**
 * Performs the full set of list corruption checks before __list_del_entry().
 * On list corruption reports a warning, and returns false.
 */
export function __list_del_entry_valid_or_report(m: PointerMemory, d: ListDebugOptions, entry: number): boolean {
  const F = '__list_del_entry_valid_or_report';
  const p = m.ptrSize;
  const prev = m.readPtr(entry + p);
  const next = m.readPtr(entry);
  if (next === 0) return corruption(d, `list_del corruption, ${formatPx(p, entry)}->next is NULL`, F);
  if (prev === 0) return corruption(d, `list_del corruption, ${formatPx(p, entry)}->prev is NULL`, F);
  const poison1 = LIST_POISON1(p);
  if (next === poison1)
    return corruption(
      d,
      `list_del corruption, ${formatPx(p, entry)}->next is LIST_POISON1 (${formatPx(p, poison1)})`,
      F,
    );
  const poison2 = LIST_POISON2(p);
  if (prev === poison2)
    return corruption(
      d,
      `list_del corruption, ${formatPx(p, entry)}->prev is LIST_POISON2 (${formatPx(p, poison2)})`,
      F,
    );
  const prevNext = m.readPtr(prev);
  if (prevNext !== entry)
    return corruption(
      d,
      `list_del corruption. prev->next should be ${formatPx(p, entry)}, but was ${formatPx(p, prevNext)}. (prev=${formatPx(p, prev)})`,
      F,
    );
  const nextPrev = m.readPtr(next + p);
  if (nextPrev !== entry)
    return corruption(
      d,
      `list_del corruption. next->prev should be ${formatPx(p, entry)}, but was ${formatPx(p, nextPrev)}. (next=${formatPx(p, next)})`,
      F,
    );
  return true;
}

/** __list_add_valid() with checking switched on (d not null). */
function list_add_valid(m: PointerMemory, d: ListDebugOptions, newEntry: number, prev: number, next: number): boolean {
  if (!d.debugList) {
    if (!d.listHardened) return true;
    if (m.readPtr(next + m.ptrSize) === prev && m.readPtr(prev) === next && newEntry !== prev && newEntry !== next)
      return true;
  }
  return __list_add_valid_or_report(m, d, newEntry, prev, next);
}

/** __list_del_entry_valid() with checking switched on (d not null). */
function list_del_entry_valid(m: PointerMemory, d: ListDebugOptions, entry: number): boolean {
  if (!d.debugList) {
    if (!d.listHardened) return true;
    const p = m.ptrSize;
    if (m.readPtr(m.readPtr(entry + p)) === entry && m.readPtr(m.readPtr(entry) + p) === entry) return true;
  }
  return __list_del_entry_valid_or_report(m, d, entry);
}

/* ------------------------------------------------------------------------ */
/* struct list_head                                                         */
/* ------------------------------------------------------------------------ */

/** sizeof(struct list_head). */
export function sizeof_list_head(ptrSize: 8 | 4): number {
  return 2 * ptrSize;
}

/** container_of(ptr, type, member): the struct holding the member at `offset`. */
export function container_of(ptr: number, offset: number): number {
  return ptr - offset;
}

/** list_entry(ptr, type, member). */
export function list_entry(ptr: number, offset: number): number {
  return ptr - offset;
}

/** Initialize a list_head structure to point to itself (an empty list). */
export function INIT_LIST_HEAD(m: PointerMemory, list: number): void {
  m.writePtr(list, list);
  m.writePtr(list + m.ptrSize, list);
}

/** Insert a new entry between two known consecutive entries. */
export function __list_add(m: PointerMemory, newEntry: number, prev: number, next: number): void {
  const d = m.listDebug;
  if (d != null && !list_add_valid(m, d, newEntry, prev, next)) return;
  const p = m.ptrSize;
  m.writePtr(next + p, newEntry);
  m.writePtr(newEntry, next);
  m.writePtr(newEntry + p, prev);
  m.writePtr(prev, newEntry);
}

/** Insert a new entry after the specified head (a stack). */
export function list_add(m: PointerMemory, newEntry: number, head: number): void {
  __list_add(m, newEntry, head, m.readPtr(head));
}

/** Insert a new entry before the specified head (a queue). */
export function list_add_tail(m: PointerMemory, newEntry: number, head: number): void {
  __list_add(m, newEntry, m.readPtr(head + m.ptrSize), head);
}

/** Make the prev/next entries point to each other. */
export function __list_del(m: PointerMemory, prev: number, next: number): void {
  m.writePtr(next + m.ptrSize, prev);
  m.writePtr(prev, next);
}

/** Delete a list entry and clear the 'prev' pointer. */
export function __list_del_clearprev(m: PointerMemory, entry: number): void {
  const p = m.ptrSize;
  __list_del(m, m.readPtr(entry + p), m.readPtr(entry));
  m.writePtr(entry + p, 0);
}

/** Unlink an entry, leaving its own pointers as they were. */
export function __list_del_entry(m: PointerMemory, entry: number): void {
  const d = m.listDebug;
  if (d != null && !list_del_entry_valid(m, d, entry)) return;
  __list_del(m, m.readPtr(entry + m.ptrSize), m.readPtr(entry));
}

/** Delete entry from list; its next/prev become LIST_POISON1/LIST_POISON2. */
export function list_del(m: PointerMemory, entry: number): void {
  __list_del_entry(m, entry);
  const p = m.ptrSize;
  const delta = p === 8 ? TWO48 : 0;
  m.writePtr(entry, 0x100 + delta);
  m.writePtr(entry + p, 0x122 + delta);
}

/** Replace old entry by new one (if old was empty, it will be overwritten). */
export function list_replace(m: PointerMemory, old: number, newEntry: number): void {
  const p = m.ptrSize;
  const next = m.readPtr(old);
  m.writePtr(newEntry, next);
  m.writePtr(next + p, newEntry);
  const prev = m.readPtr(old + p);
  m.writePtr(newEntry + p, prev);
  m.writePtr(prev, newEntry);
}

/** Replace old entry by new one and initialize the old one. */
export function list_replace_init(m: PointerMemory, old: number, newEntry: number): void {
  list_replace(m, old, newEntry);
  INIT_LIST_HEAD(m, old);
}

/** Replace entry1 with entry2 and re-add entry1 at entry2's position. */
export function list_swap(m: PointerMemory, entry1: number, entry2: number): void {
  let pos = m.readPtr(entry2 + m.ptrSize);
  list_del(m, entry2);
  list_replace(m, entry1, entry2);
  if (pos === entry1) pos = entry2;
  list_add(m, entry1, pos);
}

/** Delete entry from list and reinitialize it. */
export function list_del_init(m: PointerMemory, entry: number): void {
  __list_del_entry(m, entry);
  INIT_LIST_HEAD(m, entry);
}

/** list_del_init() paired with list_empty_careful() (ordering is moot here). */
export function list_del_init_careful(m: PointerMemory, entry: number): void {
  __list_del_entry(m, entry);
  m.writePtr(entry + m.ptrSize, entry);
  m.writePtr(entry, entry);
}

/** Delete from one list and add as another's head. */
export function list_move(m: PointerMemory, list: number, head: number): void {
  __list_del_entry(m, list);
  list_add(m, list, head);
}

/** Delete from one list and add as another's tail. */
export function list_move_tail(m: PointerMemory, list: number, head: number): void {
  __list_del_entry(m, list);
  list_add_tail(m, list, head);
}

/** Move entries first..last (inclusive, same list) before head. */
export function list_bulk_move_tail(m: PointerMemory, head: number, first: number, last: number): void {
  const p = m.ptrSize;
  const firstPrev = m.readPtr(first + p);
  const lastNext = m.readPtr(last);
  m.writePtr(firstPrev, lastNext);
  m.writePtr(lastNext + p, firstPrev);

  const headPrev = m.readPtr(head + p);
  m.writePtr(headPrev, first);
  m.writePtr(first + p, headPrev);

  m.writePtr(last, head);
  m.writePtr(head + p, last);
}

/** Tests whether list is the first entry in list head. */
export function list_is_first(m: PointerMemory, list: number, head: number): boolean {
  return m.readPtr(list + m.ptrSize) === head;
}

/** Tests whether list is the last entry in list head. */
export function list_is_last(m: PointerMemory, list: number, head: number): boolean {
  return m.readPtr(list) === head;
}

/** Tests whether list is the list head. */
export function list_is_head(list: number, head: number): boolean {
  return list === head;
}

/** Tests whether a list is empty. */
export function list_empty(m: PointerMemory, head: number): boolean {
  return m.readPtr(head) === head;
}

/** Tests whether a list is empty and not being modified (checks next and prev). */
export function list_empty_careful(m: PointerMemory, head: number): boolean {
  const next = m.readPtr(head);
  return next === head && next === m.readPtr(head + m.ptrSize);
}

/** Rotate the list to the left: the first entry becomes the last. */
export function list_rotate_left(m: PointerMemory, head: number): void {
  if (!list_empty(m, head)) list_move_tail(m, m.readPtr(head), head);
}

/** Rotate the list so that list becomes its front. */
export function list_rotate_to_front(m: PointerMemory, list: number, head: number): void {
  list_move_tail(m, head, list);
}

/** Tests whether a list has just one entry. */
export function list_is_singular(m: PointerMemory, head: number): boolean {
  const next = m.readPtr(head);
  return next !== head && next === m.readPtr(head + m.ptrSize);
}

function __list_cut_position(m: PointerMemory, list: number, head: number, entry: number): void {
  const p = m.ptrSize;
  const newFirst = m.readPtr(entry);
  const headNext = m.readPtr(head);
  m.writePtr(list, headNext);
  m.writePtr(headNext + p, list);
  m.writePtr(list + p, entry);
  m.writePtr(entry, list);
  m.writePtr(head, newFirst);
  m.writePtr(newFirst + p, head);
}

/** Move the initial part of head, up to and including entry, to list. */
export function list_cut_position(m: PointerMemory, list: number, head: number, entry: number): void {
  if (list_empty(m, head)) return;
  if (list_is_singular(m, head) && entry !== head && entry !== m.readPtr(head)) return;
  if (entry === head) INIT_LIST_HEAD(m, list);
  else __list_cut_position(m, list, head, entry);
}

/** Move the initial part of head, up to but excluding entry, to list. */
export function list_cut_before(m: PointerMemory, list: number, head: number, entry: number): void {
  const p = m.ptrSize;
  const headNext = m.readPtr(head);
  if (headNext === entry) {
    INIT_LIST_HEAD(m, list);
    return;
  }
  m.writePtr(list, headNext);
  m.writePtr(headNext + p, list);
  const entryPrev = m.readPtr(entry + p);
  m.writePtr(list + p, entryPrev);
  m.writePtr(entryPrev, list);
  m.writePtr(head, entry);
  m.writePtr(entry + p, head);
}

function __list_splice(m: PointerMemory, list: number, prev: number, next: number): void {
  const p = m.ptrSize;
  const first = m.readPtr(list);
  const last = m.readPtr(list + p);
  m.writePtr(first + p, prev);
  m.writePtr(prev, first);
  m.writePtr(last, next);
  m.writePtr(next + p, last);
}

/** Join two lists (stack order): list's entries go after head. */
export function list_splice(m: PointerMemory, list: number, head: number): void {
  if (!list_empty(m, list)) __list_splice(m, list, head, m.readPtr(head));
}

/** Join two lists (queue order): list's entries go before head. */
export function list_splice_tail(m: PointerMemory, list: number, head: number): void {
  if (!list_empty(m, list)) __list_splice(m, list, m.readPtr(head + m.ptrSize), head);
}

/** list_splice() and reinitialise the emptied list. */
export function list_splice_init(m: PointerMemory, list: number, head: number): void {
  if (!list_empty(m, list)) {
    __list_splice(m, list, head, m.readPtr(head));
    INIT_LIST_HEAD(m, list);
  }
}

/** list_splice_tail() and reinitialise the emptied list. */
export function list_splice_tail_init(m: PointerMemory, list: number, head: number): void {
  if (!list_empty(m, list)) {
    __list_splice(m, list, m.readPtr(head + m.ptrSize), head);
    INIT_LIST_HEAD(m, list);
  }
}

/** The first element (list expected not empty). */
export function list_first_entry(m: PointerMemory, head: number, offset: number): number {
  return m.readPtr(head) - offset;
}

/** The last element (list expected not empty). */
export function list_last_entry(m: PointerMemory, head: number, offset: number): number {
  return m.readPtr(head + m.ptrSize) - offset;
}

/** The first element, or 0 (NULL) if the list is empty. */
export function list_first_entry_or_null(m: PointerMemory, head: number, offset: number): number {
  const pos = m.readPtr(head);
  return pos !== head ? pos - offset : 0;
}

/** The next element after the entry `pos`. */
export function list_next_entry(m: PointerMemory, pos: number, offset: number): number {
  return m.readPtr(pos + offset) - offset;
}

/** The previous element before the entry `pos`. */
export function list_prev_entry(m: PointerMemory, pos: number, offset: number): number {
  return m.readPtr(pos + offset + m.ptrSize) - offset;
}

/** The next element, wrapping from the last to the first. */
export function list_next_entry_circular(m: PointerMemory, pos: number, head: number, offset: number): number {
  return list_is_last(m, pos + offset, head) ? list_first_entry(m, head, offset) : list_next_entry(m, pos, offset);
}

/** The previous element, wrapping from the first to the last. */
export function list_prev_entry_circular(m: PointerMemory, pos: number, head: number, offset: number): number {
  return list_is_first(m, pos + offset, head) ? list_last_entry(m, head, offset) : list_prev_entry(m, pos, offset);
}

/** Test if the entry `pos` is the head's container (the loop's end). */
export function list_entry_is_head(pos: number, head: number, offset: number): boolean {
  return pos + offset === head;
}

/** pos, or head's container if pos is 0: a start point for list_for_each_entry_continue. */
export function list_prepare_entry(pos: number, head: number, offset: number): number {
  return pos !== 0 ? pos : head - offset;
}

/** Count nodes in the list. */
export function list_count_nodes(m: PointerMemory, head: number): number {
  let count = 0;
  for (let pos = m.readPtr(head); pos !== head; pos = m.readPtr(pos)) count++;
  return count;
}

/* ------------------------------------------------------------------------ */
/* Iteration. The visitor returns true to break; each function returns the */
/* cursor where the loop stopped (head, or head's container, when it ran    */
/* to the end), as the C loop variable is left.                             */
/* ------------------------------------------------------------------------ */

export type ListVisitor = (pos: number) => boolean | void;
export type ListSafeVisitor = (pos: number, n: number) => boolean | void;

/** Iterate over a list (pos: each list_head). */
export function list_for_each(m: PointerMemory, head: number, fn: ListVisitor): number {
  let pos = m.readPtr(head);
  while (pos !== head) {
    if (fn(pos) === true) break;
    pos = m.readPtr(pos);
  }
  return pos;
}

/** Continue iterating after the current position. */
export function list_for_each_continue(m: PointerMemory, pos: number, head: number, fn: ListVisitor): number {
  pos = m.readPtr(pos);
  while (pos !== head) {
    if (fn(pos) === true) break;
    pos = m.readPtr(pos);
  }
  return pos;
}

/** Iterate over a list backwards. */
export function list_for_each_prev(m: PointerMemory, head: number, fn: ListVisitor): number {
  const p = m.ptrSize;
  let pos = m.readPtr(head + p);
  while (pos !== head) {
    if (fn(pos) === true) break;
    pos = m.readPtr(pos + p);
  }
  return pos;
}

/** list_for_each_reverse: the same walk as list_for_each_prev. */
export const list_for_each_reverse = list_for_each_prev;

/** Iterate over a list, safe against removal of the current entry. */
export function list_for_each_safe(m: PointerMemory, head: number, fn: ListSafeVisitor): number {
  let pos = m.readPtr(head);
  let n = m.readPtr(pos);
  while (pos !== head) {
    if (fn(pos, n) === true) break;
    pos = n;
    n = m.readPtr(pos);
  }
  return pos;
}

/** Iterate backwards, safe against removal of the current entry. */
export function list_for_each_prev_safe(m: PointerMemory, head: number, fn: ListSafeVisitor): number {
  const p = m.ptrSize;
  let pos = m.readPtr(head + p);
  let n = m.readPtr(pos + p);
  while (pos !== head) {
    if (fn(pos, n) === true) break;
    pos = n;
    n = m.readPtr(pos + p);
  }
  return pos;
}

/** Iterate over the entries (pos: each containing struct; offset: the member's). */
export function list_for_each_entry(m: PointerMemory, head: number, offset: number, fn: ListVisitor): number {
  let pos = m.readPtr(head) - offset;
  while (pos + offset !== head) {
    if (fn(pos) === true) break;
    pos = m.readPtr(pos + offset) - offset;
  }
  return pos;
}

/** Iterate backwards over the entries. */
export function list_for_each_entry_reverse(m: PointerMemory, head: number, offset: number, fn: ListVisitor): number {
  const p = m.ptrSize;
  let pos = m.readPtr(head + p) - offset;
  while (pos + offset !== head) {
    if (fn(pos) === true) break;
    pos = m.readPtr(pos + offset + p) - offset;
  }
  return pos;
}

/** Continue iterating over the entries after `pos`. */
export function list_for_each_entry_continue(
  m: PointerMemory,
  pos: number,
  head: number,
  offset: number,
  fn: ListVisitor,
): number {
  pos = m.readPtr(pos + offset) - offset;
  while (pos + offset !== head) {
    if (fn(pos) === true) break;
    pos = m.readPtr(pos + offset) - offset;
  }
  return pos;
}

/** Iterate backwards from the entry before `pos`. */
export function list_for_each_entry_continue_reverse(
  m: PointerMemory,
  pos: number,
  head: number,
  offset: number,
  fn: ListVisitor,
): number {
  const p = m.ptrSize;
  pos = m.readPtr(pos + offset + p) - offset;
  while (pos + offset !== head) {
    if (fn(pos) === true) break;
    pos = m.readPtr(pos + offset + p) - offset;
  }
  return pos;
}

/** Iterate over the entries starting at `pos` itself. */
export function list_for_each_entry_from(
  m: PointerMemory,
  pos: number,
  head: number,
  offset: number,
  fn: ListVisitor,
): number {
  while (pos + offset !== head) {
    if (fn(pos) === true) break;
    pos = m.readPtr(pos + offset) - offset;
  }
  return pos;
}

/** Iterate over the entries, safe against removal of the current one. */
export function list_for_each_entry_safe(m: PointerMemory, head: number, offset: number, fn: ListSafeVisitor): number {
  let pos = m.readPtr(head) - offset;
  let n = m.readPtr(pos + offset) - offset;
  while (pos + offset !== head) {
    if (fn(pos, n) === true) break;
    pos = n;
    n = m.readPtr(n + offset) - offset;
  }
  return pos;
}

/** Iterate backwards over the entries, safe against removal of the current one. */
export function list_for_each_entry_safe_reverse(
  m: PointerMemory,
  head: number,
  offset: number,
  fn: ListSafeVisitor,
): number {
  const p = m.ptrSize;
  let pos = m.readPtr(head + p) - offset;
  let n = m.readPtr(pos + offset + p) - offset;
  while (pos + offset !== head) {
    if (fn(pos, n) === true) break;
    pos = n;
    n = m.readPtr(n + offset + p) - offset;
  }
  return pos;
}

/* ------------------------------------------------------------------------ */
/* hlist: struct hlist_head { first }, struct hlist_node { next, pprev }    */
/* ------------------------------------------------------------------------ */

/** INIT_HLIST_HEAD: first = NULL. */
export function INIT_HLIST_HEAD(m: PointerMemory, h: number): void {
  m.writePtr(h, 0);
}

/** INIT_HLIST_NODE: next = pprev = NULL. */
export function INIT_HLIST_NODE(m: PointerMemory, n: number): void {
  m.writePtr(n, 0);
  m.writePtr(n + m.ptrSize, 0);
}

/** Has node been removed from list and reinitialized? */
export function hlist_unhashed(m: PointerMemory, n: number): boolean {
  return m.readPtr(n + m.ptrSize) === 0;
}

/** hlist_unhashed() for lockless use (the same load here). */
export function hlist_unhashed_lockless(m: PointerMemory, n: number): boolean {
  return m.readPtr(n + m.ptrSize) === 0;
}

/** Is the hlist empty? */
export function hlist_empty(m: PointerMemory, h: number): boolean {
  return m.readPtr(h) === 0;
}

export function __hlist_del(m: PointerMemory, n: number): void {
  const p = m.ptrSize;
  const next = m.readPtr(n);
  const pprev = m.readPtr(n + p);
  m.writePtr(pprev, next);
  if (next !== 0) m.writePtr(next + p, pprev);
}

/** Delete the node; it is left hashed, holding LIST_POISON1/LIST_POISON2. */
export function hlist_del(m: PointerMemory, n: number): void {
  __hlist_del(m, n);
  const p = m.ptrSize;
  const delta = p === 8 ? TWO48 : 0;
  m.writePtr(n, 0x100 + delta);
  m.writePtr(n + p, 0x122 + delta);
}

/** Delete the node (if hashed) and leave it unhashed. */
export function hlist_del_init(m: PointerMemory, n: number): void {
  if (!hlist_unhashed(m, n)) {
    __hlist_del(m, n);
    INIT_HLIST_NODE(m, n);
  }
}

/** Add a new entry at the beginning of the hlist. */
export function hlist_add_head(m: PointerMemory, n: number, h: number): void {
  const p = m.ptrSize;
  const first = m.readPtr(h);
  m.writePtr(n, first);
  if (first !== 0) m.writePtr(first + p, n);
  m.writePtr(h, n);
  m.writePtr(n + p, h);
}

/** Add a new entry before `next` (non-NULL). */
export function hlist_add_before(m: PointerMemory, n: number, next: number): void {
  const p = m.ptrSize;
  const pprev = m.readPtr(next + p);
  m.writePtr(n + p, pprev);
  m.writePtr(n, next);
  m.writePtr(next + p, n);
  m.writePtr(pprev, n);
}

/** Add a new entry after `prev` (non-NULL). */
export function hlist_add_behind(m: PointerMemory, n: number, prev: number): void {
  const p = m.ptrSize;
  const next = m.readPtr(prev);
  m.writePtr(n, next);
  m.writePtr(prev, n);
  m.writePtr(n + p, prev);
  if (next !== 0) m.writePtr(next + p, n);
}

/** Make n its own predecessor on a headless hlist. */
export function hlist_add_fake(m: PointerMemory, n: number): void {
  m.writePtr(n + m.ptrSize, n);
}

/** Is this node a fake hlist? */
export function hlist_fake(m: PointerMemory, n: number): boolean {
  return m.readPtr(n + m.ptrSize) === n;
}

/** Is n the only element of h (checked without reading h)? */
export function hlist_is_singular_node(m: PointerMemory, n: number, h: number): boolean {
  return m.readPtr(n) === 0 && m.readPtr(n + m.ptrSize) === h;
}

/** Move a list from one hlist_head to another. */
export function hlist_move_list(m: PointerMemory, old: number, newHead: number): void {
  const first = m.readPtr(old);
  m.writePtr(newHead, first);
  if (first !== 0) m.writePtr(first + m.ptrSize, newHead);
  m.writePtr(old, 0);
}

/** Move all entries of `from` (whose last entry is `last`) to the front of `to`. */
export function hlist_splice_init(m: PointerMemory, from: number, last: number, to: number): void {
  const p = m.ptrSize;
  const toFirst = m.readPtr(to);
  if (toFirst !== 0) m.writePtr(toFirst + p, last);
  m.writePtr(last, toFirst);
  const fromFirst = m.readPtr(from);
  m.writePtr(to, fromFirst);
  m.writePtr(fromFirst + p, to);
  m.writePtr(from, 0);
}

/** hlist_entry(ptr, type, member). */
export function hlist_entry(ptr: number, offset: number): number {
  return ptr - offset;
}

/** hlist_entry() that maps NULL to NULL. */
export function hlist_entry_safe(ptr: number, offset: number): number {
  return ptr !== 0 ? ptr - offset : 0;
}

/** Iterate over the nodes; returns the node where it stopped or 0. */
export function hlist_for_each(m: PointerMemory, h: number, fn: ListVisitor): number {
  let pos = m.readPtr(h);
  while (pos !== 0) {
    if (fn(pos) === true) break;
    pos = m.readPtr(pos);
  }
  return pos;
}

/** Iterate over the nodes, safe against removal of the current one. */
export function hlist_for_each_safe(m: PointerMemory, h: number, fn: ListSafeVisitor): number {
  let pos = m.readPtr(h);
  while (pos !== 0) {
    const n = m.readPtr(pos);
    if (fn(pos, n) === true) break;
    pos = n;
  }
  return pos;
}

/** Iterate over the entries; returns the entry where it stopped or 0. */
export function hlist_for_each_entry(m: PointerMemory, h: number, offset: number, fn: ListVisitor): number {
  let pos = hlist_entry_safe(m.readPtr(h), offset);
  while (pos !== 0) {
    if (fn(pos) === true) break;
    pos = hlist_entry_safe(m.readPtr(pos + offset), offset);
  }
  return pos;
}

/** Iterate over the entries after `pos`. */
export function hlist_for_each_entry_continue(m: PointerMemory, pos: number, offset: number, fn: ListVisitor): number {
  pos = hlist_entry_safe(m.readPtr(pos + offset), offset);
  while (pos !== 0) {
    if (fn(pos) === true) break;
    pos = hlist_entry_safe(m.readPtr(pos + offset), offset);
  }
  return pos;
}

/** Iterate over the entries starting at `pos` itself. */
export function hlist_for_each_entry_from(m: PointerMemory, pos: number, offset: number, fn: ListVisitor): number {
  while (pos !== 0) {
    if (fn(pos) === true) break;
    pos = hlist_entry_safe(m.readPtr(pos + offset), offset);
  }
  return pos;
}

/** Iterate over the entries, safe against removal (n: the next node, not entry). */
export function hlist_for_each_entry_safe(m: PointerMemory, h: number, offset: number, fn: ListSafeVisitor): number {
  let pos = hlist_entry_safe(m.readPtr(h), offset);
  while (pos !== 0) {
    const n = m.readPtr(pos + offset);
    if (fn(pos, n) === true) break;
    pos = hlist_entry_safe(n, offset);
  }
  return pos;
}

/** Count nodes in the hlist. */
export function hlist_count_nodes(m: PointerMemory, h: number): number {
  let count = 0;
  for (let pos = m.readPtr(h); pos !== 0; pos = m.readPtr(pos)) count++;
  return count;
}
