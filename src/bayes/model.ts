/**
 * The statistical model: token counts plus message totals, Robinson's per-token probability
 * and Fisher's chi-square combining (as in SpamBayes and bogofilter). The result is a spam
 * probability in [0, 1] where both "ham evidence" and "spam evidence" are weighed: strong
 * evidence both ways lands near 0.5, which is what the unsure band is for.
 */
import { TokenTable } from './token-table.js';

export type Label = 'spam' | 'ham';

export interface ModelParameters {
  /** Robinson's s: how strongly the prior x holds for rarely seen tokens. */
  readonly strength: number;
  /** Robinson's x: the probability assumed for an unseen token. */
  readonly unknownProbability: number;
  /** Tokens whose probability is within this of 0.5 are ignored as noise. */
  readonly minimumDeviation: number;
  /** At most this many of the most extreme tokens are combined. */
  readonly maxClues: number;
}

/** SpamBayes' defaults, except a stronger prior (s = 2), which won on the UCI SMS folds. */
export const DEFAULT_PARAMETERS: ModelParameters = {
  strength: 2,
  unknownProbability: 0.5,
  minimumDeviation: 0.1,
  maxClues: 150,
};

/** Survival function of chi-square with an even number of degrees of freedom. */
export function chi2Q(x2: number, dof: number): number {
  const m = x2 / 2;
  // The bound in a variable: tsx's import scanner misreads `i < dof / 2; …` as a regex, and the
  // benchmarks load this file through tsx (test/bench/loadable.test.ts).
  const terms = dof / 2;
  let term = Math.exp(-m);
  let sum = term;
  for (let i = 1; i < terms; i++) {
    term *= m / i;
    sum += term;
  }
  return Math.min(sum, 1);
}

/**
 * Fisher's combining of `clues` clues from Σ ln (1 − f) and Σ ln f: spam minus ham evidence,
 * mapped to [0, 1]. The two chi2Q sums share their degrees of freedom, so one loop runs both:
 * two independent chains of multiplies the CPU overlaps (each the very operations of chi2Q,
 * so the result is bit for bit the same).
 */
function fisher(lnSpam: number, lnHam: number, clues: number): number {
  const mSpam = (-2 * lnSpam) / 2;
  const mHam = (-2 * lnHam) / 2;
  let termSpam = Math.exp(-mSpam);
  let termHam = Math.exp(-mHam);
  let sumSpam = termSpam;
  let sumHam = termHam;
  for (let i = 1; i < clues; i++) {
    termSpam *= mSpam / i;
    sumSpam += termSpam;
    termHam *= mHam / i;
    sumHam += termHam;
  }
  const spamEvidence = 1 - Math.min(sumSpam, 1);
  const hamEvidence = 1 - Math.min(sumHam, 1);
  return (spamEvidence - hamEvidence + 1) / 2;
}

/**
 * Move the `keep` clues farthest from 0.5 to the front of `clues[0..n)`, in their original
 * order; among clues as far as the last one kept, the earliest win (as a stable sort would
 * choose). Quickselect on a copy of the distances: O(n) instead of a sort's O(n log n).
 */
