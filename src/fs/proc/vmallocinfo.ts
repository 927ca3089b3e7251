/*
 * /proc/vmallocinfo (mm/vmalloc.c vmalloc_info_show, show_numa_info,
 * show_purge_info): one line per vm area in use, then one per freed range
 * the lazy purge has not reached yet.
 *
 *   0xffffc90000000000-0xffffc90000005000   20480 init pages=4 vmalloc N0=4
 *   0xffffc90000005000-0xffffc90000007000    8192 init phys=0x00000000febf0000 ioremap
 *   0xffffc90000008000-0xffffc9000000a000    8192 unpurged vm_area
 *
 *   "0x%pK-0x%pK %7ld"   start, end (start + size: the guard page is
 *                        included), size in bytes
 *   " %pS"               the caller (kmem: the function name, no +off/size)
 *   " pages=%d"          pages allocated for it (vmalloc, vmap with VM_MAP_PUT_PAGES)
 *   " phys=%pa"          ioremap: the physical address (phys_addr_t digits)
 *   " ioremap" " sparse" " vmalloc" " vmap" " user" " dma-coherent"   by vm flags
 *   " vpages"            its pages[] array itself is in vmalloc space
 *   " N%u=%u"            CONFIG_NUMA (x86_64): pages per node, nodes with memory
 *
 * %pK prints the address itself for a reader with CAP_SYSLOG when
 * kptr_restrict is 1 (what distributions set); kmem prints as for root
 * on such a system.
 */
import { formatPtr, type ArchLayout } from '../../arch/x86/layout.ts';
import {
  VM_ALLOC, VM_DMA_COHERENT, VM_IOREMAP, VM_MAP, VM_SPARSE, VM_USERMAP, type VmallocInfoEntry,
} from '../../mm/vmalloc.ts';

export function vmallocinfo(entries: readonly VmallocInfoEntry[], layout: ArchLayout, physDigits: number): string {
  let out = '';
  const p = (v: number) => formatPtr(layout, v);
  for (const e of entries) {
    out += `0x${p(e.start)}-0x${p(e.end)} ${String(e.size).padStart(7)}`;
    if (e.unpurged) {
      out += ' unpurged vm_area\n';
      continue;
    }
    if (e.caller !== null) out += ` ${e.caller}`;
    if (e.nrPages) out += ` pages=${e.nrPages}`;
    if (e.phys) out += ` phys=0x${e.phys.toString(16).padStart(physDigits, '0')}`;
    if (e.flags & VM_IOREMAP) out += ' ioremap';
    if (e.flags & VM_SPARSE) out += ' sparse';
    if (e.flags & VM_ALLOC) out += ' vmalloc';
    if (e.flags & VM_MAP) out += ' vmap';
    if (e.flags & VM_USERMAP) out += ' user';
    if (e.flags & VM_DMA_COHERENT) out += ' dma-coherent';
    if (e.vpages) out += ' vpages';
    if (e.numa) e.numa.forEach((n, nid) => { if (n) out += ` N${nid}=${n}`; });
    out += '\n';
  }
  return out;
}
