/*
 * Slab debugging's reports, each triggered by the bug it names, checked
 * line by line against mm/slub.c (6.12): the header (slab_bug()), the
 * overwritten range ("[<what> overwritten] 0x..-0x.. @offset=.. First byte
 * 0x.. instead of 0x.."), the owner tracks ("Allocated in <caller> age=..
 * cpu=.. pid=.." and the stack trace from the stack depot), the slab line
 * (print_slab_info()), the object line, the hex dumps of the red zones,
 * the object and the padding (print_section(): print_hex_dump()'s layout),
 * the WARN_ON(1) block, and the FIX lines (slab_fix()). After each report
 * the allocator is checked: the repair done, the object freed or leaked
 * as the kernel does, a validate_slab_cache() clean, the counters right.
 *
 * Machines booted with slab_debug= print pointers unhashed (kmem_cache_init()
 * turns no_hash_pointers on), so the expected addresses are exact; a cache
 * given debug flags by kmem_cache_create() alone prints hashed pointers.
 *
 * The layout of a kmalloc-64 object with F, Z, P, U (x86_64), p the object:
 *   p-64 .. p      left red zone (red_left_pad: a word aligned to 64)
 *   p .. p+64      the object (poison 0x6b .. 0xa5 when free, and as allocated)
 *   p+64 .. p+72   right red zone (s->inuse = 72)
 *   p+72 .. p+80   free pointer
 *   p+80 .. p+144  struct track alloc, free (32 bytes each)
 *   p+144 .. p+152 the size kmalloc() was asked for
 *   p+152 .. p+192 padding (0x5a); s->size 256
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPtr } from '../../src/arch/x86/layout.ts';
import { KernelBug } from '../../src/kernel/bug.ts';
import type { Kernel } from '../../src/kernel/kernel.ts';
import { boot, logged, slabCensus, slabinfo, slub } from './helpers.ts';

const EQ = '=============================================================================';
const DASH = '-----------------------------------------------------------------------------';

/** Reads a report line by line. */
class Report {
  i = 0;
  constructor(readonly k: Kernel, readonly lines: string[]) {}

  x(addr: number): string {
    return formatPtr(this.k.layout, addr);
  }

  private at(): string {
    assert.ok(this.i < this.lines.length, `report ended early:\n${this.lines.join('\n')}`);
    return this.lines[this.i++];
  }

  eq(s: string): void {
    assert.equal(this.at(), s, `line ${this.i - 1} of\n${this.lines.join('\n')}`);
  }

  match(re: RegExp): RegExpExecArray {
    const l = this.at();
    const m = re.exec(l);
    assert.ok(m, `line ${this.i - 1}: ${JSON.stringify(l)} does not match ${re}\n${this.lines.join('\n')}`);
    return m;
  }

  /** slab_bug() */
  header(cache: string, taint: string, what: string): void {
    this.eq(EQ);
    this.eq(`BUG ${cache} (${taint}): ${what}`);
    this.eq(DASH);
    this.eq('');
  }

  /** print_track(): "<what> in <caller> age=N cpu=C pid=P", then the stack (its first frames given). */
  track(what: string, caller: string, stack: string[]): void {
    this.match(new RegExp(`^${what} in ${caller}\\+0x0/0x100 age=\\d+ cpu=0 pid=0$`));
    for (const f of stack) this.eq(` ${f}+0x0/0x100`);
    while (/^ \S+\+0x[0-9a-f]+\/0x[0-9a-f]+$/.test(this.lines[this.i])) this.i++;
  }

  /** print_slab_info() */
  slab(p: number, objects: number, used: number, fp: number): void {
    const pfn = slub(this.k).folioPfn(p);
    this.match(new RegExp(`^Slab 0x${this.x(slub(this.k).slabPtr(pfn))} objects=${objects} used=${used} fp=0x${this.x(fp)} ` +
      'flags=0x[0-9a-f]+\\((?:[a-z_]+\\|)*node=0\\|zone=\\d\\)$'));
  }

  /** print_section(): print_hex_dump(KERN_ERR, prefix, DUMP_PREFIX_ADDRESS, 16, 1, addr, len, 1), written out. */
  dump(prefix: string, addr: number, bytes: number[]): void {
    for (let i = 0; i < bytes.length; i += 16) {
      const row = bytes.slice(i, i + 16);
      const hex = row.map((b) => b.toString(16).padStart(2, '0')).join(' ');
      const ascii = row.map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
      this.eq(`${prefix}${this.x(addr + i)}: ${hex.padEnd(49)}${ascii}`);
    }
  }

  /** WARN_ON(1) (__warn()): the block, with the call trace. */
  warn(where: string, fn: string, taint: string, frames: string[]): void {
    this.eq('------------[ cut here ]------------');
    this.eq(`WARNING: CPU: 0 PID: 0 at ${where} ${fn}`);
    this.eq('Modules linked in:');
    this.eq(`CPU: 0 UID: 0 PID: 0 Comm: swapper/0 ${taint} 6.12.0-kmem #1`);
    this.eq(`Hardware name: kmem simulated ${this.k.layout.arch} machine`);
    this.eq('Call Trace:');
    this.eq(' <TASK>');
    this.eq(' dump_stack_lvl');
    this.eq(` ${fn}`);
    for (const f of frames) this.eq(` ${f}`);
    this.eq(' </TASK>');
    this.eq('---[ end trace 0000000000000000 ]---');
  }

