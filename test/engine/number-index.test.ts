import { describe, expect, it } from 'vitest';
import { NumberIndex } from '../../src/engine/number-index.js';
import { e164Digits } from '../../src/rules/patterns.js';

describe('NumberIndex (subscribers by number on the hot path)', () => {
  it('reads E.164 digits (at most 15) as an exact number and refuses anything else', () => {
    expect(e164Digits('+447700900001')).toBe(447700900001);
    expect(e164Digits('+999999999999999')).toBe(999999999999999);
    expect(e164Digits('447700900001')).toBe(-1);
    expect(e164Digits('+4477009O0001')).toBe(-1);
    expect(e164Digits('+')).toBe(-1);
    expect(e164Digits('+0447700900001')).toBe(-1); // else it would be the same key as +447700900001
    expect(e164Digits('+9999999999999999')).toBe(-1);
  });

  it('finds what was set, forgets what was removed, and keeps short codes apart', () => {
    const index = new NumberIndex<string>();
    index.set('+447700900001', 'a');
    index.set('87121', 'short');
    expect(index.get('+447700900001')).toBe('a');
    expect(index.get('+447700900002')).toBeUndefined();
    expect(index.get('87121')).toBe('short');
    index.set('+447700900001', undefined);
    expect(index.get('+447700900001')).toBeUndefined();
    index.set('+447700900001', 'again');
    expect(index.get('+447700900001')).toBe('again');
    index.set('+0447700900001', 'not a number');
    expect(index.get('+447700900001')).toBe('again');
    expect(index.get('+0447700900001')).toBe('not a number');
    index.set('87121', undefined);
    expect(index.get('87121')).toBeUndefined();
  });

  it('keeps every entry through growth and removals', () => {
    const index = new NumberIndex<number>();
    const key = (i: number): string => '+4477' + String(10_000_000 + i);
    for (let i = 0; i < 50_000; i++) index.set(key(i), i);
    for (let i = 0; i < 50_000; i += 2) index.set(key(i), undefined);
    for (let i = 50_000; i < 60_000; i++) index.set(key(i), i);
    for (let i = 0; i < 60_000; i++) expect(index.get(key(i))).toBe(i < 50_000 && i % 2 === 0 ? undefined : i);
    expect(index.get('+447799999999')).toBeUndefined();
  });
});
