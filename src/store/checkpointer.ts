/**
 * WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside whichever
 * commit crosses its threshold and fsyncs the database file there: a stall of milliseconds to
 * tens of milliseconds for the one request that happens to commit then, and for every request
 * queued behind it. A server that commits on its request path (a quarantined message is in the
 * spam box before the answer goes out) hands checkpoints to a worker thread with a connection
 * of its own instead. PASSIVE checkpoints never block the writer; if the worker dies, the
 * connection goes back to automatic checkpoints so the WAL cannot grow without bound.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Db } from './db.js';

// Inline (eval) worker: no separate file to find, whether running from src/ or dist/.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
const checkpoint = () => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch (err) { parentPort.postMessage(String((err && err.message) || err)); }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.close();
});
`;

/** SQLite's default threshold, restored when the worker is gone. */
const AUTO_CHECKPOINT_PAGES = 1000;

export interface BackgroundCheckpoints {
  /** Stop the worker (it checkpoints once more first) and restore automatic checkpoints. */
  stop(): void;
}

export interface BackgroundCheckpointOptions {
  /** How often the worker checkpoints; default 1 s. */
  readonly intervalMs?: number;
  /** A checkpoint or the worker failed (automatic checkpoints are back on if it died). */
  readonly onError?: (message: string) => void;
}

/** Start checkpointing `db` (a WAL database file at `path`) from a worker thread. */
export function startBackgroundCheckpoints(db: Db, path: string, options: BackgroundCheckpointOptions = {}): BackgroundCheckpoints | undefined {
  if (db.memory || path === ':memory:') return undefined;
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, driver, intervalMs: options.intervalMs ?? 1000 } });
  worker.unref(); // never what keeps a process alive
  db.pragma('wal_autocheckpoint = 0');
  let stopped = false;
  const restoreAutomatic = (): void => {
    if (db.open) db.pragma(`wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES}`);
  };
  worker.on('message', (m: unknown) => options.onError?.(`WAL checkpoint failed: ${String(m)}`));
  worker.on('error', (err) => {
    restoreAutomatic();
    options.onError?.(`WAL checkpoint worker died: ${err.message}; back to automatic checkpoints`);
  });
  worker.on('exit', (code) => {
    if (!stopped && code !== 0) restoreAutomatic();
  });
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      restoreAutomatic();
      worker.postMessage('stop');
    },
  };
}