  done(): void {
    assert.equal(this.i, this.lines.length, `unexpected lines:\n${this.lines.slice(this.i).join('\n')}`);
  }
}

const fill = (n: number, b: number) => new Array<number>(n).fill(b);
const poisoned = (n: number) => [...fill(n - 1, 0x6b), 0xa5];
const TAINT_B = 'Tainted: G    B             ';
const TAINT_BW = 'Tainted: G    B   W         ';
const FREE_FRAMES = ['free_debug_processing', 'free_to_partial_list', '__slab_free', 'kfree'];

/** A driver's probe routine: what "Allocated in" names. */
function driver_probe(k: Kernel, size = 64): number {
  return k.kmalloc(size, k.GFP_KERNEL);
}

/** ... and its remove routine: what "Freed in" names. */
function driver_remove(k: Kernel, p: number): void {
  k.kfree(p);
}

function fzpu(cmdline = 'slub_debug=FZPU', arch: 'x86_64' | 'i386' = 'x86_64', errors: 'log' | 'throw' = 'log'): Kernel {
  return boot({ mem: '128M', cpus: 2, cmdline, arch }, { errors });
}

/**
 * After a report: the cache validates clean and its slabs are where its
 * counters say. A slab given up after a failed allocation check is frozen
 * and on no list (all its objects counted used) but still counted in
 * nr_slabs, so validate_slab_cache() says so, as the kernel's does.
 */
function consistent(k: Kernel, s: number): void {
  const row = k.slab.slabinfo().find((r) => r.name === k.slab.cacheName(s))!;
  const census = slabCensus(k, s);
  const frozen = [...census.values()].filter((e) => e.frozen);
  const lines = logged(k, () => k.validate_slab_cache(s));
  if (frozen.length === 0) assert.deepEqual(lines, []);
  else assert.deepEqual(lines, [`SLUB: ${row.name} ${census.size - frozen.length} slabs counted but counter=${census.size}`]);
  for (const e of frozen) assert.equal(e.inuse, e.objects);
  assert.equal(census.size, row.info.num_slabs, 'slabs in the memmap');
  let free = 0;
  for (const e of census.values()) free += e.objects - e.inuse;
  assert.equal(row.info.num_objs - row.info.active_objs, free, 'free objects');
}

test('a write past a kmalloc object: "Right Redzone overwritten" at kfree(), the red zone restored, the object not freed', () => {
  const k = fzpu();
  const s = k.slab.kmalloc_slab(64, k.GFP_KERNEL);
  const p = driver_probe(k);
  const slab = p - 64;
  const fp = k.kaddr.readPtr(p + 72);
  k.kaddr.write8(p + 64, 0x41);
  const r = new Report(k, logged(k, () => driver_remove(k, p)));
  const x = (a: number) => r.x(a);
  r.eq(`[Right Redzone overwritten] 0x${x(p + 64)}-0x${x(p + 64)} @offset=${p + 64 - slab}. First byte 0x41 instead of 0xcc`);
  r.header('kmalloc-64', 'Not tainted', 'Object corrupt');
  r.track('Allocated', 'driver_probe', ['__kmalloc_noprof', 'driver_probe']);
  r.slab(p, 16, 1, slubFreelist(k, p));
  r.eq(`Object 0x${x(p)} @offset=${p - slab} fp=0x${x(fp)}`);
  r.eq('');
  r.dump('Redzone  ', p - 64, fill(64, 0xcc));
  r.dump('Object   ', p, poisoned(64));
  r.dump('Redzone  ', p + 64, [0x41, ...fill(7, 0xcc)]);
  r.dump('Padding  ', p + 152, fill(40, 0x5a));
  r.warn('mm/slub.c:1127', 'object_err', TAINT_B, ['check_bytes_and_report', 'check_object', ...FREE_FRAMES]);
  r.eq(`FIX kmalloc-64: Restoring Right Redzone 0x${x(p + 64)}-0x${x(p + 64)}=0xcc`);
  r.eq(`FIX kmalloc-64: Object at 0x${x(p)} not freed`);
  r.done();
  assert.equal(k.kaddr.read8(p + 64), 0xcc);
  // the object stays allocated (leaked): the slab still counts it
  assert.equal(slabinfo(k).get('kmalloc-64')!.active, 1);
  assert.equal(k.bug.print_tainted(), TAINT_BW);
  consistent(k, s);
});

/** The slab's freelist now (for the Slab line). */
function slubFreelist(k: Kernel, p: number): number {
  const pfn = slub(k).folioPfn(p);
  return k.kaddr.readPtr(slub(k).slabPtr(pfn) + (k.layout.ptrSize === 8 ? 32 : 16));
}

