/**
 * Volume and campaign kinds (X.1231): what one message cannot show, the traffic around it does.
 *   rate                 { per: sender|source|recipient, min, window }   messages per key
 *   distinct_recipients  { per: sender|source, min, window }             bulk senders
 *   campaign             { min_recipients, min_senders?, window }        near-identical texts
 *
 * Counting is separate from matching. Each kind declares a counter (kind, key, window) in the
 * rule set's VolumePlan; rules that declare the same counter share it. Before any rule is
 * evaluated, the plan observes the message once in every counter (so a message is counted
 * exactly once, whichever rules the compiler gates out), and conditions only compare the
 * observed numbers with their thresholds. A rule set without volume rules has no plan and pays
 * nothing. Counters live in a VolumeStore owned by the engine, so they outlive a rule reload.
 */
import type { Message } from '../../message/types.js';
import type { TextAnalysis } from '../../text/analysis.js';
import { campaignBands } from '../fingerprint.js';
import type { Field } from '../source.js';
import { keyHash, MemoryVolumeStore, type CounterSpec, type VolumeStore } from '../volume-store.js';
import type { ConditionKind } from './types.js';

export const MAX_WINDOW_MS = 24 * 3600_000;
const MIN_WINDOW_MS = 1000;
const UNITS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3600_000 };
const DURATION = /^(\d{1,6})\s*(s|m|h)$/;
/** Distinct counts keep up to this many members per key: the bound on a threshold. */
export const MAX_DISTINCT_THRESHOLD = 10_000;
const MAX_RATE_THRESHOLD = 10_000_000;

export function formatWindow(ms: number): string {
  if (ms % 3600_000 === 0) return `${ms / 3600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms / 1000}s`;
}

/** `30s`, `10m`, `1h` (1 second to 24 hours). */
export function parseWindow(field: Field): number {
  const raw = field.value;
  const m = typeof raw === 'string' ? DURATION.exec(raw.trim()) : null;
  if (m === null) field.fail(`expected a window such as 30s, 10m or 1h, got ${JSON.stringify(raw)}`);
  const ms = Number(m[1]) * UNITS[m[2]!]!;
  if (ms < MIN_WINDOW_MS || ms > MAX_WINDOW_MS) field.fail(`window ${raw} is out of range: from 1s to 24h`);
  return ms;
}

function threshold(field: Field | undefined, parent: Field, key: string, max: number): number {
  if (field === undefined) return parent.fail(`expected '${key}': the count at which the rule fires`);
  const n = field.number(2, max);
  if (!Number.isInteger(n)) field.fail(`expected a whole number, got ${n}`);
  return n;
}

type Per = 'sender' | 'source' | 'recipient';

const PER_LABEL: Readonly<Record<Per, string>> = { sender: 'sender', source: 'client', recipient: 'recipient' };

/** The key a message is counted under; '' (not counted) when the message does not say. */
function keyOf(message: Message, per: Per): string {
  if (per === 'sender') return message.from.value;
  if (per === 'recipient') return message.to.value;
  return message.source ?? '';
}

function short(value: string): string {
  return value.length > 12 ? value.slice(0, 11) + '…' : value;
}

/** How a counter reads a message; counters with the same name are the same counter. */
interface CounterDef extends CounterSpec {
  observe(keys: MessageKeys, store: VolumeStore, spec: CounterSpec): number;
}

/**
 * The current message's keys as store hashes, each computed at most once per check however
 * many counters read it (the sender for a rate and a recipients counter, say), and the campaign
 * bands only if a campaign counter asks. 0 means the message does not say.
 */
class MessageKeys {
  message!: Message;
  private analysis!: TextAnalysis;
  private from = -1;
  private to = -1;
  private source = -1;
  private bands: Float64Array | null | undefined;

  reset(message: Message, analysis: TextAnalysis): void {
    this.message = message;
    this.analysis = analysis;
    this.from = -1;
    this.to = -1;
    this.source = -1;
    this.bands = undefined;
  }

