// TokenRequest (POST …/serviceaccounts/<name>/token): a JWT-shaped token whose claims are those of a real
// bound service-account token, signed with a throw-away key so that it looks and parses like one.
import crypto from 'node:crypto';

const b64url = (v: Buffer | string) => Buffer.from(v).toString('base64url');

export interface TokenClaims {
  aud: string[];
  exp: number;
  iat: number;
  iss: string;
  'kubernetes.io': { namespace: string; secret?: { name: string; uid: string }; pod?: { name: string; uid: string }; serviceaccount: { name: string; uid: string } };
  nbf: number;
  sub: string;
}

const signingKey = crypto.randomBytes(32);
const keyId = b64url(crypto.createHash('sha256').update(signingKey).digest()).slice(0, 43);

/** The object a token is bound to (TokenRequest spec.boundObjectRef): its claim sits between namespace and serviceaccount. */
export interface BoundObject {
  kind: 'Secret' | 'Pod';
  name: string;
  uid: string;
}

export function mintToken(namespace: string, serviceAccount: string, uid: string, audiences: string[], expirationSeconds: number, now: Date, bound?: BoundObject): { token: string; claims: TokenClaims } {
  const iat = Math.floor(now.getTime() / 1000);
  const claims: TokenClaims = {
    aud: audiences,
    exp: iat + expirationSeconds,
    iat,
    iss: 'https://kubernetes.default.svc.cluster.local',
    'kubernetes.io': { namespace, ...(bound ? { [bound.kind.toLowerCase()]: { name: bound.name, uid: bound.uid } } : {}), serviceaccount: { name: serviceAccount, uid } },
    nbf: iat,
    sub: `system:serviceaccount:${namespace}:${serviceAccount}`,
  };
  const header = b64url(JSON.stringify({ alg: 'RS256', kid: keyId }));
  const payload = b64url(JSON.stringify(claims));
  // Real tokens are RS256 (a 256-byte signature); an HMAC repeated to that length keeps the shape.
  const mac = crypto.createHmac('sha256', signingKey).update(`${header}.${payload}`).digest();
  const signature = b64url(Buffer.concat(Array.from({ length: 8 }, () => mac)));
  return { token: `${header}.${payload}.${signature}`, claims };
}

export function decodeClaims(token: string): TokenClaims {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as TokenClaims;
}

/** The claims of a token this server signed; undefined for anything else (a foreign or altered token). */
export function verifiedClaims(token: string): TokenClaims | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const mac = crypto.createHmac('sha256', signingKey).update(`${parts[0]}.${parts[1]}`).digest();
  if (parts[2] !== b64url(Buffer.concat(Array.from({ length: 8 }, () => mac)))) return undefined;
  try {
    return decodeClaims(token);
  } catch {
    return undefined;
  }
}

/** The claims of a token this server minted, or undefined when it did not mint it or it has expired. */
export function verifyToken(token: string, now: Date): TokenClaims | undefined {
  const [header, payload, signature] = token.split('.');
  if (!header || !payload || !signature) return undefined;
  const mac = crypto.createHmac('sha256', signingKey).update(`${header}.${payload}`).digest();
  if (signature !== b64url(Buffer.concat(Array.from({ length: 8 }, () => mac)))) return undefined;
  const claims = decodeClaims(token);
  const t = Math.floor(now.getTime() / 1000);
  return claims.exp > t && claims.nbf <= t ? claims : undefined;
}
