/**
 * The subscriber service (ITU-T X.1242) over an engine and a repository: every message goes
 * through `process`, rule changes reach the engine at once (and other processes' changes on
 * `refresh`), quarantined messages are in the spam box before `process` returns, and the SMS
 * command channel, feedback and the audit trail all go through here.
 *
 * Everything is synchronous: better-sqlite3 commits before returning, so "acknowledged" means
 * "in the database file" (see docs/subscribers.md on durability).
 */
import pino, { type Logger } from 'pino';
import { BayesClassifier, Trainer, TokenStore, messageDigest } from '../bayes/index.js';
import type { Engine } from '../engine/engine.js';
import type { Verdict } from '../engine/types.js';
import type { MessageInput } from '../message/types.js';
import { compilePattern, PatternError } from '../rules/patterns.js';
import { compileSubscriber, SubscriberRuleError } from '../rules/subscriber.js';
import { emptySubscriberRules, type QuietWindow, type SubscriberRules } from '../rules/subscriber-types.js';
import { defaultDatabasePath } from '../store/db.js';
import { CorruptRulesError, serialiseRules, SqliteSubscriberStore, type AuditRecord, type SpamBoxSummary, type SubscriberRepository } from '../store/subscribers.js';
import { phraseWords } from '../text/analysis.js';
import { gsmLength, SMS_SEPTETS, toGsm } from './gsm.js';
import { DEFAULT_REPLIES, fitList, shown, toSms, type Replies } from './replies.js';
import { runSmsCommand, type LastDelivered } from './sms.js';
import type {
  Actor,
  CommandResult,
  FeedbackLabel,
  FeedbackResult,
  Page,
  ProcessResult,
  RuleList,
  SpamBoxItem,
  SubscriberService,
} from './types.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface FeedbackRate {
  /** Reports (and relabels) one subscriber may make in any hour; default 20. */
  readonly perHour?: number;
  /** …and in any 24 hours; default 100. */
  readonly perDay?: number;
}

export interface SubscriberServiceOptions {
  readonly engine: Engine;
  /** The database file; default: the embedded default (store/db.ts defaultDatabasePath()). */
  readonly dbPath?: string;
  /** Another backend instead of the SQLite file at dbPath. The service closes it on close(). */
  readonly repository?: SubscriberRepository;
  /** `normal` (default) survives a process crash; `full` also a power loss, at an fsync per commit. */
  readonly synchronous?: 'normal' | 'full';
  /** WAL checkpoints in a worker thread, off the request path (for servers; see store/checkpointer.ts). */
  readonly backgroundCheckpoints?: boolean;
  /** Days a held message stays in the spam box before `purge` drops it; default 30. */
  readonly retentionDays?: number;
  /** Messages kept per subscriber; the oldest are evicted first. Default 1000. */
  readonly spamBoxCapacity?: number;
  /** Messages to this number are management commands (X.1242 §9), not traffic. */
  readonly serviceNumber?: string;
  readonly logger?: Logger;
  /** Log message text (debug decisions). Off by default: filtering touches the privacy of traffic. */
  readonly logText?: boolean;
  readonly feedbackRate?: FeedbackRate;
  /**
   * The Bayesian model database that feedback trains (default: dbPath); false: feedback is
   * recorded but trains nothing.
   */
  readonly modelPath?: string | false;
  /**
   * Score with the model being trained, so feedback takes effect on the next message (default
   * true, once the model is trained). Create the engine with the bayes room's `BAYES_BANDS`.
   */
  readonly attachModel?: boolean;
  /** Load every subscriber into the engine on start (default true). The CLI, which only edits, says false. */
  readonly loadSubscribers?: boolean;
  /** Subscribers whose last delivered message is remembered for `SPAM` (default 100,000; least recent forgotten). */
  readonly rememberDelivered?: number;
  /** Changes `refresh()` applies per call (default 20,000): a bulk import elsewhere arrives in slices, never one long pause. */
  readonly refreshBatch?: number;
  /** Reply texts to replace (translation). */
  readonly replies?: Partial<Replies>;
  /** The clock, for tests. */
  readonly now?: () => number;
}

