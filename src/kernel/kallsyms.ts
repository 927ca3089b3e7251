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
 * Every function takes one pointer argument (`void (*)(void *)`: a ctor's
 * object, an RCU callback's rcu_head) and returns nothing. The table holds
 * no allocator state; it only grows, and registering the same function (or
 * the same key) again returns the same address.
 */

export type CodePtr = (arg: number) => void;

/** Bytes between two symbols: each "function" occupies 16 bytes of .text. */
const SYMBOL_SIZE = 16;
/** Where the symbols start inside .text. */
const FIRST_SYMBOL = 0x200000;

export class Kallsyms {
  private readonly fns: CodePtr[] = [];
  private readonly names: string[] = [];
  private readonly byKey = new Map<object, number>();

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

  /** Call through a code pointer. An address that is no registered function is the caller's bug. */
  call(addr: number, arg: number): void {
    const i = this.index(addr);
    if (i < 0) throw new RangeError(`kallsyms: no function at ${addr.toString(16)}`);
    this.fns[i](arg);
  }

  /** The symbol's name, or null for an address that is not a registered function. */
  name(addr: number): string | null {
    const i = this.index(addr);
    return i < 0 ? null : this.names[i];
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
