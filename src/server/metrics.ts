/**
 * A small Prometheus registry: counters, gauges and histograms with labels, rendered in the
 * text exposition format 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/).
 * Generic on purpose: the HTTP API and the SMPP proxy both use it.
 *
 * ```ts
 * const registry = new MetricsRegistry();
 * const requests = registry.counter('app_requests_total', 'Requests by route', ['route', 'status']);
 * const latency = registry.histogram('app_latency_seconds', 'Latency', [], { buckets: [0.001, 0.01, 0.1] });
 * requests.inc({ route: '/v1/check', status: '200' });
 * latency.observe({}, 0.0004);
 * res.setHeader('content-type', PROMETHEUS_CONTENT_TYPE); res.end(registry.render());
 * ```
 *
 * Label values come from callers and may come from traffic (rule ids, routes), so every metric
 * bounds its number of series (`maxSeries`, default 10,000): past it, observations for new label
 * combinations are dropped and counted in `droppedObservations`, never an unbounded map.
 * For hot paths, `metric.labels({...})` returns a bound child that skips the label lookup.
 */

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type Labels = Readonly<Record<string, string | number>>;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Default latency buckets in seconds: 50 µs to 10 s, dense where a filter's latency lives. */
export const DEFAULT_SECONDS_BUCKETS: readonly number[] = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

export interface MetricOptions {
  /** Most label combinations kept; observations for new ones past it are dropped. */
  readonly maxSeries?: number;
}

export interface HistogramOptions extends MetricOptions {
  /** Upper bounds, finite and strictly increasing; `+Inf` is implicit. */
  readonly buckets?: readonly number[];
}

/** Escapes for `# HELP` text: backslash and newline. */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Escapes for label values: backslash, double quote and newline. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** A sample value as Prometheus writes it (`+Inf`, `-Inf`, `NaN`, plain decimals). */
export function formatValue(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  if (Number.isNaN(value)) return 'NaN';
  return String(value);
}

abstract class Metric<S> {
  readonly labelNames: readonly string[];
  /** Observations dropped because the series limit was reached. */
  droppedObservations = 0;
  protected readonly series = new Map<string, { readonly labels: string; readonly state: S }>();
  private readonly maxSeries: number;

  constructor(
    readonly name: string,
    readonly help: string,
    labelNames: readonly string[],
    options: MetricOptions,
    reserved: readonly string[] = [],
  ) {
    if (!METRIC_NAME.test(name)) throw new Error(`metric name '${name}' is not a valid Prometheus name`);
    const seen = new Set<string>();
    for (const label of labelNames) {
      if (!LABEL_NAME.test(label) || label.startsWith('__')) {
        throw new Error(`metric ${name}: label name '${label}' is not valid`);
      }
      if (reserved.includes(label)) throw new Error(`metric ${name}: label name '${label}' is reserved`);
      if (seen.has(label)) throw new Error(`metric ${name}: label '${label}' given twice`);
      seen.add(label);
    }
    this.labelNames = [...labelNames];
    this.maxSeries = options.maxSeries ?? 10_000;
  }

  abstract readonly type: 'counter' | 'gauge' | 'histogram';
  protected abstract newState(): S;
  /** Sample lines of one series. */
  protected abstract renderSeries(labels: string, state: S, out: string[]): void;

  /** The state of a label combination, created on first use; undefined past the series limit. */
  protected stateFor(labels: Labels | undefined): S | undefined {
    const values = this.labelValues(labels);
    const key = values.join('\u0000');
    const found = this.series.get(key);
    if (found) return found.state;
    if (this.series.size >= this.maxSeries) {
      this.droppedObservations++;
      return undefined;
    }
    const rendered = this.labelNames.map((n, i) => `${n}="${escapeLabelValue(values[i]!)}"`).join(',');
    const entry = { labels: rendered, state: this.newState() };
    this.series.set(key, entry);
    return entry.state;
  }

  /** The state of a label combination if it has been observed; never creates one. */
  protected find(labels: Labels | undefined): S | undefined {
    return this.series.get(this.labelValues(labels).join('\u0000'))?.state;
  }

  private labelValues(labels: Labels | undefined): string[] {
    const given = labels ?? {};
    for (const key of Object.keys(given)) {
      if (!this.labelNames.includes(key)) throw new Error(`metric ${this.name}: unknown label '${key}'`);
    }
    return this.labelNames.map((n) => {
      const v = given[n];
      if (v === undefined) throw new Error(`metric ${this.name}: label '${n}' missing`);
      return String(v);
    });
  }

