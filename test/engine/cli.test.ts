import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'spamgate.js');

/** Runs the built CLI (npm test builds first), isolated from any real model or database. */
function spamgate(args: string[], input?: string) {
  const home = mkdtempSync(join(tmpdir(), 'spamgate-home-'));
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, input, encoding: 'utf8', env: { ...process.env, SPAMGATE_HOME: home } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.runIf(existsSync(join(ROOT, 'dist', 'src', 'cli', 'main.js')))('spamgate CLI', () => {
  it('check explains the verdict, and --json gives the verdict object', () => {
    const text = spamgate(['check', 'You have won a guaranteed cash prize! Call 09061701461 to claim']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^QUARANTINE {2}score 9/);
    expect(text.stdout).toMatch(/SMS_PREMIUM_NUMBER +\+3 {2}number 09061701461 in text matches '09\*'/);
    const json = JSON.parse(spamgate(['check', '--json', '--from', 'PRIZEDRAW'], 'hello there\n').stdout);
    expect(json).toEqual({ action: 'deliver', score: 0, reasons: [] });
  });

  it('scan ends quietly when its reader stops early (| head closes the pipe)', async () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => `ham\tmessage number ${i} about lunch`).join('\n');
    const child = spawn(process.execPath, [BIN, 'scan', '-', '--format', 'jsonl'], { cwd: ROOT, env: { ...process.env, SPAMGATE_HOME: mkdtempSync(join(tmpdir(), 'spamgate-home-')) } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.once('data', () => child.stdout.destroy()); // read one chunk, then close, as head does
    child.stdin.on('error', () => {}); // it may stop reading its input too, once its output is gone
    child.stdin.end(lines);
    const code = await new Promise<number | null>((done) => child.on('close', done));
    expect(stderr).not.toMatch(/EPIPE|Unhandled/);
    expect(code).toBe(0);
  });

  it('check applies --subscribers rules', () => {
    const r = spamgate(['check', '--json', '--subscribers', 'corpora/sms/subscribers.yaml', '--to', '07700900001', '--from', '09001234567', '--time', '2026-06-10T12:00:00Z', 'hi']);
    expect(JSON.parse(r.stdout).reasons[0]).toMatchObject({ rule: 'SUBSCRIBER_BLOCK', action: 'quarantine' });
  });

  it('scan writes one JSONL object per message in input order, with a summary on stderr', () => {
    const r = spamgate(['scan', 'corpora/sms/sample.tsv', '--no-bayes']);
    expect(r.code).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows).toHaveLength(12);
    expect(rows.map((x) => x.id)).toEqual(Array.from({ length: 12 }, (_, i) => `corpora/sms/sample.tsv:${i + 1}`));
    expect(Object.keys(rows[0])).toEqual(['id', 'action', 'score', 'rules', 'label']);
    expect(rows.filter((x) => x.label === 'ham').every((x) => x.action === 'deliver')).toBe(true);
    expect(rows.filter((x) => x.label === 'spam').every((x) => x.action !== 'deliver')).toBe(true);
    expect(r.stderr).toMatch(/12 messages in .* s \(\d+ msgs\/s\)/);
  });

  it('scan reads JSONL from stdin, reports a bad line with its number, goes on, and exits 1', () => {
    const input = '{"id":"m1","from":"+447700900999","to":"+447700900001","text":"hello"}\n{"id":"m2","text":\n{"id":"m3","from":"PRIZEDRAW","to":"+447700900001","text":"Win a prize, call 09061701461"}\n';
    const r = spamgate(['scan', '-', '--subscribers', 'corpora/sms/subscribers.yaml', '--format', 'csv', '--no-bayes'], input);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/stdin:2: not valid JSON/);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('id,action,score,rules,label,spam_probability,from,subject,date');
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 2).join(','))).toEqual(['m1,quarantine', 'm3,quarantine']);
  });

  it('--strict stops at the first bad line', () => {
    const r = spamgate(['scan', '-', '--strict', '--no-bayes'], 'ham\tone\nbad\ttwo\nham\tthree\n');
    expect(r.code).toBe(1);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('--format table and -o write a readable table to a file', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'spamgate-out-')), 'v.txt');
    const r = spamgate(['scan', 'corpora/sms/sample.tsv', '--format', 'table', '-o', out, '--no-bayes', '--no-summary']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(readFileSync(out, 'utf8').split('\n')[0]).toMatch(/^ID +ACTION +SCORE {2}RULES$/);
  });

  it('rules lint and rules test pass on the shipped rules', () => {
    expect(spamgate(['rules', 'lint']).stdout).toMatch(/^ok: \d+ rules/);
    const t = spamgate(['rules', 'test', '--json']);
    expect(t.code).toBe(0);
    const result = JSON.parse(t.stdout);
    expect(result.failures).toEqual([]);
    expect(result.examples).toBeGreaterThan(40);
    expect(result.untested).toEqual([]);
  });

  it('rules lint on a broken file exits 2 and names file:line:column', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spamgate-rules-'));
    writeFileSync(join(dir, 'bad.yaml'), "rules:\n  - id: BAD\n    description: d\n    score: 1\n    regex: '(a+)+$'\n");
    const r = spamgate(['rules', 'lint', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${join(dir, 'bad.yaml')}:5:12: rules[0].regex: regex /(a+)+$/ can backtrack catastrophically`);
  });

  it('rules test fails on a rule whose example does not match', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spamgate-rules-'));
    writeFileSync(join(dir, 'r.yaml'), 'rules:\n  - id: KW\n    description: d\n    score: 1\n    keywords: [prize]\n    examples:\n      match: ["no such word"]\n      no_match: ["a prize"]\n');
    const r = spamgate(['rules', 'test', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('r.yaml:7: KW should match: "no such word"');
    expect(r.stdout).toContain('r.yaml:8: KW should not match: "a prize"');
  });

  it('unknown region and missing files are clear errors with exit 2', () => {
    expect(spamgate(['check', '--region', 'XX', 'hi'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/unknown region 'XX'/) });
    const missing = spamgate(['scan', 'nope.tsv', '--no-bayes']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read nope.tsv: ENOENT/);
  });
});
