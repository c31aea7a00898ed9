/**
 * The SMPP filtering proxy: ESMEs bind to it as if it were the SMSC; it binds to the real SMSC
 * and decides every message before it goes on.
 *
 *   submit_sm (ESME → SMSC): decode the text, reassemble concatenated parts, ask the filter
 *     (`SubscriberService.process`), then forward (deliver, tag) and relay the SMSC's
 *     submit_sm_resp with its message id, or answer the ESME itself (block: an error status;
 *     quarantine: stored in the spam box by the filter, then ESME_ROK with a proxy message id or
 *     a configured error). Every part of a concatenated message gets the same fate.
 *   deliver_sm (SMSC → ESME): receipts pass untouched to the ESME that submitted the message;
 *     mobile-originated messages are filtered the same way and relayed to the bound receiver
 *     whose `mo_addresses` match, and its deliver_sm_resp goes back to the SMSC.
 *
 * The invariant the tests count: every submit the proxy reads is answered exactly once, and an
 * ESME_ROK means the SMSC accepted it (its message id) or the spam box holds it (a proxy id).
 * No filter logic lives here: the adapter only turns PDUs into `MessageInput` and verdicts into
 * PDUs.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { pino, type Logger } from 'pino';
import type { MessageInput } from '../message/types.js';
import type { CommandResult, ProcessResult } from '../service/types.js';
import { MetricsRegistry, type Counter, type Gauge, type Histogram } from '../server/metrics.js';
import { decodeShortMessage, encodeShortMessage, isGsm7, type ConcatInfo } from './codec.js';
import { isMultipart, Reassembler, type SegmentSet } from './concat.js';
import type { EsmeAccount, ProxyConfig } from './config.js';
import { Upstream, type UpstreamState } from './upstream.js';
import { CMD, decodeFrame, encodePdu, ESME, PduDecodeError, PduLink, isResponse, readMessageFields, respMessageId, withSequence, withTlv, type Frame, type MessageFields } from './wire.js';
import type { PDU } from 'smpp';

/** What the proxy needs from the subscriber service. */
export interface MessageFilter {
  process(input: MessageInput): ProcessResult;
  /** Pick up changes other processes wrote (the CLI); called about twice a second. */
  refresh?(): number;
}

export interface ProxyOptions {
  readonly config: ProxyConfig;
  readonly filter: MessageFilter;
  readonly upstream: { readonly host: string; readonly port: number };
  readonly listen?: { readonly host?: string; readonly port?: number };
  /** Forward a message the filter failed on (default: refuse it with ESME_RSYSERR, a temporary error). */
  readonly failOpen?: boolean;
  readonly logger?: Logger;
  readonly metrics?: MetricsRegistry;
  /** Put message text in debug logs (off by default: privacy). */
  readonly logText?: boolean;
  /** How often to call `filter.refresh()`; 0 turns it off. Default 500 ms. */
  readonly refreshIntervalMs?: number;
  /** How long close() waits for in-flight messages to be answered. Default 5 s. */
  readonly drainMs?: number;
  /** How long an ESME has to answer a deliver_sm before the SMSC is told to retry. Default 30 s. */
  readonly esmeResponseTimeoutMs?: number;
}

type BindType = 'transmitter' | 'receiver' | 'transceiver';
type Direction = 'mt' | 'mo';

const BIND_TYPES: Readonly<Record<number, BindType>> = {
  [CMD.bind_transmitter]: 'transmitter',
  [CMD.bind_receiver]: 'receiver',
  [CMD.bind_transceiver]: 'transceiver',
};

/** esm_class bits 2–5: delivery receipt, SME/user acknowledgement, intermediate notification. */
const ESM_MESSAGE_TYPE_MASK = 0x3c;
const ESM_UDHI = 0x40;
const MAX_OWNER_IDS = 200_000;

class EsmeSession {
  account: EsmeAccount | undefined;
  bindType: BindType | undefined;
  /** Submits read and not yet answered. */
  outstanding = 0;
  unbindSeq: number | undefined;
  draining = false;
  /** deliver_sm sent to this ESME: our sequence → the SMSC's request. */
  readonly delivering = new Map<number, { readonly smscSeq: number; readonly generation: number; readonly deadline: number }>();
  closed = false;

  constructor(
    readonly id: number,
    readonly link: PduLink,
    readonly remote: string,
  ) {}

  get canTransmit(): boolean {
    return this.bindType === 'transmitter' || this.bindType === 'transceiver';
  }

  get canReceive(): boolean {
    return this.bindType === 'receiver' || this.bindType === 'transceiver';
  }
}

