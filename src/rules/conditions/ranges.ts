import type { Field } from '../source.js';

export interface Range {
  readonly min: number;
  readonly max: number;
}

/** `N` (at least N) or `{ min: N, max: M }`, each bound optional but not both. */
export function parseRange(field: Field, lowest: number, highest: number): Range {
  if (!field.isMap()) return { min: field.number(lowest, highest), max: highest };
  const f = field.fields(['min', 'max']);
  const min = f.get('min')?.number(lowest, highest) ?? lowest;
  const max = f.get('max')?.number(lowest, highest) ?? highest;
  if (!f.has('min') && !f.has('max')) field.fail('expected min and/or max');
  if (min > max) field.fail(`min ${min} is greater than max ${max}`);
  return { min, max };
}

export function inRange(r: Range, v: number): boolean {
  return v >= r.min && v <= r.max;
}

export function describeRange(r: Range, highest: number): string {
  if (r.max === highest) return `≥ ${r.min}`;
  return `${r.min}–${r.max}`;
}
