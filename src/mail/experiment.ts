/**
 * How email features, model parameters and rules were chosen: cross-validation on the 70 %
 * TRAINING split of the SpamAssassin corpus only (the 30 % test split is for measuring once,
 * never for tuning). Each training message is parsed and checked by the email rules once;
 * then, for each variant, a Bayes model is trained on 4 of 5 folds and scores the fifth, and
 * the decision is made as a scan makes it: rule score plus the Bayes band score (and the sender
 * history's, learned from the other folds: withHistory) against the
 * quarantine threshold (or an action a rule forces).
 *
 *   npx tsx src/mail/experiment.ts            # every variant, one line each
 *   npx tsx src/mail/experiment.ts --bands    # also the email score bands (nested CV)
 *   npx tsx src/mail/experiment.ts --fit      # also rule+band scores fitted together (not adopted)
 *   npx tsx src/mail/experiment.ts --misses   # also the misses of the default variant
 *   --default                                  # only the default variant
 *   --only TEXT                                # only the default and variants named with TEXT
 *   --history                                  # also the sender-history grid (key, N, M, S)
 *   --history-nested TEXT                      # its rules named with TEXT, with nested bands
 *   --seeds N                                  # each figure averaged over N fold assignments
 *                                              # (seed 0: position mod 5; others shuffled within
 *                                              # each group), so one message more or less held
 *                                              # in one split is not read as a difference
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BayesModel, DEFAULT_PARAMETERS, type ModelParameters } from '../bayes/model.js';
import { DEFAULT_FEATURES, extractFeatures, type FeatureOptions } from '../bayes/features.js';
import { DEFAULT_EMAIL_FEATURES, EMAIL_MODEL_PARAMETERS, senderHistoryToken, type EmailFeatureOptions, type SenderHistoryKey } from '../bayes/email-features.js';
import { EMAIL_BAYES_BANDS } from '../bayes/email-bands.js';
import { scoredFeatureCount, SENDER_HISTORY_RULE, senderHistoryHash, senderHistoryScore, type SenderHistoryRule } from '../bayes/sender-history.js';
import { createEngine } from '../engine/engine.js';
import type { ScoreBand } from '../engine/types.js';
import type { Message } from '../message/types.js';
import type { CompiledRuleSet } from '../rules/compile.js';
import { loadRuleSet, shippedRulesDir } from '../rules/load.js';
import { analyseText, type TextAnalysis } from '../text/analysis.js';
import { loadSpamAssassin, splitSpamAssassin, type SpamAssassinGroup } from './corpus.js';
import { parseEmail } from './parse.js';

export interface PreparedMail {
  readonly id: string;
  readonly group: SpamAssassinGroup;
  readonly spam: boolean;
  readonly message: Message;
  readonly analysis: TextAnalysis;
  /** Sum of the rule scores (no Bayes). */
  readonly ruleScore: number;
  /** A rule forces quarantine or block. */
  readonly forcedHeld: boolean;
  /** An operator allow rule hit (Bayes is then not consulted). */
  readonly allowed: boolean;
  readonly rules: readonly string[];
}

/** The training split, parsed and checked by `rules` (default: the shipped email rules). */
export async function prepareTrainingSplit(rules: CompiledRuleSet = loadRuleSet([join(shippedRulesDir(), 'email')])): Promise<PreparedMail[]> {
  const { train } = splitSpamAssassin(loadSpamAssassin());
  const engine = createEngine({ rules });
  const out: PreparedMail[] = [];
  for (const m of train) {
    // `unscored`: the other part and the HTML make-up, for the variants that read them (the
    // default reads neither, so its figures are the scan's).
    const p = await parseEmail(m.raw, m.id, { unscored: true });
    const message = engine.normalise(p.input);
    const v = engine.check(p.input);
    out.push({
      id: m.id,
      group: m.group,
      spam: m.label === 'spam',
      message,
      analysis: analyseText(message.text),
      ruleScore: v.score,
      forcedHeld: v.reasons.some((r) => r.action === 'quarantine' || r.action === 'block'),
      allowed: v.reasons.some((r) => r.action === 'allow'),
      rules: v.reasons.map((r) => r.rule),
    });
  }
  return out;
}

/**
 * Fold of each message, stratified by group so every fold has every group: seed 0 takes the
 * position within the group mod k; another seed shuffles each group first (a fixed PRNG).
 */