interface MtPart {
  readonly session: EsmeSession;
  readonly seq: number;
  readonly buffer: Buffer;
  /** registered_delivery asks for a receipt or acknowledgement: remember who sent it, to route the receipt. */
  readonly wantsReceipt: boolean;
}

interface MoPart {
  readonly smscSeq: number;
  readonly generation: number;
  readonly buffer: Buffer;
}

interface Message {
  readonly from: string;
  readonly to: string;
  readonly text: string;
  readonly systemId: string;
}

interface Bucket {
  tokens: number;
  last: number;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Constant-time password check: both sides hashed to equal length, compared with timingSafeEqual. */
export function passwordMatches(expected: string, given: string): boolean {
  return timingSafeEqual(digest(expected), digest(given));
}

function matchesAddress(pattern: string, address: string): boolean {
  return pattern.endsWith('*') ? address.startsWith(pattern.slice(0, -1)) : pattern === address;
}

function asString(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** Concatenation info from the UDH, else from the SAR TLVs. */
function concatOf(f: MessageFields, udhConcat: ConcatInfo | undefined): ConcatInfo | undefined {
  if (udhConcat) return udhConcat;
  if (f.sarRef !== undefined && f.sarTotal !== undefined && f.sarSeq !== undefined) {
    return { reference: f.sarRef, total: f.sarTotal, seq: f.sarSeq, referenceBits: 16 };
  }
  return undefined;
}

/** The id a receipt refers to: the receipted_message_id TLV, else `id:` in the receipt text (SMPP v3.4 Appendix B). */
function receiptId(f: MessageFields): string | undefined {
  if (f.receiptedMessageId) return f.receiptedMessageId;
  const m = /(?:^|\s)id:(\S{1,65})/.exec(f.shortMessage.toString('latin1'));
  return m?.[1];
}

interface ProxyMetrics {
  readonly binds: Gauge;
  readonly bindAttempts: Counter;
  readonly messagesIn: Counter;
  readonly messagesOut: Counter;
  readonly latency: Histogram;
  readonly upstreamErrors: Counter;
  readonly upstreamReconnects: Counter;
  readonly upstreamUp: Gauge;
  readonly filterErrors: Counter;
}

function registerMetrics(registry: MetricsRegistry): ProxyMetrics {
  return {
    binds: registry.gauge('spamgate_smpp_binds', 'ESME binds open now, by bind type', ['type']),
    bindAttempts: registry.counter('spamgate_smpp_bind_attempts_total', 'ESME bind attempts by result', ['result']),
    messagesIn: registry.counter('spamgate_smpp_messages_in_total', 'PDUs carrying messages received: mt (submit_sm), mo (deliver_sm), receipt', ['direction']),
    messagesOut: registry.counter(
      'spamgate_smpp_messages_out_total',
      'Message parts by direction and what the proxy did: forwarded, tagged, quarantined, blocked, throttled, upstream_unavailable, filter_error, no_receiver',
      ['direction', 'outcome'],
    ),
    latency: registry.histogram('spamgate_smpp_added_latency_seconds', 'Time the proxy adds: from reading a PDU (or completing a concatenated set) to forwarding or answering it', ['direction'], {
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.1, 1],
    }),
    upstreamErrors: registry.counter('spamgate_smpp_upstream_errors_total', 'SMSC link problems by kind: connect, bind, timeout, disconnect, protocol', ['kind']),
    upstreamReconnects: registry.counter('spamgate_smpp_upstream_reconnects_total', 'Reconnection attempts to the SMSC'),
    upstreamUp: registry.gauge('spamgate_smpp_upstream_bound', '1 while bound to the SMSC'),
    filterErrors: registry.counter('spamgate_smpp_filter_errors_total', 'Messages the filter threw on, by what the proxy did (forwarded: fail-open; refused: fail-closed)', ['handling']),
  };
}

export class SmppProxy {
  readonly metrics: MetricsRegistry;
  private readonly m: ProxyMetrics;
  private readonly log: Logger;
  private readonly server: Server;
  private readonly upstream: Upstream;
  private readonly sessions = new Set<EsmeSession>();
  private readonly accounts: Map<string, EsmeAccount>;
  private readonly buckets = new Map<string, Bucket>();
  /** SMSC message id → system_id of the ESME that submitted it, to route receipts (bounded, oldest out). */
  private readonly owners = new Map<string, string>();
  private readonly mt: Reassembler<MtPart>;
  private readonly mo: Reassembler<MoPart>;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly roundRobin = new Map<string, number>();
  private nextSessionId = 1;
  private closing: Promise<void> | undefined;
  private readonly esmeResponseTimeoutMs: number;
  private readonly proxyIds = { next: 1 };

