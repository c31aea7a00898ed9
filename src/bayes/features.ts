/**
 * What the classifier looks at. Built from the shared TextAnalysis (so the classifier sees the
 * same de-obfuscated words as the rules) plus, for email, a few header fields. Tokens are
 * prefixed by kind so a word in the subject and the same word in the body count apart.
 * A message yields each feature once (presence, not frequency), as in SpamBayes and bogofilter.
 */
import type { AddressKind, Message } from '../message/types.js';
import { SCRIPTS, type Script, type TextAnalysis } from '../text/analysis.js';
import { tokenHash } from './token-table.js';
import { collectEmailFeatures, collectRawTokens, DEFAULT_EMAIL_FEATURES, type EmailFeatureOptions } from './email-features.js';

export interface FeatureOptions {
  /**
   * Pairs of neighbouring words. Off by default: on the UCI SMS corpus they lowered MCC
   * (0.952 vs 0.964, 10-fold): chi-square combining counts correlated clues twice.
   */
  readonly bigrams: boolean;
  /** URL hosts, phone shapes, money, capitals and length bands. */
  readonly special: boolean;
  /** Numbers with units (150p, 10am) also as a shape, and shouted words as a marker. */
  readonly shapes?: boolean;
  /** Header tokens for email (email-features.ts); default DEFAULT_EMAIL_FEATURES. */
  readonly email?: EmailFeatureOptions;
}

/** Measured on the UCI SMS corpus, 10-fold, 5 seeds: special tokens +0.03 MCC, shapes +0.001 AUC. */
export const DEFAULT_FEATURES: FeatureOptions = { bigrams: false, special: true, shapes: true };

const MAX_WORD = 40;
/**
 * Where the unit starts in what /^\d+([a-z]+)$/ matches (150p → 3, 10am → 2), or -1 when it
 * does not match; no regex per word.
 */
function numberUnit(w: string): number {
  let i = 0;
  while (i < w.length && w.charCodeAt(i) >= 0x30 && w.charCodeAt(i) <= 0x39) i++;
  if (i === 0 || i === w.length) return -1;
  for (let k = i; k < w.length; k++) {
    const c = w.charCodeAt(k);
    if (c < 0x61 || c > 0x7a) return -1;
  }
  return i;
}

// ---- token hashes without building the token ---------------------------------------------
//
// tokenHash is FNV-1a, so the hash of 'url:' + host is the state after 'url:' carried on over
// the host: special tokens are hashed where they are found, with no string made per token.

const FNV_PRIME = 0x01000193;