test('a write before the object: "Left Redzone overwritten"', () => {
  const k = fzpu();
  const p = driver_probe(k);
  k.kaddr.write8(p - 1, 0);
  const r = new Report(k, logged(k, () => driver_remove(k, p)));
  r.eq(`[Left Redzone overwritten] 0x${r.x(p - 1)}-0x${r.x(p - 1)} @offset=${63}. First byte 0x0 instead of 0xcc`);
  r.header('kmalloc-64', 'Not tainted', 'Object corrupt');
  r.track('Allocated', 'driver_probe', ['__kmalloc_noprof', 'driver_probe']);
  r.slab(p, 16, 1, slubFreelist(k, p));
  r.match(/^Object 0x[0-9a-f]+ @offset=64 fp=0x[0-9a-f]+$/);
  r.eq('');
  r.dump('Redzone  ', p - 64, [...fill(63, 0xcc), 0]);
  r.i += 4 + 1 + 3; // object, right red zone, padding
  r.warn('mm/slub.c:1127', 'object_err', TAINT_B, ['check_bytes_and_report', 'check_object', ...FREE_FRAMES]);
  r.eq(`FIX kmalloc-64: Restoring Left Redzone 0x${r.x(p - 1)}-0x${r.x(p - 1)}=0xcc`);
  r.eq(`FIX kmalloc-64: Object at 0x${r.x(p)} not freed`);
  r.done();
});

test('a write into the bytes kmalloc() gave beyond the request: "kmalloc Redzone overwritten"', () => {
  const k = fzpu();
  const p = driver_probe(k, 60);
  // the 4 bytes past the request are red zone (0xcc) on allocation; the orig_size word says 60
  assert.deepEqual(Array.from(k.kaddr.readBytes(p + 56, 12)), [...fill(3, 0x6b), 0xa5, ...fill(8, 0xcc)].slice(0, 12));
  assert.equal(k.kaddr.readPtr(p + 144), 60);
  k.kaddr.write8(p + 61, 0x99);
  const r = new Report(k, logged(k, () => driver_remove(k, p)));
  r.eq(`[kmalloc Redzone overwritten] 0x${r.x(p + 61)}-0x${r.x(p + 61)} @offset=${64 + 61}. First byte 0x99 instead of 0xcc`);
  r.header('kmalloc-64', 'Not tainted', 'Object corrupt');
  r.track('Allocated', 'driver_probe', ['__kmalloc_noprof', 'driver_probe']);
  r.slab(p, 16, 1, slubFreelist(k, p));
  r.match(/^Object /);
  r.eq('');
  r.dump('Redzone  ', p - 64, fill(64, 0xcc));
  r.dump('Object   ', p, [...fill(59, 0x6b), 0xa5, 0xcc, 0x99, 0xcc, 0xcc]);
  r.i += 1 + 3;
  r.warn('mm/slub.c:1127', 'object_err', TAINT_B, ['check_bytes_and_report', 'check_object', ...FREE_FRAMES]);
  r.eq(`FIX kmalloc-64: Restoring kmalloc Redzone 0x${r.x(p + 61)}-0x${r.x(p + 61)}=0xcc`);
  r.eq(`FIX kmalloc-64: Object at 0x${r.x(p)} not freed`);
  r.done();
  // ksize() hands the caller the whole object: the kmalloc red zone goes (skip_orig_size_check())
  const q = driver_probe(k, 60);
  assert.equal(k.ksize(q), 64);
  k.kaddr.write8(q + 62, 1);
  assert.deepEqual(logged(k, () => driver_remove(k, q)), []);
});

test('a write after free: "Poison overwritten" when the object is allocated again; the slab is given up', () => {
  const k = fzpu();
  const s = k.slab.kmalloc_slab(64, k.GFP_KERNEL);
  const a = driver_probe(k);
  const b = driver_probe(k);
  driver_remove(k, a);
  k.kaddr.write32(a + 8, 0xdeadbeef);
  let c = 0;
  const r = new Report(k, logged(k, () => (c = driver_probe(k))));
  r.eq(`[Poison overwritten] 0x${r.x(a + 8)}-0x${r.x(a + 11)} @offset=${64 + 8}. First byte 0xef instead of 0x6b`);
  r.header('kmalloc-64', 'Not tainted', 'Object corrupt');
  r.track('Allocated', 'driver_probe', ['__kmalloc_noprof', 'driver_probe']);
  r.track('Freed', 'driver_remove', ['kfree', 'driver_remove']);
  r.slab(a, 16, 2, k.kaddr.readPtr(a + 72));
  r.eq(`Object 0x${r.x(a)} @offset=64 fp=0x${r.x(k.kaddr.readPtr(a + 72))}`);
  r.eq('');
  r.dump('Redzone  ', a - 64, fill(64, 0xbb));
  r.dump('Object   ', a, [...fill(8, 0x6b), 0xef, 0xbe, 0xad, 0xde, ...fill(51, 0x6b), 0xa5]);
  r.dump('Redzone  ', a + 64, fill(8, 0xbb));
  r.dump('Padding  ', a + 152, fill(40, 0x5a));
  r.warn('mm/slub.c:1127', 'object_err', TAINT_B,
    ['check_bytes_and_report', 'check_object', 'alloc_debug_processing', '___slab_alloc', '__slab_alloc', '__kmalloc_noprof']);
  r.eq(`FIX kmalloc-64: Restoring Poison 0x${r.x(a + 8)}-0x${r.x(a + 11)}=0x6b`);
  r.eq('FIX kmalloc-64: Marking all objects used');
  r.done();
  // The allocation went on with a new slab; the old one is frozen, off every list, all its objects counted used.
  assert.notEqual(c, 0);
  assert.notEqual(slub(k).folioPfn(c), slub(k).folioPfn(a));
  const old = slub(k).slabState(slub(k).folioPfn(a));
  assert.deepEqual(old, { inuse: 16, objects: 16, frozen: true });
  assert.ok(!slub(k).slabsOf(s).some((e) => e.pfn === slub(k).folioPfn(a)));
  // freeing into the given-up slab is refused too: "Slab disabled since SLUB metadata consistency check failed"
  const lines = logged(k, () => driver_remove(k, b));
  assert.equal(lines[1], `BUG kmalloc-64 (${TAINT_BW}): Slab disabled since SLUB metadata consistency check failed`);
  assert.equal(lines[lines.length - 1], `FIX kmalloc-64: Object at 0x${formatPtr(k.layout, b)} not freed`);
  driver_remove(k, c);
  consistent(k, s);
});

