import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');
const tmp = () => mkdtempSync(join(tmpdir(), 'spamgate-train-'));

function spamgate(args: string[], home = tmp()) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'spamgate.js'), ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, SPAMGATE_HOME: home } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('spamgate train and eval', () => {
  it('trains the embedded default, reports bad lines by number, and scan then uses the model', () => {
    const home = tmp();
    const file = join(home, 'train.tsv');
    writeFileSync(file, 'spam\twin a free prize call now\nham\tsee you at lunch\nmaybe\twhat is this\nno tab at all\nspam\tfree cash prize claim now\nham\trunning late sorry\n');
    const r = spamgate(['train', file, '--json'], home);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file}:3: expected 'spam' or 'ham' before the tab`);
    expect(r.stderr).toContain(`${file}:4: no label`);
    expect(JSON.parse(r.stdout)).toMatchObject({ learned: 4, totals: { spam: 2, ham: 2 }, errors: 2 });
    const again = JSON.parse(spamgate(['train', file, '--json'], home).stdout);
    expect(again).toMatchObject({ learned: 0, already: 4, totals: { spam: 2, ham: 2 } });
    const check = JSON.parse(spamgate(['check', '--json', 'free prize, claim now'], home).stdout);
    expect(check.spamProbability).toBeGreaterThan(0.5);
    const forget = JSON.parse(spamgate(['train', '--forget', file, '--json'], home).stdout);
    expect(forget).toMatchObject({ forgotten: 4, totals: { spam: 0, ham: 0 } });
  });

  it('a one-class or empty training set is a clear error and writes nothing', () => {
    const home = tmp();
    const file = join(home, 'spam-only.tsv');
    writeFileSync(file, 'spam\tone\nspam\ttwo\n');
    const r = spamgate(['train', file], home);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/the model would know only spam: train both spam and ham \(model left unchanged\)/);
    writeFileSync(join(home, 'empty.tsv'), '\n\n');
    expect(spamgate(['train', join(home, 'empty.tsv')], home).stderr).toMatch(/no labelled message to train on/);
    expect(spamgate(['check', '--json', 'hello'], home).stdout).not.toMatch(/spamProbability/);
  });

  it('a corrupt model file is refused by name and left untouched', () => {
    const dir = tmp();
    const model = join(dir, 'model.db');
    writeFileSync(model, 'garbage'.repeat(1000));
    writeFileSync(join(dir, 't.tsv'), 'spam\ta\nham\tb\n');
    const r = spamgate(['train', '--model', model, join(dir, 't.tsv')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${model} is not a spamgate database (or is corrupt)`);
    expect(readFileSync(model, 'utf8')).toBe('garbage'.repeat(1000));
    const check = spamgate(['check', '--model', model, 'hi']);
    expect(check.code).toBe(2);
    expect(check.stderr).toBe(`spamgate: ${model} is not a spamgate database (or is corrupt): file is not a database\n`);
  });

  it('eval prints the figures, --json for machines, and refuses a one-class file', () => {
    const dir = tmp();
    const lines: string[] = [];
    for (let i = 0; i < 40; i++) lines.push(`spam\twin a free prize ${i} call now claim cash`, `ham\tsee you at lunch ${i} tomorrow ok`);
    writeFileSync(join(dir, 'c.tsv'), lines.join('\n') + '\n');
    const text = spamgate(['eval', join(dir, 'c.tsv'), '--folds', '5', '--bayes-only']);
    expect(text.stdout).toMatch(/5-fold stratified, seed 1 \(classifier alone\)/);
    expect(text.stdout).toMatch(/MCC 1\.0000/);
    const json = JSON.parse(spamgate(['eval', join(dir, 'c.tsv'), '--folds', '4', '--seeds', '1,2', '--json']).stdout);
    expect(json.runs).toHaveLength(2);
    expect(json.mean.mcc).toBeCloseTo(1);
    expect(json.runs[0].metrics.confusion).toEqual({ tp: 40, fn: 0, fp: 0, tn: 40 });
    writeFileSync(join(dir, 'folds.tsv'), Array.from({ length: 80 }, (_, i) => `${i + 1}\t${i % 2}`).join('\n'));
    expect(JSON.parse(spamgate(['eval', join(dir, 'c.tsv'), '--folds-file', join(dir, 'folds.tsv'), '--json']).stdout).messages).toBe(80);
    const tt = JSON.parse(spamgate(['eval', '--train', join(dir, 'c.tsv'), '--test', join(dir, 'c.tsv'), '--json']).stdout);
    expect(tt.confusion.tp).toBe(40);
    writeFileSync(join(dir, 'ham.tsv'), 'ham\ta\nham\tb\n');
    expect(spamgate(['eval', join(dir, 'ham.tsv')]).stderr).toMatch(/only ham; evaluation needs both spam and ham/);
  });
});
