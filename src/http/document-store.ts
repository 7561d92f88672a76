import type { DocumentNode } from 'graphql';

/**
 * Apollo's cache of parsed and validated documents, bounded by entry count and by the total length
 * of the cached documents' source text. Apollo's default (an LRU of "30 MiB" measured as JSON) let
 * a client that sends ever-new documents — a new operationName each time — hold hundreds of MB of
 * ASTs (issue 10: 36,000 new names took the heap from 24 to 111 MB; with this store it stays flat).
 * Real clients send a few hundred distinct documents at most; a miss only costs a parse.
 */
export class BoundedDocumentStore {
  private readonly entries = new Map<string, { document: DocumentNode; chars: number }>();
  private totalChars = 0;

  constructor(
    readonly maxEntries = 1000,
    readonly maxTotalChars = 4_000_000,
  ) {}

  async get(key: string): Promise<DocumentNode | undefined> {
    const e = this.entries.get(key);
    if (!e) return undefined;
    this.entries.delete(key); // most recently used last
    this.entries.set(key, e);
    return e.document;
  }

  async set(key: string, document: DocumentNode): Promise<void> {
    // Apollo parses with locations, so loc.end is the source length; without it, assume big.
    const chars = document.loc?.end ?? this.maxTotalChars;
    await this.delete(key);
    if (chars > this.maxTotalChars / 10) return; // one huge document must not flush the rest
    this.entries.set(key, { document, chars });
    this.totalChars += chars;
    while (this.entries.size > this.maxEntries || this.totalChars > this.maxTotalChars) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      await this.delete(oldest.value);
    }
  }

  async delete(key: string): Promise<boolean> {
    const e = this.entries.get(key);
    if (!e) return false;
    this.entries.delete(key);
    this.totalChars -= e.chars;
    return true;
  }

  get size(): number {
    return this.entries.size;
  }

  get chars(): number {
    return this.totalChars;
  }
}
