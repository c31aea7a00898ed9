import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ALICE, BOB, held, operator, service, tmp } from './helpers.js';

// Runs the built CLI (`npm test` compiles first, as for the other CLI tests).
const ROOT = resolve(import.meta.dirname, '..', '..');

function spamgate(args: string[], home: string, input?: string) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'spamgate.js'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, SPAMGATE_HOME: home },
    ...(input !== undefined ? { input } : {}),
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const json = (r: { stdout: string }) => JSON.parse(r.stdout);

describe('spamgate subscriber', () => {
  it('add, show, list, remove rules in the embedded default database, and a running service picks them up', () => {
    const home = tmp();
    const server = service({ dbPath: join(home, 'spamgate.db') });
    const add = spamgate(['subscriber', 'add', '07700 900001', '--block', '0900*', '*BET*', '--allow', '+447700900123', '--keyword', 'prize', '--quiet', '22:00-07:00', '--json'], home);
    expect(add.code).toBe(0);
    expect(json(add)).toEqual({
      subscriber: ALICE,
      rules: { block: ['0900*', '*BET*'], allow: ['+447700900123'], keywords: ['prize'], quiet: [{ from: '22:00', to: '07:00' }], enabled: true },
    });
    // Adding again merges and ignores what is already there.
    expect(json(spamgate(['subscriber', 'add', ALICE, '--block', '0900*', '--keyword', 'win', '--filter', 'off', '--json'], home)).rules).toMatchObject({ block: ['0900*', '*BET*'], keywords: ['prize', 'win'], enabled: false });
    expect(server.refresh()).toBe(1);
    expect(server.engine.getSubscriber(ALICE)?.keywords).toEqual(['prize', 'win']);

    spamgate(['subscriber', 'add', BOB, '--block', 'PRIZEDRAW'], home);
    expect(server.refresh()).toBe(1);
    expect(json(spamgate(['subscriber', 'list', '--json'], home))).toMatchObject({ total: 2, items: [{ subscriber: ALICE }, { subscriber: BOB, rules: { block: ['PRIZEDRAW'] } }] });
    expect(spamgate(['subscriber', 'list'], home).stdout).toContain('2 of 2 subscribers');
    expect(json(spamgate(['subscriber', 'show', ALICE, '--json'], home))).toMatchObject({ subscriber: ALICE, spamBox: 0 });

    const removed = spamgate(['subscriber', 'remove', ALICE, '--keyword', 'PRIZE', '--block', 'nothing*', '--quiet-off', '--json'], home);
    expect(removed.code).toBe(1);
    expect(removed.stderr).toContain(`${ALICE} has no block 'nothing*'`);
    expect(json(removed).rules).toMatchObject({ keywords: ['win'], quiet: [] });
    const audit = json(spamgate(['subscriber', 'audit', ALICE, '--json'], home));
    expect(audit.items.map((a: { action: string }) => a.action)).toEqual(['rules.quiet', 'rules.remove', 'rules.add', 'rules.add']);
    expect(audit.items[1]).toMatchObject({ subscriber: ALICE, actor: { kind: 'operator', name: expect.stringMatching(/^cli/) }, detail: { list: 'keywords', value: 'prize' } });
    expect(spamgate(['subscriber', 'remove', BOB], home).stdout).toBe(`removed ${BOB}, their rules and spam box\n`);
    expect(spamgate(['subscriber', 'audit'], home).stdout).toMatch(new RegExp(`${BOB.replace('+', '\\+')} +subscriber.delete +operator cli`));
    expect(spamgate(['subscriber', 'show', BOB], home)).toMatchObject({ code: 1, stderr: `spamgate: no subscriber ${BOB} in ${join(home, 'spamgate.db')}\n` });
    expect(server.refresh()).toBe(2);
    expect(server.engine.getSubscriber(BOB)).toBeUndefined();
    server.close();
  });

  it('export writes what import reads; a bad entry imports nothing and names file, line and column', () => {
    const home = tmp();
    const db = join(home, 'a.db');
    spamgate(['subscriber', 'add', ALICE, '--block', '0900*', '--quiet', '23:00-06:30', '--db', db], home);
    spamgate(['subscriber', 'add', BOB, '--keyword', 'free entry', '--db', db], home);
    const exported = spamgate(['subscriber', 'export', '--db', db], home);
    expect(exported.code).toBe(0);
    const other = join(home, 'b.db');
    expect(json(spamgate(['subscriber', 'import', '-', '--db', other, '--json'], home, exported.stdout))).toEqual({ imported: 2 });
    expect(spamgate(['subscriber', 'export', '--db', other], home).stdout).toBe(exported.stdout);

    const bad = join(home, 'bad.json');
    writeFileSync(bad, '{\n  "+447700900003": { "block": ["0900*"] },\n  "+447700900004": { "block": ["a$b"] }\n}\n');
    const r = spamgate(['subscriber', 'import', bad, '--db', join(home, 'c.db')], home);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:\\d+: .*block\\[0\\]: invalid pattern 'a\\$b'`));
    expect(json(spamgate(['subscriber', 'list', '--json', '--db', join(home, 'c.db')], home)).total).toBe(0);

    const out = join(home, 'one.json');
    expect(spamgate(['subscriber', 'export', ALICE, '+447700900009', '-o', out, '--db', db], home)).toMatchObject({ code: 1, stderr: 'spamgate: no subscriber +447700900009\n' });
    expect(Object.keys(JSON.parse(readFileSync(out, 'utf8')))).toEqual([ALICE]);
  });

  it('bad arguments are clear errors with exit status 2, and nothing is written', () => {
    const home = tmp();
    expect(spamgate(['subscriber', 'add', ALICE, '--block', 'a$b'], home)).toMatchObject({ code: 2, stderr: expect.stringContaining("invalid pattern 'a$b'") });
    expect(spamgate(['subscriber', 'add', ALICE, '--quiet', '25:00-07:00'], home)).toMatchObject({ code: 2, stderr: "spamgate: --quiet '25:00-07:00': expected a 24-hour range such as 22:00-07:00\n" });
    expect(spamgate(['subscriber', 'add', 'PRIZEDRAW', '--block', '0900*'], home)).toMatchObject({ code: 2, stderr: expect.stringContaining("'PRIZEDRAW' is not a subscriber number") });
    expect(spamgate(['subscriber', 'add', ALICE, '--filter', 'maybe'], home)).toMatchObject({ code: 2 });
    expect(spamgate(['subscriber', 'list', '--limit', 'lots'], home)).toMatchObject({ code: 2, stderr: "spamgate: --limit 'lots': expected a whole number\n" });
    expect(json(spamgate(['subscriber', 'list', '--json'], home)).total).toBe(0);
    const junk = join(home, 'junk.db');
    writeFileSync(junk, 'not a database '.repeat(100));
    const r = spamgate(['subscriber', 'list', '--db', junk], home);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^spamgate: .*junk\.db is not a spamgate database/);
  });
});

describe('spamgate spambox', () => {
  it('lists, shows, releases, deletes, digests and purges held messages', () => {
    const home = tmp();
    const dbPath = join(home, 'spamgate.db');
    let now = Date.UTC(2026, 0, 1, 9);
    const svc = service({ dbPath, now: () => now });
    svc.setRules(ALICE, { block: ['0900*'], allow: [], keywords: [], quiet: [], enabled: true }, operator);
    svc.process(held(ALICE, 1));
    now = Date.now();
    for (let i = 2; i <= 4; i++) svc.process(held(ALICE, i, { id: `msg-${i}` }));
    svc.close();

    const list = json(spamgate(['spambox', 'list', ALICE, '--limit', '2', '--json'], home));
    expect(list.total).toBe(4);
    expect(list.items.map((m: { id: number }) => m.id)).toEqual([4, 3]);
    expect(spamgate(['spambox', 'list', ALICE], home).stdout).toMatch(/^ {4}4 {2}\S+ {2}\+449001000004 +Held message number 4\n/);
    expect(json(spamgate(['spambox', 'show', ALICE, '3', '--json'], home))).toMatchObject({ id: 3, messageId: 'msg-3', verdict: { action: 'quarantine' } });
    expect(spamgate(['spambox', 'show', ALICE, '3'], home).stdout).toMatch(/^#3 {2}from \+449001000003 {2}to \+447700900001\n.*message id msg-3\n {2}quarantine score \S+: SUBSCRIBER_BLOCK/);
    expect(json(spamgate(['spambox', 'release', '07700900001', '3', '--json'], home))).toMatchObject({ id: 3, text: 'Held message number 3' });
    expect(spamgate(['spambox', 'release', ALICE, '3'], home)).toMatchObject({ code: 1, stderr: `spamgate: no message 3 in the spam box of ${ALICE}\n` });
    expect(spamgate(['spambox', 'show', BOB, '4'], home).code).toBe(1);
    expect(spamgate(['spambox', 'delete', ALICE, '4'], home).stdout).toBe('deleted message 4\n');
    expect(spamgate(['spambox', 'delete', ALICE, '0'], home)).toMatchObject({ code: 2 });

    const digest = json(spamgate(['spambox', 'digest', ALICE, '--since', '1h', '--json'], home));
    expect(digest.text).toMatch(/^Spam box: 1 message held since .*, from \+449001000002\. Send SPAMBOX to see them\.$/);
    expect(spamgate(['spambox', 'digest', ALICE, '--since', 'yesterday-ish'], home).code).toBe(2);
    const since = new Date(now - 3_600_000).toISOString();
    const one = json(spamgate(['spambox', 'digest', ALICE, '--since', since, '--json'], home));
    const all = spamgate(['spambox', 'digest', '--all', '--since', since, '--json'], home);
    expect(all.stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual([one]);
    expect(spamgate(['spambox', 'digest', '--all', '--since', since], home).stdout).toBe(`${ALICE}\t${one.text}\n`);
    expect(spamgate(['spambox', 'digest', ALICE, '--all'], home)).toMatchObject({ code: 2, stderr: 'spamgate: give a subscriber number or --all (not both)\n' });

    expect(json(spamgate(['spambox', 'purge', '--retention-days', '30', '--json'], home))).toEqual({ purged: 1, retentionDays: 30 });
    expect(json(spamgate(['spambox', 'list', ALICE, '--json'], home)).items.map((m: { id: number }) => m.id)).toEqual([2]);
  });

  it('every command has --help with examples', () => {
    const home = tmp();
    for (const args of [['subscriber'], ['subscriber', 'add'], ['subscriber', 'import'], ['spambox'], ['spambox', 'purge'], ['spambox', 'digest']]) {
      const r = spamgate([...args, '--help'], home);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.stdout, args.join(' ')).toContain('Examples:');
    }
  });
});
