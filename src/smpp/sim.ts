/**
 * An SMSC simulator and an ESME client, both on the `smpp` package's own Session and Server, so
 * the proxy is tested and tried against an independent implementation of the protocol rather than
 * against itself. Used by the tests, the benchmark and `spamgate smsc-sim`.
 *
 * The simulator accepts any bind (or only the accounts it is given), answers every submit_sm with
 * a fresh message id, and records a message only when it sends ESME_ROK for it: "delivered" in the
 * fault tests means "the SMSC acknowledged it", exactly as an ESME would count it.
 */
import type { AddressInfo } from 'node:net';
import smpp, { type PDU, type Server as SmppServer, type Session } from 'smpp';

export interface SimMessage {
  readonly messageId: string;
  readonly systemId: string;
  readonly source: string;
  readonly destination: string;
  /** short_message as the package decoded it (text, or hex for binary), UDH dropped. */
  readonly text: string;
  readonly esmClass: number;
  readonly dataCoding: number;
  /** SAR TLVs and unknown (vendor) TLVs as received, by name or numeric tag. */
  readonly tlvs: Readonly<Record<string, unknown>>;
}

export interface SmscSimOptions {
  readonly host?: string;
  readonly port?: number;
  /** Accounts that may bind; absent: any system_id/password is accepted. */
  readonly accounts?: ReadonlyMap<string, string>;
  /** Send a delivery receipt (deliver_sm, esm_class 0x04) after each accepted submit that asked for one. */
  readonly receipts?: boolean;
  /** Called for each submit_sm; return a status to refuse it (the message is then not recorded). */
  readonly onSubmit?: (pdu: PDU) => number | void;
}

function messageText(pdu: PDU): string {
  const sm = pdu.short_message as { message?: unknown } | Buffer | undefined;
  const payload = pdu.message_payload as { message?: unknown } | Buffer | undefined;
  const pick = (v: { message?: unknown } | Buffer | undefined): string => {
    if (!v) return '';
    if (Buffer.isBuffer(v)) return v.toString('hex');
    const m = v.message;
    return typeof m === 'string' ? m : Buffer.isBuffer(m) ? m.toString('hex') : '';
  };
  return pick(payload) || pick(sm);
}

const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

export class SmscSimulator {
  /** Messages acknowledged with ESME_ROK, in order. */
  readonly received: SimMessage[] = [];
  /** submit_sm PDUs seen, acknowledged or not. */
  submitsSeen = 0;
  private readonly server: SmppServer;
  private readonly bound = new Set<Session>();
  private readonly all = new Set<Session>();
  private nextId = 1;
  private readonly prefix = `SIM${Math.floor(Math.random() * 0xffff).toString(16).toUpperCase()}`;
  private dropAfterCount: number | undefined;

  constructor(private readonly options: SmscSimOptions = {}) {
    this.server = smpp.createServer({}, (session) => this.onSession(session));
  }

  async start(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => resolve());
    });
    return this.port;
  }

  get port(): number {
    return (this.server.address() as AddressInfo | null)?.port ?? 0;
  }

  get boundSessions(): number {
    return this.bound.size;
  }

  /** After `n` more submits, drop every connection instead of answering (the n-th is not recorded). */
  dropAfter(n: number): void {
    this.dropAfterCount = this.submitsSeen + n;
  }

  /** Tear down every connection now (an SMSC crash or a network cut). */
  dropConnections(): void {
    for (const s of this.all) s.destroy();
  }

  /** Send a mobile-originated message (or receipt) to a bound session; resolves with the ESME's deliver_sm_resp status. */
  deliver(fields: Record<string, unknown>): Promise<number> {
    const session = [...this.bound][0];
    if (!session) return Promise.reject(new Error('no bound session to deliver to'));
    return new Promise((resolve) => {
      const pdu = new smpp.PDU('deliver_sm', fields);
      let done = false;
      const finish = (status: number): void => {
        if (!done) {
          done = true;
          resolve(status);
        }
      };
      session.once('close', () => finish(-1));
      session.send(pdu, (resp) => finish(resp.command_status));
    });
  }

  async close(): Promise<void> {
    for (const s of this.all) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onSession(session: Session): void {
    this.all.add(session);
    let systemId = '';
    session.on('error', () => {});
    session.on('close', () => {
      this.all.delete(session);
      this.bound.delete(session);
    });
    const bind = (pdu: PDU): void => {
      const expected = this.options.accounts?.get(str(pdu.system_id));
      if (this.options.accounts && expected !== str(pdu.password)) {
        session.send(pdu.response({ command_status: smpp.errors.ESME_RBINDFAIL }));
        return;
      }
      systemId = str(pdu.system_id);
      this.bound.add(session);
      session.send(pdu.response({ system_id: 'SIMSMSC' }));
    };
    session.on('bind_transceiver', bind);
    session.on('bind_transmitter', bind);
    session.on('bind_receiver', bind);
    session.on('enquire_link', (pdu: PDU) => session.send(pdu.response()));
    session.on('unbind', (pdu: PDU) => {
      session.send(pdu.response());
      session.close();
    });
    session.on('submit_sm', (pdu: PDU) => {
      // The package keeps emitting PDUs it had buffered after destroy(): a dead link takes nothing.
      if (!session.socket.writable) return;
      this.submitsSeen++;
      if (this.dropAfterCount !== undefined && this.submitsSeen >= this.dropAfterCount) {
        this.dropAfterCount = undefined;
        this.dropConnections();
        return;
      }
      const refused = this.options.onSubmit?.(pdu);
      if (typeof refused === 'number' && refused !== 0) {
        session.send(pdu.response({ command_status: refused }));
        return;
      }
      const messageId = `${this.prefix}-${this.nextId++}`;
      const tlvs: Record<string, unknown> = {};
      for (const key of ['sar_msg_ref_num', 'sar_total_segments', 'sar_segment_seqnum']) if (pdu[key] !== undefined) tlvs[key] = pdu[key];
      for (const key of Object.keys(pdu)) if (/^\d+$/.test(key)) tlvs[key] = pdu[key];
      this.received.push({
        messageId,
        systemId,
        source: str(pdu.source_addr),
        destination: str(pdu.destination_addr),
        text: messageText(pdu),
        esmClass: num(pdu.esm_class),
        dataCoding: num(pdu.data_coding),
        tlvs,
      });
      session.send(pdu.response({ message_id: messageId }));
      if (this.options.receipts && num(pdu.registered_delivery) & 0x01) {
        const receipt = `id:${messageId} sub:001 dlvrd:001 submit date:2601010000 done date:2601010000 stat:DELIVRD err:000 text:`;
        session.send(new smpp.PDU('deliver_sm', {
          source_addr: str(pdu.destination_addr),
          destination_addr: str(pdu.source_addr),
          esm_class: 0x04,
          data_coding: 0x01,
          short_message: Buffer.from(receipt, 'latin1'),
          receipted_message_id: messageId,
          message_state: 2,
        }));
      }
    });
    session.on('query_sm', (pdu: PDU) => {
      const known = this.received.some((m) => m.messageId === pdu.message_id);
      session.send(known ? pdu.response({ message_id: pdu.message_id, message_state: 2 }) : pdu.response({ command_status: smpp.errors.ESME_RQUERYFAIL }));
    });
    session.on('pdu', (pdu: PDU) => {
      if (!pdu.isResponse() && !['bind_transceiver', 'bind_transmitter', 'bind_receiver', 'enquire_link', 'unbind', 'submit_sm', 'query_sm'].includes(pdu.command)) {
        session.send(new smpp.PDU('generic_nack', { sequence_number: pdu.sequence_number, command_status: smpp.errors.ESME_RINVCMDID }));
      }
    });
  }
}

