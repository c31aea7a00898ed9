import { describe, expect, it } from 'vitest';
import { MetricsRegistry, parsePrometheusText } from '../../src/server/metrics.js';

describe('metrics registry', () => {
  it('renders counters with HELP, TYPE and escaped label values, and parses back', () => {
    const r = new MetricsRegistry();
    const c = r.counter('x_requests_total', 'Requests\nby "route" \\ status', ['route', 'status']);
    c.inc({ route: '/a"b\\c\nd', status: 200 });
    c.inc({ route: '/a"b\\c\nd', status: 200 }, 2);
    c.labels({ route: '/z', status: '404' }).inc();
    const text = r.render();
    expect(text).toContain('# HELP x_requests_total Requests\\nby "route" \\\\ status\n');
    expect(text).toContain('# TYPE x_requests_total counter\n');
    expect(text).toContain('x_requests_total{route="/a\\"b\\\\c\\nd",status="200"} 3\n');
    const parsed = parsePrometheusText(text);
    expect(parsed.help.get('x_requests_total')).toBe('Requests\nby "route" \\ status');
    expect(parsed.samples).toEqual([
      { name: 'x_requests_total', labels: { route: '/a"b\\c\nd', status: '200' }, value: 3 },
      { name: 'x_requests_total', labels: { route: '/z', status: '404' }, value: 1 },
    ]);
  });

  it('renders histograms with cumulative buckets, +Inf, _sum and _count', () => {
    const r = new MetricsRegistry();
    const h = r.histogram('lat_seconds', 'Latency', ['op'], { buckets: [0.1, 1] });
    for (const v of [0.05, 0.1, 0.5, 2, 3]) h.observe({ op: 'check' }, v);
    const samples = parsePrometheusText(r.render()).samples;
    const value = (name: string, le?: string) =>
      samples.find((s) => s.name === name && (le === undefined || s.labels.le === le))!.value;
    expect(value('lat_seconds_bucket', '0.1')).toBe(2); // le is inclusive
    expect(value('lat_seconds_bucket', '1')).toBe(3);
    expect(value('lat_seconds_bucket', '+Inf')).toBe(5);
    expect(value('lat_seconds_count')).toBe(5);
    expect(value('lat_seconds_sum')).toBeCloseTo(5.65);
    expect(samples.filter((s) => s.name === 'lat_seconds_bucket').every((s) => s.labels.op === 'check')).toBe(true);
  });

  it('bounds the number of series and counts what it dropped', () => {
    const r = new MetricsRegistry();
    const c = r.counter('hits_total', 'Hits', ['rule'], { maxSeries: 3 });
    for (let i = 0; i < 10; i++) c.inc({ rule: `R${i}` });
    c.inc({ rule: 'R0' });
    expect(parsePrometheusText(r.render()).samples).toHaveLength(3);
    expect(c.get({ rule: 'R0' })).toBe(2);
    expect(c.droppedObservations).toBe(7);
  });

  it('reading a value does not create a series', () => {
    const r = new MetricsRegistry();
    const c = r.counter('reads_total', 'Reads', ['k']);
    expect(c.get({ k: 'never' })).toBe(0);
    expect(r.render()).toBe('# HELP reads_total Reads\n# TYPE reads_total counter\n');
  });

  it('refuses bad names, unknown or missing labels, reserved le, clashing families and negative increments', () => {
    const r = new MetricsRegistry();
    expect(() => r.counter('1bad', 'x')).toThrow(/not a valid Prometheus name/);
    expect(() => r.counter('ok', 'x', ['a-b'])).toThrow(/label name 'a-b'/);
    expect(() => r.histogram('h', 'x', ['le'])).toThrow(/reserved/);
    expect(() => r.histogram('h2', 'x', [], { buckets: [1, 1] })).toThrow(/must increase/);
    const c = r.counter('c_total', 'x', ['a']);
    expect(() => c.inc({ b: '1' } as never)).toThrow(/unknown label 'b'/);
    expect(() => c.inc({})).toThrow(/label 'a' missing/);
    expect(() => c.inc({ a: '1' }, -1)).toThrow(/cannot increase/);
    r.histogram('lat', 'x');
    expect(() => r.counter('lat_count', 'x')).toThrow(/clashes with lat/);
  });

  it('runs collectors before rendering so read-on-scrape gauges are current', () => {
    const r = new MetricsRegistry();
    const g = r.gauge('open_sessions', 'Open sessions');
    let open = 4;
    r.onCollect(() => g.set(undefined, open));
    expect(r.render()).toContain('open_sessions 4\n');
    open = 1;
    expect(r.render()).toContain('open_sessions 1\n');
  });

  it('parser rejects malformed lines with their line number', () => {
    expect(() => parsePrometheusText('# TYPE a counter\na{b="x} 1\n')).toThrow(/line 2/);
    expect(() => parsePrometheusText('a one\n')).toThrow(/line 1: value 'one'/);
  });
});