  constructor(private readonly options: ProxyOptions) {
    const { config } = options;
    this.log = options.logger ?? pino({ level: 'silent' });
    this.metrics = options.metrics ?? new MetricsRegistry();
    this.m = registerMetrics(this.metrics);
    this.accounts = new Map(config.esmes.map((a) => [a.systemId, a]));
    this.esmeResponseTimeoutMs = options.esmeResponseTimeoutMs ?? 30_000;
    this.mt = new Reassembler<MtPart>({ timeoutMs: config.concat.timeoutMs, maxPendingSets: config.concat.maxPending }, (set) => this.judgeMt(set.parts.map((p) => p.item), this.messageOf(set, 'mt'), performance.now()));
    this.mo = new Reassembler<MoPart>({ timeoutMs: config.concat.timeoutMs, maxPendingSets: config.concat.maxPending }, (set) => this.judgeMo(set.parts.map((p) => p.item), this.messageOf(set, 'mo'), performance.now()));
    const pendingGauge = this.metrics.gauge('spamgate_smpp_concat_pending_parts', 'Parts of concatenated messages waiting for their siblings');
    this.metrics.onCollect(() => pendingGauge.set(undefined, this.mt.pendingParts + this.mo.pendingParts));
    this.upstream = new Upstream(options.upstream.host, options.upstream.port, config.upstream, {
      onRequest: (frame) => this.onSmscRequest(frame),
      onStateChange: (state) => this.onUpstreamState(state),
      onError: (kind, detail) => {
        this.m.upstreamErrors.inc({ kind });
        this.log.warn({ kind, detail }, 'SMSC link problem');
      },
    }, this.log);
    this.server = createServer((socket) => this.onConnection(socket));
    // Bounded connections: every account's binds twice over, and room for a few waiting to bind.
    this.server.maxConnections = Math.max(64, 2 * config.esmes.reduce((n, a) => n + a.maxBinds, 0));
  }

  /** Start listening and binding upstream; resolves with the port ESMEs connect to. */
  async start(): Promise<number> {
    const { host = '127.0.0.1', port = 2775 } = this.options.listen ?? {};
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.upstream.start();
    const refreshMs = this.options.refreshIntervalMs ?? 500;
    if (refreshMs > 0 && this.options.filter.refresh) {
      const refresh = this.options.filter.refresh.bind(this.options.filter);
      this.timers.push(setInterval(() => {
        try {
          const changed = refresh();
          if (changed) this.log.info({ changed }, 'subscriber rules refreshed');
        } catch (err) {
          this.log.error({ err: (err as Error).message }, 'subscriber refresh failed; keeping the rules in force');
        }
      }, refreshMs));
    }
    this.timers.push(setInterval(() => this.sweepDeliveries(), 250));
    for (const t of this.timers) t.unref();
    return this.port;
  }

  get port(): number {
    return (this.server.address() as AddressInfo | null)?.port ?? 0;
  }

  get upstreamState(): UpstreamState {
    return this.upstream.state;
  }

  /** Submits read from ESMEs and not yet answered, across all binds. */
  get outstanding(): number {
    let n = 0;
    for (const s of this.sessions) n += s.outstanding;
    return n;
  }

