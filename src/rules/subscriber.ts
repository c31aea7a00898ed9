/**
 * Subscriber rules (X.1242): validated with clear errors, compiled into matchers on first use.
 * No regular expressions: senders are exact/prefix/glob patterns, keywords are phrases matched
 * with the same normalisation as operator keywords, quiet hours are time windows.
 */
import type { AddressNormaliser } from '../message/address.js';
import { phraseWords, wordHash } from '../text/analysis.js';
import { AddressMatcher, PatternError, compilePattern, e164Digits, type CompiledPattern } from './patterns.js';
import type { Address } from '../message/types.js';
import { collectProblems, Field, RuleLoadError, parseSource, type RuleProblem } from './source.js';
import { SUBSCRIBER_LIMITS, type QuietWindow, type SubscriberRules } from './subscriber-types.js';
import { TimeError, inWindow, makeWindow, type Window } from './time.js';
import { containsPhraseIn, type WordSource } from './keyword-index.js';

export class SubscriberRuleError extends Error {
  constructor(message: string, readonly field: string) {
    super(message);
    this.name = 'SubscriberRuleError';
  }
}

export interface CompiledSubscriber {
  readonly enabled: boolean;
  readonly allow: AddressMatcher | undefined;
  readonly block: AddressMatcher | undefined;
  /** `first` is the wordHash of the first word: messages are searched by their word hashes. */
  readonly keywords: ReadonlyArray<{ readonly text: string; readonly words: readonly string[]; readonly first: number }>;
  readonly quiet: readonly Window[];
}

const NONE: readonly never[] = [];

function patterns(list: readonly string[], field: string, normaliser: AddressNormaliser): AddressMatcher | undefined {
  if (list.length === 0) return undefined;
  const compiled: CompiledPattern[] = [];
  list.forEach((p, i) => {
    if (typeof p !== 'string') throw new SubscriberRuleError(`${field}[${i}] must be a string`, `${field}[${i}]`);
    try {
      compiled.push(...compilePattern(p, normaliser, SUBSCRIBER_LIMITS.maxPatternLength));
    } catch (err) {
      if (err instanceof PatternError) throw new SubscriberRuleError(`${field}[${i}]: ${err.message}`, `${field}[${i}]`);
      throw err;
    }
  });
  return new AddressMatcher(compiled);
}

/** Compile (and so validate) one subscriber's rules. Throws SubscriberRuleError naming the field. */
export function compileSubscriber(rules: SubscriberRules, normaliser: AddressNormaliser, defaultTimeZone: string): CompiledSubscriber {
  const total = rules.block.length + rules.allow.length + rules.keywords.length + rules.quiet.length;
  if (total > SUBSCRIBER_LIMITS.maxRules) {
    throw new SubscriberRuleError(`too many rules: ${total}, the limit is ${SUBSCRIBER_LIMITS.maxRules} per subscriber`, 'rules');
  }
  if (rules.quiet.length > SUBSCRIBER_LIMITS.maxQuietWindows) {
    throw new SubscriberRuleError(`too many quiet windows: ${rules.quiet.length}, the limit is ${SUBSCRIBER_LIMITS.maxQuietWindows}`, 'quiet');
  }
  const keywords = rules.keywords.map((k, i) => {
    if (typeof k !== 'string' || k.trim() === '') throw new SubscriberRuleError(`keywords[${i}] must be a non-empty string`, `keywords[${i}]`);
    if (k.length > SUBSCRIBER_LIMITS.maxKeywordLength) {
      throw new SubscriberRuleError(`keywords[${i}] is longer than ${SUBSCRIBER_LIMITS.maxKeywordLength} characters`, `keywords[${i}]`);
    }
    const words = phraseWords(k);
    if (words.length === 0) throw new SubscriberRuleError(`keywords[${i}] '${k}' has no letters or digits to match`, `keywords[${i}]`);
    return { text: k, words, first: wordHash(words[0]!) };
  });
  const quiet = rules.quiet.map((q: QuietWindow, i) => {
    try {
      return makeWindow(q.from, q.to, q.tz ?? defaultTimeZone);
    } catch (err) {
      if (err instanceof TimeError) throw new SubscriberRuleError(`quiet[${i}]: ${err.message}`, `quiet[${i}]`);
      throw err;
    }
  });
  return {
    enabled: rules.enabled,
    allow: patterns(rules.allow, 'allow', normaliser),
    block: patterns(rules.block, 'block', normaliser),
    // Shared empty lists: fewer objects for each of a million subscribers.
    keywords: keywords.length > 0 ? keywords : NONE,
    quiet: quiet.length > 0 ? quiet : NONE,
  };
}