  key(per: Per): number {
    if (per === 'sender') return this.from < 0 ? (this.from = hashOf(this.message.from.value)) : this.from;
    if (per === 'recipient') return this.to < 0 ? (this.to = hashOf(this.message.to.value)) : this.to;
    return this.source < 0 ? (this.source = hashOf(this.message.source ?? '')) : this.source;
  }

  campaignBands(): Float64Array | null {
    if (this.bands === undefined) this.bands = campaignBands(this.analysis);
    return this.bands;
  }
}

function hashOf(value: string): number {
  return value === '' ? 0 : keyHash(value);
}

function rateCounter(per: Per, windowMs: number): CounterDef {
  return {
    name: `rate:${per}:${windowMs}`, windowMs, cap: 0,
    observe(keys, store, spec) {
      const key = keys.key(per);
      return key === 0 ? 0 : store.countHashed(spec, key, keys.message.time);
    },
  };
}

function recipientsCounter(per: Per, windowMs: number): CounterDef {
  return {
    name: `recipients:${per}:${windowMs}`, windowMs, cap: 0,
    observe(keys, store, spec) {
      const key = keys.key(per);
      const to = keys.key('recipient');
      return key === 0 || to === 0 ? 0 : store.distinctHashed(spec, key, to, keys.message.time);
    },
  };
}

function campaignCounter(member: 'recipients' | 'senders', windowMs: number): CounterDef {
  const per: Per = member === 'recipients' ? 'recipient' : 'sender';
  return {
    name: `campaign-${member}:${windowMs}`, windowMs, cap: 0,
    observe(keys, store, spec) {
      const m = keys.key(per);
      if (m === 0) return 0;
      const bands = keys.campaignBands();
      if (bands === null) return 0;
      return store.distinctMaxHashed(spec, bands, m, keys.message.time);
    },
  };
}

/** Counters of one rule set, and the numbers observed for the message being checked. */
export class VolumePlan {
  readonly counters: readonly CounterSpec[];
  readonly names: ReadonlySet<string>;
  private readonly values: Float64Array;
  private readonly keys = new MessageKeys();
  private ownStore: VolumeStore | undefined;

  constructor(private readonly defs: readonly CounterDef[]) {
    this.counters = defs.map((d) => ({ name: d.name, windowMs: d.windowMs, cap: d.cap }));
    this.names = new Set(defs.map((d) => d.name));
    this.values = new Float64Array(defs.length);
  }

  /**
   * Count the message once in every counter; conditions then read `value`. Without a store
   * (rule statistics, tools) the set counts in a store of its own.
   */
  observe(message: Message, analysis: TextAnalysis, store?: VolumeStore): void {
    const s = store ?? (this.ownStore ??= new MemoryVolumeStore());
    const keys = this.keys; // checks are synchronous: one scratch per plan
    keys.reset(message, analysis);
    for (let i = 0; i < this.defs.length; i++) this.values[i] = this.defs[i]!.observe(keys, s, this.counters[i]!);
  }

  /** The number counter `index` observed for the current message. */
  value(index: number): number {
    return this.values[index]!;
  }
}

/** Collects the counters rules declare while a rule set compiles. */
export class VolumePlanBuilder {
  private readonly defs: CounterDef[] = [];
  private readonly byName = new Map<string, number>();
  /** Conditions compiled so far that read a counter (the compiler marks volume rules by it). */
  uses = 0;

  add(def: CounterDef, cap: number): number {
    this.uses++;
    let index = this.byName.get(def.name);
    if (index === undefined) {
      index = this.defs.length;
      this.byName.set(def.name, index);
      this.defs.push({ ...def, cap });
    } else if (cap > this.defs[index]!.cap) {
      this.defs[index] = { ...this.defs[index]!, cap };
    }
    return index;
  }

  build(): VolumePlan | undefined {
    return this.defs.length === 0 ? undefined : new VolumePlan(this.defs);
  }
}

