/**
 * The proxy's wire layer: PDU framing over a TCP socket, using the `smpp` package's PDU class and
 * tables for the field layout.
 *
 * Why not the package's Session: it decodes `short_message` into a string on arrival (lossy for
 * binary data, unknown septets and odd alphabets, so a re-encoded forward would not be the PDU
 * the ESME sent) and it stops reading for good after one unparseable PDU. Here every PDU keeps
 * its raw octets, which the proxy forwards with only the sequence number rewritten, and a
 * garbled PDU gets a generic_nack while the connection carries on where framing allows.
 */
import type { Socket } from 'node:net';
import smpp, { type PDU } from 'smpp';

export const ESME = smpp.errors;

export const CMD = {
  generic_nack: 0x80000000,
  bind_receiver: 0x00000001,
  bind_transmitter: 0x00000002,
  query_sm: 0x00000003,
  submit_sm: 0x00000004,
  submit_sm_resp: 0x80000004,
  deliver_sm: 0x00000005,
  deliver_sm_resp: 0x80000005,
  unbind: 0x00000006,
  unbind_resp: 0x80000006,
  cancel_sm: 0x00000008,
  bind_transceiver: 0x00000009,
  bind_transceiver_resp: 0x80000009,
  enquire_link: 0x00000015,
  enquire_link_resp: 0x80000015,
} as const;

/** Test with `isResponse`: `id & RESPONSE_BIT` is a negative number in JavaScript's 32-bit arithmetic. */
export const RESPONSE_BIT = 0x80000000;

export function isResponse(commandId: number): boolean {
  return commandId >= RESPONSE_BIT;
}
const HEADER = 16;
/** Largest PDU accepted: a 64 KiB message_payload plus the fixed fields. */
export const MAX_PDU_LENGTH = 70_000;

/** One PDU as it came off the wire. `buffer` is the whole PDU (a view of the socket read), owned by the receiver. */
export interface Frame {
  readonly commandId: number;
  readonly status: number;
  readonly seq: number;
  readonly buffer: Buffer;
}

export class PduDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PduDecodeError';
  }
}

/**
 * Parse a frame's body with the package's PDU layout but without its decode filters, so
 * `short_message`, `message_payload` and times stay as the raw octets/strings that were sent.
 */
export function decodeFrame(frame: Frame): PDU {
  if (!smpp.commandsById[frame.commandId]) throw new PduDecodeError(`unknown command_id 0x${frame.commandId.toString(16).padStart(8, '0')}`);
  const pdu = Object.create(smpp.PDU.prototype) as PDU;
  (pdu as unknown as { _filter: () => void })._filter = () => {};
  const def = smpp.commandsById[frame.commandId]!;
  try {
    pdu.fromBuffer(frame.buffer);
  } catch (err) {
    throw new PduDecodeError(`malformed ${def.command} body: ${(err as Error).message}`);
  }
  // The package stops quietly at the end of the buffer; a request must hold all its mandatory fields.
  if (frame.status === 0 && !isResponse(frame.commandId)) {
    let offset = HEADER;
    for (const [key, param] of Object.entries(def.params ?? {})) {
      if (!Object.prototype.hasOwnProperty.call(pdu, key)) throw new PduDecodeError(`${def.command} ends before its mandatory field ${key}`);
      offset += param.type.size(pdu[key]);
    }
    if (offset > frame.buffer.length) throw new PduDecodeError(`${def.command} mandatory fields run past its command_length ${frame.buffer.length}`);
  }
  return pdu;
}

export function encodePdu(command: string, fields: Record<string, unknown>): Buffer {
  return new smpp.PDU(command, fields).toBuffer();
}

/** The fields of a submit_sm or deliver_sm the proxy reads; octet fields are views into the PDU. */
export interface MessageFields {
  readonly sourceAddr: string;
  readonly destinationAddr: string;
  readonly esmClass: number;
  readonly dataCoding: number;
  readonly registeredDelivery: number;
  readonly shortMessage: Buffer;
  readonly messagePayload?: Buffer;
  readonly sarRef?: number;
  readonly sarTotal?: number;
  readonly sarSeq?: number;
  readonly receiptedMessageId?: string;
}