// ---- the compact plan ----------------------------------------------------------------------
//
// With a million subscribers, a subscriber's compiled objects are out of cache when a message
// comes for them, and every object looked into (the rules, each matcher, each list, each
// window) costs a cache miss: that was most of what subscriber rules cost a check. So each
// subscriber also gets a plan: one array of numbers that answers, for an E.164 sender, "can
// this list match?" (exact numbers and number prefixes compared as digits), holds the quiet
// windows as ids of shared windows, and the keywords' first-word hashes. The compiled objects
// are read only when the plan says a list may match (to confirm and to name the pattern) or
// a keyword's first word is in the message. Verdicts are the same (test/engine/subscriber-plan).
// Plans live one after another in chunks of typed arrays (PlanArena), read at their place.

/** Flags in plan[0]. */
const PLAN_ENABLED = 1;
/** A pattern other than an exact number or number prefix could match an E.164 sender. */
const PLAN_ALLOW_OTHER = 2;
const PLAN_BLOCK_OTHER = 4;
/** Layout: counts at fixed places, then the items in this order. */
const P_FLAGS = 0;
const P_ALLOW_SIZE = 1;
const P_BLOCK_SIZE = 2;
const P_ALLOW_EXACT = 3;
const P_BLOCK_EXACT = 4;
const P_ALLOW_PREFIXES = 5;
const P_BLOCK_PREFIXES = 6;
const P_QUIET = 7;
const P_KEYWORDS = 8;
const P_ITEMS = 9;

/** Quiet windows shared by every subscriber who wrote the same one (most write the same few). */
const SHARED_WINDOWS: Window[] = [];
const SHARED_WINDOW_IDS = new Map<string, number>();
const MAX_SHARED_WINDOWS = 100_000;

function sharedWindow(w: Window): number {
  const key = `${w.label}|${w.days}`;
  let id = SHARED_WINDOW_IDS.get(key);
  if (id === undefined) {
    if (SHARED_WINDOWS.length >= MAX_SHARED_WINDOWS) return -1;
    id = SHARED_WINDOWS.length;
    SHARED_WINDOWS.push(w);
    SHARED_WINDOW_IDS.set(key, id);
  }
  return id;
}

/** The plan of a compiled subscriber, to store in a PlanArena. */
export function planSubscriber(sub: CompiledSubscriber): number[] {
  const allow = sub.allow?.numberPlan();
  const block = sub.block?.numberPlan();
  // Windows by shared id; -1 when the registry is full (then the compiled windows are read).
  const windows: number[] = [];
  for (const w of sub.quiet) windows.push(sharedWindow(w));
  const plan: number[] = [
    (sub.enabled ? PLAN_ENABLED : 0) | (allow?.other ? PLAN_ALLOW_OTHER : 0) | (block?.other ? PLAN_BLOCK_OTHER : 0),
    sub.allow?.size ?? 0,
    sub.block?.size ?? 0,
    allow?.exact.length ?? 0,
    block?.exact.length ?? 0,
    allow?.prefixes.length ?? 0,
    block?.prefixes.length ?? 0,
    windows.length,
    sub.keywords.length,
  ];
  plan.push(...(allow?.exact ?? []), ...(block?.exact ?? []));
  for (const p of allow?.prefixes ?? []) plan.push(p.digits, p.length);
  for (const p of block?.prefixes ?? []) plan.push(p.digits, p.length);
  plan.push(...windows);
  for (const k of sub.keywords) plan.push(k.first);
  return plan;
}

/** How many numbers the plan at `at` takes. */
function planLength(plans: Float64Array, at: number): number {
  return quietAt(plans, at) - at + plans[at + P_QUIET]! + plans[at + P_KEYWORDS]!;
}

/** Numbers a chunk of the plan arena holds (128 KB); a plan (at most about 1,000) never spans two. */
const CHUNK_BITS = 14;
const CHUNK = 1 << CHUNK_BITS;
/** A plan's place within its chunk: `at & PLAN_OFFSET_MASK` (the chunk is `PlanArena.chunkOf(at)`). */
export const PLAN_OFFSET_MASK = CHUNK - 1;

/** What holds a plan's place: the arena moves the plan and updates `plan` (released: -1). */
export interface PlanOwner {
  plan: number;
}

/**
 * Plans one after another in typed arrays: a plan is read with one or two cache misses, not an
 * array object and then its elements. Fixed chunks, not one array that doubles: memory follows
 * the plans (a million subscribers' plans are about 150 MB) with no copy and no room held spare.
 * A replaced or removed subscriber's plan is released where it is; once more than half of a
 * chunk is released, its live plans move to the chunk being filled (`moved` is told of each)
 * and the chunk is used again. Each step moves at most one chunk's plans (a few hundred), so a
 * check never waits for the whole arena to be rebuilt.
 */
