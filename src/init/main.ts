/*
 * Booting the simulated machine (init/main.c start_kernel, arch/x86/kernel/
 * setup.c setup_arch, arch/x86/kernel/e820.c, mm/mm_init.c mm_core_init).
 *
 *   1. RAM: SharedArrayBuffer sections wherever the e820 map says "usable".
 *   2. setup_arch: the e820 map is printed and trimmed (page 0 and the
 *      640K..1M BIOS area are not RAM), memblock learns the usable ranges and
 *      their nodes, the first 1 MiB and the kernel image are reserved.
 *
 *      physical   0     1M           16M                                  end
 *                 |resv |   free      | kernel image | free ... | memmap, pgdat |
 *                                      .text .rodata .data .bss   (memblock, top-down)
 *
 *   3. The kernel's static data (.data/.bss) is laid out in the image:
 *      memblock and its region arrays, the printk buffer, the task table,
 *      per-CPU state, tainted_mask, the simulated clock.
 *   4. paging_init: pgdat per node, mem_section[] and each section's memmap
 *      from memblock (top-down, node-local), the zones' per-CPU pagesets.
 *   5. free_area_init, memmap_init, build_all_zonelists, memblock_free_all,
 *      init_per_zone_wmark_min: the buddy allocator takes over.
 *
 * The layout of step 3 is a pure function of the configuration, so a worker
 * can attach to a running machine by recomputing it (and so can a reader of
 * a memory snapshot).
 */
import { PhysMem } from '../machine/memory.ts';
import { KmemAccess } from '../machine/kmem_access.ts';
import { I386_MAXMEM, PAGE_SHIFT, PAGE_SIZE, X86_64, formatPtr, i386Layout, type ArchLayout } from '../arch/x86/layout.ts';
import { KernelAddr } from '../arch/x86/kaddr.ts';
import {
  e820PrintLines, nodeRanges, sanitizeE820, usableRanges, type MachineConfig,
} from '../machine/config.ts';
import { Printk } from '../kernel/printk.ts';
import { Bug, KERN_INFO, KERN_NOTICE, KERN_WARNING, UTS_RELEASE } from '../kernel/bug.ts';
import { Sched } from '../kernel/sched.ts';
import { Smp } from '../kernel/smp.ts';
import { Spinlocks } from '../kernel/locking/spinlock.ts';
import { Mutexes } from '../kernel/locking/mutex.ts';
import { Memblock, memblockDataSize, memblockPlacement } from '../mm/memblock.ts';
import { Sparse } from '../mm/sparse.ts';
import { Pages, pageLayout } from '../mm/page.ts';
import { mmzoneLayouts, pageblockOrder } from '../mm/mmzone.ts';
import { PageAllocator } from '../mm/page_alloc.ts';
import { PageLists } from '../mm/page_list.ts';
import { PageAllocGlobals } from '../mm/page_alloc_globals.ts';
import { PCPU_GLOBALS_BYTES, Percpu } from '../mm/percpu.ts';
import {
  build_all_zonelists, free_area_init, init_per_zone_wmark_min, memblock_free_all, memmap_init, type MmInitCtx,
} from '../mm/mm_init.ts';
import { Kernel, type KernelParts } from '../kernel/kernel.ts';
import { Kallsyms } from '../kernel/kallsyms.ts';
import { Rcu } from '../kernel/rcu.ts';
import { RamWords } from '../machine/ram_words.ts';
import { SlabCommon, parseSlabNomerge } from '../mm/slab_common.ts';
import { Slab } from '../mm/slab.ts';
import { Slqb } from '../mm/slqb.ts';
import { Slob } from '../mm/slob.ts';
import { Slub, parseSlubParams } from '../mm/slub.ts';
import type { SlabAllocator } from '../mm/slab_types.ts';
import { Tracing } from '../trace/events.ts';
import { vmallocStaticsBytes } from '../mm/vmalloc.ts';
import { reclaimStaticBytes } from '../mm/reclaim_init.ts';

