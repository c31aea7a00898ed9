/**
 * What the volume and campaign rules cost: engine.check over the shipped SMS rules with and
 * without rules/sms/volume.yaml, in the same run (the ratio is the figure to read), and the
 * memory the volume store holds after 1,000,000 distinct senders.
 *
 *   npm run build && node --expose-gc dist/bench/volume.js [--json] [--messages N]
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createEngine } from '../src/engine/engine.js';
import type { MessageInput } from '../src/message/types.js';
import { loadRuleSet, shippedRulesDir } from '../src/rules/load.js';
import { MemoryVolumeStore } from '../src/rules/volume-store.js';
import { arg, fmt, latencies, memoryMB, prng, throughput, uciCorpus } from './lib/measure.js';

const json = process.argv.includes('--json');
const n = Number(arg('messages') ?? 300_000);
const random = prng(7);
const corpus = uciCorpus();

const root = shippedRulesDir();
const smsFiles = readdirSync(join(root, 'sms')).filter((f) => f.endsWith('.yaml')).map((f) => join(root, 'sms', f));
const withVolume = loadRuleSet([join(root, 'settings.yaml'), ...smsFiles]);
const withoutVolume = loadRuleSet([join(root, 'settings.yaml'), ...smsFiles.filter((f) => !f.endsWith('volume.yaml'))]);

// 20,000 messages: 10,000 senders and 50,000 recipients, so counters see repeats; one in ten is
// a copy of one of 20 campaign templates with the name and a number changed.
const NAMES = ['John', 'Mary', 'Aisha', 'Tom', 'Priya', 'Olu', 'Chen', 'Sara'];
const messages: MessageInput[] = Array.from({ length: 20_000 }, (_, i) => {
  const campaign = random() < 0.1;
  const text = campaign
    ? `Hi ${NAMES[i % NAMES.length]}, ${corpus[(i % 20) * 37]!.text} ref ${Math.floor(random() * 1e6)}`
    : corpus[i % corpus.length]!.text;
  return {
    from: '+4477001' + String(Math.floor(random() * 10_000)).padStart(5, '0'),
    to: '+4477009' + String(Math.floor(random() * 50_000)).padStart(5, '0'),
    text,
    time: 1_780_000_000_000 + i * 2,
  };
});
const m = messages.length;

function run(rules: typeof withVolume): { perSecond: number; p50: number; p99: number } {
  const engine = createEngine({ rules, volumeStore: new MemoryVolumeStore() });
  let sink = 0;
  // Fresh times each round keep the windows sliding as in live traffic.
  const at = (i: number): MessageInput => ({ ...messages[i % m]!, time: 1_780_000_000_000 + i * 2 });
  for (let i = 0; i < 100_000; i++) sink += engine.check(at(i)).score;
  const t = throughput(n, (i) => {
    sink += engine.check(at(100_000 + i)).score;
  });
  const lat = latencies(50_000, (i) => {
    sink += engine.check(at(100_000 + n + i)).score;
  });
  if (sink === 0.5) console.log('');
  return { perSecond: t.perSecond, p50: lat.p50, p99: lat.p99 };
}

const without = run(withoutVolume);
const withV = run(withVolume);

// Memory: 1,000,000 distinct senders, each to its own recipient, through the volume rules.
const store = new MemoryVolumeStore();
const engine = createEngine({ rules: withVolume, volumeStore: store });
const before = memoryMB();
for (let i = 0; i < 1_000_000; i++) {
  engine.check({ from: '+4478' + String(10_000_000 + i), to: '+4479' + String(10_000_000 + i), text: corpus[i % corpus.length]!.text, time: 1_780_000_000_000 + i });
}
const after = memoryMB();
const stats = store.stats();

const result = {
  messages: n,
  volumeRules: withVolume.rules.filter((r) => r.volume).length,
  counters: withVolume.volume?.counters.length ?? 0,
  checksPerSecondWithout: Math.round(without.perSecond),
  checksPerSecondWith: Math.round(withV.perSecond),
  costRatio: Number((without.perSecond / withV.perSecond).toFixed(2)),
  latencyMicroseconds: { without: { p50: Number(without.p50.toFixed(2)), p99: Number(without.p99.toFixed(2)) }, with: { p50: Number(withV.p50.toFixed(2)), p99: Number(withV.p99.toFixed(2)) } },
  oneMillionSenders: { keys: stats.keys, members: stats.members, heapMB: Number((after.heapUsed - before.heapUsed).toFixed(1)), maxKeysPerCounter: store.maxKeys },
  node: process.version,
};
if (json) console.log(JSON.stringify(result));
else {
  console.log(`volume rules: ${result.volumeRules} rules over ${result.counters} counters (shipped SMS rules, ${fmt(n)} checks)`);
  console.log(`  without volume rules  ${fmt(result.checksPerSecondWithout)} checks/s   p50 ${result.latencyMicroseconds.without.p50} µs   p99 ${result.latencyMicroseconds.without.p99} µs`);
  console.log(`  with volume rules     ${fmt(result.checksPerSecondWith)} checks/s   p50 ${result.latencyMicroseconds.with.p50} µs   p99 ${result.latencyMicroseconds.with.p99} µs   → ${result.costRatio}× the cost`);
  console.log(`  1,000,000 senders     ${fmt(stats.keys)} keys, ${fmt(stats.members)} members held (cap ${fmt(store.maxKeys)} keys a counter), heap +${result.oneMillionSenders.heapMB} MB`);
}
