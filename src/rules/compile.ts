/**
 * Operator rule files → one CompiledRuleSet. Compile once, check many: every keyword of every
 * rule goes into one automaton; a rule with a keyword condition is only evaluated for messages
 * that contain one of its phrases; meta rules (all/any/not over rule ids) are evaluated on
 * demand and memoised per message. A compiled set is immutable: reloading builds a new one.
 */
import { AddressNormaliser } from '../message/address.js';
import type { Message, MessageInput, Channel } from '../message/types.js';
import type { TextAnalysis } from '../text/analysis.js';
import { phraseWords } from '../text/analysis.js';
import type { Action, Thresholds } from '../engine/types.js';
import { CONDITION_KINDS } from './conditions/index.js';
import { allOf, keywordDetail, requiredByAll, type CompileContext, type Condition, type MatchContext } from './conditions/types.js';
import { VolumePlanBuilder, type VolumePlan } from './conditions/volume.js';
import { MemoryVolumeStore, type VolumeStore } from './volume-store.js';
import { KeywordIndex } from './keyword-index.js';
import { ProblemError, type Field, RuleLoadError, parseSource, suggestion, type RuleProblem } from './source.js';
import { assertTimeZone, TimeError } from './time.js';

export type RuleAction = Action | 'allow';

export interface RuleExample {
  readonly input: MessageInput;
  /** Where the example is written, for `rules test` failures. */
  readonly file: string;
  readonly line: number;
}

export interface CompiledRule {
  readonly index: number;
  readonly id: string;
  readonly description: string;
  readonly score: number;
  readonly action?: RuleAction;
  /** An enforced rule applies even when the subscriber allows the sender or turned filtering off. */
  readonly enforce: boolean;
  /** Ids starting with `__` are building blocks for meta rules: they never score or show. */
  readonly helper: boolean;
  readonly file: string;
  readonly line: number;
  readonly examples: { readonly match: readonly RuleExample[]; readonly noMatch: readonly RuleExample[] };
  /** The rule reads volume counters: its verdict depends on the traffic seen before. */
  readonly volume?: boolean;
}

export interface RuleHit {
  readonly rule: CompiledRule;
  readonly detail: string;
}

const RULE_KEYS = ['id', 'description', 'score', 'action', 'enforce', 'examples'] as const;
const FILE_KEYS = ['rules', 'thresholds', 'description'] as const;
const ACTIONS: readonly RuleAction[] = ['allow', 'tag', 'quarantine', 'block'];
const RULE_ID = /^(?:__)?[A-Z][A-Z0-9_]{1,63}$/;

interface RuleBody {
  readonly conditions: readonly Condition[];
  /** Keyword leaf that gates the rule, or -1 (set at build when a rule it requires is gated). */
  gate: number;
  /** Channels the rule can match on: bit 1 sms, bit 2 email. */
  readonly channels: number;
  /** What the text must have for the rule to match: TEXT_HAS_URL, TEXT_HAS_DIGIT, TEXT_HAS_OBFUSCATION (bits of `textTraits`). */
  readonly needs: number;
}

/** What a text has, as bits: rules without a keyword gate are listed per combination (see alwaysEvaluate). */
const TEXT_HAS_URL = 1;
const TEXT_HAS_DIGIT = 2;
const TEXT_HAS_OBFUSCATION = 4;
const TEXT_TRAITS = 8;

function textTraits(analysis: TextAnalysis): number {
  return (analysis.urls.length > 0 ? TEXT_HAS_URL : 0) | (analysis.mayHoldDigit('folded') ? TEXT_HAS_DIGIT : 0) | (analysis.obfuscations > 0 ? TEXT_HAS_OBFUSCATION : 0);
}

const CHANNEL_BIT = { sms: 1, email: 2 } as const;

export interface CompileOptions {
  readonly normaliser?: AddressNormaliser;
  /** Zone for time windows that name none. */
  readonly defaultTimeZone?: string;
}

// ---- per-message evaluation --------------------------------------------------------------

const UNKNOWN = 0;
const TRUE = 1;
const FALSE = 2;
const IN_PROGRESS = 3;

class Evaluation implements MatchContext {
  message: Message;
  analysis: TextAnalysis;
  generation = 0;
  /** CHANNEL_BIT of the message's channel, found once (a lookup by string key per rule costs). */
  channelBit = 0;

