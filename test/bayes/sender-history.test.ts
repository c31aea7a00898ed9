/**
 * Sender history for email (src/bayes/sender-history.ts): a sender trained as ham and never as
 * spam earns EMAIL_SENDER_HISTORY_HAM; the history is learned, deduplicated and forgotten with
 * the message's other features, and never changes what the combiner reads.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BayesClassifier, BayesModel, DEFAULT_FEATURES, loadClassifier, TokenStore, Trainer } from '../../src/bayes/index.js';
import { EMAIL_BAYES_BANDS } from '../../src/bayes/email-bands.js';
import { DEFAULT_EMAIL_FEATURES, senderHistoryToken } from '../../src/bayes/email-features.js';
import { SENDER_HISTORY_RULE, senderHistoryScore } from '../../src/bayes/sender-history.js';
import { createEngine } from '../../src/engine/engine.js';
import { AddressNormaliser } from '../../src/message/address.js';
import { normaliseMessage } from '../../src/message/normalise.js';
import type { MessageInput } from '../../src/message/types.js';
import { parseEmail } from '../../src/mail/parse.js';
import { analyseText } from '../../src/text/analysis.js';

const tmp = (): string => join(mkdtempSync(join(tmpdir(), 'spamgate-history-')), 'm.db');

let n = 0;
/** A parsed email from `from` with `body`, as a mail scan or `spamgate train --ham` reads it. */
async function mail(from: string, subject: string, body: string): Promise<MessageInput> {
  const raw = `From: ${from}\r\nTo: reader@home.example\r\nSubject: ${subject}\r\nMessage-ID: <${++n}@x.example>\r\nDate: Mon, 2 Sep 2002 10:00:00 +0000\r\n\r\n${body}\r\n`;
  return (await parseEmail(Buffer.from(raw), `m${n}`)).input;
}

const SALES = 'special offer save money order now click here limited time free shipping best price';
const normaliser = new AddressNormaliser('GB');
const message = (input: MessageInput) => normaliseMessage(input, normaliser);

/** A few spam from spammers, ham from a newsletter and friends, and one address in both. */
async function examples(): Promise<Array<['spam' | 'ham', MessageInput]>> {
  const out: Array<['spam' | 'ham', MessageInput]> = [];
  for (let i = 0; i < 6; i++) out.push(['spam', await mail(`deals${i}@spam${i}.example`, `huge savings ${i}`, `${SALES} winner cash ${i}`)]);
  out.push(['spam', await mail('forged@shop.example', 'offer', `${SALES} winner cash`)]);
  for (let i = 0; i < 3; i++) out.push(['ham', await mail('News <news@shop.example>', `weekly letter ${i}`, `${SALES} catalogue ${i}`)]);
  out.push(['ham', await mail('forged@shop.example', 'hello', 'our order arrived, thanks')]);
  for (let i = 0; i < 6; i++) out.push(['ham', await mail(`friend${i}@home.example`, `lunch ${i}`, `see you at the meeting tomorrow about the project ${i}`)]);
  return out;
}

/** A store trained on `examples()` as `spamgate train` trains it. */
async function trainedStore(path = tmp()): Promise<{ store: TokenStore; trainer: Trainer }> {
  const store = TokenStore.open(path);
  const trainer = new Trainer(store);
  for (const [label, input] of await examples()) trainer.learn(label, input);
  return { store, trainer };
}

const historyReason = (reasons: readonly { rule: string }[]) => reasons.find((r) => r.rule.startsWith('EMAIL_SENDER_HISTORY'));

describe('the sender-history rule', () => {
  it('scores a sender seen in ham and never in spam, and nothing else', () => {
    expect(SENDER_HISTORY_RULE).toMatchObject({ key: 'address', minHam: 1, maxSpam: 0 });
    expect(senderHistoryScore({ ham: 1, spam: 0 })).toBe(SENDER_HISTORY_RULE.score);
    expect(senderHistoryScore({ ham: 5, spam: 1 })).toBe(0);
    expect(senderHistoryScore({ ham: 0, spam: 0 })).toBe(0);
    expect(senderHistoryScore({ ham: 0, spam: 3 })).toBe(0);
    const symmetric = { ...SENDER_HISTORY_RULE, spam: { minSpam: 2, maxHam: 0, score: 2 } };
    expect(senderHistoryScore({ ham: 0, spam: 3 }, symmetric)).toBe(2);
    expect(senderHistoryScore({ ham: 0, spam: 1 }, symmetric)).toBe(0);
  });

  it('keys the history by the whole lower-cased address, or by address and originating relay', async () => {
    const input = await mail('News <News@Shop.example>', 'x', 'y');
    expect(senderHistoryToken(input.email!, 'address')).toBe('hist:addr:news@shop.example');
    expect(senderHistoryToken(input.email!, 'domain')).toBe('hist:dom:shop.example');
    const relayed = (await parseEmail(Buffer.from('Received: from mx.shop.example (mx.shop.example [203.0.113.9]) by mail.home.example; Mon, 2 Sep 2002 10:00:00 +0000\r\nReceived: from desk ([192.168.1.5]) by mx.shop.example; Mon, 2 Sep 2002 09:59:00 +0000\r\nFrom: news@shop.example\r\nSubject: s\r\n\r\nbody\r\n'), 'r')).input;
    // The oldest relay with a public address, not the private hop inside the sender's network.
    expect(senderHistoryToken(relayed.email!, 'address+ip16')).toBe('hist:addr+ip16:news@shop.example|203.0');
    expect(senderHistoryToken(relayed.email!, 'address+relay')).toBe('hist:addr+relay:news@shop.example|shop.example');
  });
});

