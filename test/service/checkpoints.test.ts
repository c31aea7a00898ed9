/**
 * Background WAL checkpoints (store/checkpointer.ts): servers commit spam-box writes on their
 * request path, so the checkpoint's fsync moves to a worker thread.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SqliteSubscriberStore } from '../../src/store/subscribers.js';

const dbFile = () => join(mkdtempSync(join(tmpdir(), 'spamgate-ckpt-')), 'spamgate.db');

function writeRows(store: SqliteSubscriberStore, n: number): void {
  store.db.exec('CREATE TABLE IF NOT EXISTS filler (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
  const insert = store.db.prepare('INSERT INTO filler (body) VALUES (?)');
  store.db.transaction(() => {
    for (let i = 0; i < n; i++) insert.run('x'.repeat(1000) + i);
  })();
}

describe('background checkpoints', () => {
  it('take automatic checkpoints off the writing connection and give them back when stopped', () => {
    const store = SqliteSubscriberStore.open(dbFile(), { backgroundCheckpoints: true });
    expect(store.db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    store.close();
    const plain = SqliteSubscriberStore.open(dbFile());
    expect(plain.db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    plain.close();
  });

  it('copy committed pages into the database file from the worker, and lose nothing on close', async () => {
    const path = dbFile();
    const store = SqliteSubscriberStore.open(path, { backgroundCheckpoints: true });
    const before = statSync(path).size;
    writeRows(store, 3000); // ~3 MB, all in the WAL: this connection no longer checkpoints
    // Only a checkpoint grows the main file; the worker runs one a second. Bounded wait.
    let grown = false;
    for (let i = 0; i < 100 && !grown; i++) {
      await sleep(100);
      grown = statSync(path).size > before + 2_000_000;
    }
    expect(grown).toBe(true);
    writeRows(store, 10);
    store.close();
    const reopened = SqliteSubscriberStore.open(path);
    expect(reopened.db.prepare('SELECT count(*) AS n FROM filler').get()).toEqual({ n: 3010 });
    reopened.close();
  });
});