  constructor(
    private readonly set: CompiledRuleSet,
    message: Message,
    analysis: TextAnalysis,
  ) {
    this.message = message;
    this.analysis = analysis;
  }

  /** The same object for every check of a rule set (checks are synchronous): no allocation per message. */
  begin(message: Message, analysis: TextAnalysis, generation: number): this {
    this.message = message;
    this.analysis = analysis;
    this.generation = generation;
    this.channelBit = message.channel === 'email' ? CHANNEL_BIT.email : CHANNEL_BIT.sms;
    return this;
  }

  keywordHits(leaf: number): number {
    return this.set.leafStamp[leaf] === this.generation ? this.set.leafCount[leaf]! : 0;
  }

  firstKeyword(leaf: number): string {
    return this.set.keywords.phrases[this.set.leafFirst[leaf]!]!.text;
  }

  firstKeywordDetail(leaf: number): string {
    return this.set.phraseDetail[this.set.leafFirst[leaf]!]!;
  }

  ruleMatched(index: number): boolean {
    return this.set.evaluateRule(index, this) !== null;
  }

  normaliseNumber(raw: string): string {
    return this.set.normaliser.normalise(raw).value;
  }

  volumeCount(counter: number): number {
    return this.set.volume!.value(counter);
  }
}

export class CompiledRuleSet {
  readonly rules: readonly CompiledRule[];
  readonly byId: ReadonlyMap<string, CompiledRule>;
  // Scratch state for one check at a time (checks are synchronous): stamped, never cleared.
  readonly leafStamp: Int32Array;
  readonly leafCount: Uint16Array;
  readonly leafFirst: Int32Array;
  private readonly phraseStamp: Int32Array;
  private readonly ruleStamp: Int32Array;
  private readonly ruleState: Uint8Array;
  private readonly ruleDetail: Array<string | null>;
  // What the hot loops read of each rule, leaf and phrase, in flat typed arrays: a check touches
  // a handful of a thousand rules, and each object looked into (a rule body, a leaf's list) was
  // a cache miss of its own.
  /** Per rule: its keyword gate leaf or -1; the channels it can match on; whether it needs a link. */
  private readonly ruleGate: Int32Array;
  private readonly ruleChannels: Uint8Array;
  private readonly ruleNeedsUrls: Uint8Array;
  /** Per rule: 1 when its one condition is its keyword gate needing one phrase (see Condition.keywordDetailOnly). */
  private readonly ruleKeywordOnly: Uint8Array;
  private readonly ruleConditions: ReadonlyArray<readonly Condition[]>;
  /** The rules a leaf gates: ruleOfLeaf[leafStart[leaf] … leafStart[leaf + 1]). */
  private readonly leafStart: Int32Array;
  private readonly ruleOfLeaf: Int32Array;
  /** Per phrase: its leaf, and its verdict detail (`keyword '…'`). */
  private readonly phraseLeaf: Int32Array;
  readonly phraseDetail: readonly string[];
  /**
   * Rules without a keyword gate, by what they can match: index TEXT_TRAITS × (channel is
   * email) + the text's traits; a rule that needs a link, a digit or an obfuscation is left out
   * of the lists for texts without (most texts have none of the three, and such a rule, a
   * regex for prices, numbers in the text, costs even when its own prefilter says no).
   */
  private readonly alwaysEvaluate: readonly Int32Array[];
  /** Reused per check: phrase ids found by the keyword scan, gated rules to evaluate. */
  private readonly phraseHits: number[] = [];
  private readonly candidates: number[] = [];
  /** The last `match`'s hits (rule, detail), in parallel arrays: no object per hit. */
  private readonly hitRules: CompiledRule[] = [];
  private readonly hitDetails: string[] = [];
  private generation = 0;
  /** The evaluation context, made once and begun afresh for each message (checks are synchronous). */
  private current: Evaluation | undefined;

