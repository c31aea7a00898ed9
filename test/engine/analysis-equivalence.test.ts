/**
 * The text analysis takes fast paths (a per-character folding table, table-driven measuring,
 * hashes computed while tokenizing). This test holds them to the straightforward version they
 * replaced (test/engine/reference/, frozen): the same folded text, words, counts, URLs, phone
 * numbers and money on every SMS of the UCI corpus, on SpamAssassin messages, and on random
 * texts built from the characters that make folding hard.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyseText, wordHash, type TextAnalysis } from '../../src/text/analysis.js';
import { foldText } from '../../src/text/fold.js';
import { tokenHash } from '../../src/bayes/token-table.js';
import { spamAssassinDataDir } from '../../src/mail/corpus.js';
import { analyseText as referenceAnalysis, type TextAnalysis as ReferenceAnalysis } from './reference/analysis.js';
import { foldText as referenceFold } from './reference/fold.js';
import { extractUrls as referenceUrls, parseUrl as referenceParseUrl, registrableDomain as referenceDomain } from './reference/urls.js';
import { extractUrls, parseUrl, registrableDomain } from '../../src/text/urls.js';
import { prng } from '../../bench/lib/measure.js';

function view(a: TextAnalysis | ReferenceAnalysis): unknown {
  return {
    folded: a.folded,
    words: a.words,
    urls: a.urls,
    length: a.length,
    capsRatio: a.capsRatio,
    script: a.script,
    obfuscations: a.obfuscations,
    phoneNumbers: a.phoneNumbers,
    moneyAmounts: a.moneyAmounts,
  };
}

/** Texts whose analysis differs from the reference, with both views (at most 5). */
function differences(texts: readonly string[]): Array<{ text: string; fast: unknown; reference: unknown }> {
  const out: Array<{ text: string; fast: unknown; reference: unknown }> = [];
  for (const text of texts) {
    const fast = view(analyseText(text));
    const reference = view(referenceAnalysis(text));
    if (JSON.stringify(fast) !== JSON.stringify(reference)) out.push({ text, fast, reference });
    for (const latin of [true, false]) {
      const f = foldText(text, latin);
      const r = referenceFold(text, latin);
      if (f.text !== r.text || f.confusables !== r.confusables || f.invisibles !== r.invisibles) {
        out.push({ text, fast: { latin, ...f }, reference: { latin, ...r } });
      }
    }
    if (out.length >= 5) break;
  }
  return out;
}

/** Characters that stress folding: accents, marks, look-alikes, invisibles, controls, astral, jamo, half/fullwidth. */
const HARD = [
  ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789',
  ...'     ...,,--__**//~~++!!@@$$||\'\'"":;?#&%()<>=\t\n\r',
  ...'£€¥₹₦ÜüéÉèàçñßøłđıǀÆæŒœĲǅǄ¡¿«»·ªº½¼µ°©®™…–—‘’“”•′″ ',
  '\u0301', '\u0308', '\u0336', '\u0327', '\u034f', '\u20dd', '\u3099', '\uff9e',
  '\u00ad', '\u200b', '\u200c', '\u200d', '\u200e', '\u202e', '\u2060', '\u2066', '\ufeff', '\ufe0f', '\ufe0e',
  '\u0000', '\u0007', '\u001b', '\u007f', '\u0085', '\u0092', '\u009f',
  ...'аеорсухіјԁѕвкмнтпгьАЕОРСМНТΑαβεηικνορτυχγωμΣσςΩПриветкакдела',
  ...'ＦＲＥＥ１００ｆｒｅｅ＠＄！　ｶﾞｷﾞ',
  '\u1100', '\u1161', '\u11a8', '\uac00', '\u3131', '\u4e2d', '\u6587', '\u3042', '\u30ab',
  '\u0627', '\u05d0', '\u0915', '\u093f', '\u0e01', '\u2126', '\u212a', '\u2160', '\ufb01', '\u2474', '\u33a1',
  '\u{1d405}', '\u{1d411}', '\u{1d404}', '\u{1f600}', '\u{1f44d}', '\u{1f3fd}', '\u2764', '\u{10400}', '\u{1d165}',
  '\ud800', '\udc00',
  'http://', 'https://', 'www.', '.com', '.co.uk', 'bit.ly/', '192.168.0.1', '@', 'f.r.e.e', 'f r e e', 'v1agra', 'fr33', "don't", 'don’t',
  '09061701461', '+44 7700 900123', '£1,000', '500 pounds', '150p', '10am',
];

