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

export function isShortener(host: string): boolean {
  return SHORTENERS.has(host);
}

/** Registrable domain by a light public-suffix rule: `a.b.example.co.uk` → `example.co.uk`. */
export function registrableDomain(host: string, ipHost = isIPv4(host)): string {
  // By the positions of the last dots rather than splitting into labels (a URL's worth of
  // strings per message otherwise).
  const last = host.lastIndexOf('.');
  const second = last > 0 ? host.lastIndexOf('.', last - 1) : -1;
  if (second < 0 || ipHost) return host; // two labels or fewer, or an IP address
  const third = second > 0 ? host.lastIndexOf('.', second - 1) : -1;
  const takeThree = host.length - last - 1 === 2 && SECOND_LEVEL.has(host.slice(second + 1, last));
  if (!takeThree) return host.slice(second + 1);
  return third < 0 ? host : host.slice(third + 1);
}

/** The length of a leading `http://`, `https://`, `hxxp://` or `hxxps://` in lower-case text, or 0. */
function schemeLength(lower: string): number {
  const t = lower.charCodeAt(1); // http or hxxp
  if (lower.charCodeAt(0) !== 0x68 || (t !== 0x74 && t !== 0x78) || lower.charCodeAt(2) !== t || lower.charCodeAt(3) !== 0x70) return 0;
  const colon = lower.charCodeAt(4) === 0x73 ? 5 : 4; // an 's' or not
  return lower.startsWith('://', colon) ? colon + 3 : 0;
}

/** `^\d{1,3}(?:\.\d{1,3}){3}$` without a regex (asked up to three times per URL). */
function isIPv4(host: string): boolean {
  let groups = 0;
  let digits = 0;
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) {
      if (++digits > 3) return false;
    } else if (c === 0x2e && digits > 0 && groups < 3) {
      groups++;
      digits = 0;
    } else {
      return false;
    }
  }
  return groups === 3 && digits > 0;
}

/** Index of the first of `/ ? #` (and `:` too when `colon`) in `s` from `from`, or s.length. */
function hostEnd(s: string, from: number, colon: boolean): number {
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2f || c === 0x3f || c === 0x23 || (colon && c === 0x3a)) return i;
  }
  return s.length;
}

/** Whether `c` is one of `. , ; : ! ?`, trimmed from the end of a URL as punctuation of the sentence. */
function isTrailingPunctuation(c: number): boolean {
  return c === 0x2e || c === 0x2c || c === 0x3b || c === 0x3a || c === 0x21 || c === 0x3f;
}

/**
 * Parse one URL-ish string into its parts, or undefined when it has no plausible host. By
 * positions, not regexes: this runs for every URL-like match in a message.
 */
export function parseUrl(raw: string): UrlInfo | undefined {
  const lower = raw.toLowerCase();
  const scheme = schemeLength(lower);
  // user:pass@host: the host starts after an '@' that comes before any / ? #.
  let from = scheme;
  const at = lower.indexOf('@', scheme);
  if (at >= 0 && at < hostEnd(lower, scheme, false)) from = at + 1;
  let end = hostEnd(lower, from, true);
  while (end > from && lower.charCodeAt(end - 1) === 0x2e) end--; // trailing dots
  if (end === from) return undefined;
  const host = lower.slice(from, end);
  const lastDot = host.lastIndexOf('.');
  if (lastDot < 0) return undefined;
  const ipHost = isIPv4(host);
  if (scheme === 0 && !ipHost && !BARE_TLDS.has(host.slice(lastDot + 1))) return undefined;
  let urlEnd = lower.length;
  while (urlEnd > 0 && isTrailingPunctuation(lower.charCodeAt(urlEnd - 1))) urlEnd--;
  return {
    url: urlEnd === lower.length ? lower : lower.slice(0, urlEnd),
    host,
    domain: registrableDomain(host, ipHost),
    shortener: SHORTENERS.has(host),
    ipHost,
  };
}

const LONGEST_BARE_TLD = Math.max(...[...BARE_TLDS].map((t) => t.length));

/** A run of lower-case ASCII letters as a number, base 27 ('a' is 1): exact up to 11 letters. */
export function letterCode(letters: string): number {
  let code = 0;
  for (let i = 0; i < letters.length; i++) code = code * 27 + (letters.charCodeAt(i) - 0x60);
  return code;
}

/** BARE_TLDS by letterCode: the precheck compares the letters after a dot without slicing them out. */
const BARE_TLD_CODES: ReadonlySet<number> = new Set([...BARE_TLDS].map(letterCode));

