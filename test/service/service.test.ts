import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { SubscriberRuleError } from '../../src/rules/subscriber.js';
import { SUBSCRIBER_LIMITS } from '../../src/rules/subscriber-types.js';
import { SqliteSubscriberStore } from '../../src/store/subscribers.js';
import { StoreError } from '../../src/store/db.js';
import { ALICE, BOB, engine, held, operator, septets, service, tmp } from './helpers.js';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';

const blockPremium = { block: ['0900*'], allow: [], keywords: [], quiet: [], enabled: true };

describe('subscriber rules', () => {
  it('stores rules under the canonical number and applies them to the next message at once', () => {
    const svc = service();
    expect(svc.process(held(ALICE, 1)).outcome).toBe('deliver');
    svc.setRules('07700 900001', blockPremium, operator);
    expect(svc.getRules(ALICE)).toEqual(blockPremium);
    const r = svc.process(held(ALICE, 2));
    expect(r.outcome).toBe('quarantined');
    expect(r.verdict.reasons.map((x) => x.rule)).toContain('SUBSCRIBER_BLOCK');
    svc.close();
  });

  it('addRule and removeRule change one list, ignore duplicates written differently, and keep the rest', () => {
    const svc = service();
    svc.addRule(ALICE, 'block', '+447700900123', operator);
    const same = svc.addRule(ALICE, 'block', '07700 900123', operator);
    expect(same.block).toEqual(['+447700900123']);
    svc.addRule(ALICE, 'keywords', '  free   prize ', operator);
    expect(svc.addRule(ALICE, 'keywords', 'FREE PRIZE', operator).keywords).toEqual(['free prize']);
    const after = svc.removeRule(ALICE, 'block', '07700900123', operator);
    expect(after).toEqual({ block: [], allow: [], keywords: ['free prize'], quiet: [], enabled: true });
    expect(svc.removeRule(ALICE, 'allow', 'nobody', operator)).toEqual(after);
    svc.close();
  });

  it('refuses bad rules with a SubscriberRuleError naming the field, and writes nothing', () => {
    const svc = service();
    svc.setRules(ALICE, blockPremium, operator);
    const bad = (rules: unknown, field: string | RegExp) => {
      let err: unknown;
      try {
        svc.setRules(ALICE, rules as never, operator);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SubscriberRuleError);
      expect((err as SubscriberRuleError).field).toMatch(field);
    };
    bad({ ...blockPremium, block: ['a$b'] }, 'block[0]');
    bad({ ...blockPremium, quiet: [{ from: '25:00', to: '07:00' }] }, 'quiet[0]');
    bad({ ...blockPremium, keywords: [''] }, 'keywords[0]');
    bad({ ...blockPremium, block: 'not a list' }, 'block');
    bad({ ...blockPremium, enabled: 'yes' }, 'enabled');
    bad({ ...blockPremium, block: Array.from({ length: 500 }, (_, i) => `+4477009${String(i).padStart(5, '0')}`) }, 'rules');
    expect(svc.getRules(ALICE)).toEqual(blockPremium);
    expect(() => svc.setRules('PRIZEDRAW', blockPremium, operator)).toThrow(/not a subscriber number/);
    svc.close();
  });

  it(`stops addRule at ${SUBSCRIBER_LIMITS.maxRules} rules: 500 additions leave exactly the limit`, () => {
    const svc = service();
    let refused = 0;
    for (let i = 0; i < 500; i++) {
      try {
        svc.addRule(ALICE, 'block', `+4477009${String(i).padStart(5, '0')}`, operator);
      } catch (err) {
        expect((err as SubscriberRuleError).field).toBe('rules');
        refused++;
      }
    }
    expect(refused).toBe(500 - SUBSCRIBER_LIMITS.maxRules);
    expect(svc.getRules(ALICE)!.block).toHaveLength(SUBSCRIBER_LIMITS.maxRules);
    svc.close();
  });

  it('lists subscribers in pages with the total, and deleting one removes its rules and spam box', () => {
    const svc = service();
    for (const n of [BOB, ALICE, '+447700900003']) svc.setRules(n, blockPremium, operator);
    expect(svc.listSubscribers({ limit: 2 })).toEqual({ items: [ALICE, BOB], total: 3 });
    expect(svc.listSubscribers({ limit: 2, offset: 2 })).toEqual({ items: ['+447700900003'], total: 3 });
    svc.process(held(ALICE, 1));
    expect(svc.deleteSubscriber(ALICE, operator)).toBe(true);
    expect(svc.getRules(ALICE)).toBeUndefined();
    expect(svc.listSpamBox(ALICE).total).toBe(0);
    expect(svc.process(held(ALICE, 2)).outcome).toBe('deliver');
    expect(svc.deleteSubscriber(ALICE, operator)).toBe(false);
    svc.close();
  });

  it('loads every stored subscriber into a new engine on start', () => {
    const first = service();
    first.importRules([[ALICE, blockPremium], [BOB, { ...blockPremium, enabled: false }]], operator);
    first.close();
    const e = engine();
    const second = service({ dbPath: first.dbPath, engine: e });
    expect(e.subscriberCount).toBe(2);
    expect(second.process(held(ALICE, 1)).outcome).toBe('quarantined');
    expect(second.process(held(BOB, 1)).outcome).toBe('deliver');
    second.close();
  });

  it('read-modify-write of rules holds the write lock throughout: another writer cannot slip in between', () => {
    const svc = service();
    const other = new Database(svc.dbPath, { timeout: 0 });
    let refused = '';
    const rules = svc.modifyRules(ALICE, operator, (current) => {
      try {
        other.prepare("INSERT INTO subscriber_meta (key, value) VALUES ('probe', '1')").run();
      } catch (err) {
        refused = (err as { code: string }).code;
      }
      return { rules: { ...current, block: ['0900*'] }, action: 'rules.add', detail: {} };
    });
    expect(refused).toBe('SQLITE_BUSY');
    expect(rules.block).toEqual(['0900*']);
    other.prepare("INSERT INTO subscriber_meta (key, value) VALUES ('probe', '1')").run();
    other.close();
    // A change that throws (here: invalid) leaves the stored rules as they were.
    expect(() => svc.modifyRules(ALICE, operator, (c) => ({ rules: { ...c, block: ['a$b'] }, action: 'x', detail: {} }))).toThrow(SubscriberRuleError);
    expect(svc.getRules(ALICE)!.block).toEqual(['0900*']);
    svc.close();
  });

  it('import validates every entry first and writes none when one is bad', () => {
    const svc = service();
    expect(() => svc.importRules([[ALICE, blockPremium], [BOB, { ...blockPremium, keywords: ['x'.repeat(65)] }]], operator)).toThrow(/\+447700900002: keywords\[0\]/);
    expect(svc.listSubscribers().total).toBe(0);
    svc.close();
  });

  it('records every change in the audit trail with its actor, never message text', () => {
    const svc = service();
    svc.setRules(ALICE, blockPremium, operator);
    svc.addRule(ALICE, 'keywords', 'prize', { kind: 'subscriber', number: ALICE, channel: 'sms' });
    svc.process(held(ALICE, 1, { text: 'a secret text' }));
    svc.release(ALICE, 1, { kind: 'subscriber', number: ALICE, channel: 'http' });
    const audit = (svc.store as SqliteSubscriberStore).listAudit({ subscriber: ALICE, limit: 10 });
    expect(audit.items.map((a) => a.action)).toEqual(['spambox.release', 'rules.add', 'rules.set']);
    expect(audit.items[1]!.actor).toEqual({ kind: 'subscriber', number: ALICE, channel: 'sms' });
    expect(audit.items[2]!.actor).toEqual(operator);
    expect(JSON.stringify(audit)).not.toContain('secret');
    svc.close();
  });
});