  constructor(
    rules: readonly CompiledRule[],
    bodies: readonly RuleBody[],
    readonly keywords: KeywordIndex,
    leafCount: number,
    readonly normaliser: AddressNormaliser,
    readonly thresholds: Partial<Thresholds> | undefined,
    readonly files: readonly string[],
    /** Volume counters the rules read; undefined when no rule does. */
    readonly volume?: VolumePlan,
  ) {
    this.rules = rules;
    this.byId = new Map(rules.map((r) => [r.id, r]));
    this.leafStamp = new Int32Array(leafCount);
    this.leafCount = new Uint16Array(leafCount);
    this.leafFirst = new Int32Array(leafCount);
    this.phraseStamp = new Int32Array(keywords.size);
    this.ruleStamp = new Int32Array(rules.length);
    this.ruleState = new Uint8Array(rules.length);
    this.ruleDetail = new Array<string | null>(rules.length).fill(null);
    const leafRules: number[][] = Array.from({ length: leafCount }, () => []);
    const always: number[][] = Array.from({ length: 2 * TEXT_TRAITS }, () => []);
    bodies.forEach((b, i) => {
      if (rules[i]!.helper) return;
      if (b.gate >= 0) leafRules[b.gate]!.push(i);
      else {
        for (const [channel, base] of [[CHANNEL_BIT.sms, 0], [CHANNEL_BIT.email, TEXT_TRAITS]] as const) {
          if ((b.channels & channel) === 0) continue;
          for (let traits = 0; traits < TEXT_TRAITS; traits++) if ((b.needs & ~traits) === 0) always[base + traits]!.push(i);
        }
      }
    });
    this.leafStart = new Int32Array(leafCount + 1);
    leafRules.forEach((list, leaf) => (this.leafStart[leaf + 1] = this.leafStart[leaf]! + list.length));
    this.ruleOfLeaf = Int32Array.from(leafRules.flat());
    this.ruleGate = Int32Array.from(bodies, (b) => b.gate);
    this.ruleChannels = Uint8Array.from(bodies, (b) => b.channels);
    this.ruleNeedsUrls = Uint8Array.from(bodies, (b) => ((b.needs & TEXT_HAS_URL) !== 0 ? 1 : 0));
    this.ruleKeywordOnly = Uint8Array.from(bodies, (b) => {
      const only = b.conditions.length === 1 ? b.conditions[0]! : undefined;
      return only?.keywordDetailOnly === true && only.keywordLeaf === b.gate ? 1 : 0;
    });
    this.ruleConditions = bodies.map((b) => b.conditions);
    this.phraseLeaf = Int32Array.from(keywords.phrases, (p) => p.leaf);
    this.phraseDetail = keywords.phrases.map((p) => p.detail);
    this.alwaysEvaluate = always.map((list) => Int32Array.from(list));
  }

  /** Evaluate one rule for the current message: its detail, or null. Memoised per message. */
  evaluateRule(index: number, ev: Evaluation): string | null {
    if (this.ruleStamp[index] === ev.generation) {
      const state = this.ruleState[index];
      if (state === TRUE) return this.ruleDetail[index]!;
      if (state === FALSE || state === IN_PROGRESS) return null;
    }
    this.ruleStamp[index] = ev.generation;
    const gate = this.ruleGate[index]!;
    if (
      (gate >= 0 && this.leafStamp[gate] !== ev.generation) ||
      (this.ruleChannels[index]! & ev.channelBit) === 0 ||
      (this.ruleNeedsUrls[index] === 1 && ev.analysis.urls.length === 0)
    ) {
      this.ruleState[index] = FALSE;
      return null;
    }
    if (this.ruleKeywordOnly[index] === 1) {
      // The gate leaf was hit (checked above), which is all the one condition asks.
      const hit = keywordDetail(this.phraseDetail[this.leafFirst[gate]!]!, this.leafCount[gate]!);
      this.ruleState[index] = TRUE;
      this.ruleDetail[index] = hit;
      return hit;
    }
    this.ruleState[index] = IN_PROGRESS;
    let detail = '';
    const conditions = this.ruleConditions[index]!;
    for (let k = 0; k < conditions.length; k++) {
      const d = conditions[k]!.test(ev);
      if (d === null) {
        this.ruleState[index] = FALSE;
        return null;
      }
      detail = detail === '' ? d : `${detail}; ${d}`;
    }
    this.ruleState[index] = TRUE;
    this.ruleDetail[index] = detail;
    return detail;
  }