/** A page request bounded so one call cannot read a whole table. */
function paging(options: { readonly limit?: number; readonly offset?: number } | undefined, max: number, fallback: number): { limit: number; offset: number } {
  const limit = Math.min(Math.max(Math.floor(options?.limit ?? fallback), 1), max);
  const offset = Math.max(Math.floor(options?.offset ?? 0), 0);
  return { limit, offset };
}

const LISTS: readonly RuleList[] = ['block', 'allow', 'keywords'];

/** A whole-number option, at least `min`; a RangeError naming it otherwise. */
function positive(value: number, name: string, min = 1): number {
  if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`${name} must be a whole number of at least ${min}, not ${String(value)}`);
  return value;
}

function actorLog(actor: Actor): Record<string, string> {
  return actor.kind === 'operator' ? { actor: 'operator', operator: actor.name } : { actor: 'subscriber', channel: actor.channel };
}

/** Rules as plain data, rejecting what is not the shape of SubscriberRules (before compiling). */
function checkShape(rules: SubscriberRules): SubscriberRules {
  if (rules === null || typeof rules !== 'object') throw new SubscriberRuleError('rules must be an object with block, allow, keywords, quiet and enabled', 'rules');
  const list = (name: 'block' | 'allow' | 'keywords'): string[] => {
    const v = rules[name] ?? [];
    if (!Array.isArray(v)) throw new SubscriberRuleError(`${name} must be a list of strings`, name);
    return v.map((x, i) => {
      if (typeof x !== 'string') throw new SubscriberRuleError(`${name}[${i}] must be a string`, `${name}[${i}]`);
      return x.trim().replace(/\s+/g, ' ');
    });
  };
  const quietRaw = rules.quiet ?? [];
  if (!Array.isArray(quietRaw)) throw new SubscriberRuleError('quiet must be a list of { from, to, tz? } windows', 'quiet');
  const quiet = quietRaw.map((q: QuietWindow, i): QuietWindow => {
    if (q === null || typeof q !== 'object' || typeof q.from !== 'string' || typeof q.to !== 'string' || (q.tz !== undefined && typeof q.tz !== 'string')) {
      throw new SubscriberRuleError(`quiet[${i}] must be { from: "HH:MM", to: "HH:MM", tz?: zone }`, `quiet[${i}]`);
    }
    return q.tz !== undefined ? { from: q.from, to: q.to, tz: q.tz } : { from: q.from, to: q.to };
  });
  if (rules.enabled !== undefined && typeof rules.enabled !== 'boolean') throw new SubscriberRuleError('enabled must be true or false', 'enabled');
  return { block: list('block'), allow: list('allow'), keywords: list('keywords'), quiet, enabled: rules.enabled ?? true };
}

export class SubscriberServiceImpl implements SubscriberService {
  readonly engine: Engine;
  readonly store: SubscriberRepository;
  readonly log: Logger;
  readonly replies: Replies;
  readonly serviceNumber: string | undefined;
  private readonly retentionMs: number;
  private readonly capacity: number;
  private readonly logText: boolean;
  private readonly rate: Required<FeedbackRate>;
  private readonly now: () => number;
  private readonly tokens: TokenStore | undefined;
  private readonly trainer: Trainer | undefined;
  private readonly attachModel: boolean;
  private modelAttached = false;
  private readonly loaded: boolean;
  private seq = 0;
  private readonly lastDelivered = new Map<string, LastDelivered>();
  private readonly rememberDelivered: number;
  private readonly refreshBatch: number;
  private closed = false;

