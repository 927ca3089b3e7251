/*
 * lib/list-test.c (Linux 6.12) ported: the `list-kunit-test` suite (39
 * cases) and the `hlist` suite (18 cases), run on lists that live in
 * simulated memory, for x86_64 (8-byte pointers) and i386 (4-byte), each
 * with list checking off, CONFIG_DEBUG_LIST, and CONFIG_LIST_HARDENED alone
 * (where no correct list may produce a report). The C tests' stack
 * variables become allocations from a small arena filled with garbage, so
 * nothing relies on zeroed memory. The `klist` suite (lib/klist.c, with
 * kref-counted nodes) is not ported: klist is not part of this module.
 *
 * Then: CONFIG_DEBUG_LIST reports (exact lib/list_debug.c text, list left
 * untouched), LIST_HARDENED behaviour, and the poison values as raw bytes.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PhysMem, PhysAccessError } from '../../src/machine/memory.ts';
import { X86_64, i386Layout, type ArchLayout } from '../../src/arch/x86/layout.ts';
import {
  LinearPointerMemory,
  type ListDebugOptions,
  type ListCheckFunction,
  LIST_POISON1,
  LIST_POISON2,
  POISON_POINTER_DELTA,
  ptr64FromWords,
  ptr64HiWord,
  ptr64LoWord,
  ptrToBigInt,
  formatPx,
  INIT_LIST_HEAD,
  list_add,
  list_add_tail,
  list_del,
  __list_del_entry,
  list_replace,
  list_replace_init,
  list_swap,
  list_del_init,
  list_del_init_careful,
  list_move,
  list_move_tail,
  list_bulk_move_tail,
  list_is_head,
  list_is_first,
  list_is_last,
  list_empty,
  list_empty_careful,
  list_rotate_left,
  list_rotate_to_front,
  list_is_singular,
  list_cut_position,
  list_cut_before,
  list_splice,
  list_splice_tail,
  list_splice_init,
  list_splice_tail_init,
  list_entry,
  container_of,
  list_entry_is_head,
  list_first_entry,
  list_last_entry,
  list_first_entry_or_null,
  list_next_entry,
  list_prev_entry,
  list_next_entry_circular,
  list_prev_entry_circular,
  list_prepare_entry,
  list_count_nodes,
  list_for_each,
  list_for_each_continue,
  list_for_each_prev,
  list_for_each_safe,
  list_for_each_prev_safe,
  list_for_each_entry,
  list_for_each_entry_reverse,
  list_for_each_entry_continue,
  list_for_each_entry_continue_reverse,
  list_for_each_entry_from,
  list_for_each_entry_safe,
  list_for_each_entry_safe_reverse,
  INIT_HLIST_HEAD,
  INIT_HLIST_NODE,
  hlist_unhashed,
  hlist_unhashed_lockless,
  hlist_empty,
  hlist_del,
  hlist_del_init,
  hlist_add_head,
  hlist_add_before,
  hlist_add_behind,
  hlist_add_fake,
  hlist_fake,
  hlist_is_singular_node,
  hlist_move_list,
  hlist_splice_init,
  hlist_entry,
  hlist_entry_safe,
  hlist_for_each,
  hlist_for_each_safe,
  hlist_for_each_entry,
  hlist_for_each_entry_continue,
  hlist_for_each_entry_from,
  hlist_for_each_entry_safe,
  hlist_count_nodes,
} from '../../src/lib/list.ts';

/* ------------------------------------------------------------------------ */
/* A small machine: 1 MiB of RAM seen through the direct map                */
/* ------------------------------------------------------------------------ */

const ARENA = 0x1000; // physical offset of the first allocation
const GARBAGE = 0x5a; // what uninitialised "stack" memory holds

type DebugMode = 'off' | 'debug' | 'hardened';

class Env {
  readonly mem: PhysMem;
  readonly m: LinearPointerMemory;
  readonly p: 8 | 4;
  readonly base: number;
  readonly reports: { msg: string; fn: ListCheckFunction }[] = [];
  private brk = 0;

  constructor(readonly layout: ArchLayout, readonly mode: DebugMode) {
    this.mem = PhysMem.create(1 << 20, [[0, 1 << 20]]);
    this.base = layout.PAGE_OFFSET;
    this.m = new LinearPointerMemory(this.mem, layout, this.base, 0);
    this.p = layout.ptrSize;
    this.setMode(mode);
    this.reset();
  }

  setMode(mode: DebugMode): void {
    const opts: ListDebugOptions = {
      debugList: mode === 'debug',
      listHardened: mode !== 'off',
      report: (msg, fn) => {
        this.reports.push({ msg, fn });
      },
    };
    this.m.listDebug = mode === 'off' ? null : opts;
  }

  reset(): void {
    this.mem.fill(0, 1 << 16, GARBAGE);
    this.brk = this.base + ARENA;
    this.reports.length = 0;
  }

  /** Uninitialised memory (a C local), 16-byte aligned. */
  alloc(size: number): number {
    const a = this.brk;
    this.brk += (size + 15) & ~15;
    return a;
  }

  /** `struct list_head a;` */
  list_head(): number {
    return this.alloc(2 * this.p);
  }

  /** `LIST_HEAD(name);` */
  LIST_HEAD(): number {
    const h = this.list_head();
    INIT_LIST_HEAD(this.m, h);
    return h;
  }

  /** `struct list_head entries[n];` (contiguous) */
  list_heads(n: number): number[] {
    const a = this.alloc(n * 2 * this.p);
    return Array.from({ length: n }, (_, i) => a + i * 2 * this.p);
  }

  /** `struct list_test_struct { int data; struct list_head list; }` and hlist_test_struct alike. */
  get structOffset(): number {
    return this.p; // the int, padded to pointer alignment
  }

  structs(n: number): number[] {
    const size = 3 * this.p;
    const a = this.alloc(n * size);
    return Array.from({ length: n }, (_, i) => a + i * size);
  }

  /** `struct hlist_head h;` / `HLIST_HEAD(h);` */
  hlist_head(): number {
    return this.alloc(this.p);
  }

  HLIST_HEAD(): number {
    const h = this.hlist_head();
    INIT_HLIST_HEAD(this.m, h);
    return h;
  }

  hlist_nodes(n: number): number[] {
    return this.list_heads(n);
  }

  next(a: number): number {
    return this.m.readPtr(a);
  }

  prev(a: number): number {
    return this.m.readPtr(a + this.p);
  }

  /** hlist_node.pprev; hlist_head.first is next(). */
  pprev(a: number): number {
    return this.m.readPtr(a + this.p);
  }

  getData(s: number): number {
    return this.mem.read32(this.m.pa(s)) | 0;
  }

  setData(s: number, v: number): void {
    this.mem.write32(this.m.pa(s), v);
  }

  /** The bytes of everything allocated so far. */
  snapshot(): Uint8Array {
    return this.mem.readBytes(ARENA, this.brk - this.base - ARENA);
  }
}

const ARCHES: readonly ArchLayout[] = [X86_64, i386Layout(896 << 20)];
const MODES: readonly DebugMode[] = ['off', 'debug', 'hardened'];

type Case = (env: Env) => void;

/* ------------------------------------------------------------------------ */
/* list-kunit-test                                                          */
/* ------------------------------------------------------------------------ */

