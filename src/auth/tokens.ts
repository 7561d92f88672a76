import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { z } from 'zod';
import { DomainError } from '../domain/errors.js';

export const ROLES = ['viewer', 'editor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling, from a verified token. */
export interface Principal {
  userId: string;
  orgs: readonly string[];
  role: Role;
}

const claimsSchema = z.object({
  sub: z.string().min(1).max(200),
  orgs: z.array(z.string().min(1)).max(1000),
  role: z.enum(ROLES),
  exp: z.number(),
});

const keyOf = (secret: string): Uint8Array => new TextEncoder().encode(secret);

/** Verifies `Authorization: Bearer <JWT>` (HS256, exp required). Throws UNAUTHENTICATED. */
export async function verifyBearer(header: string | undefined, secret: string): Promise<Principal> {
  if (!header) throw new DomainError('UNAUTHENTICATED', 'missing Authorization: Bearer token');
  const m = /^Bearer\s+(\S+)$/i.exec(header.trim());
  if (!m?.[1]) throw new DomainError('UNAUTHENTICATED', 'Authorization header must be "Bearer <token>"');
  let payload: unknown;
  try {
    ({ payload } = await jwtVerify(m[1], keyOf(secret), {
      algorithms: ['HS256'],
      requiredClaims: ['exp', 'sub'],
    }));
  } catch (e) {
    const reason = e instanceof joseErrors.JWTExpired ? 'token expired' : 'token is not valid';
    throw new DomainError('UNAUTHENTICATED', reason);
  }
  const claims = claimsSchema.safeParse(payload);
  if (!claims.success) {
    const fields = claims.error.issues.map((i) => i.path.join('.')).join(', ');
    throw new DomainError('UNAUTHENTICATED', `token claims are not valid (${fields})`);
  }
  return { userId: claims.data.sub, orgs: claims.data.orgs, role: claims.data.role };
}

/** Signs a token as the customer's identity provider would (dev tooling, demo mode, tests). */
export async function signToken(
  secret: string,
  claims: { sub: string; orgs: readonly string[]; role: Role },
  expiresIn: string | number = '12h',
): Promise<string> {
  return new SignJWT({ orgs: [...claims.orgs], role: claims.role })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(keyOf(secret));
}

export function can(principal: Principal, action: 'read' | 'edit' | 'admin'): boolean {
  if (action === 'read') return true;
  if (action === 'edit') return principal.role === 'editor' || principal.role === 'admin';
  return principal.role === 'admin';
}
