import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { crossValidateMessages, featuresOf, type LabelledMessage } from '../../src/bayes/experiment.js';
import { stratifiedFolds } from '../../src/bayes/evaluate.js';
import { readRecords } from '../../src/message/records.js';
import { loadRuleSet } from '../../src/rules/load.js';

const UCI = resolve(import.meta.dirname, '..', '..', '..', 'shared', 'corpora', 'sms-spam-collection', 'SMSSpamCollection.tsv');

async function corpus(): Promise<LabelledMessage[]> {
  const out: LabelledMessage[] = [];
  for await (const r of readRecords(UCI)) if (r.kind === 'message' && r.label) out.push({ label: r.label, input: r.input });
  return out;
}

// Must run in CI (../shared is beside the clone there): a missing corpus is a failure, not a skip.
describe('accuracy floor on the UCI SMS Spam Collection, stratified 10-fold, seed 1', () => {
  it('the corpus is where CI expects it', () => {
    expect(existsSync(UCI)).toBe(true);
  });

  it('rules + classifier: MCC at least 0.95 with ham blocked at most 0.10 %', async () => {
    const data = await corpus();
    expect(data).toHaveLength(5574);
    const labels = data.map((d) => d.label);
    const features = featuresOf(data);
    const m = crossValidateMessages(data, stratifiedFolds(labels, 10, 1), { rules: loadRuleSet() }, features);
    expect(m.mcc).toBeGreaterThanOrEqual(0.95);
    expect(m.hamBlockedPercent).toBeLessThanOrEqual(0.1);
    // The classifier alone, at its own cutoff, holds the same floor.
    const bayes = crossValidateMessages(data, stratifiedFolds(labels, 10, 1), { bayesOnly: true }, features);
    expect(bayes.mcc).toBeGreaterThanOrEqual(0.95);
    expect(bayes.hamBlockedPercent).toBeLessThanOrEqual(0.1);
    expect(bayes.rocAuc).toBeGreaterThan(0.99);
  });
});