/** `{ per, min, window }`, shared by the per-key kinds. */
function perKey<P extends Per>(field: Field, pers: readonly P[], maxMin: number, example: string): { per: P; min: number; windowMs: number } {
  const f = field.fields(['per', 'min', 'window']);
  const per = f.get('per')?.oneOf(pers) ?? pers[0]!;
  const min = threshold(f.get('min'), field, 'min', maxMin);
  const windowMs = parseWindow(f.get('window') ?? field.fail(`expected 'window', e.g. ${example}`));
  return { per, min, windowMs };
}

const rate: ConditionKind = {
  key: 'rate',
  summary: 'at least min messages from one sender, client (source: ESME system_id, API token) or to one recipient within a window: { per: sender|source|recipient, min: N, window: 1m } (depends on traffic seen before)',
  compile(field, ctx) {
    const { per, min, windowMs } = perKey(field, ['sender', 'source', 'recipient'] as const, MAX_RATE_THRESHOLD, '1m');
    const counter = ctx.volume.add(rateCounter(per, windowMs), min);
    const window = formatWindow(windowMs);
    return {
      test: (c) => {
        const n = c.volumeCount(counter);
        if (n < min) return null;
        return `${PER_LABEL[per]} ${short(keyOf(c.message, per))} ${per === 'recipient' ? 'received' : 'sent'} ${n} messages in ${window} (≥ ${min})`;
      },
    };
  },
};

const distinctRecipients: ConditionKind = {
  key: 'distinct_recipients',
  summary: `at least min different recipients from one sender or client within a window: { per: sender|source, min: N (≤ ${MAX_DISTINCT_THRESHOLD}), window: 10m } (depends on traffic seen before)`,
  compile(field, ctx) {
    const { per, min, windowMs } = perKey(field, ['sender', 'source'] as const, MAX_DISTINCT_THRESHOLD, '10m');
    const counter = ctx.volume.add(recipientsCounter(per, windowMs), min);
    const window = formatWindow(windowMs);
    return {
      test: (c) => {
        const n = c.volumeCount(counter);
        return n < min ? null : `${PER_LABEL[per]} ${short(keyOf(c.message, per))} wrote to ${n} recipients in ${window} (≥ ${min})`;
      },
    };
  },
};

const campaign: ConditionKind = {
  key: 'campaign',
  summary: `the same or a near-identical text (names, numbers, links changed) went to at least min_recipients recipients, from any senders, within a window: { min_recipients: N, min_senders: N (optional), window: 1h }; texts under 5 distinct words never match (depends on traffic seen before)`,
  compile(field, ctx) {
    const f = field.fields(['min_recipients', 'min_senders', 'window']);
    const minRecipients = threshold(f.get('min_recipients'), field, 'min_recipients', MAX_DISTINCT_THRESHOLD);
    const sendersField = f.get('min_senders');
    const minSenders = sendersField === undefined ? 0 : threshold(sendersField, field, 'min_senders', MAX_DISTINCT_THRESHOLD);
    const windowMs = parseWindow(f.get('window') ?? field.fail("expected 'window', e.g. 1h"));
    const recipients = ctx.volume.add(campaignCounter('recipients', windowMs), minRecipients);
    const senders = minSenders > 0 ? ctx.volume.add(campaignCounter('senders', windowMs), minSenders) : -1;
    const window = formatWindow(windowMs);
    return {
      test: (c) => {
        const r = c.volumeCount(recipients);
        if (r < minRecipients) return null;
        if (senders < 0) return `near-identical text to ${r} recipients in ${window} (≥ ${minRecipients})`;
        const s = c.volumeCount(senders);
        return s < minSenders ? null : `near-identical text to ${r} recipients from ${s} senders in ${window} (≥ ${minRecipients}, ≥ ${minSenders})`;
      },
    };
  },
};

export const VOLUME_CONDITIONS: readonly ConditionKind[] = [rate, distinctRecipients, campaign];