  /**
   * Every non-helper rule that matches, in file order. No I/O, no allocation per rule. Volume
   * counters (if any rule reads them) count the message in `volume` first, once.
   */
  evaluate(message: Message, analysis: TextAnalysis, volume?: VolumeStore): RuleHit[] {
    const n = this.match(message, analysis, volume);
    const hits: RuleHit[] = [];
    for (let i = 0; i < n; i++) hits.push({ rule: this.hitRules[i]!, detail: this.hitDetails[i]! });
    return hits;
  }

  /**
   * `evaluate` for the engine: returns how many rules match and leaves them in this set's
   * scratch, read with `hitRule` and `hitDetail` until the next `match` (checks are
   * synchronous, and the engine reads them before anything it calls could check again).
   */
  match(message: Message, analysis: TextAnalysis, volume?: VolumeStore): number {
    if (this.volume !== undefined) this.volume.observe(message, analysis, volume);
    let generation = ++this.generation;
    if (generation === 0x7fffffff) {
      this.resetStamps();
      generation = this.generation; // the stamps were cleared for generation 1: use it throughout
    }
    const ev = (this.current ??= new Evaluation(this, message, analysis)).begin(message, analysis, generation);

    // Scratch arrays are overwritten from 0 with a count kept here (resetting .length costs a call).
    const candidates = this.candidates;
    let count = 0;
    if (this.keywords.size > 0) {
      const found = this.phraseHits;
      const phraseCount = this.keywords.scan(analysis, found, ev.channelBit);
      const phraseLeaf = this.phraseLeaf;
      for (let p = 0; p < phraseCount; p++) {
        const phraseId = found[p]!;
        if (this.phraseStamp[phraseId] === generation) continue; // count each phrase once
        this.phraseStamp[phraseId] = generation;
        const leaf = phraseLeaf[phraseId]!;
        if (this.leafStamp[leaf] !== generation) {
          this.leafStamp[leaf] = generation;
          this.leafCount[leaf] = 1;
          this.leafFirst[leaf] = phraseId;
          const end = this.leafStart[leaf + 1]!;
          for (let r = this.leafStart[leaf]!; r < end; r++) candidates[count++] = this.ruleOfLeaf[r]!;
        } else {
          this.leafCount[leaf]!++;
        }
      }
    }

    const hitRules = this.hitRules;
    const hitDetails = this.hitDetails;
    let hits = 0;
    const always = this.alwaysEvaluate[(message.channel === 'email' ? TEXT_TRAITS : 0) + textTraits(analysis)]!;
    // Each gated rule is a candidate at most once (only its gate leaf lists it); evaluateRule
    // is memoised, so one already settled by a meta rule costs nothing more. Candidates are
    // put in file order (insertion sort: a handful) and merged with the ungated rules, so hits
    // come out in file order without sorting them.
    for (let k = 1; k < count; k++) {
      const v = candidates[k]!;
      let j = k - 1;
      while (j >= 0 && candidates[j]! > v) {
        candidates[j + 1] = candidates[j]!;
        j--;
      }
      candidates[j + 1] = v;
    }
    let a = 0;
    let c = 0;
    while (a < always.length || c < count) {
      const i = c >= count || (a < always.length && always[a]! < candidates[c]!) ? always[a++]! : candidates[c++]!;
      const d = this.evaluateRule(i, ev);
      if (d !== null) {
        hitRules[hits] = this.rules[i]!;
        hitDetails[hits++] = d;
      }
    }
    return hits;
  }

  hitRule(i: number): CompiledRule {
    return this.hitRules[i]!;
  }

  hitDetail(i: number): string {
    return this.hitDetails[i]!;
  }

  /** Does one rule (helpers included) match this message? For `rules test` and rule stats. */
  matchRule(index: number, message: Message, analysis: TextAnalysis): string | null {
    // Each example stands alone: volume counters start empty for it.
    this.match(message, analysis, this.volume ? new MemoryVolumeStore() : undefined);
    return this.evaluateRule(index, this.current!);
  }

  private resetStamps(): void {
    this.generation = 1;
    this.leafStamp.fill(0);
    this.phraseStamp.fill(0);
    this.ruleStamp.fill(0);
  }
}

// ---- building ----------------------------------------------------------------------------

interface PendingReference {
  readonly id: string;
  readonly field: Field;
  readonly fromRule: string;
  target: number;
}

