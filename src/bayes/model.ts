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

export class BayesModel {
  readonly table: TokenTable;
  spamMessages = 0;
  hamMessages = 0;
  private readonly scratch = new Uint32Array(2);
  private clues = new Float64Array(256);
  private distanceScratch = new Float64Array(256);

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
    const counts = this.scratch;
    const spamTotal = Math.max(this.spamMessages, 1);
    const hamTotal = Math.max(this.hamMessages, 1);
    let n = 0;
    for (let i = 0; i < count; i++) {
      // tokenProbability, inlined: this loop runs for every token of every message scored.
      if (!this.table.counts(features[i]!, counts)) continue;
      const sc = counts[0]!;
      const hc = counts[1]!;
      const seen = sc + hc;
      if (seen === 0) continue;
      const spamRatio = sc / spamTotal;
      const p = spamRatio / (spamRatio + hc / hamTotal);
      const f = (strength * unknownProbability + seen * p) / (strength + seen);
      if (Math.abs(f - 0.5) < minimumDeviation) continue;
      clues[n++] = f;
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
    const spamEvidence = 1 - chi2Q(-2 * lnSpam, 2 * used);
    const hamEvidence = 1 - chi2Q(-2 * lnHam, 2 * used);
    return (spamEvidence - hamEvidence + 1) / 2;
  }
}
