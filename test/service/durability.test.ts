import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { ALICE, service, tmp } from './helpers.js';

const ROOT = resolve(import.meta.dirname, '..', '..');

/** Run the child until it has acknowledged `acks` messages (or 60 s), then SIGKILL it; the acknowledged lines. */
function quarantineThenKill(dbPath: string, acks: number): Promise<{ acked: Array<[number, string]>; signal: string | null }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test', 'service', 'durability-child.ts'), dbPath], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const acked: Array<[number, string]> = [];
    let buffer = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      for (const line of lines) {
        if (line === 'ready') continue;
        const [id, messageId] = line.split(' ');
        acked.push([Number(id), messageId!]);
        if (acked.length === acks) child.kill('SIGKILL');
      }
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', fail);
    child.on('close', (_code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') fail(new Error(`child ended on its own (${_code}): ${stderr}`));
      else done({ acked, signal });
    });
  });
}

describe('durability', () => {
  it('every message acknowledged as quarantined is in the spam box after SIGKILL mid-burst, and none twice', async () => {
    const dir = tmp();
    const dbPath = join(dir, 'spamgate.db');
    const { acked, signal } = await quarantineThenKill(dbPath, 400);
    expect(signal).toBe('SIGKILL');
    expect(acked.length).toBeGreaterThanOrEqual(400);

    // Reopen as the next process would (WAL recovery happens here) and compare.
    const svc = service({ dbPath });
    const box = svc.listSpamBox(ALICE, { limit: 1000 });
    const stored = new Map(box.items.map((m) => [m.id, m.messageId]));
    for (const [id, messageId] of acked) expect(stored.get(id), `acknowledged ${messageId} as ${id}`).toBe(messageId);
    const messageIds = box.items.map((m) => m.messageId);
    expect(new Set(messageIds).size).toBe(messageIds.length);
    // At most the one message in flight when the kill came is stored without its acknowledgement.
    expect(box.total - acked.length).toBeLessThanOrEqual(1);
    const next = svc.process({ from: '09001234567', to: ALICE, text: 'after the crash' });
    expect(next.spamBoxId).toBe(Math.max(...box.items.map((m) => m.id)) + 1);
    svc.close();

    const db = new Database(dbPath, { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  });
});
