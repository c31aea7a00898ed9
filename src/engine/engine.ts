/**
 * The engine: one message in, one verdict out, synchronously. Order of precedence (documented
 * in the README and tested):
 *   1. subscriber allow list → deliver (only `enforce` operator rules still apply)
 *   2. subscriber block list → quarantine (configurable: block)
 *   3. subscriber quiet hours → quarantine (held)
 *   4. subscriber keywords → quarantine
 *   5. operator rules: forced actions, `allow`, and scores; then the classifier's score band;
 *      the total score against the thresholds gives an action; the strongest action wins.
 * A subscriber with filtering off gets only the enforced operator rules.
 * Rules and subscribers can be replaced while the engine runs: a new compiled set is swapped in
 * whole, so a check sees either the old set or the new one, never a mix.
 */
import { AddressNormaliser, assertRegion, type CountryCode } from '../message/address.js';
import { normaliseMessage } from '../message/normalise.js';
import type { Message, MessageInput, Address } from '../message/types.js';
import { analyseText, WordBuffers, type TextAnalysis } from '../text/analysis.js';
import type { CompiledRuleSet } from '../rules/compile.js';
import { loadRuleSet } from '../rules/load.js';
import {
  compileSubscriber,
  planEnabled,
  planKeyword,
  planListMayMatch,
  planQuietWindow,
  planSender,
  planSubscriber,
  PlanArena,
  PLAN_OFFSET_MASK,
  SubscriberRuleError,
  type CompiledSource,
  type CompiledSubscriber,
  type PlanOwner,
} from '../rules/subscriber.js';
import type { SubscriberRules } from '../rules/subscriber-types.js';
import { assertTimeZone } from '../rules/time.js';
import { MemoryVolumeStore, type VolumeStore } from '../rules/volume-store.js';
import { NOT_A_NUMBER, NumberIndex } from './number-index.js';
import { actionSeverity, type Action, type Reason, type ScoreBand, type SpamClassifier, type Thresholds, type Verdict } from './types.js';

export const DEFAULT_THRESHOLDS: Thresholds = { tag: 4, quarantine: 6, block: 12 };

/** Used when a classifier is given without bands; the bayes room exports tuned ones. */
export const DEFAULT_BAYES_BANDS: readonly ScoreBand[] = [
  { id: 'BAYES_999', min: 0.999, score: 7 },
  { id: 'BAYES_99', min: 0.99, score: 6 },
  { id: 'BAYES_95', min: 0.95, score: 4 },
  { id: 'BAYES_80', min: 0.8, score: 2 },
  { id: 'BAYES_50', min: 0.5, score: 0.8 },
  { id: 'BAYES_20', min: 0.2, score: 0 },
  { id: 'BAYES_05', min: 0.05, score: -0.5 },
  { id: 'BAYES_00', min: 0, score: -1.5 },
];

export interface EngineOptions {
  /** A compiled rule set; when absent, rules are loaded from `rulesDir`. */
  readonly rules?: CompiledRuleSet;
  /** Rule files or folders; default: the shipped `rules/`. */
  readonly rulesDir?: string | readonly string[];
  /** Subscriber rules by subscriber number (any format the normaliser understands). */
  readonly subscribers?: ReadonlyMap<string, SubscriberRules> | Readonly<Record<string, SubscriberRules>>;
  readonly classifier?: SpamClassifier;
  /** Probability bands for the classifier, highest first. */
  readonly bayesBands?: readonly ScoreBand[];
  /** Bands for messages of channel `email` (their probabilities spread differently); default `bayesBands`. */
  readonly emailBayesBands?: readonly ScoreBand[];
  /** ISO 3166 region for national numbers; default GB. */
  readonly defaultRegion?: CountryCode | string;
  /** IANA zone for windows that name none; default UTC. */
  readonly defaultTimeZone?: string;
  /** Overrides the rule files' thresholds, which override the defaults. */
  readonly thresholds?: Partial<Thresholds>;
  /** What a subscriber's block list does: quarantine (kept in the spam box, default) or block. */
  readonly subscriberBlockAction?: 'quarantine' | 'block';
  /** Characters of text analysed; the rest is ignored and the verdict says `truncated`. Default 256 Ki. */
  readonly maxTextLength?: number;
  /**
   * Counters for volume rules (rate, distinct_recipients, campaign); default an in-process
   * MemoryVolumeStore. Kept across `replaceRules`, so counts survive a reload.
   */
  readonly volumeStore?: VolumeStore;
}