/** Sizes of the kernel image's sections that hold no modelled data (as a small distro kernel). */
const TEXT_BYTES = 4 << 20;
const RODATA_BYTES = 1 << 20;
const LOG_BUF_BYTES = 1 << 17;
/**
 * The compact image (MachineConfig.compact, kmem/heap's profile): loaded
 * right after page 0, text just big enough for the code pointers kmem
 * hands out (kallsyms), rodata for the slab code's strings, a 16 KiB log.
 */
const COMPACT_TEXT_BYTES = 64 << 10;
const COMPACT_RODATA_BYTES = 4 << 10;
const COMPACT_LOG_BUF_BYTES = 16 << 10;
const MAX_TASKS = 256;

export interface BootOptions {
  /** 'throw': every kernel BUG/WARNING also throws a KernelBug after logging. */
  errors?: 'log' | 'throw';
  /** Called with each console line as it is logged. */
  console?: (line: string) => void;
}

/** Where the kernel image's static data lives: a pure function of the configuration. */
export interface ImageLayout {
  text: number;
  textEnd: number;
  rodata: number;
  data: number;
  memblock: number;
  /** Size of the printk ring buffer at logBuf. */
  logBufBytes: number;
  dataEnd: number;
  bss: number;
  logBuf: number;
  tasks: number;
  cpus: number;
  tainted: number;
  clock: number;
  pageAllocGlobals: number;
  /** RCU's callback queue (kernel/rcu/tree.c). */
  rcu: number;
  /** mm/slab_common.c's and the slab implementation's statics, the boot caches among them. */
  slab: number;
  slabBytes: number;
  /** The slab code's string literals (the kmalloc cache names), at the start of .rodata. */
  slabRodata: number;
  /* --- paging and vmalloc (issue 4) --- */
  /** swapper_pg_dir / init_top_pgt: the top page table of init_mm (page-aligned .bss). */
  swapperPgDir: number;
  /** mm/vmalloc.c's statics (VmallocStaticsLayout). */
  vmalloc: number;
  /* --- memory pressure (issue 3) --- */
  /** mm/shrinker.c's shrinker_list and per-CPU shrink_control slots, then mm/vmscan.c's reclaim_states. */
  reclaim: number;
  /* --- SMP (issue 5) --- */
  /** kmem_smp: which host thread drives which CPU (src/kernel/smp.ts). */
  smp: number;
  /** global_trace: where the trace meta block is, once tracing was first used (src/trace/events.ts). */
  traceGlobal: number;
  /** mm/percpu.c's pcpu_lock and the list of chunks in vmalloc space (src/mm/percpu.ts, percpu_vm.ts). */
  pcpuGlobals: number;
  /** init_mm.page_table_lock (mm/init-mm.c), taken when a kernel page table is populated (src/arch/x86/pgtable.ts). */
  initMm: number;
  /** kernel/fork.c's statics: pidmap_lock, last_pid, the thread table (src/kernel/fork.ts). */
  forkGlobals: number;
  /** The .data..percpu section image's pfn and the lock of its definitions (src/mm/percpu_defs.ts). */
  percpuDefs: number;
  /** mm/highmem.c's kmap_lock and the pkmap bookkeeping's pfn (src/mm/highmem.ts). */
  highmem: number;
  bssEnd: number;
}

/** MAX_NUMNODES: CONFIG_NODES_SHIFT 6 on x86_64, no NUMA on i386. */
function maxNumNodes(layout: ArchLayout): number {
  return layout.bits === 64 ? 64 : 1;
}