export function foldsOf(data: readonly PreparedMail[], k = 5, seed = 0): number[] {
  const byGroup = new Map<string, number[]>();
  data.forEach((d, i) => {
    const g = byGroup.get(d.group) ?? [];
    g.push(i);
    byGroup.set(d.group, g);
  });
  let state = Math.imul(seed, 0x9e3779b1) >>> 0;
  const random = (): number => {
    state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return state / 2 ** 32;
  };
  const out = new Array<number>(data.length);
  for (const members of byGroup.values()) {
    if (seed !== 0) {
      for (let i = members.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [members[i], members[j]] = [members[j]!, members[i]!];
      }
    }
    members.forEach((index, rank) => (out[index] = rank % k));
  }
  return out;
}

/** The model parameters the classifier uses on email. */
export const EMAIL_PARAMETERS: ModelParameters = { ...DEFAULT_PARAMETERS, ...EMAIL_MODEL_PARAMETERS };

/** Out-of-fold spam probability of every message. */
export function crossValidatedProbabilities(
  data: readonly PreparedMail[],
  folds: readonly number[],
  features: FeatureOptions = DEFAULT_FEATURES,
  parameters: ModelParameters = EMAIL_PARAMETERS,
): Float64Array {
  // Without the sender-history token, which the combiner never reads: its counts are what
  // crossValidatedHistory gives, for any key.
  const historyKey = (features.email ?? DEFAULT_EMAIL_FEATURES).senderHistory;
  const f = data.map((d) => {
    const all = extractFeatures(d.message, d.analysis, features);
    const hash = d.message.email && historyKey !== 'off' ? senderHistoryHash(d.message.email, historyKey) : undefined;
    return all.subarray(0, scoredFeatureCount(all, all.length, hash));
  });
  const k = Math.max(...folds) + 1;
  const out = new Float64Array(data.length);
  for (let fold = 0; fold < k; fold++) {
    const model = new BayesModel(parameters);
    data.forEach((d, i) => folds[i] !== fold && model.learn(f[i]!, d.spam ? 'spam' : 'ham'));
    data.forEach((_, i) => folds[i] === fold && (out[i] = model.probability(f[i]!)));
  }
  return out;
}

/** The scan's decision from the rule result and a probability. */
export function held(d: PreparedMail, probability: number, bands: readonly ScoreBand[] = EMAIL_BAYES_BANDS, quarantineAt = 6): boolean {
  if (d.forcedHeld) return true;
  if (d.allowed) return false;
  const band = [...bands].sort((a, b) => b.min - a.min).find((b) => probability >= b.min);
  return d.ruleScore + (band?.score ?? 0) >= quarantineAt;
}

export interface Outcome {
  readonly spamCaughtPercent: number;
  readonly hamHeldPercent: number;
  readonly hamHeld: number;
  readonly hardHamHeld: number;
  readonly spamMissed: number;
  /** Classifier alone at 0.85, for comparison. */
  readonly bayesOnlyCaughtPercent: number;
  readonly bayesOnlyHamHeldPercent: number;
}

export function outcome(data: readonly PreparedMail[], probabilities: Float64Array, bands: readonly ScoreBand[] = EMAIL_BAYES_BANDS): Outcome {
  let spam = 0, ham = 0, caught = 0, hamHeld = 0, hardHamHeld = 0, bSpam = 0, bHam = 0;
  data.forEach((d, i) => {
    const h = held(d, probabilities[i]!, bands);
    const b = probabilities[i]! >= 0.85;
    if (d.spam) {
      spam++;
      if (h) caught++;
      if (b) bSpam++;
    } else {
      ham++;
      if (h) {
        hamHeld++;
        if (d.group === 'hard-ham-1') hardHamHeld++;
      }
      if (b) bHam++;
    }
  });
  return {
    spamCaughtPercent: (100 * caught) / spam,
    hamHeldPercent: (100 * hamHeld) / ham,
    hamHeld,
    hardHamHeld,
    spamMissed: spam - caught,
    bayesOnlyCaughtPercent: (100 * bSpam) / spam,
    bayesOnlyHamHeldPercent: (100 * bHam) / ham,
  };
}

/**
 * Threshold-free quality of the classifier alone: the share of spam above the highest cutoff
 * that holds at most `hamShare` of ham (so variants compare at the same ham cost).
 */
