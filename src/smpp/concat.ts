/**
 * Reassembly of concatenated SMS (UDH IE 0x00/0x08 or the SAR TLVs) so a text split across parts
 * is judged whole, and all its parts are acted on together.
 *
 * Parts are keyed by (scope, source, destination, reference, total): the scope is the ESME's
 * system_id (or the upstream link for mobile-originated messages), so two ESMEs reusing a
 * reference never meet. A set is complete when every sequence number 1..total has arrived. A set
 * that is still incomplete after `timeoutMs` is flushed as it is: its arrived parts are judged on
 * the text they have (one part alone when only one came). Memory is bounded: at most
 * `maxPendingSets` sets wait at once; past that, the oldest is flushed early, never dropped, so
 * every part still gets an answer.
 */
import type { ConcatInfo } from './codec.js';

export interface Segment<T> {
  /** 1-based position. */
  readonly seq: number;
  readonly text: string;
  readonly item: T;
}

export interface SegmentSet<T> {
  readonly key: string;
  readonly reference: number;
  readonly total: number;
  /** The parts that arrived, in sequence order. */
  readonly parts: readonly Segment<T>[];
  readonly complete: boolean;
  /** Texts of the arrived parts joined in order. */
  readonly text: string;
  /** When the first part arrived (ms, the reassembler's clock). */
  readonly firstAt: number;
}

export type FlushReason = 'timeout' | 'evicted' | 'closed';

export type AddResult<T> =
  /** The last part arrived: act on the whole set now. */
  | { readonly kind: 'complete'; readonly set: SegmentSet<T> }
  /** Waiting for siblings; the set will come back through `complete` or the flush callback. */
  | { readonly kind: 'pending' }
  /** A part with this sequence number is already waiting; the new one was not kept. */
  | { readonly kind: 'duplicate' };

export interface ReassemblerOptions {
  /** How long a set waits for its missing parts; default 30 s. */
  readonly timeoutMs?: number;
  /** Most sets waiting at once; default 10,000. */
  readonly maxPendingSets?: number;
  /** Clock, for tests. */
  readonly now?: () => number;
}

interface Pending<T> {
  readonly key: string;
  readonly reference: number;
  readonly total: number;
  readonly parts: (Segment<T> | undefined)[];
  arrived: number;
  readonly firstAt: number;
}

/** Is this concatenation info usable? Total 1, seq 0 or seq past total mean: a single message. */
export function isMultipart(info: ConcatInfo | undefined): info is ConcatInfo {
  return !!info && info.total > 1 && info.seq >= 1 && info.seq <= info.total;
}

export class Reassembler<T> {
  private readonly sets = new Map<string, Pending<T>>();
  private readonly timeoutMs: number;
  private readonly maxPendingSets: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    options: ReassemblerOptions,
    private readonly onFlush: (set: SegmentSet<T>, reason: FlushReason) => void,
  ) {
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxPendingSets = options.maxPendingSets ?? 10_000;
    if (!(this.timeoutMs > 0)) throw new Error(`concatenation timeout must be positive, got ${this.timeoutMs}`);
    if (!(this.maxPendingSets >= 1)) throw new Error(`maxPendingSets must be at least 1, got ${this.maxPendingSets}`);
    this.now = options.now ?? Date.now;
  }

  get pendingSets(): number {
    return this.sets.size;
  }

  /** Parts waiting across all sets. */
  get pendingParts(): number {
    let n = 0;
    for (const s of this.sets.values()) n += s.arrived;
    return n;
  }

  static key(scope: string, source: string, destination: string, info: ConcatInfo): string {
    return `${scope}\u0000${source}\u0000${destination}\u0000${info.referenceBits}:${info.reference}\u0000${info.total}`;
  }

  add(key: string, info: ConcatInfo, text: string, item: T): AddResult<T> {
    let set = this.sets.get(key);
    if (!set) {
      while (this.sets.size >= this.maxPendingSets) this.flushOldest('evicted');
      set = { key, reference: info.reference, total: info.total, parts: new Array<Segment<T> | undefined>(info.total), arrived: 0, firstAt: this.now() };
      this.sets.set(key, set);
      this.arm();
    }
    if (set.parts[info.seq - 1]) return { kind: 'duplicate' };
    set.parts[info.seq - 1] = { seq: info.seq, text, item };
    set.arrived++;
    if (set.arrived < set.total) return { kind: 'pending' };
    this.sets.delete(key);
    return { kind: 'complete', set: this.view(set, true) };
  }

  /** Flush sets older than the timeout; called by the timer, public for tests with a fake clock. */
  sweep(): void {
    const limit = this.now() - this.timeoutMs;
    // Insertion order is age order, so stop at the first young set.
    for (const set of this.sets.values()) {
      if (set.firstAt > limit) break;
      this.sets.delete(set.key);
      this.onFlush(this.view(set, false), 'timeout');
    }
    if (this.sets.size === 0) this.disarm();
  }

  /** Remove and return the parts whose item matches (an ESME that went away: its parts can no longer be answered). */
  remove(match: (item: T) => boolean): T[] {
    const removed: T[] = [];
    for (const set of [...this.sets.values()]) {
      for (let i = 0; i < set.parts.length; i++) {
        const p = set.parts[i];
        if (p && match(p.item)) {
          removed.push(p.item);
          set.parts[i] = undefined;
          set.arrived--;
        }
      }
      if (set.arrived === 0) this.sets.delete(set.key);
    }
    if (this.sets.size === 0) this.disarm();
    return removed;
  }

  /** Flush every waiting set (shutdown): each is judged on what arrived. */
  flushAll(reason: FlushReason = 'closed'): void {
    for (const set of [...this.sets.values()]) {
      this.sets.delete(set.key);
      this.onFlush(this.view(set, false), reason);
    }
    this.disarm();
  }

  close(): void {
    this.disarm();
  }

  private flushOldest(reason: FlushReason): void {
    const first = this.sets.values().next();
    if (first.done) return;
    this.sets.delete(first.value.key);
    this.onFlush(this.view(first.value, false), reason);
  }

  private view(set: Pending<T>, complete: boolean): SegmentSet<T> {
    const parts = set.parts.filter((p): p is Segment<T> => p !== undefined);
    return { key: set.key, reference: set.reference, total: set.total, parts, complete, text: parts.map((p) => p.text).join(''), firstAt: set.firstAt };
  }

  private arm(): void {
    if (this.timer) return;
    const period = Math.max(10, Math.min(1000, Math.floor(this.timeoutMs / 4)));
    this.timer = setInterval(() => this.sweep(), period);
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
