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
  /**
   * (key, member) pairs held in the distinct counters' pair tables (bounded by `maxMembers`);
   * the first 4 members of each key live in the key's record and are not counted here.
   */
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
  /**
   * `distinctHashed` for each of `keys` (a campaign's bands), returning the largest count: one
   * call lets a store fetch all the keys at once (the memory store's cache lines, a shared
   * store's round trip).
   */
  distinctMaxHashed(counter: CounterSpec, keys: ArrayLike<number>, member: number, time: number): number;
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

/** The set-selecting half of a (key life, member) pair's hash. */
function pairOf(member: number, generation: number): number {
  return fmix32((member >>> 0) ^ Math.imul(generation, 0x9e3779b1));
}

/** The high 21 bits of a key hash. */
function high(h: number): number {
  return Math.floor(h / 4294967296);
}

/** Zero a record's bucket counts and their total (a loop: `fill` is a builtin call, dearer for 17 words). */
function clearRing(u32: Uint32Array, base: number): void {
  for (let i = base; i <= base + BUCKETS; i++) u32[i] = 0;
}

/** Ring index of a bucket number (times before 1970 give negative numbers). */
function ring(bucket: number): number {
  // ToUint32 is the number modulo 2^32, a multiple of BUCKETS: the floor modulo, negatives too.
  return (bucket >>> 0) & (BUCKETS - 1);
}

interface Counter {
  readonly keys: number;
  readonly members: number;
}

/** Per-key record, in 32-bit words: 16 bucket counts, their total, generation, CLOCK bit, then head and key as doubles. */
const RECORD = 24;
const TOTAL = BUCKETS;
const GENERATION = BUCKETS + 1;
const REFERENCED = BUCKETS + 2;
/** A distinct counter's key has members in the pair table (more than its record holds). */
const SPILLED = BUCKETS + 3;
/** Offsets in 64-bit words. */
const RECORD64 = RECORD / 2;
const HEAD64 = 10;
const KEY64 = 11;

/**
 * Event counts per key in a ring of BUCKETS time buckets over message time, at most `maxKeys`
 * keys, the least recently used given up first as CLOCK approximates it: a touch sets the key's
 * bit, and when the table is full a hand sweeps the slots, clearing bits, and takes the first
 * slot without one. A key touched often, such as a bulk sender's, always has its bit set and
 * stays.
 *
 * Everything about a key (counts, their running total, ring head, generation, CLOCK bit, its
 * hash) is one 96-byte record in a single slab, so a check touches two adjacent cache lines per
 * key plus one index entry: the index is an open-addressing table of (low 32 bits of the key
 * hash, slot + 1) pairs, linear probing, at most half full, backward-shift deletion. No Map, no
 * string, no object per key. Each key's life (from its first event, or from a restart of its
 * ring) has a generation number, which distinct counts use to tell their members' keys apart.
 */
class EventCounter implements Counter {
  /** The record slab (read by DistinctCounter for the members a record holds; replaced when it grows). */
  u32 = new Uint32Array(0);
  private f64 = new Float64Array(0);
  private index = new Uint32Array(256);
  private mask = 127;
  private hand = 0;
  private used = 0;
  private nextGeneration = 1;
  keys = 0;
  readonly width: number;

  /** Record size in 32-bit words (RECORD, or more for a distinct counter's members) and in 64-bit words. */
  readonly record: number;
  readonly record64: number;

  constructor(windowMs: number, private readonly maxKeys: number, extra = 0) {
    this.width = windowMs / BUCKETS;
    this.record = RECORD + extra;
    this.record64 = this.record / 2;
  }

  get members(): number {
    return 0;
  }

  /** The key's slot with its ring moved on to `bucket`. */
  advance(key: number, bucket: number): number {
    const index = this.index;
    const mask = this.mask;
    const tag = key >>> 0;
    let slot = -1;
    for (let i = tag & mask; ; i = (i + 1) & mask) {
      const s = index[2 * i + 1]!;
      if (s === 0) break;
      if (index[2 * i] === tag && this.f64[(s - 1) * this.record64 + KEY64] === key) {
        slot = s - 1;
        break;
      }
    }
    if (slot < 0) return this.start(key, bucket);
    const u32 = this.u32;
    const base = slot * this.record;
    u32[base + REFERENCED] = 1;
    const head = this.f64[slot * this.record64 + HEAD64]!;
    if (bucket > head) {
      // Time moved on: clear the buckets between the old head and the new one.
      if (bucket - head >= BUCKETS) {
        clearRing(u32, base);
      } else {
        let total = u32[base + TOTAL]!;
        for (let b = head + 1; b <= bucket; b++) {
          const i = base + ring(b);
          total -= u32[i]!;
          u32[i] = 0;
        }
        u32[base + TOTAL] = total;
      }
      this.f64[slot * this.record64 + HEAD64] = bucket;
    } else if (bucket <= head - BUCKETS) {
      // A time older than the whole ring: a stale head (a clock that jumped ahead once) must
      // not stop the key from counting for ever, so the ring restarts.
      this.restart(slot, bucket);
    }
    return slot;
  }

