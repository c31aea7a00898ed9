/**
 * What the subscriber service needs from persistence, as an interface: the embedded SQLite
 * store (`subscribers.ts`) implements it today; a PostgreSQL or Redis backend is another
 * implementation of the same methods, not a change to the service. Every method that changes
 * more than one row is atomic: all of it or none of it.
 *
 * Numbers are canonical (E.164 or short code) by the time they reach a repository; rules were
 * validated by the service. The repository never sees an engine.
 */
import type { Actor, FeedbackLabel, Page, SpamBoxItem } from '../service/types.js';
import type { SubscriberRules } from '../rules/subscriber-types.js';

/** One line of the audit trail: who changed what, never message text. */
export interface AuditEntry {
  readonly at: number;
  readonly actor: Actor;
  readonly subscriber: string | null;
  /** e.g. `rules.set`, `rules.add`, `subscriber.delete`, `spambox.release`, `feedback`. */
  readonly action: string;
  readonly detail?: Readonly<Record<string, unknown>>;
}

export interface AuditRecord extends AuditEntry {
  readonly id: number;
}

/** A message to hold, as the service hands it to the store: the store gives it its id. */
export type NewSpamBoxItem = Omit<SpamBoxItem, 'id'>;

export interface StoredFeedback {
  readonly label: FeedbackLabel;
  readonly at: number;
}

export interface SpamBoxSummary {
  readonly count: number;
  /** Senders by how many messages they sent, most first. */
  readonly senders: ReadonlyArray<{ readonly from: string; readonly count: number }>;
  /** Distinct senders in all, listed or not. */
  readonly senderCount: number;
}

/**
 * Rule changes after a point in the change sequence, oldest first and at most `limit` of them:
 * each changed subscriber with their rules now (undefined: deleted), and the sequence number to
 * continue from; or `reload` when the sequence was pruned past that point and the caller must
 * load everything.
 */
export type ChangeSet =
  | {
      readonly kind: 'changes';
      readonly seq: number;
      readonly changes: ReadonlyArray<{ readonly subscriber: string; readonly rules: SubscriberRules | undefined }>;
      /** More changes wait after `seq`. */
      readonly more: boolean;
    }
  | { readonly kind: 'reload'; readonly seq: number };

export interface SubscriberRepository {
  /** Stream every subscriber's rules (for loading the engine); returns the change sequence they reflect. */
  loadAll(each: (subscriber: string, rules: SubscriberRules) => void): number;
  getRules(subscriber: string): SubscriberRules | undefined;
  /** Store rules (insert or replace) with their audit line; returns the change sequence number. */
  putRules(subscriber: string, rules: SubscriberRules, audit: AuditEntry): number;
  /**
   * Read-modify-write of one subscriber's rules, atomic against other writers (other
   * processes included): `update` gets the rules as stored (undefined: none) and returns the
   * rules to store with their audit line, or undefined to change nothing. An exception from
   * `update` changes nothing. Returns what was stored and its change sequence number.
   */
  updateRules(
    subscriber: string,
    update: (current: SubscriberRules | undefined) => { readonly rules: SubscriberRules; readonly audit: AuditEntry } | undefined,
  ): { readonly rules: SubscriberRules; readonly seq: number } | undefined;
  /** Many subscribers in one transaction (import); returns how many were written. */
  putMany(entries: Iterable<readonly [string, SubscriberRules]>, audit: Omit<AuditEntry, 'subscriber'>): number;
  /** Remove a subscriber's rules and spam box; returns the change sequence number, or undefined when unknown. */
  deleteSubscriber(subscriber: string, audit: AuditEntry): number | undefined;
  listSubscribers(limit: number, offset: number): Page<string>;
  countSubscribers(): number;
  changesSince(seq: number, limit: number): ChangeSet;
  /** The latest change sequence number. */
  currentSeq(): number;

  /** Hold a message, evicting the oldest beyond `capacity`; durable when this returns. */
  addSpamBoxItem(item: NewSpamBoxItem, capacity: number): { readonly id: number; readonly evicted: number };
  listSpamBox(subscriber: string, limit: number, offset: number): Page<SpamBoxItem>;
  getSpamBoxItem(subscriber: string, id: number): SpamBoxItem | undefined;
  /** Remove and return an item (release), with its audit line, atomically. */
  takeSpamBoxItem(subscriber: string, id: number, audit: AuditEntry): SpamBoxItem | undefined;
  deleteSpamBoxItem(subscriber: string, id: number, audit: AuditEntry): boolean;
  /** Drop items stored before `before` (epoch ms); returns how many. */
  purgeSpamBox(before: number): number;
  spamBoxSummary(subscriber: string, since: number, maxSenders: number): SpamBoxSummary;
  /** Subscribers with messages stored since `since`, in number order (the recipients of a digest run). */
  spamBoxOwnersSince(since: number, limit: number, offset: number): readonly string[];

  getFeedback(subscriber: string, digest: string): StoredFeedback | undefined;
  /** Feedback events (each report or relabel) by this subscriber since `since`. */
  countFeedback(subscriber: string, since: number): number;
  recordFeedback(subscriber: string, digest: string, label: FeedbackLabel, audit: AuditEntry): void;

  audit(entry: AuditEntry): void;
  listAudit(options: { readonly subscriber?: string; readonly limit: number; readonly offset?: number }): Page<AuditRecord>;
  /** Drop bookkeeping older than `before`: the change sequence and rate-limit events. */
  pruneHistory(before: number): void;
  close(): void;
}
