/*
 * A string interning table that looks up a slice of a larger string without
 * cutting it out: the trace parser interns comms, call sites, cache names and
 * gfp texts straight from the chunk it is scanning, so a string it has seen
 * before costs a hash over its characters and one comparison, and allocates
 * nothing. Each distinct string gets a dense id (0, 1, 2, ...), usable as an
 * array index.
 *
 * Open addressing with linear probing over an Int32Array of id+1 (0 = empty),
 * kept at most half full. The hash is FNV-1a over the length and the UTF-16
 * code units, for a long string only its first and last HASH_ENDS: the
 * strings interned here differ at their ends (a call site's offset, a gfp
 * text's last flag, a comm's number), and a collision costs one native
 * comparison, not a wrong answer.
 */
const HASH_ENDS = 12;

export class StringTable {
  /** The strings, by id. */
  readonly strings: string[] = [];
  private hashes: number[] = [];
  private slots = new Int32Array(256);
  private mask = 255;

  /** Number of distinct strings. */
  get size(): number {
    return this.strings.length;
  }

  /** The id of s.slice(a, b), adding it if new. */
  intern(s: string, a: number, b: number): number {
    let h = 0x811c9dc5 ^ (b - a);
    if (b - a <= 2 * HASH_ENDS) {
      for (let i = a; i < b; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    } else {
      for (let i = a; i < a + HASH_ENDS; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
      for (let i = b - HASH_ENDS; i < b; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    }
    const slots = this.slots;
    const mask = this.mask;
    const len = b - a;
    let slot = h & mask;
    for (;;) {
      const v = slots[slot];
      if (v === 0) break;
      const id = v - 1;
      if (this.hashes[id] === h) {
        const str = this.strings[id];
        if (str.length === len && s.startsWith(str, a)) return id;
      }
      slot = (slot + 1) & mask;
    }
    const id = this.strings.length;
    this.strings.push(s.slice(a, b));
    this.hashes.push(h);
    slots[slot] = id + 1;
    if (2 * (id + 1) > mask) this.grow();
    return id;
  }

  /** The id of a whole string, adding it if new. */
  id(s: string): number {
    return this.intern(s, 0, s.length);
  }

  private grow(): void {
    const size = this.slots.length * 2;
    const slots = new Int32Array(size);
    const mask = size - 1;
    for (let id = 0; id < this.strings.length; id++) {
      let slot = this.hashes[id] & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = id + 1;
    }
    this.slots = slots;
    this.mask = mask;
  }
}