/** Collects rule files, reports every problem with its place, and builds a CompiledRuleSet. */
export class RuleSetBuilder {
  private readonly problems: RuleProblem[] = [];
  private readonly rules: CompiledRule[] = [];
  private readonly bodies: RuleBody[] = [];
  private readonly keywords = new KeywordIndex();
  private leafCount = 0;
  /** Per keyword leaf, the index of the rule whose conditions hold it. */
  private readonly leafOwner: number[] = [];
  private readonly references: PendingReference[] = [];
  private readonly refsByRule = new Map<string, PendingReference[]>();
  private readonly positions = new Map<string, string>();
  private thresholds: Partial<Thresholds> | undefined;
  private thresholdsFrom: string | undefined;
  private readonly files: string[] = [];
  private readonly volume = new VolumePlanBuilder();
  readonly normaliser: AddressNormaliser;
  private readonly defaultTimeZone: string;

  constructor(options: CompileOptions = {}) {
    this.normaliser = options.normaliser ?? new AddressNormaliser();
    this.defaultTimeZone = options.defaultTimeZone ?? 'UTC';
    try {
      assertTimeZone(this.defaultTimeZone);
    } catch (err) {
      if (err instanceof TimeError) throw new RuleLoadError([{ file: '(options)', line: 1, column: 1, message: err.message }]);
      throw err;
    }
  }

  addFile(text: string, file: string): this {
    this.files.push(file);
    const { root, problems } = parseSource(text, file);
    if (problems.length > 0) {
      this.problems.push(...problems);
      return this;
    }
    try {
      if (root.node === null) return this; // an empty file is allowed
      const top = root.fields(FILE_KEYS);
      const t = top.get('thresholds');
      if (t) this.readThresholds(t);
      const list = top.get('rules');
      if (!list) return this;
      for (const item of list.items()) this.addRule(item);
    } catch (err) {
      if (err instanceof ProblemError) this.problems.push(err.problem);
      else throw err;
    }
    return this;
  }

  private readThresholds(field: Field): void {
    if (this.thresholds) {
      field.fail(`thresholds are already set in ${this.thresholdsFrom}; set them in one file only`);
    }
    const f = field.fields(['tag', 'quarantine', 'block']);
    const out: { tag?: number; quarantine?: number; block?: number } = {};
    for (const [k, v] of f) out[k as 'tag'] = v.number();
    const order = [out.tag, out.quarantine, out.block].filter((x): x is number => x !== undefined);
    for (let i = 1; i < order.length; i++) {
      if (order[i]! < order[i - 1]!) field.fail('thresholds must rise: tag ≤ quarantine ≤ block');
    }
    this.thresholds = out;
    const p = field.position();
    this.thresholdsFrom = `${field.file}:${p.line}`;
  }

