/**
 * `spamgate report`: a picture of a scan from its JSONL results. A plain-text summary for the
 * terminal and a self-contained HTML page (inline SVG, inline CSS, no scripts, no network):
 * score histogram for spam and ham, actions over time, top rules by hits with spam/ham hit
 * rates, and top sender domains.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Action } from '../engine/types.js';

export interface ReportRow {
  readonly id: string;
  readonly action: Action;
  readonly score: number;
  readonly rules: readonly string[];
  readonly label?: 'spam' | 'ham';
  readonly from?: string;
  readonly subject?: string;
  readonly date?: string;
}

const ACTIONS: readonly Action[] = ['deliver', 'tag', 'quarantine', 'block'];
const ACTION_COLOURS: Readonly<Record<Action, string>> = { deliver: '#4e9a06', tag: '#c4a000', quarantine: '#ce5c00', block: '#a40000' };
const HIST_MIN = -5;
const HIST_MAX = 25;

function held(action: Action): boolean {
  return action === 'quarantine' || action === 'block';
}

type Series = 'spam' | 'ham' | 'unlabelled';

interface RuleCount {
  hits: number;
  spam: number;
  ham: number;
}

interface DomainCount {
  messages: number;
  held: number;
  scoreSum: number;
}

/** Everything the report shows, gathered in one pass over the results. */
export class ReportData {
  messages = 0;
  readonly badLines: string[] = [];
  readonly actions: Record<Action, number> = { deliver: 0, tag: 0, quarantine: 0, block: 0 };
  readonly labelled = { spam: 0, ham: 0, spamHeld: 0, hamHeld: 0 };
  readonly histogram: Record<Series, number[]> = {
    spam: new Array<number>(HIST_MAX - HIST_MIN + 1).fill(0),
    ham: new Array<number>(HIST_MAX - HIST_MIN + 1).fill(0),
    unlabelled: new Array<number>(HIST_MAX - HIST_MIN + 1).fill(0),
  };
  /** Per day (YYYY-MM-DD), counts by action. */
  readonly days = new Map<string, Record<Action, number>>();
  undated = 0;
  readonly rules = new Map<string, RuleCount>();
  readonly domains = new Map<string, DomainCount>();
  minScore = Infinity;
  maxScore = -Infinity;
  private scoreSum = 0;

  add(row: ReportRow): void {
    this.messages++;
    this.actions[row.action]++;
    const score = Number.isFinite(row.score) ? row.score : 0;
    this.scoreSum += score;
    this.minScore = Math.min(this.minScore, score);
    this.maxScore = Math.max(this.maxScore, score);
    const series: Series = row.label ?? 'unlabelled';
    const bin = Math.min(HIST_MAX, Math.max(HIST_MIN, Math.floor(score))) - HIST_MIN;
    this.histogram[series][bin]!++;
    if (row.label === 'spam') {
      this.labelled.spam++;
      if (held(row.action)) this.labelled.spamHeld++;
    } else if (row.label === 'ham') {
      this.labelled.ham++;
      if (held(row.action)) this.labelled.hamHeld++;
    }
    const t = row.date ? Date.parse(row.date) : NaN;
    if (Number.isFinite(t)) {
      const day = new Date(t).toISOString().slice(0, 10);
      let d = this.days.get(day);
      if (!d) {
        d = { deliver: 0, tag: 0, quarantine: 0, block: 0 };
        this.days.set(day, d);
      }
      d[row.action]++;
    } else {
      this.undated++;
    }
    for (const r of new Set(row.rules)) {
      let c = this.rules.get(r);
      if (!c) {
        c = { hits: 0, spam: 0, ham: 0 };
        this.rules.set(r, c);
      }
      c.hits++;
      if (row.label === 'spam') c.spam++;
      else if (row.label === 'ham') c.ham++;
    }
    const from = row.from ?? '';
    const at = from.lastIndexOf('@');
    const domain = at >= 0 ? from.slice(at + 1).toLowerCase() : from ? '(not an address)' : '(no sender)';
    let dc = this.domains.get(domain);
    if (!dc) {
      dc = { messages: 0, held: 0, scoreSum: 0 };
      this.domains.set(domain, dc);
    }
    dc.messages++;
    if (held(row.action)) dc.held++;
    dc.scoreSum += score;
  }

