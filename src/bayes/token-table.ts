/**
 * Token statistics in typed arrays: an open-addressing hash table keyed by a 32-bit hash of
 * the token, with spam and ham counts beside it. A million tokens take about 24 MB and no
 * garbage; a lookup is a multiply and a probe or two. Two tokens sharing a hash share counts:
 * at a million tokens that is a few hundred pairs, too few to move a verdict (the same trade
 * CRM114 and others make).
 */

/** FNV-1a over UTF-16 code units; never 0 (0 marks an empty slot). */
export function tokenHash(token: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < token.length; i++) {
    h ^= token.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h === 0 ? 1 : h | 0;
}

export class TokenTable {
  private keys: Int32Array;
  private spam: Uint32Array;
  private ham: Uint32Array;
  private mask: number;
  private used = 0;

  constructor(capacity = 1 << 16) {
    let size = 1 << 4;
    while (size < capacity * 2) size <<= 1;
    this.keys = new Int32Array(size);
    this.spam = new Uint32Array(size);
    this.ham = new Uint32Array(size);
    this.mask = size - 1;
  }

  /** Distinct tokens with a non-zero count (or that had one). */
  get size(): number {
    return this.used;
  }

  get bytes(): number {
    return this.keys.byteLength + this.spam.byteLength + this.ham.byteLength;
  }

  private slot(hash: number): number {
    let i = Math.imul(hash, 0x9e3779b1) & this.mask;
    for (;;) {
      const k = this.keys[i]!;
      if (k === hash || k === 0) return i;
      i = (i + 1) & this.mask;
    }
  }

  /** Spam count of a token hash (0 when unknown). */
  spamCount(hash: number): number {
    const i = this.slot(hash);
    return this.keys[i] === hash ? this.spam[i]! : 0;
  }

  hamCount(hash: number): number {
    const i = this.slot(hash);
    return this.keys[i] === hash ? this.ham[i]! : 0;
  }

  /** Both counts at once into `out` ([spam, ham]); returns false for an unknown token. */
  counts(hash: number, out: Uint32Array): boolean {
    const i = this.slot(hash);
    if (this.keys[i] !== hash) return false;
    out[0] = this.spam[i]!;
    out[1] = this.ham[i]!;
    return true;
  }

  /** Add (or with negative deltas remove) counts; counts never go below zero. */
  add(hash: number, spamDelta: number, hamDelta: number): void {
    if ((this.used + 1) * 2 > this.keys.length) this.grow();
    const i = this.slot(hash);
    if (this.keys[i] === 0) {
      if (spamDelta <= 0 && hamDelta <= 0) return;
      this.keys[i] = hash;
      this.used++;
    }
    this.spam[i] = Math.max(0, this.spam[i]! + spamDelta);
    this.ham[i] = Math.max(0, this.ham[i]! + hamDelta);
  }

  /** Set counts outright (loading a stored model). */
  set(hash: number, spam: number, ham: number): void {
    if ((this.used + 1) * 2 > this.keys.length) this.grow();
    const i = this.slot(hash);
    if (this.keys[i] === 0) {
      this.keys[i] = hash;
      this.used++;
    }
    this.spam[i] = spam;
    this.ham[i] = ham;
  }

  forEach(fn: (hash: number, spam: number, ham: number) => void): void {
    for (let i = 0; i < this.keys.length; i++) {
      const k = this.keys[i]!;
      if (k !== 0) fn(k, this.spam[i]!, this.ham[i]!);
    }
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldSpam = this.spam;
    const oldHam = this.ham;
    const size = oldKeys.length * 2;
    this.keys = new Int32Array(size);
    this.spam = new Uint32Array(size);
    this.ham = new Uint32Array(size);
    this.mask = size - 1;
    for (let i = 0; i < oldKeys.length; i++) {
      const k = oldKeys[i]!;
      if (k === 0) continue;
      const j = this.slot(k);
      this.keys[j] = k;
      this.spam[j] = oldSpam[i]!;
      this.ham[j] = oldHam[i]!;
    }
  }
}