  /**
   * Stop: refuse new submits with a temporary error, judge waiting concatenated parts on what
   * arrived, wait (up to `drainMs`) for the SMSC to answer what was forwarded, then unbind both sides.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.server.close();
    for (const s of this.sessions) s.draining = true;
    this.mt.flushAll('closed');
    this.mo.flushAll('closed');
    const deadline = Date.now() + (this.options.drainMs ?? 5000);
    while (this.outstanding > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    for (const s of this.sessions) {
      if (s.link.isOpen) s.link.sendPdu('unbind', { sequence_number: s.link.nextSeq() });
      s.link.end();
    }
    await this.upstream.close();
    for (const t of this.timers) clearInterval(t);
    this.mt.close();
    this.mo.close();
    const closeBy = Date.now() + 2000;
    while (this.sessions.size > 0 && Date.now() < closeBy) await new Promise((r) => setTimeout(r, 10));
    for (const s of this.sessions) s.link.destroy();
  }

  // ---- ESME side ----

  private onConnection(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    let session: EsmeSession | undefined = undefined;
    const link = new PduLink(socket, {
      onFrame: (frame) => this.onEsmeFrame(session!, frame),
      onFramingError: (reason) => this.log.warn({ remote, reason }, 'unframeable PDU from ESME; closing'),
      onClose: () => this.onEsmeClose(session!),
    });
    session = new EsmeSession(this.nextSessionId++, link, remote);
    this.sessions.add(session);
    // An ESME that connects and never binds is dropped.
    const bindTimer = setTimeout(() => {
      if (!session!.bindType) link.destroy();
    }, 30_000);
    bindTimer.unref();
    socket.once('close', () => clearTimeout(bindTimer));
  }

  private onEsmeClose(session: EsmeSession): void {
    if (session.closed) return;
    session.closed = true;
    this.sessions.delete(session);
    if (session.bindType) this.m.binds.dec({ type: session.bindType });
    // Waiting parts can no longer be answered: drop them unjudged (the ESME saw no ack and will resend).
    const dropped = this.mt.remove((p) => p.session === session);
    session.outstanding -= dropped.length;
    for (const d of session.delivering.values()) this.answerSmsc(d.smscSeq, d.generation, ESME.ESME_RX_T_APPN);
    session.delivering.clear();
    this.log.info({ session: session.id, systemId: session.account?.systemId, remote: session.remote }, 'ESME disconnected');
  }

  private onEsmeFrame(session: EsmeSession, frame: Frame): void {
    if (isResponse(frame.commandId)) {
      if (frame.commandId === CMD.deliver_sm_resp || frame.commandId === CMD.generic_nack) this.onEsmeDeliverResp(session, frame);
      else if (frame.commandId === CMD.unbind_resp) session.link.end();
      return;
    }
    switch (frame.commandId) {
      case CMD.bind_transmitter:
      case CMD.bind_receiver:
      case CMD.bind_transceiver:
        return this.onBind(session, frame);
      case CMD.enquire_link:
        session.link.sendPdu('enquire_link_resp', { sequence_number: frame.seq });
        return;
      case CMD.unbind:
        session.unbindSeq = frame.seq;
        session.draining = true;
        this.finishUnbind(session);
        setTimeout(() => this.finishUnbind(session, true), 5000).unref();
        return;
      case CMD.submit_sm:
        return this.onSubmit(session, frame);
      case CMD.query_sm:
      case CMD.cancel_sm:
        return this.passThrough(session, frame);
      default:
        // data_sm, submit_multi and replace_sm carry text the filter would not see: refused, never passed.
        session.link.sendPdu('generic_nack', { sequence_number: frame.seq, command_status: session.bindType ? ESME.ESME_RINVCMDID : ESME.ESME_RINVBNDSTS });
    }
  }

  private onBind(session: EsmeSession, frame: Frame): void {
    const type = BIND_TYPES[frame.commandId]!;
    const respond = (status: number): void => {
      session.link.sendPdu(`bind_${type}_resp`, { sequence_number: frame.seq, command_status: status, system_id: this.options.config.systemId });
    };
    if (session.bindType) return respond(ESME.ESME_RALYBND);
    let pdu: PDU;
    try {
      pdu = decodeFrame(frame);
    } catch {
      return respond(ESME.ESME_RBINDFAIL);
    }
    const systemId = asString(pdu.system_id);
    const account = this.accounts.get(systemId);
    // Compare even for an unknown system_id, so timing does not tell which ids exist.
    const ok = passwordMatches(account?.password ?? '\u0000no-such-account', asString(pdu.password)) && account !== undefined;
    const binds = [...this.sessions].filter((s) => s.account?.systemId === systemId).length;
    if (!ok || !account || binds >= account.maxBinds || this.closing) {
      this.m.bindAttempts.inc({ result: 'refused' });
      this.log.warn({ systemId, remote: session.remote, reason: ok ? 'too many binds' : 'bad credentials' }, 'bind refused');
      respond(ESME.ESME_RBINDFAIL);
      session.link.end();
      return;
    }
    session.account = account;
    session.bindType = type;
    this.m.bindAttempts.inc({ result: 'ok' });
    this.m.binds.inc({ type });
    this.log.info({ session: session.id, systemId, type, remote: session.remote }, 'ESME bound');
    respond(ESME.ESME_ROK);
  }

  private finishUnbind(session: EsmeSession, force = false): void {
    if (session.unbindSeq === undefined || session.closed) return;
    if (session.outstanding > 0 && !force) return;
    session.link.sendPdu('unbind_resp', { sequence_number: session.unbindSeq });
    session.unbindSeq = undefined;
    session.link.end();
  }

  /** query_sm and cancel_sm carry no text: relayed to the SMSC as they are, the answer relayed back. */
  private passThrough(session: EsmeSession, frame: Frame): void {
    const command = frame.commandId === CMD.query_sm ? 'query_sm_resp' : 'cancel_sm_resp';
    const seq = frame.seq;
    if (!session.canTransmit) return void session.link.sendPdu(command, { sequence_number: seq, command_status: ESME.ESME_RINVBNDSTS });
    const sent = this.upstream.request(frame.buffer, (resp) => {
      if (resp) session.link.send(withSequence(resp.buffer, seq));
      else session.link.sendPdu(command, { sequence_number: seq, command_status: ESME.ESME_RSYSERR });
    });
    if (!sent) session.link.sendPdu(command, { sequence_number: seq, command_status: this.options.config.actions.upstreamDownStatus });
  }