export function caughtAtHamShare(data: readonly PreparedMail[], probabilities: Float64Array, hamShare = 0.003): number {
  const ham = data.flatMap((d, i) => (d.spam ? [] : [probabilities[i]!])).sort((a, b) => b - a);
  const allowed = Math.floor(hamShare * ham.length);
  const cutoff = ham[allowed] ?? 0;
  let spam = 0, caught = 0;
  data.forEach((d, i) => {
    if (!d.spam) return;
    spam++;
    if (probabilities[i]! > cutoff) caught++;
  });
  return (100 * caught) / spam;
}

/** Probability cutoffs the email bands may use; their scores are what the search chooses. */
const BAND_CUTOFFS = [0.99, 0.9, 0.8, 0.7, 0.6, 0.5, 0.3, 0.1, 0.01, 0] as const;
const BAND_SCORES = [-3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7] as const;

/**
 * Email score bands by coordinate search on out-of-fold probabilities: the most spam held
 * while at most `hamShare` of ham is held, scores never rising as probability falls. Starts
 * from `start` mapped onto BAND_CUTOFFS.
 */
export function searchBands(data: readonly PreparedMail[], probabilities: Float64Array, hamShare: number, start: readonly ScoreBand[] = EMAIL_BAYES_BANDS): ScoreBand[] {
  const bandOf = data.map((_, i) => BAND_CUTOFFS.findIndex((c) => probabilities[i]! >= c));
  const startSorted = [...start].sort((a, b) => b.min - a.min);
  const scores: number[] = BAND_CUTOFFS.map((c) => startSorted.find((b) => c >= b.min)?.score ?? 0);
  const hamCount = data.filter((d) => !d.spam).length;
  const maxHam = Math.floor(hamShare * hamCount);
  const evaluate = (sc: readonly number[]): number => {
    let caught = 0, ham = 0;
    data.forEach((d, i) => {
      const h = d.forcedHeld || (!d.allowed && d.ruleScore + sc[bandOf[i]!]! >= 6);
      if (h) d.spam ? caught++ : ham++;
    });
    // Over the ham budget is never better; within it, more spam, then less ham.
    return ham > maxHam ? -1e9 - ham : caught * 1000 - ham;
  };
  let best = evaluate(scores);
  for (let round = 0; round < 10; round++) {
    let improved = false;
    for (let b = 0; b < scores.length; b++) {
      for (const v of BAND_SCORES) {
        if ((b > 0 && v > scores[b - 1]!) || (b < scores.length - 1 && v < scores[b + 1]!)) continue;
        const trial = [...scores];
        trial[b] = v;
        const e = evaluate(trial);
        if (e > best) {
          best = e;
          scores.splice(0, scores.length, ...trial);
          improved = true;
        }
      }
    }
    if (!improved) break;
  }
  return BAND_CUTOFFS.map((min, i) => ({ id: `BAYES_${String(Math.round(min * 100)).padStart(2, '0')}`, min, score: scores[i]! }));
}

export interface FittedScores {
  /** Score per rule id (rules that never fired keep no entry). */
  readonly rules: Map<string, number>;
  readonly bands: ScoreBand[];
}

/**
 * Rule and band scores fitted together, as SpamAssassin fits its score sets: a logistic
 * regression on rule hits plus a one-hot Bayes band (BAND_CUTOFFS), with ham errors weighted
 * `hamWeight` times and L2 shrinkage, then scaled so "hold" is a total of 6. Rules that force
 * an action and meta building blocks (`__`) are left as they are. `margin` moves the cut
 * (in logit units) towards holding less ham.
 */