test('kfree() twice: "Object already free", with both tracks; the second free refused', () => {
  const k = fzpu();
  const s = k.slab.kmalloc_slab(64, k.GFP_KERNEL);
  const a = driver_probe(k);
  const b = driver_probe(k);
  driver_remove(k, a);
  const r = new Report(k, logged(k, () => driver_remove(k, a)));
  r.header('kmalloc-64', 'Not tainted', 'Object already free');
  r.track('Allocated', 'driver_probe', ['__kmalloc_noprof', 'driver_probe']);
  r.track('Freed', 'driver_remove', ['kfree', 'driver_remove']);
  r.slab(a, 16, 1, a);
  r.eq(`Object 0x${r.x(a)} @offset=64 fp=0x${r.x(k.kaddr.readPtr(a + 72))}`);
  r.eq('');
  r.dump('Redzone  ', a - 64, fill(64, 0xbb));
  r.dump('Object   ', a, poisoned(64));
  r.dump('Redzone  ', a + 64, fill(8, 0xbb));
  r.dump('Padding  ', a + 152, fill(40, 0x5a));
  r.warn('mm/slub.c:1127', 'object_err', TAINT_B, FREE_FRAMES);
  r.eq(`FIX kmalloc-64: Object at 0x${r.x(a)} not freed`);
  r.done();
  assert.equal(slabinfo(k).get('kmalloc-64')!.active, 1);
  driver_remove(k, b);
  consistent(k, s);
  // freed twice when the slab holds nothing else: the counter check comes first
  const c = driver_probe(k);
  driver_remove(k, c);
  const lines = logged(k, () => driver_remove(k, c));
  assert.match(lines[1], /^BUG kmalloc-64 \(Tainted: G {4}B {3}W {9}\): Slab has 0 allocated objects but 1 are to be freed$/);
  assert.equal(lines[2], '');
  assert.equal(lines[3], DASH);
});

test('freeing into the wrong cache: cache_from_obj()\'s warning, the owner\'s track, the object freed to its own cache', () => {
  const k = fzpu();
  const a = k.kmem_cache_create('cacheA', 100, 0, 0, null);
  const b = k.kmem_cache_create('cacheB', 100, 0, 0, null);
  const o = k.kmem_cache_alloc(b, k.GFP_KERNEL);
  const r = new Report(k, logged(k, () => k.kmem_cache_free(a, o)));
  r.eq('------------[ cut here ]------------');
  r.eq('cache_from_obj: Wrong slab cache. cacheA but object is from cacheB');
  r.eq('WARNING: CPU: 0 PID: 0 at mm/slub.c:4770 kmem_cache_free');
  r.i += 9;
  r.track('Allocated', '\\S+', ['kmem_cache_alloc_noprof']);
  r.done();
  assert.equal(slabinfo(k).get('cacheB')!.active, 0);
  consistent(k, b);
  k.kmem_cache_destroy(a);
  k.kmem_cache_destroy(b);
});

test('a pointer into the middle of an object: "Invalid object pointer", nothing freed', () => {
  const k = fzpu();
  const p = driver_probe(k);
  const r = new Report(k, logged(k, () => driver_remove(k, p + 8)));
  r.header('kmalloc-64', 'Not tainted', `Invalid object pointer 0x${r.x(p + 8)}`);
  r.slab(p, 16, 1, slubFreelist(k, p));
  r.warn('mm/slub.c:1152', '__slab_err', TAINT_B, FREE_FRAMES);
  r.eq(`FIX kmalloc-64: Object at 0x${r.x(p + 8)} not freed`);
  r.done();
  assert.equal(slabinfo(k).get('kmalloc-64')!.active, 1);
  driver_remove(k, p);
  assert.equal(slabinfo(k).get('kmalloc-64')!.active, 0);
});

test('kfree() of memory that no slab holds: free_large_kmalloc()\'s warning, nothing freed', () => {
  const k = fzpu();
  const page = k.alloc_page(k.GFP_KERNEL);
  const lines = logged(k, () => k.kfree(k.page_address(page)));
  assert.ok(lines.some((l) => / at mm\/slub\.c:4799 free_large_kmalloc$/.test(l)));
  // (slab_common.c's own %p is hashed in kmem: only SLUB's reports follow no_hash_pointers)
  assert.match(lines[lines.length - 1], /^object pointer: 0x[0-9a-f]{16}$/);
  k.__free_pages(page, 0);
});