/**
 * Read a submit_sm / deliver_sm body directly (SMPP v3.4 §4.4.1 / §4.6.1): the hot path of the
 * proxy, several times cheaper than building the package's PDU object. Same layout as the
 * package's tables (test/smpp/wire.test.ts checks the two agree); throws PduDecodeError when a
 * mandatory field or a TLV runs past the PDU.
 */
export function readMessageFields(pdu: Buffer): MessageFields {
  const end = pdu.length;
  let o = HEADER;
  const cstring = (name: string, max: number): string => {
    const stop = pdu.indexOf(0, o);
    if (stop < 0 || stop >= end) throw new PduDecodeError(`${name} is not NUL-terminated within the PDU`);
    if (stop - o > max) throw new PduDecodeError(`${name} is longer than ${max} octets`);
    const v = pdu.toString('latin1', o, stop);
    o = stop + 1;
    return v;
  };
  const octet = (name: string): number => {
    if (o >= end) throw new PduDecodeError(`PDU ends before ${name}`);
    return pdu[o++]!;
  };
  cstring('service_type', 5);
  octet('source_addr_ton');
  octet('source_addr_npi');
  const sourceAddr = cstring('source_addr', 64);
  octet('dest_addr_ton');
  octet('dest_addr_npi');
  const destinationAddr = cstring('destination_addr', 64);
  const esmClass = octet('esm_class');
  octet('protocol_id');
  octet('priority_flag');
  cstring('schedule_delivery_time', 16);
  cstring('validity_period', 16);
  const registeredDelivery = octet('registered_delivery');
  octet('replace_if_present_flag');
  const dataCoding = octet('data_coding');
  octet('sm_default_msg_id');
  const smLength = octet('sm_length');
  if (o + smLength > end) throw new PduDecodeError(`short_message of ${smLength} octets runs past the PDU`);
  const shortMessage = pdu.subarray(o, o + smLength);
  o += smLength;
  const fields: { -readonly [K in keyof MessageFields]: MessageFields[K] } = { sourceAddr, destinationAddr, esmClass, dataCoding, registeredDelivery, shortMessage };
  while (o < end) {
    if (o + 4 > end) throw new PduDecodeError(`TLV header at octet ${o} is cut short`);
    const tag = pdu.readUInt16BE(o);
    const len = pdu.readUInt16BE(o + 2);
    o += 4;
    if (o + len > end) throw new PduDecodeError(`TLV 0x${tag.toString(16).padStart(4, '0')} of ${len} octets runs past the PDU`);
    if (tag === 0x0424) fields.messagePayload = pdu.subarray(o, o + len);
    else if (tag === 0x020c && len === 2) fields.sarRef = pdu.readUInt16BE(o);
    else if (tag === 0x020e && len === 1) fields.sarTotal = pdu[o]!;
    else if (tag === 0x020f && len === 1) fields.sarSeq = pdu[o]!;
    else if (tag === 0x001e && len > 0) fields.receiptedMessageId = pdu.toString('latin1', o, pdu[o + len - 1] === 0 ? o + len - 1 : o + len);
    o += len;
  }
  return fields;
}

/**
 * The raw PDU with its sequence number rewritten in place, for relaying. Frames own their octets
 * (each socket read is a fresh buffer, and nothing reads a frame after relaying it), so no copy.
 */
export function withSequence(buffer: Buffer, seq: number): Buffer {
  buffer.writeUInt32BE(seq >>> 0, 12);
  return buffer;
}

/** A copy of a raw PDU with TLVs appended (the proxy's tag mark). */
export function withTlv(buffer: Buffer, tag: number, value: Buffer): Buffer {
  const tlv = Buffer.alloc(4 + value.length);
  tlv.writeUInt16BE(tag, 0);
  tlv.writeUInt16BE(value.length, 2);
  value.copy(tlv, 4);
  const out = Buffer.concat([buffer, tlv]);
  out.writeUInt32BE(out.length, 0);
  return out;
}

