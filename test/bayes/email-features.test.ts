/**
 * Email header tokens for the classifier (src/bayes/email-features.ts): what a parsed message
 * yields, what is left out on purpose, and that SMS features do not change.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_FEATURES, extractFeatures, featureStrings } from '../../src/bayes/features.js';
import { DEFAULT_EMAIL_FEATURES, EMAIL_MODEL_PARAMETERS, registeredDomain } from '../../src/bayes/email-features.js';
import { BayesClassifier } from '../../src/bayes/classifier.js';
import { BayesModel } from '../../src/bayes/model.js';
import { createEngine } from '../../src/engine/engine.js';
import { parseEmail } from '../../src/mail/parse.js';
import type { MessageInput } from '../../src/message/types.js';
import { analyseText } from '../../src/text/analysis.js';

const engine = createEngine({ rules: { rules: [] } as never });

async function tokensOf(raw: string): Promise<string[]> {
  const p = await parseEmail(Buffer.from(raw, 'utf8'), 'test');
  const m = engine.normalise(p.input);
  return featureStrings(m, analyseText(m.text));
}

const MAIL = [
  'Return-Path: <bounce@lists.example.org>',
  'Delivered-To: me@localhost',
  'X-Keywords: NonJunk',
  'X-Spam-Status: No',
  'Received: from mail.shop.example.co.uk (mail.shop.example.co.uk [203.0.113.7]) by mx.example.org with SMTP; Tue, 1 Oct 2002 10:00:05 +0000',
  'Received: from [198.51.100.23] (helo=pc) by mail.shop.example.co.uk; Tue, 1 Oct 2002 09:59:59 +0000',
  'From: Shop <deals@shop.example.co.uk>',
  'To: undisclosed-recipients:;',
  'Subject: Big sale',
  'Date: Fri, 4 Oct 2002 10:00:00 +0000',
  'Message-ID: <3D64E94E.8060301@shop.example.co.uk>',
  'X-Mailer: Mass Mailer 2.0',
  'Content-Type: text/html; charset="windows-1252"',
  'Content-Transfer-Encoding: 7bit',
  '',
  '<html><body><p>Big savings at <a href="http://www.offers.example.net/x">our shop</a> today</p></body></html>',
].join('\n');

describe('email header tokens', () => {
  it('tokenises relays, message-id, charset, links, recipients and the date', async () => {
    const t = await tokensOf(MAIL);
    expect(t).toEqual(
      expect.arrayContaining([
        'fromdom:shop.example.co.uk',
        'subj:big',
        'mailer:mass',
        'ctype:text/html',
        'body:html',
        'rcvd:n:2',
        'rcvd:example.co.uk',
        'rcvd:ip:203.0.113',
        'rcvd:ip:198.51',
        'mid:shape:9A9A9A.9',
        'mid:dom:example.co.uk',
        'mid:dom=from',
        'charset:windows-1252',
        'cte:7bit',
        'href:example.net',
        'to:undisclosed',
        'date:zone:+0000',
        // Sent three days after it arrived: a clock set ahead, as bulk senders do.
        'date:future',
      ]),
    );
  });

  it('tokenises the sender, link paths and the whole mailer as SpamBayes does', async () => {
    const t = await tokensOf(MAIL);
    expect(t).toEqual(
      expect.arrayContaining(['from:local:deals', 'from:reg:example.co.uk', 'from:name:shop', 'mailer:full:mass mailer 2.0', 'proto:http']),
    );
    const plain = await tokensOf('From: a@b.example\nSubject: hi\nContent-Type: text/html\n\n<a href="https://www.offers.example.net/cgi-bin/remove.pl?id=7">x</a>');
    expect(plain).toEqual(expect.arrayContaining(['from:name:none', 'proto:https', 'urlp:cgi', 'urlp:bin', 'urlp:remove', 'urlp:pl', 'urlp:id']));
    // Host names are the links group's (href:), not path pieces.
    expect(plain.filter((x) => x.startsWith('urlp:') && /offers|www|example/.test(x))).toEqual([]);
  });

  it('leaves out what the receiving side adds, and the "by" host of each relay', async () => {
    const t = await tokensOf(MAIL);
    expect(t.filter((x) => /keywords|spam|delivered|return-path/.test(x))).toEqual([]);
    // mx.example.org only ever appears after "by": our own side, not the sender's path.
    expect(t).not.toContain('rcvd:example.org');
  });

  it('keeps only body words of three or more letters for email', async () => {
    const t = await tokensOf('From: a@b.example\nSubject: x\n\nan ox ate hay');
    expect(t).toContain('ate');
    expect(t).toContain('hay');
    expect(t).not.toContain('an');
    expect(t).not.toContain('ox');
  });

  it('bounds the cost of a message with thousands of Received headers', async () => {
    const relays = Array.from({ length: 5000 }, (_, i) => `Received: from h${i}.relay${i}.example ([10.0.${i % 250}.1]) by mx.example.org; Tue, 1 Oct 2002 10:00:00 +0000`);
    const t = await tokensOf([...relays, 'From: a@b.example', 'Subject: hi', '', 'hello there'].join('\n'));
    expect(t.filter((x) => x.startsWith('rcvd:relay')).length).toBeLessThanOrEqual(12);
    expect(t).toContain('rcvd:n:8');
  });

  it('finds the registered domain under two-letter country second levels', () => {
    expect(registeredDomain('a.b.shop.example.com')).toBe('example.com');
    expect(registeredDomain('mail.shop.co.uk')).toBe('shop.co.uk');
    expect(registeredDomain('example.org')).toBe('example.org');
  });
});

describe('the other part and the HTML make-up (measured, not adopted)', () => {
  const raw =
    'From: a@b.example\nTo: c@d.example\nSubject: News\nMIME-Version: 1.0\n' +
    'Content-Type: multipart/alternative; boundary="B"\n\n--B\nContent-Type: text/plain\n\nPlain letter here.\n' +
    '--B\nContent-Type: text/html\n\n<html><body><table><tr><td>Plain letter here, <b>unsubscribe</b></td></tr></table></body></html>\n--B--\n';

  it('add tokens only when switched on, so the default features are the scan\'s', async () => {
    const p = await parseEmail(Buffer.from(raw), 'x', { unscored: true });
    const m = engine.normalise(p.input);
    const a = analyseText(m.text);
    const off = featureStrings(m, a);
    expect(off).not.toContain('unsubscribe');
    expect(off.filter((t) => /^(ht|ha|hf|hshape):/.test(t))).toEqual([]);
    const withOther = featureStrings(m, a, { ...DEFAULT_FEATURES, email: { ...DEFAULT_EMAIL_FEATURES, otherPart: 'words' } });
    expect(withOther).toContain('unsubscribe');
    expect(withOther.filter((t) => t === 'plain')).toHaveLength(1);
    const shape = featureStrings(m, a, { ...DEFAULT_FEATURES, email: { ...DEFAULT_EMAIL_FEATURES, htmlStructure: 'facts+shape' } });
    expect(shape).toContain('hshape:1000000');
    expect(shape).toContain('hf:img:0');
    expect(shape).not.toContain('ht:table');
  });
});

describe('SMS features are not changed by the email ones', () => {
  it('an SMS yields no email token and keeps its short words', () => {
    const input: MessageInput = { from: '+447700900123', to: '+447700900456', text: 'U r a winner! Call 09061701461 now' };
    const m = engine.normalise(input);
    const t = featureStrings(m, analyseText(m.text));
    expect(t.filter((x) => /^(rcvd|mid|charset|cte|href|hrefs|to|date|fromdom|subj|mailer|ctype|body|attach|urlp|proto|from:local|from:reg|from:name):/.test(x))).toEqual([]);
    expect(t).toContain('u');
    expect(t).toContain('r');
  });

  it('the email prior strength applies to email only', () => {
    const model = new BayesModel();
    const classifier = new BayesClassifier(model);
    const sms = engine.normalise({ from: '+447700900123', to: '+447700900456', text: 'free prize call now' });
    const ham = engine.normalise({ from: '+447700900123', to: '+447700900456', text: 'see you at lunch' });
    const mail = engine.normalise({
      channel: 'email', from: 'a@b.example', to: 'c@d.example', text: 'free prize call now',
      email: { headers: new Map(), subject: '', fromAddress: 'a@b.example', fromDomain: 'b.example', replyToAddress: '', replyToDomain: '', linkUrls: [], attachments: [], size: 20, html: false },
    });
    classifier.learn(sms, analyseText(sms.text), 'spam');
    classifier.learn(ham, analyseText(ham.text), 'ham');
    const smsFeatures = extractFeatures(sms, analyseText(sms.text));
    const mailFeatures = extractFeatures(mail, analyseText(mail.text));
    expect(classifier.spamProbability(sms, analyseText(sms.text))).toBe(model.probability(smsFeatures));
    const pMail = classifier.spamProbability(mail, analyseText(mail.text));
    expect(pMail).toBe(model.probability(mailFeatures, { ...model.parameters, ...EMAIL_MODEL_PARAMETERS }));
    // Words seen once: the weaker prior lets them count for more.
    expect(pMail).toBeGreaterThan(model.probability(mailFeatures));
  });
});