  get meanScore(): number {
    return this.messages === 0 ? 0 : this.scoreSum / this.messages;
  }

  topRules(n: number): Array<{ rule: string } & RuleCount> {
    return [...this.rules].map(([rule, c]) => ({ rule, ...c })).sort((a, b) => b.hits - a.hits || a.rule.localeCompare(b.rule)).slice(0, n);
  }

  topDomains(n: number): Array<{ domain: string } & DomainCount> {
    return [...this.domains].map(([domain, c]) => ({ domain, ...c })).sort((a, b) => b.messages - a.messages || a.domain.localeCompare(b.domain)).slice(0, n);
  }

  /** Days, or months when the scan spans more than 120 days. */
  timeline(): Array<{ key: string; counts: Record<Action, number> }> {
    const keys = [...this.days.keys()].sort();
    if (keys.length === 0) return [];
    const spanDays = (Date.parse(keys[keys.length - 1]!) - Date.parse(keys[0]!)) / 86_400_000;
    const byMonth = spanDays > 120;
    const out = new Map<string, Record<Action, number>>();
    for (const k of keys) {
      const key = byMonth ? k.slice(0, 7) : k;
      let c = out.get(key);
      if (!c) {
        c = { deliver: 0, tag: 0, quarantine: 0, block: 0 };
        out.set(key, c);
      }
      for (const a of ACTIONS) c[a] += this.days.get(k)![a];
    }
    return [...out].map(([key, counts]) => ({ key, counts }));
  }
}

/** Read a scan's JSONL results; bad lines are counted with their line number. */
export async function readReport(path: string): Promise<ReportData> {
  const data = new ReportData();
  const rl = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  let line = 0;
  for await (const text of rl) {
    line++;
    if (text.trim() === '') continue;
    let v: Partial<ReportRow>;
    try {
      v = JSON.parse(text) as Partial<ReportRow>;
    } catch {
      data.badLines.push(`${path}:${line}: not JSON`);
      continue;
    }
    if (typeof v.id !== 'string' || !ACTIONS.includes(v.action as Action) || typeof v.score !== 'number' || !Array.isArray(v.rules)) {
      data.badLines.push(`${path}:${line}: not a result record (needs id, action, score, rules)`);
      continue;
    }
    data.add(v as ReportRow);
  }
  return data;
}

function percent(n: number, of: number, digits = 1): string {
  return of === 0 ? '-' : `${((100 * n) / of).toFixed(digits)}%`;
}

// ---- text ------------------------------------------------------------------------------------

export function renderReportText(d: ReportData): string {
  const a = d.actions;
  const lines = [
    `${d.messages} messages` + (d.badLines.length ? ` (${d.badLines.length} unreadable result lines skipped)` : ''),
    `  deliver ${a.deliver} (${percent(a.deliver, d.messages)})   tag ${a.tag} (${percent(a.tag, d.messages)})   ` +
      `quarantine ${a.quarantine} (${percent(a.quarantine, d.messages)})   block ${a.block} (${percent(a.block, d.messages)})`,
  ];
  if (d.messages > 0) lines.push(`  score: min ${d.minScore.toFixed(2)}, mean ${d.meanScore.toFixed(2)}, max ${d.maxScore.toFixed(2)}`);
  const l = d.labelled;
  if (l.spam + l.ham > 0) {
    lines.push(
      `  labelled: spam caught ${percent(l.spamHeld, l.spam, 2)} (${l.spamHeld}/${l.spam}), ham held ${percent(l.hamHeld, l.ham, 2)} (${l.hamHeld}/${l.ham})  [caught/held = quarantine or block]`,
    );
  }
  const rules = d.topRules(10);
  if (rules.length > 0) {
    lines.push('', 'Top rules by hits:');
    for (const r of rules) {
      lines.push(`  ${String(r.hits).padStart(7)}  ${r.rule.padEnd(32)} spam ${percent(r.spam, l.spam).padStart(6)}  ham ${percent(r.ham, l.ham).padStart(6)}`);
    }
  }
  const domains = d.topDomains(10);
  if (domains.length > 0) {
    lines.push('', 'Top sender domains:');
    for (const x of domains) lines.push(`  ${String(x.messages).padStart(7)}  ${x.domain.padEnd(32)} held ${percent(x.held, x.messages).padStart(6)}  mean score ${(x.scoreSum / x.messages).toFixed(2)}`);
  }
  return lines.join('\n');
}

