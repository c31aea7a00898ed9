/**
 * Where volume rules keep their counts: sliding windows over message time, keyed by sender,
 * client, recipient or campaign fingerprint. The interface is synchronous because `check` is;
 * the in-process store below is the default. A shared store for several proxies side by side
 * (Redis) implements the same two operations (see docs/volume.md): `count` maps onto one INCR
 * per time bucket with a TTL, `distinct` onto a sorted set per key scored by time (ZADD,
 * ZREMRANGEBYSCORE, ZCARD), kept as a local mirror that is flushed and refreshed in the
 * background so that a check never waits on the network.
 *
 * Memory is bounded whatever the traffic: each counter keeps at most `maxKeys` keys (about the
 * least recently used dropped first) in typed-array slabs, a distinct counter a table of
 * `maxMembers` (key, member) pairs. Keys and members are held as 53-bit hashes (`keyHash`),
 * never as strings: a check hashes its sender, recipient and client once for all counters.
 */

/** One counter as the rules declare it. */
export interface CounterSpec {
  /** Identity across reloads: kind, key and window, e.g. `rate:sender:60000`. */
  readonly name: string;
  /** Length of the sliding window in milliseconds. */
  readonly windowMs: number;
  /**
   * The largest threshold that reads the counter: counts above it need not be exact, so a
   * shared store may cap a key's member set there. The in-process store counts exactly.
   */
  readonly cap: number;
}

export interface VolumeStats {
  readonly counters: number;
  /** Keys held over all counters. */
  readonly keys: number;
  /** (key, member) pairs held over all distinct counters. */
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
   * the window, this one included.
   */
  distinct(counter: CounterSpec, key: string, member: string, time: number): number;
  /**
   * `count` with the key already hashed by `keyHash` (a non-zero integer below 2^53): the path
   * checks take, so that a message's sender is hashed once for all counters and campaign keys
   * are never strings. `count(c, k, t)` and `countHashed(c, keyHash(k), t)` are one count.
   */
  countHashed(counter: CounterSpec, key: number, time: number): number;
  /** `distinct` with key and member hashed by `keyHash`. */
  distinctHashed(counter: CounterSpec, key: number, member: number, time: number): number;
  /** Drop every counter whose name is not listed (after a reload removed its rules). */
  retain(names: ReadonlySet<string>): void;
  stats(): VolumeStats;
}

export interface MemoryVolumeStoreOptions {
  /** Keys per counter (default 100,000). */
  readonly maxKeys?: number;
  /** (key, member) pairs a distinct counter remembers, 16 bytes each (default 1,000,000). */
  readonly maxMembers?: number;
}

/** Time buckets per window: an event stops counting between 15/16 and 16/16 of the window after it. */
export const BUCKETS = 16;
/** cyrb53: a fast 53-bit string hash. */
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

/**
 * A key or member as the store holds it: a non-zero integer below 2^53 whose low 32 bits are
 * well mixed (tables index by them). Two different strings share a hash with probability
 * 2^-53 per pair: at 100,000 keys a counter, about one merged pair in 10^6 stores.
 */
export function keyHash(s: string): number {
  return hash53(s) || 1;
}

