/**
 * engine.check on one core: the shipped rules plus 1,000 generated operator keyword rules,
 * 100,000 subscribers with 10 rules each, UCI SMS texts with random senders and recipients
 * (a quarter of the recipients are subscribers). Baselines in the same run: a bare loop over
 * the same messages, and text analysis alone, so the figures read as ratios too.
 *
 *   npm run build && node --expose-gc dist/bench/engine.js [--json] [--messages N]
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine } from '../src/engine/engine.js';
import { loadRuleSet, shippedRulesDir } from '../src/rules/load.js';
import type { MessageInput } from '../src/message/types.js';
import type { SubscriberRules } from '../src/rules/subscriber-types.js';
import { analyseText } from '../src/text/analysis.js';
import { arg, fmt, latencies, memoryMB, prng, throughput, uciCorpus } from './lib/measure.js';

const random = prng(42);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
const number = (): string => '+4477009' + String(Math.floor(random() * 100000)).padStart(5, '0');
const WORDS = 'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu prize cash loan winner claim free offer bonus credit urgent'.split(' ');

/** 1,000 generated keyword rules, some with sender prefixes, as one YAML file. */
function generatedRules(dir: string): string {
  const lines = ['rules:'];
  for (let i = 0; i < 1000; i++) {
    const phrases = Array.from({ length: 3 }, () => Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(WORDS) + (random() < 0.5 ? String(i % 97) : '')).join(' '));
    lines.push(`  - id: GEN_${i}`, `    description: generated rule ${i}`, `    keywords: ${JSON.stringify(phrases)}`, `    score: ${(random() * 3).toFixed(1)}`);
    if (i % 10 === 0) lines.push(`    sender: ["+4490${i % 10}*"]`);
  }
  const file = join(dir, 'generated.yaml');
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

function subscriberRules(): SubscriberRules {
  return {
    block: [number(), number(), '0900*', '*BET*'],
    allow: [number(), number()],
    keywords: [pick(WORDS), `${pick(WORDS)} ${pick(WORDS)}`],
    quiet: [{ from: '22:00', to: '07:00', tz: 'Europe/London' }],
    enabled: true,
  };
}

const json = process.argv.includes('--json');
const n = Number(arg('messages') ?? 1_000_000);
const corpus = uciCorpus();
const dir = mkdtempSync(join(tmpdir(), 'spamgate-bench-'));

const memBefore = memoryMB();
const rules = loadRuleSet([shippedRulesDir(), generatedRules(dir)]);
const engine = createEngine({ rules });
const subscribers: string[] = [];
const loadStart = process.hrtime.bigint();
for (let i = 0; i < 100_000; i++) {
  const s = '+4477' + String(10_000_000 + i);
  subscribers.push(s);
  engine.setSubscriber(s, subscriberRules(), { trusted: true });
}
const loadSeconds = Number(process.hrtime.bigint() - loadStart) / 1e9;

// A fixed pool of messages, reused round-robin; a quarter go to subscribers.
const messages: MessageInput[] = Array.from({ length: 20_000 }, (_, i) => ({
  from: random() < 0.1 ? pick(['PRIZEDRAW', 'MYBANK', '87121']) : number(),
  to: random() < 0.25 ? pick(subscribers) : number(),
  text: corpus[i % corpus.length]!.text,
  time: 1_780_000_000_000 + i * 1000,
}));
const m = messages.length;

// Warm up: compiles hot functions and compiles every touched subscriber once.
for (let i = 0; i < 200_000; i++) engine.check(messages[i % m]!);
const memAfter = memoryMB();

let sink = 0;
const baseline = throughput(n, (i) => {
  sink += messages[i % m]!.text.length;
});
const analysis = throughput(n, (i) => {
  sink += analyseText(messages[i % m]!.text).words.length;
});
const check = throughput(n, (i) => {
  sink += engine.check(messages[i % m]!).score;
});
const lat = latencies(100_000, (i) => {
  sink += engine.check(messages[i % m]!).score;
});

const result = {
  rules: rules.rules.length,
  subscribers: engine.subscriberCount,
  subscriberLoadSeconds: Number(loadSeconds.toFixed(3)),
  messages: n,
  checksPerSecond: Math.round(check.perSecond),
  analysisOnlyPerSecond: Math.round(analysis.perSecond),
  bareLoopPerSecond: Math.round(baseline.perSecond),
  checkCostVsAnalysis: Number((analysis.perSecond / check.perSecond).toFixed(2)),
  latencyMicroseconds: { p50: Number(lat.p50.toFixed(2)), p99: Number(lat.p99.toFixed(2)), p999: Number(lat.p999.toFixed(2)) },
  heapMB: Number((memAfter.heapUsed - memBefore.heapUsed).toFixed(1)),
  rssMB: Number(memAfter.rss.toFixed(1)),
  node: process.version,
};
if (json) console.log(JSON.stringify(result));
else {
  console.log(`engine.check, one core: ${result.rules} operator rules, ${fmt(result.subscribers)} subscribers × 10 rules (loaded in ${result.subscriberLoadSeconds} s)`);
  console.log(`  check            ${fmt(result.checksPerSecond)} msgs/s   (target ≥ 400,000)`);
  console.log(`  analysis alone   ${fmt(result.analysisOnlyPerSecond)} msgs/s   → check costs ${result.checkCostVsAnalysis}× the text analysis`);
  console.log(`  bare loop        ${fmt(result.bareLoopPerSecond)} msgs/s`);
  console.log(`  latency          p50 ${result.latencyMicroseconds.p50} µs   p99 ${result.latencyMicroseconds.p99} µs   p99.9 ${result.latencyMicroseconds.p999} µs`);
  console.log(`  memory           heap +${result.heapMB} MB for rules and subscribers, RSS ${result.rssMB} MB`);
}
if (sink === 0.5) console.log(''); // keep the work observable