  constructor(options: SubscriberServiceOptions) {
    this.engine = options.engine;
    this.log = options.logger ?? pino({ level: 'silent' });
    this.replies = { ...DEFAULT_REPLIES, ...options.replies };
    this.retentionMs = (options.retentionDays ?? 30) * DAY;
    this.capacity = positive(options.spamBoxCapacity ?? 1000, 'spamBoxCapacity');
    this.logText = options.logText ?? false;
    this.rate = { perHour: positive(options.feedbackRate?.perHour ?? 20, 'feedbackRate.perHour', 0), perDay: positive(options.feedbackRate?.perDay ?? 100, 'feedbackRate.perDay', 0) };
    this.now = options.now ?? Date.now;
    this.rememberDelivered = positive(options.rememberDelivered ?? 100_000, 'rememberDelivered', 0);
    this.refreshBatch = positive(options.refreshBatch ?? 20_000, 'refreshBatch');
    this.attachModel = options.attachModel ?? true;
    this.loaded = options.loadSubscribers ?? true;
    if (options.retentionDays !== undefined && !(options.retentionDays > 0)) throw new RangeError('retentionDays must be a positive number of days');
    this.serviceNumber = options.serviceNumber !== undefined ? this.subscriberKey(options.serviceNumber, 'serviceNumber') : undefined;

    const dbPath = options.dbPath ?? defaultDatabasePath();
    this.store =
      options.repository ??
      SqliteSubscriberStore.open(dbPath, {
        synchronous: options.synchronous ?? 'normal',
        backgroundCheckpoints: options.backgroundCheckpoints ?? false,
        onCheckpointError: (message) => this.log.warn({ db: dbPath }, message),
      });
    try {
      const modelPath = options.modelPath ?? dbPath;
      if (modelPath !== false) {
        this.tokens = TokenStore.open(modelPath);
        this.trainer = new Trainer(this.tokens, { region: this.engine.normaliser.region });
        this.attachIfTrained();
      }
      if (this.loaded) this.loadAll();
      else this.seq = this.store.currentSeq();
    } catch (err) {
      this.tokens?.close();
      this.store.close();
      throw err;
    }
  }

  private attachIfTrained(): void {
    if (this.attachModel && !this.modelAttached && this.tokens?.model.trained) {
      this.engine.setClassifier(new BayesClassifier(this.tokens.model));
      this.modelAttached = true;
    }
  }

  private loadAll(): number {
    const started = process.hrtime.bigint();
    let n = 0;
    this.seq = this.store.loadAll((number, rules) => {
      this.engine.setSubscriber(number, rules, { trusted: true });
      n++;
    });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    this.log.info({ subscribers: n, ms: Math.round(ms), seq: this.seq }, 'subscribers loaded into the engine');
    return n;
  }

  /** Canonical subscriber number (E.164 or short code); throws SubscriberRuleError naming the field. */
  subscriberKey(raw: string, field = 'subscriber'): string {
    return this.engine.subscriberKey(raw, field);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the subscriber service is closed');
  }

  // ---- traffic ----

  process(input: MessageInput): ProcessResult {
    this.assertOpen();
    if (this.serviceNumber !== undefined && typeof input.to === 'string' && typeof input.from === 'string') {
      const to = this.engine.normaliseAddress(input.to);
      if (to.value === this.serviceNumber) return this.processCommand(input);
    }
    // Normalised once: the check, the spam box and the logs use the same canonical message.
    const message = this.engine.normalise(input);
    const verdict = this.engine.checkMessage(message);
    const subscriber = message.to.value;
    const from = message.from.value;
    if (verdict.action === 'quarantine') {
      const { id, evicted } = this.store.addSpamBoxItem(
        {
          subscriber,
          from,
          text: message.text,
          time: message.time,
          storedAt: this.now(),
          verdict,
          ...(input.id !== undefined ? { messageId: String(input.id) } : {}),
        },
        this.capacity,
      );
      this.logDecision(input, subscriber, from, verdict, 'quarantined', id);
      if (evicted > 0) this.log.info({ subscriber, evicted, capacity: this.capacity }, 'spam box full: oldest messages evicted');
      return { verdict, outcome: 'quarantined', spamBoxId: id };
    }
    if (verdict.action === 'block') {
      this.logDecision(input, subscriber, from, verdict, 'blocked');
      return { verdict, outcome: 'blocked' };
    }
    this.rememberDelivery(subscriber, { from, text: input.text, time: this.now() });
    this.logDecision(input, subscriber, from, verdict, 'deliver');
    return { verdict, outcome: 'deliver' };
  }

  private logDecision(input: MessageInput, to: string, from: string, verdict: Verdict, outcome: ProcessResult['outcome'], spamBoxId?: number): void {
    if (!this.log.isLevelEnabled('debug')) return;
    this.log.debug(
      {
        id: input.id,
        from,
        to,
        action: verdict.action,
        outcome,
        score: verdict.score,
        rules: verdict.reasons.map((r) => r.rule),
        ...(spamBoxId !== undefined ? { spamBoxId } : {}),
        ...(this.logText ? { text: input.text } : {}),
      },
      'decision',
    );
  }