  // Bound metric children per label combination: a label lookup per message allocates.
  private readonly outChildren = new Map<string, { inc(by?: number): void }>();
  private readonly inChildren = new Map<string, { inc(by?: number): void }>();
  private readonly latencyChildren = new Map<string, { observe(value: number): void }>();

  private countOut(direction: string, outcome: string, by = 1): void {
    const key = `${direction}/${outcome}`;
    let child = this.outChildren.get(key);
    if (!child) this.outChildren.set(key, (child = this.m.messagesOut.labels({ direction, outcome })));
    child.inc(by);
  }

  private countIn(direction: string): void {
    let child = this.inChildren.get(direction);
    if (!child) this.inChildren.set(direction, (child = this.m.messagesIn.labels({ direction })));
    child.inc();
  }

  private observeLatency(direction: Direction, started: number): void {
    let child = this.latencyChildren.get(direction);
    if (!child) this.latencyChildren.set(direction, (child = this.m.latency.labels({ direction })));
    child.observe((performance.now() - started) / 1000);
  }

  private takeToken(account: EsmeAccount): boolean {
    if (account.rate <= 0) return true;
    const now = performance.now();
    let b = this.buckets.get(account.systemId);
    if (!b) {
      b = { tokens: account.rate, last: now };
      this.buckets.set(account.systemId, b);
    }
    b.tokens = Math.min(account.rate, b.tokens + ((now - b.last) / 1000) * account.rate);
    b.last = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  private refuseSubmit(session: EsmeSession, seq: number, status: number, outcome: string): void {
    session.link.sendPdu('submit_sm_resp', { sequence_number: seq, command_status: status });
    this.countOut('mt', outcome);
  }

  private onSubmit(session: EsmeSession, frame: Frame): void {
    const account = session.account;
    if (!account || !session.canTransmit || session.unbindSeq !== undefined) {
      return this.refuseSubmit(session, frame.seq, ESME.ESME_RINVBNDSTS, 'not_bound');
    }
    this.countIn('mt');
    const status = this.options.config.actions.upstreamDownStatus;
    if (session.draining || this.closing) return this.refuseSubmit(session, frame.seq, status, 'upstream_unavailable');
    if (session.outstanding >= account.window || !this.takeToken(account)) return this.refuseSubmit(session, frame.seq, ESME.ESME_RTHROTTLED, 'throttled');
    if (!this.upstream.isBound) return this.refuseSubmit(session, frame.seq, status, 'upstream_unavailable');
    let fields: MessageFields;
    try {
      fields = readMessageFields(frame.buffer);
    } catch (err) {
      this.log.warn({ session: session.id, seq: frame.seq, err: (err as PduDecodeError).message }, 'garbled submit_sm');
      session.link.sendPdu('generic_nack', { sequence_number: frame.seq, command_status: ESME.ESME_RINVCMDLEN });
      return;
    }
    const started = performance.now();
    session.outstanding++;
    const part: MtPart = { session, seq: frame.seq, buffer: frame.buffer, wantsReceipt: (fields.registeredDelivery & 0x1f) !== 0 };
    const from = fields.sourceAddr;
    const to = fields.destinationAddr;
    const { text, info } = this.textOf(fields);
    if (isMultipart(info)) {
      // A waiting part keeps its own copy, not a view pinning the whole socket read.
      const result = this.mt.add(Reassembler.key(account.systemId, from, to, info), info, text, { ...part, buffer: Buffer.from(frame.buffer) });
      if (result.kind === 'complete') this.judgeMt(result.set.parts.map((p) => p.item), { from, to, text: result.set.text, systemId: account.systemId }, performance.now());
      else if (result.kind === 'duplicate') this.answerMt(part, ESME.ESME_RSYSERR, 'duplicate_part', started);
      return;
    }
    this.judgeMt([part], { from, to, text, systemId: account.systemId }, started);
  }

  private textOf(f: MessageFields): { text: string; info: ConcatInfo | undefined } {
    const data = f.messagePayload && f.messagePayload.length > 0 ? f.messagePayload : f.shortMessage;
    const decoded = decodeShortMessage(data, f.dataCoding, {
      udhi: (f.esmClass & ESM_UDHI) !== 0,
      gsm7: this.options.config.decoding.gsm7,
      dataCoding1: this.options.config.decoding.dataCoding1,
    });
    if (decoded.problem) this.log.debug({ problem: decoded.problem }, 'message text partly undecodable');
    return { text: decoded.text, info: concatOf(f, decoded.udh?.concat) };
  }

  private messageOf(set: SegmentSet<MtPart> | SegmentSet<MoPart>, direction: Direction): Message {
    // The key holds scope, source and destination; the parts all share them.
    const [scope = '', from = '', to = ''] = set.key.split('\u0000');
    return { from, to, text: set.text, systemId: direction === 'mt' ? scope : '' };
  }

  /** Ask the filter; undefined when it threw (the caller applies the failure policy). */
  private decide(direction: Direction, msg: Message): ProcessResult | undefined {
    // The ESME's system_id is the message's source for per-client volume rules (MT only: MO has no client).
    const input: MessageInput = { channel: 'sms', from: msg.from, to: msg.to, text: msg.text, time: Date.now(), ...(direction === 'mt' && msg.systemId ? { source: msg.systemId } : {}) };
    try {
      const result = this.options.filter.process(input);
      this.log.debug({ direction, systemId: msg.systemId, from: msg.from, to: msg.to, action: result.verdict.action, outcome: result.outcome, score: result.verdict.score, ...(this.options.logText ? { text: msg.text } : {}) }, 'decision');
      return result;
    } catch (err) {
      this.m.filterErrors.inc({ handling: this.options.failOpen ? 'forwarded' : 'refused' });
      this.log.error({ direction, systemId: msg.systemId, from: msg.from, to: msg.to, err: (err as Error).message }, 'filter failed on a message');
      return undefined;
    }
  }

  private judgeMt(parts: readonly MtPart[], msg: Message, started: number): void {
    if (parts.length === 0) return;
    const live = parts.filter((p) => !p.session.closed);
    if (live.length === 0) return;
    const result = this.decide('mt', msg);
    const actions = this.options.config.actions;
    if (!result) {
      if (this.options.failOpen) this.forwardMt(live, undefined, started, 'filter_error');
      // ESME_RSYSERR: a temporary failure on our side, so a well-behaved ESME retries later.
      else for (const p of live) this.answerMt(p, ESME.ESME_RSYSERR, 'filter_error', started);
      return;
    }
    if (result.command) {
      const id = `SGC${this.proxyIds.next++}`;
      live.forEach((p, i) => this.answerMt(p, ESME.ESME_ROK, 'command', started, live.length > 1 ? `${id}-${i + 1}` : id));
      this.sendCommandReplies(msg.to, msg.from, result.command);
      return;
    }
    switch (result.outcome) {
      case 'deliver':
        this.forwardMt(live, result.verdict.action === 'tag' ? result : undefined, started, result.verdict.action === 'tag' ? 'tagged' : 'forwarded');
        return;
      case 'quarantined': {
        const base = result.spamBoxId !== undefined ? `SGQ${result.spamBoxId}` : `SGQX${this.proxyIds.next++}`;
        live.forEach((p, i) => {
          if (actions.quarantineStatus === 0) this.answerMt(p, ESME.ESME_ROK, 'quarantined', started, live.length > 1 ? `${base}-${i + 1}` : base);
          else this.answerMt(p, actions.quarantineStatus, 'quarantined', started);
        });
        return;
      }
      case 'blocked':
        for (const p of live) this.answerMt(p, actions.blockStatus, 'blocked', started);
        return;
    }
  }

  private forwardMt(parts: readonly MtPart[], tagged: ProcessResult | undefined, started: number, outcome: string): void {
    const tagTlv = this.options.config.actions.tagTlv;
    const mark = tagged && tagTlv !== undefined ? Buffer.from(`score=${tagged.verdict.score}`, 'latin1') : undefined;
    for (const part of parts) {
      const buffer = mark ? withTlv(part.buffer, tagTlv!, mark) : part.buffer;
      const sent = this.upstream.request(buffer, (resp) => {
        const session = part.session;
        session.outstanding--;
        if (resp) {
          if (resp.status === 0 && part.wantsReceipt) this.rememberOwner(respMessageId(resp), session.account?.systemId);
          session.link.send(withSequence(resp.buffer, part.seq));
        } else {
          // Lost with the link or timed out: the SMSC may or may not have it; a temporary error lets the ESME decide.
          session.link.sendPdu('submit_sm_resp', { sequence_number: part.seq, command_status: ESME.ESME_RSYSERR });
          this.countOut('mt', 'upstream_error');
        }
        this.finishUnbind(session);
      });
      if (sent) {
        this.countOut('mt', outcome);
        this.observeLatency('mt', started);
      } else {
        this.answerMt(part, this.options.config.actions.upstreamDownStatus, 'upstream_unavailable', started);
      }
    }
  }

  private answerMt(part: MtPart, status: number, outcome: string, started: number, messageId?: string): void {
    const session = part.session;
    session.outstanding--;
    session.link.sendPdu('submit_sm_resp', { sequence_number: part.seq, command_status: status, ...(messageId ? { message_id: messageId } : {}) });
    this.countOut('mt', outcome);
    this.observeLatency('mt', started);
    this.finishUnbind(session);
  }

  private rememberOwner(messageId: string, systemId: string | undefined): void {
    if (!messageId || !systemId) return;
    this.owners.set(messageId, systemId);
    if (this.owners.size > MAX_OWNER_IDS) this.owners.delete(this.owners.keys().next().value!);
  }

  // ---- SMSC side ----

  private onUpstreamState(state: UpstreamState): void {
    this.m.upstreamUp.set(undefined, state === 'bound' ? 1 : 0);
    if (state === 'down') this.m.upstreamReconnects.inc();
  }

  private answerSmsc(smscSeq: number, generation: number, status: number): void {
    this.upstream.respond(encodePdu('deliver_sm_resp', { sequence_number: smscSeq, command_status: status }), generation);
  }

  private onSmscRequest(frame: Frame): void {
    const generation = this.upstream.generation;
    let fields: MessageFields;
    try {
      fields = readMessageFields(frame.buffer);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'garbled deliver_sm from the SMSC');
      this.upstream.respond(encodePdu('generic_nack', { sequence_number: frame.seq, command_status: ESME.ESME_RINVCMDLEN }), generation);
      return;
    }
    const started = performance.now();
    const part: MoPart = { smscSeq: frame.seq, generation, buffer: frame.buffer };
    const from = fields.sourceAddr;
    const to = fields.destinationAddr;
    if (fields.esmClass & ESM_MESSAGE_TYPE_MASK) {
      // A receipt: never filtered; to the ESME that submitted the message, else by address.
      this.countIn('receipt');
      const id = receiptId(fields);
      const owner = (id && this.owners.get(id)) || this.routeByAddress(to);
      this.relayToEsme(owner, part, 'receipt', started);
      return;
    }
    this.countIn('mo');
    const { text, info } = this.textOf(fields);
    if (isMultipart(info)) {
      const result = this.mo.add(Reassembler.key('', from, to, info), info, text, { ...part, buffer: Buffer.from(frame.buffer) });
      if (result.kind === 'complete') this.judgeMo(result.set.parts.map((p) => p.item), { from, to, text: result.set.text, systemId: '' }, performance.now());
      else if (result.kind === 'duplicate') this.answerSmsc(part.smscSeq, generation, ESME.ESME_RX_T_APPN);
      return;
    }
    this.judgeMo([part], { from, to, text, systemId: '' }, started);
  }