/** Those of them that fold on their own, so whole texts of them take the table path. */
const TABLE_SAFE = HARD.filter((c) => !/[\p{M}\u0400-\u04ff\u0370-\u03ff\u1100-\u11ff\ud800-\udfff\u2126\u0600-\u0fff\uff9eßøłđıǀµ]/u.test(c) || /\p{Extended_Pictographic}|[\u{1d400}-\u{1d7ff}]/u.test(c));

function randomTexts(count: number, seed: number, pool: readonly string[] = HARD): string[] {
  const random = prng(seed);
  const texts: string[] = [];
  for (let t = 0; t < count; t++) {
    const len = 1 + Math.floor(random() * 40);
    let s = '';
    for (let i = 0; i < len; i++) s += pool[Math.floor(random() * pool.length)];
    texts.push(s);
  }
  return texts;
}

const uciPath = resolve(__dirname, '..', '..', '..', 'shared', 'corpora', 'sms-spam-collection', 'SMSSpamCollection.tsv');

describe('the fast text analysis gives exactly what the reference gives', () => {
  it.skipIf(!existsSync(uciPath))('on every SMS of the UCI corpus', () => {
    const texts = readFileSync(uciPath, 'utf8')
      .split('\n')
      .filter((l) => l.includes('\t'))
      .map((l) => l.slice(l.indexOf('\t') + 1));
    expect(texts.length).toBeGreaterThan(5000);
    expect(differences(texts)).toEqual([]);
  });

  it('on 20,000 random texts of accents, marks, look-alikes, invisibles, controls and astral characters', () => {
    expect(differences(randomTexts(20_000, 7))).toEqual([]);
  });

  it('on 20,000 random texts of the characters that fold on their own (the table path)', () => {
    expect(TABLE_SAFE.length).toBeGreaterThan(150);
    expect(differences(randomTexts(20_000, 19, TABLE_SAFE))).toEqual([]);
  });

  it('on the same characters in mostly-Latin sentences', () => {
    const random = prng(11);
    const base = 'Congratulations you have won a FREE prize call 09061701461 now or visit www.example.com for £1000 ';
    const texts = [...randomTexts(5_000, 13), ...randomTexts(5_000, 23, TABLE_SAFE)].map((noise) => {
      const at = Math.floor(random() * base.length);
      return base.slice(0, at) + noise + base.slice(at);
    });
    expect(differences(texts)).toEqual([]);
  });

  it('on 20,000 random dotted texts (the URL precheck: known and unknown top-level domains, schemes, IPs)', () => {
    const random = prng(29);
    const parts = ['hi', 'How', 'example', 'com', 'co', 'uk', 'then', 'www', 'to', 'go', 'comedy', 'net', 'xyz', 'tk', 'ly', 'bit', '1', '192', 'a', 'http', 'hxxps', 'x9', 'sub-domain', 'verylongtoplevelnamethatgoesonandon'];
    const glue = ['.', '.', '.', ' ', '/', ':', '..', '-', '@', '://', '?', '#', ', '];
    const texts = Array.from({ length: 20_000 }, () => {
      let t = '';
      const n = 1 + Math.floor(random() * 8);
      for (let i = 0; i < n; i++) t += parts[Math.floor(random() * parts.length)]! + (i < n - 1 ? glue[Math.floor(random() * glue.length)]! : '');
      return t;
    });
    expect(differences(texts)).toEqual([]);
  });

  it('finds the reference URLs in 30,000 random link-like texts (stretches ended by spaces, quotes and brackets; ports, paths, user@host)', () => {
    const random = prng(53);
    const parts = ['example', 'com', 'co.uk', 'www', 'bit.ly', 'xyz', 'then', 'comedy', '192.168.0.1', '1.2.3', '1.2.3.4.5', '1000', '10', 'user', 'x9', 'a-b', 'http', 'https', 'hxxp', 'tk', 'páge', '8080', 'id', 'q'];
    const glue = ['.', '.', '/', ':', '://', '@', '?', '#', '-', ' ', '\t', '\n', '\u00a0', '\u3000', '\ufeff', '"', "'", '(', ')', '<', '>', ',', '!', '..', ''];
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    for (let t = 0; t < 30_000; t++) {
      let text = '';
      const n = 1 + Math.floor(random() * 10);
      for (let i = 0; i < n; i++) text += pick(parts) + pick(glue);
      if (JSON.stringify(extractUrls(text)) !== JSON.stringify(referenceUrls(text))) expect({ text, urls: extractUrls(text) }).toEqual({ text, urls: referenceUrls(text) });
      // parseUrl also reads links out of HTML mail as they are: any case, any string.
      const raw = random() < 0.5 ? text.toUpperCase() : text;
      if (JSON.stringify(parseUrl(raw)) !== JSON.stringify(referenceParseUrl(raw))) expect({ raw, url: parseUrl(raw) }).toEqual({ raw, url: referenceParseUrl(raw) });
    }
  });

  it('on 20,000 random texts of numbers with units and near-units (150p, 2NITE, 10amx, 3morrows, 4u2)', () => {
    const random = prng(71);
    const units = ['st', 'nd', 'th', 'am', 'PM', 'p', 'ppm', 'pmin', 'k', 'mb', 'x', 's', 'mins', 'hrs', 'u', 'Nite', 'day', 'days', 'wk', 'morrow', 'ur', 'mth', 'mths', 'mthss', 'morrows', 'a', 'e', 'u2', 'ü', 'pé', '@m', 'b4'];
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const texts = Array.from({ length: 20_000 }, () =>
      Array.from({ length: 1 + Math.floor(random() * 5) }, () => String(Math.floor(random() * 1000)).slice(0, 1 + Math.floor(random() * 3)) + pick(units)).join(pick([' ', ' ', '. ', ', '])),
    );
    expect(differences(texts)).toEqual([]);
  });

  const dataDir = spamAssassinDataDir();
  it.skipIf(dataDir === null)('on SpamAssassin messages (raw, headers and bodies)', () => {
    const list = (JSON.parse(readFileSync(join(dataDir!, 'file_list.json'), 'utf8')) as string[]).sort();
    const texts = list.filter((_, i) => i % 10 === 0).map((rel) => readFileSync(join(dataDir!, rel), 'latin1').slice(0, 20_000));
    expect(texts.length).toBeGreaterThan(500);
    expect(differences(texts)).toEqual([]);
  });

  it('on texts with a character beyond ASCII that folds into ASCII (the Kelvin sign before a top-level domain)', () => {
    expect(differences(['Visit EXAMPLE.\u212Ae NOW', 'Win at prizes.\u212Ae call 07700 900123', 'CALL 0\u212A 09061701461 £5'])).toEqual([]);
    expect(analyseText('Visit EXAMPLE.\u212Ae NOW').urls.map((u) => u.host)).toEqual(['example.ke']);
  });

  it('gives the reference registrable domain for 50,000 random hosts (empty labels, IPs, second-level labels)', () => {
    const random = prng(41);
    const labels = ['', 'a', 'co', 'uk', 'com', 'example', 'x1', '192', '168', '0', '1', 'ke', 'ltd', 'www'];
    for (let i = 0; i < 50_000; i++) {
      const n = 1 + Math.floor(random() * 6);
      const host = Array.from({ length: n }, () => labels[Math.floor(random() * labels.length)]!).join('.');
      if (registrableDomain(host) !== referenceDomain(host)) expect({ host, domain: registrableDomain(host) }).toEqual({ host, domain: referenceDomain(host) });
    }
  });

  it('gives each word its classifier token hash', () => {
    for (const text of ['FREE entry!! f.r.e.e v1agra don’t 2nite', 'ÜBER £100 Æble fr€€ ²nd', ...randomTexts(2_000, 17), ...randomTexts(2_000, 37, TABLE_SAFE)]) {
      const a = analyseText(text);
      expect(a.wordHashes).toEqual(a.words.map((w) => tokenHash(w)));
      expect(a.wordHashes).toEqual(a.words.map((w) => wordHash(w)));
    }
  });
});
