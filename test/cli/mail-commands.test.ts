/**
 * The mail commands end to end through the built CLI: `scan` routes archives to the worker
 * pool, `report` summarises its results, `rules stats` prints hit frequencies, and `train`
 * reads --spam/--ham archives.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'spamgate.js');
const MBOX = 'test/fixtures/mail/sample.mbox';
const UCI = resolve(ROOT, '..', 'shared', 'corpora', 'sms-spam-collection', 'SMSSpamCollection.tsv');

function spamgate(args: string[]) {
  const home = mkdtempSync(join(tmpdir(), 'spamgate-home-'));
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, SPAMGATE_HOME: home } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.runIf(existsSync(join(ROOT, 'dist', 'src', 'cli', 'main.js')))('mail commands of the CLI', () => {
  it('scan sends an mbox to the mail scanner: one record per message with its offset id, from and subject', () => {
    const r = spamgate(['scan', MBOX, '--no-bayes', '--workers', '1']);
    expect(r.code).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows).toHaveLength(3);
    expect(rows.map((x) => x['id'])).toEqual([`${MBOX}#1@0`, `${MBOX}#2@300`, `${MBOX}#3@738`]);
    expect(rows[1]).toMatchObject({ action: 'tag', from: expect.any(String), subject: expect.any(String) });
    expect(r.stderr).toMatch(/3 messages in/);
  });

  it('scan --label marks every message, and the summary counts caught spam', () => {
    const r = spamgate(['scan', MBOX, '--no-bayes', '--label', 'spam', '--json', '--format', 'csv']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^id,action,score/);
    const summary = JSON.parse(r.stderr.trim().split('\n').pop()!) as { messages: number; labelled: { spam: number } };
    expect(summary.messages).toBe(3);
    expect(summary.labelled.spam).toBe(3);
  });

  it('scan refuses to mix archives with SMS files, and mail-only flags on SMS files', () => {
    const mixed = spamgate(['scan', MBOX, 'corpora/sms/sample.tsv']);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toMatch(/separate runs/);
    const resume = spamgate(['scan', 'corpora/sms/sample.tsv', '--resume']);
    expect(resume.code).toBe(2);
    expect(resume.stderr).toMatch(/--resume applies to mail archives only/);
    const workers = spamgate(['scan', MBOX, '--workers', '0']);
    expect(workers.code).toBe(2);
    expect(workers.stderr).toMatch(/--workers must be a whole number/);
  });

  it('report summarises scan results and writes a self-contained HTML page', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spamgate-report-'));
    const results = join(dir, 'results.jsonl');
    expect(spamgate(['scan', MBOX, '--no-bayes', '-o', results]).code).toBe(0);
    const html = join(dir, 'report.html');
    const r = spamgate(['report', results, '--html', html]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^3 messages/);
    expect(r.stdout).toMatch(/Top rules by hits/);
    const page = readFileSync(html, 'utf8');
    expect(page).toMatch(/<svg/);
    expect(page).not.toMatch(/<script[^>]+src=|<link[^>]+href="http/);
  });

  it('rules stats prints spam%, ham% and S/O per rule over a labelled SMS corpus', () => {
    const r = spamgate(['rules', 'stats', '--corpus', UCI, '--json']);
    expect(r.code).toBe(0);
    const stats = JSON.parse(r.stdout) as { spam: number; ham: number; rules: Array<{ rule: string; spamPercent: number; hamPercent: number; so: number | null }> };
    expect(stats.spam).toBe(747);
    expect(stats.ham).toBe(4827);
    const premium = stats.rules.find((x) => x.rule === 'SMS_PREMIUM_NUMBER')!;
    expect(premium.spamPercent).toBeGreaterThan(20);
    expect(premium.hamPercent).toBeLessThan(0.1);
    expect(premium.so).toBeGreaterThan(0.99);
    const text = spamgate(['rules', 'stats', '--corpus', UCI]);
    expect(text.stdout.split('\n')[1]).toMatch(/OVERALL% +SPAM% +HAM% +S\/O +SCORE +NAME/);
  });

  it('rules stats over mail archives defaults to the email rules, and without a corpus explains what it needs', () => {
    const r = spamgate(['rules', 'stats', '--spam', MBOX, '--json']);
    expect(r.code).toBe(0);
    const stats = JSON.parse(r.stdout) as { spam: number; rules: Array<{ rule: string }> };
    expect(stats.spam).toBe(3);
    expect(stats.rules.every((x) => x.rule.startsWith('EMAIL_'))).toBe(true);
    const none = spamgate(['rules', 'stats']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no corpus/);
  });
});
