/**
 * The text of an SMS as the subscriber sees it, from the octets SMPP carries.
 *
 * `data_coding` chooses the alphabet (SMPP v3.4 §5.2.19, GSM 03.38 §4 for the 0xC0–0xFF groups):
 *   0x00 GSM 03.38 default alphabet with its extension table; 0x01 IA5 (ASCII); 0x03 Latin-1;
 *   0x08 UCS-2 big-endian (read as UTF-16, so surrogate pairs become one character);
 *   0x02 and 0x04 octet data (binary: no text); 0x06 ISO-8859-5, 0x07 ISO-8859-8,
 *   0x0A ISO-2022-JP, 0x0E KS C 5601 through the platform's TextDecoder.
 * GSM septets normally travel one per octet over SMPP; some peers pack them (7 bits each, after
 * the UDH with fill bits up to a septet boundary). `gsm7: 'auto'` reads them packed only when an
 * octet has its top bit set, which unpacked septets never have.
 *
 * Every function here is bounded by the input length (at most 64 KiB from a TLV) and never
 * throws on bad octets: undecodable input gives replacement characters, not an exception.
 */
import { TextDecoder } from 'node:util';

export type Alphabet = 'gsm7' | 'ia5' | 'latin1' | 'ucs2' | 'binary' | 'iso-8859-5' | 'iso-8859-8' | 'iso-2022-jp' | 'euc-kr' | 'unsupported';

export type Gsm7Packing = 'unpacked' | 'packed' | 'auto';

/** GSM 03.38 default alphabet, indexed by septet. 0x1B is the escape to the extension table. */
const GSM_DEFAULT =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';

/** The extension table: septet after ESC → character. */
const GSM_EXTENSION: ReadonlyMap<number, string> = new Map([
  [0x0a, '\f'],
  [0x14, '^'],
  [0x28, '{'],
  [0x29, '}'],
  [0x2f, '\\'],
  [0x3c, '['],
  [0x3d, '~'],
  [0x3e, ']'],
  [0x40, '|'],
  [0x65, '€'],
]);

const GSM_ESC = 0x1b;

const DEFAULT_DECODE: readonly string[] = Array.from(GSM_DEFAULT);
const ENCODE_DEFAULT = new Map<string, number>();
DEFAULT_DECODE.forEach((ch, i) => {
  if (i !== GSM_ESC) ENCODE_DEFAULT.set(ch, i);
});
const ENCODE_EXTENSION = new Map<string, number>();
for (const [septet, ch] of GSM_EXTENSION) ENCODE_EXTENSION.set(ch, septet);

export function alphabetOf(dataCoding: number): Alphabet {
  switch (dataCoding) {
    case 0x00:
      return 'gsm7';
    case 0x01:
      return 'ia5';
    case 0x02:
    case 0x04:
      return 'binary';
    case 0x03:
      return 'latin1';
    case 0x06:
      return 'iso-8859-5';
    case 0x07:
      return 'iso-8859-8';
    case 0x08:
      return 'ucs2';
    case 0x0a:
      return 'iso-2022-jp';
    case 0x0e:
      return 'euc-kr';
  }
  const group = dataCoding & 0xf0;
  // GSM 03.38 general data coding groups 00xx: bits 3..2 are the alphabet; compressed text (bit 5) we cannot read.
  if (group <= 0x30 && dataCoding >= 0x10) {
    if (dataCoding & 0x20) return 'unsupported';
    const bits = (dataCoding >> 2) & 0x03;
    return bits === 0 ? 'gsm7' : bits === 1 ? 'binary' : bits === 2 ? 'ucs2' : 'unsupported';
  }
  if (group === 0xc0 || group === 0xd0) return 'gsm7';
  if (group === 0xe0) return 'ucs2';
  if (group === 0xf0) return dataCoding & 0x04 ? 'binary' : 'gsm7';
  return 'unsupported';
}

