import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BAYES_BANDS, BayesModel, chi2Q, loadClassifier, metricsFrom, rocAuc, stratifiedFolds, TokenStore, Trainer, TokenTable, tokenHash } from '../../src/bayes/index.js';
import { StoreError } from '../../src/store/db.js';
import type { MessageInput } from '../../src/message/types.js';
import { createEngine } from '../../src/engine/engine.js';
import { compileRules } from '../../src/rules/compile.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'spamgate-bayes-'));
const msg = (text: string): MessageInput => ({ from: '+447700900000', to: '+447700900001', text });
const SPAM = ['win a free prize now call 09061701461', 'free entry win cash prize txt WIN', 'claim your prize now, urgent cash reward', 'you have won a free holiday call now'];
const HAM = ['see you at lunch tomorrow', 'running late, be there soon', 'can you pick up milk on the way home', 'happy birthday, have a lovely day'];

function trained(path: string): TokenStore {
  const store = TokenStore.open(path);
  const t = new Trainer(store);
  for (const s of SPAM) t.learn('spam', msg(s));
  for (const h of HAM) t.learn('ham', msg(h));
  store.save();
  return store;
}

describe('the token table', () => {
  it('counts, grows and never goes below zero', () => {
    const t = new TokenTable(4);
    for (let i = 1; i <= 1000; i++) t.add(tokenHash('t' + i), 1, i % 2);
    expect(t.size).toBe(1000);
    expect(t.spamCount(tokenHash('t7'))).toBe(1);
    expect(t.hamCount(tokenHash('t7'))).toBe(1);
    t.add(tokenHash('t7'), -5, -5);
    expect(t.spamCount(tokenHash('t7'))).toBe(0);
    expect(t.spamCount(tokenHash('never'))).toBe(0);
  });
});

describe('the chi-square combiner', () => {
  it('chi2Q matches known values', () => {
    expect(chi2Q(0, 2)).toBeCloseTo(1);
    expect(chi2Q(2, 2)).toBeCloseTo(Math.exp(-1));
    expect(chi2Q(9.488, 4)).toBeCloseTo(0.05, 3);
  });

  it('separates what it was taught, through the engine, and says 0.5 when it knows nothing', () => {
    const store = trained(join(tmp(), 'm.db'));
    const classifier = loadClassifier(store.path)!;
    store.close();
    const engine = createEngine({ rules: compileRules([]), classifier, bayesBands: BAYES_BANDS });
    const spam = engine.check(msg('urgent: win a free cash prize, call now'));
    const ham = engine.check(msg('see you tomorrow at lunch, running late'));
    expect(spam.spamProbability).toBeGreaterThan(0.85);
    expect(spam.reasons.map((r) => r.rule)).toEqual(['BAYES_85']);
    expect(spam.action).toBe('quarantine');
    expect(ham.spamProbability).toBeLessThan(0.2);
    expect(ham.action).toBe('deliver');
    expect(new BayesModel().probability(new Int32Array([1, 2, 3]))).toBe(0.5);
  });
});

describe('training', () => {
  it('learns, and a message trained twice with the same label counts once', () => {
    const path = join(tmp(), 'm.db');
    const store = trained(path);
    expect(store.messages).toEqual({ spam: 4, ham: 4 });
    const t = new Trainer(store);
    expect(t.learn('spam', msg(SPAM[0]!))).toBe('already');
    expect(store.messages).toEqual({ spam: 4, ham: 4 });
    store.close();
  });

  it('relabelling moves a message; forget undoes it exactly', () => {
    const store = trained(join(tmp(), 'm.db'));
    const before = store.model.table.spamCount(tokenHash('prize'));
    const t = new Trainer(store);
    expect(t.learn('ham', msg(SPAM[0]!))).toBe('relabelled');
    expect(store.messages).toEqual({ spam: 3, ham: 5 });
    expect(t.forget('ham', msg(SPAM[0]!))).toBe('forgotten');
    expect(store.messages).toEqual({ spam: 3, ham: 4 });
    expect(t.forget('ham', msg('never trained'))).toBe('unknown');
    expect(t.learn('spam', msg(SPAM[0]!))).toBe('learned');
    expect(store.model.table.spamCount(tokenHash('prize'))).toBe(before);
    store.close();
  });

  it('train on error skips what the model already gets right', () => {
    const store = trained(join(tmp(), 'm.db'));
    const t = new Trainer(store, { onError: true });
    expect(t.learn('spam', msg('win a free prize, call now to claim cash'))).toBe('skipped');
    expect(t.learn('spam', msg('exclusive offer for valued customers'))).toBe('learned');
    store.close();
  });

  it('persists across opens: the stored model equals the trained one', () => {
    const path = join(tmp(), 'm.db');
    const a = trained(path);
    const count = a.model.table.spamCount(tokenHash('free'));
    a.close();
    const b = TokenStore.open(path);
    expect(b.messages).toEqual({ spam: 4, ham: 4 });
    expect(b.model.table.spamCount(tokenHash('free'))).toBe(count);
    expect(new Trainer(b).learn('ham', msg(HAM[1]!))).toBe('already');
    b.close();
  });

  it('changes not saved are not stored: an aborted training leaves the model as it was', () => {
    const path = join(tmp(), 'm.db');
    trained(path).close();
    const s = TokenStore.open(path);
    new Trainer(s).learn('spam', msg('something new entirely'));
    s.close(); // no save
    expect(TokenStore.open(path).messages).toEqual({ spam: 4, ham: 4 });
  });
});

