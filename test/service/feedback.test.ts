import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { ALICE, BOB, held, operator, service, tmp } from './helpers.js';

const sms = { kind: 'subscriber', number: ALICE, channel: 'sms' } as const;
const blockPremium = { block: ['0900*'], allow: [], keywords: [], quiet: [], enabled: true };

/** The model's message totals as saved in the database. */
function totals(dbPath: string): { spam: number; ham: number; tokens: number } {
  const db = new Database(dbPath, { readonly: true });
  const meta = new Map((db.prepare('SELECT key, value FROM bayes_meta').all() as Array<{ key: string; value: string }>).map((r) => [r.key, Number(r.value)]));
  const tokens = (db.prepare('SELECT count(*) AS n FROM bayes_tokens').get() as { n: number }).n;
  db.close();
  return { spam: meta.get('spam_messages') ?? 0, ham: meta.get('ham_messages') ?? 0, tokens };
}

describe('feedback', () => {
  it('trains the model from a spam box message, once however often it is reported, and relabelling moves it', () => {
    const dir = tmp();
    const svc = service({ dir, modelPath: undefined });
    svc.setRules(ALICE, blockPremium, operator);
    svc.process(held(ALICE, 1, { text: 'Claim your casino bonus today' }));
    expect(svc.feedback(ALICE, 'spam', { spamBoxId: 1 }, sms)).toEqual({ accepted: true, relabelled: false });
    expect(totals(svc.dbPath)).toMatchObject({ spam: 1, ham: 0 });
    const tokensAfterOne = totals(svc.dbPath).tokens;
    expect(tokensAfterOne).toBeGreaterThan(0);
    expect(svc.feedback(ALICE, 'spam', { spamBoxId: 1 }, sms)).toEqual({ accepted: true, relabelled: false });
    expect(totals(svc.dbPath)).toMatchObject({ spam: 1, ham: 0, tokens: tokensAfterOne });
    // The subscriber changes their mind: the spam counts come out, the ham counts go in.
    expect(svc.feedback(ALICE, 'ham', { spamBoxId: 1 }, sms)).toEqual({ accepted: true, relabelled: true });
    expect(totals(svc.dbPath)).toMatchObject({ spam: 0, ham: 1, tokens: tokensAfterOne });
    svc.close();
  });

  it('feedback on a message given whole must be addressed to that subscriber', () => {
    const svc = service({ modelPath: undefined });
    expect(svc.feedback(ALICE, 'spam', { input: { from: '+447700900555', to: BOB, text: 'hi' } }, sms)).toEqual({
      accepted: false,
      reason: `the message was sent to ${BOB}, not to ${ALICE}`,
    });
    expect(svc.feedback(ALICE, 'spam', { spamBoxId: 9 }, sms)).toMatchObject({ accepted: false, reason: `no message 9 in the spam box of ${ALICE}` });
    expect(svc.feedback(ALICE, 'spam', {}, sms)).toMatchObject({ accepted: false });
    expect(svc.feedback(ALICE, 'spam', { input: { from: '+447700900555', to: '07700 900001', text: 'cheap loans' } }, sms)).toEqual({ accepted: true, relabelled: false });
    expect(totals(svc.dbPath).spam).toBe(1);
    svc.close();
  });

  it('is rate-limited per subscriber, persistently across restarts, and the limit lifts after the hour', () => {
    const dir = tmp();
    let now = Date.UTC(2026, 0, 1, 12);
    const opts = { dir, modelPath: undefined, feedbackRate: { perHour: 3, perDay: 5 }, now: () => now };
    const report = (svc: ReturnType<typeof service>, who: string, i: number) =>
      svc.feedback(who, 'spam', { input: { from: '+447700900555', to: who, text: `offer number ${i}` } }, sms);
    let svc = service(opts);
    for (let i = 0; i < 3; i++) expect(report(svc, ALICE, i).accepted).toBe(true);
    expect(report(svc, ALICE, 3)).toEqual({ accepted: false, reason: 'rate limit: at most 3 reports an hour and 5 a day' });
    // Repeating an accepted report is idempotent and costs nothing.
    expect(report(svc, ALICE, 0)).toEqual({ accepted: true, relabelled: false });
    expect(report(svc, BOB, 0).accepted).toBe(true);
    svc.close();
    svc = service(opts);
    expect(report(svc, ALICE, 3).accepted).toBe(false);
    now += 3_600_001;
    expect(report(svc, ALICE, 3).accepted).toBe(true);
    expect(report(svc, ALICE, 4).accepted).toBe(true);
    expect(report(svc, ALICE, 5)).toMatchObject({ accepted: false });
    expect(totals(svc.dbPath).spam).toBe(6);
    // By SMS the limit is a polite reply.
    svc.process({ from: '+447700900556', to: ALICE, text: 'another one', time: now });
    expect(svc.handleCommand(ALICE, 'SPAM')).toBe('You have sent many reports recently. Please try again later.');
    svc.close();
  });

  it('once the model knows spam and ham, the engine scores with it and later feedback changes the next verdict', () => {
    const svc = service({ modelPath: undefined, feedbackRate: { perHour: 1000, perDay: 1000 } });
    const spam = ['win cash prize now claim', 'free casino bonus claim now', 'claim your cash reward today', 'urgent prize claim call now'];
    const ham = ['see you at lunch tomorrow', 'running late for the meeting', 'can you pick up milk', 'happy birthday see you soon'];
    let i = 0;
    for (const text of spam) svc.feedback(ALICE, 'spam', { input: { from: `+4477009${String(10000 + i++)}`, to: ALICE, text } }, sms);
    const before = svc.process({ from: '+447700900999', to: ALICE, text: 'see you at lunch' });
    expect(before.verdict.spamProbability).toBeUndefined();
    for (const text of ham) svc.feedback(ALICE, 'ham', { input: { from: `+4477009${String(10000 + i++)}`, to: ALICE, text } }, sms);
    const lunch = svc.process({ from: '+447700900999', to: ALICE, text: 'see you at lunch' });
    const prize = svc.process({ from: '+447700900999', to: ALICE, text: 'claim your cash prize now' });
    expect(lunch.verdict.spamProbability).toBeLessThan(0.5);
    expect(prize.verdict.spamProbability).toBeGreaterThan(0.5);
    svc.close();
  });

  it('with modelPath false, feedback is recorded (and rate-limited) but trains nothing', () => {
    const svc = service({ modelPath: false });
    expect(svc.feedback(ALICE, 'spam', { input: { from: '+447700900555', to: ALICE, text: 'x' } }, sms).accepted).toBe(true);
    const db = new Database(svc.dbPath, { readonly: true });
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'bayes_tokens'").get()).toEqual({ n: 0 });
    expect(db.prepare('SELECT label FROM feedback').all()).toEqual([{ label: 'spam' }]);
    db.close();
    svc.close();
  });
});
