/**
 * Accuracy of rules + Bayes on the fixed SpamAssassin split (corpus.ts): the Bayesian
 * classifier learns the 70 % train part, then every message of the 30 % test part is checked
 * with the shipped email rules and that classifier, as a mail scan would check it. "Caught"
 * and "held" mean quarantine or block, as in the scan summary.
 */
import { join } from 'node:path';
import { createEngine } from '../engine/engine.js';
import type { CompiledRuleSet } from '../rules/compile.js';
import { loadRuleSet, shippedRulesDir } from '../rules/load.js';
import { analyseText } from '../text/analysis.js';
import { BayesClassifier } from '../bayes/classifier.js';
import { EMAIL_BAYES_BANDS } from '../bayes/email-bands.js';
import { loadSpamAssassin, splitSpamAssassin, type CorpusMessage } from './corpus.js';
import { parseEmail, type ParsedEmail } from './parse.js';

export interface SplitEvaluation {
  readonly train: { readonly spam: number; readonly ham: number };
  readonly test: { readonly spam: number; readonly ham: number; readonly hardHam: number };
  readonly spamCaught: number;
  readonly hamHeld: number;
  readonly hardHamHeld: number;
  readonly spamCaughtPercent: number;
  readonly hamHeldPercent: number;
  /** Messages the parser refused (none on this corpus). */
  readonly unparsed: readonly string[];
  /** `id score rules` of spam let through and ham held, for looking into. */
  readonly missedSpam: readonly string[];
  readonly heldHam: readonly string[];
}

async function parseAll(messages: readonly CorpusMessage[], unparsed: string[]): Promise<Array<{ m: CorpusMessage; p: ParsedEmail }>> {
  const out: Array<{ m: CorpusMessage; p: ParsedEmail }> = [];
  for (const m of messages) {
    try {
      out.push({ m, p: await parseEmail(m.raw, m.id) });
    } catch {
      unparsed.push(m.id);
    }
  }
  return out;
}

function held(action: string): boolean {
  return action === 'quarantine' || action === 'block';
}

/** Train on the 70 %, score the 30 %; `rules` defaults to the shipped `rules/email/`. */
export async function evaluateSpamAssassinSplit(options: { rules?: CompiledRuleSet } = {}): Promise<SplitEvaluation> {
  const { train, test } = splitSpamAssassin(loadSpamAssassin());
  const rules = options.rules ?? loadRuleSet([join(shippedRulesDir(), 'email')]);
  const unparsed: string[] = [];
  const classifier = new BayesClassifier();
  const normaliser = createEngine({ rules });
  for (const { m, p } of await parseAll(train, unparsed)) {
    const message = normaliser.normalise(p.input);
    classifier.learn(message, analyseText(message.text), m.label);
  }
  // The email bands a mail scan uses (engine-setup.ts), so the figures match a scan.
  const engine = createEngine({ rules, classifier, bayesBands: EMAIL_BAYES_BANDS });
  let spam = 0;
  let ham = 0;
  let hardHam = 0;
  let spamCaught = 0;
  let hamHeld = 0;
  let hardHamHeld = 0;
  const missedSpam: string[] = [];
  const heldHam: string[] = [];
  for (const { m, p } of await parseAll(test, unparsed)) {
    const v = engine.check(p.input);
    const line = `${m.id} ${v.score.toFixed(1)} ${v.reasons.map((r) => r.rule).join(',')}`;
    if (m.label === 'spam') {
      spam++;
      if (held(v.action)) spamCaught++;
      else missedSpam.push(line);
    } else {
      ham++;
      if (m.group === 'hard-ham-1') hardHam++;
      if (held(v.action)) {
        hamHeld++;
        if (m.group === 'hard-ham-1') hardHamHeld++;
        heldHam.push(line);
      }
    }
  }
  return {
    train: { spam: train.filter((m) => m.label === 'spam').length, ham: train.filter((m) => m.label === 'ham').length },
    test: { spam, ham, hardHam },
    spamCaught,
    hamHeld,
    hardHamHeld,
    spamCaughtPercent: spam ? (100 * spamCaught) / spam : 0,
    hamHeldPercent: ham ? (100 * hamHeld) / ham : 0,
    unparsed,
    missedSpam,
    heldHam,
  };
}
