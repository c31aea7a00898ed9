/**
 * The keyword automaton finds what a plain reading of every phrase at every word would find, in
 * the same order (by start, shorter phrases first, then as added), through its filters: the
 * first-word bits, the single-word and word-pair bits, the hash table and the trie.
 */
import { describe, expect, it } from 'vitest';
import { KeywordIndex } from '../../src/rules/keyword-index.js';
import { analyseText, phraseWords } from '../../src/text/analysis.js';
import { prng } from '../../bench/lib/measure.js';

/** Every occurrence of every phrase, as the scan orders them. */
function plainScan(phrases: readonly string[][], words: readonly string[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < words.length; i++) {
    const longest = Math.max(0, ...phrases.map((p) => p.length));
    for (let len = 1; len <= longest; len++) {
      phrases.forEach((p, id) => {
        if (p.length === len && p.every((w, k) => words[i + k] === w)) out.push(id);
      });
    }
  }
  return out;
}

describe('KeywordIndex', () => {
  it('finds every phrase occurrence like a plain scan, on 3,000 random phrase lists and texts', () => {
    const random = prng(61);
    // A small vocabulary, so phrases share first words and pairs, repeat, and nest.
    const vocabulary = ['to', 'you', 'u', 'win', 'free', 'call', 'now', 'opt', 'out', 'be', 'the', 'prize', '2', 'txt'];
    const pick = (): string => vocabulary[Math.floor(random() * vocabulary.length)]!;
    let found = 0;
    for (let round = 0; round < 3_000; round++) {
      const index = new KeywordIndex();
      const phrases: string[][] = [];
      const count = 1 + Math.floor(random() * 12);
      for (let p = 0; p < count; p++) {
        const text = Array.from({ length: 1 + Math.floor(random() * 3) }, pick).join(' ');
        const words = phraseWords(text);
        phrases.push(words);
        expect(index.add(words, p, text)).toBe(p);
      }
      const message = analyseText(Array.from({ length: Math.floor(random() * 14) }, pick).join(' '));
      const out: number[] = [];
      const n = index.scan(message, out);
      const expected = plainScan(phrases, message.words);
      expect(out.slice(0, n)).toEqual(expected);
      found += n;
    }
    expect(found).toBeGreaterThan(2_000);
  });

  it('finds every phrase of a channel on that channel when phrases are told their channels, on 3,000 random lists', () => {
    const random = prng(67);
    const vocabulary = ['to', 'you', 'click', 'here', 'free', 'call', 'now', 'opt', 'out', 'win'];
    const pick = (): string => vocabulary[Math.floor(random() * vocabulary.length)]!;
    let skipped = 0;
    for (let round = 0; round < 3_000; round++) {
      const index = new KeywordIndex();
      const phrases: string[][] = [];
      const channels: number[] = [];
      for (let p = 0; p < 1 + Math.floor(random() * 10); p++) {
        const words = phraseWords(Array.from({ length: 1 + Math.floor(random() * 3) }, pick).join(' '));
        phrases.push(words);
        channels.push(1 + Math.floor(random() * 3)); // 1 sms, 2 email, 3 both
        index.add(words, p, words.join(' '));
      }
      index.setChannels((id) => channels[id]!);
      const message = analyseText(Array.from({ length: Math.floor(random() * 12) }, pick).join(' '));
      for (const channel of [1, 2]) {
        const out: number[] = [];
        const n = index.scan(message, out, channel);
        const mine = (ids: readonly number[]): number[] => ids.filter((id) => (channels[id]! & channel) !== 0);
        expect(mine(out.slice(0, n))).toEqual(mine(plainScan(phrases, message.words)));
        skipped += plainScan(phrases, message.words).length - n;
      }
    }
    expect(skipped).toBeGreaterThan(500); // the other channel's phrases were left out, not only found
  });
});
