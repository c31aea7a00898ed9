/**
 * The contract between the rule compiler and condition kinds. A kind owns one YAML key
 * (`keywords`, `sender`, `time`, …): it validates the value with positions (via Field) and
 * compiles it into a Condition, a predicate over one message that returns a detail string when
 * it matches. Kinds are grouped by family in this folder and listed in index.ts.
 */
import type { AddressNormaliser } from '../../message/address.js';
import type { Channel, Message } from '../../message/types.js';
import type { TextAnalysis } from '../../text/analysis.js';
import type { Field } from '../source.js';
import type { VolumePlanBuilder } from './volume.js';

/** What a condition may look at while a message is checked. No I/O, no promises. */
export interface MatchContext {
  readonly message: Message;
  readonly analysis: TextAnalysis;
  /** How many distinct phrases of a keyword leaf matched (0 when none). */
  keywordHits(leaf: number): number;
  /** The first phrase of a keyword leaf that matched, as written in the rule. */
  firstKeyword(leaf: number): string;
  /** `keyword '…'` for that phrase, made once when the rules were compiled. */
  firstKeywordDetail(leaf: number): string;
  /** Whether another rule (by index) matched; evaluated on demand and memoised. */
  ruleMatched(index: number): boolean;
  /** Canonical form of a phone number found in the text (cached by the engine). */
  normaliseNumber(raw: string): string;
  /** What a volume counter (by index in the rule set's plan) observed for this message. */
  volumeCount(counter: number): number;
}

export interface Condition {
  /** A short description of what matched, or null when the condition does not hold. */
  test(ctx: MatchContext): string | null;
  /**
   * Set by keyword conditions: the condition can only hold when the keyword automaton hit this
   * leaf, so a rule gated on it is skipped for messages that do not contain its phrases.
   */
  readonly keywordLeaf?: number;
  /**
   * Set by a keyword list that needs one phrase: it holds exactly when its leaf was hit, with
   * `keywordDetail` as its detail, so a rule of that one condition (most operator rules) is
   * settled by the rule set from the leaf's counts without calling `test`.
   */
  readonly keywordDetailOnly?: boolean;
  /** The condition can only hold on this channel: rules with it are skipped for the other. */
  readonly channel?: Channel;
  /** The condition can only hold when the text has a link: skipped for texts without one. */
  readonly needsUrls?: boolean;
  /** Only when the folded text may hold an ASCII digit (`mayHoldDigit('folded')`): skipped for texts without. */
  readonly needsDigit?: boolean;
  /** Only when an obfuscation was undone (`obfuscations` ≥ 1): skipped for plain texts. */
  readonly needsObfuscation?: boolean;
  /**
   * Rules (by index) that must match for the condition to hold, known once every reference is
   * resolved: a rule requiring a keyword-gated rule is gated by the same keywords.
   */
  readonly requiredRules?: () => readonly number[];
}

/** A keyword condition's detail: the first phrase found (`keyword '…'`), and how many more. */
export function keywordDetail(first: string, hits: number): string {
  return hits > 1 ? `${first} and ${hits - 1} more` : first;
}

/** The rules every one of `parts` requires. */
export function requiredByAll(parts: readonly Condition[]): () => readonly number[] {
  return () => parts.flatMap((p) => p.requiredRules?.() ?? []);
}

/**
 * What a condition that needs every one of `parts` to hold inherits from them: a keyword leaf
 * any of them needs, a link, a digit or an obfuscation any of them needs, the rules they require.
 */
export function allOf(parts: readonly Condition[]): Pick<Condition, 'keywordLeaf' | 'needsUrls' | 'needsDigit' | 'needsObfuscation' | 'requiredRules'> {
  const leaf = parts.find((p) => p.keywordLeaf !== undefined)?.keywordLeaf;
  return {
    ...(leaf !== undefined ? { keywordLeaf: leaf } : {}),
    ...(parts.some((p) => p.needsUrls) ? { needsUrls: true } : {}),
    ...(parts.some((p) => p.needsDigit) ? { needsDigit: true } : {}),
    ...(parts.some((p) => p.needsObfuscation) ? { needsObfuscation: true } : {}),
    requiredRules: requiredByAll(parts),
  };
}

export interface CompileContext {
  readonly normaliser: AddressNormaliser;
  readonly defaultTimeZone: string;
  /** The rule being compiled, for messages. */
  readonly ruleId: string;
  /** Register phrases (one keyword leaf) in the shared automaton; returns the leaf id. */
  addKeywordLeaf(phrases: readonly Field[]): number;
  /** Compile an inline mapping of conditions (all must hold), for all/any/not. */
  compileConditions(field: Field): Condition;
  /** A reference to another rule by id, resolved once every file is read. */
  ruleReference(id: string, field: Field): Condition;
  /** Volume counters of the rule set: `add` declares one and returns its index. */
  readonly volume: VolumePlanBuilder;
}

export interface ConditionKind {
  /** The YAML key. */
  readonly key: string;
  /** One line for `spamgate rules kinds` and the docs. */
  readonly summary: string;
  /** Every condition of this kind needs this channel (email header kinds, for instance). */
  readonly channel?: Channel;
  compile(field: Field, ctx: CompileContext): Condition;
}