  private addRule(item: Field): void {
    try {
      const known = [...RULE_KEYS, ...CONDITION_KINDS.keys()];
      const entries = item.entries();
      for (const [key] of entries) {
        if (!known.includes(key)) {
          item.keyField(key).fail(`unknown key '${key}'${suggestion(key, known)}; rule keys: ${RULE_KEYS.join(', ')}; conditions: ${[...CONDITION_KINDS.keys()].join(', ')}`);
        }
      }
      const f = new Map(entries);
      const idField = f.get('id') ?? item.fail("rule has no 'id'");
      const id = idField.string();
      if (!RULE_ID.test(id)) idField.fail(`invalid rule id '${id}': expected UPPER_CASE letters, digits and _ (2–64 characters), optionally starting with __ for a helper rule`);
      const pos = idField.position();
      const where = `${item.file}:${pos.line}`;
      const earlier = this.positions.get(id);
      if (earlier) idField.fail(`duplicate rule id '${id}', first defined at ${earlier}`);
      this.positions.set(id, where);

      const helper = id.startsWith('__');
      const description = f.get('description')?.string() ?? '';
      if (!helper && description.trim() === '') item.fail(`rule ${id} needs a 'description' saying what it catches`);
      const score = f.get('score')?.number(-1000, 1000) ?? 0;
      const action = f.get('action')?.oneOf(ACTIONS);
      const enforce = f.get('enforce')?.boolean() ?? false;
      if (!helper && action === undefined && f.get('score') === undefined) item.fail(`rule ${id} needs a 'score' or an 'action' (${ACTIONS.join(', ')})`);
      if (enforce && (action === undefined || action === 'allow' || action === 'tag')) {
        (f.get('enforce') ?? item).fail("'enforce' needs action block or quarantine: an enforced rule overrides the subscriber's allow list");
      }

      const ctx = this.compileContext(id);
      const volumeUses = this.volume.uses;
      const conditions: Condition[] = [];
      let gate = -1;
      let channels = CHANNEL_BIT.sms | CHANNEL_BIT.email;
      let needs = 0;
      for (const [key, field] of entries) {
        const kind = CONDITION_KINDS.get(key);
        if (!kind) continue;
        const c = kind.compile(field, ctx);
        if (c.keywordLeaf !== undefined && gate < 0) gate = c.keywordLeaf;
        const channel = c.channel ?? kind.channel;
        if (channel) channels &= CHANNEL_BIT[channel];
        if (c.needsUrls) needs |= TEXT_HAS_URL;
        if (c.needsDigit) needs |= TEXT_HAS_DIGIT;
        if (c.needsObfuscation) needs |= TEXT_HAS_OBFUSCATION;
        conditions.push(c);
      }
      if (channels === 0) item.fail(`rule ${id} mixes conditions for sms and for email, so it can never match`);
      if (conditions.length === 0) item.fail(`rule ${id} has no condition; add one of: ${[...CONDITION_KINDS.keys()].join(', ')}`);
      // Cheap conditions first would be nicer, but file order keeps details readable.
      const volume = this.volume.uses > volumeUses;
      if (volume && f.has('examples')) {
        f.get('examples')!.fail(`rule ${id} reads volume counters (rate, distinct_recipients, campaign): whether it fires depends on the traffic seen before, which a single example cannot show, so examples are not allowed here; test it with traffic (docs/volume.md)`);
      }
      const examples = this.readExamples(f.get('examples'));
      const index = this.rules.length;
      this.rules.push({
        index, id, description, score, ...(action ? { action } : {}), enforce, helper,
        file: item.file, line: pos.line, examples, ...(volume ? { volume } : {}),
      });
      this.bodies.push({ conditions, gate, channels, needs });
    } catch (err) {
      if (err instanceof ProblemError) this.problems.push(err.problem);
      else throw err;
    }
  }

  private compileContext(ruleId: string): CompileContext {
    const ctx: CompileContext = {
      normaliser: this.normaliser,
      defaultTimeZone: this.defaultTimeZone,
      ruleId,
      volume: this.volume,
      addKeywordLeaf: (phrases) => {
        const leaf = this.leafCount++;
        this.leafOwner.push(this.rules.length); // the rule being compiled: pushed next, or the build fails
        for (const p of phrases) {
          const text = p.text();
          const words = phraseWords(text);
          if (words.length === 0) p.fail(`keyword '${text}' has no letters or digits to match`);
          if (words.length > 12) p.fail(`keyword '${text.slice(0, 30)}…' has more than 12 words; use a shorter phrase`);
          this.keywords.add(words, leaf, text);
        }
        return leaf;
      },
      compileConditions: (field) => {
        const parts: Condition[] = [];
        for (const [key, value] of field.entries()) {
          const kind = CONDITION_KINDS.get(key);
          if (!kind) {
            return value.fail(
              `unknown condition '${key}'${suggestion(key, [...CONDITION_KINDS.keys()])}; expected one of: ${[...CONDITION_KINDS.keys()].join(', ')}`,
            );
          }
          parts.push(kind.compile(value, ctx));
        }
        if (parts.length === 0) field.fail('expected at least one condition');
        if (parts.length === 1) return parts[0]!;
        return {
          ...allOf(parts),
          test: (c) => {
            const details: string[] = [];
            for (const p of parts) {
              const d = p.test(c);
              if (d === null) return null;
              details.push(d);
            }
            return details.join('; ');
          },
        };
      },
      ruleReference: (id, field) => {
        const ref: PendingReference = { id, field, fromRule: ruleId, target: -1 };
        this.references.push(ref);
        const list = this.refsByRule.get(ruleId) ?? [];
        list.push(ref);
        this.refsByRule.set(ruleId, list);
        return { requiredRules: () => [ref.target], test: (c) => (c.ruleMatched(ref.target) ? `rule ${id}` : null) };
      },
    };
    return ctx;
  }