const listCases: [string, Case][] = [
  [
    'list_test_list_init',
    (e) => {
      const { m } = e;
      /* Test the different ways of initialising a list. */
      const list1 = e.list_head(); // struct list_head list1 = LIST_HEAD_INIT(list1);
      m.writePtr(list1, list1);
      m.writePtr(list1 + e.p, list1);
      const list2 = e.list_head();
      const list3 = e.LIST_HEAD();
      INIT_LIST_HEAD(m, list2);
      const list4 = e.list_head(); // kzalloc
      e.mem.fill(m.pa(list4), 2 * e.p, 0);
      INIT_LIST_HEAD(m, list4);
      const list5 = e.list_head(); // kmalloc + memset(0xFF)
      e.mem.fill(m.pa(list5), 2 * e.p, 0xff);
      INIT_LIST_HEAD(m, list5);

      /* list_empty_careful() checks both next and prev. */
      assert.ok(list_empty_careful(m, list1));
      assert.ok(list_empty_careful(m, list2));
      assert.ok(list_empty_careful(m, list3));
      assert.ok(list_empty_careful(m, list4));
      assert.ok(list_empty_careful(m, list5));
    },
  ],
  [
    'list_test_list_add',
    (e) => {
      const { m } = e;
      const a = e.list_head();
      const b = e.list_head();
      const list = e.LIST_HEAD();
      list_add(m, a, list);
      list_add(m, b, list);
      /* should be [list] -> b -> a */
      assert.equal(e.next(list), b);
      assert.equal(e.prev(b), list);
      assert.equal(e.next(b), a);
    },
  ],
  [
    'list_test_list_add_tail',
    (e) => {
      const { m } = e;
      const a = e.list_head();
      const b = e.list_head();
      const list = e.LIST_HEAD();
      list_add_tail(m, a, list);
      list_add_tail(m, b, list);
      /* should be [list] -> a -> b */
      assert.equal(e.next(list), a);
      assert.equal(e.prev(a), list);
      assert.equal(e.next(a), b);
    },
  ],
  [
    'list_test_list_del',
    (e) => {
      const { m } = e;
      const a = e.list_head();
      const b = e.list_head();
      const list = e.LIST_HEAD();
      list_add_tail(m, a, list);
      list_add_tail(m, b, list);
      /* before: [list] -> a -> b */
      list_del(m, a);
      /* now: [list] -> b */
      assert.equal(e.next(list), b);
      assert.equal(e.prev(b), list);
    },
  ],
  [
    'list_test_list_replace',
    (e) => {
      const { m } = e;
      const a_old = e.list_head();
      const a_new = e.list_head();
      const b = e.list_head();
      const list = e.LIST_HEAD();
      list_add_tail(m, a_old, list);
      list_add_tail(m, b, list);
      /* before: [list] -> a_old -> b */
      list_replace(m, a_old, a_new);
      /* now: [list] -> a_new -> b */
      assert.equal(e.next(list), a_new);
      assert.equal(e.prev(b), a_new);
      assert.equal(e.next(a_new), b);
      assert.equal(e.prev(a_new), list);
    },
  ],
  [
    'list_test_list_replace_init',
    (e) => {
      const { m } = e;
      const a_old = e.list_head();
      const a_new = e.list_head();
      const b = e.list_head();
      const list = e.LIST_HEAD();
      list_add_tail(m, a_old, list);
      list_add_tail(m, b, list);
      /* before: [list] -> a_old -> b */
      list_replace_init(m, a_old, a_new);
      /* now: [list] -> a_new -> b */
      assert.equal(e.next(list), a_new);
      assert.equal(e.prev(b), a_new);
      assert.equal(e.next(a_new), b);
      assert.equal(e.prev(a_new), list);
      /* check a_old is empty (initialized) */
      assert.ok(list_empty_careful(m, a_old));
    },
  ],
  [
    'list_test_list_swap',
    (e) => {
      const { m } = e;
      const a = e.list_head();
      const b = e.list_head();
      const list = e.LIST_HEAD();
      list_add_tail(m, a, list);
      list_add_tail(m, b, list);
      /* before: [list] -> a -> b */
      list_swap(m, a, b);
      /* after: [list] -> b -> a */
      assert.equal(b, e.next(list));
      assert.equal(a, e.prev(list));
      assert.equal(a, e.next(b));
      assert.equal(list, e.prev(b));
      assert.equal(list, e.next(a));
      assert.equal(b, e.prev(a));
    },
  ],
  [
    'list_test_list_del_init',
    (e) => {
      const { m } = e;
      const a = e.list_head();
      const b = e.list_head();
      const list = e.LIST_HEAD();
      list_add_tail(m, a, list);
      list_add_tail(m, b, list);
      /* before: [list] -> a -> b */
      list_del_init(m, a);
      /* after: [list] -> b, a initialised */
      assert.equal(e.next(list), b);
      assert.equal(e.prev(b), list);
      assert.ok(list_empty_careful(m, a));
    },
  ],
  [
    'list_test_list_del_init_careful',
    (e) => {
      const { m } = e;
      const a = e.list_head();
      const b = e.list_head();
      const list = e.LIST_HEAD();
      list_add_tail(m, a, list);
      list_add_tail(m, b, list);
      /* before: [list] -> a -> b */
      list_del_init_careful(m, a);
      /* after: [list] -> b, a initialised */
      assert.equal(e.next(list), b);
      assert.equal(e.prev(b), list);
      assert.ok(list_empty_careful(m, a));
    },
  ],
  [
    'list_test_list_move',
    (e) => {
      const { m } = e;
      const a = e.list_head();
      const b = e.list_head();
      const list1 = e.LIST_HEAD();
      const list2 = e.LIST_HEAD();
      list_add_tail(m, a, list1);
      list_add_tail(m, b, list2);
      /* before: [list1] -> a, [list2] -> b */
      list_move(m, a, list2);
      /* after: [list1] empty, [list2] -> a -> b */
      assert.ok(list_empty(m, list1));
      assert.equal(a, e.next(list2));
      assert.equal(b, e.next(a));
    },
  ],
  [
    'list_test_list_move_tail',
    (e) => {
      const { m } = e;
      const a = e.list_head();
      const b = e.list_head();
      const list1 = e.LIST_HEAD();
      const list2 = e.LIST_HEAD();
      list_add_tail(m, a, list1);
      list_add_tail(m, b, list2);
      /* before: [list1] -> a, [list2] -> b */
      list_move_tail(m, a, list2);
      /* after: [list1] empty, [list2] -> b -> a */
      assert.ok(list_empty(m, list1));
      assert.equal(b, e.next(list2));
      assert.equal(a, e.next(b));
    },
  ],
  [
    'list_test_list_bulk_move_tail',
    (e) => {
      const { m } = e;
      const [a, b, c, d, x, y] = [0, 0, 0, 0, 0, 0].map(() => e.list_head());
      const list1_values = [x, b, c, y];
      const list2_values = [a, d];
      const list1 = e.LIST_HEAD();
      const list2 = e.LIST_HEAD();
      let i = 0;

      list_add_tail(m, x, list1);
      list_add_tail(m, y, list1);
      list_add_tail(m, a, list2);
      list_add_tail(m, b, list2);
      list_add_tail(m, c, list2);
      list_add_tail(m, d, list2);

      /* before: [list1] -> x -> y, [list2] -> a -> b -> c -> d */
      list_bulk_move_tail(m, y, b, c);
      /* after: [list1] -> x -> b -> c -> y, [list2] -> a -> d */

      list_for_each(m, list1, (ptr) => {
        assert.equal(ptr, list1_values[i]);
        i++;
      });
      assert.equal(i, 4);
      i = 0;
      list_for_each(m, list2, (ptr) => {
        assert.equal(ptr, list2_values[i]);
        i++;
      });
      assert.equal(i, 2);
    },
  ],
  [
    'list_test_list_is_head',
    (e) => {
      const { m } = e;
      const a = e.list_head();
      const b = e.list_head();
      const c = e.list_head();
      /* Two lists: [a] -> b, [c] */
      INIT_LIST_HEAD(m, a);
      INIT_LIST_HEAD(m, c);
      list_add_tail(m, b, a);
      assert.ok(list_is_head(a, a), 'Head element of same list');
      assert.ok(!list_is_head(a, b), 'Non-head element of same list');
      assert.ok(!list_is_head(a, c), 'Head element of different list');
    },
  ],
  [
    'list_test_list_is_first',
    (e) => {
      const { m } = e;
      const a = e.list_head();
      const b = e.list_head();
      const list = e.LIST_HEAD();
      list_add_tail(m, a, list);
      list_add_tail(m, b, list);
      assert.ok(list_is_first(m, a, list));
      assert.ok(!list_is_first(m, b, list));
    },
  ],
  [
    'list_test_list_is_last',
    (e) => {
      const { m } = e;
      const a = e.list_head();
      const b = e.list_head();
      const list = e.LIST_HEAD();
      list_add_tail(m, a, list);
      list_add_tail(m, b, list);
      assert.ok(!list_is_last(m, a, list));
      assert.ok(list_is_last(m, b, list));
    },
  ],
  [
    'list_test_list_empty',
    (e) => {
      const { m } = e;
      const a = e.list_head();
      const list1 = e.LIST_HEAD();
      const list2 = e.LIST_HEAD();
      list_add_tail(m, a, list1);
      assert.ok(!list_empty(m, list1));
      assert.ok(list_empty(m, list2));
    },
  ],
  [
    'list_test_list_empty_careful',
    (e) => {
      const { m } = e;
      /* This test doesn't check correctness under concurrent access */
      const a = e.list_head();
      const list1 = e.LIST_HEAD();
      const list2 = e.LIST_HEAD();
      list_add_tail(m, a, list1);
      assert.ok(!list_empty_careful(m, list1));
      assert.ok(list_empty_careful(m, list2));
    },
  ],
  [
    'list_test_list_rotate_left',
    (e) => {
      const { m } = e;
      const a = e.list_head();
      const b = e.list_head();
      const list = e.LIST_HEAD();
      list_add_tail(m, a, list);
      list_add_tail(m, b, list);
      /* before: [list] -> a -> b */
      list_rotate_left(m, list);
      /* after: [list] -> b -> a */
      assert.equal(e.next(list), b);
      assert.equal(e.prev(b), list);
      assert.equal(e.next(b), a);
    },
  ],
  [
    'list_test_list_rotate_to_front',
    (e) => {
      const { m } = e;
      const [a, b, c, d] = [0, 0, 0, 0].map(() => e.list_head());
      const list_values = [c, d, a, b];
      const list = e.LIST_HEAD();
      let i = 0;
      list_add_tail(m, a, list);
      list_add_tail(m, b, list);
      list_add_tail(m, c, list);
      list_add_tail(m, d, list);
      /* before: [list] -> a -> b -> c -> d */
      list_rotate_to_front(m, c, list);
      /* after: [list] -> c -> d -> a -> b */
      list_for_each(m, list, (ptr) => {
        assert.equal(ptr, list_values[i]);
        i++;
      });
      assert.equal(i, 4);
    },
  ],
  [
    'list_test_list_is_singular',
    (e) => {
      const { m } = e;
      const a = e.list_head();
      const b = e.list_head();
      const list = e.LIST_HEAD();
      /* [list] empty */
      assert.ok(!list_is_singular(m, list));
      list_add_tail(m, a, list);
      /* [list] -> a */
      assert.ok(list_is_singular(m, list));
      list_add_tail(m, b, list);
      /* [list] -> a -> b */
      assert.ok(!list_is_singular(m, list));
    },
  ],
  [
    'list_test_list_cut_position',
    (e) => {
      const { m } = e;
      const entries = e.list_heads(3);
      const list1 = e.LIST_HEAD();
      const list2 = e.LIST_HEAD();
      let i = 0;
      list_add_tail(m, entries[0], list1);
      list_add_tail(m, entries[1], list1);
      list_add_tail(m, entries[2], list1);
      /* before: [list1] -> entries[0] -> entries[1] -> entries[2] */
      list_cut_position(m, list2, list1, entries[1]);
      /* after: [list2] -> entries[0] -> entries[1], [list1] -> entries[2] */
      list_for_each(m, list2, (cur) => {
        assert.equal(cur, entries[i]);
        i++;
      });
      assert.equal(i, 2);
      list_for_each(m, list1, (cur) => {
        assert.equal(cur, entries[i]);
        i++;
      });
      assert.equal(i, 3); // implied by the C test's entries[] bounds
    },
  ],
  [
    'list_test_list_cut_before',
    (e) => {
      const { m } = e;
      const entries = e.list_heads(3);
      const list1 = e.LIST_HEAD();
      const list2 = e.LIST_HEAD();
      let i = 0;
      list_add_tail(m, entries[0], list1);
      list_add_tail(m, entries[1], list1);
      list_add_tail(m, entries[2], list1);
      /* before: [list1] -> entries[0] -> entries[1] -> entries[2] */
      list_cut_before(m, list2, list1, entries[1]);
      /* after: [list2] -> entries[0], [list1] -> entries[1] -> entries[2] */
      list_for_each(m, list2, (cur) => {
        assert.equal(cur, entries[i]);
        i++;
      });
      assert.equal(i, 1);
      list_for_each(m, list1, (cur) => {
        assert.equal(cur, entries[i]);
        i++;
      });
      assert.equal(i, 3);
    },
  ],
  ...(
    [
      ['list_test_list_splice', 'splice'],
      ['list_test_list_splice_tail', 'splice_tail'],
      ['list_test_list_splice_init', 'splice_init'],
      ['list_test_list_splice_tail_init', 'splice_tail_init'],
    ] as const
  ).map(([name, op]): [string, Case] => [
    name,
    (e) => {
      const { m } = e;
      const entries = e.list_heads(5);
      const list1 = e.LIST_HEAD();
      const list2 = e.LIST_HEAD();
      let i = 0;
      list_add_tail(m, entries[0], list1);
      list_add_tail(m, entries[1], list1);
      list_add_tail(m, entries[2], list2);
      list_add_tail(m, entries[3], list2);
      list_add_tail(m, entries[4], list1);
      /* before: [list1]->e[0]->e[1]->e[4], [list2]->e[2]->e[3] */
      if (op === 'splice') list_splice(m, list2, entries[1]);
      else if (op === 'splice_tail') list_splice_tail(m, list2, entries[4]);
      else if (op === 'splice_init') list_splice_init(m, list2, entries[1]);
      else list_splice_tail_init(m, list2, entries[4]);
      /* after: [list1]->e[0]->e[1]->e[2]->e[3]->e[4], [list2] uninit/empty */
      list_for_each(m, list1, (cur) => {
        assert.equal(cur, entries[i]);
        i++;
      });
      assert.equal(i, 5);
      if (op === 'splice_init' || op === 'splice_tail_init') assert.ok(list_empty_careful(m, list2));
    },
  ]),
  [
    'list_test_list_entry',
    (e) => {
      const [test_struct] = e.structs(1);
      const off = e.structOffset;
      assert.equal(test_struct, list_entry(test_struct + off, off));
      assert.equal(test_struct, container_of(test_struct + off, off));
    },
  ],
  [
    'list_test_list_entry_is_head',
    (e) => {
      const { m } = e;
      const off = e.structOffset;
      const [test_struct1, test_struct2, test_struct3] = e.structs(3);
      INIT_LIST_HEAD(m, test_struct1 + off);
      INIT_LIST_HEAD(m, test_struct3 + off);
      list_add_tail(m, test_struct2 + off, test_struct1 + off);
      assert.ok(list_entry_is_head(test_struct1, test_struct1 + off, off), 'Head element of same list');
      assert.ok(!list_entry_is_head(test_struct2, test_struct1 + off, off), 'Non-head element of same list');
      assert.ok(!list_entry_is_head(test_struct3, test_struct1 + off, off), 'Head element of different list');
    },
  ],
  [
    'list_test_list_first_entry',
    (e) => {
      const { m } = e;
      const off = e.structOffset;
      const [test_struct1, test_struct2] = e.structs(2);
      const list = e.LIST_HEAD();
      list_add_tail(m, test_struct1 + off, list);
      list_add_tail(m, test_struct2 + off, list);
      assert.equal(test_struct1, list_first_entry(m, list, off));
    },
  ],
  [
    'list_test_list_last_entry',
    (e) => {
      const { m } = e;
      const off = e.structOffset;
      const [test_struct1, test_struct2] = e.structs(2);
      const list = e.LIST_HEAD();
      list_add_tail(m, test_struct1 + off, list);
      list_add_tail(m, test_struct2 + off, list);
      assert.equal(test_struct2, list_last_entry(m, list, off));
    },
  ],
  [
    'list_test_list_first_entry_or_null',
    (e) => {
      const { m } = e;
      const off = e.structOffset;
      const [test_struct1, test_struct2] = e.structs(2);
      const list = e.LIST_HEAD();
      assert.equal(list_first_entry_or_null(m, list, off), 0);
      list_add_tail(m, test_struct1 + off, list);
      list_add_tail(m, test_struct2 + off, list);
      assert.equal(test_struct1, list_first_entry_or_null(m, list, off));
    },
  ],
  [
    'list_test_list_next_entry',
    (e) => {
      const { m } = e;
      const off = e.structOffset;
      const [test_struct1, test_struct2] = e.structs(2);
      const list = e.LIST_HEAD();
      list_add_tail(m, test_struct1 + off, list);
      list_add_tail(m, test_struct2 + off, list);
      assert.equal(test_struct2, list_next_entry(m, test_struct1, off));
    },
  ],
  [
    'list_test_list_prev_entry',
    (e) => {
      const { m } = e;
      const off = e.structOffset;
      const [test_struct1, test_struct2] = e.structs(2);
      const list = e.LIST_HEAD();
      list_add_tail(m, test_struct1 + off, list);
      list_add_tail(m, test_struct2 + off, list);
      assert.equal(test_struct1, list_prev_entry(m, test_struct2, off));
    },
  ],
  [
    'list_test_list_for_each',
    (e) => {
      const { m } = e;
      const entries = e.list_heads(3);
      const list = e.LIST_HEAD();
      let i = 0;
      for (const x of entries) list_add_tail(m, x, list);
      list_for_each(m, list, (cur) => {
        assert.equal(cur, entries[i]);
        i++;
      });
      assert.equal(i, 3);
    },
  ],
  [
    'list_test_list_for_each_prev',
    (e) => {
      const { m } = e;
      const entries = e.list_heads(3);
      const list = e.LIST_HEAD();
      let i = 2;
      for (const x of entries) list_add_tail(m, x, list);
      list_for_each_prev(m, list, (cur) => {
        assert.equal(cur, entries[i]);
        i--;
      });
      assert.equal(i, -1);
    },
  ],
  [
    'list_test_list_for_each_safe',
    (e) => {
      const { m } = e;
      const entries = e.list_heads(3);
      const list = e.LIST_HEAD();
      let i = 0;
      for (const x of entries) list_add_tail(m, x, list);
      list_for_each_safe(m, list, (cur) => {
        assert.equal(cur, entries[i]);
        list_del(m, entries[i]);
        i++;
      });
      assert.equal(i, 3);
      assert.ok(list_empty(m, list));
    },
  ],
  [
    'list_test_list_for_each_prev_safe',
    (e) => {
      const { m } = e;
      const entries = e.list_heads(3);
      const list = e.LIST_HEAD();
      let i = 2;
      for (const x of entries) list_add_tail(m, x, list);
      list_for_each_prev_safe(m, list, (cur) => {
        assert.equal(cur, entries[i]);
        list_del(m, entries[i]);
        i--;
      });
      assert.equal(i, -1);
      assert.ok(list_empty(m, list));
    },
  ],
  [
    'list_test_list_for_each_entry',
    (e) => {
      const { m } = e;
      const off = e.structOffset;
      const entries = e.structs(5);
      const list = e.LIST_HEAD();
      let i: number;
      for (i = 0; i < 5; ++i) {
        e.setData(entries[i], i);
        list_add_tail(m, entries[i] + off, list);
      }
      i = 0;
      list_for_each_entry(m, list, off, (cur) => {
        assert.equal(e.getData(cur), i);
        i++;
      });
      assert.equal(i, 5);
    },
  ],
  [
    'list_test_list_for_each_entry_reverse',
    (e) => {
      const { m } = e;
      const off = e.structOffset;
      const entries = e.structs(5);
      const list = e.LIST_HEAD();
      let i: number;
      for (i = 0; i < 5; ++i) {
        e.setData(entries[i], i);
        list_add_tail(m, entries[i] + off, list);
      }
      i = 4;
      list_for_each_entry_reverse(m, list, off, (cur) => {
        assert.equal(e.getData(cur), i);
        i--;
      });
      assert.equal(i, -1);
    },
  ],
];

