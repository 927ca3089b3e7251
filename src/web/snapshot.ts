/*
 * Machine snapshots: a copy of the machine's RAM and its configuration,
 * saved by the explorer and loaded back.
 *
 * Everything the kernel model knows lives in the simulated RAM (struct
 * page, the zones, the slab caches, the printk buffer, the per-CPU areas);
 * the JS objects of a booted Kernel only say where things are, and boot is
 * deterministic for a configuration. So a snapshot is the configuration and
 * the bytes, and loading one boots a fresh machine with the same
 * configuration (which puts every structure at the same address) and then
 * overwrites its RAM with the saved bytes. The code pointers registered
 * after boot (kallsyms: a cache constructor, such as the replay's for
 * inode-like caches, an RCU callback) are in RAM too (kallsyms' table is in
 * .text), but their JavaScript is not: after a load they call functions
 * that do nothing (a constructor that wrote into its objects no longer
 * does). What lives outside RAM is kept in the header: the CPU the machine
 * was running on (sched.cpu), and an `extra` object for the caller (the
 * explorer keeps its hand-made allocations there).
 *
 * File format (gzip of the following; little-endian):
 *
 *   "KMEMSNAP"   8 bytes
 *   u32          version (1)
 *   u32          header length H
 *   H bytes      header, JSON (SnapshotHeader), padded with spaces to a multiple of 8
 *   ceil(P/8)    bitmap: pfn p's page is stored iff bit p is set (P = memSize / 4096),
 *                padded to a multiple of 8
 *   4096 * n     the stored pages, in pfn order: every page of RAM that is not all zero
 *
 * A fresh 1 GiB machine stores about 4,200 pages (its memmap is most of
 * them) and gzips to well under a megabyte.
 */
import { start_kernel } from '../init/main.ts';
import type { Kernel } from '../kernel/kernel.ts';
import type { MachineConfig } from '../machine/config.ts';
import { HOST_SECTION_SIZE } from '../machine/memory.ts';
import { PAGE_SIZE } from '../arch/x86/layout.ts';

const MAGIC = 'KMEMSNAP';
/** 2: kallsyms' table moved into .text (version 1 kept it in the header). */
const VERSION = 2;
const WORDS_PER_PAGE = PAGE_SIZE / 4;
const PAGES_PER_SECTION = HOST_SECTION_SIZE / PAGE_SIZE;

export interface SnapshotHeader {
  format: 'kmem-snapshot';
  version: number;
  config: MachineConfig;
  /** Bytes of physical address space (PhysMem.size). */
  memSize: number;
  /** Pages stored. */
  pages: number;
  cpu: number;
  created: string;
  extra: unknown;
}

export interface Snapshot {
  header: SnapshotHeader;
  bitmap: Uint8Array;
  /** The stored pages, back to back. */
  data: Uint8Array;
}

export class SnapshotError extends Error {
  override name = 'SnapshotError';
}

/** Whether the 4 KiB page at word index w of a section is all zero. */
function pageIsZero(words: Int32Array, w: number): boolean {
  for (let i = w, end = w + WORDS_PER_PAGE; i < end; i++) if (words[i] !== 0) return false;
  return true;
}

const up8 = (n: number) => Math.ceil(n / 8) * 8;

/** Take a snapshot of a machine (not compressed: see encodeSnapshot). */
export function takeSnapshot(k: Kernel, extra: unknown = null): Uint8Array {
  const mem = k.mem;
  const nPages = Math.floor(mem.size / PAGE_SIZE);
  const bitmap = new Uint8Array(up8(Math.ceil(nPages / 8)));
  const stored: number[] = [];
  for (let s = 0; s < mem.buffers.length; s++) {
    if (mem.buffers[s] === null) continue;
    const words = mem.i32[s];
    const first = s * PAGES_PER_SECTION;
    const last = Math.min(first + PAGES_PER_SECTION, nPages);
    for (let pfn = first; pfn < last; pfn++) {
      if (pageIsZero(words, (pfn - first) * WORDS_PER_PAGE)) continue;
      bitmap[pfn >>> 3] |= 1 << (pfn & 7);
      stored.push(pfn);
    }
  }
  const header: SnapshotHeader = {
    format: 'kmem-snapshot', version: VERSION, config: k.config, memSize: mem.size, pages: stored.length, cpu: k.sched.cpu,
    created: new Date().toISOString(), extra,
  };
  let json = JSON.stringify(header);
  json += ' '.repeat(up8(new TextEncoder().encode(json).length) - new TextEncoder().encode(json).length);
  const jsonBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(16 + jsonBytes.length + bitmap.length + stored.length * PAGE_SIZE);
  out.set(new TextEncoder().encode(MAGIC), 0);
  const dv = new DataView(out.buffer);
  dv.setUint32(8, VERSION, true);
  dv.setUint32(12, jsonBytes.length, true);
  out.set(jsonBytes, 16);
  out.set(bitmap, 16 + jsonBytes.length);
  let off = 16 + jsonBytes.length + bitmap.length;
  for (const pfn of stored) {
    mem.readBytes(pfn * PAGE_SIZE, PAGE_SIZE, out.subarray(off, off + PAGE_SIZE));
    off += PAGE_SIZE;
  }
  return out;
}