export type BindType = 'transceiver' | 'transmitter' | 'receiver';

export interface SubmitResult {
  /** command_status of the submit_sm_resp; undefined when the connection closed first (no answer seen). */
  readonly status: number | undefined;
  readonly messageId: string;
}

/** An ESME: binds, submits with a promise per message, answers deliver_sm with a handler. */
export class EsmeClient {
  readonly delivered: PDU[] = [];
  private readonly pending = new Map<number, (r: SubmitResult) => void>();
  closed = false;

  private constructor(
    readonly session: Session,
    private onDeliver: (pdu: PDU) => number,
  ) {
    session.on('error', () => {});
    session.on('close', () => {
      this.closed = true;
      const waiting = [...this.pending.values()];
      this.pending.clear();
      for (const resolve of waiting) resolve({ status: undefined, messageId: '' });
    });
    session.on('deliver_sm', (pdu: PDU) => {
      this.delivered.push(pdu);
      session.send(pdu.response({ command_status: this.onDeliver(pdu) }));
    });
    session.on('enquire_link', (pdu: PDU) => session.send(pdu.response()));
    session.on('unbind', (pdu: PDU) => {
      session.send(pdu.response());
      session.close();
    });
  }

  /** Connect and bind; rejects with the bind status when refused. */
  static connect(
    host: string,
    port: number,
    credentials: { readonly systemId: string; readonly password: string; readonly bindType?: BindType },
    onDeliver: (pdu: PDU) => number = () => 0,
  ): Promise<EsmeClient> {
    return new Promise((resolve, reject) => {
      const session = smpp.connect({ host, port });
      const fail = (err: Error): void => reject(err);
      const closedEarly = (): void => fail(new Error('connection closed before the bind was answered'));
      session.once('error', fail);
      session.once('close', closedEarly);
      session.on('connect', () => {
        const pdu = new smpp.PDU(`bind_${credentials.bindType ?? 'transceiver'}`, { system_id: credentials.systemId, password: credentials.password });
        session.send(pdu, (resp) => {
          session.off('error', fail);
          session.off('close', closedEarly);
          if (resp.command_status !== 0) {
            session.destroy();
            reject(Object.assign(new Error(`bind refused with status 0x${resp.command_status.toString(16)}`), { status: resp.command_status }));
            return;
          }
          resolve(new EsmeClient(session, onDeliver));
        });
      });
    });
  }

  setDeliverHandler(handler: (pdu: PDU) => number): void {
    this.onDeliver = handler;
  }

  /** Send one submit_sm; the promise settles with its resp, or status undefined if the link dies first. */
  submit(fields: Record<string, unknown>): Promise<SubmitResult> {
    return new Promise((resolve) => {
      if (this.closed) return resolve({ status: undefined, messageId: '' });
      const pdu = new smpp.PDU('submit_sm', fields);
      const sent = this.session.send(pdu, (resp) => {
        this.pending.delete(pdu.sequence_number);
        resolve({ status: resp.command_status, messageId: typeof resp.message_id === 'string' ? resp.message_id : '' });
      });
      if (!sent) return resolve({ status: undefined, messageId: '' });
      this.pending.set(pdu.sequence_number, resolve);
    });
  }

  /** Unbind politely and wait for the connection to close (bounded). */
  async unbind(): Promise<void> {
    if (this.closed) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.session.destroy();
        resolve();
      }, 3000);
      this.session.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.session.send(new smpp.PDU('unbind', {}), () => this.session.close());
    });
  }

  destroy(): void {
    this.session.destroy();
  }
}