/* ------------------------------------------------------------------------ */
/* hlist                                                                    */
/* ------------------------------------------------------------------------ */

/** entries[0] at the head, entries[i] behind entries[i-1], data = i. */
function hlistOfStructs(e: Env, n: number): { list: number; entries: number[]; off: number } {
  const { m } = e;
  const off = e.structOffset;
  const entries = e.structs(n);
  const list = e.HLIST_HEAD();
  e.setData(entries[0], 0);
  hlist_add_head(m, entries[0] + off, list);
  for (let i = 1; i < n; ++i) {
    e.setData(entries[i], i);
    hlist_add_behind(m, entries[i] + off, entries[i - 1] + off);
  }
  return { list, entries, off };
}

const hlistCases: [string, Case][] = [
  [
    'hlist_test_init',
    (e) => {
      const { m } = e;
      /* Test the different ways of initialising a list. */
      const list1 = e.hlist_head(); // HLIST_HEAD_INIT
      m.writePtr(list1, 0);
      const list2 = e.hlist_head();
      const list3 = e.HLIST_HEAD();
      INIT_HLIST_HEAD(m, list2);
      const list4 = e.hlist_head(); // kzalloc
      e.mem.fill(m.pa(list4), e.p, 0);
      INIT_HLIST_HEAD(m, list4);
      const list5 = e.hlist_head(); // kmalloc + memset(0xFF)
      e.mem.fill(m.pa(list5), e.p, 0xff);
      INIT_HLIST_HEAD(m, list5);
      assert.ok(hlist_empty(m, list1));
      assert.ok(hlist_empty(m, list2));
      assert.ok(hlist_empty(m, list3));
      assert.ok(hlist_empty(m, list4));
      assert.ok(hlist_empty(m, list5));
    },
  ],
  ...([
    ['hlist_test_unhashed', hlist_unhashed],
    ['hlist_test_unhashed_lockless', hlist_unhashed_lockless],
  ] as const).map(([name, unhashed]): [string, Case] => [
    name,
    (e) => {
      const { m } = e;
      const [a] = e.hlist_nodes(1);
      const list = e.HLIST_HEAD();
      INIT_HLIST_NODE(m, a);
      /* is unhashed by default */
      assert.ok(unhashed(m, a));
      hlist_add_head(m, a, list);
      /* is hashed once added to list */
      assert.ok(!unhashed(m, a));
      hlist_del_init(m, a);
      /* is again unhashed after del_init */
      assert.ok(unhashed(m, a));
    },
  ]),
  [
    'hlist_test_del',
    (e) => {
      const { m } = e;
      const [a, b] = e.hlist_nodes(2);
      const list = e.HLIST_HEAD();
      hlist_add_head(m, a, list);
      hlist_add_behind(m, b, a);
      /* before: [list] -> a -> b */
      hlist_del(m, a);
      /* now: [list] -> b */
      assert.equal(e.next(list), b);
      assert.equal(e.pprev(b), list); // &list.first
    },
  ],
  [
    'hlist_test_del_init',
    (e) => {
      const { m } = e;
      const [a, b] = e.hlist_nodes(2);
      const list = e.HLIST_HEAD();
      hlist_add_head(m, a, list);
      hlist_add_behind(m, b, a);
      /* before: [list] -> a -> b */
      hlist_del_init(m, a);
      /* now: [list] -> b */
      assert.equal(e.next(list), b);
      assert.equal(e.pprev(b), list);
      /* a is now initialised */
      assert.equal(e.next(a), 0);
      assert.equal(e.pprev(a), 0);
    },
  ],
  [
    'hlist_test_add',
    (e) => {
      const { m } = e;
      const [a, b, c, d] = e.hlist_nodes(4);
      const list = e.HLIST_HEAD();
      hlist_add_head(m, a, list);
      hlist_add_head(m, b, list);
      hlist_add_before(m, c, a);
      hlist_add_behind(m, d, a);
      /* should be [list] -> b -> c -> a -> d */
      assert.equal(e.next(list), b);
      assert.equal(e.pprev(c), b); // &(b.next)
      assert.equal(e.next(b), c);
      assert.equal(e.pprev(a), c);
      assert.equal(e.next(c), a);
      assert.equal(e.pprev(d), a);
      assert.equal(e.next(a), d);
    },
  ],
  [
    'hlist_test_fake',
    (e) => {
      const { m } = e;
      const [a] = e.hlist_nodes(1);
      INIT_HLIST_NODE(m, a);
      /* not fake after init */
      assert.ok(!hlist_fake(m, a));
      hlist_add_fake(m, a);
      /* is now fake */
      assert.ok(hlist_fake(m, a));
    },
  ],
  [
    'hlist_test_is_singular_node',
    (e) => {
      const { m } = e;
      const [a, b] = e.hlist_nodes(2);
      const list = e.HLIST_HEAD();
      INIT_HLIST_NODE(m, a);
      assert.ok(!hlist_is_singular_node(m, a, list));
      hlist_add_head(m, a, list);
      assert.ok(hlist_is_singular_node(m, a, list));
      hlist_add_head(m, b, list);
      assert.ok(!hlist_is_singular_node(m, a, list));
      assert.ok(!hlist_is_singular_node(m, b, list));
    },
  ],
  [
    'hlist_test_empty',
    (e) => {
      const { m } = e;
      const [a] = e.hlist_nodes(1);
      const list = e.HLIST_HEAD();
      /* list starts off empty */
      assert.ok(hlist_empty(m, list));
      hlist_add_head(m, a, list);
      /* list is no longer empty */
      assert.ok(!hlist_empty(m, list));
    },
  ],
  [
    'hlist_test_move_list',
    (e) => {
      const { m } = e;
      const [a] = e.hlist_nodes(1);
      const list1 = e.HLIST_HEAD();
      const list2 = e.HLIST_HEAD();
      hlist_add_head(m, a, list1);
      assert.ok(!hlist_empty(m, list1));
      assert.ok(hlist_empty(m, list2));
      hlist_move_list(m, list1, list2);
      assert.ok(hlist_empty(m, list1));
      assert.ok(!hlist_empty(m, list2));
    },
  ],
  [
    'hlist_test_entry',
    (e) => {
      const [test_struct] = e.structs(1);
      const off = e.structOffset;
      assert.equal(test_struct, hlist_entry(test_struct + off, off));
    },
  ],
  [
    'hlist_test_entry_safe',
    (e) => {
      const [test_struct] = e.structs(1);
      const off = e.structOffset;
      assert.equal(test_struct, hlist_entry_safe(test_struct + off, off));
      assert.equal(0, hlist_entry_safe(0, off));
    },
  ],
  [
    'hlist_test_for_each',
    (e) => {
      const { m } = e;
      const entries = e.hlist_nodes(3);
      const list = e.HLIST_HEAD();
      let i = 0;
      hlist_add_head(m, entries[0], list);
      hlist_add_behind(m, entries[1], entries[0]);
      hlist_add_behind(m, entries[2], entries[1]);
      hlist_for_each(m, list, (cur) => {
        assert.equal(cur, entries[i]);
        i++;
      });
      assert.equal(i, 3);
    },
  ],
  [
    'hlist_test_for_each_safe',
    (e) => {
      const { m } = e;
      const entries = e.hlist_nodes(3);
      const list = e.HLIST_HEAD();
      let i = 0;
      hlist_add_head(m, entries[0], list);
      hlist_add_behind(m, entries[1], entries[0]);
      hlist_add_behind(m, entries[2], entries[1]);
      hlist_for_each_safe(m, list, (cur) => {
        assert.equal(cur, entries[i]);
        hlist_del(m, entries[i]);
        i++;
      });
      assert.equal(i, 3);
      assert.ok(hlist_empty(m, list));
    },
  ],
  [
    'hlist_test_for_each_entry',
    (e) => {
      const { m } = e;
      const { list, off } = hlistOfStructs(e, 5);
      let i = 0;
      hlist_for_each_entry(m, list, off, (cur) => {
        assert.equal(e.getData(cur), i);
        i++;
      });
      assert.equal(i, 5);
    },
  ],
  [
    'hlist_test_for_each_entry_continue',
    (e) => {
      const { m } = e;
      const { entries, off } = hlistOfStructs(e, 5);
      /* We skip the first (zero-th) entry. */
      let i = 1;
      hlist_for_each_entry_continue(m, entries[0], off, (cur) => {
        assert.equal(e.getData(cur), i);
        /* Stamp over the entry. */
        e.setData(cur, 42);
        i++;
      });
      assert.equal(i, 5);
      /* The first entry was not visited. */
      assert.equal(e.getData(entries[0]), 0);
      /* The second (and presumably others), were. */
      assert.equal(e.getData(entries[1]), 42);
    },
  ],
  [
    'hlist_test_for_each_entry_from',
    (e) => {
      const { m } = e;
      const { entries, off } = hlistOfStructs(e, 5);
      let i = 0;
      hlist_for_each_entry_from(m, entries[0], off, (cur) => {
        assert.equal(e.getData(cur), i);
        /* Stamp over the entry. */
        e.setData(cur, 42);
        i++;
      });
      assert.equal(i, 5);
      /* The first entry was visited. */
      assert.equal(e.getData(entries[0]), 42);
    },
  ],
  [
    'hlist_test_for_each_entry_safe',
    (e) => {
      const { m } = e;
      const { list, off } = hlistOfStructs(e, 5);
      let i = 0;
      hlist_for_each_entry_safe(m, list, off, (cur) => {
        assert.equal(e.getData(cur), i);
        hlist_del(m, cur + off);
        i++;
      });
      assert.equal(i, 5);
      assert.ok(hlist_empty(m, list));
    },
  ],
];

