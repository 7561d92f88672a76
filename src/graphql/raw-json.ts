import { randomBytes } from 'node:crypto';

/**
 * A placeholder holds a random nonce drawn once per process: no string of an answer (client data
 * included) can pass for one without knowing it, and it never leaves the process (each
 * placeholder written is replaced before the text is returned).
 */
const NONCE = randomBytes(16).toString('hex');
const MARK = `@raw-json:${NONCE}:`;

/** The RawJson values met by the JSON.stringify under way in stringifyResponse (null: none runs). */
let splicing: RawJson[] | null = null;

/**
 * JSON text written into an answer as it is, without being parsed into JS values and stringified
 * again (issue 11: the columns of timelineBars, 20,000 bars × 10 fields, are one json_agg text
 * each from PostgreSQL).
 *
 * A RawJson holds JSON text our own SQL produced with PostgreSQL's json functions (valid JSON by
 * their construction); it is never built from client input, and it is not re-validated here.
 *
 * - Inside `stringifyResponse` (Apollo's `stringifyResult`), `toJSON()` answers a placeholder
 *   string that `stringifyResponse` then replaces, quotes included, by the text.
 * - Anywhere else (graphql() in tests, graphql-ws, Apollo's multipart chunks, a logger),
 *   `toJSON()` answers the parsed value, so every other JSON.stringify writes the same JSON.
 */
export class RawJson {
  #parsed: unknown;
  #isParsed = false;

  constructor(readonly text: string) {}

  /** The value the text stands for (parsed once, on first use). */
  value(): unknown {
    if (!this.#isParsed) {
      this.#parsed = JSON.parse(this.text);
      this.#isParsed = true;
    }
    return this.#parsed;
  }

  toJSON(): unknown {
    if (splicing === null) return this.value();
    splicing.push(this);
    return `${MARK}${splicing.length - 1}`;
  }
}

/**
 * Marks a request context whose answer is completed by the compiled executor
 * (src/graphql/fast-execute.ts), which places a RawJson met where an object is due as it is (set
 * before any resolver runs). A resolver may then answer an object with a RawJson subclass that
 * also stands for the object (src/graphql/projected-record.ts); without the mark it would still
 * be correct, but read as JSON only to be parsed back.
 */
export const COMPLETES_RAW_JSON = Symbol('completesRawJson');

export function completesRawJson(context: unknown): boolean {
  return (context as Record<symbol, unknown> | null)?.[COMPLETES_RAW_JSON] === true;
}

/**
 * JSON.stringify(value), except that each RawJson in it is written as its text, not re-encoded.
 * Synchronous: the list of values met lives only during this call's JSON.stringify.
 */
export function stringifyResponse(value: unknown): string {
  const outer = splicing;
  const met: RawJson[] = [];
  splicing = met;
  let text: string;
  try {
    text = JSON.stringify(value);
  } finally {
    splicing = outer;
  }
  if (met.length === 0) return text;
  // JSON.stringify writes each toJSON() result where it called it, so the placeholders occur in
  // the order they were handed out.
  let out = '';
  let from = 0;
  for (let i = 0; i < met.length; i++) {
    const placeholder = `"${MARK}${i}"`;
    const at = text.indexOf(placeholder, from);
    if (at < 0) throw new Error(`stringifyResponse: placeholder ${i} of ${met.length} not found`);
    out += text.slice(from, at) + (met[i] as RawJson).text;
    from = at + placeholder.length;
  }
  return out + text.slice(from);
}
