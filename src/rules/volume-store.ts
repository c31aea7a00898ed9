/**
 * Where volume rules keep their counts: sliding windows over message time, keyed by sender,
 * client, recipient or campaign fingerprint. The interface is synchronous because `check` is;
 * the in-process store below is the default. A shared store for several proxies side by side
 * (Redis) implements the same two operations (see docs/volume.md): `count` maps onto one INCR
 * per time bucket with a TTL, `distinct` onto a sorted set per key scored by time (ZADD,
 * ZREMRANGEBYSCORE, ZCARD), kept as a local mirror that is flushed and refreshed in the
 * background so that a check never waits on the network.
 *
 * Memory is bounded whatever the traffic: each counter keeps at most `maxKeys` keys (least
 * recently used dropped first), a distinct counter at most `maxMembers` members over all its
 * keys and at most its `cap` members per key, and keys or members longer than 64 characters
 * are kept as a 53-bit hash.
 */

/** One counter as the rules declare it. */
export interface CounterSpec {
  /** Identity across reloads: kind, key and window, e.g. `rate:sender:60000`. */
  readonly name: string;
  /** Length of the sliding window in milliseconds. */
  readonly windowMs: number;
  /**
   * Distinct counts need only be exact up to this (the largest threshold that reads them):
   * a key keeps at most `cap` members, the most recently seen.
   */
  readonly cap: number;
}

export interface VolumeStats {
  readonly counters: number;
  /** Keys held over all counters. */
  readonly keys: number;
  /** Members held over all distinct counters. */
  readonly members: number;
}

export interface VolumeStore {
  /**
   * Record one event under `key` at `time` (epoch ms) and return how many events the key has
   * in the window ending at the latest time seen for it, this one included.
   */
  count(counter: CounterSpec, key: string, time: number): number;
  /**
   * Record `member` under `key` at `time` and return how many distinct members the key has in
   * the window, this one included (exact up to `counter.cap`).
   */
  distinct(counter: CounterSpec, key: string, member: string, time: number): number;
  /** Drop every counter whose name is not listed (after a reload removed its rules). */
  retain(names: ReadonlySet<string>): void;
  stats(): VolumeStats;
}

export interface MemoryVolumeStoreOptions {
  /** Keys per counter (default 100,000). */
  readonly maxKeys?: number;
  /** Members per distinct counter, over all its keys (default 1,000,000). */
  readonly maxMembers?: number;
}

/** Buckets per window for event counts: an event stops counting between 15/16 and 16/16 of the window after it. */
export const BUCKETS = 16;
const MAX_KEY_LENGTH = 64;

