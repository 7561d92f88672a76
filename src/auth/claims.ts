/**
 * From a verified token's claims to a Principal (DOMAIN §5). Pure functions: the signature has
 * already been checked; this decides whether what the token says is well-formed and usable.
 */
import { DomainError } from '../domain/errors.js';

export const ROLES = ['viewer', 'editor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling, from a verified token. */
export interface Principal {
  userId: string;
  orgs: readonly string[];
  role: Role;
}

export const ORGANIZATION_CODE = /^[A-Za-z0-9_-]{1,32}$/;
const MAX_SUBJECT = 200;
const MAX_ORGS = 1000;
const MAX_ROLE_VALUES = 1000;
// NUL and the other C0/C1 controls never belong in an identifier (PostgreSQL rejects NUL).
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export interface ClaimRules {
  /** Claim name or dotted path of the organization codes (an array of strings). */
  orgsClaim: string;
  /** Claim name or dotted path of the role (a string, or an array: the highest known role wins). */
  roleClaim: string;
  /** Longest accepted `exp − iat`, seconds. */
  maxLifetimeSeconds: number;
  /** How far `iat` may lie in the future (clock skew between the provider and us), seconds. */
  clockToleranceSeconds: number;
}

const invalid = (what: string): DomainError =>
  new DomainError('UNAUTHENTICATED', `token claims are not valid: ${what}`);

/**
 * A claim by name or dotted path. The whole name is tried first, so a namespaced claim such as
 * Auth0's `https://pfa.example.com/orgs` works; then the path is walked through plain objects.
 */
export function readClaim(payload: Record<string, unknown>, path: string): unknown {
  if (Object.hasOwn(payload, path)) return payload[path];
  let node: unknown = payload;
  for (const part of path.split('.')) {
    if (node === null || typeof node !== 'object' || Array.isArray(node) || !Object.hasOwn(node, part))
      return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

const ROLE_RANK: Record<Role, number> = { viewer: 1, editor: 2, admin: 3 };
const isRole = (v: string): v is Role => Object.hasOwn(ROLE_RANK, v);

/** The role a claim value grants: a known role string, or the highest known role of an array. */
export function roleFrom(value: unknown, claim: string): Role {
  if (typeof value === 'string') {
    if (CONTROL.test(value)) throw invalid(`${claim} contains a control character`);
    if (isRole(value)) return value;
    throw invalid(`${claim} is not one of ${ROLES.join(', ')}`);
  }
  if (Array.isArray(value)) {
    if (value.length > MAX_ROLE_VALUES) throw invalid(`${claim} has more than ${MAX_ROLE_VALUES} values`);
    let best: Role | null = null;
    for (const [i, v] of value.entries()) {
      if (typeof v !== 'string') throw invalid(`${claim}[${i}] is not a string`);
      if (CONTROL.test(v)) throw invalid(`${claim}[${i}] contains a control character`);
      if (isRole(v) && (best === null || ROLE_RANK[v] > ROLE_RANK[best])) best = v;
    }
    if (best === null) throw invalid(`${claim} names none of ${ROLES.join(', ')}`);
    return best;
  }
  if (value === undefined) throw invalid(`${claim} is missing`);
  throw invalid(`${claim} must be a string or an array of strings`);
}

/** Organization codes: an array of strings, each matching ORGANIZATION_CODE. */
export function orgsFrom(value: unknown, claim: string): string[] {
  if (value === undefined) throw invalid(`${claim} is missing`);
  if (!Array.isArray(value)) throw invalid(`${claim} must be an array of organization codes`);
  if (value.length > MAX_ORGS) throw invalid(`${claim} has more than ${MAX_ORGS} organizations`);
  const orgs: string[] = [];
  for (const [i, v] of value.entries()) {
    if (typeof v !== 'string') throw invalid(`${claim}[${i}] is not a string`);
    // The value is not echoed: it may be anything, NUL bytes included.
    if (!ORGANIZATION_CODE.test(v))
      throw invalid(`${claim}[${i}] is not an organization code (${ORGANIZATION_CODE.source})`);
    if (!orgs.includes(v)) orgs.push(v);
  }
  return orgs;
}

export function subjectFrom(value: unknown): string {
  if (typeof value !== 'string')
    throw invalid(value === undefined ? 'sub is missing' : 'sub is not a string');
  if (value.length === 0 || value.length > MAX_SUBJECT)
    throw invalid(`sub must be 1–${MAX_SUBJECT} characters`);
  if (CONTROL.test(value)) throw invalid('sub contains a control character');
  return value;
}

const isNumericDate = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * `iat` required and not in the future (beyond the tolerance); `exp` required; `exp − iat` within
 * the maximum lifetime, so no token can be made (practically) permanent. `exp` itself and `nbf`
 * are checked by the signature verifier (jose).
 */
export function checkLifetime(
  payload: Record<string, unknown>,
  rules: Pick<ClaimRules, 'maxLifetimeSeconds' | 'clockToleranceSeconds'>,
  nowSeconds: number,
): void {
  const { iat, exp } = payload;
  if (!isNumericDate(iat)) throw invalid(iat === undefined ? 'iat is missing' : 'iat is not a number');
  if (!isNumericDate(exp)) throw invalid(exp === undefined ? 'exp is missing' : 'exp is not a number');
  if (iat > nowSeconds + rules.clockToleranceSeconds) throw invalid('iat lies in the future');
  if (exp <= iat) throw invalid('exp is not after iat');
  if (exp - iat > rules.maxLifetimeSeconds)
    throw invalid(`exp − iat exceeds the maximum token lifetime of ${rules.maxLifetimeSeconds} s`);
}

/** The Principal a verified payload describes, or UNAUTHENTICATED naming the first bad claim. */
export function principalFromClaims(
  payload: Record<string, unknown>,
  rules: ClaimRules,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): Principal {
  checkLifetime(payload, rules, nowSeconds);
  const userId = subjectFrom(payload.sub);
  const orgs = orgsFrom(readClaim(payload, rules.orgsClaim), rules.orgsClaim);
  const role = roleFrom(readClaim(payload, rules.roleClaim), rules.roleClaim);
  return { userId, orgs, role };
}
