import { describe, expect, it } from 'vitest';
import { analyseText, phraseWords } from '../../src/text/analysis.js';
import { foldText } from '../../src/text/fold.js';
import { registrableDomain } from '../../src/text/urls.js';

const words = (t: string) => analyseText(t).words;

describe('text normalisation undoes what spammers do', () => {
  it('folds case and NFKC (fullwidth letters and digits)', () => {
    expect(words('ＦＲＥＥ １００ Entry')).toEqual(['free', '100', 'entry']);
  });

  it('maps Cyrillic and Greek look-alikes hidden in Latin words', () => {
    expect(words('Frее mоnеy')).toEqual(['free', 'money']); // е and о are Cyrillic
    expect(words('Рау now')).toEqual(['pay', 'now']); // all-Cyrillic word inside Latin text
    expect(analyseText('Frее').obfuscations).toBeGreaterThan(0);
  });

  it('keeps genuine Cyrillic text intact', () => {
    const a = analyseText('Привет, как дела?');
    expect(a.script).toBe('cyrillic');
    expect(a.words).toEqual(['привет', 'как', 'дела']);
  });

  it('undoes leetspeak inside words but leaves numbers with units alone', () => {
    expect(words('FR33 v1agra c@sh')).toEqual(['free', 'viagra', 'cash']);
    expect(words('meet at 10am on the 21st, 150p per msg')).toEqual(['meet', 'at', '10am', 'on', 'the', '21st', '150p', 'per', 'msg']);
  });

  it('joins letters split by separators: f.r.e.e, f-r-e-e, f r e e', () => {
    expect(words('f.r.e.e entry')).toEqual(['free', 'entry']);
    expect(words('get f-r-e-e stuff')).toEqual(['get', 'free', 'stuff']);
    expect(words('f r e e  c a s h')).toEqual(['free', 'cash']);
    expect(words('f.r.e.e  f r e e')).toEqual(['free', 'free']);
  });

  it('does not join ordinary short words', () => {
    expect(words('u r a star')).toEqual(['u', 'r', 'a', 'star']);
  });

  it('removes zero-width and bidi characters and turns controls into spaces', () => {
    expect(words('fr\u200bee\u200d mo\u2060ney')).toEqual(['free', 'money']);
    expect(words('free\u0007money')).toEqual(['free', 'money']);
    expect(foldText('a\u202Eb').text).toBe('ab');
  });

  it('drops accents and strike-through marks on Latin letters', () => {
    expect(words('frée f̶r̶e̶e̶')).toEqual(['free', 'free']);
  });

  it('extracts URL hosts, registrable domains and shorteners, and keeps URLs out of words', () => {
    const a = analyseText('Pay at https://secure.paypal-login.co.uk/verify or bit.ly/x1 now');
    expect(a.urls.map((u) => [u.host, u.domain, u.shortener])).toEqual([
      ['secure.paypal-login.co.uk', 'paypal-login.co.uk', false],
      ['bit.ly', 'bit.ly', true],
    ]);
    expect(a.words).toEqual(['pay', 'at', 'or', 'now']);
    expect(analyseText('see you at end.Then go').urls).toEqual([]);
    expect(analyseText('mail me at bob@example.com').urls).toEqual([]);
    expect(registrableDomain('a.b.example.com')).toBe('example.com');
  });

  it('finds the links in a text that begins with a dot (the precheck once stopped at a dot in first place)', () => {
    for (const text of ['.Visit www.evil.tk now', '.visit www.evil.tk now', '...www.evil.tk', '. Pay at evil.tk']) {
      expect(analyseText(text).urls.map((u) => u.host)).toEqual([text.includes('www') ? 'www.evil.tk' : 'evil.tk']);
    }
  });

  it('finds phone numbers and money amounts', () => {
    const a = analyseText('Call 09061 701461 or +44 7700 900123 to claim £1,000 or 500 pounds');
    expect(a.phoneNumbers).toEqual(['09061701461', '+447700900123']);
    expect(a.moneyAmounts).toEqual(['£1,000', '500 pounds']);
  });

  it('measures length, capitals and script', () => {
    const a = analyseText('URGENT call now');
    expect(a.length).toBe(15);
    expect(a.capsRatio).toBeCloseTo(6 / 13);
    expect(a.script).toBe('latin');
  });

  it('normalises keywords exactly like message text', () => {
    expect(phraseWords('FREE Entry!')).toEqual(['free', 'entry']);
    expect(phraseWords('fr33 entry')).toEqual(['free', 'entry']);
  });
});
