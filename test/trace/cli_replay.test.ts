/*
 * `kmem replay` and `kmem boot --trace` end to end: each test spawns
 * `node bin/kmem.js ...` as a user would (stdout and stderr are pipes, so
 * no progress bar) and checks what it prints, writes and exits with.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { parse_trace_text } from '../../src/trace/parse.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = join(ROOT, 'bin', 'kmem.js');

function kmem(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      done({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

const HDR = '# tracer: nop\n#\n# entries-in-buffer/entries-written: 6/6   #P:2\n#\n';
const line = (cpu: number, ev: string, f: string) => `            make-100     [00${cpu}] .....   100.000001: ${ev}: ${f}\n`;
const SMALL = HDR +
  line(0, 'kmalloc', 'call_site=alloc_pipe_info+0x5d/0x230 ptr=000000006d38382d bytes_req=176 bytes_alloc=192 gfp_flags=GFP_KERNEL_ACCOUNT|__GFP_ZERO node=-1 accounted=true') +
  line(1, 'kmem_cache_alloc', 'call_site=alloc_inode+0xa3/0xd0 ptr=000000007f48480c name=inode_cache bytes_req=616 bytes_alloc=624 gfp_flags=GFP_KERNEL node=-1 accounted=true') +
  line(0, 'mm_page_alloc', 'page=00000000210f10c5 pfn=0x107459 order=0 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE|__GFP_ZERO|__GFP_COMP') +
  line(1, 'kfree', 'call_site=free_pipe_info+0x1/0x90 ptr=000000006d38382d') +
  line(0, 'kfree', 'call_site=ida_alloc_range+0x39b/0x400 ptr=0000000000000000') +
  line(0, 'kmem_cache_free', 'call_site=__fput+0x141/0x2a0 ptr=000000007c89c7b9 name=lsm_file_cache');

test('kmem replay FILE --json: one JSON object with the contract fields; .gz too; --proc-dir and --html', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kmem-replay-'));
  try {
    const file = join(dir, 'small.txt');
    writeFileSync(file, SMALL);
    writeFileSync(file + '.gz', gzipSync(SMALL));
    const r = await kmem(['replay', file, '--json', '--mem', '128M', '--proc-dir', join(dir, 'proc'), '--html', join(dir, 'r.html')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const j = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(j.events, 6);
    assert.deepEqual(j.by_type, { kmalloc: 1, kmem_cache_alloc: 1, mm_page_alloc: 1, kfree: 2, kmem_cache_free: 1 });
    assert.equal(j.unmatched_frees, 1);
    assert.equal(j.failed_allocs, 0);
    assert.equal(j.bytes_req, 176 + 616);
    assert.equal(j.bytes_alloc, 192 + 624);
    assert.equal(j.bytes_alloc_mismatches, 0);
    assert.equal(typeof j.peak_slab_pages, 'number');
    assert.equal(typeof j.events_per_second, 'number');
    assert.equal(j.kfree_null, 1);
    assert.equal(j.cross_cpu_frees, 1);
    assert.deepEqual(j.machine, { cpus: 2, mem_bytes: 128 << 20, nodes: 1, slab: 'SLUB' });
    assert.match(readFileSync(join(dir, 'proc', 'slabinfo'), 'utf8'), /^inode_cache +\d+ +\d+ +624 /m);
    assert.match(readFileSync(join(dir, 'r.html'), 'utf8'), /<svg [^>]*aria-label="Footprint/);
    const gz = await kmem(['replay', file + '.gz', '--cpus', '4']);
    assert.equal(gz.code, 0, gz.stderr);
    assert.match(gz.stdout, /^Replayed 6 events in .* on 4 CPUs, 2,048 MiB, SLUB$/m);
    assert.match(gz.stdout, /FIDELITY: kmalloc bytes_alloc, kmem against the trace: 1 events, 0 disagree/);
    assert.match(gz.stdout, /^alloc_pipe_info\+0x5d\/0x230 +192\/192 +176\/176 +1 +1 /m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('kmem replay: --slab errors, --limit, a missing file', async () => {
  const slab = await kmem(['replay', 'x.txt', '--slab', 'slqc']);
  assert.equal(slab.code, 2);
  assert.equal(slab.stderr, 'kmem: --slab slqc: unknown slab allocator (slub, slob, slab, slqb, slub+sheaves)\n');
  const both = await kmem(['replay', 'x.txt', '--slab', 'slub,jemalloc']);
  assert.equal(both.stderr, 'kmem: --slab jemalloc: unknown slab allocator (slub, slob, slab, slqb, slub+sheaves)\n');
  const missing = await kmem(['replay', join(tmpdir(), 'no-such-trace.txt')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^kmem: replay: cannot read .*no-such-trace\.txt: ENOENT/);
  const dir = mkdtempSync(join(tmpdir(), 'kmem-replay-'));
  try {
    writeFileSync(join(dir, 't.txt'), SMALL);
    const lim = await kmem(['replay', join(dir, 't.txt'), '--limit', '2', '--json']);
    assert.equal(lim.code, 0, lim.stderr);
    const j = JSON.parse(lim.stdout) as Record<string, unknown>;
    assert.equal(j.events, 2);
    assert.equal(j.limited, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const SHARED = join(ROOT, '..', 'shared', 'traces', 'kmem-trace-build.txt.xz');

test('kmem replay of the shared .xz trace (decompressed in a worker)', { skip: !existsSync(SHARED) && 'no shared traces' }, async () => {
  const r = await kmem(['replay', SHARED, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.equal(j.events, 212524);
  assert.equal(j.unmatched_frees, 244);
  assert.equal(j.bytes_alloc_mismatches, 0);
  assert.equal(j.compression, 'xz');
});

test('kmem replay --slab slub,slub+sheaves: 6.12\'s SLUB against 7.0\'s, percpu sheaves on every cache', { skip: !existsSync(SHARED) && 'no shared traces', timeout: 60000 }, async () => {
  const r = await kmem(['replay', SHARED, '--slab', 'slub,slub+sheaves', '--limit', '40000', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as Record<string, { events: number; machine: { slab: string }; bytes_alloc_mismatches: number }>;
  assert.deepEqual(Object.keys(j), ['slub', 'slub+sheaves']);
  assert.deepEqual([j.slub.machine.slab, j['slub+sheaves'].machine.slab], ['SLUB', 'SLUB+sheaves']);
  for (const run of Object.values(j)) assert.deepEqual([run.events, run.bytes_alloc_mismatches], [40000, 0]);
  const text = await kmem(['replay', SHARED, '--slab', 'slub,slub+sheaves', '--limit', '40000']);
  assert.match(text.stdout, /^ +SLUB +SLUB\+SHEAVES$/m);
  assert.match(text.stdout, /^kmem replay .* \(x86_64, 2 GiB, 2 CPUs, 1 node, SLUB percpu sheaves on every cache \(7\.0\), SLUB\+SHEAVES\)$/m);
});

test('kmem replay --limit on the .xz trace stops the worker and exits', { skip: !existsSync(SHARED) && 'no shared traces', timeout: 60000 }, async () => {
  const r = await kmem(['replay', SHARED, '--limit', '40000', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.equal(j.events, 40000);
  assert.equal(j.limited, true);
});

test('kmem boot --trace FILE writes a trace of boot that the parser reads and kmem replays', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kmem-boot-trace-'));
  try {
    const file = join(dir, 'boot.trace');
    const r = await kmem(['boot', '--mem', '128M', '--quiet', '--trace', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Wrote the trace of boot \(\d+ events\) to /);
    const text = readFileSync(file, 'utf8');
    const p = parse_trace_text(text, () => {});
    assert.equal(p.stats.bad_lines, 0);
    assert.ok(p.stats.events > 50);
    assert.equal(p.header.ncpus, 2);
    assert.match(text, /<idle>-0 +\[000\] \.\.\.\.\. +0\.\d{6}: kmem_cache_alloc: call_site=create_kmalloc_cache\+0x[0-9a-f]+\/0x100 /);
    const rep = await kmem(['replay', file, '--json', '--mem', '128M']);
    assert.equal(rep.code, 0, rep.stderr);
    assert.equal((JSON.parse(rep.stdout) as { bytes_alloc_mismatches: number }).bytes_alloc_mismatches, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('kmem replay --slab slub,slab,slob,slqb: side by side; --json keyed by implementation; one HTML page plotting the four', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kmem-replay-'));
  try {
    const file = join(dir, 'small.txt');
    writeFileSync(file, SMALL);
    const four = ['slub', 'slab', 'slob', 'slqb'];
    const j = await kmem(['replay', file, '--slab', four.join(','), '--json', '--mem', '128M', '--html', join(dir, 'r.html')]);
    assert.equal(j.code, 0, j.stderr);
    const o = JSON.parse(j.stdout) as Record<string, Record<string, unknown>>;
    assert.deepEqual(Object.keys(o), four);
    for (const name of four) {
      assert.equal(o[name].events, 6);
      assert.equal(o[name].bytes_req, 176 + 616);
      assert.equal((o[name].machine as Record<string, unknown>).slab, name.toUpperCase());
    }
    assert.equal(o.slub.bytes_alloc_mismatches, 0);
    // SLOB's kmalloc: 176 + the 8-byte header, not the trace's kmalloc-192
    assert.equal(o.slob.bytes_alloc_mismatches, 1);
    // one page: the comparison table and each footprint in the same plot
    assert.ok(existsSync(join(dir, 'r.html')));
    for (const name of four) assert.ok(!existsSync(join(dir, `r-${name}.html`)), `no separate page for ${name}`);
    const html = readFileSync(join(dir, 'r.html'), 'utf8');
    const plot = /<svg [^>]*aria-label="Slab pages over the trace's time">[\s\S]*?<\/svg>/.exec(html)?.[0] ?? '';
    assert.equal([...plot.matchAll(/<path d="M/g)].length, 4, 'four footprints in one plot');
    for (const name of four) assert.match(plot, new RegExp(`>${name.toUpperCase()}</text>`));
    assert.match(html, /<th[^>]*>external fragmentation<\/th>|<td>external fragmentation<\/td>/);
    const t = await kmem(['replay', file, '--slab', 'slub,slob', '--mem', '128M']);
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /^ +SLUB +SLOB$/m);
    assert.match(t.stdout, /^objects per slab +[\d.]+ +-$/m);
    assert.match(t.stdout, /^SLUB +SLOB$/m);
    assert.match(t.stdout, /^Replayed 6 events .* SLUB +Replayed 6 events .* SLOB$/m);
    assert.match(t.stdout, /^kmem replay .*, SLOB\)$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