/** Septets (one per array element) to text, resolving the extension table. */
export function septetsToText(septets: ArrayLike<number>, start = 0, end = septets.length): string {
  let out = '';
  for (let i = start; i < end; i++) {
    const s = septets[i]! & 0x7f;
    if (s === GSM_ESC) {
      if (i + 1 >= end) {
        out += ' '; // a lone trailing ESC: 03.38 says display a space
        break;
      }
      const next = septets[++i]! & 0x7f;
      // Unknown extension: 03.38 says show the default-table character instead.
      out += GSM_EXTENSION.get(next) ?? (next === GSM_ESC ? ' ' : DEFAULT_DECODE[next]!);
    } else {
      out += DEFAULT_DECODE[s]!;
    }
  }
  return out;
}

/** Unpack 7-bit packed septets; `fillBits` skip the padding a UDH leaves before the first septet. */
export function unpackSeptets(data: Uint8Array, fillBits = 0): number[] {
  const totalBits = data.length * 8 - fillBits;
  if (totalBits < 7) return [];
  let count = Math.floor(totalBits / 7);
  const out = new Array<number>(count);
  for (let n = 0; n < count; n++) {
    const bit = fillBits + n * 7;
    const byte = bit >> 3;
    const shift = bit & 7;
    let v = data[byte]! >> shift;
    if (shift > 1 && byte + 1 < data.length) v |= data[byte + 1]! << (8 - shift);
    out[n] = v & 0x7f;
  }
  // 7 spare bits at the end read as a final '@' (0x00): padding when one septet fewer needs as many octets.
  if (count > 0 && out[count - 1] === 0 && Math.ceil(((count - 1) * 7 + fillBits) / 8) === data.length) {
    count--;
    out.length = count;
  }
  return out;
}

/** Pack septets 7 bits each, after `fillBits` zero bits. */
export function packSeptets(septets: readonly number[], fillBits = 0): Buffer {
  const bits = fillBits + septets.length * 7;
  const out = Buffer.alloc(Math.ceil(bits / 8));
  septets.forEach((s, n) => {
    const bit = fillBits + n * 7;
    const byte = bit >> 3;
    const shift = bit & 7;
    out[byte]! |= (s << shift) & 0xff;
    if (shift > 1) out[byte + 1]! |= (s & 0x7f) >> (8 - shift);
  });
  return out;
}

/** Fill bits after a UDH of `udhOctets` octets (UDHL included) so the text starts on a septet boundary. */
export function fillBitsAfterUdh(udhOctets: number): number {
  return (7 - ((udhOctets * 8) % 7)) % 7;
}

export class EncodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EncodeError';
  }
}

/** Text to GSM 03.38 septets (extension characters as ESC + septet); throws naming the first character it cannot encode. */
export function textToSeptets(text: string): number[] {
  const out: number[] = [];
  let index = 0;
  for (const ch of text) {
    const d = ENCODE_DEFAULT.get(ch);
    if (d !== undefined) out.push(d);
    else {
      const e = ENCODE_EXTENSION.get(ch);
      if (e === undefined) throw new EncodeError(`character ${JSON.stringify(ch)} at ${index} is not in the GSM 03.38 alphabet`);
      out.push(GSM_ESC, e);
    }
    index += ch.length;
  }
  return out;
}

/** True when every character of `text` is in the GSM default alphabet or its extension table. */
export function isGsm7(text: string): boolean {
  for (const ch of text) if (!ENCODE_DEFAULT.has(ch) && !ENCODE_EXTENSION.has(ch)) return false;
  return true;
}

function ucs2Decode(data: Uint8Array): string {
  const even = data.length & ~1;
  const swapped = Buffer.allocUnsafe(even);
  for (let i = 0; i < even; i += 2) {
    swapped[i] = data[i + 1]!;
    swapped[i + 1] = data[i]!;
  }
  return swapped.toString('utf16le');
}

