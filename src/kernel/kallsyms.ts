/*
 * Code pointers (kernel/kallsyms.c, in spirit).
 *
 * Kernel data structures hold function pointers: a slab cache's
 * constructor (kmem_cache->ctor), an RCU callback (rcu_head->func). kmem's
 * functions are JavaScript and cannot live in simulated memory, so each
 * registered function gets an address in the kernel image's .text, that
 * address is what memory holds, and calling through the pointer looks the
 * function up. Like the kernel's kallsyms, the table also names an address
 * for reports (%pS).
 *
 * The symbol table itself is in .text (which holds no modelled code), so
 * every host thread attached to the machine, and a snapshot of its memory,
 * sees the same names at the same addresses:
 *
 *   .text +0            header: lock, nr_fns, named_end, strings_end (ints)
 *         +0x40         string pool: the names, NUL-terminated
 *         +size/4       named symbols, from named_end downwards free:
 *                         [name_off u32, size u32] at the start of each,
 *                         16-byte aligned, laid out in the order first used
 *         +size/2       functions, 16 bytes each: [name_off u32, name_len u32]
 *
 * With the default 4 MiB .text, named symbols start at +0x100000 and
 * functions at +0x200000.
 *
 * Named symbols (symbol()) are code ranges with no JS function behind them:
 * the functions a trace's call_site names ("alloc_inode+0xa3/0xd0"), or the
 * JS function that called the kernel API. Functions (register()) are a
 * thread's JS functions: a JS function cannot cross threads, so what is
 * shared is its name and address, and each thread binds its own function
 * to them. A thread registering a function under a name another thread
 * registered first (and that it has not bound yet) gets the same address;
 * the same key on one thread always gets the same address. Calling through
 * an address that this thread has not bound is reported as an error
 * naming the function.
 *
 * A function takes up to two word arguments and returns a word or nothing:
 * `void (*)(void *)` (a ctor's object, an RCU callback's rcu_head),
 * `void *(*)(gfp_t, void *)` (a mempool's alloc_fn), `unsigned long
 * (*)(struct shrinker *, struct shrink_control *)` (a shrinker's count and
 * scan). The table only grows.
 *
 * Per thread, in JS: the functions bound here, and caches of what was read
 * from the table (refreshed when an address or name is not found in them).
 */
import { PhysMem } from '../machine/memory.ts';
import { waitWhileEqual } from './locking/lock_word.ts';

export type CodePtr = (arg0: number, arg1: number) => number | void;

/** Bytes between two functions: each "function" occupies 16 bytes of .text. */
const SYMBOL_SIZE = 16;
const H_LOCK = 0;
const H_NR_FNS = 4;
const H_NAMED_END = 8;
const H_STRINGS_END = 12;
const STRINGS = 0x40;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class KallsymsError extends Error {
  override name = 'KallsymsError';
}

export class Kallsyms {
  /** Where the named symbols and the functions start inside .text. */
  private readonly firstNamed: number;
  private readonly firstSymbol: number;

  /* functions: this thread's JS function per index (holes for other threads'), names as read */
  private readonly fns: (CodePtr | undefined)[] = [];
  private readonly names: string[] = [];
  private readonly byKey = new Map<object, number>();

  /* named symbols as read from the table: start offsets (ascending), sizes, names; index by name */
  private readonly namedStart: number[] = [];
  private readonly namedSize: number[] = [];
  private readonly namedName: string[] = [];
  private readonly namedByName = new Map<string, number>();
  private namedSeen: number;

  /** textVa/textPa: the kernel's .text; limit: its size in bytes. */
  constructor(
    private readonly mem: PhysMem,
    private readonly textVa: number,
    private readonly textPa: number,
    private readonly limit: number,
  ) {
    this.firstNamed = Math.floor(limit / 4 / SYMBOL_SIZE) * SYMBOL_SIZE;
    this.firstSymbol = Math.floor(limit / 2 / SYMBOL_SIZE) * SYMBOL_SIZE;
    this.namedSeen = this.firstNamed;
  }

  /** At boot: an empty table. */
  init(): void {
    this.mem.fill(this.textPa, STRINGS, 0);
    this.mem.write32(this.textPa + H_NAMED_END, this.firstNamed);
    this.mem.write32(this.textPa + H_STRINGS_END, STRINGS);
  }