  private routeByAddress(destination: string): string | undefined {
    for (const account of this.accounts.values()) {
      if (account.moAddresses.some((p) => matchesAddress(p, destination))) return account.systemId;
    }
    return undefined;
  }

  private judgeMo(parts: readonly MoPart[], msg: Message, started: number): void {
    if (parts.length === 0) return;
    const owner = this.routeByAddress(msg.to);
    const result = this.decide('mo', { ...msg, systemId: owner ?? '' });
    const count = (outcome: string): void => {
      this.countOut('mo', outcome, parts.length);
      this.observeLatency('mo', started);
    };
    if (!result) {
      if (this.options.failOpen) for (const p of parts) this.relayToEsme(owner, p, 'filter_error', started);
      else {
        // Temporary application error: the SMSC keeps the message and retries.
        for (const p of parts) this.answerSmsc(p.smscSeq, p.generation, ESME.ESME_RX_T_APPN);
        count('filter_error');
      }
      return;
    }
    if (result.command) {
      // A command to the service number (X.1242 §9): executed by the service, consumed here.
      for (const p of parts) this.answerSmsc(p.smscSeq, p.generation, ESME.ESME_ROK);
      count('command');
      this.sendCommandReplies(msg.to, msg.from, result.command);
    } else if (result.outcome === 'deliver') {
      for (const p of parts) this.relayToEsme(owner, p, result.verdict.action === 'tag' ? 'tagged' : 'forwarded', started);
    } else if (result.outcome === 'quarantined') {
      for (const p of parts) this.answerSmsc(p.smscSeq, p.generation, ESME.ESME_ROK);
      count('quarantined');
    } else {
      for (const p of parts) this.answerSmsc(p.smscSeq, p.generation, this.options.config.actions.moBlockStatus);
      count('blocked');
    }
  }

