/**
 * URL extraction from folded text: hosts, registrable domains and link shorteners.
 * Without a scheme a host needs a known top-level domain, so "end.then" is not a URL.
 */

export interface UrlInfo {
  /** As found in the text (lower case). */
  readonly url: string;
  /** Host name without port, e.g. `secure-login.example.co.uk`. */
  readonly host: string;
  /** Registrable domain, e.g. `example.co.uk`. */
  readonly domain: string;
  /** True for known link shorteners (bit.ly, tinyurl.com, …): the real target is hidden. */
  readonly shortener: boolean;
  /** True when the host is a literal IP address. */
  readonly ipHost: boolean;
}

const SHORTENERS: ReadonlySet<string> = new Set([
  'bit.ly', 'bitly.com', 'tinyurl.com', 'goo.gl', 't.co', 'ow.ly', 'is.gd', 'buff.ly', 'cutt.ly',
  'rebrand.ly', 'tiny.cc', 'shorturl.at', 'rb.gy', 't.ly', 'bl.ink', 's.id', 'v.gd', 'lnkd.in',
  'qrco.de', 'tr.im', 'x.co', 'soo.gd', 'clck.ru', 'shorte.st', 'adf.ly', 'bit.do', 'mcaf.ee',
  'u.to', 'short.io', 'urlz.fr', 'tiny.one', 'rotf.lol', 'shrtco.de', 'inx.lv', 'j.mp',
]);

/** Top-level domains accepted without a scheme (common ones plus those favoured by spammers). */
const BARE_TLDS: ReadonlySet<string> = new Set(
  (
    'com net org info biz co io me ly tk ml ga cf gq xyz top club online site shop store app ' +
    'live link click icu vip win bid loan work pw cc ws su ru cn de fr it es nl eu us ca au in uk ' +
    'ie nz za ke ng gh ug tz br mx ar pl cz sk hu ro bg gr pt se no dk fi at ch be lu tr ua by kz ' +
    'jp kr hk sg my ph id th vn pk bd lk ae sa qa eg ma tn gov edu mobi name pro asia tv fm am ' +
    'to gg im sh ac ai gl gs st ms la cx website space tech today world email support help ' +
    'money finance loans bank cash'
  ).split(' '),
);

/** Second-level labels under country codes that act like a TLD (example.co.uk). */
const SECOND_LEVEL = new Set(['co', 'com', 'net', 'org', 'gov', 'ac', 'edu', 'ltd', 'plc', 'me', 'or', 'ne', 'go']);

