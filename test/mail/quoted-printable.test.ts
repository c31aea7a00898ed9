/**
 * The direct decoder's quoted-printable (src/mail/parse.ts): soft breaks, =XX bytes, blanks
 * added at line ends in transport, and stray '=' signs, as RFC 2045 6.7 reads them.
 */
import { describe, expect, it } from 'vitest';
import { parseEmail } from '../../src/mail/parse.js';

async function bodyOf(qp: string, charset = 'utf-8'): Promise<string> {
  const raw = Buffer.from(`Subject: t\nContent-Type: text/plain; charset=${charset}\nContent-Transfer-Encoding: quoted-printable\n\n${qp}`, 'latin1');
  const p = await parseEmail(raw, 'qp-test');
  return p.input.text.slice('t\n'.length);
}

describe('quoted-printable bodies', () => {
  it('joins soft line breaks, LF or CRLF, also with blanks after the =', async () => {
    expect(await bodyOf('Hel=\nlo wor=\r\nld, ag= \t\nain')).toBe('Hello world, again');
  });

  it('decodes =XX in either case into bytes of the declared charset', async () => {
    expect(await bodyOf('caf=C3=A9 =e2=82=ac5')).toBe('café €5');
    expect(await bodyOf('caf=E9', 'iso-8859-1')).toBe('café');
  });

  it('drops blanks at the end of a line but keeps blanks inside it', async () => {
    expect(await bodyOf('one  two \t\nthree')).toBe('one  two\nthree');
  });

  it('keeps a stray = that starts no escape', async () => {
    expect(await bodyOf('a=b 2+2=4 x=4g end=')).toBe('a=b 2+2=4 x=4g end=');
  });
});