  private rememberDelivery(subscriber: string, last: LastDelivered): void {
    if (this.rememberDelivered <= 0) return;
    this.lastDelivered.delete(subscriber);
    this.lastDelivered.set(subscriber, last);
    if (this.lastDelivered.size > this.rememberDelivered) {
      this.lastDelivered.delete(this.lastDelivered.keys().next().value!);
    }
  }

  /** The last message delivered to this subscriber through this service, for `SPAM`. */
  lastDeliveredTo(subscriber: string): LastDelivered | undefined {
    return this.lastDelivered.get(subscriber);
  }

  private processCommand(input: MessageInput): ProcessResult {
    const command = this.executeCommand(input.from, input.text);
    const verdict: Verdict = { action: 'deliver', score: 0, reasons: [{ rule: 'SERVICE_COMMAND', score: 0, detail: 'a command to the service number' }] };
    return { verdict, outcome: 'deliver', command };
  }

  // ---- rules ----

  getRules(subscriber: string): SubscriberRules | undefined {
    this.assertOpen();
    return this.store.getRules(this.subscriberKey(subscriber));
  }

  /** Validate against the engine's normaliser and default zone; throws SubscriberRuleError naming the field. */
  private validate(rules: SubscriberRules): SubscriberRules {
    const clean = checkShape(rules);
    compileSubscriber(clean, this.engine.normaliser, this.engine.defaultTimeZone);
    return clean;
  }

  private applied(subscriber: string, rules: SubscriberRules, actor: Actor, action: string, detail: Readonly<Record<string, unknown>>): void {
    if (this.loaded) this.engine.setSubscriber(subscriber, rules, { trusted: true });
    this.log.info({ subscriber, change: action, ...detail, ...actorLog(actor) }, 'subscriber rules changed');
  }

  /**
   * Change one subscriber's rules from what is stored now, atomically against other writers:
   * `change` returns the new rules (validated here) and what to audit, or undefined for no
   * change. Returns the rules in force afterwards.
   */
  modifyRules(
    subscriber: string,
    actor: Actor,
    change: (current: SubscriberRules) => { readonly rules: SubscriberRules; readonly action: string; readonly detail: Readonly<Record<string, unknown>> } | undefined,
  ): SubscriberRules {
    this.assertOpen();
    const key = this.subscriberKey(subscriber);
    let unchanged: SubscriberRules = emptySubscriberRules();
    let made: { action: string; detail: Readonly<Record<string, unknown>> } | undefined;
    const done = this.store.updateRules(key, (stored) => {
      unchanged = stored ?? emptySubscriberRules();
      const next = change(unchanged);
      if (next === undefined) return undefined;
      made = next;
      return { rules: this.validate(next.rules), audit: { at: this.now(), actor, subscriber: key, action: next.action, detail: next.detail } };
    });
    if (done === undefined || made === undefined) return unchanged;
    this.applied(key, done.rules, actor, made.action, made.detail);
    return done.rules;
  }

  setRules(subscriber: string, rules: SubscriberRules, actor: Actor): void {
    this.assertOpen();
    const key = this.subscriberKey(subscriber);
    const clean = this.validate(rules);
    const detail = { block: clean.block.length, allow: clean.allow.length, keywords: clean.keywords.length, quiet: clean.quiet.length, enabled: clean.enabled };
    this.store.putRules(key, clean, { at: this.now(), actor, subscriber: key, action: 'rules.set', detail });
    this.applied(key, clean, actor, 'rules.set', detail);
  }

  /** Two values name the same rule when they compile to the same patterns or the same words. */
  ruleKey(list: RuleList, value: string): string {
    if (list === 'keywords') return phraseWords(value).join(' ') || value.toLowerCase();
    try {
      return compilePattern(value, this.engine.normaliser)
        .map((p) => `${p.kind}:${p.value}`)
        .sort()
        .join('|');
    } catch (err) {
      if (err instanceof PatternError) return value.toUpperCase();
      throw err;
    }
  }

  /** The value as stored when `value` names a rule already on the list. */
  findRule(rules: SubscriberRules, list: RuleList, value: string): string | undefined {
    const key = this.ruleKey(list, value);
    return rules[list].find((v) => this.ruleKey(list, v) === key);
  }