test('the ported suites have the 6.12 case counts', () => {
  assert.equal(listCases.length, 39);
  assert.equal(hlistCases.length, 18);
  assert.equal(new Set(listCases.map(([n]) => n)).size, 39);
});

for (const layout of ARCHES) {
  for (const mode of MODES) {
    const env = new Env(layout, mode);
    const cfg = mode === 'off' ? 'no list checks' : mode === 'debug' ? 'CONFIG_DEBUG_LIST' : 'CONFIG_LIST_HARDENED';
    for (const [suite, cases] of [
      ['list-kunit-test', listCases],
      ['hlist', hlistCases],
    ] as const) {
      describe(`${suite} (${layout.arch}, ${cfg})`, () => {
        for (const [name, fn] of cases) {
          test(name, () => {
            env.reset();
            fn(env);
            assert.deepEqual(env.reports, [], 'a correct list produced corruption reports');
          });
        }
      });
    }
  }
}

/* ------------------------------------------------------------------------ */
/* Beyond list-test.c: the remaining helpers and iterators                  */
/* ------------------------------------------------------------------------ */

for (const layout of ARCHES) {
  describe(`list helpers (${layout.arch})`, () => {
    const e = new Env(layout, 'debug');

    test('list_count_nodes / hlist_count_nodes', () => {
      e.reset();
      const { m } = e;
      const list = e.LIST_HEAD();
      assert.equal(list_count_nodes(m, list), 0);
      for (const x of e.list_heads(7)) list_add(m, x, list);
      assert.equal(list_count_nodes(m, list), 7);
      const h = e.HLIST_HEAD();
      assert.equal(hlist_count_nodes(m, h), 0);
      for (const x of e.hlist_nodes(4)) hlist_add_head(m, x, h);
      assert.equal(hlist_count_nodes(m, h), 4);
      assert.deepEqual(e.reports, []);
    });

    test('visitors break on true and return the cursor, as the C loop leaves it', () => {
      e.reset();
      const { m } = e;
      const off = e.structOffset;
      const s = e.structs(5);
      const list = e.LIST_HEAD();
      s.forEach((x, i) => {
        e.setData(x, i);
        list_add_tail(m, x + off, list);
      });
      assert.equal(list_for_each(m, list, (pos) => pos === s[2] + off), s[2] + off);
      assert.equal(list_for_each(m, list, () => {}), list);
      const found = list_for_each_entry(m, list, off, (pos) => e.getData(pos) === 3);
      assert.equal(found, s[3]);
      const notFound = list_for_each_entry(m, list, off, () => false);
      assert.ok(list_entry_is_head(notFound, list, off));
      assert.equal(notFound, list - off);
      assert.equal(hlist_for_each(m, e.HLIST_HEAD(), () => true), 0);
    });

    test('continue / from / reverse / safe entry iterators', () => {
      e.reset();
      const { m } = e;
      const off = e.structOffset;
      const s = e.structs(5);
      const list = e.LIST_HEAD();
      s.forEach((x, i) => {
        e.setData(x, i);
        list_add_tail(m, x + off, list);
      });
      const seen: number[] = [];
      const rec = (pos: number): void => {
        seen.push(e.getData(pos));
      };
      list_for_each_entry_continue(m, s[1], list, off, rec);
      assert.deepEqual(seen.splice(0), [2, 3, 4]);
      list_for_each_entry_from(m, s[1], list, off, rec);
      assert.deepEqual(seen.splice(0), [1, 2, 3, 4]);
      list_for_each_entry_continue_reverse(m, s[3], list, off, rec);
      assert.deepEqual(seen.splice(0), [2, 1, 0]);
      list_for_each_entry_continue(m, list_prepare_entry(0, list, off), list, off, rec);
      assert.deepEqual(seen.splice(0), [0, 1, 2, 3, 4]);
      list_for_each_continue(m, s[2] + off, list, (pos) => rec(pos - off));
      assert.deepEqual(seen.splice(0), [3, 4]);
      assert.equal(list_next_entry_circular(m, s[4], list, off), s[0]);
      assert.equal(list_prev_entry_circular(m, s[0], list, off), s[4]);
      assert.equal(list_next_entry_circular(m, s[1], list, off), s[2]);

      list_for_each_entry_safe_reverse(m, list, off, (pos) => {
        rec(pos);
        if (e.getData(pos) % 2 === 1) list_del(m, pos + off);
      });
      assert.deepEqual(seen.splice(0), [4, 3, 2, 1, 0]);
      list_for_each_entry_safe(m, list, off, (pos, n) => {
        rec(pos);
        assert.equal(n, list_next_entry(m, pos, off));
        list_del_init(m, pos + off);
      });
      assert.deepEqual(seen.splice(0), [0, 2, 4]);
      assert.ok(list_empty_careful(m, list));
      assert.deepEqual(e.reports, []);
    });

    test('list_cut_position edge cases: empty, singular, entry == head', () => {
      e.reset();
      const { m } = e;
      const [a, b] = e.list_heads(2);
      const list1 = e.LIST_HEAD();
      const list2 = e.LIST_HEAD();
      list_cut_position(m, list2, list1, list1); // empty: nothing
      assert.ok(list_empty(m, list1) && list_empty(m, list2));
      list_add_tail(m, a, list1);
      list_cut_position(m, list2, list1, b); // singular, entry not on it: nothing
      assert.equal(e.next(list1), a);
      list_cut_position(m, list2, list1, list1); // entry == head: list re-initialised
      assert.ok(list_empty(m, list2));
      assert.equal(e.next(list1), a);
      list_cut_position(m, list2, list1, a);
      assert.ok(list_empty(m, list1));
      assert.equal(e.next(list2), a);
      assert.equal(e.prev(list2), a);
      list_cut_before(m, list1, list2, list2); // everything moves
      assert.ok(list_empty(m, list2));
      assert.equal(e.next(list1), a);
      assert.equal(e.prev(a), list1);
      assert.deepEqual(e.reports, []);
    });

    test('hlist_splice_init', () => {
      e.reset();
      const { m } = e;
      const [a, b, c] = e.hlist_nodes(3);
      const from = e.HLIST_HEAD();
      const to = e.HLIST_HEAD();
      hlist_add_head(m, b, from);
      hlist_add_head(m, a, from);
      hlist_add_head(m, c, to);
      hlist_splice_init(m, from, b, to); // to: a -> b -> c
      assert.ok(hlist_empty(m, from));
      assert.equal(e.next(to), a);
      assert.equal(e.pprev(a), to);
      assert.equal(e.next(b), c);
      assert.equal(e.pprev(c), b);
      assert.equal(e.next(c), 0);
    });
  });
}