export class PlanArena {
  private readonly chunks: Float64Array[] = [];
  /** Per chunk: numbers released in it, and the owners whose plans were put there (some moved or released since). */
  private readonly waste: number[] = [];
  private readonly owners: PlanOwner[][] = [];
  /** Chunks emptied by a move, to fill again. */
  private readonly free: number[] = [];
  /** The chunk being filled, and where its next plan goes (CHUNK: full, or none yet). */
  private current = -1;
  private top = CHUNK;

  constructor(private readonly moved: (owner: PlanOwner) => void) {}

  get chunkCount(): number {
    return this.chunks.length;
  }

  /** Store `owner`'s plan; sets and returns its place. */
  add(plan: readonly number[], owner: PlanOwner): number {
    if (plan.length > CHUNK) throw new Error(`a subscriber plan of ${plan.length} numbers is longer than a chunk`);
    if (this.top + plan.length > CHUNK) this.nextChunk();
    this.chunks[this.current]!.set(plan, this.top);
    this.owners[this.current]!.push(owner);
    owner.plan = this.current * CHUNK + this.top;
    this.top += plan.length;
    return owner.plan;
  }

  private nextChunk(): void {
    const reused = this.free.pop();
    if (reused !== undefined) {
      this.current = reused;
    } else {
      this.current = this.chunks.length;
      this.chunks.push(new Float64Array(CHUNK));
      this.waste.push(0);
      this.owners.push([]);
    }
    this.top = 0;
  }

  /** The chunk that holds the plan at `at`. */
  chunkOf(at: number): Float64Array {
    return this.chunks[at >>> CHUNK_BITS]!;
  }

  /** `owner`'s plan is no longer read (its place becomes -1). */
  release(owner: PlanOwner): void {
    const at = owner.plan;
    const chunk = at >>> CHUNK_BITS;
    owner.plan = -1;
    this.waste[chunk]! += planLength(this.chunks[chunk]!, at & PLAN_OFFSET_MASK);
    if (chunk !== this.current && this.waste[chunk]! * 2 > CHUNK) this.empty(chunk);
  }

  /** Move a mostly released chunk's live plans to the chunk being filled, and free it. */
  private empty(chunk: number): void {
    const owners = this.owners[chunk]!;
    const data = this.chunks[chunk]!;
    this.owners[chunk] = [];
    this.waste[chunk] = 0;
    for (const owner of owners) {
      if (owner.plan < 0 || owner.plan >>> CHUNK_BITS !== chunk) continue; // released, or moved before
      const from = owner.plan & PLAN_OFFSET_MASK;
      this.add(Array.from(data.subarray(from, from + planLength(data, from))), owner);
      this.moved(owner);
    }
    this.free.push(chunk);
  }
}

/** The compiled rules behind a plan, fetched only when the plan says they must be read. */
export interface CompiledSource {
  compiled(): CompiledSubscriber;
}

export function planEnabled(plans: Float64Array, at: number): boolean {
  return (plans[at + P_FLAGS]! & PLAN_ENABLED) !== 0;
}

const POWERS_OF_TEN = Array.from({ length: 16 }, (_, i) => 10 ** i);

/** Where the plan's quiet window ids start (the keyword hashes follow them). */
function quietAt(plans: Float64Array, at: number): number {
  return at + P_ITEMS + plans[at + P_ALLOW_EXACT]! + plans[at + P_BLOCK_EXACT]! + 2 * (plans[at + P_ALLOW_PREFIXES]! + plans[at + P_BLOCK_PREFIXES]!);
}

/**
 * The sender as the plan compares it: its digits when it is an E.164 number, else -1 (then
 * only the lists themselves can tell).
 */
export function planSender(from: Address): number {
  return from.kind === 'e164' ? e164Digits(from.value) : -1;
}

/** Can the allow list (`block` false) or the block list match this sender? False is certain. */
export function planListMayMatch(plans: Float64Array, plan: number, block: boolean, sender: number, senderLength: number): boolean {
  if (plans[plan + (block ? P_BLOCK_SIZE : P_ALLOW_SIZE)] === 0) return false;
  if (sender < 0 || (plans[plan + P_FLAGS]! & (block ? PLAN_BLOCK_OTHER : PLAN_ALLOW_OTHER)) !== 0) return true;
  const allowExact = plans[plan + P_ALLOW_EXACT]!;
  const blockExact = plans[plan + P_BLOCK_EXACT]!;
  const allowPrefixes = plans[plan + P_ALLOW_PREFIXES]!;
  let at = plan + P_ITEMS + (block ? allowExact : 0);
  for (const end = at + (block ? blockExact : allowExact); at < end; at++) if (plans[at] === sender) return true;
  at = plan + P_ITEMS + allowExact + blockExact + (block ? 2 * allowPrefixes : 0);
  for (const end = at + 2 * (block ? plans[plan + P_BLOCK_PREFIXES]! : allowPrefixes); at < end; at += 2) {
    const length = plans[at + 1]!;
    if (senderLength >= length && Math.floor(sender / POWERS_OF_TEN[senderLength - length]!) === plans[at]) return true;
  }
  return false;
}

