import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readReport, renderReportHtml, renderReportText, ReportData } from '../../src/mail/report.js';
import { formatRuleStats, ruleStats } from '../../src/mail/rule-stats.js';
import { compileRules } from '../../src/rules/compile.js';

const rows = [
  { id: 'a', action: 'block', score: 14.2, rules: ['R_PRIZE', 'R_LINK'], label: 'spam', from: 'x@prizes.example', subject: 'win', date: '2002-10-01T10:00:00Z' },
  { id: 'b', action: 'quarantine', score: 7, rules: ['R_PRIZE'], label: 'spam', from: 'y@prizes.example', subject: 'win', date: '2002-10-02T10:00:00Z' },
  { id: 'c', action: 'deliver', score: 0.5, rules: ['R_LINK'], label: 'ham', from: 'anna@example.org', subject: 'hi', date: '2002-10-02T11:00:00Z' },
  { id: 'd', action: 'deliver', score: -1, rules: [], label: 'ham', from: 'bob@example.org', subject: '<script>alert(1)</script>' },
];

describe('scan report', () => {
  it('summarises actions, labelled accuracy, rules and sender domains', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spamgate-report-'));
    try {
      const path = join(dir, 'r.jsonl');
      writeFileSync(path, rows.map((r) => JSON.stringify(r)).join('\n') + '\nnot json\n{"id":"x"}\n');
      const data = await readReport(path);
      expect(data.messages).toBe(4);
      expect(data.badLines).toEqual([`${path}:5: not JSON`, `${path}:6: not a result record (needs id, action, score, rules)`]);
      const text = renderReportText(data);
      expect(text).toContain('spam caught 100.00% (2/2), ham held 0.00% (0/2)');
      expect(text).toMatch(/2 {2}R_LINK +spam {2}50\.0% {2}ham {2}50\.0%/);
      expect(text).toMatch(/2 {2}prizes\.example +held 100\.0%/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes one self-contained HTML page with inline SVG charts and escaped text', () => {
    const data = new ReportData();
    for (const r of rows) data.add(r as Parameters<ReportData['add']>[0]);
    const html = renderReportHtml(data, { title: 'T <1>' });
    expect(html).toContain('<title>T &lt;1&gt;</title>');
    expect(html.match(/<svg /g)!.length).toBeGreaterThanOrEqual(2);
    expect(html).toContain('aria-label="score histogram"');
    expect(html).toContain('aria-label="actions over time"');
    expect(html).toContain('2002-10-02 quarantine: 1');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(data.timeline().map((t) => t.key)).toEqual(['2002-10-01', '2002-10-02']);
    expect(data.undated).toBe(1);
  });
});

describe('rule statistics', () => {
  it('gives spam %, ham % and S/O per rule, like hit-frequencies', async () => {
    const set = compileRules([
      {
        file: 't.yaml',
        text: 'rules:\n  - { id: R_WIN, description: d, keywords: [winner], score: 2 }\n  - { id: R_HELLO, description: d, keywords: [hello], score: 1 }\n  - { id: R_NEVER, description: d, keywords: [zebra], score: 1 }\n',
      },
    ]);
    const msg = (text: string) => ({ from: '+447700900123', to: '+447700900456', text });
    const stats = await ruleStats(
      [
        { label: 'spam' as const, input: msg('hello winner') },
        { label: 'spam' as const, input: msg('winner winner') },
        { label: 'ham' as const, input: msg('hello there') },
        { label: 'ham' as const, input: msg('see you') },
      ],
      set,
    );
    expect(stats.spam).toBe(2);
    expect(stats.ham).toBe(2);
    expect(stats.rules.map((r) => [r.rule, r.spamPercent, r.hamPercent, Number.isNaN(r.so) ? null : r.so])).toEqual([
      ['R_WIN', 100, 0, 1],
      ['R_HELLO', 50, 50, 0.5],
      ['R_NEVER', 0, 0, null],
    ]);
    const table = formatRuleStats(stats);
    expect(table).toContain('OVERALL%    SPAM%     HAM%    S/O  SCORE  NAME');
    expect(table).toMatch(/50\.000 +100\.000 +0\.000 +1\.000 +2\.00 {2}R_WIN/);
  });
});