/* ------------------------------------------------------------------------ */
/* Poison values in memory                                                  */
/* ------------------------------------------------------------------------ */

describe('LIST_POISON1/LIST_POISON2', () => {
  test('x86_64: list_del stores 0xdead000000000100 / 0xdead000000000122', () => {
    const e = new Env(X86_64, 'off');
    const { m, mem } = e;
    const [a, b] = e.list_heads(2);
    const list = e.LIST_HEAD();
    list_add_tail(m, a, list);
    list_add_tail(m, b, list);
    // Canonical kernel pointers are stored as all 8 bytes.
    assert.equal(mem.read64n(m.pa(list)), 0xffff888000001000n); // a
    assert.equal(mem.read64n(m.pa(a) + 8), 0xffff888000001020n); // list
    list_del(m, a);
    assert.equal(mem.read64n(m.pa(a)), 0xdead000000000100n);
    assert.equal(mem.read64n(m.pa(a) + 8), 0xdead000000000122n);
    assert.equal(m.readPtr(a), LIST_POISON1(8));
    assert.equal(m.readPtr(a + 8), LIST_POISON2(8));
    assert.equal(LIST_POISON1(8), 2 ** 48 + 0x100);
    assert.equal(POISON_POINTER_DELTA(8), 2 ** 48);
    assert.equal(ptrToBigInt(8, LIST_POISON1(8)), 0xdead000000000100n);
    assert.equal(formatPx(8, LIST_POISON2(8)), 'dead000000000122');
    // The poison is not confused with the user address 0x100.
    assert.notEqual(LIST_POISON1(8), 0x100);

    const h = e.HLIST_HEAD();
    const [n] = e.hlist_nodes(1);
    hlist_add_head(m, n, h);
    hlist_del(m, n);
    assert.ok(hlist_empty(m, h));
    assert.equal(mem.read64n(m.pa(n)), 0xdead000000000100n);
    assert.equal(mem.read64n(m.pa(n) + 8), 0xdead000000000122n);
  });

  test('i386: POISON_POINTER_DELTA is 0', () => {
    const e = new Env(i386Layout(896 << 20), 'off');
    const { m, mem } = e;
    const [a, b] = e.list_heads(2);
    const list = e.LIST_HEAD();
    list_add_tail(m, a, list);
    list_add_tail(m, b, list);
    assert.equal(mem.read32(m.pa(list)), 0xc0001000); // a
    list_del(m, a);
    assert.equal(mem.read32(m.pa(a)), 0x100);
    assert.equal(mem.read32(m.pa(a) + 4), 0x122);
    assert.equal(LIST_POISON1(4), 0x100);
    assert.equal(LIST_POISON2(4), 0x122);
    assert.equal(POISON_POINTER_DELTA(4), 0);
    assert.equal(formatPx(4, LIST_POISON1(4)), '00000100');
    const h = e.HLIST_HEAD();
    const [n] = e.hlist_nodes(1);
    hlist_add_head(m, n, h);
    hlist_del(m, n);
    assert.ok(hlist_empty(m, h));
    assert.equal(mem.read32(m.pa(n)), 0x100);
    assert.equal(mem.read32(m.pa(n) + 4), 0x122);
  });

  test('x86_64 pointer words round-trip', () => {
    for (const [v, bytes] of [
      [0x888000001000, 0xffff888000001000n],
      [0xffffffffffff, 0xffffffffffffffffn],
      [0x800000000000, 0xffff800000000000n],
      [0x7fffffffffff, 0x00007fffffffffffn],
      [0x1000, 0x1000n],
      [0, 0n],
      [2 ** 48 + 0x100, 0xdead000000000100n],
      [2 ** 48 + 0xd390, 0xdead00000000d390n],
    ] as const) {
      assert.equal(ptrToBigInt(8, v), bytes);
      assert.equal(ptr64FromWords(ptr64LoWord(v), ptr64HiWord(v)), v);
      assert.equal(ptr64FromWords(Number(bytes & 0xffffffffn), Number(bytes >> 32n)), v);
    }
  });

  for (const layout of ARCHES) {
    test(`${layout.arch}: without list checks, a second list_del faults on the poison`, () => {
      const e = new Env(layout, 'off');
      const { m } = e;
      const [a, b] = e.list_heads(2);
      const list = e.LIST_HEAD();
      list_add_tail(m, a, list);
      list_add_tail(m, b, list);
      list_del(m, a);
      assert.throws(() => list_del(m, a), PhysAccessError);
      assert.equal(e.next(list), b);
      assert.equal(e.prev(b), list);
    });
  }
});

