import { describe, expect, it } from 'vitest';
import {
  alphabetOf,
  concatUdh,
  decodeShortMessage,
  encodeShortMessage,
  fillBitsAfterUdh,
  isGsm7,
  packSeptets,
  parseUdh,
  septetsToText,
  textToSeptets,
  unpackSeptets,
} from '../../src/smpp/codec.js';

const TRICKY_GSM = 'Price €10 [promo] {code} \\path ^up ~tilde |pipe @£$¥ ÆØÅ äöñü ΔΦΓΛΩΠΨΣΘΞ ¡¿ §';

describe('GSM 03.38', () => {
  it('decodes the extension table (ESC 0x1B): € [ ] { } \\ ^ ~ | and form feed', () => {
    const septets = [0x1b, 0x65, 0x1b, 0x3c, 0x1b, 0x3e, 0x1b, 0x28, 0x1b, 0x29, 0x1b, 0x2f, 0x1b, 0x14, 0x1b, 0x3d, 0x1b, 0x40, 0x1b, 0x0a];
    expect(septetsToText(septets)).toBe('€[]{}\\^~|\f');
  });

  it('maps the default table where it differs from ASCII (@ at 0x00, £ at 0x01, $ at 0x02, _ at 0x11, ¤ at 0x24)', () => {
    expect(septetsToText([0x00, 0x01, 0x02, 0x11, 0x24, 0x40, 0x60])).toBe('@£$_¤¡¿');
  });

  it('round-trips the tricky characters unpacked, one septet per octet', () => {
    const bytes = encodeShortMessage(TRICKY_GSM, 0x00);
    expect(bytes.every((b) => b < 0x80)).toBe(true);
    expect(decodeShortMessage(bytes, 0x00)).toMatchObject({ text: TRICKY_GSM, alphabet: 'gsm7' });
  });

  it('counts € as two septets (ESC + 0x65)', () => {
    expect(textToSeptets('€')).toEqual([0x1b, 0x65]);
    expect(textToSeptets('a€b')).toHaveLength(4);
  });

  it('shows an unknown extension as the default character and a lone trailing ESC as a space', () => {
    expect(septetsToText([0x1b, 0x41])).toBe('A');
    expect(septetsToText([0x41, 0x1b])).toBe('A ');
  });

  it('packs and unpacks septets, with the known test vector "hellohello"', () => {
    const packed = packSeptets(textToSeptets('hellohello'));
    expect(packed.toString('hex')).toBe('e8329bfd4697d9ec37');
    expect(septetsToText(unpackSeptets(packed))).toBe('hellohello');
  });

  it('drops the padding septet when 7 spare bits would read as @', () => {
    const seven = packSeptets(textToSeptets('1234567')); // 7 septets = 49 bits = 7 octets, 7 spare bits
    expect(seven).toHaveLength(7);
    expect(septetsToText(unpackSeptets(seven))).toBe('1234567');
    // a real trailing @ cannot be told from padding (23.038 recommends CR padding for that reason)
    const eight = packSeptets(textToSeptets('1234567@'));
    expect(septetsToText(unpackSeptets(eight))).toBe('1234567');
  });

  it('decodes packed text after a concatenation UDH, minding the fill bits', () => {
    const udh = concatUdh(0x42, 3, 1);
    expect(fillBitsAfterUdh(udh.length)).toBe(1); // 6 octets = 48 bits → 1 fill bit to 49
    const bytes = encodeShortMessage('Win a FREE {prize} €100 now', 0x00, { udh, packed: true });
    const decoded = decodeShortMessage(bytes, 0x00, { udhi: true, gsm7: 'auto' });
    expect(decoded.text).toBe('Win a FREE {prize} €100 now');
    expect(decoded.udh?.concat).toEqual({ reference: 0x42, total: 3, seq: 1, referenceBits: 8 });
  });

  it('decodes packed text after a 16-bit reference UDH (7 octets: no fill bits)', () => {
    const udh = concatUdh(0xbeef, 2, 2, 16);
    expect(fillBitsAfterUdh(udh.length)).toBe(0);
    const bytes = encodeShortMessage('second part [x]', 0x00, { udh, packed: true });
    const decoded = decodeShortMessage(bytes, 0x00, { udhi: true, gsm7: 'packed' });
    expect(decoded.text).toBe('second part [x]');
    expect(decoded.udh?.concat).toEqual({ reference: 0xbeef, total: 2, seq: 2, referenceBits: 16 });
  });

  it('reads unpacked septets after a UDH as unpacked in auto mode', () => {
    const bytes = encodeShortMessage('plain text', 0x00, { udh: concatUdh(1, 2, 1) });
    expect(decodeShortMessage(bytes, 0x00, { udhi: true }).text).toBe('plain text');
  });

  it('refuses to encode a character outside the alphabet, naming it', () => {
    expect(() => textToSeptets('ok ✓')).toThrow(/"✓" at 3/);
    expect(isGsm7('ok ✓')).toBe(false);
    expect(isGsm7(TRICKY_GSM)).toBe(true);
  });
});

