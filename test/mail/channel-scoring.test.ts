/**
 * Email checked anywhere (not only in a mail scan) is scored as email: the email score bands
 * and the email prior. Covers the engine's per-channel bands, `buildEngine` (spamgate check)
 * and the trainer's train-on-error check.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BAYES_BANDS, BayesClassifier, classifierSource, SPAM_CUTOFF, TokenStore, Trainer } from '../../src/bayes/index.js';
import { buildEngine, registerClassifierSource } from '../../src/cli/common.js';
import { createEngine } from '../../src/engine/engine.js';
import type { SpamClassifier } from '../../src/engine/types.js';
import type { MessageInput } from '../../src/message/types.js';
import { normaliseMessage } from '../../src/message/normalise.js';
import { AddressNormaliser } from '../../src/message/address.js';
import { analyseText } from '../../src/text/analysis.js';
import { EMAIL_BAYES_BANDS } from '../../src/bayes/email-bands.js';
import { EMAIL_MODEL_PARAMETERS } from '../../src/bayes/email-features.js';

/** A classifier that always answers the same probability. */
const fixed = (p: number): SpamClassifier => ({ spamProbability: () => p });
const sms: MessageInput = { from: '+447700900000', to: '+447700900001', text: 'hello there' };
const email: MessageInput = { channel: 'email', from: 'a@b.example', to: 'c@d.example', text: 'From: a@b.example\nSubject: hi\n\nhello there' };
const mail = (text: string): MessageInput => ({ channel: 'email', from: 'x@y.example', to: 'z@w.example', text: `From: x@y.example\nSubject: note\n\n${text}` });
const bandOf = (reasons: readonly { rule: string }[]): string | undefined => reasons.find((r) => r.rule.startsWith('BAYES_'))?.rule;

describe('Bayes score bands by channel', () => {
  it('gives email the email bands and SMS the SMS bands in one engine', () => {
    const engine = createEngine({ rules: createEngine().rules, classifier: fixed(0.75), bayesBands: BAYES_BANDS, emailBayesBands: EMAIL_BAYES_BANDS });
    // 0.75: the SMS bands' 0.6-0.85 band (score 3), the email bands' 0.7 band (score 6).
    expect(bandOf(engine.check(sms).reasons)).toBe('BAYES_60');
    expect(bandOf(engine.check(email).reasons)).toBe('BAYES_70');
  });

  it('falls back to the one band list when no email bands are given', () => {
    const engine = createEngine({ rules: createEngine().rules, classifier: fixed(0.75), bayesBands: BAYES_BANDS });
    expect(bandOf(engine.check(email).reasons)).toBe('BAYES_60');
  });

  it('reach `spamgate check` through buildEngine and the bayes room\'s classifier source', () => {
    expect(classifierSource.emailBands).toBe(EMAIL_BAYES_BANDS);
    registerClassifierSource({ ...classifierSource, load: () => fixed(0.75) });
    const engine = buildEngine({ rules: [join(process.cwd(), 'rules', 'email')] });
    expect(bandOf(engine.check(email).reasons)).toBe('BAYES_70');
    expect(bandOf(engine.check(sms).reasons)).toBe('BAYES_60');
  });
});

describe('train on error for email', () => {
  it('judges "already right" with the prior the classifier scores each channel with', () => {
    const store = TokenStore.open(join(mkdtempSync(join(tmpdir(), 'spamgate-mail-')), 'm.db'));
    const t = new Trainer(store);
    for (let i = 0; i < 4; i++) t.learn('spam', mail(`prize winner claim cash ${i}`));
    for (let i = 0; i < 4; i++) t.learn('ham', mail(`meeting agenda minutes project ${i}`));
    const strengths: number[] = [];
    const probability = store.model.probability.bind(store.model);
    store.model.probability = (features, parameters = store.model.parameters, count) => {
      strengths.push(parameters.strength);
      return probability(features, parameters, count);
    };
    const onError = new Trainer(store, { onError: true });
    onError.learn('spam', mail('prize winner claim cash again'));
    onError.learn('spam', sms);
    expect(strengths).toEqual([EMAIL_MODEL_PARAMETERS.strength, store.model.parameters.strength]);
    expect(EMAIL_MODEL_PARAMETERS.strength).not.toBe(store.model.parameters.strength);
    // And the verdict agrees with the classifier's own for the same message.
    const message = normaliseMessage(mail('prize winner claim cash again'), new AddressNormaliser('GB'));
    const p = new BayesClassifier(store.model).spamProbability(message, analyseText(message.text));
    expect(p).toBeGreaterThanOrEqual(SPAM_CUTOFF);
    store.close();
  });
});