/* ------------------------------------------------------------------------ */
/* CONFIG_DEBUG_LIST reports (lib/list_debug.c)                             */
/* ------------------------------------------------------------------------ */

/** %px of the arena's first structs: head = +0x1000, a, b, c every 0x10. */
const PX = {
  x86_64: {
    H: 'ffff888000001000',
    A: 'ffff888000001010',
    B: 'ffff888000001020',
    C: 'ffff888000001030',
    P1: 'dead000000000100',
    P2: 'dead000000000122',
  },
  i386: { H: 'c0001000', A: 'c0001010', B: 'c0001020', C: 'c0001030', P1: '00000100', P2: '00000122' },
} as const;

interface Scenario {
  name: string;
  /** Corrupt the list [list] -> a -> b (c is spare), then make the call that must be refused. */
  run(e: Env, list: number, a: number, b: number, c: number): void;
  fn: ListCheckFunction;
  msg(px: (typeof PX)['x86_64'] | (typeof PX)['i386']): string;
  /** The entry the operation poisons or re-initialises regardless (list_del), if any. */
  entry?: 'a';
  /** LIST_HARDENED alone: 'report' (caught inline), 'fault' (dereferenced). */
  hardened: 'report' | 'fault';
}

const ADD = '__list_add_valid_or_report';
const DEL = '__list_del_entry_valid_or_report';

