/**
 * Near-duplicate fingerprints for campaign detection: texts that differ only in what a sender
 * changes per recipient (a name, an amount, a reference, a tracking link) get the same keys.
 *
 * 1. Normalise: the analysed words (folded, leetspeak undone), any word with a digit becomes
 *    `#` (runs of them one `#`), and each link becomes its registrable domain, so
 *    per-recipient numbers, codes and link paths vanish. Words of one or two letters and a few
 *    dozen function words are dropped: they are what unrelated texts share most, and keeping
 *    them would make unrelated texts collide.
 * 2. Shingle: the set of words and of adjacent word pairs, one 32-bit hash each.
 * 3. MinHash by one permutation: the top 3 bits of a shingle's hash pick one of 8 bins, and
 *    each bin keeps the smallest of the other 29 bits; an empty bin borrows the next non-empty
 *    one's value (densification). Two texts agree on a bin with probability about the Jaccard
 *    similarity J of their sets, as with 8 hash functions, for one hash per shingle instead of 8.
 * 4. LSH: 4 bands of 2 bins; each band is a key. Two texts share a band with probability about
 *    J² and at least one band with 1 − (1 − J²)⁴. A name changed in a 15-word text leaves
 *    J ≈ 0.84: J² ≈ 0.7 per band, 0.99 for some band; unrelated texts (J < 0.1) share a given
 *    band with probability under 0.01. Four bands rather than more because each band is a
 *    counter lookup on every message.
 *
 * The campaign counter counts distinct recipients per band key and reads the largest band, so
 * exact copies (after step 1) are counted exactly and edited copies at about J² of their number.
 * The keys are 53-bit key hashes computed from the text alone, so proxies side by side sharing
 * a store count one campaign together. Nothing is hashed twice or sliced on the common path:
 * words are read as the analysis's `wordHashes` (FNV-1a, mixed with fmix32), their first
 * character and length; a word is sliced only to look for a digit after its first character,
 * and only when the text has a digit at all.
 */
import type { TextAnalysis } from '../text/analysis.js';
import { wordHash } from '../text/analysis.js';
import { combine, fmix32 } from './volume-store.js';

/** Fewer distinct words than this is too generic to call a campaign ("ok see you later"). */
export const MIN_WORDS = 5;
export const BANDS = 4;
export const ROWS = 2;
const BINS = BANDS * ROWS;
/** A shingle's top 3 bits choose its bin (BINS = 8), the low 29 are its value there. */
const BIN_SHIFT = 29;
const VALUE_MASK = (1 << BIN_SHIFT) - 1;
const EMPTY = 0x7fffffff;
/** Words looked at: the head of a long text identifies it as well as the whole (bounded cost). */
const MAX_WORDS = 400;

/** A word's hash as the text analysis gives it (`wordHash`: FNV-1a), mixed so that every bit depends on every character. */
function mixed(analysisHash: number): number {
  return fmix32(analysisHash >>> 0);
}

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

function hasDigit(s: string): boolean {
  for (let i = 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) return true;
  }
  return false;
}

/** What step 1 makes of a word (never 0, so an empty memo entry matches nothing). */
const KEEP = 1;
const DROP = 2;
const NUMBER = 3;
/**
 * What step 1 made of a word before, by its mixed hash: one load instead of reading the word's
 * length and first character through the analysis, probing the stop words and, in texts with
 * digits, slicing the word to look for one (which alone costs more than the rest of the
 * fingerprint). An SMS stream's vocabulary is small, so nearly every word is found. Direct
 * mapped, 16,384 entries (64 KB): an entry is the hash with its 2 low bits replaced by the
 * class, so two words are confused only when 30 bits of their hashes agree (about one lookup
 * in 10^9).
 */
const MEMO_SIZE = 16384;
const memo = new Int32Array(MEMO_SIZE);

/** Step 1 for word `index` of a text, the slow way; remembered in `memo`. */
function classify(text: FingerprintSource, index: number, h: number, digits: boolean): number {
  const c = text.wordCode(index);
  let kind: number;
  if (c >= 0x30 && c <= 0x39) kind = NUMBER;
  else if (text.wordLength(index) <= 2 || isStopWord(h)) kind = DROP;
  // Undoing leetspeak only removes digits: a text without one has no word with one.
  else if (digits && hasDigit(text.word(index))) kind = NUMBER;
  else kind = KEEP;
  memo[h & (MEMO_SIZE - 1)] = (h & ~3) | kind;
  return kind;
}

