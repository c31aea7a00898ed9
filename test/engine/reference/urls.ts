// Frozen copy of the URL extraction as it was before the hot-path work (commit fb49e5e), kept as
// the oracle for test/engine/analysis-equivalence.test.ts. Do not optimise this file.
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
  if (IPV4.test(host)) return host;
  const labels = host.split('.');
  if (labels.length <= 2) return host;
  const tld = labels[labels.length - 1]!;
  const second = labels[labels.length - 2]!;
  const take = tld.length === 2 && SECOND_LEVEL.has(second) ? 3 : 2;
  return labels.slice(-take).join('.');
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

/**
 * Cheap precheck before the URL regex: a URL needs a dot between a letter or digit and a
 * letter ("example.com"), or "://". Most SMS only have dots ending sentences.
 */
function mayHoldUrl(text: string): boolean {
  // Fixed here as in src (8 Dec): a text beginning with '.' ended this loop at once, and no
  // link in it was found.
  let dot = text.indexOf('.');
  if (dot === 0) dot = text.indexOf('.', 1);
  while (dot > 0) {
    const before = text.charCodeAt(dot - 1);
    const after = text.charCodeAt(dot + 1);
    const alnumBefore = (before >= 0x61 && before <= 0x7a) || (before >= 0x30 && before <= 0x39);
    if (alnumBefore && after >= 0x61 && after <= 0x7a) return true;
    dot = text.indexOf('.', dot + 1);
  }
  return text.includes('://');
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
    if (info) found.push({ ...info, start: m.index, end: m.index + m[0].length });
  }
  return found;
}
