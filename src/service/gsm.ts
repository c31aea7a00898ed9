/**
 * How long a reply is as an SMS: GSM 03.38 septets (the 7-bit default alphabet, with the
 * extension table's characters counting two). Replies embed what subscribers and senders
 * wrote (senders, keywords, spam snippets), so those parts are made GSM-safe first: one
 * emoji would switch the whole SMS to UCS-2 and cut it from 160 characters to 70.
 */

const BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const EXTENSION = '^{}\\[~]|€\f';

const basic = new Set(BASIC);
const extension = new Set(EXTENSION);

/** Characters of one SMS in the GSM 7-bit alphabet. */
export const SMS_SEPTETS = 160;

/** Septets the text takes in GSM 03.38, or undefined when it has a character outside it. */
export function gsmLength(text: string): number | undefined {
  let n = 0;
  for (const ch of text) {
    if (basic.has(ch)) n += 1;
    else if (extension.has(ch)) n += 2;
    else return undefined;
  }
  return n;
}

const LOOKALIKE: Readonly<Record<string, string>> = {
  '‘': "'", '’': "'", '‚': "'", '′': "'", '“': '"', '”': '"', '„': '"', '″': '"',
  '–': '-', '—': '-', '‐': '-', '−': '-', '…': '...', '\t': ' ', '\u00a0': ' ', '•': '*', '·': '.',
};

/** The text in the GSM alphabet: accents dropped where GSM lacks them, look-alikes mapped, anything else `?`. */
export function toGsm(text: string): string {
  let out = '';
  for (const ch of text) {
    if (basic.has(ch) || extension.has(ch)) out += ch;
    else if (LOOKALIKE[ch] !== undefined) out += LOOKALIKE[ch];
    else {
      const bare = ch.normalize('NFD').replace(/\p{M}+/gu, '');
      out += bare.length > 0 && [...bare].every((c) => basic.has(c)) ? bare : '?';
    }
  }
  return out;
}

/** Cut the text to at most `septets` GSM septets (never splitting an extension character), adding `…`-like `..` when cut. */
export function gsmTruncate(text: string, septets: number): string {
  const safe = toGsm(text);
  if ((gsmLength(safe) ?? Infinity) <= septets) return safe;
  let out = '';
  let n = 0;
  const budget = Math.max(septets - 2, 0);
  for (const ch of safe) {
    const w = extension.has(ch) ? 2 : 1;
    if (n + w > budget) break;
    out += ch;
    n += w;
  }
  return out + '..'.slice(0, septets - n);
}