/** The first quiet window (in list order) that `time` falls in, or undefined. */
export function planQuietWindow(plans: Float64Array, plan: number, time: number, source: CompiledSource): Window | undefined {
  const count = plans[plan + P_QUIET]!;
  if (count === 0) return undefined;
  const at = quietAt(plans, plan);
  for (let i = 0; i < count; i++) {
    const id = plans[at + i]!;
    const w = id >= 0 ? SHARED_WINDOWS[id]! : source.compiled().quiet[i]!;
    if (inWindow(w, time)) return w;
  }
  return undefined;
}

/**
 * The first keyword (in list order) in the message: a keyword is looked at in the compiled
 * rules only when its first word's hash is among the message's.
 */
export function planKeyword(plans: Float64Array, plan: number, words: WordSource, source: CompiledSource): CompiledSubscriber['keywords'][number] | undefined {
  const count = plans[plan + P_KEYWORDS]!;
  if (count === 0) return undefined;
  const at = quietAt(plans, plan) + plans[plan + P_QUIET]!;
  const hashes = words.wordHashes;
  const n = words.wordCount;
  for (let k = 0; k < count; k++) {
    const first = plans[at + k]!;
    for (let i = 0; i < n; i++) {
      if (hashes[i] !== first) continue;
      const keyword = source.compiled().keywords[k]!;
      if (containsPhraseIn(words, keyword.words, keyword.first)) return keyword;
      break;
    }
  }
  return undefined;
}

const SUBSCRIBER_KEYS = ['block', 'allow', 'keywords', 'quiet', 'enabled'] as const;

function stringList(field: Field | undefined): string[] {
  if (!field) return [];
  if (field.isList() && field.items().length === 0) return [];
  return field.textList().map((f) => f.text());
}

/** Read one subscriber's rules from a located value (YAML/JSON file entry or HTTP body). */
export function readSubscriberRules(field: Field): SubscriberRules {
  const f = field.fields(SUBSCRIBER_KEYS);
  const quietField = f.get('quiet');
  const quiet: QuietWindow[] = [];
  if (quietField && !(quietField.isList() && quietField.items().length === 0)) {
    const items = quietField.isList() ? quietField.items() : [quietField];
    for (const item of items) {
      const q = item.fields(['from', 'to', 'tz']);
      const from = (q.get('from') ?? item.fail("quiet window needs 'from'")).text();
      const to = (q.get('to') ?? item.fail("quiet window needs 'to'")).text();
      const tz = q.get('tz')?.string();
      quiet.push(tz ? { from, to, tz } : { from, to });
    }
  }
  return {
    block: stringList(f.get('block')),
    allow: stringList(f.get('allow')),
    keywords: stringList(f.get('keywords')),
    quiet,
    enabled: f.get('enabled')?.boolean() ?? true,
  };
}

/**
 * Parse a `--subscribers` file: a mapping from subscriber number to rules. Every entry is
 * validated and compiled so errors name file, line and column; numbers are canonicalised.
 */
export function parseSubscribersFile(text: string, file: string, normaliser: AddressNormaliser, defaultTimeZone: string): Map<string, SubscriberRules> {
  const { root, problems } = parseSource(text, file);
  const out = new Map<string, SubscriberRules>();
  const all: RuleProblem[] = [...problems];
  if (all.length === 0 && root.node !== null) {
    collectProblems(all, () => {
      for (const [number, entry] of root.entries()) {
        collectProblems(all, () => {
          const address = normaliser.normalise(number);
          if (address.kind !== 'e164' && address.kind !== 'shortcode') {
            entry.fail(`'${number}' is not a subscriber number: expected E.164 (+447700900001) or a national number`);
          }
          const rules = readSubscriberRules(entry);
          try {
            compileSubscriber(rules, normaliser, defaultTimeZone);
          } catch (err) {
            if (err instanceof SubscriberRuleError) entry.fail(err.message);
            throw err;
          }
          out.set(address.value, rules);
        });
      }
    });
  }
  if (all.length > 0) throw new RuleLoadError(all);
  return out;
}
