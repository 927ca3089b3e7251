/*
 * _RET_IP_ / __builtin_return_address(0) for the kernel API's callers, as
 * %pS prints it: the name of the nearest JavaScript function on the stack
 * that is not part of the kernel model (src/ outside src/cli and src/node),
 * so a module's init, a test, or a demo chapter; "0x0" when there is none.
 * What vm_struct->caller records and what an Oops names as the faulting
 * function (kmem has no machine code to point at).
 *
 * On V8 the frames are read as structured call sites (Error.captureStackTrace
 * with a temporary prepareStackTrace), which skips formatting the stack
 * text and source-map lookups: a few microseconds rather than a hundred.
 * Elsewhere the stack text is parsed.
 */

const FRAME_V8 = /^\s*at (?:async )?(?:new )?(.+?) \((.*)\)$/;
const FRAME_SM = /^([^@\s]*)@(.*)$/;
const MODEL = /[/\\]src[/\\](?!cli[/\\]|node[/\\])/;
const MAX_FRAMES = 32;

interface CallSite {
  getFileName(): string | null | undefined;
  getFunctionName(): string | null;
  getMethodName(): string | null;
}

interface V8Error {
  stackTraceLimit?: number;
  prepareStackTrace?: unknown;
  captureStackTrace?(target: object, ctor?: unknown): void;
}

function fromCallSites(sites: readonly CallSite[]): string | null {
  for (const s of sites) {
    const file = s.getFileName() ?? '';
    if (MODEL.test(file)) continue;
    const name = s.getFunctionName() ?? s.getMethodName() ?? '<anonymous>';
    const short = name.replace(/^.*\./, '');
    return /^[\w$<>]+$/.test(short) ? short : '0x0';
  }
  return null;
}

function fromText(stack: string): string {
  const lines = stack.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const m = FRAME_V8.exec(lines[i]) ?? FRAME_SM.exec(lines[i]);
    if (!m || MODEL.test(m[2])) continue;
    const name = m[1].replace(/^.*\./, '');
    return /^[\w$<>]+$/.test(name) ? name : '0x0';
  }
  return '0x0';
}

export function kernelCaller(): string {
  const E = Error as unknown as V8Error;
  const limit = E.stackTraceLimit;
  E.stackTraceLimit = MAX_FRAMES;
  try {
    if (typeof E.captureStackTrace === 'function') {
      const prev = E.prepareStackTrace;
      E.prepareStackTrace = (_e: unknown, sites: CallSite[]) => sites;
      const holder: { stack?: unknown } = {};
      try {
        E.captureStackTrace(holder, kernelCaller);
        const sites = holder.stack;
        if (Array.isArray(sites)) return fromCallSites(sites as CallSite[]) ?? '0x0';
      } finally {
        E.prepareStackTrace = prev;
      }
    }
    return fromText(new Error().stack ?? '');
  } finally {
    E.stackTraceLimit = limit;
  }
}