  private readExamples(field: Field | undefined): CompiledRule['examples'] {
    if (!field) return { match: [], noMatch: [] };
    const f = field.fields(['match', 'no_match']);
    const read = (list: Field | undefined): RuleExample[] =>
      (list ? list.items() : []).map((item) => {
        const p = item.position();
        if (item.isScalar()) return { input: { from: '+447700900000', to: '+447700900001', text: item.text() }, file: item.file, line: p.line };
        const e = item.fields(['text', 'from', 'to', 'time', 'channel']);
        const text = (e.get('text') ?? item.fail("example needs 'text'")).string();
        const time = e.get('time')?.text();
        if (time !== undefined && !Number.isFinite(Date.parse(time))) e.get('time')!.fail(`invalid time '${time}': expected ISO-8601 such as 2026-01-31T22:30:00Z`);
        const channel = e.get('channel')?.oneOf(['sms', 'email'] as const) as Channel | undefined;
        return {
          input: {
            from: e.get('from')?.text() ?? '+447700900000',
            to: e.get('to')?.text() ?? '+447700900001',
            text,
            ...(time !== undefined ? { time } : {}),
            ...(channel ? { channel } : {}),
          },
          file: item.file,
          line: p.line,
        };
      });
    return { match: read(f.get('match')), noMatch: read(f.get('no_match')) };
  }

  /**
   * A rule without keywords of its own that requires a keyword-gated rule (`all: [SMS_LOAN_OFFER,
   * …]`) cannot match unless those keywords are found: it gets the same gate, and so is
   * evaluated only for messages that hit it instead of for every message. References are
   * resolved and acyclic here.
   */
  private inheritGates(): void {
    const gateOf = (index: number, seen: Set<number>): number => {
      const body = this.bodies[index]!;
      if (body.gate >= 0 || seen.has(index)) return body.gate;
      seen.add(index);
      for (const required of requiredByAll(body.conditions)()) {
        const gate = gateOf(required, seen);
        if (gate >= 0) return (body.gate = gate);
      }
      return -1;
    };
    for (let i = 0; i < this.bodies.length; i++) gateOf(i, new Set());
  }

  /** Resolve references, refuse cycles, and return the compiled set or throw every problem. */
  build(): CompiledRuleSet {
    const index = new Map(this.rules.map((r) => [r.id, r.index]));
    for (const ref of this.references) {
      const target = index.get(ref.id);
      if (target === undefined) {
        this.problems.push(ref.field.problem(`rule ${ref.fromRule} refers to unknown rule '${ref.id}'${suggestion(ref.id, [...index.keys()])}`));
      } else {
        ref.target = target;
      }
    }
    // A meta rule that depends on itself, directly or not, would never settle.
    const state = new Map<string, 1 | 2>();
    const visit = (id: string, path: string[]): void => {
      if (state.get(id) === 2) return;
      if (state.get(id) === 1) {
        const refs = this.refsByRule.get(path[path.length - 1]!)!;
        const at = refs.find((r) => r.id === id)!.field;
        this.problems.push(at.problem(`rules refer to each other in a cycle: ${[...path.slice(path.indexOf(id)), id].join(' → ')}`));
        return;
      }
      state.set(id, 1);
      for (const ref of this.refsByRule.get(id) ?? []) if (ref.target >= 0) visit(ref.id, [...path, id]);
      state.set(id, 2);
    };
    for (const r of this.rules) visit(r.id, []);

    if (this.problems.length > 0) throw new RuleLoadError(this.problems);
    this.inheritGates();
    // A phrase matters on the channels its rule can match on (and rules that read that rule
    // see it fail on the others too): the keyword filters for an SMS leave out email rules'.
    this.keywords.setChannels((phrase) => this.bodies[this.leafOwner[this.keywords.phrases[phrase]!.leaf]!]!.channels);
    return new CompiledRuleSet(this.rules, this.bodies, this.keywords, this.leafCount, this.normaliser, this.thresholds, this.files, this.volume.build());
  }
}

/** Compile rule texts given as `{ file, text }` pairs (for the API and tests). */
export function compileRules(sources: ReadonlyArray<{ readonly file: string; readonly text: string }>, options: CompileOptions = {}): CompiledRuleSet {
  const b = new RuleSetBuilder(options);
  for (const s of sources) b.addFile(s.text, s.file);
  return b.build();
}
