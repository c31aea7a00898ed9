/**
 * The subscriber store on the embedded SQLite database: subscribers and their rules, spam
 * boxes, feedback, the audit trail and a change sequence other processes follow. WAL mode and
 * foreign keys come from `openDatabase`; the tables are the `subscribers` component's own,
 * migrated on open.
 *
 * Rules are one JSON document per subscriber rather than a row per rule: a subscriber's rules
 * are always read and written whole (the engine takes them whole), a change is one row, and
 * loading a million subscribers is a million rows, not ten million.
 *
 * Spam box ids are per subscriber (1, 2, 3… for each), so the numbers a subscriber sees are
 * small, stable and say nothing about anyone else's traffic.
 *
 * Durability: every change is one transaction. With WAL and `synchronous = NORMAL` (the
 * default) a committed transaction survives the process being killed, but the last few may be
 * lost if the machine loses power; `synchronous: 'full'` makes each commit wait for fsync.
 */
import { startBackgroundCheckpoints, type BackgroundCheckpoints } from './checkpointer.js';
import { openDatabase, migrate, type Db, type Migration } from './db.js';
import type { Verdict } from '../engine/types.js';
import { SubscriberRuleError } from '../rules/subscriber.js';
import type { QuietWindow, SubscriberRules } from '../rules/subscriber-types.js';
import type { Actor, FeedbackLabel, Page, SpamBoxItem } from '../service/types.js';
import type { AuditEntry, AuditRecord, ChangeSet, NewSpamBoxItem, SpamBoxSummary, StoredFeedback, SubscriberRepository } from './subscriber-repository.js';

export * from './subscriber-repository.js';

const COMPONENT = 'subscribers';

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'subscribers, spam boxes, feedback, audit trail and change sequence',
    up(db) {
      db.exec(`
        CREATE TABLE subscribers (
          number TEXT PRIMARY KEY,
          rules TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE subscriber_changes (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          subscriber TEXT NOT NULL,
          at INTEGER NOT NULL
        );
        CREATE TABLE subscriber_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE spambox_owners (
          subscriber TEXT PRIMARY KEY,
          last_id INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE spambox (
          subscriber TEXT NOT NULL REFERENCES spambox_owners(subscriber) ON DELETE CASCADE,
          id INTEGER NOT NULL,
          sender TEXT NOT NULL,
          text TEXT NOT NULL,
          sent_at INTEGER NOT NULL,
          stored_at INTEGER NOT NULL,
          verdict TEXT NOT NULL,
          message_id TEXT,
          UNIQUE (subscriber, id)
        );
        CREATE INDEX spambox_stored_at ON spambox (stored_at);
        CREATE TABLE feedback (
          subscriber TEXT NOT NULL,
          digest TEXT NOT NULL,
          label TEXT NOT NULL CHECK (label IN ('spam', 'ham')),
          at INTEGER NOT NULL,
          PRIMARY KEY (subscriber, digest)
        ) WITHOUT ROWID;
        CREATE TABLE feedback_events (
          id INTEGER PRIMARY KEY,
          subscriber TEXT NOT NULL,
          at INTEGER NOT NULL
        );
        CREATE INDEX feedback_events_by_subscriber ON feedback_events (subscriber, at);
        CREATE TABLE audit (
          id INTEGER PRIMARY KEY,
          at INTEGER NOT NULL,
          actor_kind TEXT NOT NULL,
          actor TEXT NOT NULL,
          channel TEXT,
          subscriber TEXT,
          action TEXT NOT NULL,
          detail TEXT
        );
        CREATE INDEX audit_by_subscriber ON audit (subscriber, id);
      `);
    },
  },
];

export const SUBSCRIBERS_SCHEMA_VERSION = MIGRATIONS.length;

