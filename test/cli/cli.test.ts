/*
 * The command line, end to end: each test spawns `node bin/kmem.js ...` as a
 * user would (stdout is a pipe, so output must be plain) and checks what it
 * prints, writes and exits with.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { start_kernel } from '../../src/init/main.ts';
import { resolveConfig } from '../../src/machine/config.ts';
import { procFileNames, readProc } from '../../src/fs/proc/procfs.ts';
import { parseBuddyinfo, parseMeminfo, parseZoneinfo } from '../../src/cli/procdiff.ts';
import { CHAPTERS, findChapter } from '../../src/cli/demo/index.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = join(ROOT, 'bin', 'kmem.js');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function kmem(args: readonly string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        done({ code, stdout, stderr });
      });
  });
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'kmem-cli-'));
}

describe('kmem command line', { concurrency: true }, () => {
  it('--help lists the commands; boot --help lists every boot flag', async () => {
    const top = await kmem(['--help']);
    assert.equal(top.code, 0, top.stderr);
    for (const c of ['boot', 'run', 'demo']) assert.match(top.stdout, new RegExp(`^\\s+${c}\\b`, 'm'));
    const boot = await kmem(['boot', '--help']);
    assert.equal(boot.code, 0, boot.stderr);
    for (const f of ['--mem', '--cpus', '--nodes', '--arch', '--config', '--proc-dir', '--errors', '--quiet']) {
      assert.ok(boot.stdout.includes(f), `boot --help mentions ${f}`);
    }
    const run = await kmem(['run', '--help']);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /<module>/);
    assert.match(run.stdout, /--proc-dir/);
  });

  it('boot --proc-dir writes every /proc file, equal to readProc on the same machine booted in-process', async () => {
    const dir = tmp();
    try {
      const r = await kmem(['boot', '--mem', '256M', '--proc-dir', dir]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      const k = start_kernel(resolveConfig({ mem: '256M' }));
      const names = procFileNames();
      for (const n of ['buddyinfo', 'zoneinfo', 'pagetypeinfo', 'meminfo', 'sys/vm/min_free_kbytes',
        'sys/vm/watermark_scale_factor', 'sys/vm/lowmem_reserve_ratio']) {
        assert.ok(names.includes(n), `procFileNames() has ${n}`);
      }
      for (const name of names) {
        assert.equal(readFileSync(join(dir, ...name.split('/')), 'utf8'), readProc(k, name), `/proc/${name}`);
      }
      assert.ok(r.stdout.includes(`Wrote ${names.length} /proc files to ${dir}`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('boot prints the boot log in dmesg format and a per-zone summary, with no colour on a pipe', async () => {
    const r = await kmem(['boot', '--mem', '256M', '--cpus', '2']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\[\s+\d+\.\d{6}\] Linux version /m);
    assert.match(r.stdout, /^\[\s+\d+\.\d{6}\] Memory: \d+K\/\d+K available/m);
    assert.match(r.stdout, /^Zones \(pages of 4 KiB/m);
    const k = start_kernel(resolveConfig({ mem: '256M', cpus: 2 }));
    const zones = parseZoneinfo(readProc(k, 'zoneinfo'));
    const dma32 = zones.find((z) => z.zone === 'Node 0, zone DMA32');
    assert.ok(dma32);
    assert.match(r.stdout, new RegExp(`^\\s+0\\s+DMA32\\s+\\d+\\s+${dma32.free}\\s+\\d+\\s+\\d+\\s+\\d+`, 'm'));
    assert.match(r.stdout, /^MemTotal: \d+ kB\s+MemFree: \d+ kB\s+MemAvailable: \d+ kB/m);
    assert.ok(!r.stdout.includes('\x1b'), 'no escape sequences when stdout is not a terminal');

    const quiet = await kmem(['boot', '--mem', '128M', '--quiet']);
    assert.equal(quiet.code, 0);
    assert.ok(!quiet.stdout.includes('Linux version'));
    assert.match(quiet.stdout, /Zones \(/);
  });

  it('boot --arch i386 shows ZONE_HIGHMEM; --nodes splits the machine', async () => {
    const r = await kmem(['boot', '--arch', 'i386', '--mem', '1G', '--cpus', '1', '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\s+0\s+HighMem\s+\d+/m);
    const n = await kmem(['boot', '--mem', '512M', '--nodes', '2', '--quiet']);
    assert.equal(n.code, 0, n.stderr);
    assert.match(n.stdout, /^\s+1\s+DMA32\s+\d+/m);
  });

  it('config errors name the field and exit 2', async () => {
    const small = await kmem(['boot', '--mem', '10M']);
    assert.equal(small.code, 2);
    assert.match(small.stderr, /^kmem: mem: 10 MiB is less than the minimum 32 MiB$/m);
    assert.equal(small.stdout, '');

    const cpus = await kmem(['boot', '--cpus', 'many']);
    assert.equal(cpus.code, 2);
    assert.match(cpus.stderr, /^kmem: cpus: /m);

    const arch = await kmem(['boot', '--arch', 'arm64']);
    assert.equal(arch.code, 2);
    assert.match(arch.stderr, /^kmem: arch: "arm64" is not an architecture/m);

    const dir = tmp();
    try {
      const file = join(dir, 'machine.json');
      writeFileSync(file, JSON.stringify({
        mem: '1G',
        e820: [{ start: 0, end: '1G', type: 'usable' }, { start: '512M', size: '1M', type: 'reserved' }],
      }));
      const bad = await kmem(['boot', '--config', file]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /^kmem: e820\[1\]: overlaps e820\[0\]/m);

      writeFileSync(file, '{ "mem": "512M", ');
      const json = await kmem(['boot', '--config', file]);
      assert.equal(json.code, 2);
      assert.match(json.stderr, /^kmem: config: .*invalid JSON/m);

      const missing = await kmem(['boot', '--config', join(dir, 'nope.json')]);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /^kmem: config: cannot read /m);

      writeFileSync(file, JSON.stringify({ memBytes: 512 * 2 ** 20, cpus: 4, nodes: 2 }));
      const usage = await kmem(['boot', '--errors', 'sometimes']);
      assert.equal(usage.code, 2);
      assert.match(usage.stderr, /^kmem: /m);

      // Flags override the file: --mem replaces memBytes, --cpus and --nodes the file's values.
      const over = await kmem(['boot', '--config', file, '--mem', '256M', '--cpus', '1', '--nodes', '1', '--quiet']);
      assert.equal(over.code, 0, over.stderr);
      const k = start_kernel(resolveConfig({ mem: '256M', cpus: 1 }));
      const total = parseMeminfo(readProc(k, 'meminfo')).get('MemTotal');
      assert.ok(over.stdout.includes(`MemTotal: ${total}`), over.stdout);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('run examples/scull_pages.ts: the module\'s log, then /proc showing pages taken and returned', async () => {
    const r = await kmem(['run', 'examples/scull_pages.ts', '--mem', '256M']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\$ insmod scull_pages\.ts$/m);
    assert.match(r.stdout, /^\[\s+\d+\.\d{6}\] scull_pages: 4 quanta of 8 KiB allocated$/m);
    assert.match(r.stdout, /^\$ rmmod scull_pages$/m);
    assert.match(r.stdout, /^\[\s+\d+\.\d{6}\] scull_pages: 4 quanta freed$/m);
    assert.match(r.stdout, /before init → after init → after exit/);
    assert.match(r.stdout, /^\s+MemFree:\s+(\d+) kB → +(\d+) kB → +(\d+) kB$/m);
    const [, before, after] = /^\s+MemFree:\s+(\d+) kB → +(\d+) kB/m.exec(r.stdout) ?? [];
    assert.ok(Number(after) < Number(before), 'MemFree drops while the module holds pages');
    assert.match(r.stdout, /^\s+Node 0, zone DMA32\s+pages free\s+\d+ → +\d+ → +\d+$/m);
    assert.match(r.stdout, /^Pages held by the module: 8 after init, 0 after exit \(all returned\)\.$/m);
  });

  it('run: init returning -ENOMEM is reported as insmod does, exit is not called, exit code 1', async () => {
    const r = await kmem(['run', 'examples/greedy.ts', '--mem', '128M', '--quiet']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /insmod: page allocation failure: order:10/);
    assert.match(r.stdout, /insmod: ERROR: could not insert module greedy\.ts: Cannot allocate memory \(-ENOMEM\)/);
    assert.ok(!r.stdout.includes('rmmod'), 'exit is not called when init fails');
    assert.match(r.stdout, /before init → after init\)/);
  });

  it('run: gfp_zones lands in ZONE_HIGHMEM on i386', async () => {
    const r = await kmem(['run', 'examples/gfp_zones.ts', '--arch', 'i386', '--mem', '1G', '--cpus', '1', '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /gfp_zones: GFP_KERNEL \| GFP_DMA\s+order 0: pfn 0x\w+ zone DMA\b/);
    assert.match(r.stdout, /gfp_zones: GFP_HIGHUSER\s+order 0: pfn 0x\w+ zone HighMem page_address NULL/);
    assert.match(r.stdout, /0 after exit \(all returned\)/);
  });

  it('run: a module that throws gets an oops-like report and exit code 1; a missing module exit code 1', async () => {
    const dir = tmp();
    try {
      const file = join(dir, 'broken.ts');
      writeFileSync(file, [
        'export function init(k: { log: { pr_info(s: string): void } }): number {',
        '  k.log.pr_info("broken: loading");',
        '  throw new RangeError("broken: off the end of the quantum");',
        '}',
      ].join('\n'));
      const r = await kmem(['run', file, '--mem', '64M', '--quiet']);
      assert.equal(r.code, 1);
      assert.match(r.stdout, /broken: loading/);
      assert.match(r.stdout, /^BUG: unhandled exception in broken init: RangeError: broken: off the end of the quantum$/m);
      assert.match(r.stdout, /^Call Trace:$/m);
      assert.match(r.stderr, /insmod: ERROR: could not insert module broken\.ts/);

      // A kernel report: logged and survived by default; with --errors throw, init dies of it.
      const dbl = join(dir, 'double_free.ts');
      writeFileSync(dbl, [
        `import type { Kernel } from ${JSON.stringify(join(ROOT, 'src/kernel/kernel.ts'))};`,
        'export async function init(k: Kernel): Promise<number> {',
        '  const page = k.alloc_page(k.GFP_KERNEL);',
        '  k.__free_page(page);',
        '  k.__free_page(page);',
        '  return 0;',
        '}',
        'export function exit(): void {}',
      ].join('\n'));
      const logged = await kmem(['run', dbl, '--mem', '64M', '--quiet']);
      assert.equal(logged.code, 0, logged.stderr);
      assert.match(logged.stdout, /kernel BUG at include\/linux\/mm\.h:\d+!/);
      assert.match(logged.stdout, /Comm: insmod /);
      const thrown = await kmem(['run', dbl, '--mem', '64M', '--quiet', '--errors', 'throw']);
      assert.equal(thrown.code, 1);
      assert.match(thrown.stderr, /init raised KernelBug: kernel BUG at include\/linux\/mm\.h:\d+!/);

      const notModule = join(dir, 'plain.js');
      writeFileSync(notModule, 'export const x = 1;\n');
      const nm = await kmem(['run', notModule, '--mem', '64M']);
      assert.equal(nm.code, 1);
      assert.match(nm.stderr, /no init\(k\) function/);

      const missing = await kmem(['run', join(dir, 'nope.ts'), '--mem', '64M']);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /^kmem: cannot load module /m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('demo runs every chapter and prints their titles', async () => {
    const r = await kmem(['demo']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    CHAPTERS.forEach((c, i) => assert.ok(r.stdout.includes(`Chapter ${i + 1}: ${c.title}`), c.id));
    assert.ok(!r.stdout.includes('\x1b'));
    // Real output from live machines, not canned text.
    assert.match(r.stdout, /\$ cat \/proc\/buddyinfo\n\s+Node 0, zone\s+DMA\s/);
    assert.match(r.stdout, /free_hot_page\(A\)/);
    assert.match(r.stdout, /page allocation failure: order:0, mode:0x\w+\(GFP_KERNEL\|__GFP_NORETRY\)/);
    assert.match(r.stdout, /VM_BUG_ON_PAGE\(page_ref_count\(page\) == 0\)/);
  });

  it('demo --list, demo CHAPTER by name or number, unknown chapter exits 2', async () => {
    const list = await kmem(['demo', '--list']);
    assert.equal(list.code, 0);
    for (const c of CHAPTERS) assert.match(list.stdout, new RegExp(`\\b${c.id}\\b`));
    const one = await kmem(['demo', 'pcp']);
    assert.equal(one.code, 0, one.stderr);
    assert.ok(one.stdout.includes(`: ${findChapter('pcp')?.title}`));
    assert.ok(!one.stdout.includes('Chapter 1:'));
    const num = await kmem(['demo', '2']);
    assert.equal(num.code, 0);
    assert.ok(num.stdout.includes(`Chapter 2: ${CHAPTERS[1].title}`));
    const bad = await kmem(['demo', 'no-such-chapter']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /no chapter "no-such-chapter"/);
  });
});

describe('kmem run: /proc parsing', () => {
  it('parses buddyinfo, meminfo and zoneinfo as printed', () => {
    const k = start_kernel(resolveConfig({ mem: '128M', cpus: 2 }));
    const page = k.alloc_page(k.GFP_KERNEL);
    const buddy = parseBuddyinfo(readProc(k, 'buddyinfo'));
    assert.deepEqual([...buddy.keys()], ['Node 0, zone DMA', 'Node 0, zone DMA32']);
    assert.equal(buddy.get('Node 0, zone DMA32')?.length, k.MAX_PAGE_ORDER + 1);
    assert.match(parseMeminfo(readProc(k, 'meminfo')).get('MemFree') ?? '', /^\d+ kB$/);
    const dma32 = parseZoneinfo(readProc(k, 'zoneinfo')).find((z) => z.zone === 'Node 0, zone DMA32');
    const zone = k.buddy.zones.find((z) => z.name === 'DMA32');
    assert.ok(dma32 && zone);
    assert.equal(dma32.free, k.buddy.zoneStat(zone, 0));
    assert.deepEqual(dma32.pcp, [k.buddy.pcpCounts(zone, 0).count, k.buddy.pcpCounts(zone, 1).count]);
    k.__free_page(page);
  });
});

describe('examples', () => {
  it('type-check against the kernel API', async () => {
    const dir = tmp();
    try {
      const cfg = join(dir, 'tsconfig.json');
      writeFileSync(cfg, JSON.stringify({
        extends: join(ROOT, 'tsconfig.json'),
        compilerOptions: { typeRoots: [join(ROOT, 'node_modules', '@types')] },
        include: [join(ROOT, 'examples')],
      }));
      const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
      const r = await new Promise<Result>((done) => {
        execFile(process.execPath, [tsc, '--noEmit', '-p', cfg], { cwd: ROOT }, (error, stdout, stderr) =>
          done({ code: error === null ? 0 : Number(error.code ?? -1), stdout, stderr }));
      });
      assert.equal(r.code, 0, r.stdout + r.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
