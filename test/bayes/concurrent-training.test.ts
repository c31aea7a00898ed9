/**
 * Two writers on one model database (a server taking subscribers' feedback while an operator
 * runs `spamgate train`): saves are increments, so both trainings are kept.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TokenStore, Trainer, tokenHash } from '../../src/bayes/index.js';
import type { MessageInput } from '../../src/message/types.js';

const msg = (text: string): MessageInput => ({ from: '+447700900000', to: '+447700900001', text });

describe('two stores training the same database', () => {
  it('add up instead of the last save overwriting the first', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'spamgate-bayes-')), 'm.db');
    TokenStore.open(path).close();
    const server = TokenStore.open(path);
    const operator = TokenStore.open(path);
    new Trainer(server).learn('spam', msg('free prize waiting claim now'));
    new Trainer(operator).learn('spam', msg('free cash bonus today'));
    new Trainer(operator).learn('ham', msg('lunch tomorrow at noon'));
    server.save();
    operator.save();
    server.close();
    operator.close();

    const stored = TokenStore.open(path);
    expect(stored.messages).toEqual({ spam: 2, ham: 1 });
    expect(stored.model.table.spamCount(tokenHash('free'))).toBe(2);
    expect(stored.model.table.spamCount(tokenHash('prize'))).toBe(1);
    expect(stored.model.table.spamCount(tokenHash('cash'))).toBe(1);
    expect(stored.model.table.hamCount(tokenHash('lunch'))).toBe(1);
    stored.close();
  });

  it('forgetting in a later store takes out the counts of that message alone', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'spamgate-bayes-')), 'm.db');
    const a = TokenStore.open(path);
    new Trainer(a).learn('spam', msg('free prize waiting'));
    new Trainer(a).learn('spam', msg('free entry draw'));
    a.save();
    a.close();
    const b = TokenStore.open(path);
    new Trainer(b).forget('spam', msg('free prize waiting'));
    b.save();
    b.close();
    const c = TokenStore.open(path);
    expect(c.messages).toEqual({ spam: 1, ham: 0 });
    expect(c.model.table.spamCount(tokenHash('free'))).toBe(1);
    expect(c.model.table.spamCount(tokenHash('prize'))).toBe(0);
    expect(c.model.table.spamCount(tokenHash('entry'))).toBe(1);
    c.close();
  });
});