export interface SqliteStoreOptions {
  /** `normal` (default): survives a process crash; `full`: also a power loss, at an fsync a commit. */
  readonly synchronous?: 'normal' | 'full';
  /**
   * WAL checkpoints in a worker thread instead of inside a commit (store/checkpointer.ts): for
   * servers, whose request latency would otherwise carry the checkpoint's fsync.
   */
  readonly backgroundCheckpoints?: boolean;
  /** Where checkpoint problems are reported (with backgroundCheckpoints). */
  readonly onCheckpointError?: (message: string) => void;
}

interface SpamBoxRow {
  subscriber: string;
  id: number;
  sender: string;
  text: string;
  sent_at: number;
  stored_at: number;
  verdict: string;
  message_id: string | null;
}

function toItem(row: SpamBoxRow): SpamBoxItem {
  const item: { -readonly [K in keyof SpamBoxItem]: SpamBoxItem[K] } = {
    id: row.id,
    subscriber: row.subscriber,
    from: row.sender,
    text: row.text,
    time: row.sent_at,
    storedAt: row.stored_at,
    verdict: JSON.parse(row.verdict) as Verdict,
  };
  if (row.message_id !== null) item.messageId = row.message_id;
  return item;
}

const EMPTY: readonly never[] = Object.freeze([]);

/** Stored rules that are not what this version wrote (edited by hand, damaged): named, never fatal to the engine. */
export class CorruptRulesError extends SubscriberRuleError {
  constructor(readonly subscriber: string, detail: string) {
    super(`the stored rules of ${subscriber} are damaged (${detail}); set them again`, 'rules');
    this.name = 'CorruptRulesError';
  }
}

const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** Rules as stored: only the fields of SubscriberRules, empty lists shared to save memory at a million subscribers. */
export function parseStoredRules(json: string, subscriber: string): SubscriberRules {
  let r: Partial<Record<keyof SubscriberRules, unknown>>;
  try {
    r = JSON.parse(json) as typeof r;
  } catch (err) {
    throw new CorruptRulesError(subscriber, (err as Error).message);
  }
  if (r === null || typeof r !== 'object') throw new CorruptRulesError(subscriber, 'not an object');
  const list = (name: 'block' | 'allow' | 'keywords'): readonly string[] => {
    const v = r[name] ?? [];
    if (!isStringList(v)) throw new CorruptRulesError(subscriber, `${name} is not a list of strings`);
    return v.length > 0 ? v : EMPTY;
  };
  const quiet = r.quiet ?? [];
  if (!Array.isArray(quiet) || !quiet.every((q: { from?: unknown; to?: unknown }) => q !== null && typeof q === 'object' && typeof q.from === 'string' && typeof q.to === 'string')) {
    throw new CorruptRulesError(subscriber, 'quiet is not a list of windows');
  }
  return { block: list('block'), allow: list('allow'), keywords: list('keywords'), quiet: quiet.length > 0 ? (quiet as QuietWindow[]) : EMPTY, enabled: r.enabled !== false };
}

/**
 * Rules kept as their stored JSON until first read: loading a million subscribers parses none
 * of them, and a subscriber who never gets a message costs a short string, not a tree of arrays.
 */
class StoredRules implements SubscriberRules {
  private json: string;
  private parsed: SubscriberRules | undefined;

  constructor(
    private readonly subscriber: string,
    json: string,
  ) {
    this.json = json;
  }

  /** Throws CorruptRulesError, a SubscriberRuleError: the engine then ignores this subscriber's rules. */
  private get value(): SubscriberRules {
    if (this.parsed === undefined) {
      this.parsed = parseStoredRules(this.json, this.subscriber);
      this.json = '';
    }
    return this.parsed;
  }

  get block(): readonly string[] {
    return this.value.block;
  }
  get allow(): readonly string[] {
    return this.value.allow;
  }
  get keywords(): readonly string[] {
    return this.value.keywords;
  }
  get quiet(): SubscriberRules['quiet'] {
    return this.value.quiet;
  }
  get enabled(): boolean {
    return this.value.enabled;
  }
  toJSON(): SubscriberRules {
    return this.value;
  }
}