/**
 * Where, from `from`, a dot is that a URL without a scheme could end its host at, or -1. Without
 * "://", a URL is accepted only when its top-level domain is a known one, and the regex takes
 * the whole run of letters after a dot (preceded by a letter or digit) as that domain; so a
 * URL holds such a dot, with a run in BARE_TLDS after it. "Hi.How are you" and "lar...Joking"
 * hold none. `upperToo`: the text is not lower-cased yet; answer as for its (ASCII) lower case.
 */
function tldDot(text: string, from: number, upperToo: boolean): number {
  const caseBit = upperToo ? 0x20 : 0;
  // Every dot is looked at, one in first place too (with nothing before it, it ends no host):
  // the loop once stopped there, and a text that began with '.' hid every link in it.
  for (let dot = text.indexOf('.', from); dot >= 0; dot = text.indexOf('.', dot + 1)) {
    let before = dot > 0 ? text.charCodeAt(dot - 1) : 0;
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
      if (letters >= 2 && letters <= LONGEST_BARE_TLD && BARE_TLD_CODES.has(code)) return dot;
    }
  }
  return -1;
}

/** `urlSearch` for a text that holds "://": the URL regex reads all of it. */
export const WHOLE_TEXT = -2;

/**
 * Cheap precheck before the URL regex (also used on ASCII text before lower-casing it, as for
 * its lower case with `upperToo`): where `extractUrls` must look. WHOLE_TEXT when the text holds
 * "://"; else the first dot before a known top-level domain (see tldDot), or -1 when there is
 * none and so no URL. `mayHoldColon` false: the caller knows the text has no ':' (the
 * analysis' scan classes every character anyway).
 */
export function urlSearch(text: string, upperToo = false, mayHoldColon = true): number {
  return mayHoldColon && text.includes('://') ? WHOLE_TEXT : tldDot(text, 0, upperToo);
}

/**
 * What ends the stretch of text a URL match can lie in: white space as the regex's `\s` knows
 * it, and `< > " ' ( )`. Every branch of URL_PATTERN matches none of these characters.
 */
function endsStretch(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  if (c < 0x80) return c === 0x3c || c === 0x3e || c === 0x22 || c === 0x27 || c === 0x28 || c === 0x29;
  return (
    c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 ||
    c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff
  );
}

/** A URL with its position in the folded text. */
export interface FoundUrl extends UrlInfo {
  readonly start: number;
  readonly end: number;
}

/**
 * Every URL in a folded text, with positions; `search` is its `urlSearch` (a caller that asked
 * already passes the answer on). Cheap when there is none: a dot is required.
 * Without "://" the regex runs only over the stretches (see endsStretch) that hold a dot before
 * a known top-level domain, not over the whole text: no match crosses a stretch's end, so a
 * stretch is matched alike alone or in its text, and any URL accepted has such a dot.
 */
export function extractUrls(folded: string, search = urlSearch(folded)): FoundUrl[] {
  if (search === -1) return [];
  const found: FoundUrl[] = [];
  if (search === WHOLE_TEXT) {
    urlsIn(folded, 0, folded, found);
    return found;
  }
  for (let dot = search; dot >= 0; ) {
    let start = dot;
    while (start > 0 && !endsStretch(folded.charCodeAt(start - 1))) start--;
    let end = dot + 1;
    while (end < folded.length && !endsStretch(folded.charCodeAt(end))) end++;
    urlsIn(start === 0 && end === folded.length ? folded : folded.slice(start, end), start, folded, found);
    dot = end < folded.length ? tldDot(folded, end, false) : -1;
  }
  return found;
}

/** The URLs URL_PATTERN finds in `stretch`, which starts at `offset` in `folded`, added to `found`. */
function urlsIn(stretch: string, offset: number, folded: string, found: FoundUrl[]): void {
  URL_PATTERN.lastIndex = 0;
  for (let m = URL_PATTERN.exec(stretch); m !== null; m = URL_PATTERN.exec(stretch)) {
    const start = offset + m.index;
    // An email address is not a URL: skip a host directly preceded by '@'.
    if (start > 0 && folded.charCodeAt(start - 1) === 0x40) continue;
    const info = parseUrl(m[0]);
    // Fields copied by name: an object spread here cost more than parsing the URL.
    if (info) {
      found.push({ url: info.url, host: info.host, domain: info.domain, shortener: info.shortener, ipHost: info.ipHost, start, end: start + m[0].length });
    }
  }
}