  render(out: string[]): void {
    out.push(`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`);
    for (const { labels, state } of this.series.values()) this.renderSeries(labels, state, out);
  }

  /** Forget every series (tests, or a gauge rebuilt on each scrape). */
  reset(): void {
    this.series.clear();
  }
}

interface Cell {
  value: number;
}

function sample(name: string, labels: string, value: number): string {
  return labels ? `${name}{${labels}} ${formatValue(value)}` : `${name} ${formatValue(value)}`;
}

export class Counter extends Metric<Cell> {
  readonly type = 'counter';
  protected newState(): Cell {
    return { value: 0 };
  }
  protected renderSeries(labels: string, state: Cell, out: string[]): void {
    out.push(sample(this.name, labels, state.value));
  }
  inc(labels?: Labels, by = 1): void {
    if (!(by >= 0)) throw new Error(`counter ${this.name}: cannot increase by ${by}`);
    const cell = this.stateFor(labels);
    if (cell) cell.value += by;
  }
  /** Current value; 0 for a label combination never observed (without creating it). */
  get(labels?: Labels): number {
    return this.find(labels)?.value ?? 0;
  }
  /** A child bound to one label combination, for hot paths. */
  labels(labels: Labels): { inc(by?: number): void } {
    const cell = this.stateFor(labels);
    const name = this.name;
    return {
      inc(by = 1) {
        if (!(by >= 0)) throw new Error(`counter ${name}: cannot increase by ${by}`);
        if (cell) cell.value += by;
      },
    };
  }
}

export class Gauge extends Metric<Cell> {
  readonly type = 'gauge';
  protected newState(): Cell {
    return { value: 0 };
  }
  protected renderSeries(labels: string, state: Cell, out: string[]): void {
    out.push(sample(this.name, labels, state.value));
  }
  set(labels: Labels | undefined, value: number): void {
    const cell = this.stateFor(labels);
    if (cell) cell.value = value;
  }
  inc(labels?: Labels, by = 1): void {
    const cell = this.stateFor(labels);
    if (cell) cell.value += by;
  }
  dec(labels?: Labels, by = 1): void {
    this.inc(labels, -by);
  }
  /** Current value; 0 for a label combination never observed (without creating it). */
  get(labels?: Labels): number {
    return this.find(labels)?.value ?? 0;
  }
}

interface HistogramState {
  /** Per-bucket (not cumulative) counts; the last slot is +Inf. */
  readonly counts: number[];
  sum: number;
  count: number;
}

export class Histogram extends Metric<HistogramState> {
  readonly type = 'histogram';
  readonly buckets: readonly number[];

  constructor(name: string, help: string, labelNames: readonly string[], options: HistogramOptions) {
    super(name, help, labelNames, options, ['le']);
    const buckets = options.buckets ?? DEFAULT_SECONDS_BUCKETS;
    if (buckets.length === 0) throw new Error(`histogram ${name}: needs at least one bucket`);
    for (let i = 0; i < buckets.length; i++) {
      if (!Number.isFinite(buckets[i]!)) throw new Error(`histogram ${name}: bucket ${buckets[i]} is not finite`);
      if (i > 0 && !(buckets[i]! > buckets[i - 1]!)) {
        throw new Error(`histogram ${name}: buckets must increase (${buckets[i - 1]} then ${buckets[i]})`);
      }
    }
    this.buckets = [...buckets];
  }

  protected newState(): HistogramState {
    return { counts: new Array<number>(this.buckets.length + 1).fill(0), sum: 0, count: 0 };
  }

  protected renderSeries(labels: string, state: HistogramState, out: string[]): void {
    const sep = labels ? `${labels},` : '';
    let cumulative = 0;
    for (let i = 0; i <= this.buckets.length; i++) {
      cumulative += state.counts[i]!;
      const le = i < this.buckets.length ? formatValue(this.buckets[i]!) : '+Inf';
      out.push(`${this.name}_bucket{${sep}le="${le}"} ${cumulative}`);
    }
    out.push(sample(`${this.name}_sum`, labels, state.sum), sample(`${this.name}_count`, labels, state.count));
  }

  observe(labels: Labels | undefined, value: number): void {
    const state = this.stateFor(labels);
    if (state) this.record(state, value);
  }

  /** A child bound to one label combination, for hot paths. */
  labels(labels: Labels): { observe(value: number): void } {
    const state = this.stateFor(labels);
    return { observe: (value: number) => state && this.record(state, value) };
  }

