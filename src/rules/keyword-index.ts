/**
 * All operator keywords in one automaton: a trie over skeleton words (not characters), so a
 * phrase matches only on word boundaries and one pass over a message's words finds every
 * phrase of every rule. Cost per message: one hash lookup per word, plus one per extra word
 * of a phrase that starts there.
 */

import { wordHash, type TextAnalysis } from '../text/analysis.js';

/** What a scan reads of a message's words: hashes, and strings only to confirm a hit. */
export type WordSource = Pick<TextAnalysis, 'wordHashes' | 'wordCount' | 'wordIs' | 'word'>;

interface TrieNode {
  readonly word: string;
  /** `wordHash(word)`: a message word is compared by hash first, as a string only on a hit. */
  readonly hash: number;
  children: Map<string, TrieNode> | undefined;
  /** The children, for the scan: compared one by one when few, else looked up by hash. */
  next: TrieNode[];
  nextByHash: Map<number, TrieNode> | undefined;
  /** Phrase ids that end at this node. */
  ends: number[] | undefined;
  /** Another word with the same hash at the same level of the trie. */
  sameHash: TrieNode | undefined;
}

export interface PhraseEntry {
  /** The keyword leaf (one `keywords:` condition) this phrase belongs to. */
  readonly leaf: number;
  /** As written in the rule file, for verdict details. */
  readonly text: string;
  /** The verdict detail when it is the first phrase found: `keyword '<text>'`. */
  readonly detail: string;
}

/** Beyond this many children a node looks its next word up by hash instead of comparing each. */
const FEW_CHILDREN = 8;

/**
 * Bits of the first-word filter: 4 KB, which stays in the nearest cache while the hash table
 * of first words (16 bytes a word) does not; most message words start no phrase.
 */
const FIRST_BITS = 1 << 15;

function firstBit(h: number): number {
  return Math.imul(h, 0x2c1b3c6d) >>> 17;
}

/** The filter bit of a pair of consecutive words (by their hashes). */
function pairBit(first: number, second: number): number {
  return Math.imul(first ^ Math.imul(second, 0x85ebca6b), 0x2c1b3c6d) >>> 17;
}

function setBit(bits: Int32Array, bit: number): void {
  bits[bit >>> 5]! |= 1 << (bit & 31);
}

/** The scan's filters for the phrases of one set of channels (see KeywordIndex.filters). */
interface Filters {
  /** A bit per first-word hash: a clear bit answers "no phrase starts here" from a few kilobytes. */
  readonly first: Int32Array;
  /**
   * For a word that passed the first filter, a second: a bit per first word that is a phrase on
   * its own, and one per pair of a phrase's first two words. "to be" starts no phrase when only
   * "to opt out" starts with "to": the pair answers without looking the word up.
   */
  readonly single: Int32Array;
  readonly pair: Int32Array;
}

function emptyFilters(): Filters {
  return { first: new Int32Array(FIRST_BITS >>> 5), single: new Int32Array(FIRST_BITS >>> 5), pair: new Int32Array(FIRST_BITS >>> 5) };
}

/** The channels (bits) of the phrases that end at `node` or below it. */
function reach(node: TrieNode, channels: readonly number[], out: Map<TrieNode, number>): number {
  let bits = 0;
  for (const id of node.ends ?? []) bits |= channels[id] ?? ALL_CHANNELS;
  for (const child of node.next) bits |= reach(child, channels, out);
  out.set(node, bits);
  return bits;
}

/** Channel bits as the rule set has them: 1 sms, 2 email. */
const ALL_CHANNELS = 3;

function indexWideLevels(node: TrieNode): void {
  node.nextByHash = undefined;
  if (node.next.length > FEW_CHILDREN) {
    const byHash = new Map<number, TrieNode>();
    for (const child of node.next) {
      child.sameHash = byHash.get(child.hash);
      byHash.set(child.hash, child);
    }
    node.nextByHash = byHash;
  }
  for (const child of node.next) indexWideLevels(child);
}

/**
 * First words are found by the word hashes the tokenizer computed (an open-addressing table of
 * int32 keys, no string hashing per message word), then confirmed by comparing the strings;
 * the rest of a phrase is followed through per-node maps, only after a first word matched.
 */
export class KeywordIndex {
  private readonly root = new Map<string, TrieNode>();
  readonly phrases: PhraseEntry[] = [];
  private keys = new Int32Array(0);
  private nodes: Array<TrieNode | undefined> = [];
  private mask = -1;
  /**
   * The filters by channel bits less one (0 sms, 1 email, 2 both), made by `seal`: an SMS is
   * not looked up for a word that starts only email rules' phrases.
   */
  private filters: Filters[] = [];
  /** Per phrase, the channels its rule can match on (ALL_CHANNELS until told; see setChannels). */
  private channels: number[] = [];
  private sealed = true;

  /** Add a phrase (already split into skeleton words) for a leaf; returns its phrase id. */
  add(words: readonly string[], leaf: number, text: string): number {
    const id = this.phrases.length;
    this.phrases.push({ leaf, text, detail: `keyword '${text}'` });
    let level = this.root;
    let node: TrieNode | undefined;
    for (const w of words) {
      const parent = node;
      node = level.get(w);
      if (!node) {
        node = { word: w, hash: wordHash(w), children: undefined, next: [], nextByHash: undefined, ends: undefined, sameHash: undefined };
        level.set(w, node);
        if (parent !== undefined) parent.next.push(node);
      }
      if (!node.children) node.children = new Map();
      level = node.children;
    }
    (node!.ends ??= []).push(id);
    this.sealed = false;
    return id;
  }

