/**
 * The proxy's YAML configuration: who may bind (ESME accounts), how the proxy binds upstream, and
 * what each verdict answers. Read with the rule files' located parser, so every mistake is
 * reported as `file:line:column: field: what was expected`.
 *
 * ```yaml
 * upstream:
 *   system_id: spamgate          # the proxy's own account at the SMSC
 *   password: upstream-secret
 *   enquire_link_seconds: 30
 *   response_timeout_seconds: 30
 * esmes:
 *   - system_id: shop
 *     password: s3cret
 *     window: 100                # submits awaiting an answer, per bind
 *     rate: 500                  # submits per second for this system_id (0: no limit)
 *     mo_addresses: ["87121", "+4477009001*"]   # deliver_sm to these go to this ESME
 * actions:
 *   block_status: 0x45           # ESME_RSUBMITFAIL
 *   quarantine_status: 0         # 0: ESME_ROK with a proxy message id
 * concat:
 *   timeout_seconds: 30
 *   max_pending: 10000
 * ```
 */
import { readFileSync } from 'node:fs';
import { formatProblem, parseSource, ProblemError, type Field, type RuleProblem } from '../rules/source.js';
import type { Gsm7Packing } from './codec.js';

export interface EsmeAccount {
  readonly systemId: string;
  readonly password: string;
  /** Most submits awaiting an answer per bind; beyond it ESME_RTHROTTLED. */
  readonly window: number;
  /** Submits per second across this system_id's binds; 0 = unlimited. */
  readonly rate: number;
  /** Most simultaneous binds for this system_id. */
  readonly maxBinds: number;
  /** Destination address patterns (exact, or ending in `*`) whose mobile-originated messages go to this ESME. */
  readonly moAddresses: readonly string[];
}

export interface UpstreamConfig {
  readonly systemId: string;
  readonly password: string;
  readonly systemType: string;
  readonly enquireLinkMs: number;
  readonly responseTimeoutMs: number;
  readonly reconnectInitialMs: number;
  readonly reconnectMaxMs: number;
}

export interface ActionConfig {
  /** Status answered for every part of a blocked message. */
  readonly blockStatus: number;
  /** 0: ESME_ROK with a proxy-generated message id; otherwise this error. */
  readonly quarantineStatus: number;
  /** Mark forwarded messages the filter tagged with this TLV (vendor range 0x1400–0x3FFF), holding the score; absent: unmarked. */
  readonly tagTlv?: number;
  /** deliver_sm_resp status to the SMSC for a blocked mobile-originated message. */
  readonly moBlockStatus: number;
  /** Status for new submits while the SMSC link is down. */
  readonly upstreamDownStatus: number;
}

export interface ProxyConfig {
  readonly upstream: UpstreamConfig;
  readonly esmes: readonly EsmeAccount[];
  readonly actions: ActionConfig;
  readonly concat: { readonly timeoutMs: number; readonly maxPending: number };
  readonly decoding: { readonly gsm7: Gsm7Packing; readonly dataCoding1: 'ia5' | 'gsm7' };
  /** The system_id the proxy answers binds with. */
  readonly systemId: string;
}

const ESME_RSUBMITFAIL = 0x45;
const ESME_RX_P_APPN = 0x65;
const ESME_RTHROTTLED = 0x58;

function cstring(field: Field, max: number, allowEmpty = false): string {
  const v = allowEmpty && field.value === '' ? '' : field.text();
  if (v.length > max) field.fail(`at most ${max} characters (SMPP C-Octet String), got ${v.length}`);
  if (!/^[\x20-\x7e]*$/.test(v)) field.fail('printable ASCII only');
  return v;
}

function status(field: Field): number {
  return field.number(0, 0xffffffff);
}

function seconds(field: Field | undefined, fallback: number, min = 0.001, max = 86_400): number {
  return field ? Math.round(field.number(min, max) * 1000) : fallback;
}

function parseEsme(field: Field): EsmeAccount {
  const f = field.fields(['system_id', 'password', 'window', 'rate', 'max_binds', 'mo_addresses']);
  const systemId = f.get('system_id') ?? field.fail("missing 'system_id'");
  const password = f.get('password') ?? field.fail("missing 'password'");
  const mo = f.get('mo_addresses');
  return {
    systemId: cstring(systemId, 15),
    password: cstring(password, 8),
    window: f.get('window')?.number(1, 100_000) ?? 100,
    rate: f.get('rate')?.number(0, 1_000_000) ?? 0,
    maxBinds: f.get('max_binds')?.number(1, 1000) ?? 10,
    moAddresses: mo ? mo.items().map((i) => cstring(i, 21)) : [],
  };
}

