/**
 * AddressMatcher answers as a straightforward reading of its patterns would: exact values
 * (compared in a list up to eight, in a map beyond), the longest prefix, globs (tried only when
 * the value holds their longest literal run), and which pattern's source a detail names.
 */
import { describe, expect, it } from 'vitest';
import { AddressNormaliser } from '../../src/message/address.js';
import { AddressMatcher, compilePattern, globMatch, type CompiledPattern } from '../../src/rules/patterns.js';
import { prng } from '../../bench/lib/measure.js';

const normaliser = new AddressNormaliser('GB');

/** The reference: every exact (last source wins), longest prefix, first glob. */
function reference(patterns: readonly CompiledPattern[], value: string): string | undefined {
  let exact: string | undefined;
  for (const p of patterns) if (p.kind === 'exact' && p.value === value) exact = p.source;
  if (exact !== undefined) return exact;
  const prefixes = patterns.filter((p) => p.kind === 'prefix').sort((a, b) => b.value.length - a.value.length);
  for (const p of prefixes) if (value.startsWith(p.value)) return p.source;
  for (const p of patterns) if (p.kind === 'glob' && globMatch(p.value, value)) return p.source;
  return undefined;
}

describe('AddressMatcher', () => {
  it('matches like the reference for small and large exact lists, prefixes and globs', () => {
    const random = prng(5);
    const digit = (): string => String(Math.floor(random() * 10));
    const number = (): string => '+44770090' + digit() + digit() + digit() + digit();
    let hits = 0;
    let misses = 0;
    for (let round = 0; round < 300; round++) {
      const raw: string[] = [];
      const exacts = Math.floor(random() * 14); // both sides of the list/map limit
      for (let i = 0; i < exacts; i++) raw.push(number());
      if (random() < 0.5) raw.push('+4477009' + digit() + '*');
      if (random() < 0.5) raw.push('*' + digit() + digit() + '*', '+44??0090' + digit() + '*', '*BET*');
      const patterns = raw.flatMap((r) => compilePattern(r, normaliser));
      const m = new AddressMatcher(patterns);
      for (let k = 0; k < 40; k++) {
        const v = random() < 0.5 && raw.length > 0 ? normaliser.normalise(raw[Math.floor(random() * raw.length)]!.replace('*', '1').replace(/\?/g, '7')) : normaliser.normalise(number());
        const expected = reference(patterns, v.value);
        expect(m.match(v)).toBe(expected);
        if (expected === undefined) misses++;
        else hits++;
      }
    }
    expect(hits).toBeGreaterThan(1000); // both outcomes reached
    expect(misses).toBeGreaterThan(1000);
  });

  it('finds the longest prefix like the reference in long prefix lists (nested, repeated, national and international)', () => {
    const random = prng(9);
    const digits = (n: number): string => Array.from({ length: n }, () => String(Math.floor(random() * 3))).join('');
    let hits = 0;
    let misses = 0;
    for (let round = 0; round < 200; round++) {
      // Digits 0–2 only, so prefixes nest and repeat; written both as 0… and +44…
      const raw = Array.from({ length: 1 + Math.floor(random() * 20) }, () => (random() < 0.5 ? '0' : '+44') + digits(Math.floor(random() * 4)) + '*');
      const patterns = raw.flatMap((r) => compilePattern(r, normaliser));
      const m = new AddressMatcher(patterns);
      for (let k = 0; k < 40; k++) {
        const v = normaliser.normalise((random() < 0.5 ? '+44' : '') + (random() < 0.3 ? '' : '0') + digits(8));
        const expected = reference(patterns, v.value);
        expect(m.match(v)).toBe(expected);
        if (expected === undefined) misses++;
        else hits++;
      }
    }
    expect(hits).toBeGreaterThan(1000);
    expect(misses).toBeGreaterThan(500);
  });

  it('names the last source of a value listed twice, as the map it replaced did', () => {
    const patterns = [...compilePattern('+447700900001', normaliser), ...compilePattern('07700 900001', normaliser)];
    expect(new AddressMatcher(patterns).match(normaliser.normalise('+447700900001'))).toBe('07700 900001');
  });

  it('does not try a glob whose literal run the value lacks, and still matches one that has it', () => {
    const m = new AddressMatcher(compilePattern('*BET*', normaliser));
    expect(m.match(normaliser.normalise('+447700900001'))).toBeUndefined();
    expect(m.match(normaliser.normalise('SUPERBET'))).toBe('*BET*');
  });
});