  addRule(subscriber: string, list: RuleList, value: string, actor: Actor): SubscriberRules {
    if (!LISTS.includes(list)) throw new SubscriberRuleError(`unknown list '${String(list)}': expected block, allow or keywords`, 'list');
    if (typeof value !== 'string' || value.trim() === '') throw new SubscriberRuleError(`${list} needs a value`, list);
    const clean = value.trim().replace(/\s+/g, ' ');
    return this.modifyRules(subscriber, actor, (current) =>
      this.findRule(current, list, clean) !== undefined
        ? undefined
        : { rules: { ...current, [list]: [...current[list], clean] }, action: 'rules.add', detail: { list, value: clean } },
    );
  }

  removeRule(subscriber: string, list: RuleList, value: string, actor: Actor): SubscriberRules {
    if (!LISTS.includes(list)) throw new SubscriberRuleError(`unknown list '${String(list)}': expected block, allow or keywords`, 'list');
    if (typeof value !== 'string') return this.getRules(subscriber) ?? emptySubscriberRules();
    return this.modifyRules(subscriber, actor, (current) => {
      const stored = this.findRule(current, list, value.trim().replace(/\s+/g, ' '));
      return stored === undefined ? undefined : { rules: { ...current, [list]: current[list].filter((v) => v !== stored) }, action: 'rules.remove', detail: { list, value: stored } };
    });
  }

  deleteSubscriber(subscriber: string, actor: Actor): boolean {
    this.assertOpen();
    const key = this.subscriberKey(subscriber);
    const seq = this.store.deleteSubscriber(key, { at: this.now(), actor, subscriber: key, action: 'subscriber.delete' });
    if (seq === undefined) return false;
    if (this.loaded) this.engine.setSubscriber(key, null);
    this.lastDelivered.delete(key);
    this.log.info({ subscriber: key, change: 'subscriber.delete', ...actorLog(actor) }, 'subscriber deleted with their spam box');
    return true;
  }

  listSubscribers(options?: { readonly limit?: number; readonly offset?: number }): Page<string> {
    this.assertOpen();
    const { limit, offset } = paging(options, 10_000, 100);
    return this.store.listSubscribers(limit, offset);
  }

  importRules(entries: Iterable<readonly [string, SubscriberRules]>, actor: Actor): number {
    this.assertOpen();
    const clean = new Map<string, SubscriberRules>();
    for (const [number, rules] of entries) {
      const key = this.subscriberKey(number);
      try {
        clean.set(key, this.validate(rules));
      } catch (err) {
        if (err instanceof SubscriberRuleError) throw new SubscriberRuleError(`${number}: ${err.message}`, `${number}.${err.field}`);
        throw err;
      }
    }
    const n = this.store.putMany(clean, { at: this.now(), actor, action: 'rules.import' });
    if (this.loaded) for (const [key, rules] of clean) this.engine.setSubscriber(key, rules, { trusted: true });
    this.log.info({ change: 'rules.import', subscribers: n, ...actorLog(actor) }, 'subscriber rules imported');
    return n;
  }

  // ---- spam box ----

  listSpamBox(subscriber: string, options?: { readonly limit?: number; readonly offset?: number }): Page<SpamBoxItem> {
    this.assertOpen();
    const { limit, offset } = paging(options, 1000, 20);
    return this.store.listSpamBox(this.subscriberKey(subscriber), limit, offset);
  }

  getSpamBoxItem(subscriber: string, id: number): SpamBoxItem | undefined {
    this.assertOpen();
    if (!Number.isSafeInteger(id) || id <= 0) return undefined;
    return this.store.getSpamBoxItem(this.subscriberKey(subscriber), id);
  }

  release(subscriber: string, id: number, actor: Actor): SpamBoxItem | undefined {
    this.assertOpen();
    if (!Number.isSafeInteger(id) || id <= 0) return undefined;
    const key = this.subscriberKey(subscriber);
    const item = this.store.takeSpamBoxItem(key, id, { at: this.now(), actor, subscriber: key, action: 'spambox.release', detail: { id } });
    if (item) this.log.info({ subscriber: key, change: 'spambox.release', id, ...actorLog(actor) }, 'spam box message released');
    return item;
  }

