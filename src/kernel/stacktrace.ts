/*
 * stack_trace_save() (kernel/stacktrace.c), for kmem: the call stack at
 * this point is the JavaScript stack, so a trace is read from it. Each
 * frame is a function name; frames in kmem's own src/ tree are kmem's
 * functions (class methods, named as Class.method by the engine), the
 * others are its callers (a module's init, a test). Only for debugging
 * paths (slab_debug=U owner tracking): it costs a stack capture.
 *
 * Frames without a name (anonymous functions) are left out, and the walk
 * stops at the host's own frames (node:internal ...) and at libraries'
 * (node_modules: a test runner, a command-line parser), which are not part
 * of the simulated kernel's call chain.
 */

export interface JsFrame {
  /** The function's name without its class ("kmalloc" for "Kernel.kmalloc"). */
  readonly name: string;
  /** The class or object the engine named with it ("Kernel"), or "". */
  readonly owner: string;
  /** A frame of kmem itself (src/). */
  readonly kmem: boolean;
}

/** The named frames of the current JS stack, innermost first, this function left out. */
export function stack_trace_save_js(max = 64): JsFrame[] {
  const E = Error as unknown as { stackTraceLimit?: number };
  const limit = E.stackTraceLimit;
  E.stackTraceLimit = max + 2;
  const stack = new Error().stack ?? '';
  E.stackTraceLimit = limit;
  const out: JsFrame[] = [];
  for (const line of stack.split('\n').slice(2)) {
    // V8: "    at [async ][new ]name (location)" or "    at location"; SpiderMonkey/JSC: "name@location"
    const v8 = /^\s*at (?:async )?(?:new )?(.+?) \((.*)\)$/.exec(line);
    const sm = v8 ? null : /^([^@\s]*)@(.*)$/.exec(line);
    const where = v8 ? v8[2] : sm ? sm[2] : (/^\s*at (?:async )?(.*)$/.exec(line)?.[1] ?? '');
    if (/^node:|[(\s]node:/.test(where) || where.startsWith('internal/') || /[/\\]node_modules[/\\]/.test(where)) break;
    const full = v8 ? v8[1] : sm ? sm[1] : '';
    if (full === '' || full.includes('<anonymous>')) continue;
    const dot = full.lastIndexOf('.');
    const name = dot >= 0 ? full.slice(dot + 1) : full;
    if (!/^[\w$]+$/.test(name)) continue;
    out.push({ name, owner: dot >= 0 ? full.slice(0, dot) : '', kmem: /[/\\]src[/\\]/.test(where) });
  }
  return out;
}