test('a corrupted free pointer, found by validate_slab_cache(): "Freechain corrupt", then "Wrong object count"', () => {
  const k = fzpu();
  const s = k.slab.kmalloc_slab(64, k.GFP_KERNEL);
  const keep = driver_probe(k);
  const a = driver_probe(k);
  driver_remove(k, a);
  const next = k.kaddr.readPtr(a + 72);
  k.kaddr.writePtr(a + 72, 0x1234);
  const start = slub(k).folioPfn(a) * 4096 + k.layout.PAGE_OFFSET;
  const r = new Report(k, logged(k, () => assert.equal(k.validate_slab_cache(s), 1)));
  r.header('kmalloc-64', 'Not tainted', 'Freechain corrupt');
  r.track('Allocated', 'driver_probe', ['__kmalloc_noprof', 'driver_probe']);
  r.track('Freed', 'driver_remove', ['kfree', 'driver_remove']);
  r.slab(a, 16, 1, a);
  r.eq(`Object 0x${r.x(a)} @offset=${a - start} fp=0x0000000000001234`);
  r.eq('');
  r.i += 4 + 4 + 1 + 3;
  r.warn('mm/slub.c:1127', 'object_err', TAINT_B, ['on_freelist', 'validate_slab', 'validate_slab_node', 'validate_slab_cache']);
  // the chain is cut after a: the 14 objects after it are lost, counted as used
  r.header('kmalloc-64', TAINT_BW, 'Wrong object count. Counter is 1 but counted were 15');
  r.slab(a, 16, 1, a);
  r.warn('mm/slub.c:1152', '__slab_err', TAINT_BW, ['on_freelist', 'validate_slab', 'validate_slab_node', 'validate_slab_cache']);
  r.eq('FIX kmalloc-64: Object count adjusted');
  // then the objects: the first lost one has the red zones of a free object where an allocated one's are expected
  r.eq(`[Left Redzone overwritten] 0x${r.x(next - 64)}-0x${r.x(next - 1)} @offset=${next - 64 - start}. First byte 0xbb instead of 0xcc`);
  void keep;
  assert.equal(k.kaddr.readPtr(a + 72), 0, 'the free pointer was zapped');
  assert.deepEqual(slub(k).slabState(slub(k).folioPfn(a)), { inuse: 15, objects: 16, frozen: false });
});

test('a write into the padding at the end of a slab: "Padding overwritten", found by the next allocation\'s slab check', () => {
  const k = fzpu();
  const p = driver_probe(k, 96); // kmalloc-96: s->size 224, 18 objects, 64 bytes left at the end of the page
  const start = slub(k).folioPfn(p) * 4096 + k.layout.PAGE_OFFSET;
  k.kaddr.write8(start + 4096 - 10, 0x77);
  const r = new Report(k, logged(k, () => driver_probe(k, 96)));
  r.header('kmalloc-96', 'Not tainted', `Padding overwritten. 0x${r.x(start + 4086)}-0x${r.x(start + 4086)} @offset=4086`);
  r.dump('Padding ', start + 4096 - 64, [...fill(54, 0x5a), 0x77, ...fill(9, 0x5a)]);
  r.slab(p, 18, 2, slubFreelist(k, p));
  r.warn('mm/slub.c:1152', '__slab_err', TAINT_B,
    ['slab_pad_check', 'alloc_debug_processing', '___slab_alloc', '__slab_alloc', '__kmalloc_noprof']);
  r.eq(`FIX kmalloc-96: Restoring slab padding 0x${r.x(start + 4086)}-0x${r.x(start + 4086)}=0x5a`);
  r.done();
});

test('a write into an object\'s padding: "Object padding overwritten"', () => {
  const k = fzpu();
  const p = driver_probe(k);
  k.kaddr.write8(p + 160, 0x11);
  const lines = logged(k, () => driver_remove(k, p));
  assert.equal(lines[0], `[Object padding overwritten] 0x${formatPtr(k.layout, p + 160)}-0x${formatPtr(k.layout, p + 160)} ` +
    '@offset=224. First byte 0x11 instead of 0x5a');
  assert.equal(lines[2], 'BUG kmalloc-64 (Not tainted): Object corrupt');
  assert.ok(lines.includes(`Padding  ${formatPtr(k.layout, p + 152)}: 5a 5a 5a 5a 5a 5a 5a 5a 11 5a 5a 5a 5a 5a 5a 5a  ZZZZZZZZ.ZZZZZZZ`));
  assert.equal(lines[lines.length - 2], `FIX kmalloc-64: Restoring Object padding 0x${formatPtr(k.layout, p + 160)}-0x${formatPtr(k.layout, p + 160)}=0x5a`);
});

