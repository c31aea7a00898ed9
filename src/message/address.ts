/**
 * Addresses in canonical form: E.164 numbers, short codes, alphanumeric sender IDs, email.
 * Parsing uses libphonenumber-js; results for national numbers are cached because parsing
 * costs microseconds and the same numbers recur at a gateway.
 */
import { createRequire } from 'node:module';
import type { CountryCode } from 'libphonenumber-js';
import type { Address } from './types.js';

type PhoneLibrary = typeof import('libphonenumber-js');

const require = createRequire(import.meta.url);

/** What of libphonenumber's metadata is read here: per region, its calling code first. */
interface RegionMetadata {
  readonly countries: Readonly<Record<string, readonly [string, ...unknown[]]>>;
}

let regionMetadata: RegionMetadata | undefined;
let phoneLibrary: PhoneLibrary | undefined;

/**
 * libphonenumber's metadata file alone (5 ms) validates a region and gives its calling code;
 * the library (45 ms to load) comes only when a national number is parsed, which a mail scan's
 * workers and most messages at a gateway (already E.164) never need.
 */
function regions(): RegionMetadata {
  return (regionMetadata ??= require('libphonenumber-js/metadata.min.json') as RegionMetadata);
}

function phoneLibraryLoaded(): PhoneLibrary {
  return (phoneLibrary ??= require('libphonenumber-js') as PhoneLibrary);
}

function isSupportedCountry(region: string): boolean {
  return Object.hasOwn(regions().countries, region);
}

function getCountryCallingCode(region: CountryCode): string {
  return regions().countries[region]![0];
}

export type { CountryCode };

const E164 = /^\+[1-9]\d{6,14}$/;
const SHORT_CODE = /^\d{3,8}$/;
const NUMBER_CHARS = /^[+(\d][\d\s().-]*$/;
const ALNUM_SENDER = /^[\p{L}\p{N} ._&'-]{1,20}$/u;

/** E164 without the regex: most addresses at a gateway already are canonical numbers. */
function isE164(s: string): boolean {
  const n = s.length;
  if (n < 8 || n > 16 || s.charCodeAt(0) !== 0x2b) return false;
  const first = s.charCodeAt(1);
  if (first < 0x31 || first > 0x39) return false;
  for (let i = 2; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** Throws when a region is not an ISO 3166 code libphonenumber knows. */
export function assertRegion(region: string): CountryCode {
  const upper = region.toUpperCase();
  if (!isSupportedCountry(upper)) throw new Error(`unknown region '${region}': expected an ISO 3166 country code such as GB, US, KE`);
  return upper as CountryCode;
}

export class AddressNormaliser {
  private readonly cache = new Map<string, Address>();
  private readonly callingCode: string;

  constructor(readonly region: CountryCode = 'GB', private readonly cacheLimit = 100_000) {
    this.callingCode = getCountryCallingCode(region);
  }

  normalise(raw: string): Address {
    if (isE164(raw)) return { raw, value: raw, kind: 'e164' };
    const trimmed = raw.trim();
    // Untrimmed, it is not E.164 (isE164 said so): no need to ask the regex again.
    if (trimmed !== raw && E164.test(trimmed)) return { raw, value: trimmed, kind: 'e164' };
    const hit = this.cache.get(trimmed);
    if (hit !== undefined) return hit;
    const address = this.parse(raw, trimmed);
    if (this.cache.size >= this.cacheLimit) this.cache.clear(); // cheap bound; a gateway's working set refills it
    this.cache.set(trimmed, address);
    return address;
  }

  private parse(raw: string, s: string): Address {
    if (s.includes('@')) return { raw, value: s.toLowerCase(), kind: 'email' };
    if (NUMBER_CHARS.test(s)) {
      const digits = s.replace(/[^\d+]/g, '');
      if (SHORT_CODE.test(digits) && !digits.startsWith('0')) return { raw, value: digits, kind: 'shortcode' };
      const international = digits.startsWith('00') ? '+' + digits.slice(2) : digits;
      const parsed = phoneLibraryLoaded().parsePhoneNumberFromString(international, this.region);
      if (parsed && parsed.isPossible()) return { raw, value: parsed.number, kind: 'e164' };
      if (SHORT_CODE.test(digits)) return { raw, value: digits, kind: 'shortcode' };
      return { raw, value: digits, kind: 'unknown' };
    }
    if (ALNUM_SENDER.test(s)) return { raw, value: s.toUpperCase().replace(/\s+/g, ''), kind: 'alphanumeric' };
    return { raw, value: s, kind: 'unknown' };
  }

  /**
   * A number prefix as typed by a person ("0900", "+44900", "0044900") in E.164 form,
   * or undefined when it is not a national or international prefix.
   */
  internationalPrefix(prefix: string): string | undefined {
    const digits = prefix.replace(/[\s().-]/g, '');
    if (/^\+\d+$/.test(digits)) return digits;
    if (/^00\d+$/.test(digits)) return '+' + digits.slice(2);
    if (/^0\d+$/.test(digits)) return '+' + this.callingCode + digits.slice(1);
    return undefined;
  }
}