  private record(state: HistogramState, value: number): void {
    if (Number.isNaN(value)) return;
    let i = 0;
    while (i < this.buckets.length && value > this.buckets[i]!) i++;
    state.counts[i]!++;
    state.sum += value;
    state.count++;
  }
}

export class MetricsRegistry {
  private readonly metrics = new Map<string, Counter | Gauge | Histogram>();
  private readonly collectors: (() => void)[] = [];

  counter(name: string, help: string, labelNames: readonly string[] = [], options: MetricOptions = {}): Counter {
    return this.add(new Counter(name, help, labelNames, options));
  }

  gauge(name: string, help: string, labelNames: readonly string[] = [], options: MetricOptions = {}): Gauge {
    return this.add(new Gauge(name, help, labelNames, options));
  }

  histogram(name: string, help: string, labelNames: readonly string[] = [], options: HistogramOptions = {}): Histogram {
    return this.add(new Histogram(name, help, labelNames, options));
  }

  /** Run before each render: set gauges that are read rather than pushed (open sessions, spam box size). */
  onCollect(collect: () => void): void {
    this.collectors.push(collect);
  }

  get(name: string): Counter | Gauge | Histogram | undefined {
    return this.metrics.get(name);
  }

  /** The whole registry in the text exposition format, ending with a newline. */
  render(): string {
    for (const collect of this.collectors) collect();
    const out: string[] = [];
    for (const metric of this.metrics.values()) metric.render(out);
    return out.length ? out.join('\n') + '\n' : '';
  }

  private add<M extends Counter | Gauge | Histogram>(metric: M): M {
    const clash = [...this.metrics.keys()].find((n) => familyNames(n).some((f) => familyNames(metric.name).includes(f)));
    if (clash !== undefined) throw new Error(`metric ${metric.name} clashes with ${clash}, already registered`);
    this.metrics.set(metric.name, metric);
    return metric;
  }
}

/** Names a metric's samples use, so a histogram `x` and a counter `x_count` cannot both register. */
function familyNames(name: string): string[] {
  return [name, `${name}_bucket`, `${name}_sum`, `${name}_count`];
}

/** One sample of a parsed exposition. */
export interface ParsedSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface ParsedMetrics {
  readonly help: ReadonlyMap<string, string>;
  readonly types: ReadonlyMap<string, string>;
  readonly samples: readonly ParsedSample[];
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/;
const LABEL_PAIR = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"\s*(,|$)/y;

/**
 * A strict parser of the text format, for tests and tools that read our own output back (and the
 * SMPP proxy's). Throws naming the line number on anything malformed.
 */
export function parsePrometheusText(text: string): ParsedMetrics {
  const help = new Map<string, string>();
  const types = new Map<string, string>();
  const samples: ParsedSample[] = [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((line, index) => {
    const where = `line ${index + 1}`;
    if (line.startsWith('# HELP ')) {
      const m = /^# HELP (\S+) ?(.*)$/.exec(line);
      if (!m || !METRIC_NAME.test(m[1]!)) throw new Error(`${where}: malformed HELP`);
      help.set(m[1]!, m[2]!.replace(/\\(\\|n)/g, (_, c: string) => (c === 'n' ? '\n' : '\\')));
      return;
    }
    if (line.startsWith('# TYPE ')) {
      const m = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
      if (!m || !METRIC_NAME.test(m[1]!)) throw new Error(`${where}: malformed TYPE`);
      if (types.has(m[1]!)) throw new Error(`${where}: second TYPE for ${m[1]}`);
      types.set(m[1]!, m[2]!);
      return;
    }
    if (line.startsWith('#') || line.trim() === '') return;
    const m = SAMPLE_LINE.exec(line);
    if (!m) throw new Error(`${where}: malformed sample '${line}'`);
    const labels: Record<string, string> = {};
    const body = m[2] ?? '';
    LABEL_PAIR.lastIndex = 0;
    while (LABEL_PAIR.lastIndex < body.length) {
      const start = LABEL_PAIR.lastIndex;
      const pair = LABEL_PAIR.exec(body);
      if (!pair || pair.index !== start) throw new Error(`${where}: malformed labels '${body}'`);
      if (pair[1]! in labels) throw new Error(`${where}: label ${pair[1]} twice`);
      labels[pair[1]!] = pair[2]!.replace(/\\(\\|"|n)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    const raw = m[3]!;
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : raw === 'NaN' ? NaN : Number(raw);
    if (Number.isNaN(value) && raw !== 'NaN') throw new Error(`${where}: value '${raw}' is not a number`);
    samples.push({ name: m[1]!, labels, value });
  });
  return { help, types, samples };
}
