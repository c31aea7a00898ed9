import { Socket } from 'node:net';
import smpp from 'smpp';
import { describe, expect, it } from 'vitest';
import { prng } from '../../bench/lib/measure.js';
import { decodeFrame, PduDecodeError, PduLink, readMessageFields, withSequence, withTlv, type Frame } from '../../src/smpp/wire.js';

const frameOf = (buffer: Buffer) => ({ commandId: buffer.readUInt32BE(4), status: buffer.readUInt32BE(8), seq: buffer.readUInt32BE(12), buffer });

describe('wire layer', () => {
  it('reads submit_sm and deliver_sm fields exactly as the smpp package lays them out (300 random PDUs)', () => {
    const random = prng(11);
    const pick = (n: number) => Math.floor(random() * n);
    const digits = (n: number) => Array.from({ length: n }, () => String(pick(10))).join('');
    for (let i = 0; i < 300; i++) {
      const command = i % 2 ? 'submit_sm' : 'deliver_sm';
      const fields: Record<string, unknown> = {
        sequence_number: i + 1,
        service_type: ['', 'CMT', 'WAP'][pick(3)],
        source_addr: pick(2) ? '+' + digits(1 + pick(14)) : 'BRAND' + digits(pick(4)),
        destination_addr: digits(1 + pick(15)),
        esm_class: [0, 0x40, 0x04][pick(3)],
        data_coding: [0, 3, 8, 4][pick(4)],
        registered_delivery: pick(2),
        schedule_delivery_time: pick(2) ? '' : '261124210000000+',
        short_message: Buffer.from(Array.from({ length: pick(140) }, () => pick(256))),
      };
      if (pick(3) === 0) Object.assign(fields, { sar_msg_ref_num: pick(65536), sar_total_segments: 1 + pick(5), sar_segment_seqnum: 1 + pick(5) });
      if (pick(4) === 0) fields.receipted_message_id = 'ID' + digits(8);
      if (pick(5) === 0) Object.assign(fields, { short_message: Buffer.alloc(0), message_payload: Buffer.from(digits(300)) });
      const buffer = new smpp.PDU(command, fields).toBuffer();
      const ours = readMessageFields(buffer);
      const theirs = decodeFrame(frameOf(buffer));
      expect(ours.sourceAddr).toBe(theirs.source_addr);
      expect(ours.destinationAddr).toBe(theirs.destination_addr);
      expect(ours.esmClass).toBe(theirs.esm_class);
      expect(ours.dataCoding).toBe(theirs.data_coding);
      expect(ours.registeredDelivery).toBe(theirs.registered_delivery);
      expect(ours.shortMessage.equals(theirs.short_message as Buffer)).toBe(true);
      expect(ours.sarRef).toBe(theirs.sar_msg_ref_num);
      expect(ours.sarTotal).toBe(theirs.sar_total_segments);
      expect(ours.sarSeq).toBe(theirs.sar_segment_seqnum);
      expect(ours.receiptedMessageId).toBe(theirs.receipted_message_id);
      if (theirs.message_payload) expect(ours.messagePayload?.equals(theirs.message_payload as Buffer)).toBe(true);
    }
  });

  it('refuses a PDU whose fields or TLVs run past its length, naming what', () => {
    const good = new smpp.PDU('submit_sm', { source_addr: '123', destination_addr: '456', short_message: Buffer.from('hello') }).toBuffer();
    const cut = (n: number) => {
      const b = Buffer.from(good.subarray(0, n));
      b.writeUInt32BE(n, 0);
      return b;
    };
    expect(() => readMessageFields(cut(good.length - 2))).toThrow(/short_message of 5 octets runs past the PDU/);
    expect(() => readMessageFields(cut(20))).toThrow(PduDecodeError);
    const badTlv = Buffer.concat([good, Buffer.from([0x04, 0x24, 0x00, 0x10, 0x41])]);
    badTlv.writeUInt32BE(badTlv.length, 0);
    expect(() => readMessageFields(badTlv)).toThrow(/TLV 0x0424 of 16 octets runs past the PDU/);
  });

  it('rewrites the sequence number in place for relaying, and appends a TLV on a copy', () => {
    const pdu = new smpp.PDU('submit_sm', { sequence_number: 7, source_addr: '1', destination_addr: '2', short_message: Buffer.from('x') }).toBuffer();
    const tagged = withTlv(pdu, 0x1401, Buffer.from('score=5'));
    const moved = withSequence(pdu, 99);
    expect(moved).toBe(pdu);
    expect(pdu.readUInt32BE(12)).toBe(99);
    expect(tagged.readUInt32BE(12)).toBe(7);
    expect(tagged.readUInt32BE(0)).toBe(pdu.length + 11);
    expect(decodeFrame(frameOf(tagged))[0x1401]).toEqual(Buffer.from('score=5'));
  });
});

describe('PduLink framing', () => {
  it('frames PDUs split at every possible point, fed one octet at a time or all at once', () => {
    const pdus = [
      new smpp.PDU('enquire_link', { sequence_number: 1 }).toBuffer(),
      new smpp.PDU('submit_sm', { sequence_number: 2, source_addr: '1', destination_addr: '2', message_payload: Buffer.alloc(5000, 0x41) }).toBuffer(),
      new smpp.PDU('unbind', { sequence_number: 3 }).toBuffer(),
    ];
    const stream = Buffer.concat(pdus);
    for (const size of [1, 3, 17, stream.length]) {
      const socket = new Socket();
      const frames: Frame[] = [];
      new PduLink(socket, { onFrame: (f) => frames.push({ ...f, buffer: Buffer.from(f.buffer) }), onClose: () => {} });
      for (let i = 0; i < stream.length; i += size) socket.emit('data', stream.subarray(i, i + size));
      expect(frames.map((f) => f.seq)).toEqual([1, 2, 3]);
      frames.forEach((f, i) => expect(f.buffer.equals(pdus[i]!)).toBe(true));
      socket.destroy();
    }
  });
});