export function serialiseRules(rules: SubscriberRules): string {
  return JSON.stringify({ block: rules.block, allow: rules.allow, keywords: rules.keywords, quiet: rules.quiet, enabled: rules.enabled });
}

function actorName(actor: Actor): { kind: string; name: string; channel: string | null } {
  return actor.kind === 'operator' ? { kind: 'operator', name: actor.name, channel: null } : { kind: 'subscriber', name: actor.number, channel: actor.channel };
}

export class SqliteSubscriberStore implements SubscriberRepository {
  readonly db: Db;
  private readonly s;
  private checkpoints: BackgroundCheckpoints | undefined;

  /** Open (creating and migrating when needed) the subscriber tables in a database file. */
  static open(path: string, options: SqliteStoreOptions = {}): SqliteSubscriberStore {
    const db = openDatabase(path);
    try {
      if (options.synchronous === 'full') db.pragma('synchronous = FULL');
      migrate(db, COMPONENT, MIGRATIONS);
      const store = new SqliteSubscriberStore(db);
      if (options.backgroundCheckpoints) {
        store.checkpoints = startBackgroundCheckpoints(db, path, options.onCheckpointError ? { onError: options.onCheckpointError } : {});
      }
      return store;
    } catch (err) {
      db.close();
      throw err;
    }
  }