describe('spam box', () => {
  it('holds a quarantined message durably before process returns: another connection reads it at once', () => {
    const svc = service();
    svc.setRules(ALICE, blockPremium, operator);
    const r = svc.process({ ...held(ALICE, 7), id: 'smpp-42' });
    expect(r).toMatchObject({ outcome: 'quarantined', spamBoxId: 1 });
    const other = new Database(svc.dbPath, { readonly: true });
    const row = other.prepare('SELECT subscriber, id, sender, text, message_id FROM spambox').get();
    expect(row).toEqual({ subscriber: ALICE, id: 1, sender: '+449001000007', text: 'Held message number 7', message_id: 'smpp-42' });
    other.close();
    svc.close();
  });

  it('lists newest first in pages, shows, releases once and deletes', () => {
    const svc = service();
    svc.setRules(ALICE, blockPremium, operator);
    for (let i = 1; i <= 5; i++) svc.process(held(ALICE, i));
    const page = svc.listSpamBox(ALICE, { limit: 2, offset: 1 });
    expect(page.total).toBe(5);
    expect(page.items.map((x) => x.id)).toEqual([4, 3]);
    expect(svc.getSpamBoxItem(ALICE, 3)).toMatchObject({ id: 3, subscriber: ALICE, text: 'Held message number 3', verdict: { action: 'quarantine' } });
    expect(svc.release(ALICE, 3, operator)?.text).toBe('Held message number 3');
    expect(svc.release(ALICE, 3, operator)).toBeUndefined();
    expect(svc.deleteSpamBoxItem(ALICE, 2, operator)).toBe(true);
    expect(svc.deleteSpamBoxItem(ALICE, 2, operator)).toBe(false);
    expect(svc.listSpamBox(ALICE).items.map((x) => x.id)).toEqual([5, 4, 1]);
    // Numbers are never reused, so "RELEASE 3" cannot reach a newer message.
    expect(svc.process(held(ALICE, 6)).spamBoxId).toBe(6);
    svc.close();
  });

  it('numbers each subscriber’s spam box from 1, and one subscriber cannot see, release or delete another’s', () => {
    const svc = service();
    svc.setRules(ALICE, blockPremium, operator);
    svc.setRules(BOB, blockPremium, operator);
    for (let i = 1; i <= 3; i++) svc.process(held(BOB, i, { text: `for bob ${i}` }));
    expect(svc.process(held(ALICE, 1, { text: 'for alice' })).spamBoxId).toBe(1);
    expect(svc.listSpamBox(ALICE).items.map((x) => x.text)).toEqual(['for alice']);
    expect(svc.getSpamBoxItem(ALICE, 2)).toBeUndefined();
    expect(svc.release(ALICE, 3, operator)).toBeUndefined();
    expect(svc.deleteSpamBoxItem(ALICE, 2, operator)).toBe(false);
    expect(svc.listSpamBox(BOB).total).toBe(3);
    svc.close();
  });

  it('evicts the oldest messages beyond the capacity', () => {
    const svc = service({ spamBoxCapacity: 3 });
    svc.setRules(ALICE, blockPremium, operator);
    svc.setRules(BOB, blockPremium, operator);
    svc.process(held(BOB, 1));
    for (let i = 1; i <= 5; i++) svc.process(held(ALICE, i));
    expect(svc.listSpamBox(ALICE).items.map((x) => x.id)).toEqual([5, 4, 3]);
    expect(svc.listSpamBox(BOB).total).toBe(1);
    svc.close();
  });

  it('purges messages older than the retention and keeps the rest', () => {
    let now = Date.UTC(2026, 0, 1);
    const svc = service({ retentionDays: 30, now: () => now });
    svc.setRules(ALICE, blockPremium, operator);
    svc.process(held(ALICE, 1));
    now += 20 * 86_400_000;
    svc.process(held(ALICE, 2));
    expect(svc.purge(now + 9 * 86_400_000)).toBe(0);
    expect(svc.purge(now + 11 * 86_400_000)).toBe(1);
    expect(svc.listSpamBox(ALICE).items.map((x) => x.id)).toEqual([2]);
    svc.close();
  });

  it('digests what was held since a time as one SMS naming the senders most held', () => {
    let now = Date.UTC(2026, 0, 1, 8);
    const svc = service({ now: () => now });
    svc.setRules(ALICE, { ...blockPremium, block: ['0900*', '*'] }, operator);
    svc.process(held(ALICE, 1));
    now += 3_600_000;
    for (let i = 0; i < 40; i++) svc.process({ from: i < 5 ? 'PRIZEDRAW' : `+2547000${String(10000 + i)}`, to: ALICE, text: 'x', time: now });
    const digest = svc.digest(ALICE, Date.UTC(2026, 0, 1, 8, 30));
    expect(digest).toMatch(/^Spam box: 40 messages held since 1 Jan, 08:30, from PRIZEDRAW \(5\), /);
    expect(digest).toMatch(/\d+ others. Send SPAMBOX to see them.$/);
    expect(septets(digest)).toBeLessThanOrEqual(160);
    expect(svc.digest(BOB, 0)).toBe('Spam box: nothing held since 1 Jan, 00:00.');
    svc.close();
  });
});