export function imageLayout(layout: ArchLayout, nrCpus: number, compact = false): ImageLayout {
  const start = compact ? PAGE_SIZE : layout.PHYSICAL_START;
  const up = (x: number, a: number) => Math.ceil(x / a) * a;
  const rodata = start + (compact ? COMPACT_TEXT_BYTES : TEXT_BYTES);
  const data = rodata + (compact ? COMPACT_RODATA_BYTES : RODATA_BYTES);
  const logBufBytes = compact ? COMPACT_LOG_BUF_BYTES : LOG_BUF_BYTES;
  const memblock = data;
  const dataEnd = up(memblock + memblockDataSize(layout), PAGE_SIZE);
  const bss = dataEnd;
  const logBuf = bss;
  const sched = Sched.bytes(MAX_TASKS, nrCpus);
  const tasks = up(logBuf + Printk.layoutBytes(logBufBytes), 64);
  const cpus = up(tasks + sched.tasks, 64);
  const tainted = up(cpus + sched.cpus, 8);
  const clock = tainted + 8;
  const pageAllocGlobals = clock + 8;
  const rcu = up(pageAllocGlobals + PageAllocGlobals.bytes(8), 8);
  const slab = up(rcu + Rcu.globalsBytes(layout.ptrSize), 64);
  // room for the larger of the implementations' statics (SLUB's; SLOB's are three list heads and kmem_cache_boot)
  const slabBytes = SlabCommon.staticBytes(layout.ptrSize) +
    Math.max(Slub.staticBytes(layout.ptrSize, maxNumNodes(layout)), Slob.staticBytes(layout.ptrSize),
      Slab.staticBytes(layout.ptrSize, nrCpus), Slqb.staticBytes(layout.ptrSize, nrCpus));
  // --- paging and vmalloc (issue 4): swapper_pg_dir, then mm/vmalloc.c's statics ---
  const swapperPgDir = up(slab + slabBytes, PAGE_SIZE);
  const vmalloc = swapperPgDir + PAGE_SIZE;
  // --- memory pressure (issue 3): shrinkers and reclaim ---
  const reclaim = up(vmalloc + vmallocStaticsBytes(layout.ptrSize, nrCpus), 64);
  // --- SMP (issue 5): host threads and CPUs ---
  const smp = up(reclaim + reclaimStaticBytes(layout.ptrSize, nrCpus, maxNumNodes(layout)), 64);
  const traceGlobal = up(smp + Smp.bytes(nrCpus), 8);
  const pcpuGlobals = traceGlobal + 8;
  const initMm = pcpuGlobals + PCPU_GLOBALS_BYTES;
  const forkGlobals = initMm + 8;
  const percpuDefs = forkGlobals + 16; // fork: pidmap_lock, last_pid, table pfn + 1, nr entries
  const highmem = percpuDefs + 8;
  const bssEnd = up(highmem + 8, PAGE_SIZE);
  return {
    text: start, textEnd: rodata, rodata, data, memblock, logBufBytes, dataEnd, bss, logBuf, tasks, cpus, tainted, clock, pageAllocGlobals,
    rcu, slab, slabBytes, slabRodata: rodata, swapperPgDir, vmalloc, reclaim, smp, traceGlobal, pcpuGlobals, initMm,
    forkGlobals, percpuDefs, highmem, bssEnd,
  };
}

/** The architecture layout for a configuration (i386's depends on how much lowmem there is). */
export function archLayout(config: MachineConfig): ArchLayout {
  if (config.arch === 'x86_64') return X86_64;
  const maxPhys = Math.max(...usableRanges(config.e820).map(([, e]) => e));
  return i386Layout(Math.min(Math.floor(maxPhys / PAGE_SIZE) * PAGE_SIZE, I386_MAXMEM));
}

/** start_kernel(): boot a machine and return its kernel. */
export function start_kernel(config: MachineConfig, opts: BootOptions = {}): Kernel {
  const m = setup_mm(config, opts, slabImplOf(config));
  // The trace events (src/trace/events.ts); boot-time tracing starts before kmem_cache_init().
  const trace = new Tracing({
    mem: m.mem, layout: m.layout, sched: m.sched, kallsyms: m.kallsyms, pages: m.pages, buddy: m.buddy, slab: m.slab,
    nrCpus: config.cpus, clockPa: m.img.clock, globalPa: m.img.traceGlobal, pageblockOrder: pageblockOrder(config.arch, config.pae),
    pr_warn: (text) => m.log.printk(KERN_WARNING, text),
  });
  const k = new Kernel({ ...m, trace });
  mm_core_init_late(m, opts, () => trace.early_trace_init(config.cmdline));
  return k;
}

/**
 * start_kernel() without the Kernel facade and tracing, SLUB only: the
 * subsystems as kmem/heap uses them (and nothing else is linked in).
 */
