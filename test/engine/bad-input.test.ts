import { describe, expect, it } from 'vitest';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileRules } from '../../src/rules/compile.js';
import { loadRuleSet } from '../../src/rules/load.js';
import { RuleLoadError } from '../../src/rules/source.js';
import { readRecords, type InputRecord } from '../../src/message/records.js';
import { parseSubscribersFile } from '../../src/rules/subscriber.js';
import { AddressNormaliser } from '../../src/message/address.js';
import { createEngine } from '../../src/engine/engine.js';
import { MessageError } from '../../src/message/normalise.js';
import { engineWith } from './helpers.js';

function problems(yaml: string): string[] {
  try {
    compileRules([{ file: 'bad.yaml', text: yaml }]);
  } catch (err) {
    if (err instanceof RuleLoadError) return err.problems.map((p) => `${p.line}:${p.column} ${p.message}`);
    throw err;
  }
  return [];
}

describe('bad rule files are refused with file, line, column and what was expected', () => {
  it('malformed YAML', () => {
    expect(problems('rules:\n  - id: X1\n    keywords: [a, b\n')[0]).toMatch(/^\d+:\d+ invalid YAML/);
  });

  it('unknown keys, with a suggestion', () => {
    const p = problems('rules:\n  - id: X1\n    description: d\n    score: 1\n    kewords: [a]\n');
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^5:5 rules\[0\]: unknown key 'kewords' \(did you mean 'keywords'\?\); rule keys: id, description, score, action, enforce, examples; conditions: sender, recipient, /);
    expect(problems('rulez: []\n')[0]).toMatch(/unknown key 'rulez' \(did you mean 'rules'\?\)/);
  });

  it('a regex that can backtrack catastrophically, e.g. (a+)+$', () => {
    expect(problems("rules:\n  - id: X1\n    description: d\n    score: 1\n    regex: '(a+)+$'\n")[0]).toMatch(/^5:12 rules\[0\]\.regex: regex \/\(a\+\)\+\$\/ can backtrack catastrophically/);
    expect(problems("rules:\n  - { id: X1, description: d, score: 1, regex: '(\\w+\\s?)*$' }\n")[0]).toMatch(/backtrack catastrophically/);
    expect(problems("rules:\n  - { id: X1, description: d, score: 1, regex: '(a)\\1' }\n")[0]).toMatch(/backreference/);
    expect(problems("rules:\n  - { id: X1, description: d, score: 1, regex: '[unclosed' }\n")[0]).toMatch(/invalid regex/);
    // Bounded quantifiers inside a group are fine.
    expect(problems("rules:\n  - { id: X1, description: d, score: 1, regex: '\\d{1,3}(?:\\.\\d{1,2})?p' }\n")).toEqual([]);
  });

  it('an unknown time zone and a bad clock', () => {
    expect(problems('rules:\n  - id: X1\n    description: d\n    score: 1\n    time: { from: "22:00", to: "07:00", tz: Mars/Olympus }\n')[0]).toMatch(/^5:45 .*unknown time zone 'Mars\/Olympus'/);
    expect(problems('rules:\n  - id: X1\n    description: d\n    score: 1\n    time: { from: "22:00", to: "31:00" }\n')[0]).toMatch(/invalid time '31:00'/);
  });

  it('an invalid number pattern', () => {
    expect(problems('rules:\n  - id: X1\n    description: d\n    score: 1\n    sender: ["+44 7700 9abc"]\n')[0]).toMatch(/^5:14 rules\[0\]\.sender\[0\]: invalid pattern '\+44 7700 9abc'/);
    expect(problems('rules:\n  - id: X1\n    description: d\n    score: 1\n    sender: ["ABCDEFGHIJKLMNOP"]\n')[0]).toMatch(/longer than 11 characters/);
  });

  it('missing outcome, duplicate ids, unknown and circular references', () => {
    expect(problems('rules:\n  - { id: X1, description: d, keywords: [a] }\n')[0]).toMatch(/needs a 'score' or an 'action'/);
    expect(problems('rules:\n  - { id: X1, description: d, score: 1, keywords: [a] }\n  - { id: X1, description: d, score: 1, keywords: [b] }\n')[0]).toMatch(/duplicate rule id 'X1', first defined at bad.yaml:2/);
    expect(problems('rules:\n  - { id: X1, description: d, score: 1, all: [X2] }\n')[0]).toMatch(/unknown rule 'X2'/);
    expect(problems('rules:\n  - { id: X1, description: d, score: 1, all: [X2] }\n  - { id: X2, description: d, score: 1, not: X1 }\n')[0]).toMatch(/cycle: X1 → X2 → X1/);
    expect(problems("rules:\n  - { id: X1, description: d, action: tag, enforce: true, keywords: [a] }\n")[0]).toMatch(/'enforce' needs action block or quarantine/);
  });

  it('reports every problem in every file at once', () => {
    expect(problems('rules:\n  - { id: x, score: 1 }\n  - { id: X2, description: d, score: 1, length: -1 }\n')).toHaveLength(2);
  });

  it('a missing rules folder names the path', () => {
    expect(() => loadRuleSet('/nonexistent/rules')).toThrow(/\/nonexistent\/rules:1:1: cannot read: ENOENT/);
  });
});