/** cyrb53: a fast 53-bit string hash, good enough to stand in for long keys. */
export function hash53(s: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

function boundedKey(s: string): string {
  return s.length <= MAX_KEY_LENGTH ? s : `#${hash53(s).toString(36)}`;
}

/** Ring index of a bucket number (times before 1970 give negative numbers). */
function ring(bucket: number): number {
  const r = bucket % BUCKETS;
  return r < 0 ? r + BUCKETS : r;
}

interface Counter {
  readonly keys: number;
  readonly members: number;
}

/**
 * Event counts per key in a ring of BUCKETS time buckets, all keys in one slab of typed arrays
 * (a few dozen bytes a key, no object per key), slots reused least recently used first.
 */
class EventCounter implements Counter {
  private readonly slots = new Map<string, number>();
  private counts = new Uint32Array(0);
  /** Bucket number (time / bucket width) of each slot's newest bucket. */
  private heads = new Float64Array(0);
  private capacity = 0;
  private used = 0;
  private readonly free: number[] = [];
  private readonly width: number;

  constructor(windowMs: number, private readonly maxKeys: number) {
    this.width = windowMs / BUCKETS;
  }

  get keys(): number {
    return this.slots.size;
  }

  get members(): number {
    return 0;
  }

  private allocate(): number {
    const reused = this.free.pop();
    if (reused !== undefined) return reused;
    if (this.used === this.capacity) {
      const capacity = Math.min(this.maxKeys, Math.max(64, this.capacity * 2));
      const counts = new Uint32Array(capacity * BUCKETS);
      counts.set(this.counts);
      const heads = new Float64Array(capacity);
      heads.set(this.heads);
      this.counts = counts;
      this.heads = heads;
      this.capacity = capacity;
    }
    return this.used++;
  }

  add(key: string, time: number): number {
    const bucket = Math.floor(time / this.width);
    let slot = this.slots.get(key);
    if (slot !== undefined) {
      this.slots.delete(key); // re-insert: Map order is the LRU order
      this.slots.set(key, slot);
    } else {
      if (this.slots.size >= this.maxKeys) {
        const [oldest, s] = this.slots.entries().next().value as [string, number];
        this.slots.delete(oldest);
        this.free.push(s);
      }
      slot = this.allocate();
      this.slots.set(key, slot);
      this.counts.fill(0, slot * BUCKETS, slot * BUCKETS + BUCKETS);
      this.heads[slot] = bucket;
    }
    const base = slot * BUCKETS;
    let head = this.heads[slot]!;
    if (bucket > head) {
      // Time moved on: clear the buckets between the old head and the new one.
      const steps = Math.min(bucket - head, BUCKETS);
      for (let k = 1; k <= steps; k++) this.counts[base + ring(head + k)] = 0;
      head = bucket;
      this.heads[slot] = head;
    } else if (bucket <= head - BUCKETS) {
      // Older than the whole ring. A stale head (a clock that jumped ahead once) must not stop
      // the key from counting for ever, so the ring restarts at this time.
      this.counts.fill(0, base, base + BUCKETS);
      head = bucket;
      this.heads[slot] = head;
    }
    this.counts[base + ring(bucket)]!++;
    let total = 0;
    for (let k = 0; k < BUCKETS; k++) total += this.counts[base + k]!;
    return total;
  }
}

interface MemberSet {
  /** Member → last time seen, in the order last touched (oldest first). */
  readonly seen: Map<string, number>;
  latest: number;
}

/** Distinct members per key with their last time seen: exact sliding windows, capped. */
class DistinctCounter implements Counter {
  private readonly sets = new Map<string, MemberSet>();
  private total = 0;

  constructor(
    private readonly windowMs: number,
    private readonly maxKeys: number,
    private readonly maxMembers: number,
  ) {}

  get keys(): number {
    return this.sets.size;
  }

  get members(): number {
    return this.total;
  }

  private evictOldestKey(): void {
    const [key, set] = this.sets.entries().next().value as [string, MemberSet];
    this.sets.delete(key);
    this.total -= set.seen.size;
  }

  add(key: string, member: string, time: number, cap: number): number {
    let set = this.sets.get(key);
    if (set !== undefined) {
      this.sets.delete(key);
      this.sets.set(key, set);
    } else {
      if (this.sets.size >= this.maxKeys) this.evictOldestKey();
      set = { seen: new Map(), latest: time };
      this.sets.set(key, set);
    }
    const seen = set.seen;
    if (time > set.latest) set.latest = time;
    const cutoff = set.latest - this.windowMs;
    for (const [m, t] of seen) {
      if (t > cutoff) break; // touch order is time order when time moves forward
      seen.delete(m);
      this.total--;
    }
    if (time > cutoff) {
      const before = seen.get(member);
      if (before === undefined) {
        seen.set(member, time);
        this.total++;
        if (seen.size > cap) {
          seen.delete(seen.keys().next().value as string);
          this.total--;
        }
      } else if (time >= before) {
        seen.delete(member);
        seen.set(member, time);
      }
    }
    const size = seen.size;
    while (this.total > this.maxMembers && this.sets.size > 1) {
      const first = this.sets.keys().next().value as string;
      if (first === key) break; // only the key in hand is left to give up: its own cap bounds it
      this.evictOldestKey();
    }
    return size;
  }
}

/** The default store: in process, bounded, for one engine (or several in one process). */
export class MemoryVolumeStore implements VolumeStore {
  private readonly events = new Map<string, EventCounter>();
  private readonly distincts = new Map<string, DistinctCounter>();
  readonly maxKeys: number;
  readonly maxMembers: number;

  constructor(options: MemoryVolumeStoreOptions = {}) {
    this.maxKeys = Math.max(1, Math.floor(options.maxKeys ?? 100_000));
    this.maxMembers = Math.max(1, Math.floor(options.maxMembers ?? 1_000_000));
  }

  count(counter: CounterSpec, key: string, time: number): number {
    let c = this.events.get(counter.name);
    if (c === undefined) {
      c = new EventCounter(counter.windowMs, this.maxKeys);
      this.events.set(counter.name, c);
    }
    return c.add(boundedKey(key), time);
  }

  distinct(counter: CounterSpec, key: string, member: string, time: number): number {
    let c = this.distincts.get(counter.name);
    if (c === undefined) {
      c = new DistinctCounter(counter.windowMs, this.maxKeys, this.maxMembers);
      this.distincts.set(counter.name, c);
    }
    return c.add(boundedKey(key), boundedKey(member), time, counter.cap);
  }

  retain(names: ReadonlySet<string>): void {
    for (const map of [this.events, this.distincts] as Array<Map<string, Counter>>) {
      for (const name of [...map.keys()]) if (!names.has(name)) map.delete(name);
    }
  }

  stats(): VolumeStats {
    let keys = 0;
    let members = 0;
    for (const map of [this.events, this.distincts] as Array<Map<string, Counter>>) {
      for (const c of map.values()) {
        keys += c.keys;
        members += c.members;
      }
    }
    return { counters: this.events.size + this.distincts.size, keys, members };
  }
}