/** The message_id of a submit_sm_resp / deliver_sm_resp frame (a C string after the header). */
export function respMessageId(frame: Frame): string {
  const b = frame.buffer;
  if (frame.status !== 0 || b.length <= HEADER) return '';
  const end = b.indexOf(0, HEADER);
  return b.toString('latin1', HEADER, end < 0 ? b.length : end);
}

export interface PduLinkHandlers {
  onFrame(frame: Frame): void;
  /** The peer sent something that cannot be framed; the link answers generic_nack and closes. */
  onFramingError?(reason: string): void;
  onClose(hadError: boolean): void;
}

/**
 * Framing over one socket. Frames are delivered synchronously in arrival order; `send` writes a
 * ready PDU. A PDU longer than `maxLength` or shorter than its header cannot be skipped safely:
 * the link answers generic_nack and hangs up. Memory per peer is bounded by the proxy's window.
 */
export class PduLink {
  private restParts: Buffer[] = [];
  private restBytes = 0;
  private need = 0;
  private closed = false;
  private corked = false;
  private seq = 0;

  constructor(
    readonly socket: Socket,
    private readonly handlers: PduLinkHandlers,
    private readonly maxLength = MAX_PDU_LENGTH,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {});
    socket.on('close', (hadError: boolean) => {
      this.closed = true;
      this.handlers.onClose(hadError);
    });
  }

  get isOpen(): boolean {
    return !this.closed && this.socket.writable;
  }

  /** The next sequence number for a request this side originates (1..0x7FFFFFFF). */
  nextSeq(): number {
    this.seq = this.seq >= 0x7fffffff ? 1 : this.seq + 1;
    return this.seq;
  }

  send(buffer: Buffer): boolean {
    if (!this.isOpen) return false;
    // Writes made in one turn of the event loop leave in one writev: a syscall per PDU costs more
    // than the filtering at thousands of PDUs per second.
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    this.socket.write(buffer);
    return true;
  }

  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  sendPdu(command: string, fields: Record<string, unknown>): boolean {
    return this.send(encodePdu(command, fields));
  }

  /** Stop reading (the peer's PDUs stay in the kernel buffer) / read again. */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    if (!this.closed) this.socket.resume();
  }

  /** Flush and close. */
  end(): void {
    if (!this.closed) this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    // Chunks of an incomplete PDU are collected and joined once, when the PDU is whole: joining on
    // every chunk would cost O(n²) for a peer that trickles a large PDU a byte at a time.
    let buf = chunk;
    if (this.restParts.length > 0) {
      this.restParts.push(chunk);
      this.restBytes += chunk.length;
      if (this.restBytes < this.need) return;
      buf = Buffer.concat(this.restParts, this.restBytes);
      this.restParts = [];
      this.restBytes = 0;
    }
    let offset = 0;
    while (!this.closed && buf.length - offset >= 4) {
      const length = buf.readUInt32BE(offset);
      if (length < HEADER || length > this.maxLength) {
        // No way to find the next PDU boundary: answer and hang up (SMPP v3.4 §2.8).
        const seq = buf.length - offset >= HEADER ? buf.readUInt32BE(offset + 12) : 0;
        this.send(encodePdu('generic_nack', { sequence_number: seq, command_status: ESME.ESME_RINVCMDLEN }));
        this.handlers.onFramingError?.(`command_length ${length} outside ${HEADER}..${this.maxLength}`);
        this.end();
        setTimeout(() => this.destroy(), 1000).unref();
        return;
      }
      if (buf.length - offset < length) break;
      const buffer = offset === 0 && length === buf.length ? buf : buf.subarray(offset, offset + length);
      offset += length;
      this.handlers.onFrame({ commandId: buffer.readUInt32BE(4), status: buffer.readUInt32BE(8), seq: buffer.readUInt32BE(12), buffer });
    }
    if (offset < buf.length && !this.closed) {
      const rest = Buffer.from(buf.subarray(offset));
      this.restParts = [rest];
      this.restBytes = rest.length;
      // Until 4 octets are in, the length is unknown; an out-of-range length is caught on the next pass.
      this.need = rest.length >= 4 ? Math.min(Math.max(rest.readUInt32BE(0), 4), this.maxLength) : 4;
    }
  }
}