export function fitScores(data: readonly PreparedMail[], probabilities: Float64Array, options: { hamWeight?: number; l2?: number; margin?: number; scale?: number } = {}): FittedScores {
  const hamWeight = options.hamWeight ?? 10;
  const l2 = options.l2 ?? 0.01;
  const scale = options.scale ?? 1.5;
  const ruleIds = [...new Set(data.flatMap((d) => d.rules.filter((r) => !r.startsWith('__') && !r.startsWith('BAYES'))))].sort();
  const index = new Map(ruleIds.map((r, i) => [r, i]));
  const nb = BAND_CUTOFFS.length;
  const dim = ruleIds.length + nb;
  const rows = data.map((d, i) => [...d.rules.flatMap((r) => (index.has(r) ? [index.get(r)!] : [])), ruleIds.length + BAND_CUTOFFS.findIndex((c) => probabilities[i]! >= c)]);
  const w = new Float64Array(dim);
  const total = data.reduce((s, d) => s + (d.spam ? 1 : hamWeight), 0);
  for (let epoch = 0; epoch < 400; epoch++) {
    const grad = new Float64Array(dim);
    data.forEach((d, i) => {
      let z = 0;
      for (const j of rows[i]!) z += w[j]!;
      const y = d.spam ? 1 : 0;
      const g = (1 / (1 + Math.exp(-z)) - y) * (d.spam ? 1 : hamWeight);
      for (const j of rows[i]!) grad[j] += g;
    });
    for (let j = 0; j < dim; j++) w[j] -= 2 * (grad[j]! / total + l2 * w[j]!) * (total / data.length);
  }
  const margin = options.margin ?? 0;
  const rules = new Map(ruleIds.map((r, i) => [r, Math.round(w[i]! * scale * 10) / 10]));
  // Bands never score more for a lower probability.
  const bandScores = BAND_CUTOFFS.map((_, b) => Math.round((6 + (w[ruleIds.length + b]! - margin) * scale) * 10) / 10);
  for (let b = 1; b < nb; b++) bandScores[b] = Math.min(bandScores[b]!, bandScores[b - 1]!);
  return { rules, bands: BAND_CUTOFFS.map((min, b) => ({ id: `BAYES_${String(Math.round(min * 100)).padStart(2, '0')}`, min, score: bandScores[b]! })) };
}

/** The scan's decision with fitted scores in place of the rule files' own. */
export function heldWith(d: PreparedMail, probability: number, scores: FittedScores): boolean {
  if (d.forcedHeld) return true;
  if (d.allowed) return false;
  let total = 0;
  for (const r of d.rules) total += scores.rules.get(r) ?? 0;
  total += scores.bands.find((b) => probability >= b.min)?.score ?? 0;
  return total >= 6;
}

type Group = Exclude<keyof EmailFeatureOptions, 'minWordLength' | 'body' | 'otherPart' | 'htmlStructure' | 'senderHistory'>;
const GROUPS: readonly Group[] = ['relays', 'messageId', 'headerNames', 'encoding', 'links', 'recipients', 'date', 'headerFacts', 'sender', 'urlParts', 'urlPartsText', 'mailerFull', 'subjectCase'];

/** The variants compared: the default, each header group flipped, word length and combiner sizes. */
export function variants(): Array<{ name: string; features: FeatureOptions; parameters: ModelParameters }> {
  const base = { ...DEFAULT_FEATURES };
  const email = DEFAULT_EMAIL_FEATURES;
  const out: Array<{ name: string; features: FeatureOptions; parameters: ModelParameters }> = [
    { name: 'default', features: base, parameters: EMAIL_PARAMETERS },
    { name: 'no header groups', features: { ...base, email: { ...email, ...Object.fromEntries(GROUPS.map((g) => [g, false])) } }, parameters: EMAIL_PARAMETERS },
  ];
  for (const g of GROUPS) out.push({ name: `${email[g] ? 'without' : 'with'} ${g}`, features: { ...base, email: { ...email, [g]: !email[g] } }, parameters: EMAIL_PARAMETERS });
  for (const minWordLength of [1, 2, 3]) {
    if (minWordLength !== email.minWordLength) out.push({ name: `min word ${minWordLength}`, features: { ...base, email: { ...email, minWordLength } }, parameters: EMAIL_PARAMETERS });
  }
  for (const otherPart of ['off', 'words', 'prefixed', 'fromText', 'fromHtml'] as const) {
    if (otherPart !== email.otherPart) out.push({ name: `other part ${otherPart}`, features: { ...base, email: { ...email, otherPart } }, parameters: EMAIL_PARAMETERS });
  }
  for (const htmlStructure of ['off', 'tags', 'attrs', 'all', 'facts', 'shape', 'facts+shape'] as const) {
    if (htmlStructure !== email.htmlStructure) out.push({ name: `html structure ${htmlStructure}`, features: { ...base, email: { ...email, htmlStructure } }, parameters: EMAIL_PARAMETERS });
  }
  for (const body of ['words', 'raw', 'both'] as const) {
    if (body !== email.body) out.push({ name: `body ${body}`, features: { ...base, email: { ...email, body } }, parameters: EMAIL_PARAMETERS });
  }
  for (const strength of [2, 0.45, 0.3, 0.2]) {
    if (strength !== EMAIL_PARAMETERS.strength) out.push({ name: `prior strength ${strength}`, features: base, parameters: { ...EMAIL_PARAMETERS, strength } });
  }
  for (const maxClues of [50, 100, 150, 300]) {
    if (maxClues !== EMAIL_PARAMETERS.maxClues) out.push({ name: `maxClues ${maxClues}`, features: base, parameters: { ...EMAIL_PARAMETERS, maxClues } });
  }
  out.push({ name: 'bigrams', features: { ...base, bigrams: true }, parameters: EMAIL_PARAMETERS });
  out.push({ name: 'without sender history', features: { ...base, email: { ...email, senderHistory: 'off' } }, parameters: EMAIL_PARAMETERS });
  return out;
}

