/*
 * Chapter: slab debugging. A machine booted with slab_debug=FZPU (red
 * zones, poisoning, owner tracking, consistency checks): what an object
 * looks like in memory with its metadata, then a driver that writes one
 * byte past its kmalloc buffer and frees it, and the report SLUB prints;
 * a write after free caught when the object comes back; and the same on a
 * single cache, asked for with kmem_cache_create() flags.
 */
import type { Kernel } from '../../kernel/kernel.ts';
import { readProc } from '../../fs/proc/procfs.ts';
import { hex_dump_to_buffer } from '../../lib/hexdump.ts';
import { ptr, type DemoChapter } from './chapter.ts';

function slabinfoLines(k: Kernel, names: readonly string[]): string[] {
  const lines = readProc(k, 'slabinfo').split('\n');
  return [lines[1], ...lines.filter((l) => names.includes(l.split(/\s+/)[0]))];
}

/** The bytes from..to as hex rows, each labelled. */
function bytes(k: Kernel, label: string, from: number, len: number): string[] {
  const out: string[] = [];
  const buf = k.kaddr.readBytes(from, len);
  for (let i = 0; i < len; i += 16) out.push(`${label.padEnd(9)}${ptr(k, from + i)}: ${hex_dump_to_buffer(buf.subarray(i, i + 16), 16, 1, true)}`);
  return out;
}

/** The later reports without what the first one showed already: the hex dumps, the stacks, the warning's body. */
function brief(line: string): boolean {
  const l = line.replace(/^\[[ \d.]+\] /, '');
  return !/^( \S+\+0x[0-9a-f]+\/0x[0-9a-f]+$|Redzone |Padding |Object {3}|CPU: |Hardware name|Call Trace|Modules linked| <\/?TASK>| [a-z_]+$)/.test(l);
}

/** A driver's probe and remove routines, as "Allocated in" / "Freed in" will name them. */
function mydrv_probe(k: Kernel): number {
  const buf = k.kmalloc(64, k.GFP_KERNEL);
  // strcpy() of a 64-character name into a 64-byte buffer: the NUL lands one byte past the end
  k.kaddr.writeBytes(buf, new TextEncoder().encode('x'.repeat(64)));
  k.kaddr.write8(buf + 64, 0);
  return buf;
}

function mydrv_remove(k: Kernel, buf: number): void {
  k.kfree(buf);
}

export const slabDebugChapter: DemoChapter = {
  id: 'slab-debug',
  title: 'Slab debugging: red zones, poisoning and owner tracking catch a bug',
  summary: 'slab_debug=FZPU, an out-of-bounds write and a use after free reported',
  run(d) {
    d.say(`An off-by-one write past a kmalloc() buffer lands in the next object,
      and nothing notices until that object's owner misbehaves much later.
      SLUB can check for such bugs when the kernel is booted with
      slab_debug= (slub_debug= is the older name): F runs consistency checks
      on every allocation and free, Z puts red zones around each object, P
      poisons free objects (0x6b, ending in 0xa5) and unused padding (0x5a),
      U records who allocated and who freed each object, T traces every
      call. Debugged caches leave the per-CPU fast paths and grow: here is
      kmalloc-64 without and with slab_debug=FZPU.`);
    const plain = d.boot({ mem: '128M', cpus: 2 });
    d.show(slabinfoLines(plain, ['kmalloc-64']));
    d.blank();
    const k = d.boot({ mem: '128M', cpus: 2, cmdline: 'slab_debug=FZPU' });
    d.show(slabinfoLines(k, ['kmalloc-64']));
    d.blank();

    d.say(`Each 64-byte object now takes 256 bytes: a left red zone (aligned to
      64), the object, a right red zone, the free pointer (moved out of the
      object, which is poisoned), two struct track records (allocation and
      free: caller, CPU, pid, time, and a stack trace in the stack depot),
      the size kmalloc() was asked for, and padding. Booting with slab_debug
      also makes %p print real addresses. A freshly allocated object, its
      red zones 0xcc (0xbb while it is free):`);
    const probe = k.kmalloc(64, k.GFP_KERNEL);
    d.call('p = kmalloc(64, GFP_KERNEL)', ptr(k, probe));
    d.show([...bytes(k, 'Redzone', probe - 16, 16), ...bytes(k, 'Object', probe, 64), ...bytes(k, 'Redzone', probe + 64, 8),
      ...bytes(k, 'Padding', probe + 152, 16)]);
    k.kfree(probe);
    d.blank();

    d.say(`Now a driver copies a 64-character name and its terminating NUL into
      a 64-byte buffer. The stray NUL goes into the right red zone, and
      nobody notices until the buffer is freed: then SLUB checks the red
      zones, finds the damage, prints what it knows, restores the red zone,
      and does not free the object (it leaks rather than risk the slab):`);
    const buf = mydrv_probe(k);
    d.call('buf = kmalloc(64, GFP_KERNEL); strcpy(buf, name64)', ptr(k, buf));
    d.logged(k, 'kfree(buf)', () => mydrv_remove(k, buf));
    d.blank();

    d.say(`Read it from the top: which bytes were wrong and what they should have
      been; the cache; who allocated the object (mydrv_probe, and its stack);
      the slab (objects, how many in use, its freelist, the page flags); the
      object's address, offset in the slab, and free pointer; the memory
      around it, with the 00 where 0xcc belongs; the warning's call trace;
      and the FIX lines: what SLUB repaired. The kernel is now tainted B.`);

    d.say(`A use after free: the driver frees an object and then writes to it.
      The poison shows it the next time SLUB hands the object out; the slab
      it lives in is taken out of use ("Marking all objects used") and the
      allocation is served from another one:`);
    const a = k.kmalloc(64, k.GFP_KERNEL);
    k.kfree(a);
    d.call('kfree(a); a->refcount = 0', ptr(k, a));
    k.kaddr.write32(a + 16, 0);
    d.logged(k, 'kmalloc(64, GFP_KERNEL)', () => k.kmalloc(64, k.GFP_KERNEL), (p) => ptr(k, p),
      brief);
    d.blank();

    d.say(`Debugging one cache instead of all of them: slab_debug=FZPU,mydev
      on the command line, or the flags at creation:
      kmem_cache_create("mydev", 40, 0, SLAB_RED_ZONE | SLAB_POISON |
      SLAB_STORE_USER | SLAB_CONSISTENCY_CHECKS, NULL). Its objects are checked
      the same way (pointers stay hashed then), and validate_slab_cache() (what
      writing 1 to /sys/kernel/slab/mydev/validate does) checks them all at
      once. A double free:`);
    const k2 = d.boot({ mem: '64M', cpus: 1 });
    const s = k2.kmem_cache_create('mydev', 40, 0, k2.SLAB_RED_ZONE | k2.SLAB_POISON | k2.SLAB_STORE_USER | k2.SLAB_CONSISTENCY_CHECKS, null);
    const o1 = k2.kmem_cache_alloc(s, k2.GFP_KERNEL);
    const o2 = k2.kmem_cache_alloc(s, k2.GFP_KERNEL);
    k2.kmem_cache_free(s, o1);
    d.call('kmem_cache_free(mydev, o1)');
    d.logged(k2, 'kmem_cache_free(mydev, o1)   /* again */', () => k2.kmem_cache_free(s, o1), undefined, brief);
    k2.kmem_cache_free(s, o2);
    d.logged(k2, 'validate_slab_cache(mydev)', () => k2.validate_slab_cache(s), (n) => `${n} slab checked, nothing to report`);
    d.blank();
  },
};
