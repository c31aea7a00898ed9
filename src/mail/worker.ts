/**
 * Scan worker: parses raw messages and (in `score` mode) checks them with its own engine,
 * built from the same flags as the main thread's. Runs as compiled JS from dist/.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Engine } from '../engine/engine.js';
import { parseEmail, parseEmailDirect, MailParseError } from './parse.js';
import { setupEngine } from './engine-setup.js';
import type { WorkBatch, WorkerInit, WorkerReply, WorkerSetup, WorkResult } from './protocol.js';

const init = workerData as WorkerInit;
const port = parentPort!;
// Without the direct path (`fastPath: false`) every message needs mailparser: all workers load it.
const fullParser = init.fullParser !== false || init.parse.fastPath === false;

function post(reply: WorkerReply): void {
  port.postMessage(reply);
}

let engine: Engine | null = null;
try {
  // The setup (the shared model) is the only message before 'ready': batches come after it.
  const setup = init.awaitsSetup ? await new Promise<WorkerSetup>((resolve) => port.once('message', resolve)) : undefined;
  if (init.mode === 'score') engine = await setupEngine(init.engine, setup?.sharedModel);
  post({ type: 'ready' });
} catch (err) {
  post({ type: 'fatal', error: err instanceof Error ? err.message : String(err) });
  process.exit(1);
}

async function handle(seq: number, id: string, raw: Buffer): Promise<WorkResult> {
  try {
    const parsed = fullParser ? await parseEmail(raw, id, init.parse) : parseEmailDirect(raw, id, init.parse);
    if (parsed === null) return { seq, id, deferred: true };
    if (!engine) return parsed.defects.length > 0 ? { seq, id, input: parsed.input, defects: parsed.defects } : { seq, id, input: parsed.input };
    const v = engine.check(parsed.input);
    return {
      seq,
      id,
      scored: {
        action: v.action,
        score: Math.round(v.score * 1000) / 1000,
        rules: v.reasons.map((r) => r.rule),
        ...(v.spamProbability !== undefined ? { spamProbability: Number(v.spamProbability.toFixed(4)) } : {}),
        from: parsed.input.email.fromAddress,
        subject: parsed.input.email.subject,
        ...(parsed.date ? { date: parsed.date } : {}),
        ...(parsed.defects.length > 0 ? { defects: parsed.defects } : {}),
      },
    };
  } catch (err) {
    if (err instanceof MailParseError) return { seq, id, error: err.message };
    return { seq, id, error: `cannot score: ${err instanceof Error ? err.message : String(err)}` };
  }
}

port.on('message', (msg: WorkBatch) => {
  void (async () => {
    const results: WorkResult[] = [];
    for (const item of msg.items) {
      const raw = Buffer.from(item.raw.buffer, item.raw.byteOffset, item.raw.byteLength);
      results.push(await handle(item.seq, item.id, raw));
    }
    post({ type: 'results', batch: msg.batch, results });
  })();
});
