/**
 * The subscriber repository in memory: nothing survives the process. For tests, for embedders
 * that keep subscribers elsewhere and load them at start, and as the second implementation that
 * keeps `SubscriberRepository` honest (the same behaviour suite runs on both, in
 * test/service/backends.test.ts). Single-threaded JavaScript makes every method atomic; each
 * changes nothing before it has checked everything.
 */
import type { SubscriberRules } from '../rules/subscriber-types.js';
import type { FeedbackLabel, Page, SpamBoxItem } from '../service/types.js';
import type { AuditEntry, AuditRecord, ChangeSet, NewSpamBoxItem, SpamBoxSummary, StoredFeedback, SubscriberRepository } from './subscriber-repository.js';

interface Box {
  lastId: number;
  /** Oldest first (ids ascending). */
  items: SpamBoxItem[];
}

const page = <T>(all: readonly T[], limit: number, offset: number): Page<T> => ({ items: all.slice(offset, offset + limit), total: all.length });

export class MemorySubscriberRepository implements SubscriberRepository {
  private readonly subscribers = new Map<string, SubscriberRules>();
  private changes: Array<{ seq: number; subscriber: string; at: number }> = [];
  private seq = 0;
  private prunedThrough = 0;
  private readonly boxes = new Map<string, Box>();
  private readonly feedback = new Map<string, StoredFeedback>();
  private readonly events = new Map<string, number[]>();
  private readonly auditTrail: AuditRecord[] = [];

  loadAll(each: (subscriber: string, rules: SubscriberRules) => void): number {
    for (const [n, r] of this.subscribers) each(n, r);
    return this.seq;
  }

  getRules(subscriber: string): SubscriberRules | undefined {
    return this.subscribers.get(subscriber);
  }

  private change(subscriber: string, at: number): number {
    this.changes.push({ seq: ++this.seq, subscriber, at });
    return this.seq;
  }

  putRules(subscriber: string, rules: SubscriberRules, audit: AuditEntry): number {
    this.subscribers.set(subscriber, rules);
    this.audit(audit);
    return this.change(subscriber, audit.at);
  }

  updateRules(
    subscriber: string,
    update: (current: SubscriberRules | undefined) => { rules: SubscriberRules; audit: AuditEntry } | undefined,
  ): { rules: SubscriberRules; seq: number } | undefined {
    const next = update(this.subscribers.get(subscriber));
    if (next === undefined) return undefined;
    return { rules: next.rules, seq: this.putRules(subscriber, next.rules, next.audit) };
  }

  putMany(entries: Iterable<readonly [string, SubscriberRules]>, audit: Omit<AuditEntry, 'subscriber'>): number {
    const all = [...entries];
    for (const [n, r] of all) {
      this.subscribers.set(n, r);
      this.change(n, audit.at);
    }
    this.audit({ ...audit, subscriber: null, detail: { ...audit.detail, subscribers: all.length } });
    return all.length;
  }

  deleteSubscriber(subscriber: string, audit: AuditEntry): number | undefined {
    const had = this.subscribers.delete(subscriber);
    const box = this.boxes.delete(subscriber);
    for (const key of this.feedback.keys()) if (key.startsWith(subscriber + '\0')) this.feedback.delete(key);
    if (!had && !box) return undefined;
    this.audit(audit);
    return this.change(subscriber, audit.at);
  }

  listSubscribers(limit: number, offset: number): Page<string> {
    return page([...this.subscribers.keys()].sort(), limit, offset);
  }

  countSubscribers(): number {
    return this.subscribers.size;
  }

  changesSince(seq: number, limit: number): ChangeSet {
    if (seq < this.prunedThrough) return { kind: 'reload', seq: this.seq };
    const rows = this.changes.filter((c) => c.seq > seq).slice(0, limit);
    const latest = new Set(rows.map((r) => r.subscriber));
    return {
      kind: 'changes',
      seq: rows.length > 0 ? rows[rows.length - 1]!.seq : seq,
      changes: [...latest].map((subscriber) => ({ subscriber, rules: this.subscribers.get(subscriber) })),
      more: rows.length === limit,
    };
  }

  currentSeq(): number {
    return this.seq;
  }

