/**
 * Per-rule hit statistics over a labelled corpus, like SpamAssassin's hit-frequencies: for
 * each rule the share of spam and of ham it fires on, and S/O, the share of its hits that are
 * spam once both sides are scaled to the same size (1.0: only spam; 0.5: no better than
 * chance; 0.0: only ham). Operators use it to see which rules earn their score.
 */
import { createEngine } from '../engine/engine.js';
import type { Label } from '../message/records.js';
import type { MessageInput } from '../message/types.js';
import type { CompiledRuleSet } from '../rules/compile.js';
import { analyseText } from '../text/analysis.js';

export interface LabelledMessage {
  readonly label: Label;
  readonly input: MessageInput;
}

export interface RuleStat {
  readonly rule: string;
  readonly score: number;
  readonly spamHits: number;
  readonly hamHits: number;
  /** Percent of spam messages the rule fires on. */
  readonly spamPercent: number;
  readonly hamPercent: number;
  /** spam% / (spam% + ham%); NaN when the rule never fired. */
  readonly so: number;
  /** Percent of all messages. */
  readonly overallPercent: number;
}

export interface RuleStatsResult {
  readonly spam: number;
  readonly ham: number;
  /** Messages the engine refused (bad addresses and the like). */
  readonly errors: number;
  /** Every rule of the set, by S/O then spam hit rate, highest first; rules that never fired last. */
  readonly rules: readonly RuleStat[];
}

function pct(n: number, of: number): number {
  return of === 0 ? 0 : (100 * n) / of;
}

/** Run every rule of `set` over the labelled messages and count hits per label. */
export async function ruleStats(messages: AsyncIterable<LabelledMessage> | Iterable<LabelledMessage>, set: CompiledRuleSet): Promise<RuleStatsResult> {
  const engine = createEngine({ rules: set });
  const spamHits = new Int32Array(set.rules.length);
  const hamHits = new Int32Array(set.rules.length);
  let spam = 0;
  let ham = 0;
  let errors = 0;
  for await (const { label, input } of messages) {
    let hits;
    try {
      const message = engine.normalise(input);
      hits = set.evaluate(message, analyseText(message.text));
    } catch {
      errors++;
      continue;
    }
    const counts = label === 'spam' ? spamHits : hamHits;
    if (label === 'spam') spam++;
    else ham++;
    for (const h of hits) counts[h.rule.index]!++;
  }
  const rules: RuleStat[] = set.rules
    .filter((r) => !r.helper)
    .map((r) => {
      const s = spamHits[r.index]!;
      const h = hamHits[r.index]!;
      const sp = pct(s, spam);
      const hp = pct(h, ham);
      return {
        rule: r.id,
        score: r.score,
        spamHits: s,
        hamHits: h,
        spamPercent: sp,
        hamPercent: hp,
        so: sp + hp === 0 ? Number.NaN : sp / (sp + hp),
        overallPercent: pct(s + h, spam + ham),
      };
    });
  rules.sort((a, b) => {
    const an = Number.isNaN(a.so);
    const bn = Number.isNaN(b.so);
    if (an !== bn) return an ? 1 : -1;
    if (!an && b.so !== a.so) return b.so - a.so;
    return b.spamPercent - a.spamPercent || a.rule.localeCompare(b.rule);
  });
  return { spam, ham, errors, rules };
}

/** The table SpamAssassin's hit-frequencies prints, one rule a line. */
export function formatRuleStats(r: RuleStatsResult): string {
  const lines = [
    `${r.spam} spam, ${r.ham} ham${r.errors ? `, ${r.errors} not checked` : ''}`,
    `${'OVERALL%'.padStart(9)} ${'SPAM%'.padStart(8)} ${'HAM%'.padStart(8)} ${'S/O'.padStart(6)} ${'SCORE'.padStart(6)}  NAME`,
  ];
  for (const s of r.rules) {
    lines.push(
      `${s.overallPercent.toFixed(3).padStart(9)} ${s.spamPercent.toFixed(3).padStart(8)} ${s.hamPercent.toFixed(3).padStart(8)} ` +
        `${(Number.isNaN(s.so) ? '-' : s.so.toFixed(3)).padStart(6)} ${s.score.toFixed(2).padStart(6)}  ${s.rule}`,
    );
  }
  return lines.join('\n');
}
