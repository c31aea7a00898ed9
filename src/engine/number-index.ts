/**
 * Subscribers by number, for the hot path. Most messages go to numbers that have no rules, so
 * the lookup must be cheap when it misses: an E.164 number has at most 15 digits and is exact
 * as a double, so those keys live in an open-addressing table of typed arrays. A lookup parses
 * the message's number and probes once or twice; no string is hashed and none of the pointer
 * chasing of a Map of a million strings happens (that lookup was the costliest line of a
 * check with 100,000 subscribers). Other keys (short codes) are few and go to a Map.
 */
import { e164Digits } from '../rules/patterns.js';

function slotHash(x: number): number {
  const lo = x % 4294967296 | 0;
  const hi = (x / 4294967296) | 0;
  const h = Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1);
  return h ^ (h >>> 15);
}

export class NumberIndex<T> {
  /** 0 marks an empty slot (no E.164 number is 0). A removed key keeps its slot, value undefined. */
  private keys = new Float64Array(1024);
  private values: Array<T | undefined> = new Array<T | undefined>(1024);
  private mask = 1023;
  private usedSlots = 0;
  private readonly others = new Map<string, T>();

  get(key: string): T | undefined {
    // An engine without subscribers (operator rules only) skips reading the number at all.
    if (this.usedSlots === 0 && this.others.size === 0) return undefined;
    const x = e164Digits(key);
    if (x < 0) return this.others.size === 0 ? undefined : this.others.get(key);
    const keys = this.keys;
    const mask = this.mask;
    let slot = slotHash(x) & mask;
    for (;;) {
      const k = keys[slot]!;
      if (k === x) return this.values[slot];
      if (k === 0) return undefined;
      slot = (slot + 1) & mask;
    }
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
      const k = this.keys[slot]!;
      if (k === x) {
        this.values[slot] = value;
        return;
      }
      if (k === 0) break;
      slot = (slot + 1) & this.mask;
    }
    if (value === undefined) return;
    this.keys[slot] = x;
    this.values[slot] = value;
    if (++this.usedSlots * 2 > this.keys.length) this.grow();
  }

  /** Rebuild without removed keys: at double the size, or the same when removals made the room. */
  private grow(): void {
    const oldKeys = this.keys;
    const oldValues = this.values;
    let live = 0;
    for (let i = 0; i < oldKeys.length; i++) if (oldKeys[i] !== 0 && oldValues[i] !== undefined) live++;
    const size = live * 4 <= oldKeys.length ? oldKeys.length : oldKeys.length * 2;
    this.keys = new Float64Array(size);
    this.values = new Array<T | undefined>(size);
    this.mask = size - 1;
    this.usedSlots = 0;
    for (let i = 0; i < oldKeys.length; i++) {
      const v = oldValues[i];
      if (oldKeys[i] === 0 || v === undefined) continue;
      let slot = slotHash(oldKeys[i]!) & this.mask;
      while (this.keys[slot] !== 0) slot = (slot + 1) & this.mask;
      this.keys[slot] = oldKeys[i]!;
      this.values[slot] = v;
      this.usedSlots++;
    }
  }
}
