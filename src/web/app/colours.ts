/*
 * The page map's colours. Chosen to read on a dark background and to keep
 * the categories apart for the common colour-vision deficiencies: free
 * memory is blue (large free blocks dark and calm, order-0 scraps bright,
 * so fragmentation stands out), slabs are warm (red to yellow, one hue per
 * cache), allocated pages green, pages on the per-CPU lists pale lavender,
 * page tables violet, vmalloc's pages magenta, the kernel's own reservations greys and browns.
 */
import {
  N_OWNERS, O_ALLOC, O_FIRMWARE, O_FREE, O_KERNEL, O_MEMMAP, O_NONE, O_PCP, O_PERCPU, O_PGTABLE, O_RESERVED, O_SLAB,
  O_VMALLOC,
} from '../machine_view.ts';

/** #rrggbb for each owner (O_SLAB's is the legend's; each cache has its own). */
export const OWNER_CSS: string[] = new Array<string>(N_OWNERS).fill('#000000');
OWNER_CSS[O_NONE] = '#0b0d10';
/* Free: order 0 bright cyan ... order 10 deep navy. */
const FREE_RAMP = ['#9be7ff', '#7fd3f7', '#66bdee', '#52a7e2', '#4391d3', '#387cc1', '#2f68ad', '#285697', '#214681', '#1b386c', '#162d59'];
FREE_RAMP.forEach((c, o) => (OWNER_CSS[O_FREE + o] = c));
OWNER_CSS[O_PCP] = '#ded6ff';
OWNER_CSS[O_ALLOC] = '#5cc86f';
OWNER_CSS[O_SLAB] = '#e8743b';
OWNER_CSS[O_PGTABLE] = '#b18cf0';
OWNER_CSS[O_KERNEL] = '#a47551';
OWNER_CSS[O_MEMMAP] = '#6d7f91';
OWNER_CSS[O_PERCPU] = '#3fb5a5';
OWNER_CSS[O_RESERVED] = '#4a5563';
OWNER_CSS[O_FIRMWARE] = '#343b45';
OWNER_CSS[O_VMALLOC] = '#e35bd8';

/** An ImageData pixel (little-endian RGBA as one u32) from #rrggbb. */
export function pixel(css: string, alpha = 255): number {
  const v = parseInt(css.slice(1), 16);
  const r = (v >> 16) & 255;
  const g = (v >> 8) & 255;
  const b = v & 255;
  return ((alpha << 24) | (b << 16) | (g << 8) | r) >>> 0;
}

export const OWNER_PIXEL = Uint32Array.from(OWNER_CSS, (c) => pixel(c));

function hslToHex(h: number, s: number, l: number): string {
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => {
    const k = (n + h / 30) % 12;
    const c = l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return Math.round(c * 255).toString(16).padStart(2, '0');
  };
  return `#${f(0)}${f(8)}${f(4)}`;
}

/**
 * A cache's colour, from its name: a warm hue (magenta-red through orange
 * to amber) and a lightness, both from a hash, so that a cache keeps its
 * colour across reboots and machines. kmalloc caches share a hue family
 * (orange) and get lighter with size.
 */
export function cacheCss(name: string): string {
  const km = /^(dma-)?kmalloc-(?:[a-z]+-)?(\d+)(k?)$/.exec(name);
  if (km) {
    const bytes = Number(km[2]) * (km[3] ? 1024 : 1);
    const step = Math.log2(bytes) - 3; // 8 bytes: 0 ... 8k: 10
    return hslToHex((km[1] ? 8 : 24) + step * 2, 0.85, 0.42 + step * 0.028);
  }
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  h >>>= 0;
  const hue = (335 + (h % 85)) % 360; // 335..360, 0..60
  const light = 0.5 + ((h >>> 8) % 5) * 0.045;
  return hslToHex(hue, 0.78, light);
}