test('poisoning without red zones: "Alignment padding overwritten" (slub_debug=FP)', () => {
  const k = fzpu('slub_debug=FP');
  const s = k.kmem_cache_create('sixty', 60, 0, 0, null);
  const p = k.kmem_cache_alloc(s, k.GFP_KERNEL);
  // no red zone: the 4 bytes up to the word are alignment padding, 0x5a
  assert.deepEqual(Array.from(k.kaddr.readBytes(p + 60, 4)), fill(4, 0x5a));
  k.kaddr.write8(p + 62, 0);
  const lines = logged(k, () => k.kmem_cache_free(s, p));
  assert.equal(lines[0], `[Alignment padding overwritten] 0x${formatPtr(k.layout, p + 62)}-0x${formatPtr(k.layout, p + 62)} ` +
    `@offset=${p + 62 - (slub(k).folioPfn(p) * 4096 + k.layout.PAGE_OFFSET)}. First byte 0x0 instead of 0x5a`);
  // no red zone: the 16 bytes before the object are shown instead ("Bytes b4 "), when there are any
  assert.ok(lines.some((l) => l.startsWith('Object   ')));
  assert.equal(lines[lines.length - 1], `FIX sixty: Object at 0x${formatPtr(k.layout, p)} not freed`);
});

test('destroying a cache with objects left: "Objects remaining", each object with its track', () => {
  const k = fzpu();
  const s = k.kmem_cache_create('leaky', 100, 0, 0, null);
  const o = k.kmem_cache_alloc(s, k.GFP_KERNEL);
  const r = new Report(k, logged(k, () => k.kmem_cache_destroy(s)));
  r.header('leaky', 'Not tainted', 'Objects remaining on __kmem_cache_shutdown()');
  r.eq(`Object 0x${r.x(o)} @offset=${o - (slub(k).folioPfn(o) * 4096 + k.layout.PAGE_OFFSET)}`);
  r.track('Allocated', '\\S+', ['kmem_cache_alloc_noprof']);
  r.slab(o, 21, 1, slubFreelist(k, o));
  r.warn('mm/slub.c:1152', '__slab_err', TAINT_B, ['list_slab_objects', 'free_partial', '__kmem_cache_shutdown']);
  r.eq('------------[ cut here ]------------');
  r.match(/^kmem_cache_destroy leaky: Slab cache still has objects when called from \S+$/);
});

