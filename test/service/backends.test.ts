import { describe, expect, it } from 'vitest';
import { MemorySubscriberRepository } from '../../src/store/memory-subscribers.js';
import type { SubscriberServiceOptions } from '../../src/service/index.js';
import { ALICE, BOB, held, operator, service, tmp } from './helpers.js';

/** One shared store per test; `connect` opens another service on it (as another process would). */
type Backend = { name: string; store: () => (extra?: Partial<SubscriberServiceOptions>) => ReturnType<typeof service> };

const BACKENDS: Backend[] = [
  {
    name: 'SQLite',
    store: () => {
      const dir = tmp();
      return (extra = {}) => service({ dir, ...extra });
    },
  },
  {
    name: 'memory',
    store: () => {
      const repository = new MemorySubscriberRepository();
      return (extra = {}) => service({ repository, ...extra });
    },
  },
];

const blockPremium = { block: ['0900*'], allow: [], keywords: [], quiet: [], enabled: true };

describe.each(BACKENDS)('the service on the $name repository', ({ store }) => {
  it('keeps rules by canonical number and applies them at once', () => {
    const svc = store()();
    svc.addRule('07700 900001', 'block', '0900*', operator);
    expect(svc.addRule(ALICE, 'block', '0900 *', operator).block).toEqual(['0900*']);
    expect(svc.process(held(ALICE, 1)).outcome).toBe('quarantined');
    svc.removeRule(ALICE, 'block', '0900*', operator);
    expect(svc.process(held(ALICE, 2)).outcome).toBe('deliver');
    svc.setRules(BOB, blockPremium, operator);
    expect(svc.listSubscribers()).toEqual({ items: [ALICE, BOB], total: 2 });
    expect(svc.deleteSubscriber(BOB, operator)).toBe(true);
    expect(svc.getRules(BOB)).toBeUndefined();
    svc.close();
  });

  it('numbers spam boxes per subscriber, lists newest first, releases and deletes only the owner’s items', () => {
    const svc = store()();
    svc.setRules(ALICE, blockPremium, operator);
    svc.setRules(BOB, blockPremium, operator);
    for (let i = 1; i <= 4; i++) svc.process(held(ALICE, i));
    svc.process(held(BOB, 9));
    expect(svc.listSpamBox(ALICE, { limit: 2, offset: 1 }).items.map((m) => m.id)).toEqual([3, 2]);
    expect(svc.listSpamBox(BOB).items.map((m) => [m.id, m.text])).toEqual([[1, 'Held message number 9']]);
    expect(svc.release(BOB, 2, operator)).toBeUndefined();
    expect(svc.release(ALICE, 2, operator)?.text).toBe('Held message number 2');
    expect(svc.deleteSpamBoxItem(ALICE, 2, operator)).toBe(false);
    expect(svc.deleteSpamBoxItem(ALICE, 1, operator)).toBe(true);
    expect(svc.listSpamBox(ALICE).items.map((m) => m.id)).toEqual([4, 3]);
    svc.close();
  });

  it('evicts beyond the capacity, purges beyond the retention, and digests as one SMS', () => {
    let now = Date.UTC(2026, 0, 1, 8);
    const svc = store()({ spamBoxCapacity: 3, retentionDays: 1, now: () => now });
    svc.setRules(ALICE, { ...blockPremium, block: ['0900*', 'PRIZEDRAW'] }, operator);
    svc.process(held(ALICE, 1));
    now += 2 * 86_400_000;
    for (let i = 2; i <= 5; i++) svc.process(held(ALICE, i, { from: i % 2 ? 'PRIZEDRAW' : '09001234567' }));
    expect(svc.listSpamBox(ALICE).items.map((m) => m.id)).toEqual([5, 4, 3]);
    expect(svc.digest(ALICE, now - 1)).toBe('Spam box: 3 messages held since 3 Jan, 07:59, from PRIZEDRAW (2), +449001234567. Send SPAMBOX to see them.');
    expect(svc.digests(now - 1)).toEqual([{ subscriber: ALICE, text: svc.digest(ALICE, now - 1) }]);
    expect(svc.purge(now + 86_400_001)).toBe(3);
    expect(svc.listSpamBox(ALICE).total).toBe(0);
    svc.close();
  });

  it('another connection’s rule changes arrive by refresh, in slices, and a pruned sequence reloads', () => {
    let now = Date.UTC(2026, 0, 1);
    const connect = store();
    const server = connect({ refreshBatch: 2, now: () => now });
    const cli = connect({ loadSubscribers: false, now: () => now });
    cli.setRules(ALICE, blockPremium, operator);
    cli.setRules(BOB, blockPremium, operator);
    cli.setRules('+447700900003', blockPremium, operator);
    expect([server.refresh(), server.refresh(), server.refresh()]).toEqual([2, 1, 0]);
    cli.deleteSubscriber(BOB, operator);
    expect(server.refresh()).toBe(1);
    expect(server.process(held(BOB, 1)).outcome).toBe('deliver');
    cli.addRule(ALICE, 'keywords', 'prize', operator);
    now += 8 * 86_400_000;
    cli.purge(now);
    expect(server.refresh()).toBe(2); // reloaded: Alice and subscriber 3
    expect(server.engine.getSubscriber(ALICE)?.keywords).toEqual(['prize']);
    cli.close();
    server.close();
  });

  it('feedback is idempotent, relabels, and is rate-limited per subscriber', () => {
    const svc = store()({ feedbackRate: { perHour: 2, perDay: 10 } });
    const sms = { kind: 'subscriber', number: ALICE, channel: 'sms' } as const;
    const report = (label: 'spam' | 'ham', i: number) => svc.feedback(ALICE, label, { input: { from: '+447700900555', to: ALICE, text: `offer ${i}` } }, sms);
    expect(report('spam', 1)).toEqual({ accepted: true, relabelled: false });
    expect(report('spam', 1)).toEqual({ accepted: true, relabelled: false });
    expect(report('ham', 1)).toEqual({ accepted: true, relabelled: true });
    expect(report('spam', 2)).toMatchObject({ accepted: false });
    svc.close();
  });

  it('SMS commands and the audit trail work the same', () => {
    const svc = store()();
    expect(svc.handleCommand(ALICE, 'BLOCK 0900*')).toMatch(/^Blocked 0900\*/);
    svc.process(held(ALICE, 1));
    expect(svc.handleCommand(ALICE, 'SPAMBOX')).toMatch(/^Spam box \(1\): 1 \+449001000001: Held message number 1/);
    expect(svc.executeCommand(ALICE, 'RELEASE 1').deliver).toHaveLength(1);
    expect(svc.auditTrail({ subscriber: ALICE }).items.map((a) => a.action)).toEqual(['spambox.release', 'rules.add']);
    svc.close();
  });
});