describe('sender history in a check', () => {
  it('releases a known sender, not an unknown one, nor an address also trained as spam', async () => {
    const { store } = await trainedStore();
    const engine = createEngine({ classifier: new BayesClassifier(store.model), emailBayesBands: EMAIL_BAYES_BANDS });
    const known = engine.check(await mail('news@shop.example', 'this week', `${SALES} catalogue new`));
    expect(historyReason(known.reasons)).toEqual({ rule: 'EMAIL_SENDER_HISTORY_HAM', score: SENDER_HISTORY_RULE.score, detail: 'sender news@shop.example seen in 3 ham, 0 spam trained' });
    const unknown = engine.check(await mail('news@other.example', 'this week', `${SALES} catalogue new`));
    expect(historyReason(unknown.reasons)).toBeUndefined();
    // The same text scores the history's points less from the known sender.
    expect(known.score).toBeCloseTo(unknown.score + SENDER_HISTORY_RULE.score, 6);
    // Seen in ham once and in spam once (a forged sender): no release.
    const forged = engine.check(await mail('forged@shop.example', 'offer', `${SALES} winner cash`));
    expect(historyReason(forged.reasons)).toBeUndefined();
    // SMS never carries it.
    const sms = engine.check({ from: '+447700900000', to: '+447700900001', text: SALES });
    expect(historyReason(sms.reasons)).toBeUndefined();
    store.close();
  });

  it('leaves the combiner alone: the same probabilities as a model trained without the history token', async () => {
    const { store } = await trainedStore();
    const off = { ...DEFAULT_FEATURES, email: { ...DEFAULT_EMAIL_FEATURES, senderHistory: 'off' as const } };
    const without = new BayesClassifier(new BayesModel(store.model.parameters), off);
    for (const [label, input] of await examples()) {
      const m = message(input);
      without.learn(m, analyseText(m.text), label);
    }
    expect(without.model.table.size).toBeLessThan(store.model.table.size);
    const withHistory = new BayesClassifier(store.model);
    for (const input of [await mail('news@shop.example', 'this week', `${SALES} catalogue new`), await mail('deals1@spam1.example', 'x', `${SALES} winner`)]) {
      const m = message(input);
      expect(withHistory.spamProbability(m, analyseText(m.text))).toBe(without.spamProbability(m, analyseText(m.text)));
      // A model trained before the history token existed: scored the same, no history, no reason.
      expect(new BayesClassifier(without.model).senderHistory(m)).toBeUndefined();
    }
    store.close();
  });

  it('counts a message trained twice once, forgets it with --forget, and survives a save and load', async () => {
    const path = tmp();
    const { store, trainer } = await trainedStore(path);
    const again = await mail('News <news@shop.example>', 'weekly letter 0', `${SALES} catalogue 0`);
    expect(trainer.learn('ham', again)).toBe('already');
    const probe = message(await mail('news@shop.example', 'this week', 'new catalogue'));
    const classifier = new BayesClassifier(store.model);
    expect(classifier.senderHistory(probe)?.detail).toBe('sender news@shop.example seen in 3 ham, 0 spam trained');
    store.save();
    expect(loadClassifier(path)?.senderHistory(probe)?.detail).toBe('sender news@shop.example seen in 3 ham, 0 spam trained');
    for (let i = 0; i < 3; i++) expect(trainer.forget('ham', await mail('News <news@shop.example>', `weekly letter ${i}`, `${SALES} catalogue ${i}`))).toBe('forgotten');
    expect(classifier.senderHistory(probe)).toBeUndefined();
    store.save();
    expect(loadClassifier(path)?.senderHistory(probe)).toBeUndefined();
    store.close();
  });
});
