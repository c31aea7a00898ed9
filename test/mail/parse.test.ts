import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { MailParseError, parseEmail, decodeEncodedWords, readsDirectly } from '../../src/mail/parse.js';
import { htmlToText } from '../../src/mail/html.js';

const FIX = resolve(__dirname, '../fixtures/mail');
const read = (p: string): Buffer => readFileSync(resolve(FIX, p));

describe('parseEmail', () => {
  it('decodes encoded-word subjects, addresses, HTML bodies and their links', async () => {
    const { input, defects, date } = await parseEmail(read('eml/nested/html.eml'), 'x');
    expect(input.channel).toBe('email');
    expect(input.email.subject).toBe('You have won £1000');
    expect(input.email.fromAddress).toBe('winner@prizes.example');
    expect(input.email.fromDomain).toBe('prizes.example');
    expect(input.email.replyToDomain).toBe('hotmail.com');
    expect(input.email.html).toBe(true);
    expect(input.email.linkUrls).toEqual(['http://claim.prizes.example/now']);
    expect(input.text).toBe('You have won £1000\nCongratulations! Click here to claim your £1000 cash prize.');
    expect(input.from).toBe('winner@prizes.example');
    expect(date).toBe('2002-10-08T09:30:00.000Z');
    expect(defects).toEqual([]);
  });

  it('lists attachments with name, type and size, and decodes the text part charset', async () => {
    const { input } = await parseEmail(read('maildir/cur/1002.host:2,'), 'x');
    expect(input.email.attachments).toEqual([{ filename: 'report.pdf', contentType: 'application/pdf', size: 15 }]);
    expect(input.text).toContain('Café receipts');
    expect(input.email.headers.get('subject')).toEqual(['Report']);
  });

  it('scores a truncated message but says it was cut short', async () => {
    const { input, defects } = await parseEmail(read('eml/broken/truncated.eml'), 'x');
    expect(input.text).toContain('The report is attached');
    expect(defects).toEqual([expect.stringMatching(/^truncated: closing MIME boundary "--XYZ--" missing/)]);
  });

  it('reads the body of a multipart message whose boundary never appears', async () => {
    const { input, defects } = await parseEmail(read('eml/broken/missing-boundary.eml'), 'x');
    expect(input.text).toContain('Cheap meds here');
    expect(defects[0]).toMatch(/missing MIME boundary: "never-used"/);
  });

  it('names an unknown charset and bytes invalid in the declared one', async () => {
    const unknown = await parseEmail(read('eml/broken/wrong-charset.eml'), 'x');
    expect(unknown.defects).toContain('unknown charset "x-unknown-charset": decoded as best effort');
    const bad = await parseEmail(read('eml/broken/bad-utf8.eml'), 'x');
    expect(bad.defects).toEqual([expect.stringMatching(/^2 byte sequence\(s\) not valid in the declared charset/)]);
    expect(bad.input.text).toContain('Latin-1 bytes');
  });

  it('refuses binary garbage with a clear error naming the message', async () => {
    await expect(parseEmail(read('eml/broken/garbage.eml'), 'g1')).rejects.toThrow(MailParseError);
    await expect(parseEmail(read('eml/broken/garbage.eml'), 'g1')).rejects.toThrow(/not an email: no header block/);
    await expect(parseEmail(Buffer.alloc(0), 'g2')).rejects.toThrow(/empty message/);
    await expect(parseEmail(Buffer.from('Subject: x\n\u0000\u0001\u0002\u0003\n\u0000\u0000'.repeat(3)), 'g3')).rejects.toThrow(/control bytes/);
  });

  it('gives up on one message after the time limit', async () => {
    // 3,000 MIME parts keep mailparser busy for tens of milliseconds: far past a 1 ms limit.
    const parts = Array.from({ length: 3000 }, (_, i) => `--b\r\nContent-Type: text/plain\r\n\r\npart ${i}\r\n`).join('');
    const raw = Buffer.from(`From: a@example.org\r\nSubject: many parts\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n${parts}--b--\r\n`);
    await expect(parseEmail(raw, 't1', { timeoutMs: 1, fastPath: false })).rejects.toThrow(/longer than 1 ms/);
  });

  it('decodes simple messages and common multiparts directly to what mailparser gives, bar Windows-1252 quotes', async () => {
    const { loadSpamAssassin } = await import('../../src/mail/corpus.js');
    const corpus = loadSpamAssassin().filter((_, i) => i % 4 === 0);
    let same = 0;
    const differing: string[] = [];
    for (const m of corpus) {
      const fast = await parseEmail(m.raw, m.id);
      const slow = await parseEmail(m.raw, m.id, { fastPath: false });
      // Subjects too: an ISO-8859-1 encoded word with 0x80-0x9f (Parhelia=99) reads as ™ here.
      const key = (p: typeof fast) => JSON.stringify([p.input.email.subject.replace(/[^\x00-\x7f]/g, ''), p.input.email.fromAddress, p.input.email.replyToAddress, p.input.to, p.input.time, p.input.email.html, p.input.email.linkUrls, [...p.input.email.headers]]);
      expect(key(fast)).toBe(key(slow));
      // mailparser drops or keeps as C1 controls the bytes 0x80-0x9f of ISO-8859-1 text; TextDecoder
      // reads them as Windows-1252 quotes and dashes, as browsers do. Nothing else may differ.
      if (fast.input.text === slow.input.text) same++;
      else {
        const ascii = (t: string) => t.replace(/[^\x00-\x7f]/g, '');
        expect(ascii(fast.input.text)).toBe(ascii(slow.input.text));
        differing.push(m.id);
      }
    }
    expect(same / corpus.length).toBeGreaterThan(0.98);
  });

  it('reads common multiparts directly to what mailparser gives: text, HTML, attachments, nesting', async () => {
    const mail = (ctype: string, body: string[]): Buffer =>
      Buffer.from(['From: "A" <a@b.example>', 'To: c@d.example', 'Subject: parts', 'MIME-Version: 1.0', `Content-Type: ${ctype}`, '', ...body, ''].join('\r\n'));
    const alternative = ['--alt', 'Content-Type: text/plain; charset=iso-8859-1', 'Content-Transfer-Encoding: quoted-printable', '', 'Caf=E9 soft=', 'break =', '--alt', 'Content-Type: text/html', '', '<p>Caf&eacute; <a href="http://x.example/a">link</a></p>', '--alt--'];
    const cases: Buffer[] = [
      mail('multipart/alternative; boundary="alt"', ['preamble', ...alternative, 'epilogue']),
      mail('multipart/mixed; boundary=mix', ['--mix', 'Content-Type: multipart/alternative; boundary="alt"', '', ...alternative, '--mix', 'Content-Type: application/pdf; name="r.pdf"', 'Content-Transfer-Encoding: base64', '', 'JVBERi0xLjQK', 'AAAA', '--mix--']),
      mail('multipart/related; boundary=rel', ['--rel', 'Content-Type: text/html; charset=utf-8', '', '<b>hi</b> <img src="cid:1">', '--rel', 'Content-Type: image/gif', 'Content-ID: <1>', 'Content-Transfer-Encoding: base64', '', 'R0lGODlhAQABAAAAACw=', '--rel--']),
      mail('multipart/signed; boundary=sig; protocol="application/pgp-signature"', ['--sig', '', 'signed text with no part headers', '--sig', 'Content-Type: application/pgp-signature', '', '-----BEGIN PGP SIGNATURE-----', '--sig--']),
      mail('text/plain; charset=utf-8; format=flowed; delsp=yes', ['A long line that was ', 'wrapped by the sender ', 'and unwrapped here.', '> quoted and ', '> wrapped', ' stuffed line', '-- ', 'signature']),
      mail('text/plain; format=flowed', ['no delsp ', 'join', '>> deep ', '> shallow']),
      // Not read directly (two text bodies outside an alternative, an encoded name, a digest,
      // no closing boundary): mailparser's answer all the same.
      mail('multipart/mixed; boundary=two', ['--two', 'Content-Type: text/plain', '', 'one', '--two', 'Content-Type: text/html', '', '<i>two</i>', '--two--']),
      mail('multipart/mixed; boundary=enc', ['--enc', '', 'body', '--enc', 'Content-Type: application/zip; name="=?utf-8?q?r=C3=A9sum=C3=A9.zip?="', '', 'PK', '--enc--']),
      mail('multipart/digest; boundary=dig', ['--dig', '', 'From: x@y.example', '', 'inner', '--dig--']),
      mail('multipart/mixed; boundary=cut', ['--cut', 'Content-Type: text/plain', '', 'cut short']),
    ];
    expect(cases.map(readsDirectly)).toEqual([true, true, true, true, true, true, false, false, false, false]);
    for (const raw of cases) {
      const fast = await parseEmail(raw, 'm');
      const slow = await parseEmail(raw, 'm', { fastPath: false });
      expect(fast.input.text).toBe(slow.input.text);
      expect(fast.input.email).toEqual(slow.input.email);
      expect(fast.defects).toEqual(slow.defects);
    }
    const mixed = await parseEmail(cases[1]!, 'm');
    expect(mixed.input.email.attachments).toEqual([{ filename: 'r.pdf', contentType: 'application/pdf', size: 12 }]);
    expect(mixed.input.text).toBe('parts\nCafé softbreak ');
  });

  it('reads clean base64 text directly, and leaves base64 with padding inside it to mailparser', async () => {
    const b64 = (s: string): string => Buffer.from(s, 'latin1').toString('base64');
    const mail = (ctype: string, body: string[]): Buffer =>
      Buffer.from(['From: a@b.example', 'To: c@d.example', 'Subject: b64', 'MIME-Version: 1.0', `Content-Type: ${ctype}`, 'Content-Transfer-Encoding: base64', '', ...body, ''].join('\r\n'));
    const wrapped = b64('Caf\xe9 menu\r\nline two\r\n').match(/.{1,8}/g)!;
    const cases = [
      mail('text/plain; charset=iso-8859-1', wrapped),
      mail('text/html; charset=utf-8', [b64('<p>caf\xc3\xa9 <a href="http://x.example/">x</a></p>')]),
      // Two encoded pieces, the first padded: mailparser decodes past the padding.
      mail('text/plain', [b64('ab'), b64('cdef')]),
    ];
    expect(cases.map(readsDirectly)).toEqual([true, true, false]);
    for (const raw of cases) {
      const fast = await parseEmail(raw, 'm');
      const slow = await parseEmail(raw, 'm', { fastPath: false });
      expect(fast.input.text).toBe(slow.input.text);
      expect(fast.input.email).toEqual(slow.input.email);
    }
    expect((await parseEmail(cases[0]!, 'm')).input.text).toBe('b64\nCafé menu\nline two\n');
  });

  it('caps the text handed to rules', async () => {
    const big = Buffer.from(`From: a@b.example\nSubject: big\n\n${'word '.repeat(100_000)}\n`);
    const { input } = await parseEmail(big, 'b', { maxTextChars: 1000 });
    expect(input.text.length).toBeLessThanOrEqual(1000 + 'big\n'.length);
    expect(input.email.size).toBe(big.length);
  });
});

