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
 * recently used dropped first) in typed-array slabs, a distinct counter a table of
 * `maxMembers` (key, member) pairs as 53-bit hashes, and keys longer than 64 characters are
 * kept as a hash too.
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
   * the window, this one included.
   */
  distinct(counter: CounterSpec, key: string, member: string, time: number): number;
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
 * Keys to dense slot numbers, with a least-recently-used list threaded through typed arrays:
 * O(1) touch and eviction (a Map's own order is no LRU: after many deletions V8 walks the
 * holes at its front on every `keys().next()`).
 */
class SlotTable {
  private readonly slots = new Map<string, number>();
  private keyOf: string[] = [];
  private prev = new Int32Array(0);
  private next = new Int32Array(0);
  private head = -1; // least recently used
  private tail = -1; // most recently used
  private used = 0;
  private readonly free: number[] = [];
  capacity = 0;

  constructor(
    private readonly maxKeys: number,
    /** Slots grew to `capacity`: grow the per-slot arrays too. */
    private readonly onGrow: (capacity: number) => void,
    /** A slot is about to be reused for another key. */
    private readonly onEvict: (slot: number) => void,
  ) {}

  get size(): number {
    return this.slots.size;
  }

  private unlink(slot: number): void {
    const p = this.prev[slot]!;
    const n = this.next[slot]!;
    if (p >= 0) this.next[p] = n;
    else this.head = n;
    if (n >= 0) this.prev[n] = p;
    else this.tail = p;
  }

  private append(slot: number): void {
    this.prev[slot] = this.tail;
    this.next[slot] = -1;
    if (this.tail >= 0) this.next[this.tail] = slot;
    else this.head = slot;
    this.tail = slot;
  }

  /** Whether the slot the last `touch` returned is new to its key. */
  fresh = false;

  /** The key's slot, most recently used now (no allocation: `fresh` says if it is new). */
  touch(key: string): number {
    const found = this.slots.get(key);
    if (found !== undefined) {
      if (found !== this.tail) {
        this.unlink(found);
        this.append(found);
      }
      this.fresh = false;
      return found;
    }
    let slot: number;
    if (this.slots.size >= this.maxKeys) {
      slot = this.head;
      this.evict(slot);
    } else {
      slot = this.allocate();
    }
    this.slots.set(key, slot);
    this.keyOf[slot] = key;
    this.append(slot);
    this.fresh = true;
    return slot;
  }

  /** Give up the least recently used key other than `keep`; false when there is none. */
  evictOldest(keep: number): boolean {
    const slot = this.head === keep ? this.next[this.head]! : this.head;
    if (slot < 0) return false;
    this.evict(slot);
    this.free.push(slot);
    return true;
  }

  private evict(slot: number): void {
    this.onEvict(slot);
    this.slots.delete(this.keyOf[slot]!);
    this.unlink(slot);
  }

  private allocate(): number {
    const reused = this.free.pop();
    if (reused !== undefined) return reused;
    if (this.used === this.capacity) {
      const capacity = Math.min(this.maxKeys, Math.max(64, this.capacity * 2));
      const prev = new Int32Array(capacity);
      prev.set(this.prev);
      const next = new Int32Array(capacity);
      next.set(this.next);
      this.prev = prev;
      this.next = next;
      this.capacity = capacity;
      this.onGrow(capacity);
    }
    return this.used++;
  }
}

/**
 * Event counts per key in a ring of BUCKETS time buckets, all keys in one slab of typed arrays
 * (about 100 bytes a key with its map entry, no object per key). Each key's life (from its
 * first event, or from a restart of its ring) has a generation number, which distinct counts
 * use to tell their members' keys apart.
 */
class EventCounter implements Counter {
  private counts = new Uint32Array(0);
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
      const heads = new Float64Array(capacity);
      heads.set(this.heads);
      const generations = new Uint32Array(capacity);
      generations.set(this.generations);
      this.counts = counts;
      this.heads = heads;
      this.generations = generations;
    }, () => {});
  }

  get keys(): number {
    return this.table.size;
  }

  get members(): number {
    return 0;
  }

  /** The key's slot with its ring moved on to `bucket`. */
  advance(key: string, bucket: number): number {
    const slot = this.table.touch(key);
    const base = slot * BUCKETS;
    const head = this.heads[slot]!;
    if (this.table.fresh || bucket <= head - BUCKETS) {
      // A new key, or a time older than the whole ring: a stale head (a clock that jumped
      // ahead once) must not stop the key from counting for ever, so the ring restarts.
      this.counts.fill(0, base, base + BUCKETS);
      this.heads[slot] = bucket;
      this.generations[slot] = this.nextGeneration;
      this.nextGeneration = (this.nextGeneration + 1) >>> 0 || 1;
    } else if (bucket > head) {
      // Time moved on: clear the buckets between the old head and the new one.
      const steps = Math.min(bucket - head, BUCKETS);
      for (let k = 1; k <= steps; k++) this.counts[base + ring(head + k)] = 0;
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

  bump(slot: number, bucket: number, delta: 1 | -1): void {
    const i = slot * BUCKETS + ring(bucket);
    if (delta > 0 || this.counts[i]! > 0) this.counts[i] = this.counts[i]! + delta;
  }

  sum(slot: number): number {
    const base = slot * BUCKETS;
    let total = 0;
    for (let k = 0; k < BUCKETS; k++) total += this.counts[base + k]!;
    return total;
  }

  add(key: string, time: number): number {
    const bucket = Math.floor(time / this.width);
    const slot = this.advance(key, bucket);
    this.bump(slot, bucket, 1);
    return this.sum(slot);
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
    this.sets = Math.min(this.maxSets, 1024);
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
    const base = (hash % this.sets) * WAYS;
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
    const base = (hash % this.sets) * WAYS;
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

  add(key: string, member: string, time: number): number {
    const bucket = Math.floor(time / this.ring.width);
    const slot = this.ring.advance(key, bucket);
    // The key's generation seeds the hash: a key dropped and seen again starts with no members.
    const hash = hash53(member, this.ring.generation(slot)) || 1;
    const entry = this.pairs.find(hash);
    if (entry >= 0) {
      const counted = this.pairs.bucketAt(entry);
      if (bucket > counted) {
        if (this.ring.holds(slot, counted)) this.ring.bump(slot, counted, -1);
        this.ring.bump(slot, bucket, 1);
        this.pairs.setBucket(entry, bucket);
      }
    } else {
      this.ring.bump(slot, bucket, 1);
      this.pairs.insert(hash, bucket);
    }
    return this.ring.sum(slot);
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
    return c.add(boundedKey(key), member, time);
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