  addSpamBoxItem(item: NewSpamBoxItem, capacity: number): { id: number; evicted: number } {
    const box = this.boxes.get(item.subscriber) ?? { lastId: 0, items: [] };
    this.boxes.set(item.subscriber, box);
    const id = ++box.lastId;
    box.items.push({ ...item, id });
    const evicted = Math.max(0, box.items.length - capacity);
    if (evicted > 0) box.items.splice(0, evicted);
    return { id, evicted };
  }

  listSpamBox(subscriber: string, limit: number, offset: number): Page<SpamBoxItem> {
    return page([...(this.boxes.get(subscriber)?.items ?? [])].reverse(), limit, offset);
  }

  getSpamBoxItem(subscriber: string, id: number): SpamBoxItem | undefined {
    return this.boxes.get(subscriber)?.items.find((i) => i.id === id);
  }

  takeSpamBoxItem(subscriber: string, id: number, audit: AuditEntry): SpamBoxItem | undefined {
    const box = this.boxes.get(subscriber);
    const at = box?.items.findIndex((i) => i.id === id) ?? -1;
    if (!box || at < 0) return undefined;
    const [item] = box.items.splice(at, 1);
    this.audit(audit);
    return item;
  }

  deleteSpamBoxItem(subscriber: string, id: number, audit: AuditEntry): boolean {
    return this.takeSpamBoxItem(subscriber, id, audit) !== undefined;
  }

  purgeSpamBox(before: number): number {
    let n = 0;
    for (const box of this.boxes.values()) {
      const keep = box.items.filter((i) => i.storedAt >= before);
      n += box.items.length - keep.length;
      box.items = keep;
    }
    return n;
  }

  spamBoxSummary(subscriber: string, since: number, maxSenders: number): SpamBoxSummary {
    const items = (this.boxes.get(subscriber)?.items ?? []).filter((i) => i.storedAt >= since);
    const bySender = new Map<string, { count: number; newest: number }>();
    for (const i of items) {
      const s = bySender.get(i.from) ?? { count: 0, newest: 0 };
      bySender.set(i.from, { count: s.count + 1, newest: Math.max(s.newest, i.id) });
    }
    const senders = [...bySender]
      .sort((a, b) => b[1].count - a[1].count || b[1].newest - a[1].newest)
      .slice(0, maxSenders)
      .map(([from, s]) => ({ from, count: s.count }));
    return { count: items.length, senders, senderCount: bySender.size };
  }

  spamBoxOwnersSince(since: number, limit: number, offset: number): readonly string[] {
    const owners = [...this.boxes].filter(([, b]) => b.items.some((i) => i.storedAt >= since)).map(([n]) => n);
    return owners.sort().slice(offset, offset + limit);
  }

  getFeedback(subscriber: string, digest: string): StoredFeedback | undefined {
    return this.feedback.get(subscriber + '\0' + digest);
  }

  countFeedback(subscriber: string, since: number): number {
    return (this.events.get(subscriber) ?? []).filter((t) => t >= since).length;
  }

  recordFeedback(subscriber: string, digest: string, label: FeedbackLabel, audit: AuditEntry): void {
    this.feedback.set(subscriber + '\0' + digest, { label, at: audit.at });
    this.events.set(subscriber, [...(this.events.get(subscriber) ?? []), audit.at]);
    this.audit(audit);
  }

  audit(entry: AuditEntry): void {
    this.auditTrail.push({ ...entry, id: this.auditTrail.length + 1 });
  }

  listAudit(options: { subscriber?: string; limit: number; offset?: number }): Page<AuditRecord> {
    const all = this.auditTrail.filter((a) => options.subscriber === undefined || a.subscriber === options.subscriber).reverse();
    return page(all, options.limit, options.offset ?? 0);
  }

  pruneHistory(before: number): void {
    const old = this.changes.filter((c) => c.at < before);
    if (old.length > 0) this.prunedThrough = Math.max(this.prunedThrough, old[old.length - 1]!.seq);
    this.changes = this.changes.filter((c) => c.seq > this.prunedThrough);
    for (const [s, times] of this.events) this.events.set(s, times.filter((t) => t >= before));
  }

  close(): void {
    // nothing to release
  }
}