/**
 * Out-of-fold sender history: for each message, how often its sender (under `key`) was seen in
 * ham and in spam in the other folds, which is what a model trained on them would hold.
 */
export function crossValidatedHistory(data: readonly PreparedMail[], folds: readonly number[], key: SenderHistoryKey): Array<{ ham: number; spam: number }> {
  const k = Math.max(...folds) + 1;
  const tokens = data.map((d) => (d.message.email ? senderHistoryToken(d.message.email, key) : undefined));
  // Per token, ham and spam counts per fold: a message's history is the total less its own fold.
  const byToken = new Map<string, { ham: number[]; spam: number[] }>();
  data.forEach((d, i) => {
    const t = tokens[i];
    if (t === undefined) return;
    let c = byToken.get(t);
    if (c === undefined) byToken.set(t, (c = { ham: new Array<number>(k).fill(0), spam: new Array<number>(k).fill(0) }));
    (d.spam ? c.spam : c.ham)[folds[i]!]++;
  });
  const sum = (xs: readonly number[], except: number): number => xs.reduce((a, x, f) => a + (f === except ? 0 : x), 0);
  return data.map((_, i) => {
    const c = tokens[i] === undefined ? undefined : byToken.get(tokens[i]!);
    return c === undefined ? { ham: 0, spam: 0 } : { ham: sum(c.ham, folds[i]!), spam: sum(c.spam, folds[i]!) };
  });
}

/** The messages with a score added to each one's rule score (the history's, as the scan adds it). */
export function withExtraScore(data: readonly PreparedMail[], extra: readonly number[]): PreparedMail[] {
  return data.map((d, i) => (extra[i] ? { ...d, ruleScore: d.ruleScore + extra[i]! } : d));
}

/**
 * The messages as the scan scores them out of fold: rule score plus what the sender's history
 * in the other folds adds under `rule` (the adopted one by default; none when `key` is 'off').
 */
export function withHistory(data: readonly PreparedMail[], folds: readonly number[], key: SenderHistoryKey | 'off' = DEFAULT_EMAIL_FEATURES.senderHistory, rule: SenderHistoryRule = SENDER_HISTORY_RULE): PreparedMail[] {
  if (key === 'off') return [...data];
  return withExtraScore(data, crossValidatedHistory(data, folds, key).map((c) => senderHistoryScore(c, rule)));
}

/** The sender-history rules compared by `--history`. */
export function historyGrid(): SenderHistoryRule[] {
  // First the default (no history), for comparison.
  const out: SenderHistoryRule[] = [{ key: 'address', minHam: Infinity, maxSpam: 0, score: 0 }];
  for (const key of ['address', 'address+relay', 'address+ip16', 'domain'] as const) {
    for (const minHam of [1, 2, 3]) for (const maxSpam of [0, 1]) for (const score of [-2, -3, -4, -6]) out.push({ key, minHam, maxSpam, score });
  }
  for (const key of ['address', 'address+ip16'] as const) {
    for (const minSpam of [1, 2]) for (const score of [1, 2, 3]) out.push({ key, minHam: 1, maxSpam: 0, score: -4, spam: { minSpam, maxHam: 0, score } });
  }
  return out;
}