function ucs2Encode(text: string): Buffer {
  const out = Buffer.from(text, 'utf16le');
  for (let i = 0; i < out.length; i += 2) {
    const a = out[i]!;
    out[i] = out[i + 1]!;
    out[i + 1] = a;
  }
  return out;
}

const decoders = new Map<string, TextDecoder | null>();
function platformDecode(label: string, data: Uint8Array): string | undefined {
  let d = decoders.get(label);
  if (d === undefined) {
    try {
      d = new TextDecoder(label, { fatal: false });
    } catch {
      d = null; // node built without full ICU
    }
    decoders.set(label, d);
  }
  return d ? d.decode(data) : undefined;
}

/** One information element of a user data header. */
export interface UdhElement {
  readonly id: number;
  readonly data: Buffer;
}

/** Concatenation info from IE 0x00 (8-bit reference) or 0x08 (16-bit reference), or from the SAR TLVs. */
export interface ConcatInfo {
  readonly reference: number;
  readonly total: number;
  /** 1-based. */
  readonly seq: number;
  readonly referenceBits: 8 | 16;
}

export interface Udh {
  /** Octets of the header including the UDHL octet. */
  readonly length: number;
  readonly elements: readonly UdhElement[];
  readonly concat?: ConcatInfo;
}

export class UdhError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UdhError';
  }
}

/** Parse the user data header at the start of `data`; throws UdhError when it runs past the data. */
export function parseUdh(data: Uint8Array): Udh {
  if (data.length === 0) throw new UdhError('UDHI set but short_message is empty');
  const udhl = data[0]!;
  if (udhl + 1 > data.length) throw new UdhError(`UDH length ${udhl} runs past the ${data.length}-octet message`);
  const elements: UdhElement[] = [];
  let concat: ConcatInfo | undefined;
  let i = 1;
  while (i < udhl + 1) {
    if (i + 2 > udhl + 1) throw new UdhError(`UDH element at octet ${i} is cut short`);
    const id = data[i]!;
    const len = data[i + 1]!;
    if (i + 2 + len > udhl + 1) throw new UdhError(`UDH element 0x${id.toString(16).padStart(2, '0')} at octet ${i} runs past the header`);
    const body = Buffer.from(data.subarray(i + 2, i + 2 + len));
    elements.push({ id, data: body });
    // The last concatenation element wins (23.040 §9.2.3.24: a repeated IE, the last one applies).
    if (id === 0x00 && len === 3) concat = { reference: body[0]!, total: body[1]!, seq: body[2]!, referenceBits: 8 };
    else if (id === 0x08 && len === 4) concat = { reference: body.readUInt16BE(0), total: body[2]!, seq: body[3]!, referenceBits: 16 };
    i += 2 + len;
  }
  return concat ? { length: udhl + 1, elements, concat } : { length: udhl + 1, elements };
}

export interface DecodedText {
  readonly text: string;
  readonly alphabet: Alphabet;
  /** The UDH, when `esm_class` says there is one and it parsed. */
  readonly udh?: Udh;
  /** Why the text may be incomplete or wrong (bad UDH, odd UCS-2 length); the rest was still decoded. */
  readonly problem?: string;
}

export interface DecodeOptions {
  /** UDHI: the data starts with a user data header (esm_class bit 6). */
  readonly udhi?: boolean;
  /** How GSM septets are laid out; default 'auto'. */
  readonly gsm7?: Gsm7Packing;
  /** What 0x01 holds: 'ia5' (SMPP v3.4; default) or 'gsm7' (some peers, node-smpp among them, put GSM septets there). */
  readonly dataCoding1?: 'ia5' | 'gsm7';
}