test('SLAB_TRACE (slub_debug=T,kmalloc-64): a line and a stack dump for each allocation and free', () => {
  const k = fzpu('slub_debug=T,kmalloc-64');
  let p = 0;
  const lines = logged(k, () => {
    p = driver_probe(k);
    k.kaddr.write32(p, 0x64636261);
    driver_remove(k, p);
  });
  const x = (a: number) => formatPtr(k.layout, a);
  const off = k.kaddr.read32(k.slab.kmalloc_slab(64, k.GFP_KERNEL) + slub(k).cache.offset);
  assert.equal(off, 32, 'T alone keeps the free pointer in the middle of the object');
  assert.equal(lines[0], `TRACE kmalloc-64 alloc 0x${x(p)} inuse=1 fp=0x${x(p + 64)}`);
  assert.match(lines[1], /^CPU: 0 UID: 0 PID: 0 Comm: swapper\/0 Not tainted 6\.12\.0-kmem #1$/);
  assert.deepEqual(lines.slice(5, 11), [' dump_stack_lvl', ' alloc_debug_processing', ' ___slab_alloc', ' __slab_alloc', ' __kmalloc_noprof', ' </TASK>']);
  assert.equal(lines[11], `TRACE kmalloc-64 free 0x${x(p)} inuse=1 fp=0x${x(p + 64)}`);
  assert.match(lines[12], new RegExp(`^Object ${x(p)}: 61 62 63 64 ([0-9a-f]{2} ){11}[0-9a-f]{2}  abcd`));
  assert.equal(lines.length, 12 + 4 + 10);
  // no other cache is traced, none has debug metadata
  assert.equal(slabinfo(k).get('kmalloc-32')!.objsize, 32);
});

test('a cache given debug flags by kmem_cache_create() alone: the same reports, with hashed pointers', () => {
  const k = boot({ mem: '128M', cpus: 2 });
  const s = k.kmem_cache_create('mydev', 40, 0, k.SLAB_RED_ZONE | k.SLAB_POISON | k.SLAB_STORE_USER | k.SLAB_CONSISTENCY_CHECKS, null);
  assert.ok(!k.log.dmesg().includes('NOTICE'), 'pointers stay hashed');
  const o = k.kmem_cache_alloc(s, k.GFP_KERNEL);
  k.kaddr.write8(o + 40, 0);
  const lines = logged(k, () => k.kmem_cache_free(s, o));
  assert.match(lines[0], /^\[Right Redzone overwritten\] 0x[0-9a-f]{16}-0x[0-9a-f]{16} @offset=\d+\. First byte 0x0 instead of 0xcc$/);
  assert.notEqual(lines[0].slice(27, 43), formatPtr(k.layout, o + 40));
  assert.equal(lines[2], 'BUG mydev (Not tainted): Object corrupt');
  assert.match(lines[lines.length - 1], /^FIX mydev: Object at 0x[0-9a-f]{16} not freed$/);
  // a kmalloc cache is untouched by the flags of another cache
  assert.equal(slabinfo(k).get('kmalloc-64')!.objsize, 64);
  // 40 bytes + red zone word + free pointer + 2 tracks + padding word + left red zone: 144
  assert.equal(slabinfo(k).get('mydev')!.objsize, 40 + 8 + 8 + 64 + 8 + 8);
});

test('slab_debug= option parsing: flags, cache lists, globs, blocks, "-", an unknown letter', () => {
  const objsize = (cmdline: string, name: string) => slabinfo(fzpu(cmdline)).get(name)!.objsize;
  // F alone adds no metadata; Z a red zone word each side; ...
  assert.equal(objsize('slub_debug=F', 'kmalloc-64'), 64);
  assert.equal(objsize('slub_debug=Z', 'kmalloc-64'), 192); // 64 + right rz + pad word = 80, + left rz (a word aligned to 64) = 144, aligned to 64
  assert.equal(objsize('slub_debug=FZ,kmalloc-64', 'kmalloc-64'), 192);
  assert.equal(objsize('slub_debug=FZ,kmalloc-64', 'kmalloc-32'), 32);
  assert.equal(objsize('slab_debug=P,kmalloc-*', 'kmalloc-32'), 64); // free pointer after the object, aligned to 32
  assert.equal(objsize('slab_debug=P,kmalloc-*', 'kmem_cache_node'), 64);
  assert.equal(objsize('slub_debug=Z,kmalloc-64;U,kmalloc-32', 'kmalloc-32'), 128); // 32 + tracks + size word = 104, aligned to 32
  assert.equal(objsize('slub_debug=Z,kmalloc-64;U,kmalloc-32', 'kmalloc-64'), 192);
  // a block without a list sets the global flags; "-" clears
  assert.equal(objsize('slub_debug=FZ;-,kmalloc-64', 'kmalloc-64'), 64);
  assert.equal(objsize('slub_debug=FZ;-,kmalloc-64', 'kmalloc-32'), 32 + 8 + 8 + 32 + 16);
  // no flags but a list: full debugging for those caches
  assert.equal(objsize('slub_debug=,kmalloc-64', 'kmalloc-64'), 256);
  // the bare option: full debugging everywhere
  assert.equal(objsize('slub_debug', 'kmalloc-64'), 256);
  const k = fzpu('slub_debug=FQZ');
  assert.ok(k.log.dmesg().includes("slab_debug option 'Q' unknown. skipped"));
  assert.equal(slabinfo(k).get('kmalloc-64')!.objsize, 192);
  // a cache named at creation
  const kc = fzpu('slub_debug=FZPU,mydev');
  const s = kc.kmem_cache_create('mydev', 64, 0, 0, null);
  assert.equal(slabinfo(kc).get('mydev')!.objsize, 64 + 8 + 8 + 64 + 8 + 8);
  const t = kc.kmem_cache_create('other', 64, 0, 0, null);
  assert.notEqual(t, s);
  assert.equal(slabinfo(kc).get('other')!.objsize, 64, 'not named: not debugged');
});

test('errors: \'throw\': each report throws a KernelBug once the repair is done, and the allocator stays consistent', () => {
  const k = fzpu('slub_debug=FZPU', 'x86_64', 'throw');
  const s = k.slab.kmalloc_slab(64, k.GFP_KERNEL);
  const catchBug = (fn: () => void): KernelBug => {
    try {
      fn();
    } catch (e) {
      assert.ok(e instanceof KernelBug, String(e));
      return e;
    }
    assert.fail('no KernelBug');
  };
  // out of bounds
  const p = driver_probe(k);
  k.kaddr.write8(p + 64, 1);
  let e = catchBug(() => driver_remove(k, p));
  assert.equal(e.kind, 'WARNING');
  assert.equal(e.message, 'BUG kmalloc-64 (Not tainted): Object corrupt');
  assert.ok(e.report.split('\n').includes(`FIX kmalloc-64: Object at 0x${formatPtr(k.layout, p)} not freed`));
  assert.equal(k.kaddr.read8(p + 64), 0xcc, 'repaired before the throw');
  // double free
  const q = driver_probe(k);
  driver_remove(k, q);
  e = catchBug(() => driver_remove(k, q));
  assert.match(e.message, /^BUG kmalloc-64 \(Tainted: .*\): Object already free$/);
  // write after free, then an allocation
  const u = driver_probe(k);
  driver_remove(k, u);
  k.kaddr.write8(u + 3, 0);
  e = catchBug(() => driver_probe(k));
  assert.ok(e.report.includes('FIX kmalloc-64: Marking all objects used'));
  // invalid pointer
  const v = driver_probe(k);
  e = catchBug(() => driver_remove(k, v + 1));
  assert.match(e.message, /Invalid object pointer 0x[0-9a-f]+$/);
  driver_remove(k, v);
  // everything still adds up: validate is silent, the counters match the memmap
  k.bug.throwOnBug = false;
  consistent(k, s);
});

test('i386: the same report with 4-byte pointers and 20-byte tracks', () => {
  const k = boot({ arch: 'i386', mem: '256M', cpus: 1, cmdline: 'slub_debug=FZPU' });
  const p = driver_probe(k, 32);
  // kmalloc-32 on i386: 32 + 4 rz + 4 fp + 2 * 20 tracks + 4 size + 4 pad + 32 left rz (4 aligned to 32) = 120 -> 128
  assert.equal(slabinfo(k).get('kmalloc-32')!.objsize, 128);
  k.kaddr.write8(p + 32, 0x21);
  const lines = logged(k, () => driver_remove(k, p));
  const x = (a: number) => formatPtr(k.layout, a);
  assert.match(x(p), /^[0-9a-f]{8}$/);
  assert.equal(lines[0], `[Right Redzone overwritten] 0x${x(p + 32)}-0x${x(p + 32)} @offset=${64}. First byte 0x21 instead of 0xcc`);
  assert.ok(lines.includes(`Redzone  ${x(p + 32)}: 21 cc cc cc                                      !...`), lines.join('\n'));
  assert.ok(lines.includes('Hardware name: kmem simulated i386 machine'));
  assert.equal(lines[lines.length - 1], `FIX kmalloc-32: Object at 0x${x(p)} not freed`);
});

test('a free object\'s free pointer overwritten: "Freepointer corrupt" when it is allocated again, the pointer zapped', () => {
  const k = fzpu();
  const s = k.slab.kmalloc_slab(64, k.GFP_KERNEL);
  const keep = driver_probe(k);
  const a = driver_probe(k);
  driver_remove(k, a);
  k.kaddr.writePtr(a + 72, 0xdead);
  const lines = logged(k, () => driver_probe(k));
  const x = (v: number) => formatPtr(k.layout, v);
  assert.equal(lines[1], 'BUG kmalloc-64 (Not tainted): Freepointer corrupt');
  assert.ok(lines.includes(`Object 0x${x(a)} @offset=${a - (slub(k).folioPfn(a) * 4096 + k.layout.PAGE_OFFSET)} fp=0x${x(0xdead)}`));
  assert.ok(lines.some((l) => l === 'WARNING: CPU: 0 PID: 0 at mm/slub.c:1127 object_err'));
  assert.equal(lines[lines.length - 1], 'FIX kmalloc-64: Marking all objects used');
  assert.equal(k.kaddr.readPtr(a + 72), 0, 'zapped');
  void keep;
  consistent(k, s);
});

test('a slab\'s own freelist pointer corrupted: validate says "Freepointer corrupt" and clears it; the next allocation\'s NULL dereference', () => {
  const k = fzpu();
  const s = k.slab.kmalloc_slab(64, k.GFP_KERNEL);
  const a = driver_probe(k);
  const b = driver_probe(k);
  driver_remove(k, b);
  const pfn = slub(k).folioPfn(a);
  const freelistVa = slub(k).slabPtr(pfn) + 32;
  k.kaddr.writePtr(freelistVa, a + 1);
  const lines = logged(k, () => k.validate_slab_cache(s));
  assert.equal(lines[1], 'BUG kmalloc-64 (Not tainted): Freepointer corrupt');
  assert.equal(lines[lines.length - 1], 'FIX kmalloc-64: Freelist cleared');
  assert.deepEqual(slub(k).slabState(pfn), { inuse: 16, objects: 16, frozen: false });
  // The slab is still on the partial list with no free object: the kernel would follow the NULL freelist and oops.
  // kmem prints that oops, moves the slab to the full list, and the allocation goes on from a new slab.
  let c = 0;
  const oops = logged(k, () => (c = driver_probe(k)));
  assert.equal(oops[0], 'BUG: kernel NULL pointer dereference, address: 0000000000000048');
  assert.ok(oops.includes('Oops: 0000 [#1] PREEMPT SMP NOPTI'));
  assert.notEqual(c, 0);
  assert.notEqual(slub(k).folioPfn(c), pfn);
  assert.ok(slub(k).slabsOf(s).some((e) => e.pfn === pfn && e.where === 'node0-full'));
  // its lost free objects are counted used but still look free: each validate reports the next one (and
  // "restores" it to an allocated object's red zones), as the kernel's would, until none is left
  const first = logged(k, () => k.validate_slab_cache(s));
  assert.match(first[0], /^\[Left Redzone overwritten\] .* First byte 0xbb instead of 0xcc$/);
  let passes = 1;
  while (logged(k, () => k.validate_slab_cache(s)).length > 0) passes++;
  assert.equal(passes, 15, 'the 15 free objects lost with the freelist');
  driver_remove(k, a);
  driver_remove(k, c);
});

test('a slab\'s object count corrupted: "Wrong number of objects", adjusted', () => {
  const k = fzpu();
  const s = k.slab.kmalloc_slab(64, k.GFP_KERNEL);
  // a full slab, then its first object freed: the freelist holds only that one
  const objs = Array.from({ length: 16 }, () => driver_probe(k));
  const pfn = slub(k).folioPfn(objs[0]);
  assert.ok(objs.every((o) => slub(k).folioPfn(o) === pfn));
  driver_remove(k, objs[0]);
  const counters = slub(k).slabPtr(pfn) + 40;
  k.kaddr.write32(counters, (k.kaddr.read32(counters) & ~(0x7fff << 16)) | (15 << 16));
  const lines = logged(k, () => k.validate_slab_cache(s));
  assert.equal(lines[1], 'BUG kmalloc-64 (Not tainted): Wrong number of objects. Found 15 but should be 16');
  assert.equal(lines[lines.length - 1], 'FIX kmalloc-64: Number of objects adjusted');
  assert.deepEqual(slub(k).slabState(pfn), { inuse: 15, objects: 16, frozen: false });
  for (const o of objs.slice(1)) driver_remove(k, o);
  consistent(k, s);
});