describe('the parts no score reads (unscored, for the experiment)', () => {
  const alternative = Buffer.from(
    'From: a@b.example\nTo: c@d.example\nSubject: News\nMIME-Version: 1.0\n' +
      'Content-Type: multipart/alternative; boundary="B"\n\n--B\nContent-Type: text/plain\n\nPlain words of the letter.\n' +
      '--B\nContent-Type: text/html\n\n<html><body><!-- x --><font color="#ffffff" size="+3">Plain words</font> of the <b>letter</b>.<img src="a.gif"></body></html>\n--B--\n',
  );

  it('are left out unless asked for, and the fields scored are the same either way', async () => {
    const plain = await parseEmail(alternative, 'x');
    expect(plain.input.email.unscored).toBeUndefined();
    const asked = await parseEmail(alternative, 'x', { unscored: true });
    const { unscored, ...rest } = asked.input.email;
    expect(rest).toEqual(plain.input.email);
    expect(asked.input.text).toBe(plain.input.text);
    expect(plain.input.text).toBe('News\nPlain words of the letter.');
    expect(unscored?.otherText).toBe('Plain words of the letter.');
    expect(unscored?.htmlStructure).toEqual(
      expect.arrayContaining(['ht:html', 'ht:body', 'ht:font', 'ha:font.color', 'ha:font.size', 'hf:comment', 'hf:white', 'hf:bigfont', 'ht:img', 'hf:img:1', 'hf:text:<200']),
    );
  });
});