  private constructor(db: Db) {
    this.db = db;
    this.s = {
      getRules: db.prepare<[string], { rules: string }>('SELECT rules FROM subscribers WHERE number = ?'),
      putRules: db.prepare(
        'INSERT INTO subscribers (number, rules, created_at, updated_at) VALUES (?, ?, ?, ?) ' +
          'ON CONFLICT(number) DO UPDATE SET rules = excluded.rules, updated_at = excluded.updated_at',
      ),
      deleteRules: db.prepare('DELETE FROM subscribers WHERE number = ?'),
      deleteOwner: db.prepare('DELETE FROM spambox_owners WHERE subscriber = ?'),
      deleteFeedback: db.prepare('DELETE FROM feedback WHERE subscriber = ?'),
      change: db.prepare('INSERT INTO subscriber_changes (subscriber, at) VALUES (?, ?)'),
      currentSeq: db.prepare<[], { seq: number | null }>("SELECT seq FROM sqlite_sequence WHERE name = 'subscriber_changes'"),
      changesSince: db.prepare<[number, number], { seq: number; subscriber: string; rules: string | null }>(
        'SELECT c.seq, c.subscriber, s.rules FROM subscriber_changes c LEFT JOIN subscribers s ON s.number = c.subscriber WHERE c.seq > ? ORDER BY c.seq LIMIT ?',
      ),
      meta: db.prepare<[string], { value: string }>('SELECT value FROM subscriber_meta WHERE key = ?'),
      setMeta: db.prepare('INSERT INTO subscriber_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      pruneChanges: db.prepare<[number], { seq: number | null }>('SELECT max(seq) AS seq FROM subscriber_changes WHERE at < ?'),
      deleteChanges: db.prepare('DELETE FROM subscriber_changes WHERE seq <= ?'),
      list: db.prepare<[number, number], { number: string }>('SELECT number FROM subscribers ORDER BY number LIMIT ? OFFSET ?'),
      count: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM subscribers'),
      nextId: db.prepare<[string], { last_id: number }>(
        'INSERT INTO spambox_owners (subscriber, last_id) VALUES (?, 1) ON CONFLICT(subscriber) DO UPDATE SET last_id = last_id + 1 RETURNING last_id',
      ),
      insertItem: db.prepare('INSERT INTO spambox (subscriber, id, sender, text, sent_at, stored_at, verdict, message_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      evict: db.prepare(
        'DELETE FROM spambox WHERE subscriber = ? AND id <= (SELECT id FROM spambox WHERE subscriber = ? ORDER BY id DESC LIMIT 1 OFFSET ?)',
      ),
      listItems: db.prepare<[string, number, number], SpamBoxRow>('SELECT * FROM spambox WHERE subscriber = ? ORDER BY id DESC LIMIT ? OFFSET ?'),
      countItems: db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM spambox WHERE subscriber = ?'),
      getItem: db.prepare<[string, number], SpamBoxRow>('SELECT * FROM spambox WHERE subscriber = ? AND id = ?'),
      deleteItem: db.prepare('DELETE FROM spambox WHERE subscriber = ? AND id = ?'),
      purge: db.prepare('DELETE FROM spambox WHERE stored_at < ?'),
      summaryCount: db.prepare<[string, number], { n: number; senders: number }>('SELECT count(*) AS n, count(DISTINCT sender) AS senders FROM spambox WHERE subscriber = ? AND stored_at >= ?'),
      summarySenders: db.prepare<[string, number, number], { sender: string; n: number }>(
        'SELECT sender, count(*) AS n FROM spambox WHERE subscriber = ? AND stored_at >= ? GROUP BY sender ORDER BY n DESC, max(id) DESC LIMIT ?',
      ),
      ownersSince: db.prepare<[number, number, number], { subscriber: string }>(
        'SELECT DISTINCT subscriber FROM spambox WHERE stored_at >= ? ORDER BY subscriber LIMIT ? OFFSET ?',
      ),
      getFeedback: db.prepare<[string, string], { label: FeedbackLabel; at: number }>('SELECT label, at FROM feedback WHERE subscriber = ? AND digest = ?'),
      putFeedback: db.prepare(
        'INSERT INTO feedback (subscriber, digest, label, at) VALUES (?, ?, ?, ?) ON CONFLICT(subscriber, digest) DO UPDATE SET label = excluded.label, at = excluded.at',
      ),
      feedbackEvent: db.prepare('INSERT INTO feedback_events (subscriber, at) VALUES (?, ?)'),
      countFeedback: db.prepare<[string, number], { n: number }>('SELECT count(*) AS n FROM feedback_events WHERE subscriber = ? AND at >= ?'),
      pruneFeedbackEvents: db.prepare('DELETE FROM feedback_events WHERE at < ?'),
      audit: db.prepare('INSERT INTO audit (at, actor_kind, actor, channel, subscriber, action, detail) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    };
  }

  loadAll(each: (subscriber: string, rules: SubscriberRules) => void): number {
    // One read transaction, so the rows and the sequence number agree.
    return this.db.transaction(() => {
      const seq = this.currentSeq();
      const rows = this.db.prepare('SELECT number, rules FROM subscribers').raw().iterate() as IterableIterator<[string, string]>;
      for (const [number, rules] of rows) each(number, new StoredRules(number, rules));
      return seq;
    })();
  }

  getRules(subscriber: string): SubscriberRules | undefined {
    const row = this.s.getRules.get(subscriber);
    return row ? parseStoredRules(row.rules, subscriber) : undefined;
  }

  private writeAudit(entry: AuditEntry): void {
    const a = actorName(entry.actor);
    this.s.audit.run(entry.at, a.kind, a.name, a.channel, entry.subscriber, entry.action, entry.detail ? JSON.stringify(entry.detail) : null);
  }

  private recordChange(subscriber: string, at: number): number {
    return Number(this.s.change.run(subscriber, at).lastInsertRowid);
  }

  putRules(subscriber: string, rules: SubscriberRules, audit: AuditEntry): number {
    return this.db.transaction(() => {
      this.s.putRules.run(subscriber, serialiseRules(rules), audit.at, audit.at);
      this.writeAudit(audit);
      return this.recordChange(subscriber, audit.at);
    })();
  }

  updateRules(
    subscriber: string,
    update: (current: SubscriberRules | undefined) => { rules: SubscriberRules; audit: AuditEntry } | undefined,
  ): { rules: SubscriberRules; seq: number } | undefined {
    // IMMEDIATE takes the write lock before reading, so no other writer slips in between.
    return this.db
      .transaction(() => {
        const row = this.s.getRules.get(subscriber);
        const next = update(row ? parseStoredRules(row.rules, subscriber) : undefined);
        if (next === undefined) return undefined;
        this.s.putRules.run(subscriber, serialiseRules(next.rules), next.audit.at, next.audit.at);
        this.writeAudit(next.audit);
        return { rules: next.rules, seq: this.recordChange(subscriber, next.audit.at) };
      })
      .immediate();
  }

  putMany(entries: Iterable<readonly [string, SubscriberRules]>, audit: Omit<AuditEntry, 'subscriber'>): number {
    return this.db.transaction(() => {
      let n = 0;
      for (const [subscriber, rules] of entries) {
        this.s.putRules.run(subscriber, serialiseRules(rules), audit.at, audit.at);
        this.recordChange(subscriber, audit.at);
        n++;
      }
      this.writeAudit({ ...audit, subscriber: null, detail: { ...audit.detail, subscribers: n } });
      return n;
    })();
  }

  deleteSubscriber(subscriber: string, audit: AuditEntry): number | undefined {
    return this.db.transaction(() => {
      const rules = this.s.deleteRules.run(subscriber).changes;
      const box = this.s.deleteOwner.run(subscriber).changes; // cascades to the spam box
      this.s.deleteFeedback.run(subscriber);
      if (rules === 0 && box === 0) return undefined;
      this.writeAudit(audit);
      return this.recordChange(subscriber, audit.at);
    })();
  }

  listSubscribers(limit: number, offset: number): Page<string> {
    return this.db.transaction(() => ({ items: this.s.list.all(limit, offset).map((r) => r.number), total: this.countSubscribers() }))();
  }

  countSubscribers(): number {
    return this.s.count.get()!.n;
  }

  currentSeq(): number {
    return this.s.currentSeq.get()?.seq ?? 0;
  }

  changesSince(seq: number, limit: number): ChangeSet {
    return this.db.transaction((): ChangeSet => {
      const prunedThrough = Number(this.s.meta.get('changes_pruned_through')?.value ?? 0);
      if (seq < prunedThrough) return { kind: 'reload', seq: this.currentSeq() };
      const rows = this.s.changesSince.all(seq, limit);
      // A subscriber changed several times counts once, with the rules they have now.
      const latest = new Map<string, string | null>();
      for (const r of rows) latest.set(r.subscriber, r.rules);
      const changes = [...latest].map(([subscriber, rules]) => ({ subscriber, rules: rules === null ? undefined : new StoredRules(subscriber, rules) }));
      return { kind: 'changes', seq: rows.length > 0 ? rows[rows.length - 1]!.seq : seq, changes, more: rows.length === limit };
    })();
  }

  addSpamBoxItem(item: NewSpamBoxItem, capacity: number): { id: number; evicted: number } {
    return this.db.transaction(() => {
      const id = this.s.nextId.get(item.subscriber)!.last_id;
      this.s.insertItem.run(item.subscriber, id, item.from, item.text, item.time, item.storedAt, JSON.stringify(item.verdict), item.messageId ?? null);
      // Ids only grow, so a box whose newest id is within the capacity cannot be over it.
      const evicted = id > capacity ? this.s.evict.run(item.subscriber, item.subscriber, capacity).changes : 0;
      return { id, evicted };
    })();
  }

  listSpamBox(subscriber: string, limit: number, offset: number): Page<SpamBoxItem> {
    return this.db.transaction(() => ({
      items: this.s.listItems.all(subscriber, limit, offset).map(toItem),
      total: this.s.countItems.get(subscriber)!.n,
    }))();
  }

  getSpamBoxItem(subscriber: string, id: number): SpamBoxItem | undefined {
    const row = this.s.getItem.get(subscriber, id);
    return row ? toItem(row) : undefined;
  }

  takeSpamBoxItem(subscriber: string, id: number, audit: AuditEntry): SpamBoxItem | undefined {
    return this.db
      .transaction(() => {
        const row = this.s.getItem.get(subscriber, id);
        if (!row) return undefined;
        this.s.deleteItem.run(subscriber, id);
        this.writeAudit(audit);
        return toItem(row);
      })
      .immediate();
  }

  deleteSpamBoxItem(subscriber: string, id: number, audit: AuditEntry): boolean {
    return this.db.transaction(() => {
      if (this.s.deleteItem.run(subscriber, id).changes === 0) return false;
      this.writeAudit(audit);
      return true;
    })();
  }

  purgeSpamBox(before: number): number {
    return this.s.purge.run(before).changes;
  }

  spamBoxSummary(subscriber: string, since: number, maxSenders: number): SpamBoxSummary {
    return this.db.transaction(() => {
      const total = this.s.summaryCount.get(subscriber, since)!;
      const senders = this.s.summarySenders.all(subscriber, since, maxSenders).map((r) => ({ from: r.sender, count: r.n }));
      return { count: total.n, senders, senderCount: total.senders };
    })();
  }

  spamBoxOwnersSince(since: number, limit: number, offset: number): readonly string[] {
    return this.s.ownersSince.all(since, limit, offset).map((r) => r.subscriber);
  }

  getFeedback(subscriber: string, digest: string): StoredFeedback | undefined {
    return this.s.getFeedback.get(subscriber, digest);
  }

  countFeedback(subscriber: string, since: number): number {
    return this.s.countFeedback.get(subscriber, since)!.n;
  }

  recordFeedback(subscriber: string, digest: string, label: FeedbackLabel, audit: AuditEntry): void {
    this.db.transaction(() => {
      this.s.putFeedback.run(subscriber, digest, label, audit.at);
      this.s.feedbackEvent.run(subscriber, audit.at);
      this.writeAudit(audit);
    })();
  }

  audit(entry: AuditEntry): void {
    this.writeAudit(entry);
  }

  listAudit(options: { subscriber?: string; limit: number; offset?: number }): Page<AuditRecord> {
    const where = options.subscriber !== undefined ? 'WHERE subscriber = ?' : '';
    const params = options.subscriber !== undefined ? [options.subscriber] : [];
    type Row = { id: number; at: number; actor_kind: string; actor: string; channel: string | null; subscriber: string | null; action: string; detail: string | null };
    return this.db.transaction(() => {
      const rows = this.db.prepare(`SELECT * FROM audit ${where} ORDER BY id DESC LIMIT ? OFFSET ?`).all(...params, options.limit, options.offset ?? 0) as Row[];
      const total = (this.db.prepare(`SELECT count(*) AS n FROM audit ${where}`).get(...params) as { n: number }).n;
      const items = rows.map((r): AuditRecord => {
        const actor: Actor =
          r.actor_kind === 'operator' ? { kind: 'operator', name: r.actor } : { kind: 'subscriber', number: r.actor, channel: (r.channel ?? 'client') as 'sms' | 'http' | 'client' };
        return { id: r.id, at: r.at, actor, subscriber: r.subscriber, action: r.action, ...(r.detail ? { detail: JSON.parse(r.detail) as Record<string, unknown> } : {}) };
      });
      return { items, total };
    })();
  }

  pruneHistory(before: number): void {
    this.db.transaction(() => {
      const through = this.s.pruneChanges.get(before)?.seq;
      if (through != null) {
        this.s.deleteChanges.run(through);
        this.s.setMeta.run('changes_pruned_through', String(through));
      }
      this.s.pruneFeedbackEvents.run(before);
    }).immediate();
  }

  close(): void {
    this.checkpoints?.stop();
    if (this.db.open) this.db.close();
  }
}
