/*
 * dump_page() (mm/debug.c): how the kernel prints a struct page in its
 * reports — the summary line, the flags with their names, the page type,
 * the descriptor's raw words, and why it was dumped:
 *
 *   page: refcount:0 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x1a2b3
 *   flags: 0x4000000000000000(node=0|zone=1)
 *   page_type: f0(buddy)
 *   raw: 4000000000000000 ffffea000068ace8 ffffea000068ac48 0000000000000000
 *   raw: 0000000000000000 0000000000000003 00000000f0000000 0000000000000000
 *   page dumped because: nonzero mapcount
 */
import { formatPtr, type ArchLayout } from '../arch/x86/layout.ts';
import { PAGEFLAG_NAMES, __NR_PAGEFLAGS, type Pages } from './page.ts';

const hex = (v: number, digits: number) => (v >>> 0).toString(16).padStart(digits, '0');

export function dump_page(p: Pages, layout: ArchLayout, pfn: number, reason: string): string[] {
  const raw = p.rawWords(pfn);
  const type = p.mapcountRaw(pfn);
  const typed = type >>> 24 >= 0xf0 && type !== -1;
  const mapcount = typed ? 0 : type + 1;
  const out = [
    `page: refcount:${p.page_ref_count(pfn)} mapcount:${mapcount} mapping:${formatPtr(layout, 0)} index:0x${(p.indexLo(pfn) >>> 0).toString(16)} pfn:0x${pfn.toString(16)}`,
  ];
  const flags = p.flags(pfn);
  const names: string[] = [];
  for (let b = 0; b < __NR_PAGEFLAGS; b++) if (flags & (1 << b)) names.push(PAGEFLAG_NAMES[b]);
  names.push(`node=${p.page_to_nid(pfn)}`, `zone=${p.page_zonenum(pfn)}`);
  const wide = layout.ptrSize === 8;
  const fullFlags = wide ? hex(raw[1], 1) + hex(raw[0], 8) : hex(raw[0], 1);
  out.push(`flags: 0x${fullFlags.replace(/^0+(?=.)/, '')}(${names.join('|')})`);
  if (p.PageBuddy(pfn)) out.push('page_type: f0(buddy)');
  const vals: string[] = [];
  for (let i = 0; i < 8; i++) vals.push(wide ? hex(raw[2 * i + 1], 8) + hex(raw[2 * i], 8) : hex(raw[i], 8));
  const perLine = wide ? 4 : 8;
  for (let i = 0; i < vals.length; i += perLine) out.push(`raw: ${vals.slice(i, i + perLine).join(' ')}`);
  out.push(`page dumped because: ${reason}`);
  return out;
}