  /**
   * The answer to a subscriber's command, then the messages it released, as submit_sm to the
   * subscriber through the SMSC. Best effort: the command itself is already done and stored; a
   * reply the SMSC refuses or a link that is down is logged and counted, not retried.
   */
  private sendCommandReplies(serviceNumber: string, subscriber: string, command: CommandResult): void {
    const messages = [{ from: serviceNumber, text: command.reply }, ...command.deliver.map((item) => ({ from: item.from, text: item.text }))];
    for (const m of messages) {
      const gsm = isGsm7(m.text);
      const body = encodeShortMessage(m.text, gsm ? 0x00 : 0x08);
      // Longer than one SMS: message_payload (SMPP v3.4 §5.3.2.32) rather than splitting here.
      const text = body.length <= 254 ? { short_message: body } : { short_message: Buffer.alloc(0), message_payload: body };
      const pdu = encodePdu('submit_sm', { sequence_number: 1, source_addr: m.from, destination_addr: subscriber, data_coding: gsm ? 0x00 : 0x08, ...text });
      const sent = this.upstream.request(pdu, (resp) => {
        if (!resp || resp.status !== 0) {
          this.countOut('mt', 'command_reply_failed');
          this.log.warn({ to: subscriber, status: resp?.status }, 'the SMSC did not take a reply to a subscriber command');
        } else this.countOut('mt', 'command_reply');
      });
      if (!sent) {
        this.countOut('mt', 'command_reply_failed');
        this.log.warn({ to: subscriber }, 'SMSC link down: reply to a subscriber command not sent');
      }
    }
  }