describe('bad subscriber files name the entry', () => {
  it('refuses a bad number, a bad pattern and a regex-like keyword list entry', () => {
    const n = new AddressNormaliser('GB');
    const text = '"+447700900001":\n  block: ["+44abc*"]\n"hello":\n  block: []\n"+447700900002":\n  quiet: [{ from: "25:00", to: "07:00" }]\n';
    try {
      parseSubscribersFile(text, 'subs.yaml', n, 'UTC');
      expect.unreachable();
    } catch (err) {
      const msgs = (err as RuleLoadError).problems.map((p) => `${p.file}:${p.line} ${p.message}`);
      expect(msgs).toEqual([
        "subs.yaml:2 +447700900001: block[0]: invalid glob '+44abc*'; expected a number (+447700900123, 07700 900123), a prefix (0900*), a glob (*BANK*), a sender ID of 1–11 letters or digits (PRIZEDRAW), or an email address or @domain",
        "subs.yaml:4 hello: 'hello' is not a subscriber number: expected E.164 (+447700900001) or a national number",
        "subs.yaml:6 +447700900002: quiet[0]: invalid time '25:00': expected HH:MM from 00:00 to 24:00",
      ]);
    }
  });
});

describe('bad message input', () => {
  async function collect(content: Buffer | string): Promise<InputRecord[]> {
    const dir = mkdtempSync(join(tmpdir(), 'spamgate-'));
    const file = join(dir, 'in.txt');
    writeFileSync(file, content);
    const out: InputRecord[] = [];
    for await (const r of readRecords(file)) out.push(r);
    return out;
  }

  it('non-UTF-8 lines are reported with their line number and the rest is read', async () => {
    const recs = await collect(Buffer.concat([Buffer.from('ham\thello\nspam\t'), Buffer.from([0xff, 0xfe, 0x41]), Buffer.from('\nham\tbye\n')]));
    expect(recs.map((r) => r.kind)).toEqual(['message', 'error', 'message']);
    expect(recs[1]).toMatchObject({ line: 2, error: expect.stringMatching(/in\.txt:2: not valid UTF-8$/) });
  });

  it('bad labels and bad JSON fields name the line and field', async () => {
    const tsv = await collect('ham\tok\nmaybe\twhat\n');
    expect(tsv[1]).toMatchObject({ kind: 'error', line: 2, error: expect.stringMatching(/expected 'spam' or 'ham' before the tab/) });
    const jsonl = await collect('{"text":"a"}\n{"text":5}\n{"text":"b","time":"yesterday"}\nnot json\n{"text":"c","label":"meh"}\n');
    expect(jsonl.map((r) => (r.kind === 'error' ? r.error.replace(/^.*in\.txt:/, '') : 'ok'))).toEqual([
      'ok',
      "2: field 'text' is missing or not a string",
      "3: field 'time' is not a valid time: \"yesterday\"",
      expect.stringMatching(/^4: not valid JSON/),
      "5: field 'label' must be 'spam' or 'ham', got \"meh\"",
    ]);
  });

  it('an unparseable time in a message is a MessageError naming the field', () => {
    const e = createEngine();
    expect(() => e.check({ from: '1', to: '2', text: 'x', time: 'soon' })).toThrow(MessageError);
  });

  it('a 1 MB message is checked (head only) and flagged as truncated', () => {
    const e = engineWith('rules:\n  - { id: KW, description: d, score: 1, keywords: [prize] }\n', { maxTextLength: 256 * 1024 });
    const text = 'prize ' + 'lorem ipsum '.repeat(90_000);
    expect(text.length).toBeGreaterThan(1_000_000);
    const v = e.check({ from: '1', to: '2', text });
    expect(v.truncated).toBe(true);
    expect(v.reasons.map((r) => r.rule)).toEqual(['KW']);
  });

  it('a regex sees at most 16 KiB, so a slow pattern on a huge text stays bounded', () => {
    const e = engineWith("rules:\n  - { id: TAIL, description: d, score: 1, regex: 'needle' }\n");
    expect(e.check({ from: '1', to: '2', text: 'x'.repeat(20_000) + 'needle' }).reasons).toEqual([]);
  });

  it('a pattern that slips past the static check still runs in linear time', () => {
    // (a|a)* has star height 1 but backtracks exponentially; V8's linear fallback bounds it.
    const e = engineWith("rules:\n  - { id: ALT, description: d, score: 1, regex: '^(a|a)*b' }\n");
    expect(e.check({ from: '1', to: '2', text: 'a'.repeat(5000) }).reasons).toEqual([]);
  });
});

describe('rules can be replaced while the engine runs', () => {
  it('replaceRules swaps the whole set atomically', () => {
    const e = engineWith('rules:\n  - { id: OLD, description: d, score: 1, keywords: [alpha] }\n');
    expect(e.check({ from: '1', to: '2', text: 'alpha beta' }).reasons.map((r) => r.rule)).toEqual(['OLD']);
    e.replaceRules(compileRules([{ file: 'new.yaml', text: 'rules:\n  - { id: NEW, description: d, score: 1, keywords: [beta] }\n' }]));
    expect(e.check({ from: '1', to: '2', text: 'alpha beta' }).reasons.map((r) => r.rule)).toEqual(['NEW']);
  });
});