  /** A new key: a free slot, or the one CLOCK gives up. */
  private start(key: number, bucket: number): number {
    const slot = this.used < this.maxKeys ? this.allocate() : this.evict();
    this.link(key >>> 0, slot);
    this.f64[slot * this.record64 + KEY64] = key;
    this.u32[slot * this.record + REFERENCED] = 1;
    this.restart(slot, bucket);
    return slot;
  }

  private restart(slot: number, bucket: number): void {
    const base = slot * this.record;
    clearRing(this.u32, base);
    for (let i = base + RECORD; i < base + this.record; i++) this.u32[i] = 0;
    this.u32[base + SPILLED] = 0;
    this.u32[base + GENERATION] = this.nextGeneration;
    this.nextGeneration = (this.nextGeneration + 1) >>> 0 || 1;
    this.f64[slot * this.record64 + HEAD64] = bucket;
  }

  private link(tag: number, slot: number): void {
    if (2 * (this.keys + 1) > this.mask + 1) this.rehash(2 * (this.mask + 1));
    const mask = this.mask;
    let i = tag & mask;
    while (this.index[2 * i + 1] !== 0) i = (i + 1) & mask;
    this.index[2 * i] = tag;
    this.index[2 * i + 1] = slot + 1;
    this.keys++;
  }

  /** Remove a slot's entry, shifting later entries of its probe run back so that lookups still find them. */
  private unlink(tag: number, slot: number): void {
    const index = this.index;
    const mask = this.mask;
    let i = tag & mask;
    while (index[2 * i + 1] !== slot + 1) i = (i + 1) & mask;
    for (let j = (i + 1) & mask; index[2 * j + 1] !== 0; j = (j + 1) & mask) {
      const home = index[2 * j]! & mask;
      // Entry j may move to the hole at i unless its home lies cyclically in (i, j].
      const stays = i <= j ? home > i && home <= j : home > i || home <= j;
      if (stays) continue;
      index[2 * i] = index[2 * j]!;
      index[2 * i + 1] = index[2 * j + 1]!;
      i = j;
    }
    index[2 * i] = 0;
    index[2 * i + 1] = 0;
    this.keys--;
  }

  private rehash(entries: number): void {
    const old = this.index;
    this.index = new Uint32Array(2 * entries);
    this.mask = entries - 1;
    this.keys = 0;
    for (let e = 0; e < old.length; e += 2) if (old[e + 1] !== 0) this.link(old[e]!, old[e + 1]! - 1);
  }

  private evict(): number {
    const u32 = this.u32;
    while (u32[this.hand * this.record + REFERENCED] === 1) {
      u32[this.hand * this.record + REFERENCED] = 0;
      this.hand = this.hand + 1 === this.used ? 0 : this.hand + 1;
    }
    const slot = this.hand;
    this.hand = this.hand + 1 === this.used ? 0 : this.hand + 1;
    this.unlink(this.f64[slot * this.record64 + KEY64]! >>> 0, slot);
    return slot;
  }

  /** Records grow by doubling up to `maxKeys`: memory follows the keys seen. */
  private allocate(): number {
    if (this.used * this.record === this.u32.length) {
      const capacity = Math.min(this.maxKeys, Math.max(64, this.used * 2));
      const f64 = new Float64Array(capacity * this.record64);
      f64.set(this.f64);
      this.f64 = f64;
      this.u32 = new Uint32Array(f64.buffer);
    }
    return this.used++;
  }

  generation(slot: number): number {
    return this.u32[slot * this.record + GENERATION]!;
  }

  /**
   * The generation of the key's record if its index entry is at its home position, else 0:
   * a guess that only loads memory (see `DistinctCounter.warm`).
   */
  peek(key: number): number {
    const i = (key >>> 0) & this.mask;
    const s = this.index[2 * i + 1]!;
    return s === 0 ? 0 : this.u32[(s - 1) * this.record + GENERATION]! ^ this.u32[(s - 1) * this.record + this.record - 1]!;
  }

  /** The low 32 bits of the slot's head bucket number. */
  head(slot: number): number {
    return this.f64[slot * this.record64 + HEAD64]! >>> 0;
  }

  increment(slot: number, bucket: number): void {
    const base = slot * this.record;
    this.u32[base + ring(bucket)]++;
    this.u32[base + TOTAL]++;
  }

