/**
 * Near-duplicate fingerprints for campaign detection: texts that differ only in what a sender
 * changes per recipient (a name, an amount, a reference, a tracking link) get the same keys.
 *
 * 1. Normalise: the analysed words (folded, leetspeak undone), any word with a digit becomes
 *    `#` (runs of them one `#`), and each link becomes its registrable host (`@evil.example`),
 *    so per-recipient numbers, codes and link paths vanish. Words of one or two letters and a
 *    few dozen function words are dropped: they are what unrelated texts share most, and
 *    keeping them would make unrelated texts collide.
 * 2. Shingle: the set of words and of adjacent word pairs, hashed to 32 bits.
 * 3. MinHash: for each of 8 hash functions, the smallest hash over the set. Two texts agree on
 *    one MinHash value with probability equal to the Jaccard similarity J of their sets.
 * 4. LSH: 4 bands of 2 values; each band is a key. Two texts share a band with probability J²
 *    and at least one band with 1 − (1 − J²)⁴. A name changed in a 15-word text leaves
 *    J ≈ 0.84: J² ≈ 0.7 per band, 0.99 for some band; unrelated texts (J < 0.1) share a given
 *    band with probability under 0.01. Four bands rather than more because each band is a
 *    counter lookup on every message.
 *
 * The campaign counter counts distinct recipients per band key and reads the largest band, so
 * exact copies (after step 1) are counted exactly and edited copies at about J² of their number.
 * The keys are 53-bit key hashes computed from the text alone, so proxies side by side sharing
 * a store count one campaign together. Words are not hashed again: the analysis's `wordHashes`
 * (FNV-1a) are mixed with fmix32, and only words with a digit are looked at character by
 * character.
 */
import { wordHash } from '../text/analysis.js';
import { combine, fmix32 } from './volume-store.js';

/** Fewer distinct words than this is too generic to call a campaign ("ok see you later"). */
export const MIN_WORDS = 5;
export const BANDS = 4;
export const ROWS = 2;
const HASHES = BANDS * ROWS;
/** Words looked at: the head of a long text identifies it as well as the whole (bounded cost). */
const MAX_WORDS = 400;

/** A word's hash as the text analysis gives it (`wordHash`: FNV-1a), mixed so that every bit depends on every character. */
function mixed(analysisHash: number): number {
  return fmix32(analysisHash >>> 0);
}

const SEEDS = Uint32Array.from({ length: HASHES }, (_, i) => fmix32(0x9e3779b9 * (i + 1)));
const STOP_WORDS = [
  'the', 'and', 'you', 'for', 'are', 'your', 'with', 'this', 'that', 'have', 'will', 'not', 'but',
  'was', 'our', 'has', 'its', 'they', 'them', 'from', 'just', 'can', 'all', 'what', 'when', 'there',
  'then', 'she', 'him', 'her', 'his', 'who', 'how', 'been', 'were', 'would', 'could', 'should', 'about',
  'into', 'than', 'also', 'some', 'any', 'had', 'did', 'does', 'yours', 'i\'ll', 'i\'m', 'don\'t',
];
/**
 * Stop words by mixed hash, open addressing in 256 slots: the test is two loads, no string
 * hashing. Another word with the same 32-bit hash would be dropped too (about one word in 10^8).
 */
const STOP_TABLE = new Uint32Array(256);
for (const w of STOP_WORDS) {
  let i = mixed(wordHash(w)) & 255;
  while (STOP_TABLE[i] !== 0) i = (i + 1) & 255;
  STOP_TABLE[i] = mixed(wordHash(w));
}
function isStopWord(h: number): boolean {
  for (let i = h & 255; STOP_TABLE[i] !== 0; i = (i + 1) & 255) if (STOP_TABLE[i] === h) return true;
  return false;
}

const DIGIT = /\d/;

function hasDigit(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) return true;
  }
  return false;
}

const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/** The registrable part of a host, roughly: the last two labels (three under a 2-letter SLD such as co.uk). */
function siteOf(host: string): string {
  if (IPV4.test(host) || host.includes(':')) return 'ip';
  const labels = host.split('.');
  const n = labels.length;
  if (n <= 2) return host;
  const keep = labels[n - 2]!.length <= 3 && labels[n - 1]!.length === 2 ? 3 : 2;
  return labels.slice(n - keep).join('.');
}

const tokens = new Uint32Array(MAX_WORDS + 64);
const mins = new Int32Array(HASHES);
const HASH_OF_NUMBER = mixed(wordHash('#'));
/** Distinct words counted so far, to refuse texts too short to tell apart. */
const firstWords = new Uint32Array(MIN_WORDS);
const bands = new Float64Array(BANDS);

/**
 * Fold one shingle into the 8 running minima. x is already well mixed (fmix32): one multiply
 * and shift per function orders the set differently for each. Signed 32-bit values and minima
 * in locals keep it in integer registers (a minimum over signed order is as good a MinHash).
 */
