import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { badInput } from '../domain/errors.js';

/**
 * What a cursor is bound to: it is accepted only for the same organization, session, filter and
 * ordering it was made for (a cursor from another tenant, sandbox or query is refused).
 */
export interface CursorBinding {
  organizationId: string;
  sessionId: string | null;
  /** The ordering's signature (keys and directions). */
  ordering: string;
  /** The filter as the client sent it (compared by a canonical hash). */
  filter: unknown;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;
const MAX_CURSOR_LENGTH = 4096;

/**
 * Keyset cursors, opaque and authenticated: the sort values of the row (which may be the caller's
 * draft values) are encrypted with AES-256-GCM, and the binding (organization, session, filter
 * hash, ordering) is the additional authenticated data — so a cursor reveals nothing, cannot be
 * altered, and cannot be replayed in another organization, session or query.
 */
export class CursorCodec {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = createHash('sha256').update(`pfa-cursor-v2:${secret}`).digest();
  }

  encode(binding: CursorBinding, values: readonly unknown[]): string {
    const iv = randomIv();
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(bindingBytes(binding));
    const body = Buffer.concat([cipher.update(JSON.stringify(values), 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  /** The sort values of a cursor made for this binding with `keys` ordering keys. */
  decode(cursor: string, binding: CursorBinding, keys: number, path = 'after'): unknown[] {
    if (cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor))
      throw badInput('malformed cursor', path);
    const raw = Buffer.from(cursor, 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES + 2) throw badInput('malformed cursor', path);
    let text: string;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(bindingBytes(binding));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      text = Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      throw badInput(
        'cursor is not valid here: altered, from another server, or made for another organization, session, filter or orderBy',
        path,
      );
    }
    const values: unknown = JSON.parse(text);
    if (!Array.isArray(values) || values.length !== keys) throw badInput('malformed cursor', path);
    return values;
  }
}

/** Random IVs drawn from a pooled buffer: one call into the random source per 256 cursors. */
let ivPool = Buffer.alloc(0);
let ivOffset = 0;

function randomIv(): Buffer {
  if (ivOffset + IV_BYTES > ivPool.length) {
    ivPool = randomBytes(IV_BYTES * 256);
    ivOffset = 0;
  }
  // Each IV's bytes are handed out once (the cipher and the cursor copy them).
  const iv = ivPool.subarray(ivOffset, ivOffset + IV_BYTES);
  ivOffset += IV_BYTES;
  return iv;
}

/** A binding's bytes, once per binding object (a page encodes a cursor per edge with one binding). */
const bindingCache = new WeakMap<CursorBinding, Buffer>();

function bindingBytes(b: CursorBinding): Buffer {
  let bytes = bindingCache.get(b);
  if (!bytes) {
    bytes = computeBindingBytes(b);
    bindingCache.set(b, bytes);
  }
  return bytes;
}

function computeBindingBytes(b: CursorBinding): Buffer {
  const filterHash = createHash('sha256')
    .update(canonicalJson(b.filter ?? null))
    .digest('base64url');
  return Buffer.from(JSON.stringify([b.organizationId, b.sessionId, b.ordering, filterHash]), 'utf8');
}

/** JSON with object keys sorted (and undefined/null members dropped), so equal filters hash equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined && v !== null)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}