  /** The address of `fn`; `key` (default: fn itself) makes re-registration return the same address. */
  register(name: string, fn: CodePtr, key: object = fn): number {
    const known = this.byKey.get(key);
    if (known !== undefined) return known;
    this.syncFunctions();
    let i = -1;
    for (let j = 0; j < this.names.length; j++) {
      if (this.fns[j] === undefined && this.names[j] === name) {
        i = j;
        break;
      }
    }
    if (i < 0) i = this.appendFunction(name);
    this.fns[i] = fn;
    const addr = this.textVa + this.firstSymbol + i * SYMBOL_SIZE;
    this.byKey.set(key, addr);
    return addr;
  }

  private index(addr: number): number {
    const off = addr - this.textVa - this.firstSymbol;
    const i = off / SYMBOL_SIZE;
    if (off < 0 || i !== Math.floor(i)) return -1;
    if (i >= this.names.length) this.syncFunctions();
    return i < this.names.length ? i : -1;
  }

  /**
   * Call through a code pointer; the function's return value (0 for one
   * that returns nothing). An address that is no registered function is
   * the caller's bug.
   */
  call(addr: number, arg0: number, arg1 = 0): number {
    const i = this.index(addr);
    if (i < 0) throw new RangeError(`kallsyms: no function at ${addr.toString(16)}`);
    const fn = this.fns[i];
    if (fn === undefined) {
      throw new KallsymsError(`kallsyms: ${this.names[i]} at ${addr.toString(16)} was registered by another thread; ` +
        'register the same function under that name on this one to call it here');
    }
    return fn(arg0, arg1) ?? 0;
  }

  /**
   * Bind `fn` to every function of the table that this thread has no JS
   * function for (a snapshot's RAM loaded into a fresh machine: its code
   * pointers are in .text, its JavaScript is not); returns how many.
   */
  bindUnbound(fn: CodePtr): number {
    this.syncFunctions();
    let n = 0;
    for (let i = 0; i < this.names.length; i++) {
      if (this.fns[i] === undefined) {
        this.fns[i] = fn;
        n++;
      }
    }
    return n;
  }

    /** Is addr a registered function? */
  isFunction(addr: number): boolean {
    return this.index(addr) >= 0;
  }

  /** The symbol's name, or null for an address that is not a registered function. */
  name(addr: number): string | null {
    const i = this.index(addr);
    return i < 0 ? null : this.names[i];
  }

  /**
   * The start address of a named code range of `size` bytes, laid out on
   * first use (16-byte aligned); the same name again returns the same
   * address (keeping the size it got first). 0 when .text has no room left.
   */
  symbol(name: string, size = 0x100): number {
    let known = this.namedByName.get(name);
    if (known === undefined) {
      this.syncNamed();
      known = this.namedByName.get(name);
    }
    if (known === undefined) {
      this.lock();
      try {
        this.syncNamed();
        known = this.namedByName.get(name) ?? this.appendNamed(name, size);
      } finally {
        this.unlock();
      }
      if (known < 0) return 0;
    }
    return this.textVa + this.namedStart[known];
  }

  /**
   * sprint_symbol(), what %pS prints: "name+0xoff/0xsize" for an address
   * inside a named symbol or a registered function (16 bytes each), else
   * the address in hex, as the kernel prints what kallsyms cannot name.
   */
  sprint_symbol(addr: number): string {
    const off = addr - this.textVa;
    if (off >= this.firstSymbol) {
      const d = (off - this.firstSymbol) % SYMBOL_SIZE;
      const i = this.index(addr - d);
      if (i >= 0) return `${this.names[i]}+0x${d.toString(16)}/0x${SYMBOL_SIZE.toString(16)}`;
    } else if (off >= this.firstNamed) {
      if (off >= this.namedSeen) this.syncNamed();
      if (off < this.namedSeen && this.namedStart.length > 0) {
        let lo = 0;
        let hi = this.namedStart.length - 1;
        while (lo < hi) {
          const mid = (lo + hi + 1) >> 1;
          if (this.namedStart[mid] <= off) lo = mid;
          else hi = mid - 1;
        }
        const d = off - this.namedStart[lo];
        if (d >= 0 && d < this.namedSize[lo]) return `${this.namedName[lo]}+0x${d.toString(16)}/0x${this.namedSize[lo].toString(16)}`;
      }
    }
    return '0x' + addr.toString(16);
  }

  /* ------------------------------------------------------------ the table in .text */

  private header(): Int32Array {
    return this.mem.i32At(this.textPa);
  }

  private lock(): void {
    const a = this.header();
    const i = PhysMem.wordIndex(this.textPa + H_LOCK);
    while (Atomics.compareExchange(a, i, 0, 1) !== 0) waitWhileEqual(a, i, 1, 1);
  }

