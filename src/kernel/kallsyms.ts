/*
 * Code pointers (kernel/kallsyms.c, in spirit).
 *
 * Kernel data structures hold function pointers: a slab cache's
 * constructor (kmem_cache->ctor), an RCU callback (rcu_head->func). kmem's
 * functions are JavaScript and cannot live in simulated memory, so this
 * table is the one place where a JS value stands for machine code: each
 * registered function gets an address in the kernel image's .text, that
 * address is what memory holds, and calling through the pointer looks the
 * function up here. Like the kernel's kallsyms, the table also names an
 * address for reports (%pS without the +offset/size, which JS functions do
 * not have).
 *
 *   .text  +0x000000 ... (code kmem does not model)
 *          +0x200000  first symbol   +0x200010  second symbol   ...
 *
 * A function takes up to two word arguments and returns a word or nothing:
 * `void (*)(void *)` (a ctor's object, an RCU callback's rcu_head),
 * `void *(*)(gfp_t, void *)` (a mempool's alloc_fn), `unsigned long
 * (*)(struct shrinker *, struct shrink_control *)` (a shrinker's count and
 * scan). The table holds no allocator state; it only grows, and
 * registering the same function (or the same key) again returns the same
 * address.
 *
 * Named symbols (symbol()) are code ranges with no JS function behind them:
 * the functions a trace's call_site names (a replayed trace's
 * "alloc_inode+0xa3/0xd0", or the JS function that called the kernel API).
 * They are laid out from .text +0x100000 with the size asked for, so that
 * sprint_symbol() (%pS) prints "name+0xoff/0xsize" as the kernel does.
 */

export type CodePtr = (arg0: number, arg1: number) => number | void;

/** Bytes between two symbols: each "function" occupies 16 bytes of .text. */
const SYMBOL_SIZE = 16;
/** Where the symbols start inside .text. */
const FIRST_SYMBOL = 0x200000;
/** Where the named symbols (symbol()) start; they end before FIRST_SYMBOL. */
const FIRST_NAMED = 0x100000;

export class Kallsyms {
  private readonly fns: CodePtr[] = [];
  private readonly names: string[] = [];
  private readonly byKey = new Map<object, number>();

  /* Named symbols: start offsets in .text (ascending), sizes, names; index by name. */
  private readonly namedStart: number[] = [];
  private readonly namedSize: number[] = [];
  private readonly namedName: string[] = [];
  private readonly namedByName = new Map<string, number>();
  private namedEnd = FIRST_NAMED;

  /** textVa: the virtual address of the kernel's .text; limit: its size in bytes. */
  constructor(private readonly textVa: number, private readonly limit: number) {}

  /** The address of `fn`; `key` (default: fn itself) makes re-registration return the same address. */
  register(name: string, fn: CodePtr, key: object = fn): number {
    const known = this.byKey.get(key);
    if (known !== undefined) return known;
    const off = FIRST_SYMBOL + this.fns.length * SYMBOL_SIZE;
    if (off + SYMBOL_SIZE > this.limit) throw new RangeError('kallsyms: the kernel text has no room for another symbol');
    const addr = this.textVa + off;
    this.fns.push(fn);
    this.names.push(name);
    this.byKey.set(key, addr);
    return addr;
  }

  private index(addr: number): number {
    const off = addr - this.textVa - FIRST_SYMBOL;
    const i = off / SYMBOL_SIZE;
    return off >= 0 && i === Math.floor(i) && i < this.fns.length ? i : -1;
  }

  /**
   * Call through a code pointer; the function's return value (0 for one
   * that returns nothing). An address that is no registered function is
   * the caller's bug.
   */
  call(addr: number, arg0: number, arg1 = 0): number {
    const i = this.index(addr);
    if (i < 0) throw new RangeError(`kallsyms: no function at ${addr.toString(16)}`);
    return this.fns[i](arg0, arg1) ?? 0;
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
    const known = this.namedByName.get(name);
    if (known !== undefined) return this.textVa + this.namedStart[known];
    const sz = size > 0 ? size : 16;
    const bytes = Math.ceil(sz / 16) * 16;
    if (this.namedEnd + bytes > FIRST_SYMBOL) return 0;
    const i = this.namedStart.length;
    this.namedStart.push(this.namedEnd);
    this.namedSize.push(sz);
    this.namedName.push(name);
    this.namedByName.set(name, i);
    this.namedEnd += bytes;
    return this.textVa + this.namedStart[i];
  }

  /**
   * sprint_symbol(), what %pS prints: "name+0xoff/0xsize" for an address
   * inside a named symbol or a registered function (16 bytes each), else
   * the address in hex, as the kernel prints what kallsyms cannot name.
   */
  sprint_symbol(addr: number): string {
    const off = addr - this.textVa;
    if (off >= FIRST_SYMBOL) {
      const d = (off - FIRST_SYMBOL) % SYMBOL_SIZE;
      const i = this.index(addr - d);
      if (i >= 0) return `${this.names[i]}+0x${d.toString(16)}/0x${SYMBOL_SIZE.toString(16)}`;
    } else if (off >= FIRST_NAMED && off < this.namedEnd) {
      let lo = 0;
      let hi = this.namedStart.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (this.namedStart[mid] <= off) lo = mid;
        else hi = mid - 1;
      }
      const d = off - this.namedStart[lo];
      if (d < this.namedSize[lo]) return `${this.namedName[lo]}+0x${d.toString(16)}/0x${this.namedSize[lo].toString(16)}`;
    }
    return '0x' + addr.toString(16);
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
