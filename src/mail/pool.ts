/**
 * A pool of worker threads that parse (and score) raw messages, fed from the main thread
 * through a bounded queue, with results handed back in input order.
 *
 * Bounds: at most `queueSize` messages are between the reader and the consumer at any time
 * (read, in a worker, or waiting for an earlier one to finish), and at most `maxBytesInFlight`
 * bytes of raw mail, so memory stays flat however big the archive. A worker that hangs past
 * `hardTimeoutMs` on one batch or dies is replaced; its batch is retried one message at a
 * time, and a message that kills or hangs a worker on its own is reported as an error.
 *
 * Only the first worker parses the messages the direct decoder cannot read (loading mailparser
 * for them when the first one comes); the others hand those back and the pool passes them on,
 * so the other workers never load mailparser.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ArchiveItem } from './readers.js';
import { isReadFailure } from './readers.js';
import type { WorkBatch, WorkerInit, WorkerReply, WorkerSetup, WorkItem, WorkResult } from './protocol.js';

export interface PoolOptions {
  /** Default: the number of cores. */
  readonly workers?: number;
  /** Messages between reader and consumer (default workers × 256). */
  readonly queueSize?: number;
  /** Raw bytes in flight (default 16 MiB); one bigger message still passes alone. */
  readonly maxBytesInFlight?: number;
  /** Messages per batch sent to a worker (default 32). */
  readonly batchSize?: number;
  /** A batch taking longer than this means a stuck worker (default 60 s + 2 s a message). */
  readonly hardTimeoutMs?: number;
  readonly init: WorkerInit;
  /**
   * Work done once on this thread for every worker (reading the model into shared memory),
   * called while the workers start, so it costs no wall time; its result goes to each worker
   * (and any replacement) before the first batch.
   */
  readonly setup?: () => WorkerSetup;
  /** The compiled worker script; default: worker.js beside this file. */
  readonly workerUrl?: URL;
}

export interface PoolInput<T> {
  readonly item: ArchiveItem;
  /** Carried through to the result untouched (labels, sources). */
  readonly meta: T;
}

export interface PoolOutput<T> {
  readonly seq: number;
  readonly result: WorkResult;
  readonly meta: T;
  readonly bytes: number;
}

interface Slot<T> {
  readonly seq: number;
  readonly id: string;
  readonly meta: T;
  readonly bytes: number;
  raw: Uint8Array | null; // kept until the result is in, for retries
  result: WorkResult | null;
}

interface PoolWorker {
  worker: Worker;
  /** Parses what the direct decoder cannot (WorkerInit.fullParser). */
  readonly full: boolean;
  ready: Promise<void>;
  outstanding: Map<number, { items: WorkItem[]; sentAt: number }>;
  dead: boolean;
  /** Carrying a retried message alone: nothing else is sent to it until that is back. */
  suspect: boolean;
}

export class PoolError extends Error {
  override name = 'PoolError';
}

export function defaultWorkerCount(): number {
  return Math.max(1, availableParallelism());
}

/**
 * Run every input through the workers; yields outputs in input order. Read failures pass
 * straight through as error results in their place.
 */