export function start_kernel_mm(config: MachineConfig, opts: BootOptions = {}): BootedMm {
  const m = setup_mm(config, opts, newSlub);
  mm_core_init_late(m, opts);
  return m;
}

/** The booted subsystems before the facade (KernelParts without tracing). */
export interface BootedMm extends Omit<KernelParts, 'trace'> {
  /** memblock's reserved bytes before memblock_free_all(). */
  reservedBeforeFree: number;
  /** From now on each log record is 1 µs after the previous. */
  startClock(): void;
}

/** What the slab implementations are built from; each takes the fields it needs. */
interface SlabImplDeps {
  layout: ArchLayout; mem: PhysMem; words: RamWords; kaddr: KernelAddr; sparse: Sparse; pages: Pages;
  mz: ReturnType<typeof mmzoneLayouts>; buddy: PageAllocator; percpu: Percpu; log: Printk; bug: Bug; sched: Sched;
  smp: Smp; locks: Spinlocks; kallsyms: Kallsyms; rcu: Rcu; nrCpus: number; cpuToNode: number[]; nrNodes: number; pgdatPa: number[];
  maxNumNodes: number; cmdline: string; uptimeNs: () => number;
  /** SLUB's percpu sheaves (MachineConfig.sheaves); the other implementations ignore it. */
  sheaves?: MachineConfig['sheaves'];
}
type SlabImplFactory = (d: SlabImplDeps, staticsPa: number, common: SlabCommon) => SlabAllocator;

/** CONFIG_SLUB. */
function newSlub(d: SlabImplDeps, staticsPa: number, common: SlabCommon): SlabAllocator {
  return new Slub({ ...d, staticsPa, params: parseSlubParams(d.cmdline) }, common);
}

/** The slab implementation the configuration names (a build-time choice in Linux). */
function slabImplOf(config: MachineConfig): SlabImplFactory {
  switch (config.slab) {
    case 'slob': return (d, staticsPa, common) => new Slob({ ...d, staticsPa }, common);
    case 'slqb': return (d, staticsPa, common) => new Slqb({ ...d, staticsPa }, common);
    case 'slab': return (d, staticsPa, common) => new Slab({ ...d, staticsPa }, common);
    default: return newSlub;
  }
}

/** mm_core_init()'s end: the "Memory:" line, rcu_init(), boot-time tracing, kmem_cache_init(); the clock starts. */
function mm_core_init_late(m: BootedMm, opts: BootOptions, early_trace_init?: () => void): void {
  memInitPrintInfo(m, m.img, m.reservedBeforeFree);
  m.rcu.rcu_init();
  early_trace_init?.();
  m.slab.kmem_cache_init();
  m.bug.throwOnBug = opts.errors === 'throw';
  m.startClock();
}