describe('model files', () => {
  it('a missing or untrained database gives no classifier', () => {
    expect(loadClassifier(join(tmp(), 'none.db'))).toBeUndefined();
    const path = join(tmp(), 'empty.db');
    TokenStore.open(path).close();
    expect(loadClassifier(path)).toBeUndefined();
  });

  it('a corrupt or foreign file is a clear error and is left untouched', () => {
    const path = join(tmp(), 'model.db');
    writeFileSync(path, 'this is not a database at all, just text '.repeat(200));
    const before = readFileSync(path);
    expect(() => loadClassifier(path)).toThrow(StoreError);
    expect(() => TokenStore.open(path)).toThrow(/not a spamgate database \(or is corrupt\)/);
    expect(readFileSync(path).equals(before)).toBe(true);
  });
});

describe('evaluation arithmetic', () => {
  it('stratified folds spread each class evenly and depend only on the seed', () => {
    const labels = [...Array(30).fill('spam'), ...Array(70).fill('ham')] as ('spam' | 'ham')[];
    const a = stratifiedFolds(labels, 10, 7);
    expect(a).toEqual(stratifiedFolds(labels, 10, 7));
    expect(a).not.toEqual(stratifiedFolds(labels, 10, 8));
    for (let f = 0; f < 10; f++) {
      expect(labels.filter((l, i) => l === 'spam' && a[i] === f)).toHaveLength(3);
      expect(labels.filter((l, i) => l === 'ham' && a[i] === f)).toHaveLength(7);
    }
  });

  it('metrics: confusion, MCC, AUC', () => {
    const m = metricsFrom([0.9, 0.8, 0.1, 0.95, 0.2, 0.05], ['spam', 'spam', 'spam', 'ham', 'ham', 'ham'], 0.85);
    expect(m.confusion).toEqual({ tp: 1, fn: 2, fp: 1, tn: 2 });
    expect(m.spamCaughtPercent).toBeCloseTo(100 / 3);
    expect(m.mcc).toBeCloseTo(0);
    expect(rocAuc([0.1, 0.2, 0.8, 0.9], ['ham', 'ham', 'spam', 'spam'])).toBe(1);
    expect(rocAuc([0.5, 0.5], ['ham', 'spam'])).toBe(0.5);
  });
});

describe('a token table shared with other threads', () => {
  it('reads the same counts over shared memory and refuses to change them', () => {
    const table = new TokenTable();
    for (let h = 1; h <= 5000; h++) table.add(h * 7919, h % 3, h % 5);
    const shared = table.share();
    expect(shared.data.buffer).toBeInstanceOf(SharedArrayBuffer);
    const reader = TokenTable.overShared(shared);
    expect(reader.size).toBe(table.size);
    const a = new Uint32Array(2);
    const b = new Uint32Array(2);
    for (let h = 1; h <= 5001; h++) {
      expect(reader.counts(h * 7919, b)).toBe(table.counts(h * 7919, a));
      expect([...b]).toEqual([...a]);
    }
    expect(() => reader.add(12345, 1, 0)).toThrow(/shared read-only/);
    expect(() => reader.set(12345, 1, 0)).toThrow(/shared read-only/);
    // A copy: training the owner's table later does not reach the shared one.
    table.add(7919, 100, 0);
    expect(reader.spamCount(7919)).toBe(1);
  });
});