/** Read a snapshot's bytes (as takeSnapshot wrote them). */
export function readSnapshot(bytes: Uint8Array): Snapshot {
  if (bytes.length < 16 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) {
    throw new SnapshotError('not a kmem snapshot');
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(8, true);
  if (version !== VERSION) throw new SnapshotError(`snapshot version ${version}; this kmem reads version ${VERSION}`);
  const hlen = dv.getUint32(12, true);
  if (16 + hlen > bytes.length) throw new SnapshotError('snapshot header cut short');
  let header: SnapshotHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + hlen))) as SnapshotHeader;
  } catch {
    throw new SnapshotError('snapshot header is not JSON');
  }
  if (header.format !== 'kmem-snapshot') throw new SnapshotError('not a kmem snapshot header');
  const nPages = Math.floor(header.memSize / PAGE_SIZE);
  const bmLen = up8(Math.ceil(nPages / 8));
  const bitmap = bytes.subarray(16 + hlen, 16 + hlen + bmLen);
  const data = bytes.subarray(16 + hlen + bmLen);
  if (bitmap.length !== bmLen || data.length !== header.pages * PAGE_SIZE) throw new SnapshotError('snapshot cut short');
  return { header, bitmap, data };
}

/**
 * Boot a machine with the snapshot's configuration and put the snapshot's
 * RAM in it: a machine in the state the snapshot was taken in.
 */
export function restoreSnapshot(snap: Snapshot, console?: (line: string) => void): Kernel {
  const { header, bitmap, data } = snap;
  const k = start_kernel(header.config, { errors: 'log', ...(console ? { console } : {}) });
  const mem = k.mem;
  if (mem.size !== header.memSize) throw new SnapshotError(`snapshot of ${header.memSize} bytes, machine of ${mem.size}`);
  const nPages = Math.floor(mem.size / PAGE_SIZE);
  let off = 0;
  for (let pfn = 0; pfn < nPages; pfn++) {
    const s = Math.floor(pfn / PAGES_PER_SECTION);
    const stored = (bitmap[pfn >>> 3] & (1 << (pfn & 7))) !== 0;
    if (mem.buffers[s] === null) {
      if (stored) throw new SnapshotError(`snapshot has pfn ${pfn}, which is not RAM on this machine`);
      continue;
    }
    if (stored) {
      mem.writeBytes(pfn * PAGE_SIZE, data.subarray(off, off + PAGE_SIZE));
      off += PAGE_SIZE;
    } else {
      const w = (pfn - s * PAGES_PER_SECTION) * WORDS_PER_PAGE;
      if (!pageIsZero(mem.i32[s], w)) mem.i32[s].fill(0, w, w + WORDS_PER_PAGE);
    }
  }
  if (header.cpu >= 0 && header.cpu < k.config.cpus) k.set_cpu(header.cpu);
  k.kallsyms.bindUnbound(() => {});
  return k;
}

async function pipeBytes(bytes: Uint8Array, transform: CompressionStream | DecompressionStream): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(transform);
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** takeSnapshot, gzipped: what the explorer saves as a .kmemsnap file. */
export async function encodeSnapshot(k: Kernel, extra: unknown = null): Promise<Uint8Array> {
  return pipeBytes(takeSnapshot(k, extra), new CompressionStream('gzip'));
}

/** A .kmemsnap file's bytes (gzipped or not) to a Snapshot. */
export async function decodeSnapshot(bytes: Uint8Array): Promise<Snapshot> {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = await pipeBytes(bytes, new DecompressionStream('gzip'));
    } catch (e) {
      throw new SnapshotError(`snapshot: bad gzip data (${e instanceof Error ? e.message : String(e)})`);
    }
  }
  return readSnapshot(bytes);
}
