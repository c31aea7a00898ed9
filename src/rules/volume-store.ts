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
  /** Members per distinct counter, over all its keys (default 250,000). */
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
 * (about 90 bytes a key with its map entry, no object per key).
 */
class EventCounter implements Counter {
  private counts = new Uint32Array(0);
  /** Bucket number (time / bucket width) of each slot's newest bucket. */
  private heads = new Float64Array(0);
  private readonly table: SlotTable;
  private readonly width: number;

  constructor(windowMs: number, maxKeys: number) {
    this.width = windowMs / BUCKETS;
    this.table = new SlotTable(maxKeys, (capacity) => {
      const counts = new Uint32Array(capacity * BUCKETS);
      counts.set(this.counts);
      const heads = new Float64Array(capacity);
      heads.set(this.heads);
      this.counts = counts;
      this.heads = heads;
    }, () => {});
  }

  get keys(): number {
    return this.table.size;
  }

  get members(): number {
    return 0;
  }

  add(key: string, time: number): number {
    const bucket = Math.floor(time / this.width);
    const slot = this.table.touch(key);
    const base = slot * BUCKETS;
    let head = this.heads[slot]!;
    if (this.table.fresh || bucket <= head - BUCKETS) {
      // A new key, or a time older than the whole ring: a stale head (a clock that jumped
      // ahead once) must not stop the key from counting for ever, so the ring restarts.
      this.counts.fill(0, base, base + BUCKETS);
      head = bucket;
      this.heads[slot] = head;
    } else if (bucket > head) {
      // Time moved on: clear the buckets between the old head and the new one.
      const steps = Math.min(bucket - head, BUCKETS);
      for (let k = 1; k <= steps; k++) this.counts[base + ring(head + k)] = 0;
      head = bucket;
      this.heads[slot] = head;
    }
    this.counts[base + ring(bucket)]!++;
    let total = 0;
    for (let k = 0; k < BUCKETS; k++) total += this.counts[base + k]!;
    return total;
  }
}

/**
 * The members of one key. Most keys never see a second member (a text sent once, a sender
 * with one recipient), so the first member is held inline and a Map is made for the second.
 */
interface MemberSet {
  one: string | undefined;
  oneTime: number;
  /** Member → last time seen, in the order last touched (oldest first); from two members on. */
  seen: Map<string, number> | undefined;
  /** Latest time seen for the key: the end of its window. */
  latest: number;
  /** No member in `seen` was last seen before this: expiry is skipped until the window passes it. */
  front: number;
}

function sizeOf(set: MemberSet): number {
  return set.seen !== undefined ? set.seen.size : set.one !== undefined ? 1 : 0;
}

/** Distinct members per key with their last time seen: exact sliding windows, capped. */
class DistinctCounter implements Counter {
  private sets: Array<MemberSet | undefined> = [];
  private readonly table: SlotTable;
  private total = 0;

  constructor(
    private readonly windowMs: number,
    maxKeys: number,
    private readonly maxMembers: number,
  ) {
    this.table = new SlotTable(maxKeys, () => {}, (slot) => {
      this.total -= sizeOf(this.sets[slot]!);
      this.sets[slot] = undefined;
    });
  }

  get keys(): number {
    return this.table.size;
  }

  get members(): number {
    return this.total;
  }

  add(key: string, member: string, time: number, cap: number): number {
    const slot = this.table.touch(key);
    let set = this.sets[slot];
    if (this.table.fresh || set === undefined) {
      set = { one: undefined, oneTime: 0, seen: undefined, latest: time, front: time };
      this.sets[slot] = set;
    }
    if (time > set.latest) set.latest = time;
    const cutoff = set.latest - this.windowMs;
    const size = set.seen === undefined ? this.addInline(set, member, time, cutoff) : this.addMapped(set, set.seen, member, time, cutoff, cap);
    // Over the budget: older keys go first; the key in hand is bounded by its own cap.
    while (this.total > this.maxMembers && this.table.evictOldest(slot));
    return size;
  }

  private addInline(set: MemberSet, member: string, time: number, cutoff: number): number {
    if (set.one !== undefined && set.oneTime <= cutoff) {
      set.one = undefined;
      this.total--;
    }
    if (time <= cutoff) return set.one === undefined ? 0 : 1;
    if (set.one === undefined) {
      set.one = member;
      set.oneTime = time;
      this.total++;
      return 1;
    }
    if (set.one === member) {
      if (time > set.oneTime) set.oneTime = time;
      return 1;
    }
    const older = time < set.oneTime;
    set.seen = older ? new Map([[member, time], [set.one, set.oneTime]]) : new Map([[set.one, set.oneTime], [member, time]]);
    set.front = older ? time : set.oneTime;
    set.one = undefined;
    this.total++;
    return 2;
  }

  private addMapped(set: MemberSet, seen: Map<string, number>, member: string, time: number, cutoff: number, cap: number): number {
    if (cutoff >= set.front) {
      let front = Infinity;
      for (const [m, t] of seen) {
        if (t > cutoff) {
          front = t; // touch order is time order while time moves forward
          break;
        }
        seen.delete(m);
        this.total--;
      }
      set.front = front;
    }
    if (time <= cutoff) return seen.size;
    const before = seen.get(member);
    if (before === undefined) {
      seen.set(member, time);
      this.total++;
      if (time < set.front) set.front = time;
      if (seen.size > cap) {
        seen.delete(seen.keys().next().value as string);
        this.total--;
      }
    } else if (time >= before) {
      seen.delete(member);
      seen.set(member, time);
    }
    return seen.size;
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
    this.maxMembers = Math.max(1, Math.floor(options.maxMembers ?? 250_000));
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