const scenarios: Scenario[] = [
  {
    name: 'list_add: prev is NULL',
    run: (e, list, _a, _b, c) => {
      e.m.writePtr(list + e.p, 0);
      list_add_tail(e.m, c, list);
    },
    fn: ADD,
    msg: () => 'list_add corruption. prev is NULL.',
    hardened: 'fault',
  },
  {
    name: 'list_add: next is NULL',
    run: (e, list, _a, _b, c) => {
      e.m.writePtr(list, 0);
      list_add(e.m, c, list);
    },
    fn: ADD,
    msg: () => 'list_add corruption. next is NULL.',
    hardened: 'fault',
  },
  {
    name: 'list_add: next->prev is not prev',
    run: (e, list, a, _b, c) => {
      e.m.writePtr(a + e.p, c);
      list_add(e.m, c, list);
    },
    fn: ADD,
    msg: (x) => `list_add corruption. next->prev should be prev (${x.H}), but was ${x.C}. (next=${x.A}).`,
    hardened: 'report',
  },
  {
    name: 'list_add: prev->next is not next',
    run: (e, list, _a, b, c) => {
      e.m.writePtr(b, c);
      list_add_tail(e.m, c, list);
    },
    fn: ADD,
    msg: (x) => `list_add corruption. prev->next should be next (${x.H}), but was ${x.C}. (prev=${x.B}).`,
    hardened: 'report',
  },
  {
    name: 'list_add: double add (new == next)',
    run: (e, list, a) => list_add(e.m, a, list),
    fn: ADD,
    msg: (x) => `list_add double add: new=${x.A}, prev=${x.H}, next=${x.A}.`,
    hardened: 'report',
  },
  {
    name: 'list_add: double add (new == prev)',
    run: (e, list, _a, b) => list_add_tail(e.m, b, list),
    fn: ADD,
    msg: (x) => `list_add double add: new=${x.B}, prev=${x.B}, next=${x.H}.`,
    hardened: 'report',
  },
  {
    name: 'list_del: next is NULL',
    run: (e, _list, a) => {
      e.m.writePtr(a, 0);
      list_del(e.m, a);
    },
    fn: DEL,
    msg: (x) => `list_del corruption, ${x.A}->next is NULL`,
    entry: 'a',
    hardened: 'fault',
  },
  {
    name: 'list_del: prev is NULL',
    run: (e, _list, a) => {
      e.m.writePtr(a + e.p, 0);
      list_del(e.m, a);
    },
    fn: DEL,
    msg: (x) => `list_del corruption, ${x.A}->prev is NULL`,
    entry: 'a',
    hardened: 'fault',
  },
  {
    name: 'list_del: double delete (next is LIST_POISON1)',
    run: (e, list, a, b) => {
      // Unlink a by hand so that the snapshot below sees the list without it.
      e.m.writePtr(list, b);
      e.m.writePtr(b + e.p, list);
      e.m.writePtr(a, LIST_POISON1(e.p));
      e.m.writePtr(a + e.p, LIST_POISON2(e.p));
      list_del(e.m, a);
    },
    fn: DEL,
    msg: (x) => `list_del corruption, ${x.A}->next is LIST_POISON1 (${x.P1})`,
    entry: 'a',
    hardened: 'fault',
  },
  {
    name: 'list_del: prev is LIST_POISON2',
    run: (e, _list, a) => {
      e.m.writePtr(a + e.p, LIST_POISON2(e.p));
      list_del(e.m, a);
    },
    fn: DEL,
    msg: (x) => `list_del corruption, ${x.A}->prev is LIST_POISON2 (${x.P2})`,
    entry: 'a',
    hardened: 'fault',
  },
  {
    name: 'list_del: prev->next is not entry',
    run: (e, list, a, _b, c) => {
      e.m.writePtr(list, c);
      list_del(e.m, a);
    },
    fn: DEL,
    msg: (x) => `list_del corruption. prev->next should be ${x.A}, but was ${x.C}. (prev=${x.H})`,
    entry: 'a',
    hardened: 'report',
  },
  {
    name: 'list_del: next->prev is not entry',
    run: (e, _list, a, b, c) => {
      e.m.writePtr(b + e.p, c);
      list_del(e.m, a);
    },
    fn: DEL,
    msg: (x) => `list_del corruption. next->prev should be ${x.A}, but was ${x.C}. (next=${x.B})`,
    entry: 'a',
    hardened: 'report',
  },
];

