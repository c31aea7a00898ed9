import { describe, expect, it } from 'vitest';
import { keepMostExtreme } from '../../src/bayes/model.js';

/** The reference: a stable sort by distance from 0.5, the first `keep`, back in input order. */
function bySort(clues: number[], keep: number): number[] {
  const idx = clues.map((c, i) => ({ c, i })).sort((a, b) => Math.abs(b.c - 0.5) - Math.abs(a.c - 0.5));
  return idx.slice(0, keep).sort((a, b) => a.i - b.i).map((x) => x.c);
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe('keepMostExtreme (the combiner keeps the strongest clues of a long message)', () => {
  it('keeps the same clues as a stable sort, for random and heavily tied inputs', () => {
    const rnd = lcg(7);
    for (let round = 0; round < 200; round++) {
      const n = 2 + Math.floor(rnd() * 600);
      const keep = 1 + Math.floor(rnd() * (n - 1));
      // Every third round draws from a few values only, so many clues tie at the cut.
      const values = round % 3 === 0 ? [0.01, 0.99, 0.2, 0.8, 0.35, 0.65] : null;
      const clues = Array.from({ length: n }, () => (values ? values[Math.floor(rnd() * values.length)]! : rnd()));
      const buf = Float64Array.from(clues);
      keepMostExtreme(buf, n, keep, new Float64Array(n));
      expect(Array.from(buf.subarray(0, keep))).toEqual(bySort(clues, keep));
    }
  });

  it('keeps everything when every clue is equally far from 0.5', () => {
    const buf = Float64Array.from([0.9, 0.1, 0.9, 0.1]);
    keepMostExtreme(buf, 4, 3, new Float64Array(4));
    expect(Array.from(buf.subarray(0, 3))).toEqual([0.9, 0.1, 0.9]);
  });
});
