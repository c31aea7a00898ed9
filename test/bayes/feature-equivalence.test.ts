/**
 * Feature extraction takes shortcuts for speed (word hashes from the tokenizer, a stamped
 * table instead of a Set, the shouted-word regex only where three capitals meet, '!' counted
 * by indexOf, number units without a regex). These tests hold the hashes to the readable features and the shortcuts to the
 * definitions they replace, on every SMS of the UCI corpus and on random texts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { extractFeatures, featureStrings } from '../../src/bayes/features.js';
import { tokenHash } from '../../src/bayes/token-table.js';
import { AddressNormaliser } from '../../src/message/address.js';
import { normaliseMessage } from '../../src/message/normalise.js';
import { analyseText } from '../../src/text/analysis.js';

const uciPath = resolve(__dirname, '..', '..', '..', 'shared', 'corpora', 'sms-spam-collection', 'SMSSpamCollection.tsv');
const normaliser = new AddressNormaliser();

function texts(): string[] {
  const out = ['FREE entry!!! CALL NOW', 'ABC_DEF ABCD1 XYZ! É ÉCOLE CAFÉS', 'no capitals here!', '', '!!!!', 'A AB ABC'];
  let seed = 5;
  const random = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const pool = 'ABCXYZabcxyz019_ !.,É£€-'.split('');
  for (let i = 0; i < 3000; i++) {
    let s = '';
    const n = Math.floor(random() * 30);
    for (let k = 0; k < n; k++) s += pool[Math.floor(random() * pool.length)];
    out.push(s);
  }
  if (existsSync(uciPath)) {
    for (const line of readFileSync(uciPath, 'utf8').split('\n')) if (line.includes('\t')) out.push(line.slice(line.indexOf('\t') + 1));
  }
  return out;
}

describe('feature extraction shortcuts', () => {
  const all = texts();

  it('hashes exactly the readable features, once each, in first-seen order', () => {
    for (const text of all) {
      const message = normaliseMessage({ from: '+447700900123', to: '+447700900001', text }, normaliser);
      const analysis = analyseText(text);
      const expected = featureStrings(message, analysis).map((t) => tokenHash(t));
      const unique = expected.filter((h, i) => expected.indexOf(h) === i); // two tokens may share a hash
      expect(Array.from(extractFeatures(message, analysis)), text).toEqual(unique);
    }
  });

  it('counts shouted words and exclamation marks as the regexes /\\b[A-Z]{3,}\\b/g and /!/g do', () => {
    for (const text of all) {
      const message = normaliseMessage({ from: '+447700900123', to: '+447700900001', text }, normaliser);
      const features = featureStrings(message, analyseText(text));
      const shouted = text.match(/\b[A-Z]{3,}\b/g)?.length ?? 0;
      const bangs = text.match(/!/g)?.length ?? 0;
      expect(features.filter((f) => f.startsWith('shouted:')), text).toEqual(shouted > 0 ? [`shouted:${Math.min(shouted, 4)}`] : []);
      expect(features.filter((f) => f.startsWith('bang:')), text).toEqual(bangs > 0 ? [`bang:${Math.min(bangs, 3)}`] : []);
    }
  });

  it('bands capitals as the analysis counts them, and finds money where the analysis does', () => {
    // Amount-like texts on top: units, symbols, separators and spaces around digits.
    let seed = 3;
    const random = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const pool = ['5', '1,000', '2.50', ' ', ' ', '\t', '\n', 'pounds', 'Pound', 'EUR', 'gbp', 'usd', 'quid', 'naira', 'rupee', 'ksh', 'dollars', 'k', 'm', '$', '£', '€', '₦', 'x', 'FREE', '.', ',', 'Ⅻ', '５'];
    const amounts: string[] = [];
    for (let i = 0; i < 3000; i++) amounts.push(Array.from({ length: 1 + Math.floor(random() * 6) }, () => pool[Math.floor(random() * pool.length)]).join(''));
    for (const text of [...all, ...amounts]) {
      const message = normaliseMessage({ from: '+447700900123', to: '+447700900001', text }, normaliser);
      const analysis = analyseText(text);
      const features = featureStrings(message, analysis);
      const r = analysis.capsRatio;
      const caps = r < 0.05 ? 'caps:<5' : r < 0.2 ? 'caps:<20' : r < 0.5 ? 'caps:<50' : r < 0.8 ? 'caps:<80' : 'caps:80+';
      expect(features.filter((f) => f.startsWith('caps:')), text).toEqual([caps]);
      const money = new Set(analysis.moneyAmounts.map((m) => 'money' + (/[£$€¥₹₦]/.exec(m) ? ':' + /[£$€¥₹₦]/.exec(m)![0] : '')));
      // The bare token 'money' is also the word money: only counted apart when the text lacks it.
      if (analysis.words.includes('money')) money.add('money');
      expect(new Set(features.filter((f) => f === 'money' || f.startsWith('money:'))), text).toEqual(money);
    }
  });

  it('finds number units (150p, 10am) as /^\\d+([a-z]+)$/ does on each word', () => {
    let seed = 9;
    const random = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const pool = '0123456789pamkx_é'.split('');
    for (let t = 0; t < 3000; t++) {
      const words = Array.from({ length: 1 + Math.floor(random() * 4) }, () => {
        let w = '';
        const n = 1 + Math.floor(random() * 6);
        for (let k = 0; k < n; k++) w += pool[Math.floor(random() * pool.length)];
        return w;
      });
      const text = words.join(' ');
      const message = normaliseMessage({ from: '+447700900123', to: '+447700900001', text }, normaliser);
      const analysis = analyseText(text);
      const expected = new Set<string>();
      for (const w of analysis.words) {
        if (w.length >= 5 && /^\d+$/.test(w)) continue; // becomes a number shape first
        const m = /^\d+([a-z]+)$/.exec(w);
        if (m) expected.add('numunit:' + m[1]);
      }
      expect(new Set(featureStrings(message, analysis).filter((f) => f.startsWith('numunit:'))), text).toEqual(expected);
    }
  });

  it('keeps a long message whole: thousands of distinct features grow the table', () => {
    const text = Array.from({ length: 5000 }, (_, i) => `w${i}x`).join(' ');
    const message = normaliseMessage({ from: '+447700900123', to: '+447700900001', text }, normaliser);
    const analysis = analyseText(text);
    const hashes = extractFeatures(message, analysis);
    expect(new Set(hashes).size).toBe(hashes.length);
    expect(hashes.length).toBe(new Set(featureStrings(message, analysis).map((t) => tokenHash(t))).size);
    expect(hashes.length).toBeGreaterThan(5000);
  });
});
