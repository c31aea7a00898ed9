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
  let term = Math.exp(-m);
  let sum = term;
  for (let i = 1; i < dof / 2; i++) {
    term *= m / i;
    sum += term;
  }
  return Math.min(sum, 1);
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

/**
 * What the combiner needs of a token under one set of parameters: Robinson's f(w) and the two
 * logarithms Fisher's method sums, computed once and reused until the model changes. Scoring is
 * then a probe here per token, no division and no logarithm; the values are the very ones the
 * combiner would compute, so probabilities are bit for bit the same as without the cache.
 *
 * Direct-mapped and small (1 MB) rather than a slot beside every token of the table: a model of
 * a million tokens would double in size, while the tokens messages actually use are few and
 * keep their entries. A token evicted by another is computed again, which is all a miss costs.
 */
class ClueCache {
  /** 2^15 entries: the UCI corpus has about 10,000 distinct features. */
  static readonly BITS = 15;
  /**
   * Per entry 32 bytes of one buffer (two entries to a cache line): as Int32 [0] the token
   * hash and [1] the generation it was computed in; as Float64 [1] f(w), or -1 when the token
   * is no clue (never seen, or too close to 0.5), [2] ln f and [3] ln (1 − f), f clamped.
   */
  readonly ints: Int32Array;
  readonly floats: Float64Array;
  /** Entries of other generations are stale; 0 is never current, so a fresh buffer is empty. */
  generation = 1;
  /** The model state the current generation was computed from. */
  spamMessages = -1;
  hamMessages = -1;
  tableChanges = -1;

  constructor(
    readonly strength: number,
    readonly unknownProbability: number,
    readonly minimumDeviation: number,
  ) {
    const buffer = new ArrayBuffer(32 << ClueCache.BITS);
    this.ints = new Int32Array(buffer);
    this.floats = new Float64Array(buffer);
  }

  /** Start a new generation when the counts or totals moved since the last call. */
  sync(model: BayesModel): void {
    if (this.spamMessages === model.spamMessages && this.hamMessages === model.hamMessages && this.tableChanges === model.table.changes) return;
    this.spamMessages = model.spamMessages;
    this.hamMessages = model.hamMessages;
    this.tableChanges = model.table.changes;
    if (++this.generation === 0x7fffffff) {
      this.ints.fill(0);
      this.generation = 1;
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
    const { minimumDeviation, maxClues, strength, unknownProbability } = parameters;
    if (this.clues.length < count) this.clues = new Float64Array(count * 2);
    const clues = this.clues;
    const spamTotal = Math.max(this.spamMessages, 1);
    const hamTotal = Math.max(this.hamMessages, 1);
    const cache = this.cacheFor(parameters);
    let n = 0;
    let lnSpam = 0;
    let lnHam = 0;
    if (cache !== undefined) {
      cache.sync(this);
      const ints = cache.ints;
      const floats = cache.floats;
      const generation = cache.generation;
      const shift = 32 - ClueCache.BITS;
      for (let i = 0; i < count; i++) {
        const hash = features[i]!;
        const e = Math.imul(hash, 0x9e3779b1) >>> shift;
        let f: number;
        if (ints[e * 8] === hash && ints[e * 8 + 1] === generation) {
          f = floats[e * 4 + 1]!;
          if (f < 0) continue;
          lnHam += floats[e * 4 + 2]!;
          lnSpam += floats[e * 4 + 3]!;
        } else {
          f = this.clue(hash, strength, unknownProbability, minimumDeviation, spamTotal, hamTotal);
          ints[e * 8] = hash;
          ints[e * 8 + 1] = generation;
          floats[e * 4 + 1] = f;
          if (f < 0) continue;
          const clamped = Math.min(Math.max(f, 1e-9), 1 - 1e-9);
          const lh = Math.log(clamped);
          const ls = Math.log(1 - clamped);
          floats[e * 4 + 2] = lh;
          floats[e * 4 + 3] = ls;
          lnHam += lh;
          lnSpam += ls;
        }
        clues[n++] = f;
      }
    } else {
      for (let i = 0; i < count; i++) {
        const f = this.clue(features[i]!, strength, unknownProbability, minimumDeviation, spamTotal, hamTotal);
        if (f < 0) continue;
        const clamped = Math.min(Math.max(f, 1e-9), 1 - 1e-9);
        lnHam += Math.log(clamped);
        lnSpam += Math.log(1 - clamped);
        clues[n++] = f;
      }
    }
    if (n === 0) return 0.5;
    let used = n;
    if (n > maxClues) {
      // Keep the most extreme (the sum below does not care about order): a selection of the
      // maxClues-th distance from 0.5, not a sort of every clue of a long message.
      keepMostExtreme(clues, n, maxClues, this.distances());
      used = maxClues;
      // Sums over the kept clues only, in their order (the same order as without selection).
      lnSpam = 0;
      lnHam = 0;
      for (let i = 0; i < used; i++) {
        const f = Math.min(Math.max(clues[i]!, 1e-9), 1 - 1e-9);
        lnHam += Math.log(f);
        lnSpam += Math.log(1 - f);
      }
    }
    const spamEvidence = 1 - chi2Q(-2 * lnSpam, 2 * used);
    const hamEvidence = 1 - chi2Q(-2 * lnHam, 2 * used);
    return (spamEvidence - hamEvidence + 1) / 2;
  }

  /** f(w) of a token as a clue, or -1 when it is none (never seen, or within minimumDeviation of 0.5). */
  private clue(hash: number, strength: number, unknownProbability: number, minimumDeviation: number, spamTotal: number, hamTotal: number): number {
    const counts = this.scratch;
    if (!this.table.counts(hash, counts)) return -1;
    const sc = counts[0]!;
    const hc = counts[1]!;
    const seen = sc + hc;
    if (seen === 0) return -1;
    const spamRatio = sc / spamTotal;
    const p = spamRatio / (spamRatio + hc / hamTotal);
    const f = (strength * unknownProbability + seen * p) / (strength + seen);
    return Math.abs(f - 0.5) < minimumDeviation ? -1 : f;
  }

  /** The clue cache for these parameters (by value), made on first use; none past MAX_CACHES. */
  private cacheFor(p: ModelParameters): ClueCache | undefined {
    const last = this.lastCache;
    if (last !== undefined && last.strength === p.strength && last.unknownProbability === p.unknownProbability && last.minimumDeviation === p.minimumDeviation) return last;
    let found = this.caches.find((c) => c.strength === p.strength && c.unknownProbability === p.unknownProbability && c.minimumDeviation === p.minimumDeviation);
    if (found === undefined && this.caches.length < MAX_CACHES) {
      found = new ClueCache(p.strength, p.unknownProbability, p.minimumDeviation);
      this.caches.push(found);
    }
    if (found !== undefined) this.lastCache = found;
    return found;
  }
}