  deleteSpamBoxItem(subscriber: string, id: number, actor: Actor): boolean {
    this.assertOpen();
    if (!Number.isSafeInteger(id) || id <= 0) return false;
    const key = this.subscriberKey(subscriber);
    const done = this.store.deleteSpamBoxItem(key, id, { at: this.now(), actor, subscriber: key, action: 'spambox.delete', detail: { id } });
    if (done) this.log.info({ subscriber: key, change: 'spambox.delete', id, ...actorLog(actor) }, 'spam box message deleted');
    return done;
  }

  purge(now: number = this.now()): number {
    this.assertOpen();
    const n = this.store.purgeSpamBox(now - this.retentionMs);
    // Rate-limit events older than a day and the change sequence older than a week are no longer needed.
    this.store.pruneHistory(now - 7 * DAY);
    if (n > 0) this.log.info({ change: 'spambox.purge', purged: n, retentionDays: this.retentionMs / DAY }, 'spam box purged');
    return n;
  }

  digest(subscriber: string, since: number): string {
    this.assertOpen();
    const key = this.subscriberKey(subscriber);
    const summary = this.store.spamBoxSummary(key, since, 6);
    return digestText(this.replies, this.engine.defaultTimeZone, summary.count, summary, since);
  }

  /** Digests for every subscriber with something held since `since`, a page at a time (for the daily job). */
  digests(since: number, options?: { readonly limit?: number; readonly offset?: number }): Array<{ subscriber: string; text: string }> {
    this.assertOpen();
    const { limit, offset } = paging(options, 10_000, 1000);
    return this.store.spamBoxOwnersSince(since, limit, offset).map((subscriber) => ({ subscriber, text: this.digest(subscriber, since) }));
  }

  /** The audit trail, newest first: every change, release, delete and report, with who did it. */
  auditTrail(options: { readonly subscriber?: string; readonly limit?: number; readonly offset?: number } = {}): Page<AuditRecord> {
    this.assertOpen();
    const { limit, offset } = paging(options, 10_000, 50);
    return this.store.listAudit({ ...(options.subscriber !== undefined ? { subscriber: this.subscriberKey(options.subscriber) } : {}), limit, offset });
  }

  // ---- feedback ----

  feedback(subscriber: string, label: FeedbackLabel, message: { readonly spamBoxId?: number; readonly input?: MessageInput }, actor: Actor): FeedbackResult {
    this.assertOpen();
    const key = this.subscriberKey(subscriber);
    if (label !== 'spam' && label !== 'ham') throw new SubscriberRuleError(`unknown label '${String(label)}': expected spam or ham`, 'label');
    let input: MessageInput;
    if (message.spamBoxId !== undefined) {
      const item = this.getSpamBoxItem(key, message.spamBoxId);
      if (!item) return { accepted: false, reason: `no message ${message.spamBoxId} in the spam box of ${key}` };
      input = { from: item.from, to: key, text: item.text, time: item.time };
    } else if (message.input !== undefined) {
      const m = this.engine.normalise(message.input);
      if (m.to.value !== key) return { accepted: false, reason: `the message was sent to ${m.to.value}, not to ${key}` };
      input = { from: m.from.value, to: key, text: m.text, time: m.time, channel: m.channel, ...(m.email ? { email: m.email } : {}) };
    } else {
      return { accepted: false, reason: 'no message given: a spam box id or the message itself' };
    }
    return this.train(key, label, input, actor, message.spamBoxId);
  }

  /** Learn one labelled message for a subscriber: idempotent, relabels undo, rate-limited. */
  trainFromSubscriber(subscriber: string, label: FeedbackLabel, input: MessageInput, actor: Actor): FeedbackResult {
    return this.train(subscriber, label, input, actor, undefined);
  }

