/*
 * The slab allocator's magic byte values (include/linux/poison.h, Linux
 * 6.12). (The list poison pointers, LIST_POISON1/2, are in lib/list.ts.)
 *
 *   red zones  SLUB_RED_INACTIVE 0xbb  around a free object
 *              SLUB_RED_ACTIVE   0xcc  around an allocated object
 *   poisoning  POISON_INUSE      0x5a  slab memory no object owns (padding)
 *              POISON_FREE       0x6b  the bytes of a free object ...
 *              POISON_END        0xa5  ... whose last byte is this
 */

/** Red zone of an object that is free. */
export const SLUB_RED_INACTIVE = 0xbb;
/** Red zone of an object that is allocated. */
export const SLUB_RED_ACTIVE = 0xcc;
/** For use-uninitialised poisoning (slab padding, object padding). */
export const POISON_INUSE = 0x5a;
/** For use-after-free poisoning. */
export const POISON_FREE = 0x6b;
/** End-byte of poisoning. */
export const POISON_END = 0xa5;
