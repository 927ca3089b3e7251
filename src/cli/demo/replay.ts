/*
 * Chapter: tracing and replay. The kmem trace events as ftrace prints them,
 * a real Linux trace replayed on kmem (the first events of the shared
 * 6.18 capture, to stay quick), and the report: what the workload asked
 * for, what the allocators gave, and whether kmem gave the same.
 */
import { TraceParser } from '../../trace/parse.ts';
import { TraceReplay } from '../../trace/replay.ts';
import { fidelity_lines, page_lines, summary_lines } from '../../trace/report.ts';
import type { DemoChapter } from './chapter.ts';

/** How many of its events the chapter replays. */
export const DEMO_EVENTS = 20000;

/* The first lines of the shared trace, for a checkout without it (verbatim). */
const SAMPLE = `# tracer: nop
#
# entries-in-buffer/entries-written: 12/12   #P:2
#
     capture3.sh-7212    [001] .....   596.514984: kmem_cache_free: call_site=__fput+0x141/0x2a0 ptr=000000007c89c7b9 name=lsm_file_cache
     capture3.sh-7212    [001] .....   596.514985: kmem_cache_free: call_site=task_work_run+0x59/0x90 ptr=00000000bdc0db1a name=filp
     capture3.sh-7212    [001] .....   596.514989: mm_page_alloc: page=00000000210f10c5 pfn=0x107459 order=0 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE|__GFP_ZERO|__GFP_COMP
     capture3.sh-7212    [001] .....   596.515029: kmem_cache_alloc: call_site=alloc_inode+0xa3/0xd0 ptr=000000007f48480c name=inode_cache bytes_req=616 bytes_alloc=624 gfp_flags=GFP_KERNEL node=-1 accounted=true
     capture3.sh-7212    [001] .....   596.515030: kmem_cache_alloc: call_site=security_inode_alloc+0x28/0xd0 ptr=000000003e02651c name=lsm_inode_cache bytes_req=32 bytes_alloc=32 gfp_flags=GFP_NOFS|__GFP_ZERO node=-1 accounted=false
     capture3.sh-7212    [001] .....   596.515032: kmalloc: call_site=alloc_pipe_info+0x5d/0x230 ptr=000000006d38382d bytes_req=176 bytes_alloc=192 gfp_flags=GFP_KERNEL_ACCOUNT|__GFP_ZERO node=-1 accounted=true
     capture3.sh-7212    [001] .....   596.515033: kmalloc: call_site=alloc_pipe_info+0xd7/0x230 ptr=000000008a68e01c bytes_req=640 bytes_alloc=1024 gfp_flags=GFP_KERNEL_ACCOUNT|__GFP_ZERO node=-1 accounted=true
     capture3.sh-7212    [001] .....   596.515035: kmem_cache_alloc: call_site=__d_alloc+0x2d/0x230 ptr=0000000058dd6848 name=dentry bytes_req=192 bytes_alloc=192 gfp_flags=GFP_KERNEL node=-1 accounted=true
     capture3.sh-7212    [001] .....   596.515037: kmem_cache_alloc: call_site=alloc_empty_file+0x3c/0x110 ptr=00000000bdc0db1a name=filp bytes_req=184 bytes_alloc=192 gfp_flags=GFP_KERNEL node=-1 accounted=true
     capture3.sh-7212    [001] .....   596.515049: kmem_cache_alloc: call_site=copy_process+0x18a/0x1c70 ptr=00000000ff082ded name=task_struct bytes_req=5952 bytes_alloc=5952 gfp_flags=GFP_KERNEL node=-1 accounted=true
     capture3.sh-7212    [001] .....   596.515073: mm_page_alloc: page=00000000c2715bd8 pfn=0x230931 order=0 migratetype=0 gfp_flags=GFP_KERNEL_ACCOUNT|__GFP_ZERO|__GFP_COMP
     capture3.sh-7212    [001] .....   596.515076: kfree: call_site=ida_alloc_range+0x39b/0x400 ptr=0000000000000000
`;

