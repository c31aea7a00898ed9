import { describe, expect, it } from 'vitest';
import { AddressNormaliser, assertRegion } from '../../src/message/address.js';

describe('addresses in canonical form', () => {
  const gb = new AddressNormaliser('GB');

  it('keeps E.164, and turns national and 00-prefixed numbers into E.164 for the default region', () => {
    expect(gb.normalise('+447700900123')).toMatchObject({ value: '+447700900123', kind: 'e164' });
    expect(gb.normalise('07700 900123')).toMatchObject({ value: '+447700900123', kind: 'e164' });
    expect(gb.normalise('(07700) 900-123')).toMatchObject({ value: '+447700900123', kind: 'e164' });
    expect(gb.normalise('0044 7700 900123')).toMatchObject({ value: '+447700900123', kind: 'e164' });
    expect(new AddressNormaliser(assertRegion('ke')).normalise('0712 345678')).toMatchObject({ value: '+254712345678', kind: 'e164' });
  });

  it('recognises short codes and alphanumeric sender IDs', () => {
    expect(gb.normalise('87121')).toMatchObject({ value: '87121', kind: 'shortcode' });
    expect(gb.normalise('Prize Draw')).toMatchObject({ value: 'PRIZEDRAW', kind: 'alphanumeric' });
  });

  it('lower-cases email addresses', () => {
    expect(gb.normalise('Bob@Example.COM')).toMatchObject({ value: 'bob@example.com', kind: 'email' });
  });

  it('turns national prefixes typed by people into international ones', () => {
    expect(gb.internationalPrefix('0900')).toBe('+44900');
    expect(gb.internationalPrefix('+2547')).toBe('+2547');
    expect(gb.internationalPrefix('00254')).toBe('+254');
  });

  it('refuses an unknown region', () => {
    expect(() => assertRegion('XX')).toThrow(/unknown region 'XX'/);
  });
});

describe('regions read from libphonenumber metadata without loading the library', () => {
  it('accepts exactly the regions libphonenumber supports, each with its calling code', async () => {
    const lib = await import('libphonenumber-js');
    const countries = lib.getCountries();
    expect(countries.length).toBeGreaterThan(200);
    for (const region of countries) {
      expect(assertRegion(region.toLowerCase())).toBe(region);
      expect(new AddressNormaliser(region).internationalPrefix('0123')).toBe(`+${lib.getCountryCallingCode(region)}123`);
    }
    for (const notOne of ['XX', 'UK', 'EU', 'ZZ', 'constructor', '__proto__']) expect(() => assertRegion(notOne)).toThrow(/unknown region/);
  });
});