const HASH_OF_NUMBER = mixed(wordHash('#'));
/** Links by registrable domain, salted apart from words; every IP address is one token. */
const LINK_SALT = 0x5bd1e995;
const HASH_OF_IP = mixed(wordHash('@ip'));
/** Distinct words counted so far, to refuse texts too short to tell apart. */
const firstWords = new Uint32Array(MIN_WORDS);
const mins = new Int32Array(BINS);
const bands = new Float64Array(BANDS);

/** One shingle into its bin. */
function fold(x: number): void {
  const bin = x >>> BIN_SHIFT;
  const v = x & VALUE_MASK;
  if (v < mins[bin]!) mins[bin] = v;
}

/**
 * Fill empty bins from the next non-empty one (rotation densification): a bin borrows the value
 * of the first filled bin after it, tagged with the distance, so that two texts with the same
 * filled bins fill their empty ones alike. `filled` has bit b set for each bin that got a shingle.
 */
function densify(filled: number): void {
  for (let b = 0; b < BINS; b++) {
    if ((filled >>> b) & 1) continue;
    let d = 1;
    while (((filled >>> ((b + d) & (BINS - 1))) & 1) === 0) d++;
    mins[b] = mins[(b + d) & (BINS - 1)]! | (d << BIN_SHIFT);
  }
}

/** What the fingerprint reads of a text analysis. */
export type FingerprintSource = Pick<TextAnalysis, 'wordCount' | 'wordHashes' | 'wordCode' | 'wordLength' | 'word' | 'mayHoldDigit' | 'urls'>;

/**
 * The LSH band keys of a text as store key hashes (see `keyHash`), or null when it has too few
 * distinct words to be told apart from everyday phrases. Returns a per-process scratch array,
 * overwritten by the next call (checks are synchronous); nothing is allocated unless the text
 * has a digit inside a word.
 */
export function campaignBands(text: FingerprintSource): Float64Array | null {
  const count = text.wordCount;
  if (count < MIN_WORDS) return null;
  const hashes = text.wordHashes;
  const digits = text.mayHoldDigit('folded');
  mins.fill(EMPTY);
  let prev = 0;
  let n = 0;
  let distinct = 0;
  const limit = Math.min(count, MAX_WORDS);
  for (let i = 0; i < limit; i++) {
    let h = mixed(hashes[i]!);
    const e = memo[h & (MEMO_SIZE - 1)]!;
    const kind = ((e ^ h) & ~3) === 0 && e !== 0 ? e & 3 : classify(text, i, h, digits);
    if (kind === DROP) continue;
    if (kind === NUMBER) {
      h = HASH_OF_NUMBER;
    } else if (distinct < MIN_WORDS) {
      let seen = false;
      for (let k = 0; k < distinct; k++) if (firstWords[k] === h) seen = true;
      if (!seen) firstWords[distinct++] = h;
    }
    if (h === HASH_OF_NUMBER && n > 0 && prev === HASH_OF_NUMBER) continue; // a run of numbers is one `#`
    // Shingles as they are made: the word, and the pair (previous word, word).
    fold(h);
    if (n > 0) fold(fmix32((Math.imul(prev, 31) + h) >>> 0));
    prev = h;
    n++;
  }
  if (distinct < MIN_WORDS) return null;
  const links = text.urls;
  for (let i = 0; i < links.length; i++) {
    const u = links[i]!;
    const h = u.ipHost ? HASH_OF_IP : fmix32((wordHash(u.domain) ^ LINK_SALT) >>> 0);
    fold(h);
    fold(fmix32((Math.imul(prev, 31) + h) >>> 0));
    prev = h;
  }
  let filled = 0;
  for (let b = 0; b < BINS; b++) if (mins[b] !== EMPTY) filled |= 1 << b;
  if (filled !== (1 << BINS) - 1) densify(filled);
  // Band b is bins b and b + 4: an empty bin borrows from the bins after it, so a band of
  // neighbours could be one value twice.
  for (let b = 0; b < BANDS; b++) bands[b] = combine((mins[b]! ^ Math.imul(b + 1, 0x27d4eb2d)) >>> 0, mins[b + BANDS]! >>> 0);
  return bands;
}

/** `campaignBands` as a fresh array (tests and tools). */
export function campaignKeys(text: FingerprintSource): number[] | null {
  const b = campaignBands(text);
  return b === null ? null : Array.from(b);
}