interface SubscriberEntry extends PlanOwner {
  /** Its number as the index knows it. */
  readonly key: string;
  readonly rules: SubscriberRules;
  /** Compiled on first use; null when the stored rules do not compile. */
  compiled: CompiledSubscriber | null | undefined;
  /**
   * Where its compact plan (rules/subscriber.ts), read first on the hot path, is in the engine's
   * PlanArena: -1 until made (with `compiled`), NO_PLAN when the rules do not compile.
   */
  plan: number;
}

const NO_PLAN = -2;

/**
 * The subscriber a check is reading, as its index slot: the entry and its compiled rules are
 * fetched only when the plan says they must be read (one object per engine, reset per check).
 */
class SubscriberAt implements CompiledSource {
  slot = -1;
  entry: SubscriberEntry | undefined = undefined;

  constructor(private readonly index: NumberIndex<SubscriberEntry>) {}

  compiled(): CompiledSubscriber {
    return (this.entry ??= this.index.valueAt(this.slot)!).compiled!;
  }
}

const MILLIS = Array.from({ length: 1001 }, (_, i) => (i / 1000).toFixed(3));
/** The classifier's reason detail for each thousandth, made once instead of per message. */
const PROBABILITY_DETAILS = MILLIS.map((m) => `spam probability ${m}`);

/**
 * `p.toFixed(3)` for a probability, from a table (toFixed is a runtime call, a few percent of
 * a check with the classifier): exact, since away from a rounding tie the float error of
 * p * 1000 cannot change the nearest thousandth; next to a tie, toFixed itself decides.
 */
export function fixed3(p: number): string {
  const i = thousandth(p);
  return i >= 0 ? MILLIS[i]! : p.toFixed(3);
}

/** The index into MILLIS that `p.toFixed(3)` reads, or -1 where toFixed must decide (see fixed3). */
function thousandth(p: number): number {
  const x = p * 1000;
  return p >= 0 && p <= 1 && Math.abs(x - Math.floor(x) - 0.5) > 1e-6 ? Math.round(x) : -1;
}

/** `spam probability ${fixed3(p)}`, from a table where fixed3 would use one. */
function probabilityDetail(p: number): string {
  const i = thousandth(p);
  return i >= 0 ? PROBABILITY_DETAILS[i]! : `spam probability ${p.toFixed(3)}`;
}

/** The reasons of a verdict nothing contributed to: one shared, frozen array. */
const NO_REASONS: readonly Reason[] = Object.freeze([]);

/** The reason for the `i`th rule of the set's last match (an enforced rule always has an action). */
function hitReason(set: CompiledRuleSet, i: number): Reason {
  const r = set.hitRule(i);
  return r.action !== undefined ? { rule: r.id, score: r.score, detail: set.hitDetail(i), action: r.action } : { rule: r.id, score: r.score, detail: set.hitDetail(i) };
}

function stronger(a: Action, b: Action): Action {
  return actionSeverity(b) > actionSeverity(a) ? b : a;
}

function short(value: string): string {
  return value.length > 8 ? value.slice(0, 7) + '…' : value;
}

export class Engine {
  private ruleSet: CompiledRuleSet;
  private readonly subscribers = new Map<string, SubscriberEntry>();
  /** The same entries, for the hot path's lookup by number. */
  private readonly subscriberIndex = new NumberIndex<SubscriberEntry>();
  /** The subscribers' plans; the index keeps each one's place beside its number (and learns a new one when a plan moves). */
  private readonly plans = new PlanArena((owner) => this.planMoved(owner as SubscriberEntry));
  private readonly subscriberAt = new SubscriberAt(this.subscriberIndex);
  private classifier: SpamClassifier | undefined;
  private readonly bands: readonly ScoreBand[];
  private readonly emailBands: readonly ScoreBand[];
  readonly normaliser: AddressNormaliser;
  readonly defaultTimeZone: string;
  private readonly thresholdOverride: Partial<Thresholds>;
  private thresholdsInForce: Thresholds;
  private readonly subscriberBlockAction: Action;
  private readonly maxTextLength: number;
  /** Volume counters; a verdict from a volume rule depends on the traffic checked before. */
  readonly volume: VolumeStore;
  /** Lent to each check's text analysis (see WordBuffers): no word arrays allocated per check. */
  private readonly wordBuffers = new WordBuffers();
  /** A check is under way: one made from inside it (a classifier calling back) gets words of its own. */
  private checking = false;