/** MurmurHash3's finaliser: a bijection on 32 bits that mixes every bit into every other. */
export function fmix32(x: number): number {
  let h = x;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Two 32-bit values to one key hash (low 32 bits mixed, 21 more above them, never 0). */
export function combine(a: number, b: number): number {
  const lo = fmix32(a ^ Math.imul(b, 0x9e3779b1));
  const hi = fmix32(b ^ Math.imul(lo, 0x85ebca77)) & 0x1fffff;
  return hi * 4294967296 + lo || 1;
}

/** The high 21 bits of a key hash. */
function high(h: number): number {
  return Math.floor(h / 4294967296);
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
 * Key hashes to dense slot numbers, at most `maxKeys`, the least recently used given up first
 * as CLOCK approximates it: a touch sets the slot's bit, and when the table is full a hand
 * sweeps the slots, clearing bits, and takes the first slot without one. A key touched often,
 * such as a bulk sender's, always has its bit set and stays. The index is an open-addressing
 * table of hashes (linear probing, at most half full, backward-shift deletion): no Map, no
 * string, no object per key. O(1) amortised; a touch of a known key reads the index and writes
 * its own bit.
 */
class SlotTable {
  /** Open addressing: key hash (0 = empty) and its slot. */
  private index = new Float64Array(128);
  private slotAt = new Int32Array(128);
  private mask = 127;
  /** Per slot: its key hash (to unlink it when the slot is given up) and CLOCK bit. */
  private keyOf = new Float64Array(0);
  private referenced = new Uint8Array(0);
  private hand = 0;
  private used = 0;
  size = 0;
  /** Whether the slot the last `touch` returned is new to its key. */
  fresh = false;

  constructor(
    private readonly maxKeys: number,
    /** Slots grew to this many: grow the per-slot arrays too. */
    private readonly onGrow: (capacity: number) => void,
  ) {}

  /** The key's slot (no allocation: `fresh` says whether it is new to the key). */
  touch(key: number): number {
    const index = this.index;
    const mask = this.mask;
    for (let i = (key >>> 0) & mask; ; i = (i + 1) & mask) {
      const k = index[i]!;
      if (k === key) {
        const slot = this.slotAt[i]!;
        this.referenced[slot] = 1;
        this.fresh = false;
        return slot;
      }
      if (k === 0) break;
    }
    const slot = this.used < this.maxKeys ? this.allocate() : this.evict();
    this.link(key, slot);
    this.keyOf[slot] = key;
    this.referenced[slot] = 1;
    this.fresh = true;
    return slot;
  }

  private link(key: number, slot: number): void {
    if (2 * (this.size + 1) > this.index.length) this.rehash(this.index.length * 2);
    const mask = this.mask;
    let i = (key >>> 0) & mask;
    while (this.index[i] !== 0) i = (i + 1) & mask;
    this.index[i] = key;
    this.slotAt[i] = slot;
    this.size++;
  }

  /** Remove a key, shifting later entries of its probe run back so that lookups still find them. */
  private unlink(key: number): void {
    const index = this.index;
    const mask = this.mask;
    let i = (key >>> 0) & mask;
    while (index[i] !== key) i = (i + 1) & mask;
    for (let j = (i + 1) & mask; index[j] !== 0; j = (j + 1) & mask) {
      const home = (index[j]! >>> 0) & mask;
      // Entry j may move to the hole at i unless its home lies cyclically in (i, j].
      const stays = i <= j ? home > i && home <= j : home > i || home <= j;
      if (stays) continue;
      index[i] = index[j]!;
      this.slotAt[i] = this.slotAt[j]!;
      i = j;
    }
    index[i] = 0;
    this.size--;
  }

  private rehash(capacity: number): void {
    const { index, slotAt } = this;
    this.index = new Float64Array(capacity);
    this.slotAt = new Int32Array(capacity);
    this.mask = capacity - 1;
    this.size = 0;
    for (let e = 0; e < index.length; e++) if (index[e] !== 0) this.link(index[e]!, slotAt[e]!);
  }

  private evict(): number {
    while (this.referenced[this.hand] === 1) {
      this.referenced[this.hand] = 0;
      this.hand = this.hand + 1 === this.used ? 0 : this.hand + 1;
    }
    const slot = this.hand;
    this.hand = this.hand + 1 === this.used ? 0 : this.hand + 1;
    this.unlink(this.keyOf[slot]!);
    return slot;
  }

  private allocate(): number {
    if (this.used === this.referenced.length) {
      const capacity = Math.min(this.maxKeys, Math.max(64, this.used * 2));
      const referenced = new Uint8Array(capacity);
      referenced.set(this.referenced);
      this.referenced = referenced;
      const keyOf = new Float64Array(capacity);
      keyOf.set(this.keyOf);
      this.keyOf = keyOf;
      this.onGrow(capacity);
    }
    return this.used++;
  }
}

/**
 * Event counts per key in a ring of BUCKETS time buckets plus their running total (so reading a
 * count is one load, not a sum), all keys in one slab of typed arrays (about 90 bytes a key with
 * its index entry, no object per key). Each key's life (from its first event, or from a restart
 * of its ring) has a generation number, which distinct counts use to tell their members' keys
 * apart.
 */
class EventCounter implements Counter {
  private counts = new Uint32Array(0);
  private totals = new Uint32Array(0);
  /** Bucket number (time / bucket width) of each slot's newest bucket. */
  private heads = new Float64Array(0);
  private generations = new Uint32Array(0);
  private nextGeneration = 1;
  private readonly table: SlotTable;
  readonly width: number;

  constructor(windowMs: number, maxKeys: number) {
    this.width = windowMs / BUCKETS;
    this.table = new SlotTable(maxKeys, (capacity) => {
      const counts = new Uint32Array(capacity * BUCKETS);
      counts.set(this.counts);
      const totals = new Uint32Array(capacity);
      totals.set(this.totals);
      const heads = new Float64Array(capacity);
      heads.set(this.heads);
      const generations = new Uint32Array(capacity);
      generations.set(this.generations);
      this.counts = counts;
      this.totals = totals;
      this.heads = heads;
      this.generations = generations;
    });
  }

  get keys(): number {
    return this.table.size;
  }

  get members(): number {
    return 0;
  }

  /** The key's slot with its ring moved on to `bucket`. */
  advance(key: number, bucket: number): number {
    const slot = this.table.touch(key);
    const base = slot * BUCKETS;
    const head = this.heads[slot]!;
    if (this.table.fresh || bucket <= head - BUCKETS) {
      // A new key, or a time older than the whole ring: a stale head (a clock that jumped
      // ahead once) must not stop the key from counting for ever, so the ring restarts.
      this.counts.fill(0, base, base + BUCKETS);
      this.totals[slot] = 0;
      this.heads[slot] = bucket;
      this.generations[slot] = this.nextGeneration;
      this.nextGeneration = (this.nextGeneration + 1) >>> 0 || 1;
    } else if (bucket > head) {
      // Time moved on: clear the buckets between the old head and the new one.
      if (bucket - head >= BUCKETS) {
        this.counts.fill(0, base, base + BUCKETS);
        this.totals[slot] = 0;
      } else {
        let total = this.totals[slot]!;
        for (let b = head + 1; b <= bucket; b++) {
          const i = base + ring(b);
          total -= this.counts[i]!;
          this.counts[i] = 0;
        }
        this.totals[slot] = total;
      }
      this.heads[slot] = bucket;
    }
    return slot;
  }

  generation(slot: number): number {
    return this.generations[slot]!;
  }

  /** Whether a bucket is still in the slot's ring (so its count is intact). */
  holds(slot: number, bucket: number): boolean {
    const head = this.heads[slot]!;
    return bucket <= head && bucket > head - BUCKETS;
  }

  increment(slot: number, bucket: number): void {
    this.counts[slot * BUCKETS + ring(bucket)]++;
    this.totals[slot]++;
  }

  decrement(slot: number, bucket: number): void {
    const i = slot * BUCKETS + ring(bucket);
    if (this.counts[i]! > 0) {
      this.counts[i]--;
      this.totals[slot]--;
    }
  }

  sum(slot: number): number {
    return this.totals[slot]!;
  }

  add(key: number, time: number): number {
    const bucket = Math.floor(time / this.width);
    const slot = this.advance(key, bucket);
    this.increment(slot, bucket);
    return this.totals[slot]!;
  }
}

const WAYS = 4;

/**
 * (key life, member) pairs with the bucket each is counted in: a 4-way set-associative table
 * in two typed arrays, the oldest entry of a set replaced when the set is full. Fixed memory
 * (16 bytes an entry), no object per member, nothing to collect.
 */
class PairTable {
  private hashes: Float64Array;
  private buckets: Float64Array;
  private sets: number;
  private readonly maxSets: number;
  occupied = 0;

  constructor(capacity: number) {
    this.maxSets = Math.max(1, Math.ceil(capacity / WAYS));
    this.sets = Math.min(this.maxSets, 64);
    this.hashes = new Float64Array(this.sets * WAYS);
    this.buckets = new Float64Array(this.sets * WAYS);
  }

  /** Double the table (up to its capacity) when a set overflows: memory follows use. */
  private grow(): void {
    const { hashes, buckets } = this;
    this.sets = Math.min(this.maxSets, this.sets * 2);
    this.hashes = new Float64Array(this.sets * WAYS);
    this.buckets = new Float64Array(this.sets * WAYS);
    this.occupied = 0;
    for (let e = 0; e < hashes.length; e++) if (hashes[e] !== 0) this.insert(hashes[e]!, buckets[e]!);
  }

  /** The entry holding `hash`, or -1. */
  find(hash: number): number {
    const base = ((hash >>> 0) % this.sets) * WAYS;
    for (let w = 0; w < WAYS; w++) if (this.hashes[base + w] === hash) return base + w;
    return -1;
  }

  bucketAt(entry: number): number {
    return this.buckets[entry]!;
  }

  setBucket(entry: number, bucket: number): void {
    this.buckets[entry] = bucket;
  }

  insert(hash: number, bucket: number): void {
    const base = ((hash >>> 0) % this.sets) * WAYS;
    let victim = base;
    for (let w = 0; w < WAYS; w++) {
      const e = base + w;
      if (this.hashes[e] === 0) {
        this.hashes[e] = hash;
        this.buckets[e] = bucket;
        this.occupied++;
        return;
      }
      if (this.buckets[e]! < this.buckets[victim]!) victim = e;
    }
    // A full set: grow while the table may, else give up its oldest pair.
    if (this.sets < this.maxSets) {
      this.grow();
      this.insert(hash, bucket);
      return;
    }
    this.hashes[victim] = hash;
    this.buckets[victim] = bucket;
  }
}

/**
 * Distinct members per key: the key's ring counts each member once, in the bucket it was last
 * seen in (a member seen again moves to the newer bucket), and a pair table remembers where
 * each (key, member) is counted. Sliding at the same 1/16-window granularity as event counts.
 * A pair pushed out of a full table and seen again within the window is counted twice, so
 * `maxMembers` should cover the pairs live in one window.
 */
class DistinctCounter implements Counter {
  private readonly ring: EventCounter;
  private readonly pairs: PairTable;

  constructor(windowMs: number, maxKeys: number, maxMembers: number) {
    this.ring = new EventCounter(windowMs, maxKeys);
    this.pairs = new PairTable(maxMembers);
  }

  get keys(): number {
    return this.ring.keys;
  }

  get members(): number {
    return this.pairs.occupied;
  }

  add(key: number, member: number, time: number): number {
    const bucket = Math.floor(time / this.ring.width);
    const slot = this.ring.advance(key, bucket);
    // The key's generation is part of the pair: a key dropped and seen again starts with no members.
    const generation = this.ring.generation(slot);
    const pair = combine((member >>> 0) ^ generation, high(member) ^ Math.imul(generation, 0x2545f491));
    const entry = this.pairs.find(pair);
    if (entry >= 0) {
      const counted = this.pairs.bucketAt(entry);
      if (bucket > counted) {
        if (this.ring.holds(slot, counted)) this.ring.decrement(slot, counted);
        this.ring.increment(slot, bucket);
        this.pairs.setBucket(entry, bucket);
      }
    } else {
      this.ring.increment(slot, bucket);
      this.pairs.insert(pair, bucket);
    }
    return this.ring.sum(slot);
  }
}

/** The default store: in process, bounded, for one engine (or several in one process). */
export class MemoryVolumeStore implements VolumeStore {
  private readonly events = new Map<string, EventCounter>();
  private readonly distincts = new Map<string, DistinctCounter>();
  /** The last distinct counter asked for: a campaign asks for one four times in a row. */
  private lastSpec: CounterSpec | undefined;
  private lastDistinct: DistinctCounter | undefined;
  readonly maxKeys: number;
  readonly maxMembers: number;

  constructor(options: MemoryVolumeStoreOptions = {}) {
    this.maxKeys = Math.max(1, Math.floor(options.maxKeys ?? 100_000));
    this.maxMembers = Math.max(1, Math.floor(options.maxMembers ?? 1_000_000));
  }

  count(counter: CounterSpec, key: string, time: number): number {
    return this.countHashed(counter, keyHash(key), time);
  }

  distinct(counter: CounterSpec, key: string, member: string, time: number): number {
    return this.distinctHashed(counter, keyHash(key), keyHash(member), time);
  }

  countHashed(counter: CounterSpec, key: number, time: number): number {
    let c = this.events.get(counter.name);
    if (c === undefined) {
      c = new EventCounter(counter.windowMs, this.maxKeys);
      this.events.set(counter.name, c);
    }
    return c.add(key, time);
  }

  distinctHashed(counter: CounterSpec, key: number, member: number, time: number): number {
    let c = counter === this.lastSpec ? this.lastDistinct : this.distincts.get(counter.name);
    if (c === undefined) {
      c = new DistinctCounter(counter.windowMs, this.maxKeys, this.maxMembers);
      this.distincts.set(counter.name, c);
    }
    this.lastSpec = counter;
    this.lastDistinct = c;
    return c.add(key, member, time);
  }

  retain(names: ReadonlySet<string>): void {
    for (const map of [this.events, this.distincts] as Array<Map<string, Counter>>) {
      for (const name of [...map.keys()]) if (!names.has(name)) map.delete(name);
    }
    this.lastSpec = undefined;
    this.lastDistinct = undefined;
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
