/**
 * Subscribers by number, for the hot path. Most messages go to numbers that have no rules, so
 * the lookup must be cheap when it misses: an E.164 number has at most 15 digits and is exact
 * as a double, so those keys live in an open-addressing table of typed arrays. A lookup parses
 * the message's number and probes once or twice; no string is hashed and none of the pointer
 * chasing of a Map of a million strings happens (that lookup was the costliest line of a
 * check with 100,000 subscribers). Other keys (short codes) are few and go to a Map.
 *
 * Even so, the table is megabytes, and a probe of it is a cache miss for every message; most
 * find nothing. So a bit per key hash, in a filter of about 16 bits per key (a few hundred
 * kilobytes that stay in cache), answers most misses before the table is read: a clear bit
 * means certainly no subscriber. Removed keys keep their bit until the table is rebuilt.
 *
 * Each key has a number beside it in the table, its payload (-1 until set, and again whenever
 * the key's value is set): the engine keeps there where the subscriber's plan is, so that a
 * message for a subscriber reads the key and the plan's place from one cache line, not the
 * value array, the entry object and a plan array after it.
 */
import { e164Digits } from '../rules/patterns.js';

function slotHash(x: number): number {
  const lo = x % 4294967296 | 0;
  const hi = (x / 4294967296) | 0;
  const h = Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1);
  return h ^ (h >>> 15);
}

/** The filter bit of a key, from its slot hash remixed (so it does not follow the slot). */
function filterBit(h: number, mask: number): number {
  return Math.imul(h ^ (h >>> 16), 0x85ebca6b) & mask;
}

/** At most 2^21 filter bits (256 KB): 20 bits a key at 100,000 keys, and still small enough to stay in cache. */
const MAX_FILTER_BITS = 1 << 21;

/** `find`'s answer for a key that is no E.164 number (look it up with `get`). */
export const NOT_A_NUMBER = -2;

export class NumberIndex<T> {
  /**
   * Slot i is keys[2i] (0 marks an empty slot: no E.164 number is 0) and its payload keys[2i + 1].
   * A removed key keeps its slot, value undefined.
   */
  private keys = new Float64Array(2 * 1024);
  private values: Array<T | undefined> = new Array<T | undefined>(1024);
  private mask = 1023;
  private usedSlots = 0;
  private readonly others = new Map<string, T>();
  /** The filter bit of every key in the table is set (and some of removed ones). */
  private filter = new Int32Array((1024 * 8) >>> 5);
  private filterMask = 1024 * 8 - 1;

  get(key: string): T | undefined {
    const slot = this.find(key);
    if (slot >= 0) return this.values[slot];
    return slot === NOT_A_NUMBER ? this.other(key) : undefined;
  }

  /** The value of a key that is no E.164 number (when `find` said NOT_A_NUMBER). */
  other(key: string): T | undefined {
    return this.others.get(key);
  }

  /**
   * The slot of an E.164 key that has a value, -1 when there is none, or NOT_A_NUMBER for
   * another kind of key (`get` looks those up). A slot stays valid until the next `set`.
   */
  find(key: string): number {
    // An engine without subscribers (operator rules only) skips reading the number at all.
    if (this.usedSlots === 0 && this.others.size === 0) return -1;
    const x = e164Digits(key);
    if (x < 0) return this.others.size === 0 ? -1 : NOT_A_NUMBER;
    const h = slotHash(x);
    const bit = filterBit(h, this.filterMask);
    if ((this.filter[bit >>> 5]! & (1 << (bit & 31))) === 0) return -1;
    const keys = this.keys;
    const mask = this.mask;
    let slot = h & mask;
    for (;;) {
      const k = keys[2 * slot]!;
      if (k === x) return this.values[slot] === undefined ? -1 : slot;
      if (k === 0) return -1;
      slot = (slot + 1) & mask;
    }
  }

  valueAt(slot: number): T | undefined {
    return this.values[slot];
  }

  payloadAt(slot: number): number {
    return this.keys[2 * slot + 1]!;
  }

  setPayloadAt(slot: number, payload: number): void {
    this.keys[2 * slot + 1] = payload;
  }


  /** Set `key` to `value`, or remove it with undefined. */
  set(key: string, value: T | undefined): void {
    const x = e164Digits(key);
    if (x < 0) {
      if (value === undefined) this.others.delete(key);
      else this.others.set(key, value);
      return;
    }
    let slot = slotHash(x) & this.mask;
    for (;;) {
      const k = this.keys[2 * slot]!;
      if (k === x) {
        this.values[slot] = value;
        this.keys[2 * slot + 1] = -1;
        return;
      }
      if (k === 0) break;
      slot = (slot + 1) & this.mask;
    }
    if (value === undefined) return;
    this.keys[2 * slot] = x;
    this.keys[2 * slot + 1] = -1;
    this.values[slot] = value;
    this.mark(x);
    if (++this.usedSlots * 2 > this.mask + 1) this.grow();
  }

  private mark(x: number): void {
    const bit = filterBit(slotHash(x), this.filterMask);
    this.filter[bit >>> 5]! |= 1 << (bit & 31);
  }

  /** Rebuild without removed keys: at double the size, or the same when removals made the room. */
  private grow(): void {
    const oldKeys = this.keys;
    const oldValues = this.values;
    const oldSize = oldValues.length;
    let live = 0;
    for (let i = 0; i < oldSize; i++) if (oldKeys[2 * i] !== 0 && oldValues[i] !== undefined) live++;
    const size = live * 4 <= oldSize ? oldSize : oldSize * 2;
    this.keys = new Float64Array(2 * size);
    this.values = new Array<T | undefined>(size);
    this.mask = size - 1;
    this.usedSlots = 0;
    // 16 filter bits a key when the table is as full as it gets (size / 2 keys).
    const bits = Math.min(size * 8, MAX_FILTER_BITS);
    this.filter = new Int32Array(bits >>> 5);
    this.filterMask = bits - 1;
    for (let i = 0; i < oldSize; i++) {
      const v = oldValues[i];
      const key = oldKeys[2 * i]!;
      if (key === 0 || v === undefined) continue;
      let slot = slotHash(key) & this.mask;
      while (this.keys[2 * slot] !== 0) slot = (slot + 1) & this.mask;
      this.keys[2 * slot] = key;
      this.keys[2 * slot + 1] = oldKeys[2 * i + 1]!;
      this.values[slot] = v;
      this.mark(key);
      this.usedSlots++;
    }
  }
}
