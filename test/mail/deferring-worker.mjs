// A scan worker for the pool tests: answers like the real one, naming which kind of worker
// answered. Without the full parser it hands back messages holding "FULL" (as the real one hands
// back those that need mailparser); the full parser dies on "CRASH".
import { parentPort, workerData } from 'node:worker_threads';
const full = workerData.fullParser !== false;
parentPort.postMessage({ type: 'ready' });
parentPort.on('message', (msg) => {
  const results = [];
  for (const item of msg.items) {
    const text = Buffer.from(item.raw).toString('latin1');
    if (!full && text.includes('FULL')) {
      results.push({ seq: item.seq, id: item.id, deferred: true });
      continue;
    }
    if (text.includes('CRASH')) process.exit(3);
    results.push({ seq: item.seq, id: item.id, scored: { action: 'deliver', score: 0, rules: [], from: full ? 'full' : 'direct', subject: text.trim() } });
  }
  parentPort.postMessage({ type: 'results', batch: msg.batch, results });
});
