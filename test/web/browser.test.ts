/*
 * The explorer in a real browser: Debian's Chromium, headless, driven by
 * playwright-core, against `kmem serve` (startWebServer) on localhost.
 *
 * Boots a machine in the page; allocates through the forms and checks that
 * the page map and the slab table changed accordingly; plays the shipped
 * trace excerpt to its end with the keyboard and compares /proc/slabinfo
 * with what `kmem replay` prints for the same trace; saves a snapshot and
 * loads it back; checks the vmalloc view (an area's pages on the map, its
 * page-table walk), a cache's per-CPU state, the trace event stream and a
 * demo chapter against the machine's own values. Writes screenshots of the main views to out/screenshots/
 * and the speed figures to out/screenshots/bench.json (reported, not
 * asserted).
 *
 * Skipped, saying why, when no Chromium is found: /usr/bin/chromium (the
 * Debian package `chromium`, which .ci/run installs), chromium-browser, or
 * the path in KMEM_CHROMIUM (KMEM_CHROMIUM=none skips them on purpose).
 */
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ROOT, SHARED_TRACE } from '../../src/node/web_build.ts';
import { startWebServer, type RunningServer } from '../../src/node/web_server.ts';

function findChromium(): string | null {
  if (process.env.KMEM_CHROMIUM === 'none') return null;
  const candidates = [process.env.KMEM_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => !!p);
  return candidates.find((p) => existsSync(p)) ?? null;
}

const CHROMIUM = findChromium();
const skip = CHROMIUM ? false : 'no Chromium found (apt-get install chromium, or set KMEM_CHROMIUM): browser tests skipped';
const SHOTS = join(ROOT, 'out/screenshots');
const EXCERPT = join(ROOT, 'src/web/static/traces/build-20k.txt.xz');

/* What the page exposes for tests (src/web/app/main.ts, window.kmemExplorer), as far as these tests read it. */
interface Explorer {
  ready: boolean;
  bootCount: number;
  opts: { mem: string; cpus: number };
  view: {
    counts: Float64Array; owner: Uint8Array; caches: number[]; cacheIdx: Uint16Array; maxPfn: number;
    desc: { config: { memBytes: number; cpus: number; slab?: string } };
    cacheName(s: number): string;
  };
  state: {
    gen: number; slabinfo: string; buddyinfo: string; meminfo: string; allocs: unknown[]; ftraceEvents: string[];
    slabs: { name: string; num_objs: number; active_objs: number; objperslab: number }[];
  };
  trace: { total: number; pos: number; playing: boolean } | null;
  map: { scale: number; dirty: boolean; highlighting: boolean; markedPfns: readonly number[]; perf: { redraws: number; totalMs: number; maxMs: number; classifyMs: number; paintMs: number; drawMs: number }; cellXY(pfn: number): [number, number] };
  lastOp: { ok: boolean; text: string; pfns: number[] } | null;
  run(op: unknown, cpu?: number): Promise<{ ok: boolean; text: string; pfns: number[]; caches: number[] }>;
  demo: { running: string; shown: string; done: boolean };
  cpus: { attached: number[]; attachMs: number[] };
  perf: { bootToFrameMs: number; bootMs: number; playFrames: number; playRedraws: number; playMs: number };
}
declare const kmemExplorer: Explorer;

/* Owner codes (src/web/machine_view.ts). */
const O_ALLOC = 13;
const O_SLAB = 14;
const O_VMALLOC = 21;

const bench: Record<string, unknown> = {};

function kmemCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [join(ROOT, 'bin/kmem.js'), ...args], { cwd: ROOT, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      done({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

async function waitReady(page: Page, bootCount: number, timeout = 30_000): Promise<void> {
  await page.waitForFunction((n) => kmemExplorer.ready && kmemExplorer.bootCount > n, bootCount, { timeout });
}

/** The colour the page map shows at the centre of pfn's cell, as #rrggbb. */
async function cellColour(page: Page, pfn: number): Promise<string> {
  return page.evaluate((p) => {
    const canvas = document.getElementById('map') as HTMLCanvasElement;
    const [x, y] = kmemExplorer.map.cellXY(p);
    const s = kmemExplorer.map.scale;
    const dpr = canvas.width / canvas.getBoundingClientRect().width;
    const d = canvas.getContext('2d')!.getImageData(Math.floor((x + s / 2) * dpr), Math.floor((y + s / 2) * dpr), 1, 1).data;
    return '#' + [d[0], d[1], d[2]].map((v) => v.toString(16).padStart(2, '0')).join('');
  }, pfn);
}

/** Wait until the map has been redrawn from memory at least once more. */
async function redrawn(page: Page): Promise<void> {
  const n = await page.evaluate(() => kmemExplorer.map.perf.redraws);
  await page.evaluate(() => (kmemExplorer.map.dirty = true));
  await page.waitForFunction((k) => kmemExplorer.map.perf.redraws > k, n);
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

describe('the explorer in Chromium', { skip, concurrency: false, timeout: 600_000 }, () => {
  let server: RunningServer;
  let context: BrowserContext;
  let page: Page;
  let userDir: string;
  const errors: string[] = [];

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    server = await startWebServer({ port: 0 });
    userDir = mkdtempSync(join(tmpdir(), 'kmem-chromium-'));
    context = await chromium.launchPersistentContext(userDir, {
      executablePath: CHROMIUM!,
      headless: true,
      viewport: { width: 1280, height: 800 },
      acceptDownloads: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    page = context.pages()[0] ?? await context.newPage();
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
  });

  after(async () => {
    writeFileSync(join(SHOTS, 'bench.json'), JSON.stringify(bench, null, 2) + '\n');
    await context?.close();
    await server?.close();
    if (userDir) rmSync(userDir, { recursive: true, force: true });
  });

  it('boots the machine the URL describes, in the page, and draws its memory', async (t: TestContext) => {
    await page.goto(`${server.url}?mem=1G&cpus=2`);
    await waitReady(page, 0);
    const first = await page.evaluate(() => ({ ...kmemExplorer.perf, cfg: kmemExplorer.view.desc.config }));
    assert.equal(first.cfg.memBytes, 2 ** 30);
    assert.equal(first.cfg.cpus, 2);
    assert.equal(await page.inputValue('#boot-form input[name=mem]'), '1G');
    assert.equal(await page.evaluate(() => crossOriginIsolated), true);
    // Most of a fresh machine is free order-10 blocks: the map's middle is their colour.
    const maxPfn = await page.evaluate(() => kmemExplorer.view.maxPfn);
    assert.equal(await cellColour(page, Math.floor(maxPfn / 2) + 100), '#162d59');
    // Boot again from the form, a few times, for the time it takes.
    const times = [first.bootToFrameMs];
    const kernel = [first.bootMs];
    for (let i = 0; i < 4; i++) {
      const n = await page.evaluate(() => kmemExplorer.bootCount);
      await page.click('#boot-form button[type=submit]');
      await waitReady(page, n);
      const p = await page.evaluate(() => kmemExplorer.perf);
      times.push(p.bootToFrameMs);
      kernel.push(p.bootMs);
    }
    bench.boot_1G = { page_ms: times.map(Math.round), kernel_ms: kernel.map(Math.round), median_page_ms: Math.round(median(times)), first_page_ms: Math.round(first.bootToFrameMs) };
    t.diagnostic(`boot 1 GiB: ${times.map(Math.round).join(', ')} ms from the request to the first map (start_kernel: ${kernel.map(Math.round).join(', ')} ms)`);
    // Another machine from the form: the URL follows.
    const n = await page.evaluate(() => kmemExplorer.bootCount);
    await page.fill('#boot-form input[name=mem]', '512M');
    await page.fill('#boot-form input[name=cpus]', '4');
    await page.click('#boot-form button[type=submit]');
    await waitReady(page, n);
    assert.match(page.url(), /\?mem=512M&cpus=4$/);
    assert.equal(await page.evaluate(() => kmemExplorer.view.desc.config.cpus), 4);
    await page.screenshot({ path: join(SHOTS, 'boot-512M.png') });
    assert.deepEqual(errors, []);
  });

  it('allocating through the forms changes the page map and the slab table', async () => {
    await page.goto(`${server.url}?mem=1G&cpus=2`);
    await waitReady(page, 0);
    // A new cache (the slab tab's "new…" dialog), then an object from it (the cache form).
    await page.click('#op-cache-new');
    await page.fill('#new-cache-form input[name=name]', 'explorer_test');
    await page.fill('#new-cache-form input[name=size]', '1000');
    await page.click('#new-cache-form button[value=ok]');
    await page.waitForFunction(() => kmemExplorer.lastOp?.text.startsWith('kmem_cache_create("explorer_test"'));
    await page.waitForFunction(() => Array.from(document.querySelectorAll<HTMLOptionElement>('#op-cache select option')).some((o) => o.textContent === 'explorer_test' && o.selected));
    await page.click('#op-cache button[type=submit]');
    await page.waitForFunction(() => kmemExplorer.lastOp?.text.startsWith('kmem_cache_alloc(explorer_test, GFP_KERNEL) = ffff888'));
    const row = page.locator('#slab-table tr[data-name="explorer_test"]');
    await row.waitFor();
    const objs = Number((await row.locator('td:nth-child(3)').innerText()).replace(/,/g, ''));
    assert.ok(objs >= 1, `explorer_test has ${objs} objects in the table`);
    // Open it: one object in use in its slab.
    await row.click();
    await page.waitForSelector('#slab-detail .slab');
    assert.equal(await page.locator('#slab-detail .objs i.used').count(), 1);

    // kmalloc through its form: a slab page of kmalloc-4k in the map.
    await page.fill('#op-kmalloc input[name=size]', '3000');
    await page.fill('#op-kmalloc input[name=gfp]', 'GFP_KERNEL|__GFP_ZERO');
    await page.click('#op-kmalloc button[type=submit]');
    await page.waitForFunction(() => kmemExplorer.lastOp?.text.startsWith('kmalloc(3000, GFP_KERNEL|__GFP_ZERO) = '));
    const km = await page.evaluate(() => kmemExplorer.lastOp!);
    assert.match(km.text, /\(kmalloc-4k, pfn 0x[0-9a-f]+\)$/);
    await redrawn(page);
    const slabPage = await page.evaluate((pfn) => {
      const v = kmemExplorer.view;
      return { owner: v.owner[pfn], cache: v.cacheName(v.caches[v.cacheIdx[pfn]]) };
    }, km.pfns[0]);
    assert.deepEqual(slabPage, { owner: O_SLAB, cache: 'kmalloc-4k' });

    // alloc_pages order 4 through its form: 16 more allocated pages, drawn in the allocated colour, highlighted.
    const before = await page.evaluate(() => kmemExplorer.view.counts[13]);
    await page.fill('#op-pages input[name=order]', '4');
    await page.click('#op-pages button[type=submit]');
    await page.waitForFunction(() => kmemExplorer.lastOp?.text.startsWith('alloc_pages(GFP_KERNEL, 4) = '));
    assert.equal(await page.evaluate(() => kmemExplorer.map.highlighting), true);
    await redrawn(page);
    const pages = await page.evaluate(() => kmemExplorer.lastOp!.pfns);
    assert.equal(pages.length, 16);
    const after = await page.evaluate(() => kmemExplorer.view.counts[13]);
    assert.equal(after - before, 16);
    for (const pfn of [pages[0], pages[15]]) assert.equal(await page.evaluate((p) => kmemExplorer.view.owner[p], pfn), O_ALLOC);
    await page.waitForFunction(() => !kmemExplorer.map.highlighting, null, { timeout: 10_000 });
    await redrawn(page);
    assert.equal(await cellColour(page, pages[7]), '#5cc86f');
    await page.screenshot({ path: join(SHOTS, 'allocate.png') });

    // The allocations tab lists all three; freeing the pages there gives them back.
    await page.click('#tabs button[data-tab=allocs]');
    assert.equal(await page.locator('#tab-allocs .allocs .row').count(), 3);
    await page.click('#tab-allocs button:has-text("__free_pages")');
    await page.waitForFunction(() => kmemExplorer.lastOp?.text.startsWith('__free_pages('));
    await redrawn(page);
    assert.equal(await page.evaluate(() => kmemExplorer.view.counts[13]), before);
    assert.notEqual(await page.evaluate((p) => kmemExplorer.view.owner[p], pages[0]), O_ALLOC);
    assert.deepEqual(errors, []);
  });

  it('plays the trace excerpt to its end: /proc/slabinfo equals kmem replay\'s', async (t: TestContext) => {
    await page.goto(`${server.url}?mem=256M&cpus=2`);
    await waitReady(page, 0);
    await page.selectOption('#trace-select', 'traces/build-20k.txt.xz');
    await page.waitForFunction(() => kmemExplorer.trace?.total === 20000 && kmemExplorer.ready);
    assert.match(page.url(), /\?mem=256M&trace=build-20k$/, 'the URL names the trace');
    // The keyboard: → steps, space plays.
    await page.click('#map-panel h2');
    for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowRight');
    await page.waitForFunction(() => kmemExplorer.trace?.pos === 3);
    const t0 = Date.now();
    await page.keyboard.press('Space');
    await page.waitForFunction(() => kmemExplorer.trace?.pos === 20000 && !kmemExplorer.trace.playing, null, { timeout: 120_000 });
    t.diagnostic(`20,000 events played in the page in ${Date.now() - t0} ms`);
    await page.waitForFunction(() => kmemExplorer.state.slabinfo.includes('names_cache'));
    await page.waitForTimeout(300);
    const inPage = await page.evaluate(() => kmemExplorer.state.slabinfo);

    const dir = mkdtempSync(join(tmpdir(), 'kmem-replay-'));
    try {
      const r = await kmemCli(['replay', EXCERPT, '--mem', '256M', '--cpus', '2', '--proc-dir', dir, '--quiet']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(inPage, readFileSync(join(dir, 'slabinfo'), 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    // Screenshots of the main views after the trace: a cache opened, a slab page of it hovered.
    await page.click('#slab-table tr[data-name="dentry"]');
    await page.waitForSelector('#slab-detail .slab');
    const pfn = await page.evaluate(() => {
      const v = kmemExplorer.view;
      for (let p = v.maxPfn - 1; p >= 0; p--) if (v.owner[p] === 14 && v.cacheName(v.caches[v.cacheIdx[p]]) === 'dentry') return p;
      return -1;
    });
    assert.ok(pfn >= 0);
    const [x, y] = await page.evaluate((p) => kmemExplorer.map.cellXY(p), pfn);
    const box = (await page.locator('#map').boundingBox())!;
    const s = await page.evaluate(() => kmemExplorer.map.scale);
    await page.mouse.move(box.x + x + s / 2, box.y + y + s / 2);
    await page.waitForSelector('#hover.show');
    assert.match(await page.innerText('#hover'), /slab of dentry/);
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(SHOTS, 'explorer.png') });
    await page.mouse.click(box.x + x + s / 2, box.y + y + s / 2);
    await page.waitForSelector('#tab-page.active .hex');
    assert.match(await page.innerText('#tab-page'), /Page frame 0x[0-9a-f]+/);
    await page.mouse.move(5, 5);
    await page.screenshot({ path: join(SHOTS, 'page.png') });
    for (const tab of ['zones', 'meminfo', 'log']) {
      await page.click(`#tabs button[data-tab=${tab}]`);
      await page.waitForTimeout(200);
      await page.screenshot({ path: join(SHOTS, `${tab}.png`) });
    }
    assert.deepEqual(errors, []);
  });

  it('saves a snapshot and loads it back', async () => {
    await page.goto(`${server.url}?mem=1G&cpus=2`);
    await waitReady(page, 0);
    await page.evaluate(async () => {
      for (let i = 0; i < 30; i++) await kmemExplorer.run({ kind: 'kmalloc', size: 64 + 32 * i, gfp: 'GFP_KERNEL' });
      await kmemExplorer.run({ kind: 'alloc_pages', order: 3, gfp: 'GFP_KERNEL' });
      await kmemExplorer.run({ kind: 'fragment', pages: 4000 });
    });
    await page.waitForFunction(() => kmemExplorer.state.allocs.length === 31);
    const saved = await page.evaluate(() => ({ slabinfo: kmemExplorer.state.slabinfo, buddyinfo: kmemExplorer.state.buddyinfo, meminfo: kmemExplorer.state.meminfo }));
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#snap-save')]);
    assert.match(download.suggestedFilename(), /^kmem-x86_64-1G-2cpu-.*\.kmemsnap$/);
    const file = join(SHOTS, 'test.kmemsnap');
    await download.saveAs(file);
    bench.snapshot_bytes = readFileSync(file).length;

    // Another machine, then the snapshot.
    let n = await page.evaluate(() => kmemExplorer.bootCount);
    await page.fill('#boot-form input[name=mem]', '256M');
    await page.click('#boot-form button[type=submit]');
    await waitReady(page, n);
    // the new machine's first state follows its 'booted' message: wait for it rather than read the old one
    await page.waitForFunction((b) => kmemExplorer.state.buddyinfo !== b, saved.buddyinfo, { timeout: 30_000 });
    n = await page.evaluate(() => kmemExplorer.bootCount);
    await page.setInputFiles('#snap-load', file);
    await waitReady(page, n);
    await page.waitForFunction(() => kmemExplorer.state.allocs.length === 31);
    const loaded = await page.evaluate(() => ({ slabinfo: kmemExplorer.state.slabinfo, buddyinfo: kmemExplorer.state.buddyinfo, meminfo: kmemExplorer.state.meminfo }));
    assert.deepEqual(loaded, saved);
    assert.equal(await page.evaluate(() => kmemExplorer.view.desc.config.memBytes), 2 ** 30);
    assert.match(page.url(), /\?mem=1G$|\/$/);
    assert.deepEqual(errors, []);
  });

  it('the vmalloc, per-CPU slab, trace event and demo views show the machine\'s own values', async (t: TestContext) => {
    await page.goto(`${server.url}?mem=256M&cpus=2`);
    await waitReady(page, 0);

    // vmalloc from its form, in fragmented memory: the tab opens on the new area, its five pages
    // (scattered over the holes) are marked on the map.
    await page.evaluate(() => kmemExplorer.run({ kind: 'fragment', pages: 4096 }));
    await page.fill('#op-vmalloc input[name=size]', '20000');
    await page.click('#op-vmalloc button[type=submit]');
    await page.waitForFunction(() => kmemExplorer.lastOp?.text.startsWith('vmalloc(20000) = '));
    const vm = await page.evaluate(() => kmemExplorer.lastOp!);
    const addr = /= ([0-9a-f]{16}) /.exec(vm.text)![1];
    assert.equal(vm.pfns.length, 5);
    await page.waitForSelector('#tab-vmalloc.active .vm-row.selected');
    assert.match(await page.innerText('#tab-vmalloc .vm-row.selected .line'), new RegExp(`^0x${addr}-0x[0-9a-f]{16}\\s+24576 \\S+ pages=5 vmalloc`));
    assert.deepEqual(await page.locator('#tab-vmalloc .vm-page').evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.pfn))), vm.pfns);
    assert.deepEqual(await page.evaluate(() => [...kmemExplorer.map.markedPfns]), vm.pfns);
    assert.ok(vm.pfns.some((p, i) => i > 0 && p !== vm.pfns[i - 1] + 1), `scattered: ${vm.pfns}`);
    assert.match(await page.innerText('#tab-vmalloc .vm-area'), /physically scattered/);
    await redrawn(page);
    assert.deepEqual(await page.evaluate((p) => p.map((pfn) => kmemExplorer.view.owner[pfn]), vm.pfns), vm.pfns.map(() => O_VMALLOC));
    await page.waitForFunction(() => /vmalloc\s*20\.0K/.test(document.getElementById('legend')!.innerText), null, { timeout: 5000 });
    // The page-table walk of the area's start, level by level, ends at its first page.
    assert.deepEqual(await page.locator('#tab-vmalloc table.walk tbody tr').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.level)),
      ['PGD', 'P4D', 'PUD', 'PMD', 'PTE']);
    assert.equal(await page.innerText('#tab-vmalloc tr[data-level=PTE] td:last-child'), `page 0x${vm.pfns[0].toString(16)}`);
    // Any address, typed: the second page of the area.
    const second = (BigInt(`0x${addr}`) + 0x1234n).toString(16);
    await page.fill('#pt-walk input', second);
    await page.click('#pt-walk button');
    await page.waitForFunction((p) => document.querySelector('#tab-vmalloc .walk-result')?.textContent?.includes(`pfn 0x${p.toString(16)})`), vm.pfns[1]);
    assert.match(await page.innerText('#tab-vmalloc .walk-result'), new RegExp(`→ physical 0x${(vm.pfns[1] * 4096 + 0x234).toString(16)} `));
    await page.screenshot({ path: join(SHOTS, 'vmalloc.png') });

    // A cache allocated from on CPU 1: its slab is CPU 1's, the rest of it on CPU 1's lockless freelist.
    const cache = await page.evaluate(async () => {
      const r = await kmemExplorer.run({ kind: 'cache_create', name: 'percpu_test', size: 700, align: 0 });
      await kmemExplorer.run({ kind: 'cache_alloc', cache: r.caches[0], gfp: 'GFP_KERNEL' }, 1);
      return r.caches[0];
    });
    // CPU 1 ran in a worker of its own, attached to the same RAM; the kernel worker lists what it allocated.
    assert.deepEqual(await page.evaluate(() => kmemExplorer.cpus.attached), [1]);
    bench.cpu_worker_attach_256M_ms = Math.round((await page.evaluate(() => kmemExplorer.cpus.attachMs))[0]);
    t.diagnostic(`CPU 1's worker attached to the 256 MiB machine in ${String(bench.cpu_worker_attach_256M_ms)} ms`);
    await page.waitForFunction(() => (kmemExplorer.state.allocs as { cacheName: string }[]).some((a) => a.cacheName === 'percpu_test'));
    await page.click('#tabs button[data-tab=slabs]');
    await page.click(`#slab-table tr[data-cache="${cache}"]`);
    await page.waitForSelector('#slab-lists tr[data-owner=cpu1] .ref');
    const perSlab = await page.evaluate(() => kmemExplorer.state.slabs.find((r) => r.name === 'percpu_test')!.objperslab);
    assert.equal(await page.innerText('#slab-lists tr[data-owner=cpu1] td.cached'), String(perSlab - 1));
    assert.equal(await page.innerText('#slab-lists tr[data-owner=cpu0] td:nth-child(2)'), '—');
    assert.match(await page.innerText('#slab-lists tr[data-owner=cpu1] td:nth-child(2)'), new RegExp(`^0x[0-9a-f]+ ${perSlab}/${perSlab}$`), 'a CPU slab is frozen with inuse = objects');
    await page.screenshot({ path: join(SHOTS, 'slab-percpu.png') });

    // The event stream: kmalloc only, real pointers; a kmalloc from the form shows as its ftrace line.
    await page.click('#tabs button[data-tab=events]');
    await page.check('#tab-events input[name=kmalloc]');
    await page.waitForFunction(() => kmemExplorer.state.ftraceEvents.join() === 'kmalloc');
    await page.fill('#op-kmalloc input[name=size]', '100');
    await page.fill('#op-kmalloc input[name=gfp]', 'GFP_KERNEL');
    await page.click('#op-kmalloc button[type=submit]');
    await page.waitForFunction(() => kmemExplorer.lastOp?.text.startsWith('kmalloc(100, GFP_KERNEL) = '));
    const ptr = /= ([0-9a-f]{16}) /.exec(await page.evaluate(() => kmemExplorer.lastOp!.text))![1];
    await page.waitForFunction((p) => document.querySelector('#tab-events .ftrace')?.textContent?.includes(`ptr=${p}`), ptr);
    const line = (await page.innerText('#tab-events .ftrace')).split('\n').find((l) => l.includes(`ptr=${ptr}`))!;
    assert.match(line, new RegExp(`\\[000\\] \\S{5}\\s+\\d+\\.\\d{6}: kmalloc: call_site=\\S+ ptr=${ptr} bytes_req=100 bytes_alloc=128 gfp_flags=GFP_KERNEL node=-1 accounted=false$`));
    await page.fill('#tab-events input[type=search]', 'bytes_req=100 ');
    assert.deepEqual((await page.innerText('#tab-events .ftrace')).split('\n').filter((l) => l), [line]);
    await page.screenshot({ path: join(SHOTS, 'events.png') });

    // A demo chapter (the replay one: it replays the site's excerpt of the shared trace, fetched by the
    // worker): its text, and the machine it booted last becomes the page's.
    const n = await page.evaluate(() => kmemExplorer.bootCount);
    await page.click('#tabs button[data-tab=demo]');
    await page.selectOption('#demo-form select', 'replay');
    await page.click('#demo-form button[type=submit]');
    await page.waitForFunction(() => kmemExplorer.demo.done && kmemExplorer.demo.shown === 'replay', null, { timeout: 60_000 });
    await waitReady(page, n);
    const text = await page.innerText('#tab-demo pre');
    assert.match(text, /^Chapter \d+: Tracing and replaying a real workload\n/);
    assert.match(text, /Here are the first\s+20,000\s+events:/);
    assert.ok(!text.includes('a sample of it'), 'the excerpt, not the built-in sample');
    const booted = [...text.matchAll(/\[booted a simulated machine: x86_64, (\d+) (MiB|GiB), (\d+) CPUs?/g)].pop()!;
    assert.deepEqual(await page.evaluate(() => [kmemExplorer.view.desc.config.memBytes, kmemExplorer.view.desc.config.cpus]),
      [Number(booted[1]) * 2 ** (booted[2] === 'GiB' ? 30 : 20), Number(booted[3])]);
    await page.screenshot({ path: join(SHOTS, 'demo.png') });

    // The slab implementation from the boot form, kept in the URL.
    const m = await page.evaluate(() => kmemExplorer.bootCount);
    await page.selectOption('#boot-form select[name=slab]', 'slab');
    await page.click('#boot-form button[type=submit]');
    await waitReady(page, m);
    assert.match(page.url(), /slab=slab/);
    assert.equal(await page.evaluate(() => kmemExplorer.view.desc.config.slab), 'slab');
    assert.match(await page.innerText('#machine'), /SLAB/);
    assert.deepEqual(errors, []);
  });

  it('boots with percpu sheaves from the form: the cache view shows each CPU\'s main and spare sheaf and the barn', async () => {
    await page.goto(`${server.url}?mem=256M&cpus=2`);
    await waitReady(page, 0);
    const n = await page.evaluate(() => kmemExplorer.bootCount);
    await page.selectOption('#boot-form select[name=sheaves]', 'all');
    await page.click('#boot-form button[type=submit]');
    await waitReady(page, n);
    assert.match(page.url(), /\?mem=256M&sheaves=all$/);
    const cache = await page.evaluate(async () => {
      const r = await kmemExplorer.run({ kind: 'cache_create', name: 'sheaf_view', size: 512, align: 0 });
      for (let i = 0; i < 3; i++) await kmemExplorer.run({ kind: 'cache_alloc', cache: r.caches[0], gfp: 'GFP_KERNEL' }, 0);
      return r.caches[0];
    });
    await page.click('#tabs button[data-tab=slabs]');
    await page.click(`#slab-table tr[data-cache="${cache}"]`);
    await page.waitForSelector('#slab-lists td.sheaves');
    assert.match(await page.innerText('#slab-lists tr[data-owner=cpu0] td.sheaves'), /^main \d+\/\d+, spare (none|\d+\/\d+)$/);
    assert.match(await page.innerText('#slab-lists tr[data-owner=node0] td.sheaves'), /^barn: \d+ full, \d+ empty$/);
  });

  it('redraws the page map of 262,144 pages while a trace plays (speed, reported)', async (t: TestContext) => {
    const full = existsSync(SHARED_TRACE);
    await page.goto(`${server.url}?mem=1G&cpus=2`);
    await waitReady(page, 0);
    await page.selectOption('#trace-select', full ? 'traces/kmem-trace-build.txt.xz' : 'traces/build-20k.txt.xz');
    await page.waitForFunction(() => (kmemExplorer.trace?.total ?? 0) > 0 && kmemExplorer.ready, null, { timeout: 60_000 });
    // Twice: as fast as the worker can (the page draws every frame it gets), and at 100,000 events a second.
    const runs: Record<string, unknown>[] = [];
    for (const speed of full ? ['0', '100000'] : ['10000']) {
      await page.selectOption('#trace-speed', speed);
      await page.click('#trace-restart');
      await page.waitForFunction(() => kmemExplorer.trace?.pos === 0 && kmemExplorer.ready);
      const m0 = await page.evaluate(() => ({ ...kmemExplorer.map.perf }));
      const t0 = Date.now();
      await page.click('#trace-play');
      await page.waitForFunction(() => kmemExplorer.trace?.pos === kmemExplorer.trace?.total && !kmemExplorer.trace?.playing, null, { timeout: 300_000 });
      const wall = Date.now() - t0;
      const p = await page.evaluate(() => ({ ...kmemExplorer.perf, map: { ...kmemExplorer.map.perf }, total: kmemExplorer.trace!.total }));
      const redraws = p.map.redraws - m0.redraws;
      runs.push({
        speed: speed === '0' ? 'max' : `${Number(speed).toLocaleString('en-US')} events/s`, events: p.total, wall_ms: wall,
        seconds: +(p.playMs / 1000).toFixed(2), frames: p.playFrames, redraws_from_memory: p.playRedraws,
        fps: +((p.playRedraws / p.playMs) * 1000).toFixed(1),
        redraw_ms_mean: +((p.map.totalMs - m0.totalMs) / redraws).toFixed(2), redraw_ms_max: +p.map.maxMs.toFixed(2),
      });
    }
    const play = { trace: full ? 'the shared trace (212,524 events)' : 'the excerpt (20,000 events)', runs };
    bench.play = play;
    t.diagnostic(`trace play: ${JSON.stringify(play)}`);

    // The worst case for a redraw: every other page of the machine free (order 0), none merged.
    await page.evaluate(() => kmemExplorer.run({ kind: 'fragment', pages: 200_000 }));
    const frag = await page.evaluate(async () => {
      const m = kmemExplorer.map;
      const r0 = m.perf.redraws;
      const ms0 = m.perf.totalMs;
      const t = performance.now();
      for (let i = 0; i < 120; i++) {
        m.dirty = true;
        await new Promise((done) => requestAnimationFrame(() => done(null)));
      }
      const el = performance.now() - t;
      const n = m.perf.redraws - r0;
      return { redraws: n, fps: (n / el) * 1000, redraw_ms_mean: (m.perf.totalMs - ms0) / n, classify_ms: m.perf.classifyMs, paint_ms: m.perf.paintMs, draw_ms: m.perf.drawMs };
    });
    bench.fragmented_redraw = Object.fromEntries(Object.entries(frag).map(([k, v]) => [k, +v.toFixed(2)]));
    t.diagnostic(`fragmented map redraw: ${JSON.stringify(bench.fragmented_redraw)}`);
    await page.screenshot({ path: join(SHOTS, 'fragmented.png') });
    assert.ok(runs.every((r) => (r.redraws_from_memory as number) > 0));
    assert.deepEqual(errors, []);
  });
});
