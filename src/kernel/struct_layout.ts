/*
 * C struct layout: field offsets computed the way a C compiler lays out a
 * struct on x86 (natural alignment, size rounded up to the largest member
 * alignment), for the pointer size of the architecture.
 *
 *   const zone = defineStruct(8, [['watermark', 'ulong', 4], ['node', 'int'], ...]);
 *   zone.watermark   // byte offset of _watermark[0]
 *   zone.size        // sizeof(struct zone)
 *
 * Kinds: ulong, long and ptr are 8 bytes on x86_64 and 4 on i386;
 * list_head is two pointers; u64 is 8 bytes with 4-byte alignment on i386
 * (as GCC does for long long inside structs on i386).
 */

export type FieldKind = 'u8' | 'u16' | 'int' | 'u32' | 'u64' | 'ulong' | 'long' | 'ptr' | 'list_head';
export type FieldSpec = readonly [name: string, kind: FieldKind | { size: number; align: number }, count?: number];

export type StructLayout<N extends string> = { readonly [K in N]: number } & { readonly size: number };

function sizeAlign(ptrSize: number, kind: FieldSpec[1]): [number, number] {
  if (typeof kind === 'object') return [kind.size, kind.align];
  switch (kind) {
    case 'u8': return [1, 1];
    case 'u16': return [2, 2];
    case 'int': case 'u32': return [4, 4];
    case 'u64': return [8, ptrSize];
    case 'ulong': case 'long': case 'ptr': return [ptrSize, ptrSize];
    case 'list_head': return [2 * ptrSize, ptrSize];
  }
}

export function defineStruct<const F extends readonly FieldSpec[]>(
  ptrSize: number,
  fields: F,
): StructLayout<F[number][0]> {
  const out: Record<string, number> = {};
  let off = 0;
  let maxAlign = 1;
  for (const [name, kind, count = 1] of fields) {
    const [size, align] = sizeAlign(ptrSize, kind);
    off = Math.ceil(off / align) * align;
    out[name] = off;
    off += size * count;
    maxAlign = Math.max(maxAlign, align);
  }
  out.size = Math.ceil(off / maxAlign) * maxAlign;
  return out as StructLayout<F[number][0]>;
}