  private unlock(): void {
    const a = this.header();
    const i = PhysMem.wordIndex(this.textPa + H_LOCK);
    Atomics.store(a, i, 0);
    Atomics.notify(a, i);
  }

  private readName(nameOff: number, len: number): string {
    return decoder.decode(this.mem.readBytes(this.textPa + nameOff, len));
  }

  /** Append a NUL-terminated name to the string pool (lock held); its offset, or -1 when full. */
  private appendString(name: string): [number, number] {
    const bytes = encoder.encode(name);
    const off = this.mem.read32(this.textPa + H_STRINGS_END);
    if (off + bytes.length + 1 > this.firstNamed) return [-1, 0];
    this.mem.writeBytes(this.textPa + off, bytes);
    this.mem.write8(this.textPa + off + bytes.length, 0);
    this.mem.write32(this.textPa + H_STRINGS_END, off + bytes.length + 1);
    return [off, bytes.length];
  }

  private syncFunctions(): void {
    const n = Atomics.load(this.header(), PhysMem.wordIndex(this.textPa + H_NR_FNS));
    for (let i = this.names.length; i < n; i++) {
      const e = this.textPa + this.firstSymbol + i * SYMBOL_SIZE;
      this.names.push(this.readName(this.mem.read32(e), this.mem.read32(e + 4)));
    }
  }

  private appendFunction(name: string): number {
    let i: number;
    this.lock();
    try {
      i = this.mem.read32(this.textPa + H_NR_FNS);
      const e = this.firstSymbol + i * SYMBOL_SIZE;
      if (e + SYMBOL_SIZE > this.limit) throw new RangeError('kallsyms: the kernel text has no room for another symbol');
      const [off, len] = this.appendString(name);
      if (off < 0) throw new RangeError('kallsyms: the symbol names fill their part of .text');
      this.mem.write32(this.textPa + e, off);
      this.mem.write32(this.textPa + e + 4, len);
      Atomics.store(this.header(), PhysMem.wordIndex(this.textPa + H_NR_FNS), i + 1);
    } finally {
      this.unlock();
    }
    this.syncFunctions();
    return i;
  }

  private syncNamed(): void {
    const end = Atomics.load(this.header(), PhysMem.wordIndex(this.textPa + H_NAMED_END));
    while (this.namedSeen < end) {
      const start = this.namedSeen;
      const nameOff = this.mem.read32(this.textPa + start);
      const size = this.mem.read32(this.textPa + start + 4);
      const name = decoder.decode(this.mem.readBytes(this.textPa + nameOff, this.strlen(nameOff)));
      this.namedByName.set(name, this.namedStart.length);
      this.namedStart.push(start);
      this.namedSize.push(size);
      this.namedName.push(name);
      this.namedSeen = start + Math.ceil(Math.max(size, 16) / 16) * 16;
    }
  }

  private strlen(off: number): number {
    let n = 0;
    while (this.mem.read8(this.textPa + off + n) !== 0) n++;
    return n;
  }

  /** Lay out a named symbol at named_end (lock held, table synced); its index, or -1 when full. */
  private appendNamed(name: string, size: number): number {
    const sz = size > 0 ? size : 16;
    const bytes = Math.ceil(Math.max(sz, 16) / 16) * 16;
    const start = this.namedSeen;
    if (start + bytes > this.firstSymbol) return -1;
    const [off] = this.appendString(name);
    if (off < 0) return -1;
    this.mem.write32(this.textPa + start, off);
    this.mem.write32(this.textPa + start + 4, sz);
    Atomics.store(this.header(), PhysMem.wordIndex(this.textPa + H_NAMED_END), start + bytes);
    this.syncNamed();
    return this.namedByName.get(name) ?? -1;
  }
}

/**
 * _RET_IP_ as %pS prints it, for the kernel API's callers: the name of the
 * nearest JS function on the stack outside kmem's own src/ tree (a module's
 * init or exit, a test), or "0x0" when the stack says nothing usable. Only
 * for reports: it costs a stack capture.
 */
export function callerSymbol(): string {
  const stack = new Error().stack ?? '';
  for (const line of stack.split('\n').slice(1)) {
    if (/[/\\]src[/\\]/.test(line)) continue;
    // V8: "    at name (file:line:col)"; SpiderMonkey/JSC: "name@file:line:col"
    const m = /^\s*at (?:async )?([\w$.<>]+) \(/.exec(line) ?? /^([\w$.<>]+)@/.exec(line);
    return m ? m[1].replace(/^.*\./, '') : '0x0';
  }
  return '0x0';
}