const URL_PATTERN =
  /\b(?:(?:https?|hxxps?):\/\/[^\s<>"'()]+|(?:www\.)?(?:[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?\.)+[a-z]{2,24}(?::\d{1,5})?(?:\/[^\s<>"'()]*)?)/g;
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

export function isShortener(host: string): boolean {
  return SHORTENERS.has(host);
}

/** Registrable domain by a light public-suffix rule: `a.b.example.co.uk` → `example.co.uk`. */
export function registrableDomain(host: string): string {
  // By the positions of the last dots rather than splitting into labels (a URL's worth of
  // strings per message otherwise).
  const last = host.lastIndexOf('.');
  const second = last > 0 ? host.lastIndexOf('.', last - 1) : -1;
  if (second < 0 || IPV4.test(host)) return host; // two labels or fewer, or an IP address
  const third = second > 0 ? host.lastIndexOf('.', second - 1) : -1;
  const takeThree = host.length - last - 1 === 2 && SECOND_LEVEL.has(host.slice(second + 1, last));
  if (!takeThree) return host.slice(second + 1);
  return third < 0 ? host : host.slice(third + 1);
}

/** Parse one URL-ish string into its parts, or undefined when it has no plausible host. */
export function parseUrl(raw: string): UrlInfo | undefined {
  const lower = raw.toLowerCase();
  let rest = lower;
  const scheme = /^(?:https?|hxxps?):\/\//.exec(rest);
  if (scheme) rest = rest.slice(scheme[0].length);
  const at = rest.indexOf('@');
  const slash = rest.search(/[/?#]/);
  if (at >= 0 && (slash < 0 || at < slash)) rest = rest.slice(at + 1); // user:pass@host
  let host = rest.split(/[/?#:]/, 1)[0] ?? '';
  host = host.replace(/\.+$/, '');
  if (!host || !host.includes('.')) return undefined;
  if (!scheme) {
    const tld = host.slice(host.lastIndexOf('.') + 1);
    if (!IPV4.test(host) && !BARE_TLDS.has(tld)) return undefined;
  }
  return {
    url: lower.replace(/[.,;:!?]+$/, ''),
    host,
    domain: registrableDomain(host),
    shortener: SHORTENERS.has(host),
    ipHost: IPV4.test(host),
  };
}

const LONGEST_BARE_TLD = Math.max(...[...BARE_TLDS].map((t) => t.length));

/** A run of lower-case ASCII letters as a number, base 27 ('a' is 1): exact up to 11 letters. */
function letterCode(letters: string): number {
  let code = 0;
  for (let i = 0; i < letters.length; i++) code = code * 27 + (letters.charCodeAt(i) - 0x60);
  return code;
}

/** BARE_TLDS by letterCode: the precheck compares the letters after a dot without slicing them out. */
const BARE_TLD_CODES: ReadonlySet<number> = new Set([...BARE_TLDS].map(letterCode));

/**
 * Cheap precheck before the URL regex (also used on ASCII text before lower-casing it): without "://", a URL is accepted only when its
 * top-level domain is a known one, and the regex takes the whole run of letters after a dot
 * (preceded by a letter or digit) as that domain. So unless such a run is in BARE_TLDS the
 * regex would find nothing acceptable: "Hi.How are you" and "lar...Joking" skip it.
 */
export function mayHoldUrl(text: string, upperToo = false): boolean {
  if (text.includes('://')) return true;
  // upperToo: the text is not lower-cased yet; answer as for its (ASCII) lower case.
  const caseBit = upperToo ? 0x20 : 0;
  let dot = text.indexOf('.');
  while (dot > 0) {
    let before = text.charCodeAt(dot - 1);
    if (before >= 0x41 && before <= 0x5a) before |= caseBit;
    if ((before >= 0x61 && before <= 0x7a) || (before >= 0x30 && before <= 0x39)) {
      let end = dot + 1;
      let code = 0;
      while (end < text.length) {
        let c = text.charCodeAt(end);
        if (c >= 0x41 && c <= 0x5a) c |= caseBit;
        if (c < 0x61 || c > 0x7a) break;
        code = code * 27 + (c - 0x60);
        end++;
      }
      const letters = end - dot - 1;
      if (letters >= 2 && letters <= LONGEST_BARE_TLD && BARE_TLD_CODES.has(code)) return true;
    }
    dot = text.indexOf('.', dot + 1);
  }
  return false;
}

/** A URL with its position in the folded text. */
export interface FoundUrl extends UrlInfo {
  readonly start: number;
  readonly end: number;
}

/** Every URL in a folded text, with positions. Cheap when there is none: a dot is required. */
export function extractUrls(folded: string): FoundUrl[] {
  if (!mayHoldUrl(folded)) return [];
  const found: FoundUrl[] = [];
  URL_PATTERN.lastIndex = 0;
  for (let m = URL_PATTERN.exec(folded); m !== null; m = URL_PATTERN.exec(folded)) {
    // An email address is not a URL: skip a host directly preceded by '@'.
    if (m.index > 0 && folded.charCodeAt(m.index - 1) === 0x40) continue;
    const info = parseUrl(m[0]);
    // Fields copied by name: an object spread here cost more than parsing the URL.
    if (info) {
      found.push({ url: info.url, host: info.host, domain: info.domain, shortener: info.shortener, ipHost: info.ipHost, start: m.index, end: m.index + m[0].length });
    }
  }
  return found;
}