describe('other processes', () => {
  it('refresh applies rules another connection added, changed or deleted, and counts them', () => {
    const dir = tmp();
    const server = service({ dir });
    const cli = service({ dir, loadSubscribers: false });
    expect(server.refresh()).toBe(0);
    cli.setRules(ALICE, blockPremium, operator);
    cli.setRules(BOB, blockPremium, operator);
    expect(server.process(held(ALICE, 1)).outcome).toBe('deliver');
    expect(server.refresh()).toBe(2);
    expect(server.process(held(ALICE, 2)).outcome).toBe('quarantined');
    cli.setRules(ALICE, { ...blockPremium, enabled: false }, operator);
    cli.deleteSubscriber(BOB, operator);
    expect(server.refresh()).toBe(2);
    expect(server.process(held(ALICE, 3)).outcome).toBe('deliver');
    expect(server.process(held(BOB, 3)).outcome).toBe('deliver');
    expect(server.refresh()).toBe(0);
    // Its own changes are already in its engine: a refresh finds nothing new.
    server.addRule(ALICE, 'keywords', 'prize', operator);
    expect(server.refresh()).toBe(0);
    cli.close();
    server.close();
  });

  it('takes a bulk import by another process in slices of refreshBatch', () => {
    const dir = tmp();
    const server = service({ dir, refreshBatch: 40 });
    const cli = service({ dir, loadSubscribers: false });
    const numbers = Array.from({ length: 100 }, (_, i) => `+4477009${String(10000 + i)}`);
    cli.importRules(numbers.map((n) => [n, blockPremium] as const), operator);
    expect([server.refresh(), server.refresh(), server.refresh(), server.refresh()]).toEqual([40, 40, 20, 0]);
    expect(server.engine.subscriberCount).toBe(100);
    cli.close();
    server.close();
  });

  it('reloads everything when the change sequence was pruned past it', () => {
    const dir = tmp();
    let now = Date.UTC(2026, 0, 1);
    const server = service({ dir, now: () => now });
    const cli = service({ dir, loadSubscribers: false, now: () => now });
    cli.setRules(ALICE, blockPremium, operator);
    now += 8 * 86_400_000;
    cli.purge(now);
    expect(server.refresh()).toBe(1);
    expect(server.process(held(ALICE, 1)).outcome).toBe('quarantined');
    cli.close();
    server.close();
  });

  it('refuses a file that is not a database, and a subscriber schema newer than this version', () => {
    const dir = tmp();
    const junk = join(dir, 'junk.db');
    writeFileSync(junk, 'this is not sqlite at all, just text'.repeat(200));
    expect(() => service({ dbPath: junk })).toThrow(StoreError);
    const svc = service({ dir });
    svc.close();
    const db = new Database(svc.dbPath);
    db.prepare("UPDATE schema_versions SET version = 99 WHERE component = 'subscribers'").run();
    db.close();
    expect(() => service({ dir })).toThrow(/schema version 99, newer than this spamgate understands/);
  });

  it('refuses nonsense options by name', () => {
    expect(() => service({ spamBoxCapacity: 0 })).toThrow('spamBoxCapacity must be a whole number of at least 1, not 0');
    expect(() => service({ feedbackRate: { perHour: Number.NaN } })).toThrow(/feedbackRate.perHour/);
    expect(() => service({ retentionDays: -1 })).toThrow(/retentionDays/);
    expect(() => service({ serviceNumber: 'SERVICE' })).toThrow(/not a subscriber number/);
  });

  it('damaged stored rules are ignored by the engine and named on read, never fatal', () => {
    const dir = tmp();
    const first = service({ dir });
    first.setRules(ALICE, blockPremium, operator);
    first.setRules(BOB, blockPremium, operator);
    first.close();
    const db = new Database(first.dbPath);
    db.prepare('UPDATE subscribers SET rules = ? WHERE number = ?').run('{"block": "0900*"', ALICE);
    db.close();
    const svc = service({ dir });
    expect(svc.process(held(ALICE, 1)).outcome).toBe('deliver');
    expect(svc.process(held(BOB, 1)).outcome).toBe('quarantined');
    expect(() => svc.getRules(ALICE)).toThrow(`the stored rules of ${ALICE} are damaged`);
    // Setting them again repairs them.
    svc.setRules(ALICE, blockPremium, operator);
    expect(svc.process(held(ALICE, 2)).outcome).toBe('quarantined');
    // Damage written by another process arrives through refresh as "no rules".
    const raw = new Database(first.dbPath);
    raw.prepare('UPDATE subscribers SET rules = ? WHERE number = ?').run('{"block": [1]}', BOB);
    raw.prepare("INSERT INTO subscriber_changes (subscriber, at) VALUES (?, 0)").run(BOB);
    raw.close();
    expect(svc.refresh()).toBe(1);
    expect(svc.process(held(BOB, 2)).outcome).toBe('deliver');
    svc.close();
  });

  it("synchronous: 'full' makes every commit wait for fsync (the default NORMAL survives a crash, not a power loss)", () => {
    const full = service({ synchronous: 'full' });
    expect((full.store as SqliteSubscriberStore).db.pragma('synchronous', { simple: true })).toBe(2);
    expect((full.store as SqliteSubscriberStore).db.pragma('journal_mode', { simple: true })).toBe('wal');
    full.close();
    const normal = service();
    expect((normal.store as SqliteSubscriberStore).db.pragma('synchronous', { simple: true })).toBe(1);
    normal.close();
  });
});

describe('translation', () => {
  it('replaces reply texts and still sends one SMS whatever they return', () => {
    const svc = service({ replies: { help: () => 'AYUDA: BLOCK n, ALLOW n, LIST', unknown: (w) => `"${w}" no es un comando. ${'Envíe AYUDA. '.repeat(20)}` } });
    expect(svc.handleCommand(ALICE, 'help')).toBe('AYUDA: BLOCK n, ALLOW n, LIST');
    const long = svc.handleCommand(ALICE, 'hola');
    expect(long.startsWith('"hola" no es un comando. Envie AYUDA.')).toBe(true); // í is not GSM: sent as i
    expect(septets(long)).toBe(160);
    svc.close();
  });
});