/** setup_arch() and mm_core_init() up to the slab allocator's construction. */
function setup_mm(config: MachineConfig, opts: BootOptions, newSlabImpl: SlabImplFactory): BootedMm {
  const layout = archLayout(config);
  const e820 = sanitizeE820(config.e820);
  const ram = usableRanges(e820);
  const maxPhys = Math.max(...ram.map(([, e]) => e));
  const maxPfn = Math.floor(maxPhys / PAGE_SIZE);
  const maxLowPfn = config.arch === 'i386' ? Math.min(maxPfn, I386_MAXMEM / PAGE_SIZE) : maxPfn;

  const mem = PhysMem.create(maxPfn * PAGE_SIZE, ram);
  const access = new KmemAccess(mem, layout);
  const kaddr = new KernelAddr(access, layout, maxLowPfn * PAGE_SIZE);
  const img = imageLayout(layout, config.cpus, config.compact);
  mem.fill(img.bss, img.bssEnd - img.bss, 0);

  // The simulated clock: early boot logs at 0.000000 as real kernels do;
  // once the allocator is up, each log record is 1 µs after the previous.
  let clockRunning = false;
  const clockNs = () => {
    const t = mem.read64(img.clock);
    if (clockRunning) mem.write64(img.clock, t + 1000);
    return t;
  };
  const log = new Printk(access, img.logBuf, img.logBufBytes, clockNs);
  if (opts.console) {
    const out = opts.console;
    log.console = (text: string) => out(text);
  }
  const sched = new Sched(access, img.tasks, MAX_TASKS, img.cpus, (pa) => kaddr.__va(pa), (va) => kaddr.__pa(va));
  const swapper = sched.createTask(0, 'swapper/0');
  for (let cpu = 0; cpu < config.cpus; cpu++) sched.setCurrent(swapper, cpu);
  const bug = new Bug(log, sched, access, img.tainted, layout.arch);
  bug.throwOnBug = false;
  const smp = new Smp(mem, img.smp, config.cpus);
  smp.init();
  const locks = new Spinlocks(mem, sched, smp, log, bug, (pa) => kaddr.__va(pa), (va) => formatPtr(layout, va));
  const mutexes = new Mutexes(locks.words, sched, smp, log, bug);
  // watchdog_thresh= (kernel/watchdog.c): a soft lockup is 2 * thresh seconds of spinning; 0 turns the detector off
  for (const param of config.cmdline.split(/\s+/)) {
    const m = /^watchdog_thresh=(\d+)$/.exec(param);
    if (m) locks.softLockupSeconds = Number(m[1]) === 0 ? Infinity : 2 * Number(m[1]);
  }

  log.printk(KERN_NOTICE, `Linux version ${UTS_RELEASE} (kmem) #1 SMP PREEMPT_DYNAMIC`);
  log.printk(KERN_INFO, `Command line: ${config.cmdline}`);
  for (const l of e820PrintLines(e820)) log.printk(KERN_INFO, l);

  // setup_arch(): memblock gets the usable RAM (less page 0 and the BIOS hole), node by node.
  const memblock = new Memblock(access, memblockPlacement(layout, img.memblock), (pa) => kaddr.__va(pa), (va) => kaddr.__pa(va),
    (level, text) => log.printk(level, text));
  for (const param of config.cmdline.split(/\s+/)) {
    if (param.startsWith('memblock=')) memblock.early_memblock(param.slice('memblock='.length));
  }
  const nodes = nodeRanges({ e820, nodes: config.nodes });
  for (let nid = 0; nid < nodes.length; nid++) {
    for (const [s, e] of nodes[nid]) {
      for (const [rs, re] of ram) {
        let a = Math.max(s, rs);
        const b = Math.min(e, re);
        if (a < PAGE_SIZE) a = PAGE_SIZE; // trim_bios_range(): page 0 belongs to the BIOS
        if (b > a) memblock.memblock_add_node(a, b - a, nid, 0, 'e820__memblock_setup');
      }
    }
  }
  if (!config.compact) memblock.memblock_reserve(0, 1 << 20, 'setup_arch'); // x86 reserves the first 1 MiB
  memblock.memblock_reserve(img.text, img.bssEnd - img.text, 'setup_arch');
  memblock.memblock_set_current_limit(maxLowPfn * PAGE_SIZE);
  if (config.arch === 'i386' && maxPfn > maxLowPfn) {
    log.printk(KERN_NOTICE, `${Math.floor(((maxPfn - maxLowPfn) * PAGE_SIZE) / 2 ** 20)}MB HIGHMEM available.`);
    log.printk(KERN_NOTICE, `${Math.floor((maxLowPfn * PAGE_SIZE) / 2 ** 20)}MB LOWMEM available.`);
  }

  // paging_init(): node data, mem_section[], memmaps, pcp arrays.
  const mz = mmzoneLayouts(layout.ptrSize, config.arch);
  const nodeSpans = nodes.map((ranges) => {
    let s = Infinity;
    let e = 0;
    memblock.for_each_mem_pfn_range(nodes.indexOf(ranges), (a: number, b: number) => {
      s = Math.min(s, a);
      e = Math.max(e, b);
    });
    return [s === Infinity ? 0 : s, e] as const;
  });
  const pgdatPa = nodes.map((_, nid) => {
    const pa = memblock.memblock_phys_alloc_try_nid(mz.pgdat.size, PAGE_SIZE, nid, 'alloc_node_data');
    mem.fill(pa, mz.pgdat.size, 0);
    log.printk(KERN_INFO, `NODE_DATA(${nid}) allocated [mem ${hex18(pa)}-${hex18(pa + mz.pgdat.size - 1)}]`);
    return pa;
  });
  const tables = Sparse.tableBytes(layout, maxPfn);
  const memSectionPa = memblock.memblock_phys_alloc(tables.memSection, PAGE_SIZE, 'sparse_init');
  mem.fill(memSectionPa, tables.memSection, 0);
  const vmemmapPmdPa = tables.vmemmapPmd ? memblock.memblock_phys_alloc(tables.vmemmapPmd, PAGE_SIZE, 'vmemmap_populate') : 0;
  if (vmemmapPmdPa) mem.fill(vmemmapPmdPa, tables.vmemmapPmd, 0);
  const pl = pageLayout(layout);
  const sparse = new Sparse(access, layout, pl, memSectionPa, vmemmapPmdPa, maxPfn, pageblockOrder(config.arch, config.pae));
  const presentRanges: { startPfn: number; endPfn: number; nid: number }[] = [];
  memblock.for_each_mem_pfn_range(-1, (s: number, e: number, nid: number) => {
    presentRanges.push({ startPfn: s, endPfn: e, nid });
  });
  sparse.sparse_init(presentRanges, {
    alloc: (size, align, nid) => memblock.memblock_phys_alloc_try_nid(size, align, nid, 'sparse_init'),
  });
  kaddr.sparse = sparse;
  const pages = new Pages(sparse, pl);

  const cpuToNode: number[] = new Array(config.cpus).fill(0);
  config.nodes.forEach((n, nid) => n.cpus.forEach((c) => (cpuToNode[c] = nid)));
  const lists = new PageLists(mem, sparse, pl, layout);
  const buddy = new PageAllocator({
    access, layout, lists, sparse, pages, mz, log, bug, sched, smp, locks, nrCpus: config.cpus, cpuToNode, pgdatPa,
    globalsPa: img.pageAllocGlobals, __va: (pa) => kaddr.__va(pa),
  });
  buddy.initGlobals();
  // init_on_alloc= / init_on_free= (early_param, kstrtobool), the static keys set by mem_debugging_and_hardening_init()
  for (const param of config.cmdline.split(/\s+/)) {
    const m = /^init_on_(alloc|free)=(.*)$/.exec(param);
    if (!m) continue;
    const on = /^(1|y|Y|on)/.test(m[2]) ? true : /^(0|n|N|of)/.test(m[2]) ? false : null;
    if (on === null) continue;
    if (m[1] === 'alloc') buddy.globals.init_on_alloc = on;
    else buddy.globals.init_on_free = on;
  }

  const maxZonePfn = maxZonePfns(config, maxLowPfn, maxPfn, mz.zs.MAX_NR_ZONES);
  const ctx: MmInitCtx = {
    access, memblock, sparse, pages, buddy, mz, log, pgdatPa, maxZonePfn, nodeSpans, nrCpus: config.cpus,
    thp: config.arch === 'x86_64', numa: config.arch === 'x86_64',
  };
  // setup_per_cpu_areas(): the per-CPU first chunk, from memblock; each zone's
  // per_cpu_pageset and per_cpu_zonestats are per-CPU allocations in it (setup_zone_pageset).
  const percpuMeta = memblock.memblock_phys_alloc(Percpu.metaBytes(), PAGE_SIZE, 'pcpu_setup_first_chunk');
  const percpuChunk = memblock.memblock_phys_alloc(Percpu.chunkBytes(config.cpus), PAGE_SIZE, 'pcpu_embed_first_chunk');
  const percpu = new Percpu(access, percpuMeta, img.pcpuGlobals, log, locks, (pa) => kaddr.__va(pa));
  percpu.setup_per_cpu_areas(percpuChunk, config.cpus);
  buddy.setup_per_cpu_pageset(percpu);
  free_area_init(ctx);
  memmap_init(ctx);
  build_all_zonelists(ctx);
  const reservedBeforeFree = memblock.memblock_reserved_size();
  memblock.memblock_dump_all();
  memblock_free_all(ctx);
  init_per_zone_wmark_min(ctx);

  // mm_core_init() goes on with kmem_cache_init(): SLUB and the kmalloc caches (after the "Memory:" line).
  const kallsyms = new Kallsyms(mem, kaddr.imageVa(img.text), img.text, img.textEnd - img.text);
  kallsyms.init();
  const rcu = new Rcu(access, kaddr, kallsyms, locks, img.rcu, kaddr.__va(img.rcu));
  const words = new RamWords(mem, layout.ptrSize);
  const slab = new SlabCommon({
    layout, mem, words, kaddr, sparse, pages, mz, buddy, log, bug, sched, mutexes, kallsyms, rcu, pgdatPa,
    dataPa: img.slab, dataBytes: img.slabBytes, rodataPa: img.slabRodata, rodataBytes: SlabCommon.rodataBytes(),
    nomerge: parseSlabNomerge(config.cmdline),
  }, (staticsPa, common) => newSlabImpl({
    layout, mem, words, kaddr, sparse, pages, mz, buddy, percpu, log, bug, sched, smp, locks, kallsyms, rcu, nrCpus: config.cpus,
    cpuToNode, nrNodes: config.nodes.length, pgdatPa, maxNumNodes: maxNumNodes(layout), cmdline: config.cmdline,
    uptimeNs: () => mem.read64(img.clock), ...(config.sheaves !== undefined ? { sheaves: config.sheaves } : {}),
  }, staticsPa, common));
  return {
    config, layout, mem, access, kaddr, log, bug, sched, smp, locks, mutexes, memblock, sparse, pages, mz, buddy, percpu, img, ctx, kallsyms,
    rcu, slab, reservedBeforeFree, startClock: () => { clockRunning = true; },
  };
}

