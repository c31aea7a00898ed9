/**
 * The proxy's bind to the SMSC: one transceiver bind that carries submits out and
 * mobile-originated messages and receipts in. Reconnects with exponential backoff and jitter,
 * re-binds, keeps the link alive with enquire_link, and fails every request still waiting for the
 * SMSC's response when the link drops or the response times out, so the ESME hears an error
 * instead of nothing (and is never acknowledged for what the SMSC did not take).
 */
import { connect } from 'node:net';
import type { Logger } from 'pino';
import type { UpstreamConfig } from './config.js';
import { CMD, ESME, PduLink, isResponse, withSequence, type Frame } from './wire.js';

export type UpstreamState = 'down' | 'connecting' | 'binding' | 'bound' | 'closed';

/** Called with the SMSC's response frame, or undefined when the link failed or the response timed out. */
export type ResponseCallback = (frame: Frame | undefined, failure?: 'disconnected' | 'timeout') => void;

interface Waiting {
  readonly callback: ResponseCallback;
  readonly deadline: number;
}

export interface UpstreamEvents {
  /** A request from the SMSC (deliver_sm): answer it with `respond`. */
  onRequest(frame: Frame): void;
  onStateChange?(state: UpstreamState): void;
  onError?(kind: 'connect' | 'bind' | 'timeout' | 'disconnect' | 'protocol', detail: string): void;
}