// ---- HTML ------------------------------------------------------------------------------------

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const SERIES_COLOURS: Readonly<Record<Series, string>> = { spam: '#cc0000', ham: '#3465a4', unlabelled: '#888a85' };

function histogramSvg(d: ReportData): string {
  const series = (['spam', 'ham', 'unlabelled'] as const).filter((s) => d.histogram[s].some((v) => v > 0));
  const bins = HIST_MAX - HIST_MIN + 1;
  const W = 760;
  const H = 260;
  const left = 50;
  const bottom = 30;
  const plotW = W - left - 10;
  const plotH = H - bottom - 20;
  const max = Math.max(1, ...series.flatMap((s) => d.histogram[s]));
  const bw = plotW / bins;
  const parts: string[] = [];
  series.forEach((s, si) => {
    const w = (bw - 2) / series.length;
    d.histogram[s].forEach((v, i) => {
      if (v === 0) return;
      const h = (v / max) * plotH;
      const x = left + i * bw + 1 + si * w;
      const lo = i + HIST_MIN;
      const band = i === 0 ? `below ${lo + 1}` : i === bins - 1 ? `${lo} or more` : `${lo} to ${lo + 1}`;
      parts.push(`<rect x="${x.toFixed(1)}" y="${(20 + plotH - h).toFixed(1)}" width="${w.toFixed(1)}" height="${h.toFixed(1)}" fill="${SERIES_COLOURS[s]}"><title>${s}: ${v} with score ${band}</title></rect>`);
    });
  });
  for (let i = 0; i < bins; i += 5) {
    const x = left + i * bw;
    parts.push(`<text x="${x.toFixed(1)}" y="${H - 10}" font-size="11" text-anchor="middle">${i + HIST_MIN}</text>`);
  }
  parts.push(`<line x1="${left}" y1="${20 + plotH}" x2="${W - 10}" y2="${20 + plotH}" stroke="#555"/>`);
  parts.push(`<text x="${left - 6}" y="26" font-size="11" text-anchor="end">${max}</text><text x="${left - 6}" y="${20 + plotH}" font-size="11" text-anchor="end">0</text>`);
  const legend = series.map((s, i) => `<rect x="${W - 130}" y="${8 + i * 16}" width="10" height="10" fill="${SERIES_COLOURS[s]}"/><text x="${W - 115}" y="${17 + i * 16}" font-size="12">${s}</text>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="score histogram">${parts.join('')}${legend}</svg>`;
}

function timelineSvg(d: ReportData): string {
  const tl = d.timeline();
  if (tl.length === 0) return '<p>No dated messages.</p>';
  const W = 760;
  const H = 260;
  const left = 50;
  const bottom = 40;
  const plotW = W - left - 10;
  const plotH = H - bottom - 20;
  const max = Math.max(1, ...tl.map((t) => ACTIONS.reduce((s, a) => s + t.counts[a], 0)));
  const bw = plotW / tl.length;
  const parts: string[] = [];
  const labelEvery = Math.max(1, Math.ceil(tl.length / 12));
  tl.forEach((t, i) => {
    let y = 20 + plotH;
    for (const a of ACTIONS) {
      const v = t.counts[a];
      if (v === 0) continue;
      const h = (v / max) * plotH;
      y -= h;
      parts.push(`<rect x="${(left + i * bw + 0.5).toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(0.5, bw - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="${ACTION_COLOURS[a]}"><title>${esc(t.key)} ${a}: ${v}</title></rect>`);
    }
    if (i % labelEvery === 0) parts.push(`<text x="${(left + i * bw).toFixed(1)}" y="${H - 22}" font-size="10">${esc(t.key)}</text>`);
  });
  parts.push(`<line x1="${left}" y1="${20 + plotH}" x2="${W - 10}" y2="${20 + plotH}" stroke="#555"/>`);
  parts.push(`<text x="${left - 6}" y="26" font-size="11" text-anchor="end">${max}</text>`);
  const legend = ACTIONS.map((a, i) => `<rect x="${left + i * 110}" y="${H - 12}" width="10" height="10" fill="${ACTION_COLOURS[a]}"/><text x="${left + 14 + i * 110}" y="${H - 3}" font-size="12">${a}</text>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="actions over time">${parts.join('')}${legend}</svg>`;
}

function bar(fraction: number, colour: string): string {
  const w = Math.round(Math.max(0, Math.min(1, fraction)) * 120);
  return `<svg width="120" height="10" xmlns="http://www.w3.org/2000/svg"><rect width="120" height="10" fill="#eee"/><rect width="${w}" height="10" fill="${colour}"/></svg>`;
}

export function renderReportHtml(d: ReportData, options: { title?: string; source?: string } = {}): string {
  const title = options.title ?? 'spamgate scan report';
  const l = d.labelled;
  const a = d.actions;
  const rules = d.topRules(30);
  const domains = d.topDomains(30);
  const actionRows = ACTIONS.map((x) => `<tr><td><span class="sw" style="background:${ACTION_COLOURS[x]}"></span>${x}</td><td class="n">${a[x]}</td><td class="n">${percent(a[x], d.messages)}</td></tr>`).join('');
  const ruleRows = rules
    .map(
      (r) =>
        `<tr><td><code>${esc(r.rule)}</code></td><td class="n">${r.hits}</td><td class="n">${percent(r.hits, d.messages)}</td>` +
        `<td class="n">${percent(r.spam, l.spam)}</td><td>${bar(l.spam ? r.spam / l.spam : 0, SERIES_COLOURS.spam)}</td>` +
        `<td class="n">${percent(r.ham, l.ham)}</td><td>${bar(l.ham ? r.ham / l.ham : 0, SERIES_COLOURS.ham)}</td></tr>`,
    )
    .join('');
  const domainRows = domains
    .map((x) => `<tr><td>${esc(x.domain)}</td><td class="n">${x.messages}</td><td class="n">${percent(x.held, x.messages)}</td><td>${bar(x.held / x.messages, ACTION_COLOURS.quarantine)}</td><td class="n">${(x.scoreSum / x.messages).toFixed(2)}</td></tr>`)
    .join('');
  const labelled =
    l.spam + l.ham > 0
      ? `<p>Labelled messages: spam caught <b>${percent(l.spamHeld, l.spam, 2)}</b> (${l.spamHeld} of ${l.spam}), ham held <b>${percent(l.hamHeld, l.ham, 2)}</b> (${l.hamHeld} of ${l.ham}); caught and held mean quarantine or block.</p>`
      : '<p>No labels in these results: the histogram shows all messages together.</p>';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:820px;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;width:100%}td,th{padding:3px 8px;border-bottom:1px solid #eee;text-align:left}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}.sw{display:inline-block;width:10px;height:10px;margin-right:6px}
code{font-size:12px}.muted{color:#666}svg{max-width:100%;height:auto}
</style></head><body>
<h1>${esc(title)}</h1>
<p class="muted">${options.source ? `Results: ${esc(options.source)}. ` : ''}${d.messages} messages${d.badLines.length ? `, ${d.badLines.length} unreadable result lines skipped` : ''}${d.messages ? `; score min ${d.minScore.toFixed(2)}, mean ${d.meanScore.toFixed(2)}, max ${d.maxScore.toFixed(2)}` : ''}.</p>
<table><tr><th>action</th><th class="n">messages</th><th class="n">share</th></tr>${actionRows}</table>
${labelled}
<h2>Score histogram</h2>
<p class="muted">Messages per score band of width 1 (scores below ${HIST_MIN} and above ${HIST_MAX} are counted in the end bands).</p>
${histogramSvg(d)}
<h2>Actions over time</h2>
<p class="muted">By the messages' Date header${d.undated ? `; ${d.undated} messages without a usable date are not shown` : ''}.</p>
${timelineSvg(d)}
<h2>Top rules by hits</h2>
<table><tr><th>rule</th><th class="n">hits</th><th class="n">of all</th><th class="n">spam hit</th><th></th><th class="n">ham hit</th><th></th></tr>${ruleRows || '<tr><td colspan="7">No rule fired.</td></tr>'}</table>
<h2>Top sender domains</h2>
<table><tr><th>domain</th><th class="n">messages</th><th class="n">held</th><th></th><th class="n">mean score</th></tr>${domainRows}</table>
<p class="muted">Made by spamgate report. This page loads nothing from the network.</p>
</body></html>
`;
}
