/**
 * The subscriber service at operator scale: N subscribers (default 1,000,000) with 10 rules
 * each written to a fresh database, then
 *   - load: a new service reads every subscriber into the engine (what a restart costs), against
 *     a baseline in the same run that only reads the rows (the SQLite floor);
 *   - refresh: 1,000 rule changes written by another connection, picked up by `refresh()`;
 *   - quarantine: `process()` of messages that a block rule holds, each committed to the spam
 *     box before it returns, against `engine.check` of the same messages (the cost of durability).
 *
 *   npx tsc -p tsconfig.json && node --expose-gc dist/bench/subscribers.js [--subscribers N] [--json]
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine } from '../src/engine/engine.js';
import { loadRuleSet, shippedRulesDir } from '../src/rules/load.js';
import type { SubscriberRules } from '../src/rules/subscriber-types.js';
import { createSubscriberService } from '../src/service/index.js';
import { SqliteSubscriberStore } from '../src/store/subscribers.js';
import { arg, decoded, fmt, memoryMB, prng, throughput } from './lib/measure.js';

const json = process.argv.includes('--json');
const n = Number(arg('subscribers') ?? 1_000_000);
const random = prng(7);
const WORDS = 'prize cash loan winner claim free offer bonus credit urgent casino crypto'.split(' ');
const number = (): string => decoded('+4477009' + String(Math.floor(random() * 100000)).padStart(5, '0'));
const subscriberNumber = (i: number): string => decoded('+4477' + String(10_000_000 + i));

function rules(): SubscriberRules {
  return {
    block: [number(), number(), '0900*', '*BET*'],
    allow: [number(), number()],
    keywords: [WORDS[Math.floor(random() * WORDS.length)]!, 'free entry'],
    quiet: [{ from: '22:00', to: '07:00', tz: 'Europe/London' }],
    enabled: true,
  };
}

const seconds = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e9;
const dir = mkdtempSync(join(tmpdir(), 'spamgate-bench-subscribers-'));
const dbPath = join(dir, 'spamgate.db');
const operator = { kind: 'operator', name: 'bench' } as const;

// Setup: written straight through the store (generated rules are valid by construction).
let t = process.hrtime.bigint();
const store = SqliteSubscriberStore.open(dbPath);
const BATCH = 50_000;
for (let i = 0; i < n; i += BATCH) {
  const batch: Array<[string, SubscriberRules]> = [];
  for (let j = i; j < Math.min(n, i + BATCH); j++) batch.push([subscriberNumber(j), rules()]);
  store.putMany(batch, { at: Date.now(), actor: operator, action: 'bench.import' });
}
const writeSeconds = seconds(t);

// Baseline: the rows alone, no parsing, no engine.
t = process.hrtime.bigint();
let rows = 0;
for (const row of store.db.prepare('SELECT number, rules FROM subscribers').raw().iterate() as Iterable<[string, string]>) rows += row[1].length > 0 ? 1 : 0;
const readSeconds = seconds(t);
store.close();

const rulesSet = loadRuleSet(shippedRulesDir());
const memBefore = memoryMB();
const engine = createEngine({ rules: rulesSet });
t = process.hrtime.bigint();
const service = createSubscriberService({ engine, dbPath, modelPath: false, spamBoxCapacity: 100 });
const loadSeconds = seconds(t);
const memAfter = memoryMB();

// Another process's changes: a second connection edits 1,000 subscribers.
const other = createSubscriberService({ engine: createEngine({ rules: rulesSet }), dbPath, modelPath: false, loadSubscribers: false });
for (let i = 0; i < 1000; i++) other.addRule(subscriberNumber(i * 997 % n), 'block', `+4479${String(i).padStart(8, '0')}`, operator);
other.close();
t = process.hrtime.bigint();
const refreshed = service.refresh();
const refreshMs = seconds(t) * 1000;

// Quarantine path: every message is held by the subscriber's block prefix 0900*.
const q = 20_000;
const messages = Array.from({ length: q }, (_, i) => ({ from: '09001' + String(100000 + i), to: subscriberNumber(i % 5000), text: `Bench message ${i}: call now`, time: 1_780_000_000_000 + i }));
for (let i = 0; i < 2000; i++) engine.check(messages[i]!); // warm up and compile the subscribers touched
let held = 0;
const checkOnly = throughput(q, (i) => {
  if (engine.check(messages[i]!).action === 'quarantine') held++;
});
const processed = throughput(q, (i) => {
  if (service.process(messages[i]!).outcome === 'quarantined') held++;
});
service.close();

const result = {
  subscribers: n,
  rulesPerSubscriber: 10,
  databaseMB: Number((statSync(dbPath).size / 2 ** 20).toFixed(1)),
  writeSeconds: Number(writeSeconds.toFixed(2)),
  readRowsSeconds: Number(readSeconds.toFixed(2)),
  loadSeconds: Number(loadSeconds.toFixed(2)),
  loadVsReadRows: Number((loadSeconds / readSeconds).toFixed(2)),
  heapMB: Number((memAfter.heapUsed - memBefore.heapUsed).toFixed(0)),
  rssMB: Number(memAfter.rss.toFixed(0)),
  refresh: { changed: refreshed, ms: Number(refreshMs.toFixed(1)) },
  quarantinePerSecond: Math.round(processed.perSecond),
  checkPerSecond: Math.round(checkOnly.perSecond),
  quarantineCostVsCheck: Number((checkOnly.perSecond / processed.perSecond).toFixed(1)),
  held,
  node: process.version,
};
rmSync(dir, { recursive: true, force: true });
if (json) console.log(JSON.stringify(result));
else {
  console.log(`subscriber service: ${fmt(n)} subscribers × 10 rules (database ${result.databaseMB} MB, written in ${result.writeSeconds} s)`);
  console.log(`  load into engine   ${result.loadSeconds} s   (reading the rows alone: ${result.readRowsSeconds} s → ${result.loadVsReadRows}×)`);
  console.log(`  memory             heap +${result.heapMB} MB, RSS ${result.rssMB} MB`);
  console.log(`  refresh            ${result.refresh.changed} subscribers changed by another connection applied in ${result.refresh.ms} ms`);
  console.log(`  quarantine         ${fmt(result.quarantinePerSecond)} msgs/s durable in the spam box   (check alone ${fmt(result.checkPerSecond)} msgs/s → ${result.quarantineCostVsCheck}×)`);
}