  constructor(options: EngineOptions = {}) {
    this.normaliser = new AddressNormaliser(assertRegion(options.defaultRegion ?? 'GB'));
    this.defaultTimeZone = assertTimeZone(options.defaultTimeZone ?? 'UTC');
    this.ruleSet =
      options.rules ??
      loadRuleSet(options.rulesDir ?? undefined, { normaliser: this.normaliser, defaultTimeZone: this.defaultTimeZone });
    this.classifier = options.classifier;
    this.bands = [...(options.bayesBands ?? DEFAULT_BAYES_BANDS)].sort((a, b) => b.min - a.min);
    this.emailBands = options.emailBayesBands ? [...options.emailBayesBands].sort((a, b) => b.min - a.min) : this.bands;
    this.thresholdOverride = options.thresholds ?? {};
    this.thresholdsInForce = this.resolveThresholds();
    this.subscriberBlockAction = options.subscriberBlockAction ?? 'quarantine';
    this.maxTextLength = options.maxTextLength ?? 256 * 1024;
    this.volume = options.volumeStore ?? new MemoryVolumeStore();
    const subs = options.subscribers;
    if (subs) {
      const entries = subs instanceof Map ? subs.entries() : Object.entries(subs as Record<string, SubscriberRules>);
      for (const [number, rules] of entries) this.setSubscriber(number, rules);
    }
  }

  private resolveThresholds(): Thresholds {
    return { ...DEFAULT_THRESHOLDS, ...this.ruleSet.thresholds, ...this.thresholdOverride };
  }

  get rules(): CompiledRuleSet {
    return this.ruleSet;
  }