/** FNV-1a state after `s[from..to)`, starting from state `h`. */
function fnv(h: number, s: string, from: number, to: number): number {
  for (let i = from; i < to; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
  return h;
}

/** The hash of a finished state, as tokenHash gives it (never 0). */
function finish(h: number): number {
  return h === 0 ? 1 : h | 0;
}

/** A token prefix with its FNV-1a state (the hash so far, before `finish`). */
interface Prefix {
  readonly text: string;
  readonly state: number;
}

const prefix = (text: string): Prefix => ({ text, state: fnv(0x811c9dc5 | 0, text, 0, text.length) });

/** A token from a small fixed set, hashed once at start-up. */
interface Constant {
  readonly token: string;
  readonly hash: number;
}

const constant = (token: string): Constant => ({ token, hash: tokenHash(token) });

const LENGTH_BANDS = ['len:<20', 'len:<50', 'len:<100', 'len:<140', 'len:<161', 'len:<400', 'len:400+'].map(constant);
function lengthBand(n: number): Constant {
  return LENGTH_BANDS[n < 20 ? 0 : n < 50 ? 1 : n < 100 ? 2 : n < 140 ? 3 : n < 161 ? 4 : n < 400 ? 5 : 6]!;
}

const CAPS_BANDS = ['caps:<5', 'caps:<20', 'caps:<50', 'caps:<80', 'caps:80+'].map(constant);
function capsBand(r: number): Constant {
  return CAPS_BANDS[r < 0.05 ? 0 : r < 0.2 ? 1 : r < 0.5 ? 2 : r < 0.8 ? 3 : 4]!;
}

function isDigits(w: string): boolean {
  for (let i = 0; i < w.length; i++) {
    const c = w.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return w.length > 0;
}

// ---- deduplication by hash, without a Set per message ------------------------------------
//
// An open-addressing table stamped per call (never cleared) and the hashes in first-seen order
// (the order a Set gave, which the combiner's stable sort of clues keeps). Calls are
// synchronous, so one table serves them all.

class Dedup {
  keys = new Int32Array(1024);
  stamps = new Int32Array(1024);
  shift = 22; // 32 - log2(size)
  stamp = 0;
  found = new Int32Array(512);
  count = 0;

  begin(): void {
    if (++this.stamp === 0x7fffffff) {
      this.stamp = 1;
      this.stamps.fill(0);
    }
    this.count = 0;
  }

  insert(hash: number): void {
    const keys = this.keys;
    const stamps = this.stamps;
    const stamp = this.stamp;
    const mask = keys.length - 1;
    let slot = Math.imul(hash, 0x9e3779b1) >>> this.shift;
    while (stamps[slot] === stamp) {
      if (keys[slot] === hash) return;
      slot = (slot + 1) & mask;
    }
    stamps[slot] = stamp;
    keys[slot] = hash;
    if (this.count === this.found.length) {
      const bigger = new Int32Array(this.found.length * 2);
      bigger.set(this.found);
      this.found = bigger;
    }
    this.found[this.count++] = hash;
    if (this.count * 2 > keys.length) this.regrow();
  }

  private regrow(): void {
    const size = this.keys.length * 2;
    this.keys = new Int32Array(size);
    this.stamps = new Int32Array(size);
    this.shift = 32 - Math.log2(size);
    this.stamp = 1;
    const mask = size - 1;
    for (let i = 0; i < this.count; i++) {
      const hash = this.found[i]!;
      let slot = Math.imul(hash, 0x9e3779b1) >>> this.shift;
      while (this.stamps[slot] === 1) slot = (slot + 1) & mask;
      this.stamps[slot] = 1;
      this.keys[slot] = hash;
    }
  }
}

const dedup = new Dedup();

// Index n: the token for a count of n (the last for more).
const URLS = ['', 'urls:1', 'urls:2', 'urls:3'].map(constant);
const OBFUSCATIONS = ['', 'obf:1', 'obf:2', 'obf:3'].map(constant);
const SHOUTED = ['', 'shouted:1', 'shouted:2', 'shouted:3', 'shouted:4'].map(constant);
const BANGS = ['', 'bang:1', 'bang:2', 'bang:3'].map(constant);
const SCRIPT_TOKENS = Object.fromEntries(SCRIPTS.map((s) => [s, constant('script:' + s)])) as Record<Script, Constant>;
const FROM_TOKENS: Record<AddressKind, Constant> = {
  e164: constant('from:e164'),
  shortcode: constant('from:shortcode'),
  alphanumeric: constant('from:alphanumeric'),
  email: constant('from:email'),
  unknown: constant('from:unknown'),
};
/** FROM_TOKENS[kind] by comparison: a lookup by string key on every message costs more. */
function fromToken(kind: AddressKind): Constant {
  return kind === 'e164' ? FROM_TOKENS.e164 : kind === 'alphanumeric' ? FROM_TOKENS.alphanumeric : kind === 'shortcode' ? FROM_TOKENS.shortcode : kind === 'email' ? FROM_TOKENS.email : FROM_TOKENS.unknown;
}
const URL_SHORTENER = constant('url:shortener');
const URL_IP = constant('url:ip');
const MONEY = constant('money');
/** 'money:' + a currency symbol, by the symbol's code unit (each is one). */
const MONEY_SYMBOLS = new Map([...'£$€¥₹₦'].map((c) => [c.charCodeAt(0), constant('money:' + c)]));
const URL_HOST = prefix('url:');
const URL_DOMAIN = prefix('urldom:');
const NUMBER_UNIT = prefix('numunit:');
const NUMBER_SHAPE = prefix('num:');

/** Where features go: strings (for reading) or their hashes (for the model). */
interface FeatureSink {
  /** Whether the sink reads tokens' text (the hash sink needs only hashes for words). */
  readonly readable: boolean;
  add(token: string): void;
  /** A token whose `tokenHash` is known (a word from the tokenizer, a constant). */
  addHashed(token: string, hash: number): void;
  /** The token `p.text + s[from..to)`, which the hash sink hashes without building it. */
  addPrefixed(p: Prefix, s: string, from: number, to: number): void;
}

const HASH_SINK: FeatureSink = {
  readable: false,
  add: (token) => dedup.insert(tokenHash(token)),
  addHashed: (_token, hash) => dedup.insert(hash),
  addPrefixed: (p, s, from, to) => dedup.insert(finish(fnv(p.state, s, from, to))),
};

function readableSink(add: (token: string) => void): FeatureSink {
  return { readable: true, add, addHashed: add, addPrefixed: (p, s, from, to) => add(p.text + s.slice(from, to)) };
}

/**
 * Feature hashes of a message, deduplicated. Hashes, not strings, because that is what the
 * token table stores; `featureStrings` gives the readable form for debugging and tests.
 */
export function extractFeatures(message: Message, analysis: TextAnalysis, options: FeatureOptions = DEFAULT_FEATURES): Int32Array {
  const f = featureScratch(message, analysis, options);
  return f.hashes.slice(0, f.count);
}

export interface FeatureScratch {
  /** The first `count` entries are the feature hashes. */
  readonly hashes: Int32Array;
  readonly count: number;
}

/**
 * extractFeatures without the copy (allocating a typed array costs as much as hashing a
 * message's words): the hashes stay valid only until the next call, so use them at once.
 */
export function featureScratch(message: Message, analysis: TextAnalysis, options: FeatureOptions = DEFAULT_FEATURES): FeatureScratch {
  dedup.begin();
  collect(message, analysis, options, HASH_SINK);
  scratch.hashes = dedup.found;
  scratch.count = dedup.count;
  return scratch;
}

/** featureScratch's answer: one object, reused like the hashes in it. */
const scratch: { hashes: Int32Array; count: number } = { hashes: dedup.found, count: 0 };

export function featureStrings(message: Message, analysis: TextAnalysis, options: FeatureOptions = DEFAULT_FEATURES): string[] {
  const out = new Set<string>();
  collect(message, analysis, options, readableSink((t) => out.add(t)));
  return [...out];
}

const SHOUTED_WORD = /\b[A-Z]{3,}\b/g;
const THREE_CAPITALS = /[A-Z]{3}/;

/** Words of 3+ capitals standing alone; the regex only runs where 3 capitals meet. */
function shoutedWords(text: string): number {
  return THREE_CAPITALS.test(text) ? (text.match(SHOUTED_WORD)?.length ?? 0) : 0;
}

function bangCount(text: string): number {
  let bangs = 0;
  for (let i = text.indexOf('!'); i >= 0; i = text.indexOf('!', i + 1)) bangs++;
  return bangs;
}

// Reading analysis.moneyAmounts runs the money regex over the folded text (lower-casing it
// first): most texts with a digit hold no amount, and one quick test on the original says so.
// On text of printable ASCII, tab and newline (which folding only lower-cases) an amount needs
// '$' (the one ASCII symbol of the money regex) or a digit followed, past [0-9,.]* and at most
// one space, by the first letter of a unit (pounds, dollars, euros, eur, gbp, usd, quid, naira,
// rupees, ksh): every match of the money regex matches MONEY_GATE, so a miss is exact.
// Any other character (not plain text) sends the text to the analysis' regex as well.
const MONEY_GATE = /\$|\d[\d,.]*\s?[pdeguqnrk]|[^\x20-\x7e\t\n]/i;

function mayHoldMoney(analysis: TextAnalysis): boolean {
  return analysis.mayHoldDigit('folded') && MONEY_GATE.test(analysis.original);
}

function collect(message: Message, analysis: TextAnalysis, options: FeatureOptions, sink: FeatureSink): void {
  const add = sink.add;
  const hashes = analysis.wordHashes;
  const emailOptions = message.email ? (options.email ?? DEFAULT_EMAIL_FEATURES) : undefined;
  const minWord = emailOptions ? emailOptions.minWordLength : 0;
  if (emailOptions && emailOptions.body !== 'words') collectRawTokens(message.text, add);
  // A word's text is sliced only when something reads it: a readable sink, bigrams, or a
  // word starting with a digit (number shapes and units); plain words go in by their hash.
  const wantText = sink.readable || options.bigrams;
  const words = emailOptions?.body === 'raw' ? 0 : analysis.wordCount;
  let previous = '';
  for (let i = 0; i < words; i++) {
    const length = analysis.wordLength(i);
    if (length < minWord) continue;
    let w: string | undefined;
    let first: number;
    if (length > MAX_WORD) {
      w = 'long:' + Math.floor(length / 10);
      add(w);
      first = w.charCodeAt(0);
    } else {
      first = analysis.wordCode(i);
      if (length >= 5 && first >= 0x30 && first <= 0x39 && isDigits((w = analysis.word(i)))) {
        // Its shape: 'num:', the first two digits, '/', the length (two digits at most: ≤ MAX_WORD).
        let h = fnv(NUMBER_SHAPE.state, w, 0, 2);
        h = Math.imul(h ^ 0x2f, FNV_PRIME);
        if (length >= 10) h = Math.imul(h ^ (0x30 + Math.floor(length / 10)), FNV_PRIME);
        h = Math.imul(h ^ (0x30 + (length % 10)), FNV_PRIME);
        w = wantText ? `${NUMBER_SHAPE.text}${w.slice(0, 2)}/${length}` : 'n';
        sink.addHashed(w, finish(h));
        first = 0x6e; // 'n', as the shape starts: no number unit follows
      } else {
        if (wantText) w = analysis.word(i);
        sink.addHashed(w ?? '', hashes[i]!);
      }
    }
    if (options.shapes && first >= 0x30 && first <= 0x39) {
      w ??= analysis.word(i);
      const unit = numberUnit(w);
      if (unit >= 0) sink.addPrefixed(NUMBER_UNIT, w, unit, w.length);
    }
    if (options.bigrams) {
      w ??= analysis.word(i);
      if (previous !== '') add(previous + ' ' + w);
      previous = w;
    }
  }
  if (options.shapes) {
    // Fewer than three capitals, no shouted word: capitals = capsRatio × letters, and there are
    // no more letters than code units (capsRatio is read anyway for its band; 2.5 for rounding).
    const shouted = analysis.capsRatio * analysis.original.length >= 2.5 ? shoutedWords(analysis.original) : 0;
    const bangs = bangCount(analysis.original);
    if (shouted > 0) emit(sink, SHOUTED[Math.min(shouted, 4)]!);
    if (bangs > 0) emit(sink, BANGS[Math.min(bangs, 3)]!);
  }
  if (options.special) {
    const urls = analysis.urls;
    for (let i = 0; i < urls.length; i++) {
      const u = urls[i]!;
      sink.addPrefixed(URL_HOST, u.host, 0, u.host.length);
      sink.addPrefixed(URL_DOMAIN, u.domain, 0, u.domain.length);
      if (u.shortener) emit(sink, URL_SHORTENER);
      if (u.ipHost) emit(sink, URL_IP);
    }
    if (urls.length > 0) emit(sink, URLS[Math.min(urls.length, 3)]!);
    if (mayHoldMoney(analysis)) {
      const money = analysis.moneyAmounts;
      for (let i = 0; i < money.length; i++) emit(sink, moneyToken(money[i]!));
    }
    emit(sink, lengthBand(analysis.length));
    emit(sink, capsBand(analysis.capsRatio));
    if (analysis.obfuscations > 0) emit(sink, OBFUSCATIONS[Math.min(analysis.obfuscations, 3)]!);
    if (analysis.script !== 'latin') emit(sink, SCRIPT_TOKENS[analysis.script]);
    emit(sink, fromToken(message.from.kind));
  }
  if (message.email) collectEmailFeatures(message.email, options.email ?? DEFAULT_EMAIL_FEATURES, add, analysis.urls);
}

function emit(sink: FeatureSink, c: Constant): void {
  sink.addHashed(c.token, c.hash);
}

/** 'money:' + the first currency symbol in an amount (where /[£$€¥₹₦]/ finds it), else 'money'. */
function moneyToken(amount: string): Constant {
  for (let i = 0; i < amount.length; i++) {
    const c = MONEY_SYMBOLS.get(amount.charCodeAt(i));
    if (c !== undefined) return c;
  }
  return MONEY;
}
