/*
 * The /proc files kmem can produce, by their name under /proc, each generated
 * from live machine memory when read (fs/proc/, mm/vmstat.c, kernel/sysctl.c).
 *
 *   buddyinfo  pagetypeinfo  zoneinfo  meminfo  slabinfo  vmallocinfo
 *   sys/vm/min_free_kbytes  sys/vm/watermark_scale_factor  sys/vm/lowmem_reserve_ratio
 *
 * The sys/vm files can be written too: as in the kernel, a write parses the
 * value (proc_dointvec_minmax) and recomputes the watermarks, the per-CPU
 * list sizes or the lowmem reserves. writeProc returns what write(2) would.
 */
import type { Kernel } from '../../kernel/kernel.ts';
import { memoryView, meminfoView } from '../../mm/vmstat.ts';
import { setup_per_zone_wmarks } from '../../mm/mm_init.ts';
import { buddyinfo } from './buddyinfo.ts';
import { pagetypeinfo } from './pagetypeinfo.ts';
import { zoneinfo } from './zoneinfo.ts';
import { meminfo } from './meminfo.ts';
import { slabinfo } from './slabinfo.ts';
import { vmallocinfo } from './vmallocinfo.ts';
import {
  EINVAL, formatLowmemReserveRatio, formatMinFreeKbytes, formatWatermarkScaleFactor, writeLowmemReserveRatio,
  writeMinFreeKbytes, writeWatermarkScaleFactor,
} from './sys_vm.ts';

type Reader = (k: Kernel) => string;
type Writer = (k: Kernel, text: string) => number;

const READERS: Readonly<Record<string, Reader>> = {
  buddyinfo: (k) => buddyinfo(memoryView(k)),
  pagetypeinfo: (k) => pagetypeinfo(memoryView(k)),
  zoneinfo: (k) => zoneinfo(memoryView(k)),
  meminfo: (k) => meminfo(meminfoView(k)),
  slabinfo: (k) => slabinfo(k.slab.slabinfo()),
  vmallocinfo: (k) => vmallocinfo(k.paging.vm.vmallocinfo(k.mmInit.pgdatPa.length), k.layout, k.paging.physDigits),
  'sys/vm/min_free_kbytes': (k) => formatMinFreeKbytes(k.buddy.min_free_kbytes),
  'sys/vm/watermark_scale_factor': (k) => formatWatermarkScaleFactor(k.buddy.watermark_scale_factor),
  'sys/vm/lowmem_reserve_ratio': (k) => formatLowmemReserveRatio(k.buddy.lowmem_reserve_ratio),
};

const WRITERS: Readonly<Record<string, Writer>> = {
  /** slabinfo_write() (SLAB): "name limit batchcount shared" retunes a cache; -EIO where it is read-only (SLUB), -ENOENT under SLOB. */
  slabinfo: (k, text) => (k.slab.impl.slabinfo_write !== undefined ? k.slab.impl.slabinfo_write(text)
    : procFileExists(k, 'slabinfo') ? -5 : -2),
  /** min_free_kbytes_sysctl_handler(): the value becomes user_min_free_kbytes, then setup_per_zone_wmarks(). */
  'sys/vm/min_free_kbytes': (k, text) => {
    const r = writeMinFreeKbytes(k.buddy.min_free_kbytes, text);
    if (r.ret >= 0) {
      k.buddy.min_free_kbytes = r.value;
      k.buddy.user_min_free_kbytes = r.value;
      setup_per_zone_wmarks(k.mmInit);
    }
    return r.ret;
  },
  'sys/vm/watermark_scale_factor': (k, text) => {
    const r = writeWatermarkScaleFactor(k.buddy.watermark_scale_factor, text);
    if (r.ret >= 0) {
      k.buddy.watermark_scale_factor = r.value;
      setup_per_zone_wmarks(k.mmInit);
    }
    return r.ret;
  },
  'sys/vm/lowmem_reserve_ratio': (k, text) => {
    const r = writeLowmemReserveRatio(k.buddy.lowmem_reserve_ratio, text);
    k.buddy.lowmem_reserve_ratio = r.values;
    k.buddy.setup_per_zone_lowmem_reserve();
    return r.ret;
  },
};

/**
 * Names of every file kmem can produce, relative to /proc; with a kernel,
 * those it has (no slabinfo under SLOB: Linux 6.1 built /proc/slabinfo only
 * with CONFIG_SLAB or CONFIG_SLUB_DEBUG).
 */
export function procFileNames(k?: Kernel): string[] {
  const names = Object.keys(READERS);
  return k === undefined ? names : names.filter((n) => procFileExists(k, n));
}

/** Does this kernel have /proc/<name>? */
export function procFileExists(k: Kernel, name: string): boolean {
  name = name.replace(/^\/?(proc\/)?/, '');
  if (!(name in READERS)) return false;
  return name !== 'slabinfo' || k.slab.impl.hasSlabinfo !== false;
}

/** Read /proc/<name>; throws for a file kmem does not produce. */
export function readProc(k: Kernel, name: string): string {
  const reader = READERS[name.replace(/^\/?(proc\/)?/, '')];
  if (!reader) throw new Error(`/proc/${name}: no such file in kmem`);
  if (!procFileExists(k, name)) {
    // open(2) of a file this kernel does not have: ENOENT, as cat reports it
    throw Object.assign(new Error(`cat: /proc/${name.replace(/^\/?(proc\/)?/, '')}: No such file or directory`), { code: 'ENOENT' });
  }
  return reader(k);
}

/** Write /proc/<name> as write(2) would: bytes consumed, or -EINVAL / -EACCES. */
export function writeProc(k: Kernel, name: string, text: string): number {
  const writer = WRITERS[name.replace(/^\/?(proc\/)?/, '')];
  if (!writer) return -EACCES;
  return writer(k, text);
}

const EACCES = 13;
export { EINVAL };
