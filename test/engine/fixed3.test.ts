/** The engine's table-based probability formatting gives exactly what toFixed(3) gives. */
import { describe, expect, it } from 'vitest';
import { fixed3 } from '../../src/engine/engine.js';
import { prng } from '../../bench/lib/measure.js';

describe('fixed3', () => {
  it('equals toFixed(3) on random probabilities, thousandths, rounding ties and edges', () => {
    const random = prng(3);
    const values = [0, 1, 0.5, 0.0005, 0.0015, 0.9995, 1e-9, 1 - 1e-12, 0.1235, 0.1245, -0, Number.NaN, 1.5, -0.2];
    for (let i = 0; i <= 1000; i++) values.push(i / 1000, (i + 0.5) / 1000, i / 1000 + 1e-12, i / 1000 - 1e-12);
    for (let i = 0; i < 200_000; i++) values.push(random());
    for (const v of values) if (fixed3(v) !== v.toFixed(3)) throw new Error(`fixed3(${v}) = ${fixed3(v)}, toFixed gives ${v.toFixed(3)}`);
    expect(fixed3(0.12345)).toBe('0.123');
  });
});