export async function* runPool<T>(inputs: AsyncIterable<PoolInput<T>>, options: PoolOptions): AsyncGenerator<PoolOutput<T>> {
  const nWorkers = Math.max(1, options.workers ?? defaultWorkerCount());
  const queueSize = Math.max(nWorkers * 2, options.queueSize ?? nWorkers * 256);
  // 16 MiB keeps two workers fed (a batch is at most 1 MiB) and the 1 GB scan inside 300 MB.
  const maxBytes = options.maxBytesInFlight ?? 16 * 1024 * 1024;
  const batchSize = Math.max(1, options.batchSize ?? 32);
  const batchBytes = 1024 * 1024;
  const workerUrl = options.workerUrl ?? new URL('./worker.js', import.meta.url);

  const slots = new Map<number, Slot<T>>();
  let nextSeq = 0;
  let nextOut = 0;
  let bytesInFlight = 0;
  let batchCounter = 0;
  let fatal: Error | null = null;
  let wake: (() => void) | null = null;
  let dirty = false; // something happened since the loop last looked
  const signal = (): void => {
    dirty = true;
    const w = wake;
    wake = null;
    w?.();
  };
  /** Messages to (re)send one at a time after a worker died on their batch. */
  const retryQueue: WorkItem[] = [];
  const singles = new Set<number>(); // seqs already retried alone
  /** Messages a worker without mailparser handed back, for the full parser. */
  const deferredQueue: WorkItem[] = [];
  const deferredSeqs = new Set<number>();

  const workers: PoolWorker[] = [];
  let setup: WorkerSetup | undefined;
  const spawn = (full: boolean): PoolWorker => {
    // An 8 MB young generation is as fast as bigger ones on the corpus (8, 16 and 48 measured
    // alike), and a 128 MB old generation still parses a message at the 25 MB limit: together
    // they keep two workers inside the 300 MB budget (unbounded heaps grew the 1 GB scan to
    // ~390 MB RSS; 16 MB young ones to ~300 MB once workers got faster).
    const workerData: WorkerInit = { ...options.init, fullParser: full, awaitsSetup: options.setup !== undefined };
    const worker = new Worker(workerUrl, { workerData, resourceLimits: { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 128 } });
    if (setup !== undefined) worker.postMessage(setup); // a replacement: the first workers get it below
    const pw: PoolWorker = { worker, full, ready: Promise.resolve(), outstanding: new Map(), dead: false, suspect: false };
    pw.ready = new Promise<void>((resolve, reject) => {
      const onReply = (msg: WorkerReply): void => {
        if (msg.type === 'ready') resolve();
        else if (msg.type === 'fatal') {
          fatal = new PoolError(`scan worker could not start: ${msg.error}`);
          reject(fatal);
          signal();
        } else {
          const sent = pw.outstanding.get(msg.batch);
          pw.outstanding.delete(msg.batch);
          if (!sent) return;
          if (pw.outstanding.size === 0) pw.suspect = false;
          for (const r of msg.results) {
            const slot = slots.get(r.seq);
            if (slot && !slot.result && 'deferred' in r) {
              deferredSeqs.add(r.seq);
              const item: WorkItem = { seq: r.seq, id: r.id, raw: slot.raw! };
              // A message already suspected of killing a worker still goes alone.
              if (singles.has(r.seq)) retryQueue.push(item);
              else deferredQueue.push(item);
            } else if (slot && !slot.result) {
              slot.result = r;
              slot.raw = null;
            }
          }
          signal();
        }
      };
      worker.on('message', onReply);
    });
    pw.ready.catch(() => undefined);
    worker.on('error', (err) => lose(pw, `worker crashed: ${err.message}`));
    worker.on('exit', (code) => {
      if (!pw.dead) lose(pw, `worker exited with code ${code}`);
    });
    return pw;
  };

  /** A worker died or hung: replace it and retry its unfinished messages one by one. */
  const lose = (pw: PoolWorker, why: string): void => {
    if (pw.dead) return;
    pw.dead = true;
    void pw.worker.terminate();
    for (const { items } of pw.outstanding.values()) {
      for (const it of items) {
        const slot = slots.get(it.seq);
        if (!slot || slot.result) continue;
        // Blame a message only once it has failed alone; the rest of its batch is retried.
        if (singles.has(it.seq)) {
          slot.result = { seq: it.seq, id: it.id, error: `${why} while handling this message; skipped` };
          slot.raw = null;
        } else {
          singles.add(it.seq);
          retryQueue.push(it);
        }
      }
    }
    pw.outstanding.clear();
    const i = workers.indexOf(pw);
    if (fatal === null) workers[i] = spawn(pw.full);
    signal();
  };

  for (let i = 0; i < nWorkers; i++) workers.push(spawn(i === 0));

  const hardTimeout = options.hardTimeoutMs;
  const watchdog = setInterval(() => {
    const now = Date.now();
    for (const pw of workers) {
      for (const { items, sentAt } of pw.outstanding.values()) {
        const limit = hardTimeout ?? 60_000 + 2_000 * items.length;
        if (now - sentAt > limit) {
          lose(pw, `worker stuck for over ${Math.round(limit / 1000)} s`);
          break;
        }
      }
    }
  }, 1000);
  watchdog.unref();

  const canTake = (pw: PoolWorker): boolean => !pw.dead && !pw.suspect && pw.outstanding.size < 2;
  const dispatch = (pw: PoolWorker, items: WorkItem[]): void => {
    const batch = batchCounter++;
    pw.outstanding.set(batch, { items, sentAt: Date.now() });
    const msg: WorkBatch = { type: 'batch', batch, items };
    // Cloned, not transferred: a reader's Buffer may share its memory with others.
    pw.worker.postMessage(msg);
  };
  const send = (items: WorkItem[]): void => {
    // The least busy worker that can take more; two batches each keeps them fed without hoarding.
    let best: PoolWorker | undefined;
    for (const pw of workers) if (canTake(pw) && (!best || pw.outstanding.size < best.outstanding.size)) best = pw;
    if (!best) throw new PoolError('no scan worker free');
    dispatch(best, items);
  };
  /**
   * A retried message goes alone to an idle worker, so a second failure can only be its own
   * (to the full parser if it was handed back for mailparser).
   */
  const sendRetries = (): void => {
    while (retryQueue.length > 0) {
      const needsFull = deferredSeqs.has(retryQueue[0]!.seq);
      const idle = workers.find((pw) => !pw.dead && pw.outstanding.size === 0 && (pw.full || !needsFull));
      if (!idle) return;
      idle.suspect = true;
      dispatch(idle, [retryQueue.shift()!]);
    }
  };
  /** Handed-back messages go to the full parser in batches, as soon as it can take one. */
  const sendDeferred = (): void => {
    const full = workers.find((pw) => pw.full);
    while (deferredQueue.length > 0 && full && canTake(full)) dispatch(full, deferredQueue.splice(0, batchSize));
  };
  const busy = (): boolean => retryQueue.length > 0 || !workers.some(canTake);

  let pending: WorkItem[] = [];
  let pendingBytes = 0;
  const flush = (): void => {
    if (pending.length === 0) return;
    send(pending);
    pending = [];
    pendingBytes = 0;
  };

  const iterator = inputs[Symbol.asyncIterator]();
  let sourceDone = false;

  try {
    if (options.setup) {
      setup = options.setup();
      for (const pw of workers) pw.worker.postMessage(setup);
    }
    await Promise.all(workers.map((w) => w.ready));
    for (;;) {
      dirty = false;
      if (fatal) throw fatal;
      // Retries first, alone; then messages handed back for the full parser.
      sendRetries();
      sendDeferred();
      // Read while there is room.
      while (!sourceDone && slots.size < queueSize && (bytesInFlight < maxBytes || slots.size === 0) && !(busy() && pending.length >= batchSize)) {
        const next = await iterator.next();
        if (next.done) {
          sourceDone = true;
          break;
        }
        const { item, meta } = next.value;
        const seq = nextSeq++;
        if (isReadFailure(item)) {
          slots.set(seq, { seq, id: item.id, meta, bytes: 0, raw: null, result: { seq, id: item.id, error: item.error } });
          continue;
        }
        const raw = item.raw;
        slots.set(seq, { seq, id: item.id, meta, bytes: raw.length, raw, result: null });
        bytesInFlight += raw.length;
        pending.push({ seq, id: item.id, raw });
        pendingBytes += raw.length;
        if ((pending.length >= batchSize || pendingBytes >= batchBytes) && !busy()) flush();
        if (slots.get(nextOut)?.result) break; // hand out finished results promptly
      }
      if (pending.length > 0 && (!busy() || sourceDone)) {
        if (!busy()) flush();
      }
      // Hand out whatever is finished, in order.
      let progressed = false;
      for (let s = slots.get(nextOut); s && s.result; s = slots.get(nextOut)) {
        slots.delete(nextOut);
        nextOut++;
        bytesInFlight -= s.bytes;
        progressed = true;
        yield { seq: s.seq, result: s.result, meta: s.meta, bytes: s.bytes };
      }
      if (sourceDone && slots.size === 0 && pending.length === 0) break;
      if (progressed) continue;
      if (!sourceDone && slots.size < queueSize && bytesInFlight < maxBytes && !(busy() && pending.length >= batchSize)) continue;
      if (dirty) continue;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    clearInterval(watchdog);
    for (const pw of workers) {
      pw.dead = true;
      await pw.worker.terminate();
    }
    if (!sourceDone) await iterator.return?.();
  }
}
