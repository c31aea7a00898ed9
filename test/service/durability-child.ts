/**
 * Child process for the durability test: quarantines a burst of messages and prints
 * "<spamBoxId> <messageId>" for each as soon as process() returns (stdout to a pipe is
 * synchronous on Linux, so a printed line was acknowledged). The parent kills it with SIGKILL.
 */
import { createEngine } from '../../src/engine/engine.js';
import { createSubscriberService } from '../../src/service/index.js';

const [dbPath, limit] = [process.argv[2]!, Number(process.argv[3] ?? 100_000)];
const svc = createSubscriberService({ engine: createEngine(), dbPath, modelPath: false });
const subscriber = '+447700900001';
svc.setRules(subscriber, { block: ['0900*'], allow: [], keywords: [], quiet: [], enabled: true }, { kind: 'operator', name: 'durability' });
process.stdout.write('ready\n');
for (let i = 0; i < limit; i++) {
  const r = svc.process({ id: `m${i}`, from: `0900${1000000 + i}`, to: subscriber, text: `held ${i}` });
  if (r.outcome !== 'quarantined') throw new Error(`message ${i} was not quarantined: ${r.outcome}`);
  process.stdout.write(`${r.spamBoxId} m${i}\n`);
}
svc.close();