  get thresholds(): Thresholds {
    return this.thresholdsInForce;
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** Swap in a new compiled rule set; checks already running finish with the old one. */
  replaceRules(rules: CompiledRuleSet): void {
    this.ruleSet = rules;
    this.volume.retain(rules.volume?.names ?? new Set()); // counters no rule reads any more
    this.thresholdsInForce = this.resolveThresholds();
  }

  setClassifier(classifier: SpamClassifier | undefined): void {
    this.classifier = classifier;
  }

  /**
   * Set (or with null remove) one subscriber's rules. Validated now unless `trusted` (rules
   * from the store, validated when written): then compiled on first use, which keeps loading
   * a million subscribers to seconds. Throws SubscriberRuleError naming the bad field.
   */
  setSubscriber(number: string, rules: SubscriberRules | null, options: { trusted?: boolean } = {}): void {
    const key = this.subscriberKey(number);
    const previous = this.subscribers.get(key);
    if (previous !== undefined && previous.plan >= 0) this.plans.release(previous);
    if (rules === null) {
      this.subscribers.delete(key);
      this.subscriberIndex.set(key, undefined);
      return;
    }
    const compiled = options.trusted ? undefined : compileSubscriber(rules, this.normaliser, this.defaultTimeZone);
    const entry: SubscriberEntry = { key, rules, compiled, plan: -1 };
    this.subscribers.set(key, entry);
    this.subscriberIndex.set(key, entry);
  }

  getSubscriber(number: string): SubscriberRules | undefined {
    return this.subscribers.get(this.subscriberKey(number))?.rules;
  }

  /** Canonical subscriber number (E.164 or short code); throws SubscriberRuleError naming `field`. */
  subscriberKey(number: string, field = 'number'): string {
    if (typeof number !== 'string') throw new SubscriberRuleError(`${field} must be a phone number`, field);
    const a = this.normaliser.normalise(number);
    if (a.kind !== 'e164' && a.kind !== 'shortcode') {
      throw new SubscriberRuleError(`'${number.slice(0, 40)}' is not a subscriber number: expected E.164 (+447700900001) or a national number`, field);
    }
    return a.value;
  }

  normalise(input: MessageInput): Message {
    return normaliseMessage(input, this.normaliser);
  }

  normaliseAddress(raw: string): Address {
    return this.normaliser.normalise(raw);
  }

  /** The verdict for one message. Synchronous, no I/O. Throws MessageError for malformed input. */
  check(input: MessageInput): Verdict {
    return this.checkMessage(this.normalise(input));
  }

  /** The verdict for a message already normalised (`normalise`), for callers that keep it. */
  checkMessage(message: Message): Verdict {
    const truncated = message.text.length > this.maxTextLength;
    const text = truncated ? message.text.slice(0, this.maxTextLength) : message.text;
    if (this.checking) return this.decide(message, analyseText(text), truncated);
    this.checking = true;
    try {
      return this.decide(message, analyseText(text, this.wordBuffers), truncated);
    } finally {
      this.checking = false;
    }
  }

  /** Where the subscriber's plan is (compiling the rules on first use), or NO_PLAN. */
  private subscriberPlan(entry: SubscriberEntry): number {
    if (entry.plan === -1) {
      const compiled = this.compiledRules(entry);
      if (compiled === undefined) entry.plan = NO_PLAN;
      else this.plans.add(planSubscriber(compiled), entry);
    }
    return entry.plan;
  }

  /**
   * Where the recipient's plan is, or NO_PLAN when it has no rules; `at` is left on the
   * recipient for the compiled rules. The plan's place is kept beside the number in the index:
   * one cache line, then the plan.
   */
  private recipientPlan(to: string, at: SubscriberAt): number {
    const index = this.subscriberIndex;
    at.slot = index.find(to);
    at.entry = undefined;
    if (at.slot >= 0) {
      let plan = index.payloadAt(at.slot);
      if (plan === -1) {
        plan = this.subscriberPlan(index.valueAt(at.slot)!);
        index.setPayloadAt(at.slot, plan);
      }
      return plan;
    }
    if (at.slot !== NOT_A_NUMBER) return NO_PLAN;
    at.entry = index.other(to);
    return at.entry === undefined ? NO_PLAN : this.subscriberPlan(at.entry);
  }

  /** A plan moved in the arena: its new place goes beside the number in the index. */
  private planMoved(entry: SubscriberEntry): void {
    const slot = this.subscriberIndex.find(entry.key);
    if (slot >= 0 && this.subscriberIndex.valueAt(slot) === entry) this.subscriberIndex.setPayloadAt(slot, entry.plan);
  }

  private compiledRules(entry: SubscriberEntry): CompiledSubscriber | undefined {
    if (entry.compiled === undefined) {
      try {
        entry.compiled = compileSubscriber(entry.rules, this.normaliser, this.defaultTimeZone);
      } catch (err) {
        if (!(err instanceof SubscriberRuleError)) throw err;
        entry.compiled = null; // stored rules that no longer compile are ignored, not fatal
      }
    }
    return entry.compiled ?? undefined;
  }

  private decide(message: Message, analysis: TextAnalysis, truncated: boolean): Verdict {
    const set = this.ruleSet;
    const hits = set.match(message, analysis, this.volume);
    let score = 0;
    let enforced: Action = 'deliver';
    for (let i = 0; i < hits; i++) {
      const r = set.hitRule(i);
      if (!r.enforce) continue;
      enforced = stronger(enforced, r.action as Action);
      score += r.score;
    }

    // Subscriber rules, read through the subscriber's compact plan: the compiled rules (out of
    // cache with many subscribers) are looked into only where the plan says a list may match.
    const at = this.subscriberAt;
    let plan = this.recipientPlan(message.to.value, at);
    let subscriberAction: Action = 'deliver';
    let subscriberReason: Reason | undefined;
    if (plan >= 0) {
      const plans = this.plans.chunkOf(plan);
      plan &= PLAN_OFFSET_MASK;
      if (!planEnabled(plans, plan)) {
        return this.enforcedOnly(set, hits, { rule: 'SUBSCRIBER_FILTER_OFF', score: 0, detail: 'the subscriber turned filtering off' }, enforced, score, truncated);
      }
      const from = message.from;
      const sender = planSender(from);
      const senderLength = from.value.length - 1;
      const allowed = planListMayMatch(plans, plan, false, sender, senderLength) ? at.compiled().allow?.match(from) : undefined;
      if (allowed !== undefined) {
        const reason: Reason = { rule: 'SUBSCRIBER_ALLOW', score: 0, detail: `sender ${short(from.value)} on the subscriber's allow list ('${allowed}')`, action: 'allow' };
        return this.enforcedOnly(set, hits, reason, enforced, score, truncated);
      }
      const blocked = planListMayMatch(plans, plan, true, sender, senderLength) ? at.compiled().block?.match(from) : undefined;
      if (blocked !== undefined) {
        subscriberAction = this.subscriberBlockAction;
        subscriberReason = { rule: 'SUBSCRIBER_BLOCK', score: 0, detail: `sender ${short(from.value)} on the subscriber's block list ('${blocked}')`, action: subscriberAction };
      } else {
        const quiet = planQuietWindow(plans, plan, message.time, at);
        if (quiet !== undefined) {
          subscriberAction = 'quarantine';
          subscriberReason = { rule: 'SUBSCRIBER_QUIET_HOURS', score: 0, detail: `sent during the subscriber's quiet hours ${quiet.label}`, action: 'quarantine' };
        } else {
          const keyword = planKeyword(plans, plan, analysis, at);
          if (keyword !== undefined) {
            subscriberAction = 'quarantine';
            subscriberReason = { rule: 'SUBSCRIBER_KEYWORD', score: 0, detail: `keyword '${keyword.text}' on the subscriber's list`, action: 'quarantine' };
          }
        }
      }
    }

    let forced: Action = stronger(subscriberAction, enforced);
    let operatorAllow = false;
    for (let i = 0; i < hits; i++) {
      const r = set.hitRule(i);
      if (r.enforce) continue;
      if (r.action === 'allow') operatorAllow = true;
      else if (r.action !== undefined) forced = stronger(forced, r.action);
      score += r.score;
    }
    if (operatorAllow) {
      // An operator allow rule delivers, except what the subscriber or an enforced rule decided.
      return this.verdict(stronger(subscriberAction, enforced), score, this.reasons(subscriberReason, set, hits, 0), undefined, truncated);
    }

    // Made before the classifier runs: it may check another message, which reuses the set's scratch.
    const classifier = this.classifier;
    const reasons = this.reasons(subscriberReason, set, hits, classifier !== undefined ? 1 : 0);
    let probability: number | undefined;
    if (classifier !== undefined) {
      probability = classifier.spamProbability(message, analysis);
      const bands = message.channel === 'email' ? this.emailBands : this.bands;
      let band: ScoreBand | undefined;
      for (let i = 0; i < bands.length && band === undefined; i++) if (probability >= bands[i]!.min) band = bands[i];
      const mutable = reasons as Reason[]; // with room kept, an array of its own, never NO_REASONS
      if (band !== undefined) {
        score += band.score;
        mutable[mutable.length - 1] = { rule: band.id, score: band.score, detail: probabilityDetail(probability) };
      } else {
        mutable.length--; // the room kept for the band
      }
      const history = message.channel === 'email' ? classifier.senderHistory?.(message) : undefined;
      if (history !== undefined) {
        score += history.score;
        mutable.push(history);
      }
    }
    const t = this.thresholdsInForce;
    const fromScore: Action = score >= t.block ? 'block' : score >= t.quarantine ? 'quarantine' : score >= t.tag ? 'tag' : 'deliver';
    return this.verdict(stronger(forced, fromScore), score, reasons, probability, truncated);
  }

  /**
   * A verdict's reasons in their order (the subscriber's, then each rule that matched), in one
   * array of its final size with `room` slots left at the end (for the classifier's band):
   * most messages have none and share one empty array, and a growing array takes room for 16.
   */
  private reasons(subscriber: Reason | undefined, set: CompiledRuleSet, hits: number, room: number): readonly Reason[] {
    const n = (subscriber === undefined ? 0 : 1) + hits;
    if (n + room === 0) return NO_REASONS;
    const reasons = new Array<Reason>(n + room);
    let k = 0;
    if (subscriber !== undefined) reasons[k++] = subscriber;
    for (let i = 0; i < hits; i++) reasons[k++] = hitReason(set, i);
    return reasons;
  }

  /**
   * Allow list or filtering off: only the enforced operator rules of the `hits` that matched
   * (read from the set's scratch, see CompiledRuleSet.match) count, after the subscriber's reason.
   */
  private enforcedOnly(set: CompiledRuleSet, hits: number, subscriber: Reason, enforced: Action, score: number, truncated: boolean): Verdict {
    let n = 1;
    for (let i = 0; i < hits; i++) if (set.hitRule(i).enforce) n++;
    const reasons = new Array<Reason>(n);
    reasons[0] = subscriber;
    for (let i = 0, k = 1; i < hits; i++) if (set.hitRule(i).enforce) reasons[k++] = hitReason(set, i);
    return this.verdict(enforced, score, reasons, undefined, truncated);
  }

  private verdict(action: Action, score: number, reasons: readonly Reason[], spamProbability: number | undefined, truncated: boolean): Verdict {
    const v: { -readonly [K in keyof Verdict]: Verdict[K] } = { action, score: Math.round(score * 1000) / 1000, reasons };
    if (spamProbability !== undefined) v.spamProbability = spamProbability;
    if (truncated) v.truncated = true;
    return v;
  }
}

export function createEngine(options: EngineOptions = {}): Engine {
  return new Engine(options);
}
