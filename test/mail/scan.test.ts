/**
 * The parallel scan runs worker threads from the compiled JS in dist/ (`npm test` builds first).
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { cpSync, existsSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync, truncateSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';

const DIST = resolve(__dirname, '../../dist/src/mail/scan.js');
const FIX = resolve(__dirname, '../fixtures/mail');

type ScanModule = typeof import('../../src/mail/scan.js');
let scan: ScanModule;
let tmp: string;
let rulesDir: string;

const RULES = `
rules:
  - id: TEST_PRIZE
    description: prize wording
    keywords: [cash prize, cheap meds]
    score: 20
`;

function sink(): { out: Writable; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const out = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return { out, lines: () => chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

beforeAll(async () => {
  if (!existsSync(DIST)) throw new Error('dist/ is not built: run npm run build (npm test does) before these tests');
  scan = (await import(DIST)) as ScanModule;
  tmp = mkdtempSync(join(tmpdir(), 'spamgate-scan-'));
  rulesDir = join(tmp, 'rules');
  mkdirSync(rulesDir);
  writeFileSync(join(rulesDir, 'test.yaml'), RULES);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('scanArchives', () => {
  it('scores every message in input order with two workers, and reports bad ones by id', async () => {
    const { out, lines } = sink();
    const errors: Array<[string, string]> = [];
    const res = await scan.scanArchives([join(FIX, 'sample.mbox'), join(FIX, 'maildir'), join(FIX, 'eml')], {
      engine: { rules: [rulesDir], bayes: false },
      workers: 2,
      out,
      progress: false,
      onError: (id, e) => errors.push([id, e]),
    });
    const rows = lines();
    const ids = rows.map((r) => r['id']);
    expect(ids.slice(0, 3)).toEqual([`${join(FIX, 'sample.mbox')}#1@0`, expect.stringMatching(/#2@/), expect.stringMatching(/#3@/)]);
    expect(ids.slice(3, 6)).toEqual(['cur/1001.host:2,S', 'cur/1002.host:2,', 'new/1003.host'].map((p) => join(FIX, 'maildir', p)));
    expect(ids.slice(6)).toEqual(
      ['broken/bad-utf8.eml', 'broken/missing-boundary.eml', 'broken/truncated.eml', 'broken/wrong-charset.eml', 'good.eml', 'nested/html.eml'].map((p) => join(FIX, 'eml', p)),
    );
    expect(errors).toEqual([[join(FIX, 'eml', 'broken', 'garbage.eml'), expect.stringMatching(/not an email/)]]);
    expect(res.summary.messages).toBe(12);
    expect(res.summary.errors).toBe(1);
    const prize = rows.find((r) => String(r['id']).endsWith('#2@' + String(rows[1]!['id']).split('@').pop()))!;
    expect(prize).toMatchObject({ action: 'block', rules: ['TEST_PRIZE'], from: 'winner@prizes.example', subject: 'You have won £1000', date: '2002-10-08T09:30:00.000Z' });
    const missing = rows.find((r) => String(r['id']).endsWith('missing-boundary.eml'))!;
    expect(missing['action']).toBe('block'); // its body was still read and scored
    expect(missing['defects']).toEqual([expect.stringMatching(/missing MIME boundary/)]);
    expect(res.defective).toBeGreaterThanOrEqual(4);
  });

  it('skips a 50 MB attachment over the size limit, names it, and scores the rest', async () => {
    const path = join(tmp, 'big.mbox');
    const small = 'From: a@b.example\nSubject: small\n\nhello\n\n';
    const b64 = Buffer.alloc(50 * 1024 * 1024 * 0.75, 7).toString('base64').replace(/.{76}/g, '$&\n');
    writeFileSync(
      path,
      `From a@b Mon Oct  7 12:00:00 2002\n${small}` +
        `From a@b Mon Oct  7 12:00:01 2002\nFrom: a@b.example\nSubject: big\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: application/zip; name=x.zip\nContent-Transfer-Encoding: base64\n\n${b64}\n--b--\n\n` +
        `From a@b Mon Oct  7 12:00:02 2002\n${small}`,
    );
    expect(statSync(path).size).toBeGreaterThan(50 * 1024 * 1024);
    const { out, lines } = sink();
    const errors: Array<[string, string]> = [];
    await scan.scanArchives([path], { engine: { rules: [rulesDir], bayes: false }, workers: 1, out, progress: false, onError: (id, e) => errors.push([id, e]) });
    expect(lines().map((r) => r['subject'])).toEqual(['small', 'small']);
    expect(errors).toEqual([[expect.stringMatching(/big\.mbox#2@\d+$/), expect.stringMatching(/larger than the 25\.0 MiB limit: skipped unscored/)]]);
  });

  it('resumes an interrupted scan without scoring finished messages again', async () => {
    const output = join(tmp, 'resume.jsonl');
    const first = await scan.scanArchives([join(FIX, 'eml')], { engine: { rules: [rulesDir], bayes: false }, workers: 1, output, progress: false, onError: () => undefined });
    const full = readFileSync(output, 'utf8');
    const fullLines = full.trim().split('\n');
    // Interrupted: two records written and a third cut half way.
    const cut = fullLines.slice(0, 2).join('\n').length + 1 + Math.floor(fullLines[2]!.length / 2);
    truncateSync(output, cut);
    const second = await scan.scanArchives([join(FIX, 'eml')], { engine: { rules: [rulesDir], bayes: false }, workers: 2, output, resume: true, progress: false, onError: () => undefined });
    expect(second.resumed).toBe(2);
    expect(second.summary.messages).toBe(first.summary.messages - 2);
    expect(readFileSync(output, 'utf8')).toBe(full);
  });

  it('resumes a CSV scan without repeating the header', async () => {
    const output = join(tmp, 'resume.csv');
    await scan.scanArchives([join(FIX, 'maildir')], { engine: { rules: [rulesDir], bayes: false }, workers: 1, output, format: 'csv', progress: false });
    const full = readFileSync(output, 'utf8');
    const keep = full.split('\n').slice(0, 2).join('\n') + '\n';
    writeFileSync(output, keep);
    const again = await scan.scanArchives([join(FIX, 'maildir')], { engine: { rules: [rulesDir], bayes: false }, workers: 1, output, format: 'csv', resume: true, progress: false });
    expect(again.resumed).toBe(1);
    expect(readFileSync(output, 'utf8')).toBe(full);
  });

  it('copies spam out of an mbox and moves spam files into a Maildir', async () => {
    const copyDir = join(tmp, 'copied');
    const { out } = sink();
    const r1 = await scan.scanArchives([join(FIX, 'sample.mbox')], { engine: { rules: [rulesDir], bayes: false }, workers: 1, out, progress: false, copySpam: copyDir });
    expect(r1.copied).toBe(1);
    const [copied] = readdirSync(join(copyDir, 'new'));
    expect(readFileSync(join(copyDir, 'new', copied!), 'latin1')).toContain('Prize Centre');

    const tree = join(tmp, 'tree');
    cpSync(join(FIX, 'eml'), tree, { recursive: true });
    const moveDir = join(tmp, 'moved');
    const r2 = await scan.scanArchives([tree], { engine: { rules: [rulesDir], bayes: false }, workers: 1, out: sink().out, progress: false, moveSpam: moveDir, onError: () => undefined });
    expect(r2.moved).toBe(2);
    expect(readdirSync(join(moveDir, 'new')).sort()).toEqual(['html.eml', 'missing-boundary.eml']);
    expect(existsSync(join(tree, 'nested', 'html.eml'))).toBe(false);
  });

  it('gives the same records with one worker, with two (the second handing mailparser messages to the first) and without the direct parser', async () => {
    const run = async (workers: number, fastPath: boolean): Promise<string[]> => {
      const { out, lines } = sink();
      await scan.scanArchives([join(FIX, 'sample.mbox'), join(FIX, 'maildir'), join(FIX, 'eml')], {
        engine: { rules: [rulesDir], bayes: false },
        workers,
        parse: { fastPath },
        out,
        progress: false,
        onError: () => undefined,
      });
      return lines().map((r) => JSON.stringify([r['id'], r['action'], r['subject'], r['from'], r['defects']]));
    };
    const one = await run(1, true);
    expect(one.length).toBeGreaterThan(5);
    expect(await run(2, true)).toEqual(one);
    expect(await run(2, false)).toEqual(one);
  });

  it('goes on past a directory loop and an unreadable file', async () => {
    const root = join(tmp, 'loopy');
    cpSync(join(FIX, 'maildir'), join(root, 'box'), { recursive: true });
    symlinkSync(root, join(root, 'box', 'cur', 'up'));
    symlinkSync(join(root, 'nowhere.eml'), join(root, 'dangling.eml'));
    const errors: Array<[string, string]> = [];
    const res = await scan.scanArchives([root], { engine: { rules: [rulesDir], bayes: false }, workers: 2, out: sink().out, progress: false, onError: (id, e) => errors.push([id, e]) });
    expect(res.summary.messages).toBe(3);
    expect(errors.map(([id]) => id).sort()).toEqual([join(root, 'box', 'cur', 'up'), join(root, 'dangling.eml')].sort());
  });
});

describe('labelledArchiveInputs', () => {
  it('yields parsed spam and ham inputs from archives for training', async () => {
    const got: Array<[string, string]> = [];
    for await (const { label, input } of scan.labelledArchiveInputs({ spam: [join(FIX, 'eml', 'nested')], ham: [join(FIX, 'maildir')] }, { workers: 2 })) {
      got.push([label, input.email!.subject]);
    }
    expect(got).toEqual([
      ['spam', 'You have won £1000'],
      ['ham', 'Lunch tomorrow'],
      ['ham', 'Report'],
      ['ham', 'You have won £1000'],
    ]);
  });
});

describe('scanning with a Bayes model', () => {
  it('scores in the workers with the model the scanning thread shared, as the classifier scores in-process', async () => {
    type BayesModule = typeof import('../../src/bayes/index.js');
    type NormaliseModule = typeof import('../../src/message/normalise.js');
    type AnalysisModule = typeof import('../../src/text/analysis.js');
    type AddressModule = typeof import('../../src/message/address.js');
    const bayes = (await import(resolve(__dirname, '../../dist/src/bayes/index.js'))) as BayesModule;
    const { normaliseMessage } = (await import(resolve(__dirname, '../../dist/src/message/normalise.js'))) as NormaliseModule;
    const { analyseText } = (await import(resolve(__dirname, '../../dist/src/text/analysis.js'))) as AnalysisModule;
    const { AddressNormaliser } = (await import(resolve(__dirname, '../../dist/src/message/address.js'))) as AddressModule;
    // Two small mboxes of distinct messages (the fixtures repeat one message across formats).
    const mail = (from: string, subject: string, body: string): string =>
      `From ${from} Mon Nov 23 10:00:00 2026\nFrom: ${from}\nTo: you@example.org\nSubject: ${subject}\nDate: Mon, 23 Nov 2026 10:00:00 +0000\n\n${body}\n\n`;
    const spamBox = join(tmp, 'train-spam.mbox');
    const hamBox = join(tmp, 'train-ham.mbox');
    writeFileSync(spamBox, mail('win@prizes.example', 'Claim your cash prize', 'You won a cash prize, claim now, free entry, click the link') + mail('deals@pills.example', 'Cheap meds online', 'Cheap meds, no prescription, order now, free delivery'));
    writeFileSync(hamBox, mail('anna@work.example', 'Minutes of the meeting', 'Attached are the minutes of the budget meeting on Tuesday') + mail('bob@home.example', 'Dinner on Friday', 'Shall we have dinner on Friday at the usual place?'));
    const sources = { spam: [spamBox], ham: [hamBox] };
    const inputs: Array<{ label: 'spam' | 'ham'; input: import('../../src/message/types.js').MessageInput }> = [];
    for await (const item of scan.labelledArchiveInputs(sources, { workers: 1 })) inputs.push(item);
    const db = join(tmp, 'shared-model.db');
    const store = bayes.TokenStore.open(db);
    const trainer = new bayes.Trainer(store);
    for (const { label, input } of inputs) trainer.learn(label, input);
    store.save();
    store.close();

    const { out, lines } = sink();
    await scan.scanArchives([spamBox, hamBox], { engine: { rules: [rulesDir], model: db }, workers: 2, out, progress: false });
    const rows = lines();
    const classifier = bayes.loadClassifier(db)!;
    const normaliser = new AddressNormaliser();
    const expected = inputs.map(({ input }) => {
      const message = normaliseMessage(input, normaliser);
      return Number(classifier.spamProbability(message, analyseText(message.text)).toFixed(4));
    });
    expect(rows.map((r) => r['spamProbability'])).toEqual(expected);
    expect(new Set(expected).size).toBeGreaterThan(1); // the model tells the messages apart
  });
});

describe('scan set-up problems', () => {
  it('reports rules that do not load as a plain CLI error, not a crash', async () => {
    const bad = join(tmp, 'bad-rules');
    mkdirSync(bad, { recursive: true });
    writeFileSync(join(bad, 'x.yaml'), 'rules:\n  - id: X_BAD\n    description: d\n    subject_typo: [a]\n    score: 1\n');
    const { CliError } = await import(resolve(__dirname, '../../dist/src/cli/common.js'));
    const err = await scan.scanArchives([join(FIX, 'maildir')], { engine: { rules: [bad], bayes: false }, workers: 1, out: sink().out, progress: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as Error).message).toMatch(/scan worker could not start: .*x\.yaml:4:5: .*unknown key 'subject_typo'/s);
  });
});