export const replayChapter: DemoChapter = {
  id: 'replay',
  title: 'Tracing and replaying a real workload',
  summary: 'the kmem trace events, a real Linux 6.18 trace replayed, perf kmem-style report',
  async run(d) {
    d.say(`Kernel developers watch their allocators with ftrace: echo 1 >
      /sys/kernel/tracing/events/kmem/enable, and every kmalloc, kfree,
      kmem_cache_alloc, kmem_cache_free and page allocation leaves a line in a
      per-CPU ring buffer. kmem has the same events, its ring buffers in the
      machine's memory, and prints them as Linux does (k.trace):`);
    const k = d.boot({ mem: '256M', cpus: 2 });
    k.trace.enable('kmem:kmalloc');
    k.trace.enable('kmem:kfree');
    k.trace.set_caller('demo_init');
    const p = k.kmalloc(100, k.GFP_KERNEL);
    const q = k.kzalloc(3000, k.GFP_KERNEL);
    k.kfree(p);
    k.kfree(q);
    k.kfree(0);
    k.trace.set_caller(null);
    d.call("k.trace.enable('kmem:kmalloc'); k.trace.enable('kmem:kfree')");
    d.call('kmalloc(100), kzalloc(3000), kfree both, kfree(NULL)');
    d.show(k.trace.read().replace(/\n$/, '').split('\n').slice(-5));
    d.blank();
    d.say(`Pointers are hashed as the kernel's %p hashes them; call_site names the
      caller (here set with k.trace.set_caller(); otherwise the JS function
      that called kmalloc). bytes_alloc is what the allocator really gave:
      kmalloc-128 for 100 bytes, kmalloc-4k for 3000. \`kmem boot --trace FILE\`
      writes the trace of a whole boot.`);

    d.say(`The other way round: a trace captured on a real machine can be replayed
      on kmem. The shared trace is Linux 6.18 on 2 CPUs building and running a
      C program, sorting numbers, making git commits and copying a file. Its
      first lines:`);
    const chunks = await d.sharedTrace(DEMO_EVENTS);
    const real = chunks !== null;
    let replayed = 0;
    const r = new TraceReplay(d.boot({ mem: '1G', cpus: 2 }));
    const shown: string[] = [];
    const parser = new TraceParser((e) => {
      if (replayed >= DEMO_EVENTS) return;
      replayed++;
      r.event(e);
    });
    if (chunks) {
      let head = '';
      for (const chunk of chunks) {
        if (head.length < 4000) head += new TextDecoder().decode(chunk.subarray(0, 4000));
        parser.feed(chunk);
        if (replayed >= DEMO_EVENTS) break;
      }
      shown.push(...head.split('\n').slice(12, 16));
    } else {
      parser.feed(SAMPLE);
      shown.push(...SAMPLE.split('\n').slice(4, 9));
    }
    // Stopped early: the parser's counts so far (end() would count the cut line as not understood).
    const result = r.finish(real ? { header: parser.header, stats: parser.stats } : parser.end());
    d.show(shown.map((l) => (l.length > 150 ? l.slice(0, 147) + '...' : l)));
    d.blank();
    d.say(`\`kmem replay TRACE\` runs each allocation and free on the simulated CPU of
      the line's CPU column: kmalloc by bytes_req and gfp_flags,
      kmem_cache_alloc on a cache created at its first sight with bytes_req as
      the object size, page allocations by order and flags, frees matched to
      their allocation by the (hashed) pointer. Here are the first
      ${replayed.toLocaleString('en-US')} events${real ? '' : ' (the shared trace is not beside this checkout: a sample of it)'}:`);
    d.show(summary_lines(result).filter((l) => !l.startsWith('Replayed')));
    d.blank();
    d.say(`Unmatched frees are objects allocated before the capture began: any
      real trace has them, and kfree(NULL) is traced too. "Implicit frees" are
      pointers handed out again without a free in the trace (freed by a task
      the capture left out, or by an RCU callback): kmem frees its copy then.
      The check that matters for a simulator is fidelity: did kmem's kmalloc
      give each request exactly what the real kernel gave?`);
    d.show(fidelity_lines(result));
    d.blank();
    d.say(`The caches the replay created get the layout that reproduces the
      trace's bytes_alloc: filp is 184 bytes asked for and 192 given
      (SLAB_HWCACHE_ALIGN), inode_cache 616 and 624 (a constructor moves the
      free pointer after the object). The busiest caches:`);
    d.show(result.caches.slice(0, 6).map((c) => `${c.name.padEnd(18)} object ${String(c.object_size).padStart(5)}  ` +
      `size ${String(c.size).padStart(5)} (trace ${c.trace_size < 0 ? '-' : c.trace_size})  ` +
      `${c.allocs.toLocaleString('en-US').padStart(7)} allocs  ${c.live.toLocaleString('en-US').padStart(6)} live`));
    d.blank();
    d.show(page_lines(result).slice(0, 2));
    d.blank();
    d.say(`The whole trace (212,524 events) replays in well under a second:
      \`kmem replay ../shared/traces/kmem-trace-build.txt.xz\`, with --json for
      one JSON object, --html FILE for a page with plots (footprint over time,
      fragmentation per cache, page orders), --proc-dir DIR for /proc after
      the replay.`);
  },
};
