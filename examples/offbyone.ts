/*
 * offbyone: a module with the classic string bug. Its init copies a name of
 * NAME_LEN characters into a kmalloc(NAME_LEN) buffer with strcpy(), so the
 * terminating NUL lands one byte past the end; its exit frees the buffer.
 * Nothing notices on a normal kernel. Booted with slab debugging, kfree()
 * finds the NUL in the object's right red zone and says so:
 *
 *   npm run kmem -- run examples/offbyone.ts --mem 128M --cmdline slab_debug=FZPU
 *
 *   [Right Redzone overwritten] 0xffff8880....-0xffff8880.... @offset=... First byte 0x0 instead of 0xcc
 *   =============================================================================
 *   BUG kmalloc-32 (Not tainted): Object corrupt
 *   -----------------------------------------------------------------------------
 *   Allocated in init+0x0/0x100 age=0 cpu=0 pid=... (the module's init, run by insmod)
 *   ...
 *   FIX kmalloc-32: Restoring Right Redzone 0x...-0x...=0xcc
 *   FIX kmalloc-32: Object at 0x... not freed
 *
 * (slab_debug=FZ,kmalloc-32 debugs that one cache only.)
 */
import type { Kernel } from '../src/kernel/kernel.ts';

const ENOMEM = 12;
const NAME_LEN = 32;
let name = 0;

/** strcpy(dst, src) for a JS string: its bytes and a NUL. */
function strcpy(k: Kernel, dst: number, src: string): void {
  const bytes = new TextEncoder().encode(src);
  k.kaddr.writeBytes(dst, bytes);
  k.kaddr.write8(dst + bytes.length, 0);
}

export function init(k: Kernel): number {
  name = k.kmalloc(NAME_LEN, k.GFP_KERNEL);
  if (name === 0) return -ENOMEM;
  strcpy(k, name, 'offbyone-device-with-a-long-name'.slice(0, NAME_LEN)); // NAME_LEN characters, then the NUL
  k.log.pr_info(`offbyone: ${NAME_LEN}-byte name buffer allocated`);
  return 0;
}

export function exit(k: Kernel): void {
  k.kfree(name);
}