export function keepMostExtreme(clues: Float64Array, n: number, keep: number, scratch: Float64Array): void {
  const d = scratch;
  for (let i = 0; i < n; i++) d[i] = Math.abs(clues[i]! - 0.5);
  // Find the keep-th largest distance: partition d[lo..hi] around a pivot until it lands.
  const target = keep - 1;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const pivot = d[(lo + hi) >>> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (d[i]! > pivot) i++;
      while (d[j]! < pivot) j--;
      if (i <= j) {
        const t = d[i]!;
        d[i] = d[j]!;
        d[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else break;
  }
  const threshold = d[target]!;
  let above = 0;
  for (let i = 0; i < n; i++) if (Math.abs(clues[i]! - 0.5) > threshold) above++;
  let ties = keep - above;
  let w = 0;
  for (let i = 0; i < n && w < keep; i++) {
    const c = clues[i]!;
    const dist = Math.abs(c - 0.5);
    if (dist > threshold || (dist === threshold && ties-- > 0)) clues[w++] = c;
  }
}

/** 2^15 entries: the UCI corpus has about 10,000 distinct features. */
const CACHE_BITS = 15;
const CACHE_SHIFT = 32 - CACHE_BITS;

/**
 * What the combiner needs of a token under one set of parameters: Robinson's f(w) reduced to
 * the two logarithms Fisher's method sums, computed once and reused until the model changes.
 * Scoring is then a probe here per token, no division and no logarithm; the values are the
 * very ones the combiner computes, so probabilities are bit for bit the same as without it.
 *
 * Direct-mapped and small (1 MB) rather than a slot beside every token of the table: a model of
 * a million tokens would double in size, while the tokens messages actually use are few and
 * keep their entries. A token pushed out by another is computed again, which is all a miss costs.
 */
class ClueCache {
  /**
   * Per entry 32 bytes of one buffer (two entries to a cache line): as Int32 [0] the token
   * hash, [1] the generation it was computed in, [2] 1 when the token is a clue and 0 when not
   * (never seen, or too close to 0.5); as Float64 [2] ln f and [3] ln (1 − f), f clamped, both
   * 0 for no clue, so adding an entry needs no branch (adding 0 changes no bit of the sums).
   */
  private readonly ints: Int32Array;
  private readonly floats: Float64Array;
  /** Entries of other generations are stale; 0 is never current, so a fresh buffer is empty. */
  private generation = 1;
  /** The model state the current generation was computed from. */
  private spamMessages = -1;
  private hamMessages = -1;
  private tableChanges = -1;

  constructor(
    private readonly model: BayesModel,
    readonly parameters: ModelParameters,
  ) {
    const buffer = new ArrayBuffer(32 << CACHE_BITS);
    this.ints = new Int32Array(buffer);
    this.floats = new Float64Array(buffer);
  }

  /**
   * The combiner's probability of `features`, or -1 when it has more clues than maxClues (then
   * only the strongest count, which BayesModel.combine picks).
   */
  probability(features: Int32Array, count: number): number {
    this.sync();
    const ints = this.ints;
    const floats = this.floats;
    const generation = this.generation;
    // The sums over the clues in the features' order: the very sums `combine` makes.
    let clues = 0;
    let lnHam = 0;
    let lnSpam = 0;
    for (let i = 0; i < count; i++) {
      const hash = features[i]!;
      const e = Math.imul(hash, 0x9e3779b1) >>> CACHE_SHIFT;
      if (ints[e * 8] !== hash || ints[e * 8 + 1] !== generation) this.fill(e, hash);
      clues += ints[e * 8 + 2]!;
      lnHam += floats[e * 4 + 2]!;
      lnSpam += floats[e * 4 + 3]!;
    }
    if (clues > this.parameters.maxClues) return -1;
    return clues === 0 ? 0.5 : fisher(lnSpam, lnHam, clues);
  }

  /** A new generation when the counts or totals moved since the last call. */
  private sync(): void {
    const model = this.model;
    if (this.spamMessages === model.spamMessages && this.hamMessages === model.hamMessages && this.tableChanges === model.table.changes) return;
    this.spamMessages = model.spamMessages;
    this.hamMessages = model.hamMessages;
    this.tableChanges = model.table.changes;
    if (++this.generation === 0x7fffffff) {
      this.ints.fill(0);
      this.generation = 1;
    }
  }

  /** Compute entry `e` for `hash`. */
  private fill(e: number, hash: number): void {
    const ints = this.ints;
    const floats = this.floats;
    const f = this.model.clue(hash, this.parameters);
    ints[e * 8] = hash;
    ints[e * 8 + 1] = this.generation;
    if (f < 0) {
      ints[e * 8 + 2] = 0;
      floats[e * 4 + 2] = 0;
      floats[e * 4 + 3] = 0;
    } else {
      const clamped = Math.min(Math.max(f, 1e-9), 1 - 1e-9);
      ints[e * 8 + 2] = 1;
      floats[e * 4 + 2] = Math.log(clamped);
      floats[e * 4 + 3] = Math.log(1 - clamped);
    }
  }
}

/** Caches kept per model: the SMS and the email parameters, and a few spare. */
const MAX_CACHES = 4;

export class BayesModel {
  readonly table: TokenTable;
  spamMessages = 0;
  hamMessages = 0;
  private readonly scratch = new Uint32Array(2);
  private clues = new Float64Array(256);
  private distanceScratch = new Float64Array(256);
  private readonly caches: ClueCache[] = [];
  private lastCache: ClueCache | undefined;

  private distances(): Float64Array {
    if (this.distanceScratch.length < this.clues.length) this.distanceScratch = new Float64Array(this.clues.length);
    return this.distanceScratch;
  }

  constructor(
    readonly parameters: ModelParameters = DEFAULT_PARAMETERS,
    table?: TokenTable,
  ) {
    this.table = table ?? new TokenTable();
  }

  get trained(): boolean {
    return this.spamMessages > 0 && this.hamMessages > 0;
  }

  /**
   * Count a message's features under a label; `sign` -1 takes it back out. `count`: how many
   * of `features` to use (a reused buffer, see featureScratch).
   */
  learn(features: Int32Array, label: Label, sign: 1 | -1 = 1, count = features.length): void {
    const s = label === 'spam' ? sign : 0;
    const h = label === 'ham' ? sign : 0;
    for (let i = 0; i < count; i++) this.table.add(features[i]!, s, h);
    if (label === 'spam') this.spamMessages = Math.max(0, this.spamMessages + sign);
    else this.hamMessages = Math.max(0, this.hamMessages + sign);
  }

  /** Robinson's f(w) for one token, or -1 when it was never seen. */
  tokenProbability(hash: number, parameters: ModelParameters = this.parameters): number {
    if (!this.table.counts(hash, this.scratch)) return -1;
    const sc = this.scratch[0]!;
    const hc = this.scratch[1]!;
    const n = sc + hc;
    if (n === 0) return -1;
    const spamRatio = sc / Math.max(this.spamMessages, 1);
    const hamRatio = hc / Math.max(this.hamMessages, 1);
    const p = spamRatio / (spamRatio + hamRatio);
    const { strength: s, unknownProbability: x } = parameters;
    return (s * x + n * p) / (s + n);
  }

  /**
   * Spam probability of a message from its features; 0.5 when the model knows nothing.
   * `parameters` overrides the model's own for one call (email uses its own prior strength).
   */
  probability(features: Int32Array, parameters: ModelParameters = this.parameters, count = features.length): number {
    if (!this.trained) return 0.5;
    const p = this.cacheFor(parameters)?.probability(features, count) ?? -1;
    return p >= 0 ? p : this.combine(features, parameters, count);
  }

  /** The combiner without the cache: every clue's f(w) from the counts, the strongest maxClues kept. */
  private combine(features: Int32Array, parameters: ModelParameters, count: number): number {
    const maxClues = parameters.maxClues;
    if (this.clues.length < count) this.clues = new Float64Array(count * 2);
    const clues = this.clues;
    let n = 0;
    for (let i = 0; i < count; i++) {
      const f = this.clue(features[i]!, parameters);
      if (f >= 0) clues[n++] = f;
    }
    if (n === 0) return 0.5;
    let used = n;
    if (n > maxClues) {
      // Keep the most extreme (the sum below does not care about order): a selection of the
      // maxClues-th distance from 0.5, not a sort of every clue of a long message.
      keepMostExtreme(clues, n, maxClues, this.distances());
      used = maxClues;
    }
    let lnSpam = 0;
    let lnHam = 0;
    for (let i = 0; i < used; i++) {
      const f = Math.min(Math.max(clues[i]!, 1e-9), 1 - 1e-9);
      lnHam += Math.log(f);
      lnSpam += Math.log(1 - f);
    }
    return fisher(lnSpam, lnHam, used);
  }

  /** f(w) of a token as a clue, or -1 when it is none (never seen, or within minimumDeviation of 0.5). */
  clue(hash: number, p: ModelParameters): number {
    const counts = this.scratch;
    if (!this.table.counts(hash, counts)) return -1;
    const sc = counts[0]!;
    const hc = counts[1]!;
    const seen = sc + hc;
    if (seen === 0) return -1;
    const spamRatio = sc / Math.max(this.spamMessages, 1);
    const p0 = spamRatio / (spamRatio + hc / Math.max(this.hamMessages, 1));
    const f = (p.strength * p.unknownProbability + seen * p0) / (p.strength + seen);
    return Math.abs(f - 0.5) < p.minimumDeviation ? -1 : f;
  }

  /** The clue cache for these parameters (by value), made on first use; none past MAX_CACHES. */
  private cacheFor(p: ModelParameters): ClueCache | undefined {
    const last = this.lastCache;
    if (last !== undefined && sameCombining(last.parameters, p)) return last;
    let found = this.caches.find((c) => sameCombining(c.parameters, p));
    if (found === undefined && this.caches.length < MAX_CACHES) {
      found = new ClueCache(this, { ...p });
      this.caches.push(found);
    }
    if (found !== undefined) this.lastCache = found;
    return found;
  }
}

/** Whether two parameter sets give every token the same clue and keep as many. */
function sameCombining(a: ModelParameters, b: ModelParameters): boolean {
  return a.strength === b.strength && a.unknownProbability === b.unknownProbability && a.minimumDeviation === b.minimumDeviation && a.maxClues === b.maxClues;
}