  /** Take one from the bucket whose number ends in the 32 bits `bucket32`, if it still holds any. */
  decrement(slot: number, bucket32: number): void {
    const base = slot * this.record;
    const i = base + (bucket32 & (BUCKETS - 1));
    if (this.u32[i]! > 0) {
      this.u32[i]--;
      this.u32[base + TOTAL]--;
    }
  }

  sum(slot: number): number {
    return this.u32[slot * this.record + TOTAL]!;
  }

  add(key: number, time: number): number {
    const bucket = Math.floor(time / this.width);
    const slot = this.advance(key, bucket);
    this.increment(slot, bucket);
    return this.sum(slot);
  }
}

/**
 * Whether a pair counted `age` buckets before the current one may still count. A pair more than
 * a window in the future is given up too: after a clock jumped back by more than a window (a
 * replay, a reset clock), pairs from before the jump would otherwise fill the table for good.
 */
function live(age: number): boolean {
  return age < BUCKETS && age > -BUCKETS;
}

const WAYS = 4;
/** Members a distinct counter's record holds itself (member tag and bucket, 8 bytes each) before it needs the pair table. */
const INLINE = 4;
/** Words per pair entry: two 32-bit tags (64 bits of the pair hash) and the bucket. */
const ENTRY = 3;

/**
 * (key life, member) pairs with the bucket each is counted in: a 4-way set-associative table of
 * 12-byte entries (a 64-bit pair hash and the low 32 bits of the bucket number) in one typed
 * array, a set in one or two cache lines. A pair whose bucket has left every window is free
 * again; when a set holds four live pairs the table doubles (up to its capacity), and at
 * capacity the oldest pair of the set is given up. No object per member, nothing to collect.
 *
 * Bucket numbers are compared modulo 2^32 (as signed differences), exact while a pair is less
 * than 2^31 buckets old (4 years for a 1-second window).
 */
class PairTable {
  private entries: Uint32Array;
  private sets: number;
  private readonly maxSets: number;
  occupied = 0;

  constructor(capacity: number) {
    this.maxSets = Math.max(1, Math.ceil(capacity / WAYS));
    this.sets = Math.min(this.maxSets, 64);
    this.entries = new Uint32Array(this.sets * WAYS * ENTRY);
  }

  /** The entry holding pair (a, b), or -1. `b` is never 0 (0 marks a free entry). */
  find(a: number, b: number): number {
    const e = this.entries;
    const base = (a % this.sets) * WAYS * ENTRY;
    for (let i = base; i < base + WAYS * ENTRY; i += ENTRY) if (e[i + 1] === b && e[i] === a) return i;
    return -1;
  }

  bucketAt(entry: number): number {
    return this.entries[entry + 2]!;
  }

  /** A word of the set `a` falls in: a load, nothing else. */
  peek(a: number): number {
    return this.entries[(a % this.sets) * WAYS * ENTRY]!;
  }

  setBucket(entry: number, bucket32: number): void {
    this.entries[entry + 2] = bucket32;
  }

  /** Insert a pair; `now32` is the counter's current bucket, to tell expired pairs. */
  insert(a: number, b: number, bucket32: number, now32: number): void {
    const e = this.entries;
    const base = (a % this.sets) * WAYS * ENTRY;
    let victim = base;
    let oldest = -1;
    for (let i = base; i < base + WAYS * ENTRY; i += ENTRY) {
      if (e[i + 1] === 0) this.occupied++;
      const age = e[i + 1] === 0 ? BUCKETS : (now32 - e[i + 2]!) | 0;
      if (!live(age)) {
        e[i] = a;
        e[i + 1] = b;
        e[i + 2] = bucket32;
        return;
      }
      if (age > oldest) {
        oldest = age;
        victim = i;
      }
    }
    // Four live pairs: grow while the table may, else give up the oldest.
    if (this.sets < this.maxSets) {
      this.grow(now32);
      this.insert(a, b, bucket32, now32);
      return;
    }
    e[victim] = a;
    e[victim + 1] = b;
    e[victim + 2] = bucket32;
  }

  /** Double the table (up to its capacity), dropping expired pairs: memory follows the pairs live in a window. */
  private grow(now32: number): void {
    const old = this.entries;
    this.sets = Math.min(this.maxSets, this.sets * 2);
    this.entries = new Uint32Array(this.sets * WAYS * ENTRY);
    this.occupied = 0;
    for (let i = 0; i < old.length; i += ENTRY) {
      if (old[i + 1] !== 0 && live((now32 - old[i + 2]!) | 0)) this.insert(old[i]!, old[i + 1]!, old[i + 2]!, now32);
    }
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
    this.ring = new EventCounter(windowMs, maxKeys, 2 * INLINE);
    this.pairs = new PairTable(maxMembers);
  }