/** Parse configuration text; throws ProxyConfigError listing every problem with its place. */
export function parseProxyConfig(text: string, file: string): ProxyConfig {
  const { root, problems } = parseSource(text, file);
  if (problems.length) throw new ProxyConfigError(problems);
  const all: RuleProblem[] = [];
  const attempt = <T>(fn: () => T, fallback: T): T => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof ProblemError) {
        all.push(err.problem);
        return fallback;
      }
      throw err;
    }
  };
  if (!root.isMap()) throw new ProxyConfigError([root.problem('expected a mapping with upstream, esmes, actions')]);
  const top = attempt(() => root.fields(['system_id', 'upstream', 'esmes', 'actions', 'concat', 'decoding']), new Map<string, Field>());

  const upstream = attempt((): UpstreamConfig => {
    const field = top.get('upstream') ?? root.fail("missing 'upstream' (the proxy's account at the SMSC)");
    const f = field.fields(['system_id', 'password', 'system_type', 'enquire_link_seconds', 'response_timeout_seconds', 'reconnect_initial_seconds', 'reconnect_max_seconds']);
    return {
      systemId: cstring(f.get('system_id') ?? field.fail("missing 'system_id'"), 15),
      password: cstring(f.get('password') ?? field.fail("missing 'password'"), 8),
      systemType: f.get('system_type') ? cstring(f.get('system_type')!, 12, true) : '',
      enquireLinkMs: seconds(f.get('enquire_link_seconds'), 30_000),
      responseTimeoutMs: seconds(f.get('response_timeout_seconds'), 30_000),
      reconnectInitialMs: seconds(f.get('reconnect_initial_seconds'), 500),
      reconnectMaxMs: seconds(f.get('reconnect_max_seconds'), 30_000),
    };
  }, undefined);

  const esmes: EsmeAccount[] = [];
  attempt(() => {
    const field = top.get('esmes') ?? root.fail("missing 'esmes' (the accounts that may bind)");
    const seen = new Set<string>();
    for (const item of field.items()) {
      const esme = attempt(() => parseEsme(item), undefined);
      if (!esme) continue;
      if (seen.has(esme.systemId)) all.push(item.problem(`system_id '${esme.systemId}' defined twice`));
      seen.add(esme.systemId);
      esmes.push(esme);
    }
  }, undefined);

  const actions = attempt((): ActionConfig => {
    const field = top.get('actions');
    const f = field ? field.fields(['block_status', 'quarantine_status', 'tag_tlv', 'mo_block_status', 'upstream_down_status']) : new Map<string, Field>();
    const tag = f.get('tag_tlv');
    const tagTlv = tag ? tag.number(0x1400, 0x3fff) : undefined;
    const base = {
      blockStatus: f.get('block_status') ? status(f.get('block_status')!) : ESME_RSUBMITFAIL,
      quarantineStatus: f.get('quarantine_status') ? status(f.get('quarantine_status')!) : 0,
      moBlockStatus: f.get('mo_block_status') ? status(f.get('mo_block_status')!) : ESME_RX_P_APPN,
      upstreamDownStatus: f.get('upstream_down_status') ? status(f.get('upstream_down_status')!) : ESME_RTHROTTLED,
    };
    if (base.blockStatus === 0) f.get('block_status')!.fail('a blocked message must be refused with an error status, not 0');
    if (base.upstreamDownStatus === 0) f.get('upstream_down_status')!.fail('must be an error status: nothing is acknowledged that was not forwarded');
    return tagTlv === undefined ? base : { ...base, tagTlv };
  }, undefined);

  const concat = attempt(() => {
    const field = top.get('concat');
    const f = field ? field.fields(['timeout_seconds', 'max_pending']) : new Map<string, Field>();
    return { timeoutMs: seconds(f.get('timeout_seconds'), 30_000, 0.01, 3600), maxPending: f.get('max_pending')?.number(1, 10_000_000) ?? 10_000 };
  }, undefined);

  const decoding = attempt(() => {
    const field = top.get('decoding');
    const f = field ? field.fields(['gsm7', 'data_coding_1']) : new Map<string, Field>();
    return {
      gsm7: f.get('gsm7')?.oneOf(['auto', 'packed', 'unpacked'] as const) ?? 'auto',
      dataCoding1: f.get('data_coding_1')?.oneOf(['ia5', 'gsm7'] as const) ?? 'ia5',
    };
  }, undefined);

  const systemId = attempt(() => (top.get('system_id') ? cstring(top.get('system_id')!, 15) : 'spamgate'), 'spamgate');

  if (all.length || !upstream || !actions || !concat || !decoding) throw new ProxyConfigError(all);
  return { upstream, esmes, actions, concat, decoding, systemId };
}

/** Everything wrong with a config file, each problem as file:line:column. */
export class ProxyConfigError extends Error {
  constructor(readonly problems: readonly RuleProblem[]) {
    super(`${problems.length} problem${problems.length === 1 ? '' : 's'} in the SMPP proxy config:\n` + problems.map((p) => '  ' + formatProblem(p)).join('\n'));
    this.name = 'ProxyConfigError';
  }
}

export class ConfigReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigReadError';
  }
}

export function loadProxyConfig(file: string): ProxyConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigReadError(`cannot read config ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseProxyConfig(text, file);
}
