import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { detectArchiveKind, isReadFailure, readArchive, type ArchiveItem } from '../../src/mail/readers.js';

const FIX = resolve(__dirname, '../fixtures/mail');

async function collect(path: string, options = {}): Promise<ArchiveItem[]> {
  const out: ArchiveItem[] = [];
  for await (const item of readArchive(path, options)) out.push(item);
  return out;
}

function text(item: ArchiveItem): string {
  if (isReadFailure(item)) throw new Error(`expected a message, got error ${item.error}`);
  return item.raw.toString('latin1');
}

describe('mbox reader', () => {
  it('splits messages with ids carrying position and byte offset of the From line', async () => {
    const path = join(FIX, 'sample.mbox');
    const items = await collect(path);
    expect(items.map((i) => i.id)).toEqual([`${path}#1@0`, expect.stringMatching(/#2@\d+$/), expect.stringMatching(/#3@\d+$/)]);
    const file = readFileSync(path, 'latin1');
    for (const item of items) {
      const offset = Number(item.id.slice(item.id.lastIndexOf('@') + 1));
      expect(file.slice(offset, offset + 5)).toBe('From ');
    }
    expect(text(items[0]!).startsWith('From: Alice')).toBe(true);
  });

  it('undoes mboxrd From-escaping and keeps unescaped From lines inside a message', async () => {
    const [first] = await collect(join(FIX, 'sample.mbox'));
    const body = text(first!);
    expect(body).toContain('\n>From the notes');
    expect(body).toContain('\n>>From here on');
    expect(body).toContain('\nFrom what I hear');
  });

  it('reads the gzip version to the same messages', async () => {
    const plain = await collect(join(FIX, 'sample.mbox'));
    const gz = await collect(join(FIX, 'sample.mbox.gz'));
    expect(gz.map(text)).toEqual(plain.map(text));
    expect(gz[1]!.id).toBe(`${join(FIX, 'sample.mbox.gz')}#2@${plain[1]!.id.split('@').pop()}`);
  });

  it('reports a message over the size limit with its id and reads on', async () => {
    const items = await collect(join(FIX, 'sample.mbox'), { maxMessageBytes: 400 });
    const failures = items.filter(isReadFailure);
    expect(failures.length).toBeGreaterThan(0);
    expect(failures[0]!.id).toMatch(/sample\.mbox#\d@\d+$/);
    expect(failures[0]!.error).toMatch(/larger than the .* limit/);
    expect(items).toHaveLength(3);
  });
});

describe('Maildir and .eml trees', () => {
  it('reads cur/ then new/ (gzip too), ignores tmp/ and index files', async () => {
    const dir = join(FIX, 'maildir');
    const items = await collect(dir);
    expect(items.map((i) => i.id)).toEqual([join(dir, 'cur', '1001.host:2,S'), join(dir, 'cur', '1002.host:2,'), join(dir, 'new', '1003.host')]);
    expect(items.every((i) => !isReadFailure(i))).toBe(true);
    expect(text(items[2]!)).toContain('Prize Centre');
  });

  it('walks a directory tree in sorted order and passes over files that are not mail', async () => {
    const skipped: string[] = [];
    const items = await collect(join(FIX, 'eml'), { onSkippedFile: (p: string) => skipped.push(p) });
    expect(items.map((i) => i.id.slice(FIX.length + 5))).toEqual([
      'broken/bad-utf8.eml',
      'broken/garbage.eml',
      'broken/missing-boundary.eml',
      'broken/truncated.eml',
      'broken/wrong-charset.eml',
      'good.eml',
      'nested/html.eml',
    ]);
    expect(skipped).toEqual([join(FIX, 'eml', 'notes.txt')]);
  });

  it('detects the kind of a path from the file system and the content', async () => {
    expect(await detectArchiveKind(join(FIX, 'sample.mbox'))).toBe('mbox');
    expect(await detectArchiveKind(join(FIX, 'sample.mbox.gz'))).toBe('mbox');
    expect(await detectArchiveKind(join(FIX, 'maildir'))).toBe('maildir');
    expect(await detectArchiveKind(join(FIX, 'eml'))).toBe('directory');
    expect(await detectArchiveKind(join(FIX, 'eml', 'good.eml'))).toBe('message');
  });
});

describe('bad trees', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'spamgate-readers-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('reports a directory loop with its id and reads the rest', async () => {
    const root = join(tmp, 'loop');
    mkdirSync(join(root, 'a'), { recursive: true });
    writeFileSync(join(root, 'a', 'm.eml'), 'From: a@b.example\nSubject: x\n\nhi\n');
    symlinkSync(root, join(root, 'a', 'back'));
    const items = await collect(root);
    const loop = items.find(isReadFailure);
    expect(loop?.id).toBe(join(root, 'a', 'back'));
    expect((loop as { error: string }).error).toMatch(/directory loop/);
    expect(items.filter((i) => !isReadFailure(i)).map((i) => i.id)).toEqual([join(root, 'a', 'm.eml')]);
  });

  it('reports an unreadable file with its id and reads the rest', async () => {
    const root = join(tmp, 'unreadable');
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'b.eml'), 'From: a@b.example\nSubject: x\n\nhi\n');
    // As root, permissions do not stop reading: a dangling link is the unreadable file then.
    if (process.getuid?.() === 0) symlinkSync(join(root, 'gone.eml'), join(root, 'a.eml'));
    else {
      writeFileSync(join(root, 'a.eml'), 'From: a@b.example\n\nhi\n');
      chmodSync(join(root, 'a.eml'), 0);
    }
    const items = await collect(root);
    expect(items[0]).toEqual({ id: join(root, 'a.eml'), error: expect.stringMatching(/cannot read/) });
    expect(items[1]!.id).toBe(join(root, 'b.eml'));
  });

  it('reports broken gzip data against the message it cut short', async () => {
    const good = readFileSync(join(FIX, 'sample.mbox.gz'));
    const path = join(tmp, 'cut.mbox.gz');
    writeFileSync(path, good.subarray(0, Math.floor(good.length * 0.7)));
    const items = await collect(path);
    const last = items[items.length - 1]!;
    expect(isReadFailure(last)).toBe(true);
    expect(last.id).toMatch(/cut\.mbox\.gz/);
  });

  it('reports a named file that is not mail', async () => {
    const items = await collect(join(FIX, 'eml', 'notes.txt'));
    expect(items).toEqual([{ id: join(FIX, 'eml', 'notes.txt'), error: expect.stringMatching(/not recognised as mail/) }]);
  });
});

describe('isMailArchive', () => {
  it('tells mail archives from TSV and JSONL message files', async () => {
    const { isMailArchive } = await import('../../src/mail/readers.js');
    const tmp = mkdtempSync(join(tmpdir(), 'spamgate-kind-'));
    try {
      writeFileSync(join(tmp, 'a.tsv'), 'ham\tSee you at 6\nspam\tWIN a prize: call 09061701461\n');
      writeFileSync(join(tmp, 'a.jsonl'), '{"text":"hi","from":"+447700900123"}\n');
      expect(await isMailArchive(join(tmp, 'a.tsv'))).toBe(false);
      expect(await isMailArchive(join(tmp, 'a.jsonl'))).toBe(false);
      expect(await isMailArchive('-')).toBe(false);
      expect(await isMailArchive(join(FIX, 'sample.mbox.gz'))).toBe(true);
      expect(await isMailArchive(join(FIX, 'maildir'))).toBe(true);
      expect(await isMailArchive(join(FIX, 'eml', 'good.eml'))).toBe(true);
      expect(await isMailArchive(join(tmp, 'missing.mbox'))).toBe(true);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