/** Decode a short_message (or message_payload) per data_coding and esm_class. Never throws. */
export function decodeShortMessage(data: Uint8Array, dataCoding: number, options: DecodeOptions = {}): DecodedText {
  let alphabet = alphabetOf(dataCoding & 0xff);
  if (alphabet === 'ia5' && options.dataCoding1 === 'gsm7') alphabet = 'gsm7';
  let udh: Udh | undefined;
  let body = data;
  let problem: string | undefined;
  if (options.udhi) {
    try {
      udh = parseUdh(data);
      body = data.subarray(udh.length);
    } catch (err) {
      problem = (err as Error).message;
      body = data.subarray(0, 0);
    }
  }
  let text: string;
  switch (alphabet) {
    case 'gsm7': {
      const mode = options.gsm7 ?? 'auto';
      const packed = mode === 'packed' || (mode === 'auto' && body.some((b) => b > 0x7f));
      if (packed) {
        // Packed: the fill bits align the text to a septet boundary counted from the start of the UDH.
        const septets = unpackSeptets(body, udh ? fillBitsAfterUdh(udh.length) : 0);
        text = septetsToText(septets);
      } else {
        text = septetsToText(body);
      }
      break;
    }
    case 'ia5': {
      let s = '';
      for (const b of body) s += String.fromCharCode(b & 0x7f);
      text = s;
      break;
    }
    case 'latin1':
      text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('latin1');
      break;
    case 'ucs2':
      if (body.length % 2 === 1) problem ??= `UCS-2 text has an odd number of octets (${body.length}); the last one is ignored`;
      text = ucs2Decode(body);
      break;
    case 'binary':
    case 'unsupported':
      text = '';
      break;
    default: {
      const decoded = platformDecode(alphabet, body);
      if (decoded === undefined) {
        problem ??= `no decoder for ${alphabet} on this platform`;
        text = '';
      } else text = decoded;
    }
  }
  const result: { text: string; alphabet: Alphabet; udh?: Udh; problem?: string } = { text, alphabet };
  if (udh) result.udh = udh;
  if (problem) result.problem = problem;
  return result;
}

export interface EncodeOptions {
  /** Raw UDH octets (UDHL first) to put before the text. */
  readonly udh?: Uint8Array;
  /** Pack GSM septets 7 bits each (with fill bits after a UDH); default unpacked, one septet per octet. */
  readonly packed?: boolean;
}

/** Encode text for a data_coding, the inverse of decodeShortMessage; for tests, the simulator and the bench. */
export function encodeShortMessage(text: string, dataCoding: number, options: EncodeOptions = {}): Buffer {
  const udh = options.udh ? Buffer.from(options.udh) : Buffer.alloc(0);
  let body: Buffer;
  switch (alphabetOf(dataCoding)) {
    case 'gsm7': {
      const septets = textToSeptets(text);
      body = options.packed ? packSeptets(septets, udh.length ? fillBitsAfterUdh(udh.length) : 0) : Buffer.from(septets);
      break;
    }
    case 'ia5':
      for (const ch of text) if (ch.charCodeAt(0) > 0x7f) throw new EncodeError(`character ${JSON.stringify(ch)} is not IA5`);
      body = Buffer.from(text, 'latin1');
      break;
    case 'latin1':
      for (const ch of text) if (ch.length > 1 || ch.charCodeAt(0) > 0xff) throw new EncodeError(`character ${JSON.stringify(ch)} is not Latin-1`);
      body = Buffer.from(text, 'latin1');
      break;
    case 'ucs2':
      body = ucs2Encode(text);
      break;
    default:
      throw new EncodeError(`data_coding 0x${dataCoding.toString(16)} is not a text alphabet this encoder writes`);
  }
  return udh.length ? Buffer.concat([udh, body]) : body;
}

/** A concatenation UDH: IE 0x00 (8-bit reference) or 0x08 (16-bit). */
export function concatUdh(reference: number, total: number, seq: number, referenceBits: 8 | 16 = 8): Buffer {
  return referenceBits === 8
    ? Buffer.from([5, 0x00, 3, reference & 0xff, total, seq])
    : Buffer.from([6, 0x08, 4, (reference >> 8) & 0xff, reference & 0xff, total, seq]);
}