function hex18(v: number): string {
  return '0x' + v.toString(16).padStart(16, '0');
}

/** zone_sizes_init(): the end pfn of each zone (x86: DMA 16 MiB, DMA32 4 GiB, Normal max_low_pfn, HighMem max_pfn). */
function maxZonePfns(config: MachineConfig, maxLowPfn: number, maxPfn: number, nrZones: number): number[] {
  const MAX_DMA_PFN = (16 << 20) >> PAGE_SHIFT;
  const MAX_DMA32_PFN = 1 << (32 - PAGE_SHIFT);
  const out = new Array(nrZones).fill(0);
  if (config.arch === 'x86_64') {
    out[0] = Math.min(MAX_DMA_PFN, maxLowPfn);
    out[1] = Math.min(MAX_DMA32_PFN, maxLowPfn);
    out[2] = maxLowPfn;
  } else {
    out[0] = Math.min(MAX_DMA_PFN, maxLowPfn);
    out[1] = maxLowPfn;
    out[2] = maxPfn;
  }
  return out;
}

/** mem_init_print_info(): the "Memory: ...K/...K available" line. */
function memInitPrintInfo(k: Pick<KernelParts, 'buddy' | 'mz' | 'log' | 'config'>, img: ImageLayout, _reserved: number): void {
  let physpages = 0;
  let managed = 0;
  let highmem = 0;
  for (const z of k.buddy.zones) {
    physpages += k.buddy.zget(z, 'present_pages');
    managed += k.buddy.managed(z);
    if (z.idx === k.mz.zs.ZONE_HIGHMEM) highmem += k.buddy.managed(z);
  }
  const K = (bytes: number) => `${Math.round(bytes / 1024)}K`;
  const pagesK = (pages: number) => `${pages * (PAGE_SIZE / 1024)}K`;
  const text = img.textEnd - img.text;
  const rodata = img.data - img.rodata;
  const rw = img.dataEnd - img.data;
  const bss = img.bssEnd - img.bss;
  let line = `Memory: ${pagesK(managed)}/${pagesK(physpages)} available (${K(text)} kernel code, ` +
    `${K(rw)} rwdata, ${K(rodata)} rodata, 0K init, ${K(bss)} bss, ${pagesK(physpages - managed)} reserved, 0K cma-reserved`;
  if (k.config.arch === 'i386') line += `, ${pagesK(highmem)} highmem`;
  k.log.printk(KERN_INFO, line + ')');
}
