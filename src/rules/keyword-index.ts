/**
 * All operator keywords in one automaton: a trie over skeleton words (not characters), so a
 * phrase matches only on word boundaries and one pass over a message's words finds every
 * phrase of every rule. Cost per message: one hash lookup per word, plus one per extra word
 * of a phrase that starts there.
 */

interface TrieNode {
  children: Map<string, TrieNode> | undefined;
  /** Phrase ids that end at this node. */
  ends: number[] | undefined;
}

export interface PhraseEntry {
  /** The keyword leaf (one `keywords:` condition) this phrase belongs to. */
  readonly leaf: number;
  /** As written in the rule file, for verdict details. */
  readonly text: string;
}

export class KeywordIndex {
  private readonly root = new Map<string, TrieNode>();
  readonly phrases: PhraseEntry[] = [];

  /** Add a phrase (already split into skeleton words) for a leaf; returns its phrase id. */
  add(words: readonly string[], leaf: number, text: string): number {
    const id = this.phrases.length;
    this.phrases.push({ leaf, text });
    let level = this.root;
    let node: TrieNode | undefined;
    for (const w of words) {
      node = level.get(w);
      if (!node) {
        node = { children: undefined, ends: undefined };
        level.set(w, node);
      }
      if (!node.children) node.children = new Map();
      level = node.children;
    }
    (node!.ends ??= []).push(id);
    return id;
  }

  get size(): number {
    return this.phrases.length;
  }

  /** Calls `hit(phraseId)` for every phrase occurrence in `words`. */
  scan(words: readonly string[], hit: (phraseId: number) => void): void {
    if (this.root.size === 0) return;
    for (let i = 0; i < words.length; i++) {
      let node = this.root.get(words[i]!);
      let j = i + 1;
      while (node !== undefined) {
        if (node.ends !== undefined) for (const id of node.ends) hit(id);
        if (j >= words.length || node.children === undefined || node.children.size === 0) break;
        node = node.children.get(words[j++]!);
      }
    }
  }
}

/** Find a phrase (as skeleton words) in a message's words; small lists, used for subscriber keywords. */
export function containsPhrase(words: readonly string[], phrase: readonly string[]): boolean {
  const first = phrase[0];
  if (first === undefined) return false;
  let i = words.indexOf(first);
  while (i >= 0) {
    let k = 1;
    while (k < phrase.length && words[i + k] === phrase[k]) k++;
    if (k === phrase.length) return true;
    i = words.indexOf(first, i + 1);
  }
  return false;
}