/** Set up [list] -> a -> b with a spare c at the addresses PX names. */
function corruptible(e: Env): [number, number, number, number] {
  e.reset();
  const list = e.LIST_HEAD();
  const [a, b, c] = [e.list_head(), e.list_head(), e.list_head()];
  list_add_tail(e.m, a, list);
  list_add_tail(e.m, b, list);
  INIT_LIST_HEAD(e.m, c);
  return [list, a, b, c];
}

/** Run a scenario's corruption step alone (without the refused call) to get the "before" picture. */
function beforePicture(e: Env, s: Scenario): Uint8Array {
  const [list, a, b, c] = corruptible(e);
  const saved = e.m.listDebug;
  // Replay only the writes: run() ends in the checked call, so intercept it
  // by making the debug reporter throw before anything is modified.
  e.m.listDebug = {
    debugList: true,
    listHardened: true,
    report: () => {
      throw new Error('stop');
    },
  };
  assert.throws(() => s.run(e, list, a, b, c), /stop/);
  e.m.listDebug = saved;
  return e.snapshot();
}

for (const layout of ARCHES) {
  const px = PX[layout.arch];
  describe(`CONFIG_DEBUG_LIST reports (${layout.arch})`, () => {
    const e = new Env(layout, 'debug');

    test('formatPx prints %px', () => {
      const [list] = corruptible(e);
      assert.equal(formatPx(e.p, list), px.H);
      assert.equal(formatPx(e.p, LIST_POISON1(e.p)), px.P1);
    });

    for (const s of scenarios) {
      test(s.name, () => {
        const before = beforePicture(e, s);
        const [list, a, b, c] = corruptible(e);
        s.run(e, list, a, b, c);
        assert.deepEqual(e.reports, [{ msg: s.msg(px), fn: s.fn }]);
        const after = e.snapshot();
        if (s.entry === 'a') {
          // The kernel's list_del() poisons the entry even when the unlink
          // was refused; nothing else may change.
          assert.equal(e.next(a), LIST_POISON1(e.p));
          assert.equal(e.prev(a), LIST_POISON2(e.p));
          const off = a - e.base - ARENA;
          before.fill(0, off, off + 2 * e.p);
          after.fill(0, off, off + 2 * e.p);
        }
        assert.deepEqual(after, before);
      });
    }

    test('__list_del_entry leaves everything untouched on corruption', () => {
      const [list, a, b, c] = corruptible(e);
      e.m.writePtr(b + e.p, c);
      const before = e.snapshot();
      __list_del_entry(e.m, a);
      assert.equal(e.reports.length, 1);
      assert.deepEqual(e.snapshot(), before);
      assert.equal(e.next(list), a);
    });

    test('a reporter that throws (BUG_ON_DATA_CORRUPTION) stops the operation', () => {
      const [list, a] = corruptible(e);
      const before = e.snapshot();
      const saved = e.m.listDebug;
      e.m.listDebug = {
        debugList: true,
        listHardened: true,
        report: (msg) => {
          throw new Error(`kernel BUG: ${msg}`);
        },
      };
      try {
        assert.throws(() => list_add(e.m, a, list), /kernel BUG: list_add double add/);
      } finally {
        e.m.listDebug = saved;
      }
      assert.deepEqual(e.snapshot(), before);
    });

    test('checks off: no reports, the double add goes through', () => {
      const [list, a] = corruptible(e);
      e.setMode('off');
      try {
        list_add(e.m, a, list);
      } finally {
        e.setMode('debug');
      }
      assert.deepEqual(e.reports, []);
      assert.equal(e.next(a), a); // a now points at itself: the corruption DEBUG_LIST prevents
    });
  });

  describe(`CONFIG_LIST_HARDENED without DEBUG_LIST (${layout.arch})`, () => {
    const e = new Env(layout, 'hardened');
    for (const s of scenarios) {
      test(`${s.name}: ${s.hardened}`, () => {
        const [list, a, b, c] = corruptible(e);
        if (s.hardened === 'fault') {
          assert.throws(() => s.run(e, list, a, b, c), PhysAccessError);
          assert.deepEqual(e.reports, []);
        } else {
          s.run(e, list, a, b, c);
          assert.deepEqual(e.reports, [{ msg: s.msg(px), fn: s.fn }]);
        }
      });
    }
  });
}