function minHashAll(n: number): void {
  const s0 = SEEDS[0]!, s1 = SEEDS[1]!, s2 = SEEDS[2]!, s3 = SEEDS[3]!, s4 = SEEDS[4]!, s5 = SEEDS[5]!, s6 = SEEDS[6]!, s7 = SEEDS[7]!;
  let m0 = 0x7fffffff, m1 = m0, m2 = m0, m3 = m0, m4 = m0, m5 = m0, m6 = m0, m7 = m0;
  let prev = 0;
  for (let i = 0, j = 0; j < 2 * n - 1; j++) {
    let x: number;
    if ((j & 1) === 0) {
      x = tokens[i]!;
      prev = x;
    } else {
      i++;
      // The pair (tokens[i - 1], tokens[i]).
      x = fmix32((Math.imul(prev, 31) + tokens[i]!) >>> 0);
    }
    let v: number;
    v = Math.imul(x ^ s0, 0x85ebca6b); v ^= v >>> 13; if (v < m0) m0 = v;
    v = Math.imul(x ^ s1, 0x85ebca6b); v ^= v >>> 13; if (v < m1) m1 = v;
    v = Math.imul(x ^ s2, 0x85ebca6b); v ^= v >>> 13; if (v < m2) m2 = v;
    v = Math.imul(x ^ s3, 0x85ebca6b); v ^= v >>> 13; if (v < m3) m3 = v;
    v = Math.imul(x ^ s4, 0x85ebca6b); v ^= v >>> 13; if (v < m4) m4 = v;
    v = Math.imul(x ^ s5, 0x85ebca6b); v ^= v >>> 13; if (v < m5) m5 = v;
    v = Math.imul(x ^ s6, 0x85ebca6b); v ^= v >>> 13; if (v < m6) m6 = v;
    v = Math.imul(x ^ s7, 0x85ebca6b); v ^= v >>> 13; if (v < m7) m7 = v;
  }
  mins[0] = m0; mins[1] = m1; mins[2] = m2; mins[3] = m3; mins[4] = m4; mins[5] = m5; mins[6] = m6; mins[7] = m7;
}

/**
 * What the fingerprint reads of a text analysis: word hashes and, where the analysis slices
 * words lazily (`wordCount`, `wordLength`, `word`), lengths instead of the words themselves
 * (slicing them all would cost more than the fingerprint).
 */
export interface FingerprintSource {
  readonly folded: string;
  readonly words: readonly string[];
  readonly wordHashes: readonly number[];
  readonly urls: ReadonlyArray<{ readonly host: string }>;
  readonly wordCount?: number;
  wordLength?(index: number): number;
  word?(index: number): string;
}

/**
 * The LSH band keys of a text as store key hashes (see `keyHash`), or null when it has too few
 * distinct words to be told apart from everyday phrases. Words are read as the analysis's
 * hashes; a word is looked at only for digits, and only when the text has a digit at all.
 * Returns a per-process scratch array, overwritten by the next call (checks are synchronous);
 * nothing is allocated.
 */
export function campaignBands(text: FingerprintSource): Float64Array | null {
  const lazy = text.wordCount !== undefined && text.wordLength !== undefined && text.word !== undefined;
  const words = lazy ? undefined : text.words;
  const count = words === undefined ? text.wordCount! : words.length;
  if (count < MIN_WORDS) return null;
  const hashes = text.wordHashes;
  // Undoing leetspeak only removes digits: a folded text without one has no word with one.
  const digits = DIGIT.test(text.folded);
  let n = 0;
  let distinct = 0;
  const limit = Math.min(count, MAX_WORDS);
  for (let i = 0; i < limit; i++) {
    if (digits && hasDigit(words === undefined ? text.word!(i) : words[i]!)) {
      if (n === 0 || tokens[n - 1] !== HASH_OF_NUMBER) tokens[n++] = HASH_OF_NUMBER;
      continue;
    }
    if ((words === undefined ? text.wordLength!(i) : words[i]!.length) <= 2) continue;
    const h = mixed(hashes[i]!);
    if (isStopWord(h)) continue;
    tokens[n++] = h;
    if (distinct < MIN_WORDS) {
      let seen = false;
      for (let k = 0; k < distinct; k++) if (firstWords[k] === h) seen = true;
      if (!seen) firstWords[distinct++] = h;
    }
  }
  if (distinct < MIN_WORDS) return null;
  const links = text.urls;
  for (let i = 0; i < links.length && n < tokens.length; i++) tokens[n++] = mixed(wordHash(`@${siteOf(links[i]!.host)}`));
  // Shingles: each token and each adjacent pair, fed to the MinHash as they are made.
  minHashAll(n);
  for (let b = 0; b < BANDS; b++) bands[b] = combine((mins[b * ROWS]! ^ Math.imul(b + 1, 0x27d4eb2d)) >>> 0, mins[b * ROWS + 1]! >>> 0);
  return bands;
}

/** `campaignBands` as a fresh array (tests and tools). */
export function campaignKeys(text: FingerprintSource): number[] | null {
  const b = campaignBands(text);
  return b === null ? null : Array.from(b);
}