  /** The channels each phrase's rule can match on, by phrase id: its words filter only those. */
  setChannels(channelsOf: (phrase: number) => number): void {
    this.channels = this.phrases.map((_, id) => channelsOf(id));
    this.sealed = false;
  }

  get size(): number {
    return this.phrases.length;
  }

  /** Build the hash table of first words (after the last add). */
  private seal(): void {
    let size = 16;
    // At most a quarter full: most message words are no first word, and a miss ends at the first
    // empty slot, so a sparse table answers most of them with one probe.
    while (size < this.root.size * 4) size <<= 1;
    const keys = new Int32Array(size);
    const nodes = new Array<TrieNode | undefined>(size).fill(undefined);
    const mask = size - 1;
    const filters = [emptyFilters(), emptyFilters(), emptyFilters()];
    const reached = new Map<TrieNode, number>();
    for (const node of this.root.values()) {
      const below = reach(node, this.channels, reached);
      let own = 0;
      for (const id of node.ends ?? []) own |= this.channels[id] ?? ALL_CHANNELS;
      for (let c = 1; c <= ALL_CHANNELS; c++) {
        const f = filters[c - 1]!;
        if ((below & c) === 0) continue;
        setBit(f.first, firstBit(node.hash));
        if ((own & c) !== 0) setBit(f.single, firstBit(node.hash));
        for (const second of node.next) if ((reached.get(second)! & c) !== 0) setBit(f.pair, pairBit(node.hash, second.hash));
      }
      node.sameHash = undefined;
      const h = wordHash(node.word);
      let i = Math.imul(h, 0x9e3779b1) & mask;
      while (keys[i] !== 0 && keys[i] !== h) i = (i + 1) & mask;
      if (keys[i] === h) {
        node.sameHash = nodes[i];
      } else {
        keys[i] = h;
      }
      nodes[i] = node;
    }
    for (const node of this.root.values()) indexWideLevels(node);
    this.keys = keys;
    this.filters = filters;
    this.nodes = nodes;
    this.mask = mask;
    this.sealed = true;
  }

  /**
   * Every phrase occurrence in a message's words, as phrase ids
   * written to `out` from index 0 (a phrase found twice is there twice); returns how many.
   * `channel` (1 sms, 2 email): phrases of rules only for the other channel may be left out.
   */
  scan(words: WordSource, out: number[], channel = ALL_CHANNELS): number {
    if (!this.sealed) this.seal();
    if (this.root.size === 0) return 0;
    let count = 0;
    const keys = this.keys;
    const mask = this.mask;
    const filters = this.filters[channel - 1]!; // made by seal: the index is not empty
    const firstBits = filters.first;
    const singleBits = filters.single;
    const pairBits = filters.pair;
    const hashes = words.wordHashes;
    const n = words.wordCount;
    for (let i = 0; i < n; i++) {
      const h = hashes[i]!;
      const bit = firstBit(h);
      if ((firstBits[bit >>> 5]! & (1 << (bit & 31))) === 0) continue;
      if ((singleBits[bit >>> 5]! & (1 << (bit & 31))) === 0) {
        // Only phrases of two words or more start with this word: the next word must go on one.
        if (i + 1 >= n) continue;
        const pair = pairBit(h, hashes[i + 1]!);
        if ((pairBits[pair >>> 5]! & (1 << (pair & 31))) === 0) continue;
      }
      let slot = Math.imul(h, 0x9e3779b1) & mask;
      let k = keys[slot]!;
      while (k !== h && k !== 0) {
        slot = (slot + 1) & mask;
        k = keys[slot]!;
      }
      if (k === 0) continue;
      let node = this.nodes[slot];
      while (node !== undefined && !words.wordIs(i, node.word)) node = node.sameHash;
      let j = i + 1;
      while (node !== undefined) {
        const ends = node.ends;
        if (ends !== undefined) for (let e = 0; e < ends.length; e++) out[count++] = ends[e]!;
        const next = node.next;
        if (j >= n || next.length === 0) break;
        // The next word of a phrase, by hash then string: no word is sliced to follow a phrase.
        const hj = hashes[j]!;
        const byHash = node.nextByHash;
        if (byHash !== undefined) {
          node = byHash.get(hj);
          while (node !== undefined && !words.wordIs(j, node.word)) node = node.sameHash;
        } else {
          node = undefined;
          for (let c = 0; c < next.length; c++) {
            const child = next[c]!;
            if (child.hash === hj && words.wordIs(j, child.word)) {
              node = child;
              break;
            }
          }
        }
        j++;
      }
    }
    return count;
  }
}

/**
 * Find a phrase (skeleton words, with `first` the wordHash of its first word) in a message's
 * words by their hashes, confirming a hash hit by comparing strings; used for subscriber keywords.
 */
export function containsPhraseIn(words: WordSource, phrase: readonly string[], first: number): boolean {
  const hashes = words.wordHashes;
  const n = words.wordCount;
  if (phrase.length === 0) return false;
  for (let i = 0; i + phrase.length <= n; i++) {
    if (hashes[i] !== first || !words.wordIs(i, phrase[0]!)) continue;
    let k = 1;
    while (k < phrase.length && words.wordIs(i + k, phrase[k]!)) k++;
    if (k === phrase.length) return true;
  }
  return false;
}