export class Upstream {
  private link: PduLink | undefined;
  private stateValue: UpstreamState = 'down';
  private readonly waiting = new Map<number, Waiting>();
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private readonly ticker: NodeJS.Timeout;
  private lastHeard = 0;
  private enquireOutstanding = false;
  reconnects = 0;
  /** Increases at each successful bind: an answer to a request from an older bind must not go on the new one. */
  generation = 0;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly config: UpstreamConfig,
    private readonly events: UpstreamEvents,
    private readonly log: Logger,
  ) {
    // One timer for response timeouts and keep-alive; requests are in send order, so the sweep stops early.
    this.ticker = setInterval(() => this.tick(), Math.min(250, Math.max(10, this.config.responseTimeoutMs / 4)));
    this.ticker.unref();
  }

  get state(): UpstreamState {
    return this.stateValue;
  }

  get isBound(): boolean {
    return this.stateValue === 'bound' && !!this.link?.isOpen;
  }

  /** Requests sent and not yet answered by the SMSC. */
  get inFlight(): number {
    return this.waiting.size;
  }

  start(): void {
    if (this.stateValue === 'closed') return;
    this.connectNow();
  }

  /**
   * Send a request PDU (raw; its sequence number is rewritten in place, so the caller hands the
   * buffer over). False when not bound: nothing was sent.
   */
  request(buffer: Buffer, callback: ResponseCallback): boolean {
    const link = this.link;
    if (!link || !this.isBound) return false;
    const seq = this.freeSeq(link);
    const out = withSequence(buffer, seq);
    this.waiting.set(seq, { callback, deadline: Date.now() + this.config.responseTimeoutMs });
    if (!link.send(out)) {
      this.waiting.delete(seq);
      return false;
    }
    return true;
  }

  /** Answer a request the SMSC sent during bind `generation`; dropped when that bind is gone (the SMSC will redeliver). */
  respond(buffer: Buffer, generation: number): boolean {
    if (generation !== this.generation || !this.isBound) return false;
    return this.link?.send(buffer) ?? false;
  }

  async close(): Promise<void> {
    if (this.stateValue === 'closed') return;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.ticker);
    const link = this.link;
    this.setState('closed');
    if (link?.isOpen) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          link.destroy();
          resolve();
        }, 2000);
        link.socket.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
        link.sendPdu('unbind', { sequence_number: link.nextSeq() });
        link.end();
      });
    }
    this.failAll('disconnected');
  }

  private freeSeq(link: PduLink): number {
    let seq = link.nextSeq();
    while (this.waiting.has(seq)) seq = link.nextSeq();
    return seq;
  }

  private setState(state: UpstreamState): void {
    if (this.stateValue === state) return;
    this.stateValue = state;
    this.events.onStateChange?.(state);
  }

  private connectNow(): void {
    this.setState('connecting');
    this.lastHeard = Date.now();
    const socket = connect({ host: this.host, port: this.port });
    let bindSeq = 0;
    const link = new PduLink(socket, {
      onFrame: (frame) => this.onFrame(link, frame, bindSeq),
      onFramingError: (reason) => this.events.onError?.('protocol', reason),
      onClose: () => this.onClose(link),
    });
    this.link = link;
    socket.once('connect', () => {
      if (this.stateValue === 'closed') return link.destroy();
      this.setState('binding');
      bindSeq = link.nextSeq();
      link.sendPdu('bind_transceiver', {
        sequence_number: bindSeq,
        system_id: this.config.systemId,
        password: this.config.password,
        system_type: this.config.systemType,
        interface_version: 0x34,
      });
      this.lastHeard = Date.now();
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      // Closing ourselves is no problem; a reset on a live link is reported as the disconnect that follows.
      if (this.stateValue === 'connecting') this.events.onError?.('connect', err.code ?? err.message);
    });
  }

  private onFrame(link: PduLink, frame: Frame, bindSeq: number): void {
    if (link !== this.link) return;
    this.lastHeard = Date.now();
    if (frame.commandId === CMD.bind_transceiver_resp && frame.seq === bindSeq) {
      if (frame.status === 0) {
        this.attempt = 0;
        this.generation++;
        this.setState('bound');
        this.log.info({ host: this.host, port: this.port }, 'bound to the SMSC');
      } else {
        this.events.onError?.('bind', `bind_transceiver refused with status 0x${frame.status.toString(16)}`);
        this.log.error({ status: frame.status }, 'the SMSC refused the bind; check upstream system_id/password');
        link.destroy();
      }
      return;
    }
    if (isResponse(frame.commandId)) {
      if (frame.commandId === CMD.enquire_link_resp) {
        this.enquireOutstanding = false;
        return;
      }
      const w = this.waiting.get(frame.seq);
      if (w) {
        this.waiting.delete(frame.seq);
        w.callback(frame);
      }
      return;
    }
    switch (frame.commandId) {
      case CMD.enquire_link:
        link.sendPdu('enquire_link_resp', { sequence_number: frame.seq });
        return;
      case CMD.unbind:
        link.sendPdu('unbind_resp', { sequence_number: frame.seq });
        link.end();
        return;
      case CMD.deliver_sm:
        if (this.stateValue !== 'bound') {
          link.sendPdu('deliver_sm_resp', { sequence_number: frame.seq, command_status: ESME.ESME_RINVBNDSTS });
          return;
        }
        this.events.onRequest(frame);
        return;
      default:
        // Requests the proxy does not relay (data_sm, alert_notification, unknown ids).
        link.sendPdu('generic_nack', { sequence_number: frame.seq, command_status: ESME.ESME_RINVCMDID });
    }
  }

  private onClose(link: PduLink): void {
    if (link !== this.link) return;
    this.link = undefined;
    this.failAll('disconnected');
    if (this.stateValue === 'closed') return;
    this.events.onError?.('disconnect', 'the SMSC link closed');
    this.setState('down');
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const base = Math.min(this.config.reconnectMaxMs, this.config.reconnectInitialMs * 2 ** Math.min(this.attempt, 20));
    // Full jitter on the upper half, so many proxies restarting together do not reconnect in step.
    const delay = Math.round(base / 2 + Math.random() * (base / 2));
    this.attempt++;
    this.reconnects++;
    this.log.warn({ delayMs: delay, attempt: this.attempt }, 'SMSC link down; reconnecting');
    this.reconnectTimer = setTimeout(() => this.connectNow(), delay);
    this.reconnectTimer.unref();
  }

  private failAll(failure: 'disconnected' | 'timeout'): void {
    const all = [...this.waiting.values()];
    this.waiting.clear();
    for (const w of all) w.callback(undefined, failure);
  }

  private tick(): void {
    const now = Date.now();
    for (const [seq, w] of this.waiting) {
      if (w.deadline > now) break;
      this.waiting.delete(seq);
      this.events.onError?.('timeout', `no response to sequence ${seq}`);
      w.callback(undefined, 'timeout');
    }
    const link = this.link;
    if (link && (this.stateValue === 'binding' || this.stateValue === 'connecting') && now - this.lastHeard > this.config.responseTimeoutMs && this.lastHeard > 0) {
      this.events.onError?.('timeout', `no answer to bind within ${this.config.responseTimeoutMs} ms`);
      link.destroy();
      return;
    }
    if (link && this.stateValue === 'bound' && now - this.lastHeard > this.config.enquireLinkMs) {
      if (this.enquireOutstanding) {
        // Silence for a whole keep-alive period after an enquire_link: the link is dead.
        this.events.onError?.('timeout', 'enquire_link unanswered');
        link.destroy();
        return;
      }
      this.enquireOutstanding = true;
      this.lastHeard = now;
      link.sendPdu('enquire_link', { sequence_number: this.freeSeq(link) });
    }
  }
}
