/**
 * Reads a LIST response (`{"kind":…,"metadata":{…},"items":[{…},{…}]}`) as it streams in, handing on each item the
 * moment its text is complete, parsed on its own.
 *
 * Why not `JSON.parse` of the whole body: a page of 500 Jobs is ~3 MB of JSON and ~15 MB once parsed; holding all of
 * it at once (the body, then the parsed page) is what made V8 grow its young generation to its 128 MB maximum and
 * glibc keep the freed body buffers, for good: ~150 MB of resident memory that no cache needed. Item by item, only
 * one item's text and object are alive at a time, they die young, and the network's 64 KB chunks are all the buffers
 * there are. It also never holds the event loop for longer than one chunk takes.
 *
 * The scanner finds structure only: strings (with their escapes) are skipped whole, `{}[]` counted, and the array
 * under the top-level key `items` split into its elements; everything else of the top level (kind, metadata with its
 * resourceVersion and continue token) is kept as text and parsed at the end. Malformed input fails as JSON.parse
 * would: at the item, or at the end. Items that are not objects (an API server sends none) are skipped.
 */

const QUOTE = 34;
const OPEN_BRACE = 123;
const OPEN_BRACKET = 91;
const CLOSE_BRACE = 125;
const CLOSE_BRACKET = 93;

export class ListSplitter {
  readonly #onItem: (item: unknown) => void;
  /** Text not yet scanned, plus the start of an item not yet complete. */
  #text = '';
  /** Where scanning resumes in #text. */
  #at = 0;
  #depth = 0;
  #inString = false;
  /** The character after a backslash at the end of a chunk is escaped. */
  #escapeNext = false;
  #inItems = false;
  /** Start of the current item in #text, or -1. */
  #itemStart = -1;
  /** The last string seen at the top level (a key, when an array follows it). */
  #lastTopString = '';
  #topStringStart = -1;
  #topStringPart = '';
  /** The top level without the items: `{"kind":"JobList",…,"items":[]}`. */
  #rest = '';
  /** Start in #text of top-level text not yet copied to #rest, or -1 while inside the items array. */
  #restFrom = 0;

  constructor(onItem: (item: unknown) => void) {
    this.#onItem = onItem;
  }

  /** The next piece of the body, as decoded text. Calls onItem for each item it completes (JSON.parse errors throw). */
  push(chunk: string): void {
    this.#text += chunk;
    const text = this.#text;
    const length = text.length;
    let at = this.#at;
    // The next backslash at or after `at` (escapes are rare: one search per chunk, mostly), -2 when not yet looked for.
    let backslash = -2;
    while (at < length) {
      if (this.#inString) {
        if (this.#escapeNext) {
          this.#escapeNext = false;
          at += 1;
          continue;
        }
        // Strings are most of the text: jump to the next quote, unless an escape comes first.
        const quote = text.indexOf('"', at);
        if (backslash !== -1 && backslash < at) backslash = text.indexOf('\\', at);
        if (backslash !== -1 && (quote === -1 || backslash < quote)) {
          at = backslash + 1;
          this.#escapeNext = true;
          continue;
        }
        if (quote === -1) {
          at = length;
          break;
        }
        this.#inString = false;
        if (this.#topStringStart >= 0) {
          this.#lastTopString = this.#topStringPart + text.slice(this.#topStringStart, quote);
          this.#topStringStart = -1;
          this.#topStringPart = '';
        }
        at = quote + 1;
        continue;
      }
      const char = text.charCodeAt(at);
      const index = at;
      at += 1;
      if (char === QUOTE) {
        this.#inString = true;
        if (this.#depth === 1 && !this.#inItems) this.#topStringStart = at;
      } else if (char === OPEN_BRACE || char === OPEN_BRACKET) {
        if (this.#inItems && this.#depth === 2 && char === OPEN_BRACE) this.#itemStart = index;
        if (!this.#inItems && this.#depth === 1 && char === OPEN_BRACKET && this.#lastTopString === 'items') {
          this.#inItems = true;
          this.#rest += text.slice(this.#restFrom, at);
          this.#restFrom = -1;
        }
        this.#depth += 1;
      } else if (char === CLOSE_BRACE || char === CLOSE_BRACKET) {
        this.#depth -= 1;
        if (this.#inItems && this.#depth === 2 && char === CLOSE_BRACE && this.#itemStart >= 0) {
          const item = text.slice(this.#itemStart, at);
          this.#itemStart = -1;
          this.#onItem(JSON.parse(item));
        } else if (this.#inItems && this.#depth === 1) {
          this.#inItems = false;
          this.#restFrom = index;
        }
      }
    }
    // Keep only what is still needed: the current item's text, or the top-level text not yet copied.
    if (this.#topStringStart >= 0) {
      this.#topStringPart += text.slice(this.#topStringStart, at);
      this.#topStringStart = 0;
    }
    if (this.#restFrom >= 0) {
      this.#rest += text.slice(this.#restFrom, at);
      this.#restFrom = 0;
    }
    const keepFrom = this.#itemStart >= 0 ? this.#itemStart : at;
    this.#text = text.slice(keepFrom);
    this.#at = at - keepFrom;
    if (this.#itemStart >= 0) this.#itemStart = 0;
  }

  /** The body is complete: the top level without its items (kind, metadata), parsed. Throws when it is not whole. */
  end(): Readonly<Record<string, unknown>> {
    if (this.#depth !== 0 || this.#inString || this.#text.trim() !== '') throw new SyntaxError('the list response ended before its JSON did');
    const rest = JSON.parse(this.#rest) as unknown;
    if (typeof rest !== 'object' || rest === null || Array.isArray(rest)) throw new SyntaxError('the list response is not a JSON object');
    return rest as Record<string, unknown>;
  }
}
