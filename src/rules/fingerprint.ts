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
 * The keys are plain strings computed from the text alone, so proxies side by side sharing a
 * store count one campaign together.
 */

/** Fewer distinct words than this is too generic to call a campaign ("ok see you later"). */
export const MIN_WORDS = 5;
export const BANDS = 4;
export const ROWS = 2;
const HASHES = BANDS * ROWS;
/** Words looked at: the head of a long text identifies it as well as the whole (bounded cost). */
const MAX_WORDS = 400;

/** FNV-1a, finalised with fmix32 so that every bit depends on every character; -1 for a word with a digit unless `digits`. */
function wordHash(s: string, digits = false): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!digits && c >= 0x30 && c <= 0x39) return -1;
    h = Math.imul(h ^ c, 0x01000193);
  }
  return fmix32(h >>> 0);
}

/** MurmurHash3's finaliser: a bijection on 32 bits that mixes every bit into every other. */
function fmix32(x: number): number {
  let h = x;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const SEEDS = Uint32Array.from({ length: HASHES }, (_, i) => fmix32(0x9e3779b9 * (i + 1)));
const STOP_WORDS = new Set([
  'the', 'and', 'you', 'for', 'are', 'your', 'with', 'this', 'that', 'have', 'will', 'not', 'but',
  'was', 'our', 'has', 'its', 'they', 'them', 'from', 'just', 'can', 'all', 'what', 'when', 'there',
  'then', 'she', 'him', 'her', 'his', 'who', 'how', 'been', 'were', 'would', 'could', 'should', 'about',
  'into', 'than', 'also', 'some', 'any', 'had', 'did', 'does', 'yours', 'i\'ll', 'i\'m', 'don\'t',
]);
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
const shingles = new Uint32Array(2 * (MAX_WORDS + 64));
const mins = new Uint32Array(HASHES);
const HASH_OF_NUMBER = wordHash('#');
/** Distinct words counted so far, to refuse texts too short to tell apart. */
const firstWords = new Uint32Array(MIN_WORDS);

/**
 * The LSH band keys of a text (its analysed words and links), or null when it has too few
 * distinct words to be told apart from everyday phrases. No allocation but the keys: the
 * scratch buffers are per process, which is safe because checks are synchronous.
 */
export function campaignKeys(words: readonly string[], links: ReadonlyArray<{ readonly host: string }>): string[] | null {
  let n = 0;
  let distinct = 0;
  const limit = Math.min(words.length, MAX_WORDS);
  for (let i = 0; i < limit; i++) {
    const w = words[i]!;
    const h = wordHash(w); // one pass: the hash, or -1 when the word has a digit
    if (h < 0) {
      if (n === 0 || tokens[n - 1] !== HASH_OF_NUMBER) tokens[n++] = HASH_OF_NUMBER;
      continue;
    }
    if (w.length <= 2 || STOP_WORDS.has(w)) continue;
    tokens[n++] = h;
    if (distinct < MIN_WORDS) {
      let seen = false;
      for (let k = 0; k < distinct; k++) if (firstWords[k] === h) seen = true;
      if (!seen) firstWords[distinct++] = h;
    }
  }
  if (distinct < MIN_WORDS) return null;
  for (let i = 0; i < links.length && n < tokens.length; i++) tokens[n++] = wordHash(`@${siteOf(links[i]!.host)}`, true);
  let m = 0;
  for (let i = 0; i < n; i++) {
    shingles[m++] = tokens[i]!;
    if (i > 0) shingles[m++] = fmix32((Math.imul(tokens[i - 1]!, 31) + tokens[i]!) >>> 0);
  }
  mins.fill(0xffffffff);
  for (let i = 0; i < m; i++) {
    const x = shingles[i]!;
    // x is already well mixed (wordHash, or fmix32 for pairs): one multiply and shift per function
    // is enough to order the set differently for each.
    for (let k = 0; k < HASHES; k++) {
      let v = Math.imul(x ^ SEEDS[k]!, 0x85ebca6b);
      v = (v ^ (v >>> 13)) >>> 0;
      if (v < mins[k]!) mins[k] = v;
    }
  }
  const keys: string[] = new Array<string>(BANDS);
  for (let b = 0; b < BANDS; b++) {
    keys[b] = `${b}:${mins[b * ROWS]!.toString(36)}.${mins[b * ROWS + 1]!.toString(36)}`;
  }
  return keys;
}
