/*
 * A trace file's bytes as text bytes, whatever the compression: xz (the
 * shared trace; xz-decompress, the WebAssembly build of xz-embedded that
 * src/node/trace_file.ts uses too, which runs in browsers as it is), gzip
 * (the platform's DecompressionStream) or none. Recognised by the magic
 * bytes, not the file name. Runs in the worker and in Node.
 */
import xzDecompress from 'xz-decompress';

const XZ_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const GZIP_MAGIC = [0x1f, 0x8b];

export function compressionOf(head: Uint8Array): 'xz' | 'gzip' | 'none' {
  const starts = (magic: number[]) => head.length >= magic.length && magic.every((b, i) => head[i] === b);
  return starts(XZ_MAGIC) ? 'xz' : starts(GZIP_MAGIC) ? 'gzip' : 'none';
}

export async function decompressBytes(bytes: Uint8Array): Promise<Uint8Array> {
  const kind = compressionOf(bytes);
  if (kind === 'none') return bytes;
  const source = new Blob([bytes as BlobPart]).stream();
  const stream = kind === 'xz' ? new xzDecompress.XzReadableStream(source) : source.pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