  private train(key: string, label: FeedbackLabel, input: MessageInput, actor: Actor, spamBoxId: number | undefined): FeedbackResult {
    // Identity over canonical addresses and text only, so the same message digests the same from every channel.
    const canonical: MessageInput = {
      from: input.from,
      to: input.to,
      text: input.text,
      ...(input.channel ? { channel: input.channel } : {}),
      ...(input.email ? { email: input.email } : {}),
    };
    const digest = messageDigest(canonical);
    const before = this.store.getFeedback(key, digest);
    if (before?.label === label) return { accepted: true, relabelled: false };
    const now = this.now();
    const lastHour = this.store.countFeedback(key, now - HOUR);
    const lastDay = lastHour >= this.rate.perHour ? lastHour : this.store.countFeedback(key, now - DAY);
    if (lastHour >= this.rate.perHour || lastDay >= this.rate.perDay) {
      this.log.info({ subscriber: key, change: 'feedback.refused', label, lastHour, lastDay }, 'feedback rate limit reached');
      return { accepted: false, reason: `rate limit: at most ${this.rate.perHour} reports an hour and ${this.rate.perDay} a day` };
    }
    let outcome: string = 'recorded';
    if (this.trainer && this.tokens) {
      outcome = this.trainer.learn(label, canonical);
      this.tokens.save();
      this.attachIfTrained();
    }
    const relabelled = before !== undefined;
    this.store.recordFeedback(key, digest, label, {
      at: now,
      actor,
      subscriber: key,
      action: relabelled ? 'feedback.relabel' : 'feedback',
      detail: { label, digest, training: outcome, ...(spamBoxId !== undefined ? { spamBoxId } : {}) },
    });
    this.log.info({ subscriber: key, change: 'feedback', label, relabelled, training: outcome, ...actorLog(actor) }, 'feedback');
    return { accepted: true, relabelled };
  }

  get feedbackTrains(): boolean {
    return this.trainer !== undefined;
  }

  // ---- SMS commands ----

  handleCommand(from: string, text: string): string {
    return this.executeCommand(from, text).reply;
  }

  executeCommand(from: string, text: string): CommandResult {
    this.assertOpen();
    return runSmsCommand(this, from, text);
  }

  // ---- other processes ----

  refresh(): number {
    this.assertOpen();
    if (!this.loaded) {
      this.seq = this.store.currentSeq();
      return 0;
    }
    const changes = this.store.changesSince(this.seq, this.refreshBatch);
    if (changes.kind === 'reload') {
      this.log.warn({ from: this.seq, to: changes.seq }, 'change sequence pruned past this process: reloading every subscriber');
      return this.loadAll();
    }
    let changed = 0;
    for (const { subscriber, rules } of changes.changes) {
      const had = this.engine.getSubscriber(subscriber);
      try {
        if (rules !== undefined) serialiseRules(rules);
      } catch (err) {
        if (!(err instanceof CorruptRulesError)) throw err;
        this.log.warn({ subscriber, err: err.message }, 'stored rules damaged: ignored');
        this.engine.setSubscriber(subscriber, null);
        changed++;
        continue;
      }
      if (rules === undefined) {
        if (had !== undefined) {
          this.engine.setSubscriber(subscriber, null);
          changed++;
        }
      } else if (had === undefined || serialiseRules(had) !== serialiseRules(rules)) {
        this.engine.setSubscriber(subscriber, rules, { trusted: true });
        changed++;
      }
    }
    this.seq = changes.seq;
    if (changed > 0) this.log.info({ subscribers: changed, seq: this.seq, more: changes.more }, 'rule changes from other processes applied');
    return changed;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.tokens?.close();
    this.store.close();
  }
}

/** The digest SMS: how many held since when, and the senders most held, as many as fit. */
function digestText(replies: Replies, timeZone: string, count: number, summary: SpamBoxSummary, since: number): string {
  const when = new Intl.DateTimeFormat('en-GB', { timeZone, day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(since);
  if (count === 0) return toSms(replies.digestEmpty(when));
  const frame = replies.digest(count, when, '\u0000'); // the frame around the senders, as sent
  const frameSeptets = (gsmLength(toGsm(frame.replace('\u0000', ''))) ?? SMS_SEPTETS);
  const entries = summary.senders.map((s) => replies.digestSender(shown(s.from, 16), s.count));
  const unshown = summary.senderCount - summary.senders.length;
  const body = fitList(entries, SMS_SEPTETS - frameSeptets, ', ', replies.moreSenders, unshown);
  return toSms(replies.digest(count, when, body));
}

export function createSubscriberService(options: SubscriberServiceOptions): SubscriberServiceImpl {
  return new SubscriberServiceImpl(options);
}
