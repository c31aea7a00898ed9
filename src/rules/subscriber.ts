/**
 * Subscriber rules (X.1242): validated with clear errors, compiled into matchers on first use.
 * No regular expressions: senders are exact/prefix/glob patterns, keywords are phrases matched
 * with the same normalisation as operator keywords, quiet hours are time windows.
 */
import type { AddressNormaliser } from '../message/address.js';
import { phraseWords, wordHash } from '../text/analysis.js';
import { AddressMatcher, PatternError, compilePattern, type CompiledPattern } from './patterns.js';
import { collectProblems, Field, RuleLoadError, parseSource, type RuleProblem } from './source.js';
import { SUBSCRIBER_LIMITS, type QuietWindow, type SubscriberRules } from './subscriber-types.js';
import { TimeError, makeWindow, type Window } from './time.js';

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
