/**
 * Token statistics in typed arrays: an open-addressing hash table keyed by a 32-bit hash of
 * the token, with spam and ham counts beside it (in the same array, so one cache line). A
 * million tokens take about 24 MB and no garbage; a lookup is a multiply and a probe or two. Two tokens sharing a hash share counts:
 * at a million tokens that is a few hundred pairs, too few to move a verdict (the same trade
 * CRM114 and others make).
 */

import { wordHash } from '../text/analysis.js';

/**
 * FNV-1a over UTF-16 code units; never 0 (0 marks an empty slot). The tokenizer's word hash,
 * so the classifier takes message words' hashes from the analysis instead of hashing again.
 */
export const tokenHash: (token: string) => number = wordHash;

/** Per slot: the key (0 = empty), the spam count, the ham count, side by side in one array. */
const STRIDE = 3;
const MAX_COUNT = 0x7fffffff;
const SHARED_READ_ONLY = 'this token table is shared read-only: train the model in the thread that owns it';

/** A table's slots in shared memory: what another thread needs to read the same counts. */
export interface SharedTokenSlots {
  /** Over a SharedArrayBuffer. */
  readonly data: Int32Array;
  readonly used: number;
}

export class TokenTable {
  // Interleaved so a lookup touches one cache line, not one per array: a model is megabytes,
  // so each array would cost its own cache miss.
  private data: Int32Array;
  private mask: number;
  private used = 0;
  /**
   * Bumped by every add and set: whoever caches something derived from the counts (the
   * model's clue cache) compares it to know when to drop that.
   */
  changes = 0;
  /** Over another thread's shared slots (`overShared`): counts are read, never changed. */
  private readOnly = false;

  /** Starts small and doubles: a table sized for its tokens stays in cache (a loaded model is sized to its count). */
  constructor(capacity = 1 << 12) {
    let size = 1 << 4;
    while (size < capacity * 2) size <<= 1;
    this.data = new Int32Array(size * STRIDE);
    this.mask = size - 1;
  }

  /**
   * A copy of the slots in shared memory, for threads that only read them (a mail scan's
   * workers score with one model instead of each reading the database).
   */
  share(): SharedTokenSlots {
    const data = new Int32Array(new SharedArrayBuffer(this.data.byteLength));
    data.set(this.data);
    return { data, used: this.used };
  }

  /** A read-only table over shared slots (from `share`, possibly in another thread). */
  static overShared(shared: SharedTokenSlots): TokenTable {
    const table = new TokenTable(0);
    table.data = shared.data;
    table.mask = shared.data.length / STRIDE - 1;
    table.used = shared.used;
    table.readOnly = true;
    return table;
  }

  /** Distinct tokens with a non-zero count (or that had one). */
  get size(): number {
    return this.used;
  }

  get bytes(): number {
    return this.data.byteLength;
  }

  private get slots(): number {
    return this.mask + 1;
  }

  /** Offset in `data` of the slot holding `hash`, or of the empty slot where it would go. */
  private slot(hash: number): number {
    const data = this.data;
    const mask = this.mask;
    let i = Math.imul(hash, 0x9e3779b1) & mask;
    for (;;) {
      const k = data[i * STRIDE]!;
      if (k === hash || k === 0) return i * STRIDE;
      i = (i + 1) & mask;
    }
  }

  /** Spam count of a token hash (0 when unknown). */
  spamCount(hash: number): number {
    const o = this.slot(hash);
    return this.data[o] === hash ? this.data[o + 1]! : 0;
  }

  hamCount(hash: number): number {
    const o = this.slot(hash);
    return this.data[o] === hash ? this.data[o + 2]! : 0;
  }

  /** Both counts at once into `out` ([spam, ham]); returns false for an unknown token. */
  counts(hash: number, out: Uint32Array): boolean {
    const o = this.slot(hash);
    const data = this.data;
    if (data[o] !== hash) return false;
    out[0] = data[o + 1]!;
    out[1] = data[o + 2]!;
    return true;
  }

  /** Add (or with negative deltas remove) counts; counts never go below zero. */
  add(hash: number, spamDelta: number, hamDelta: number): void {
    if (this.readOnly) throw new Error(SHARED_READ_ONLY);
    this.changes++;
    if ((this.used + 1) * 2 > this.slots) this.grow();
    const o = this.slot(hash);
    const data = this.data;
    if (data[o] === 0) {
      if (spamDelta <= 0 && hamDelta <= 0) return;
      data[o] = hash;
      this.used++;
    }
    data[o + 1] = Math.min(MAX_COUNT, Math.max(0, data[o + 1]! + spamDelta));
    data[o + 2] = Math.min(MAX_COUNT, Math.max(0, data[o + 2]! + hamDelta));
  }

  /** Set counts outright (loading a stored model). */
  set(hash: number, spam: number, ham: number): void {
    if (this.readOnly) throw new Error(SHARED_READ_ONLY);
    this.changes++;
    if ((this.used + 1) * 2 > this.slots) this.grow();
    const o = this.slot(hash);
    const data = this.data;
    if (data[o] === 0) {
      data[o] = hash;
      this.used++;
    }
    data[o + 1] = Math.min(MAX_COUNT, Math.max(0, spam));
    data[o + 2] = Math.min(MAX_COUNT, Math.max(0, ham));
  }

  forEach(fn: (hash: number, spam: number, ham: number) => void): void {
    const data = this.data;
    for (let o = 0; o < data.length; o += STRIDE) {
      const k = data[o]!;
      if (k !== 0) fn(k, data[o + 1]!, data[o + 2]!);
    }
  }

  private grow(): void {
    const old = this.data;
    const size = this.slots * 2;
    this.data = new Int32Array(size * STRIDE);
    this.mask = size - 1;
    for (let o = 0; o < old.length; o += STRIDE) {
      const k = old[o]!;
      if (k === 0) continue;
      const n = this.slot(k);
      this.data[n] = k;
      this.data[n + 1] = old[o + 1]!;
      this.data[n + 2] = old[o + 2]!;
    }
  }
}