const describeRule = (r: SenderHistoryRule): string =>
  r.minHam === Infinity ? 'none (default)' : `${r.key} ham>=${r.minHam} spam<=${r.maxSpam} ${r.score}` + (r.spam ? ` / spam>=${r.spam.minSpam} ham<=${r.spam.maxHam} +${r.spam.score}` : '');

/** `--name N` from the command line, or `fallback`. */
function numberFlag(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Nested CV: bands searched on 4 folds' messages with `search`, judged on the fifth. */
function nestedBands(data: readonly PreparedMail[], folds: readonly number[], p: Float64Array, search: (fit: PreparedMail[], fitP: Float64Array) => ScoreBand[]): { caughtPercent: number; hamHeld: number } {
  const inner: boolean[] = [];
  for (let f = 0; f < 5; f++) {
    const fit = data.filter((_, i) => folds[i] !== f);
    const fitP = Float64Array.from(p.filter((_, i) => folds[i] !== f));
    const bands = search(fit, fitP);
    data.forEach((d, i) => folds[i] === f && (inner[i] = held(d, p[i]!, bands)));
  }
  const spam = data.filter((d) => d.spam).length;
  return { caughtPercent: (100 * data.filter((d, i) => d.spam && inner[i]).length) / spam, hamHeld: data.filter((d, i) => !d.spam && inner[i]).length };
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const data = await prepareTrainingSplit();
  const seeds = Array.from({ length: numberFlag('--seeds', 1) }, (_, i) => i);
  const foldings = seeds.map((seed) => foldsOf(data, 5, seed));
  const folds = foldings[0]!;
  console.log(`training split: ${data.length} messages, 5 folds (${((Date.now() - t0) / 1000).toFixed(1)} s to prepare)` + (seeds.length > 1 ? `; figures are means over ${seeds.length} fold assignments, ham held per assignment in brackets` : ''));
  console.log('variant'.padEnd(34) + 'caught%  hamHeld%  (n, hard)  | bayes-only caught% ham% | at 0.3% ham');
  const only = process.argv.includes('--default');
  const onlyIndex = process.argv.indexOf('--only');
  const pick = onlyIndex >= 0 ? (process.argv[onlyIndex + 1] ?? '') : undefined;
  const chosen = only ? variants().slice(0, 1) : pick !== undefined ? variants().filter((v, i) => i === 0 || v.name.includes(pick)) : variants();
  for (const v of chosen) {
    const runs = foldings.map((f) => {
      const p = crossValidatedProbabilities(data, f, v.features, v.parameters);
      return { o: outcome(withHistory(data, f, (v.features.email ?? DEFAULT_EMAIL_FEATURES).senderHistory), p), at: caughtAtHamShare(data, p) };
    });
    const o = runs.map((r) => r.o);
    const n = (x: number): string => (runs.length > 1 ? x.toFixed(1) : String(x));
    console.log(
      `${v.name.padEnd(34)}${mean(o.map((x) => x.spamCaughtPercent)).toFixed(2).padStart(7)}  ${mean(o.map((x) => x.hamHeldPercent)).toFixed(2).padStart(8)}  (${n(mean(o.map((x) => x.hamHeld)))}, ${n(mean(o.map((x) => x.hardHamHeld)))})`.padEnd(62) +
        `| ${mean(o.map((x) => x.bayesOnlyCaughtPercent)).toFixed(2)} ${mean(o.map((x) => x.bayesOnlyHamHeldPercent)).toFixed(2)} | ${mean(runs.map((r) => r.at)).toFixed(2)}` +
        (runs.length > 1 ? `  [${o.map((x) => x.hamHeld).join(' ')}]` : ''),
    );
  }
  if (process.argv.includes('--bands')) {
    // Nested: bands searched on 4 folds' messages, judged on the fifth, so the figure is honest.
    const ps = foldings.map((f) => crossValidatedProbabilities(data, f));
    const scored = foldings.map((f) => withHistory(data, f));
    const p = ps[0]!;
    for (const share of [0.001, 0.002, 0.0025, 0.003]) {
      const nested = foldings.map((f, i) => nestedBands(scored[i]!, f, ps[i]!, (fit, fitP) => searchBands(fit, fitP, share)));
      const all = searchBands(scored[0]!, p, share);
      const o = outcome(scored[0]!, p, all);
      console.log(
        `ham budget ${(share * 100).toFixed(2)}%: nested CV caught ${mean(nested.map((r) => r.caughtPercent)).toFixed(2)}%, ham held ${nested.map((r) => r.hamHeld).join(' ')}; ` +
          `bands on all: ${all.map((b) => `${b.min}:${b.score}`).join(' ')} (on all: ${o.spamCaughtPercent.toFixed(2)}%, ham held ${o.hamHeld})`,
      );
    }
  }
  if (process.argv.includes('--history') || process.argv.includes('--history-nested')) {
    // Bayes is unchanged by the history (its token is never a clue), so one set of
    // probabilities per fold assignment serves every rule of the grid.
    const ps = foldings.map((f) => crossValidatedProbabilities(data, f));
    const histories = new Map<string, Array<Array<{ ham: number; spam: number }>>>();
    const historyOf = (key: SenderHistoryKey): Array<Array<{ ham: number; spam: number }>> => {
      let h = histories.get(key);
      if (h === undefined) histories.set(key, (h = foldings.map((f) => crossValidatedHistory(data, f, key))));
      return h;
    };
    const nestedIndex = process.argv.indexOf('--history-nested');
    const nestedPick = nestedIndex >= 0 ? (process.argv[nestedIndex + 1] ?? '') : undefined;
    const nestedShares = nestedPick !== undefined ? [0.001, 0.002, 0.003] : [];
    const hamCount = data.filter((d) => !d.spam).length;
    const grid = historyGrid().filter((r, i) => nestedPick === undefined || i === 0 || describeRule(r).includes(nestedPick));
    for (const rule of grid) {
      const h = historyOf(rule.key);
      const runs = foldings.map((f, s) => {
        const adjusted = withExtraScore(data, h[s]!.map((c) => senderHistoryScore(c, rule)));
        const o = outcome(adjusted, ps[s]!);
        const nested = nestedShares.map((share) => nestedBands(adjusted, f, ps[s]!, (fit, fitP) => searchBands(fit, fitP, share)));
        return { o, nested };
      });
      const o = runs.map((r) => r.o);
      console.log(
        `history ${describeRule(rule)}: caught ${mean(o.map((x) => x.spamCaughtPercent)).toFixed(2)}%, ham held ${mean(o.map((x) => x.hamHeld)).toFixed(1)} [${o.map((x) => x.hamHeld).join(' ')}] of ${hamCount}` +
          nestedShares.map((share, j) => `; nested ${(share * 100).toFixed(1)}%: ${mean(runs.map((r) => r.nested[j]!.caughtPercent)).toFixed(2)}% / ${mean(runs.map((r) => r.nested[j]!.hamHeld)).toFixed(1)} [${runs.map((r) => r.nested[j]!.hamHeld).join(' ')}]`).join(''),
      );
    }
  }
  if (process.argv.includes('--fit')) {
    // The alternative that was not adopted: rule and band scores fitted together (nested CV).
    const p = crossValidatedProbabilities(data, folds);
    for (const hamWeight of [10, 20]) {
      const inner: boolean[] = [];
      for (let f = 0; f < 5; f++) {
        const idx = data.map((_, i) => i).filter((i) => folds[i] !== f);
        const scores = fitScores(idx.map((i) => data[i]!), Float64Array.from(idx.map((i) => p[i]!)), { hamWeight, l2: 0.001 });
        data.forEach((d, i) => folds[i] === f && (inner[i] = heldWith(d, p[i]!, scores)));
      }
      const spam = data.filter((d) => d.spam).length;
      const caught = data.filter((d, i) => d.spam && inner[i]).length;
      const hamHeld = data.filter((d, i) => !d.spam && inner[i]).length;
      console.log(`fitted scores, ham weight ${hamWeight}: nested CV caught ${((100 * caught) / spam).toFixed(2)}%, ham held ${hamHeld}`);
    }
  }
  if (process.argv.includes('--misses')) {
    const p = crossValidatedProbabilities(data, folds);
    withHistory(data, folds).forEach((d, i) => {
      if (held(d, p[i]!) !== d.spam) console.log(`${d.spam ? 'MISSED' : 'HELD  '} ${d.id} p=${p[i]!.toFixed(3)} rules=${d.ruleScore.toFixed(1)} ${d.rules.join(',')}`);
    });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