  private receiverFor(systemId: string | undefined): EsmeSession | undefined {
    if (!systemId) return undefined;
    const candidates = [...this.sessions].filter((s) => s.account?.systemId === systemId && s.canReceive && !s.draining && !s.closed);
    if (candidates.length === 0) return undefined;
    const i = (this.roundRobin.get(systemId) ?? 0) % candidates.length;
    this.roundRobin.set(systemId, i + 1);
    return candidates[i];
  }

  private relayToEsme(systemId: string | undefined, part: MoPart, outcome: string, started: number): void {
    const direction = outcome === 'receipt' ? 'receipt' : 'mo';
    const session = this.receiverFor(systemId);
    if (!session) {
      // Nobody bound to take it: the SMSC keeps it and retries.
      this.answerSmsc(part.smscSeq, part.generation, ESME.ESME_RX_T_APPN);
      this.countOut(direction, 'no_receiver');
      return;
    }
    let seq = session.link.nextSeq();
    while (session.delivering.has(seq)) seq = session.link.nextSeq();
    session.delivering.set(seq, { smscSeq: part.smscSeq, generation: part.generation, deadline: Date.now() + this.esmeResponseTimeoutMs });
    session.link.send(withSequence(part.buffer, seq));
    this.countOut(direction, outcome);
    this.observeLatency('mo', started);
  }

  private onEsmeDeliverResp(session: EsmeSession, frame: Frame): void {
    const d = session.delivering.get(frame.seq);
    if (!d) return;
    session.delivering.delete(frame.seq);
    if (frame.commandId === CMD.generic_nack) this.answerSmsc(d.smscSeq, d.generation, ESME.ESME_RX_T_APPN);
    else this.upstream.respond(withSequence(frame.buffer, d.smscSeq), d.generation);
  }

  private sweepDeliveries(): void {
    const now = Date.now();
    for (const s of this.sessions) {
      for (const [seq, d] of s.delivering) {
        if (d.deadline > now) break;
        s.delivering.delete(seq);
        this.answerSmsc(d.smscSeq, d.generation, ESME.ESME_RX_T_APPN);
      }
    }
  }
}