  get keys(): number {
    return this.ring.keys;
  }

  /** Pairs in the table: a key's first members live in its record and are not counted here. */
  get members(): number {
    return this.pairs.occupied;
  }

  /**
   * Load what `add` will read for each key (index entry, record) in one pass whose loads do not
   * wait on each other, so that the CPU fetches the keys' cache lines in parallel instead of one
   * miss after another. Changes nothing; the result only keeps the loads alive.
   */
  warm(keys: ArrayLike<number>): number {
    let sink = 0;
    for (let k = 0; k < keys.length; k++) sink ^= this.ring.peek(keys[k]!);
    return sink;
  }

  add(key: number, member: number, time: number): number {
    const ring = this.ring;
    const bucket = Math.floor(time / ring.width);
    const slot = ring.advance(key, bucket);
    const u32 = ring.u32;
    const base = slot * ring.record;
    const head32 = ring.head(slot);
    const bucket32 = bucket >>> 0;
    // The members the record holds: found there, no pair table is read.
    const tag = fmix32((member >>> 0) ^ Math.imul(high(member), 0x9e3779b1)) || 1;
    let free = -1;
    for (let i = base + RECORD; i < base + RECORD + 2 * INLINE; i += 2) {
      const t = u32[i]!;
      if (t === tag) {
        const counted = u32[i + 1]!;
        if (((bucket32 - counted) | 0) > 0) {
          this.move(slot, counted, bucket, head32);
          u32[i + 1] = bucket32;
        }
        return ring.sum(slot);
      }
      // A held member whose bucket has left the ring no longer counts: its place is free.
      if (free < 0 && (t === 0 || ((head32 - u32[i + 1]!) | 0) >= BUCKETS)) free = i;
    }
    if (u32[base + SPILLED] === 0) {
      if (free < 0) {
        u32[base + SPILLED] = 1;
      } else {
        u32[free] = tag;
        u32[free + 1] = bucket32;
        ring.increment(slot, bucket);
        return ring.sum(slot);
      }
    }
    // More members than the record holds: the pair table. The key's generation is part of the
    // pair, so a key dropped and seen again starts with no members.
    const generation = ring.generation(slot);
    const a = pairOf(member, generation);
    const b = fmix32(high(member) ^ a ^ Math.imul(generation, 0x85ebca77)) || 1;
    const entry = this.pairs.find(a, b);
    if (entry >= 0) {
      const counted = this.pairs.bucketAt(entry);
      if (((bucket32 - counted) | 0) > 0) {
        this.move(slot, counted, bucket, head32);
        this.pairs.setBucket(entry, bucket32);
      }
    } else if (free >= 0) {
      u32[free] = tag;
      u32[free + 1] = bucket32;
      ring.increment(slot, bucket);
    } else {
      ring.increment(slot, bucket);
      this.pairs.insert(a, b, bucket32, head32);
    }
    return ring.sum(slot);
  }

  /** A member seen again in a later bucket: it counts there, no longer in the old one if that is still in the ring. */
  private move(slot: number, counted: number, bucket: number, head32: number): void {
    const age = (head32 - counted) | 0;
    if (age >= 0 && age < BUCKETS) this.ring.decrement(slot, counted);
    this.ring.increment(slot, bucket);
  }
}

/** The default store: in process, bounded, for one engine (or several in one process). */
export class MemoryVolumeStore implements VolumeStore {
  private readonly events = new Map<string, EventCounter>();
  private readonly distincts = new Map<string, DistinctCounter>();
  /** The last distinct counter asked for. */
  private lastSpec: CounterSpec | undefined;
  private lastDistinct: DistinctCounter | undefined;
  /** Keeps the warming loads from being optimised away. */
  private sink = 0;
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
    return this.distinctCounter(counter).add(key, member, time);
  }

  distinctMaxHashed(counter: CounterSpec, keys: ArrayLike<number>, member: number, time: number): number {
    const c = this.distinctCounter(counter);
    this.sink ^= c.warm(keys);
    let most = 0;
    for (let k = 0; k < keys.length; k++) {
      const n = c.add(keys[k]!, member, time);
      if (n > most) most = n;
    }
    return most;
  }

  /** The counter's tables, remembered across calls: a campaign's check asks for one several times. */
  private distinctCounter(counter: CounterSpec): DistinctCounter {
    let c = counter === this.lastSpec ? this.lastDistinct : this.distincts.get(counter.name);
    if (c === undefined) {
      c = new DistinctCounter(counter.windowMs, this.maxKeys, this.maxMembers);
      this.distincts.set(counter.name, c);
    }
    this.lastSpec = counter;
    this.lastDistinct = c;
    return c;
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
