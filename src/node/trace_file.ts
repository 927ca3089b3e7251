/*
 * Reading a trace file in Node: plain text, gzip or xz, streamed (the file
 * is never held whole: 256 KiB of input and one 64 KiB decompressed chunk
 * are in flight at a time), into the core parser
 * (src/trace/parse.ts). The compression is recognised by the file's magic
 * bytes, not its name, so "-" (standard input) works too.
 *
 * gzip: node:zlib's streaming gunzip (concatenated members included).
 *
 * xz: the xz-decompress package (MIT, no dependencies): xz-embedded (Lasse
 * Collin's public-domain decoder, the one the kernel itself uses) compiled to
 * WebAssembly, behind a web ReadableStream that decompresses as it is read.
 * Chosen over the other npm candidates (the first three installed and run
 * on the shared trace here):
 * - @napi-rs/lzma (Rust, native): decompresses a whole buffer at once, no
 *   streaming API, so the file and its output would be held whole;
 * - lzma-native (liblzma bindings, MIT, streaming): works, about as fast
 *   here (170 ms against 180 for the shared trace), but it is native code
 *   (prebuilt binaries for five platforms inside the package, a node-gyp
 *   build of liblzma anywhere else, which npm here does not run without an
 *   allowScripts approval) and brings three more packages;
 * - node-liblzma (liblzma bindings, streaming, 1.2-1.5x faster): LGPL-3.0,
 *   native too, prebuilt for three platforms only;
 * - lzma / lzma-purejs / js-lzma (pure JS): the .lzma (LZMA-alone) format,
 *   not .xz.
 * WebAssembly needs no install step and runs wherever Node does (and in
 * browsers). It decompresses the shared trace (1.4 MB of xz, 37 MB out) at
 * about 200 MB/s, as fast as the parser reads (bench/trace_parse.ts,
 * BENCHMARKS.md); the system `xz -dc` does 250-340 MB/s. A damaged or cut
 * .xz stops with an error after the data before the damage has been parsed
 * (see parse_trace_file).
 */
import { createReadStream } from 'node:fs';
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import xzDecompress from 'xz-decompress';
import { TraceParser, type EventCallback, type ParseOptions, type ParseResult } from '../trace/parse.ts';

export type TraceCompression = 'none' | 'gzip' | 'xz';

const XZ_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const GZIP_MAGIC = [0x1f, 0x8b];

/** The compression of a file from its first bytes (at least 6 for xz). */
export function detect_compression(head: Uint8Array): TraceCompression {
  const starts = (magic: number[]) => head.length >= magic.length && magic.every((b, i) => head[i] === b);
  if (starts(XZ_MAGIC)) return 'xz';
  if (starts(GZIP_MAGIC)) return 'gzip';
  return 'none';
}

/* xz-embedded's enum xz_ret, for error messages. */
const XZ_ERRORS: Record<string, string> = {
  '2': 'unsupported integrity check',
  '3': 'out of memory',
  '4': 'memory limit reached',
  '5': 'not an xz file',
  '6': 'unsupported xz options',
  '7': 'corrupt xz data',
  '8': 'truncated xz data',
};

function xzError(e: unknown): Error {
  const msg = e instanceof Error ? e.message : String(e);
  const m = /error code (\d+)/.exec(msg);
  return new Error(m && XZ_ERRORS[m[1]] ? `xz: ${XZ_ERRORS[m[1]]}` : `xz: ${msg}`);
}

export interface OpenedTrace {
  compression: TraceCompression;
  /** The decompressed bytes, chunk by chunk. */
  chunks: AsyncIterable<Uint8Array>;
}

/**
 * Decompress a byte stream according to its first bytes. The result can be
 * iterated once.
 */
export async function decompress_stream(source: AsyncIterable<Uint8Array>): Promise<OpenedTrace> {
  const it = source[Symbol.asyncIterator]();
  /* The first chunks, until there are enough bytes to recognise the format. */
  const head: Uint8Array[] = [];
  let headBytes = 0;
  let done = false;
  while (headBytes < XZ_MAGIC.length) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    head.push(r.value);
    headBytes += r.value.length;
  }
  const joined = new Uint8Array(headBytes);
  let off = 0;
  for (const h of head) {
    joined.set(h, off);
    off += h.length;
  }
  const compression = detect_compression(joined);
  async function* raw(): AsyncGenerator<Uint8Array> {
    if (joined.length > 0) yield joined;
    if (!done) {
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        yield r.value;
      }
    }
  }
  if (compression === 'gzip') {
    const gunzip = createGunzip();
    pipeline(Readable.from(raw()), gunzip, () => {
      /* errors reach the reader through gunzip */
    });
    return { compression, chunks: gunzip };
  }
  if (compression === 'xz') {
    const web = Readable.toWeb(Readable.from(raw())) as unknown as ReadableStream<Uint8Array>;
    const xz = new xzDecompress.XzReadableStream(web);
    async function* out(): AsyncGenerator<Uint8Array> {
      const reader = xz.getReader();
      for (;;) {
        let r: ReadableStreamReadResult<Uint8Array>;
        try {
          r = await reader.read();
        } catch (e) {
          throw xzError(e);
        }
        if (r.done) return;
        yield r.value;
      }
    }
    return { compression, chunks: out() };
  }
  return { compression, chunks: raw() };
}

/** Open a trace file (or "-" for standard input), decompressing as it is read. */
export async function open_trace(path: string): Promise<OpenedTrace> {
  const input = path === '-' ? process.stdin : createReadStream(path, { highWaterMark: 1 << 18 });
  return decompress_stream(input);
}

export interface TraceFileResult extends ParseResult {
  compression: TraceCompression;
  /** Decompressed bytes read. */
  bytes: number;
  /**
   * Why reading stopped early (a cut or corrupt .gz/.xz), after everything
   * before the damage was parsed; absent when the file was read to its end.
   */
  error?: string;
}

/**
 * Parse a trace file: plain, .gz or .xz, streamed. A file that cannot be
 * opened rejects; damage inside a compressed file does not (result.error).
 */
export async function parse_trace_file(
  path: string,
  onEvent: EventCallback,
  options?: ParseOptions,
): Promise<TraceFileResult> {
  const { compression, chunks } = await open_trace(path);
  const parser = new TraceParser(onEvent, options);
  let bytes = 0;
  let error: string | undefined;
  const it = chunks[Symbol.asyncIterator]();
  for (;;) {
    let r: IteratorResult<Uint8Array>;
    try {
      r = await it.next();
    } catch (e) {
      /* Reading or decompressing failed; the callback's own errors are not caught. */
      error = e instanceof Error ? e.message : String(e);
      break;
    }
    if (r.done) break;
    bytes += r.value.length;
    parser.feed(r.value);
  }
  const result: TraceFileResult = { ...parser.end(), compression, bytes };
  if (error !== undefined) result.error = error;
  return result;
}
