import { describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { CONDITION_KINDS } from '../../src/rules/conditions/index.js';
import { EMAIL_CONDITIONS, emailFieldsFromText } from '../../src/rules/conditions/email.js';
import { compileRules } from '../../src/rules/compile.js';
import { loadRuleSet, shippedRulesDir } from '../../src/rules/load.js';
import { RuleLoadError } from '../../src/rules/source.js';
import { runRuleExamples } from '../../src/cli/commands/rules.js';
import { createEngine } from '../../src/engine/engine.js';
import { parseEmail } from '../../src/mail/parse.js';

const EMAIL_RULES = resolve(__dirname, '../../rules/email');

describe('shipped email rules', () => {
  it('are known to the rule language', () => {
    for (const k of EMAIL_CONDITIONS) expect(CONDITION_KINDS.get(k.key)).toBe(k);
  });

  it('load together with every other shipped rule', () => {
    const set = loadRuleSet(shippedRulesDir());
    expect(set.rules.some((r) => r.id === 'EMAIL_NOT_SPAM_CLAIM')).toBe(true);
  });

  it('load and pass every example', () => {
    const set = loadRuleSet([EMAIL_RULES]);
    const { examples, failures } = runRuleExamples(set);
    expect(failures).toEqual([]);
    expect(examples).toBeGreaterThan(20);
  });
});

/** Inline one-line rules get a description, which the compiler asks of every rule. */
function compile(yaml: string) {
  return compileRules([{ file: 'test.yaml', text: yaml.replace(/\{ id: (\w+),/g, '{ id: $1, description: test rule,').replace(/    score: 1\n/g, '    description: test rule\n    score: 1\n') }]);
}

describe('email condition kinds on parsed mail', () => {
  const raw = Buffer.from(
    [
      'From: "Prize Dept" <winner@Claims.Example.COM>',
      'Reply-To: payout@hotmail.com',
      'To: you@example.org',
      'Subject: =?utf-8?B?WW91IHdvbiDigqwxMDAw?=',
      'X-Mailer: Group Mail 4.0',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/html; charset=utf-8',
      '',
      '<html><body><p>Claim <a href="http://login.paypa1.example/x">here</a></p></body></html>',
      '--b1',
      'Content-Type: application/octet-stream; name="prize.pdf.exe"',
      'Content-Transfer-Encoding: base64',
      '',
      'TVqQAAMAAAAEAAAA',
      '--b1--',
      '',
    ].join('\r\n'),
  );

  it('match headers, addresses, domains, subject, links, attachments and size', async () => {
    const { input } = await parseEmail(raw, 'm1');
    const set = compile(`
rules:
  - { id: H_MAILER, header: { name: X-Mailer, pattern: "group mail" }, score: 1 }
  - { id: H_NO_DATE, header: { name: date, missing: true }, score: 1 }
  - { id: H_HAS_DATE, header: { name: date, exists: true }, score: 1 }
  - { id: FROM_DOM, from_domain: [example.com], score: 1 }
  - { id: FROM_ADDR, from_address: ["winner@*"], score: 1 }
  - { id: RT_DOM, reply_to_domain: [hotmail.com], score: 1 }
  - { id: RT_DIFF, reply_to_differs: true, score: 1 }
  - { id: SUBJ, subject: ["you won"], score: 1 }
  - { id: BODY, body: { pattern: "claim\\\\s+here" }, score: 1 }
  - { id: URL_DOM, url_domains: [paypa1.example], score: 1 }
  - { id: URL_HOST, url_hosts: ["login.*"], score: 1 }
  - { id: ATT_NAME, attachment_name: ["*.pdf.exe"], score: 1 }
  - { id: ATT_TYPE, attachment_type: ["application/*"], score: 1 }
  - { id: HTML, html_body: true, score: 1 }
  - { id: SIZE_BIG, message_size: 100000, score: 1 }
  - { id: SIZE_SMALL, message_size: { max: 5000 }, score: 1 }
`);
    const engine = createEngine({ rules: set });
    const fired = engine.check(input).reasons.map((r) => r.rule).sort();
    expect(fired).toEqual(
      ['ATT_NAME', 'ATT_TYPE', 'BODY', 'FROM_ADDR', 'FROM_DOM', 'HTML', 'H_MAILER', 'H_NO_DATE', 'RT_DIFF', 'RT_DOM', 'SIZE_SMALL', 'SUBJ', 'URL_DOM', 'URL_HOST'].sort(),
    );
  });

  it('never match SMS messages', () => {
    const set = compile('rules:\n  - { id: HH, header: { name: date, missing: true }, score: 1 }\n  - { id: SS, message_size: { max: 100000 }, score: 1 }\n');
    const engine = createEngine({ rules: set });
    expect(engine.check({ from: '+447700900123', to: '+447700900456', text: 'Subject: hi' }).reasons).toEqual([]);
  });

  it('reject bad rule values with file and line', () => {
    for (const bad of [
      'rules:\n  - id: XX\n    header: { pattern: "x" }\n    score: 1\n',
      'rules:\n  - id: XX\n    header: { name: x-a, exists: true, pattern: "x" }\n    score: 1\n',
      'rules:\n  - id: XX\n    from_domain: ["not a domain"]\n    score: 1\n',
      'rules:\n  - id: XX\n    subject: { pattern: "(a+)+" }\n    score: 1\n',
      'rules:\n  - id: XX\n    attachment_type: [exe]\n    score: 1\n',
    ]) {
      let err: unknown;
      try {
        compile(bad);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(RuleLoadError);
      expect((err as RuleLoadError).problems[0]!.file).toBe('test.yaml');
      expect((err as RuleLoadError).problems[0]!.line).toBeGreaterThan(1);
    }
  });

  it('read a message written as text (rule examples)', () => {
    const e = emailFieldsFromText('From: A <a@B.example>\nReply-To: r@c.example\nSubject: Hi\nX-Long: one\n two\n\n<a href="http://x.example/">x</a>')!;
    expect(e.fromDomain).toBe('b.example');
    expect(e.replyToDomain).toBe('c.example');
    expect(e.headers.get('x-long')).toEqual(['one two']);
    expect(e.linkUrls).toEqual(['http://x.example/']);
    expect(emailFieldsFromText('just a text message')).toBeNull();
  });
});