describe('htmlToText', () => {
  it('keeps visible words, drops scripts and styles, decodes entities, collects hrefs', () => {
    const r = htmlToText(
      '<html><head><title>T</title><style>p{color:red}</style><script>var x="<b>no</b>";</script></head>' +
        '<body><p>Fish &amp; chips&nbsp;&#163;5 &#x20AC;6</p><!-- hidden --><a href="http://a.example/?x=1&amp;y=2">go</a>' +
        " <a href='https://b.example/'>b</a><area href=http://c.example/></body></html>",
    );
    expect(r.text).toBe('Fish & chips £5 €6\ngo b');
    expect(r.hrefs).toEqual(['http://a.example/?x=1&y=2', 'https://b.example/', 'http://c.example/']);
  });

  it('does not hide the rest of a document behind an unclosed script', () => {
    expect(htmlToText('<script>x<p>visible words</p>').text).toContain('visible words');
  });
});

describe('decodeEncodedWords', () => {
  it('joins adjacent encoded words and leaves unknown charsets alone', () => {
    expect(decodeEncodedWords('=?utf-8?Q?Caf=C3=A9?= =?utf-8?B?IOKCrA==?= ok')).toBe('Café € ok');
    expect(decodeEncodedWords('=?x-nope?Q?a?=')).toBe('=?x-nope?Q?a?=');
  });
});