describe('other alphabets', () => {
  it('decodes UCS-2 big-endian including a surrogate pair', () => {
    const text = 'Привет 😀 你好 €';
    const bytes = encodeShortMessage(text, 0x08);
    expect(bytes.subarray(0, 2).toString('hex')).toBe('041f'); // П, big-endian
    expect(decodeShortMessage(bytes, 0x08)).toMatchObject({ text, alphabet: 'ucs2' });
  });

  it('reports an odd UCS-2 length and decodes the rest', () => {
    const bytes = Buffer.concat([encodeShortMessage('ab', 0x08), Buffer.from([0x00])]);
    const decoded = decodeShortMessage(bytes, 0x08);
    expect(decoded.text).toBe('ab');
    expect(decoded.problem).toMatch(/odd number of octets \(5\)/);
  });

  it('decodes Latin-1 (0x03) and IA5 (0x01)', () => {
    expect(decodeShortMessage(Buffer.from('Café £5 ½', 'latin1'), 0x03).text).toBe('Café £5 ½');
    expect(decodeShortMessage(Buffer.from('a@b$c', 'latin1'), 0x01).text).toBe('a@b$c');
  });

  it('reads 0x01 as GSM septets when configured so (node-smpp peers)', () => {
    const bytes = encodeShortMessage('@£$', 0x00);
    expect(decodeShortMessage(bytes, 0x01, { dataCoding1: 'gsm7' }).text).toBe('@£$');
  });

  it('treats 8-bit data (0x04, 0x02, 0xF4) as binary with no text', () => {
    for (const dc of [0x02, 0x04, 0xf4]) expect(decodeShortMessage(Buffer.from([1, 2, 0xff]), dc)).toEqual({ text: '', alphabet: 'binary' });
  });

  it('maps the GSM data coding groups', () => {
    expect(alphabetOf(0xf0)).toBe('gsm7');
    expect(alphabetOf(0x18)).toBe('ucs2');
    expect(alphabetOf(0x14)).toBe('binary');
    expect(alphabetOf(0x30)).toBe('unsupported'); // compressed
    expect(alphabetOf(0xe0)).toBe('ucs2');
  });
});

describe('UDH', () => {
  it('parses several elements and keeps the concatenation one', () => {
    const udh = Buffer.from([0x0b, 0x05, 0x04, 0x0b, 0x84, 0x23, 0xf0, 0x00, 0x03, 0x07, 0x02, 0x01]);
    const parsed = parseUdh(udh);
    expect(parsed.length).toBe(12);
    expect(parsed.elements.map((e) => e.id)).toEqual([0x05, 0x00]);
    expect(parsed.concat).toEqual({ reference: 7, total: 2, seq: 1, referenceBits: 8 });
  });

  it('reports a header that runs past the message instead of throwing from decode', () => {
    const decoded = decodeShortMessage(Buffer.from([0x09, 0x00, 0x03, 0x01]), 0x00, { udhi: true });
    expect(decoded.problem).toMatch(/UDH length 9 runs past the 4-octet message/);
    expect(decoded.text).toBe('');
    expect(() => parseUdh(Buffer.from([0x04, 0x00, 0x09, 0x01, 0x02]))).toThrow(/element 0x00 at octet 1 runs past/);
  });
});
