/**
 * An engine lends one WordBuffers to the analysis of each message it checks, so the words'
 * positions and hashes are written over the last message's. An analysis made with the buffers
 * must read exactly what an analysis of its own reads (whatever was in the buffers before: a
 * longer text, a text with joined spaced runs, a text that grows them), and an analysis of its
 * own must keep its words whatever is analysed after it.
 */
import { describe, expect, it } from 'vitest';
import { analyseText, WordBuffers, type TextAnalysis } from '../../src/text/analysis.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import type { SpamClassifier } from '../../src/engine/types.js';
import { loadRuleSet, shippedRulesDir } from '../../src/rules/load.js';
import { prng, uciCorpus } from '../../bench/lib/measure.js';

const PIECES = ['FREE', 'Win', 'c@sh', 'f.r.e.e', 'W I N N E R', 'l00k', 'don’t', 'www.Example.COM/a', 'Call 0800 123', '£100', 'ÉTÉ', 'Рау', 'x'];

/** UCI texts mixed with obfuscated ones and a few long ones (past the buffers' first size). */
function texts(): string[] {
  const random = prng(5);
  const out = uciCorpus().map((c) => c.text);
  for (let i = 0; i < 3000; i++) {
    const n = 1 + Math.floor(random() * (i % 100 === 0 ? 400 : 8));
    out.push(Array.from({ length: n }, () => PIECES[Math.floor(random() * PIECES.length)]).join(' '));
  }
  // Shuffled, so short texts follow long ones and texts with repairs follow plain ones.
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** What the hot paths read of an analysis's words. */
function wordsRead(a: TextAnalysis): { hashes: number[]; words: string[]; lengths: number[]; codes: number[] } {
  const hashes: number[] = [];
  const words: string[] = [];
  const lengths: number[] = [];
  const codes: number[] = [];
  for (let i = 0; i < a.wordCount; i++) {
    hashes.push(a.wordHashes[i]!);
    words.push(a.word(i));
    lengths.push(a.wordLength(i));
    codes.push(a.wordCode(i));
    if (!a.wordIs(i, a.word(i))) throw new Error(`wordIs refuses word ${i} of ${JSON.stringify(a.original)}`);
  }
  return { hashes, words, lengths, codes };
}

describe('word buffers lent from one analysis to the next', () => {
  it('give every analysis the words an analysis of its own has', () => {
    const buffers = new WordBuffers();
    let repaired = 0;
    let long = 0;
    for (const t of texts()) {
      const own = analyseText(t);
      const lent = analyseText(t, buffers);
      expect(lent.wordCount).toBe(own.wordCount);
      expect(wordsRead(lent)).toEqual(wordsRead(own));
      expect(lent.words).toEqual(own.words);
      expect(lent.obfuscations).toBe(own.obfuscations);
      if (own.obfuscations > 0) repaired++;
      if (own.wordCount > 256) long++;
    }
    expect(repaired).toBeGreaterThan(500);
    expect(long).toBeGreaterThan(10);
  });

  it('leave an analysis of its own untouched by the analyses made after it', () => {
    const buffers = new WordBuffers();
    const kept = texts()
      .slice(0, 2000)
      .map((t) => {
        const a = analyseText(t);
        analyseText('W I N N E R f.r.e.e ' + t, buffers); // in between: lent buffers and the shared ones
        analyseText(t.split('').reverse().join(''));
        return { a, read: wordsRead(analyseText(t)) };
      });
    for (const { a, read } of kept) expect(wordsRead(a)).toEqual(read);
  });

  it('do not change a check: an engine gives the verdicts of a fresh engine per message', () => {
    // Without the volume rules, whose counters make a verdict depend on the messages before it.
    const all = loadRuleSet([shippedRulesDir()]);
    const volumeFiles = new Set(all.rules.filter((r) => r.volume).map((r) => r.file));
    const rules = loadRuleSet(all.files.filter((f) => !volumeFiles.has(f)));
    const shared = createEngine({ rules });
    const sample = texts().filter((_, i) => i % 7 === 0);
    for (const text of sample) {
      const input = { from: '+447700900001', to: '+447700900002', text, time: 1_780_000_000_000 };
      expect(shared.check(input)).toEqual(createEngine({ rules }).check(input));
    }
  });

  it('keep a check right when its classifier checks another message on the same engine', () => {
    // The classifier reads the words of the message, checks another one (whose analysis must not
    // take the buffers the first is using), then reads the words again.
    let engine: Engine | undefined;
    const seen: string[][] = [];
    let nested = false;
    const reentrant: SpamClassifier = {
      spamProbability: (_message, analysis) => {
        if (nested) return 0.5;
        nested = true;
        const before = Array.from({ length: analysis.wordCount }, (_, i) => analysis.word(i));
        engine!.check({ from: '+447700900009', to: '+447700900008', text: 'W I N N E R of a completely different message with many more words in it' });
        seen.push(Array.from({ length: analysis.wordCount }, (_, i) => analysis.word(i)), before);
        nested = false;
        return 0.5;
      },
    };
    engine = createEngine({ classifier: reentrant });
    const verdict = engine.check({ from: '+447700900001', to: '+447700900002', text: 'Free entry to win a prize' });
    expect(seen[0]).toEqual(['free', 'entry', 'to', 'win', 'a', 'prize']);
    expect(seen[1]).toEqual(seen[0]);
    expect(verdict).toEqual(createEngine({ classifier: { spamProbability: () => 0.5 } }).check({ from: '+447700900001', to: '+447700900002', text: 'Free entry to win a prize' }));
  });
});
