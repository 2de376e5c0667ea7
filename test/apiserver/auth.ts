// Who a request is, and whether RBAC lets them, shaped like kube-apiserver v1.26 (test/fixtures/kube-api 47–57):
// - the server's bearer token is "admin" in system:masters; a client certificate signed by the test CA is its CN
//   in the groups of its O; tokens the server minted (TokenRequest) are their service account until they
//   expire; tokens added with addToken are whoever they say; any other token is 401;
// - no credentials at all (or basic auth, which kube-apiserver no longer reads) is system:anonymous, which may read /version and /healthz and nothing else (403);
// - Impersonate-User (with -Group, -Uid, -Extra-*) needs a requester allowed to impersonate (system:masters or
//   a grant of "impersonate" on users); groups, uid or extra without a user is the real server's 500;
// - system:masters may do anything; anyone else only what a grant allows, else a 403 worded as RBAC words it.
import type http from 'node:http';
import type { TLSSocket } from 'node:tls';
import { ApiFailure } from './status.ts';
import { verifyToken } from './token.ts';

export interface Identity {
  name: string;
  groups: string[];
  uid?: string;
  extra?: Record<string, string[]>;
}

/** "user may <verbs> <resources> [in namespace]"; resources are plurals, "services/status" for subresources. */
export interface Grant {
  user: string;
  verbs: string[];
  resources: string[];
  /** API group; default "" (core). "*" for any. */
  group?: string;
  namespace?: string;
}

export interface RequestAttributes {
  verb: string;
  /** Plural, with "/subresource"; undefined for a non-resource path. */
  resource?: string;
  group: string;
  namespace?: string;
  name?: string;
  /** e.g. serviceentries.networking.istio.io, for the message. */
  qualified?: string;
  path: string;
}

export const ADMIN: Identity = { name: 'admin', groups: ['system:masters', 'system:authenticated'] };
const ANONYMOUS: Identity = { name: 'system:anonymous', groups: ['system:unauthenticated'] };

class RawFailure extends Error {
  constructor(
    readonly code: number,
    readonly text: string,
  ) {
    super(text);
  }
}
export { RawFailure };

const status = (code: number, reason: string, message: string, details?: Record<string, unknown>) =>
  new ApiFailure({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code });

function serviceAccountGroups(name: string): string[] {
  const m = /^system:serviceaccount:([^:]+):[^:]+$/.exec(name);
  return m ? ['system:serviceaccounts', `system:serviceaccounts:${m[1]}`] : [];
}

export function authenticate(req: http.IncomingMessage, adminToken: string | null, tokens: Map<string, Identity>, now: Date): Identity {
  const socket = req.socket as TLSSocket;
  // A resumed TLS session reports authorized with no peer certificate: only a certificate names someone.
  const peer = socket.authorized === true ? socket.getPeerCertificate() : undefined;
  if (peer?.subject) {
    const subject = peer.subject;
    const orgs = subject.O === undefined ? [] : Array.isArray(subject.O) ? subject.O : [subject.O];
    return { name: String(subject.CN ?? ''), groups: [...orgs, 'system:authenticated'] };
  }
  const auth = req.headers.authorization;
  if (!auth) return adminToken === null ? ADMIN : ANONYMOUS;
  const bearer = /^Bearer (.+)$/i.exec(auth)?.[1]?.trim();
  if (bearer !== undefined) {
    if (bearer === adminToken) return ADMIN;
    const known = tokens.get(bearer);
    if (known) return known;
    const claims = verifyToken(bearer, now);
    if (claims) {
      const name = claims.sub;
      return { name, groups: [...serviceAccountGroups(name), 'system:authenticated'] };
    }
  }
  // kube-apiserver has no basic auth since 1.19: it ignores the header, and the request is anonymous.
  if (/^Basic /i.test(auth)) return ANONYMOUS;
  throw status(401, 'Unauthorized', 'Unauthorized');
}

/** Applies Impersonate-* headers, as the real server's impersonation filter does. */
export function impersonate(requester: Identity, req: http.IncomingMessage, attrs: RequestAttributes, grants: Grant[]): Identity {
  const h = req.headers;
  const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : v.split(',').map((s) => s.trim()));
  const user = list(h['impersonate-user'])[0];
  const groups = list(h['impersonate-group']);
  const uid = list(h['impersonate-uid'])[0];
  const extra: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(h)) {
    if (k.startsWith('impersonate-extra-')) extra[decodeURIComponent(k.slice('impersonate-extra-'.length))] = list(v as string | string[]);
  }
  if (user === undefined) {
    if (groups.length || uid !== undefined || Object.keys(extra).length) {
      const requested = [...groups.map((g) => `{Group  ${g}    }`), ...(uid !== undefined ? [`{UID    ${uid} }`] : [])].join(' ');
      throw new RawFailure(500, `Internal Server Error: "${attrs.path}": requested [${requested}] without impersonating a user\n`);
    }
    return requester;
  }
  const may = (resource: string) => requester.groups.includes('system:masters') || grants.some((g) => g.user === requester.name && g.verbs.includes('impersonate') && g.resources.includes(resource));
  if (!may('users')) {
    throw status(403, 'Forbidden', `users "${user}" is forbidden: User "${requester.name}" cannot impersonate resource "users" in API group "" at the cluster scope`, { name: user, kind: 'users' });
  }
  for (const g of groups) {
    if (!may('groups')) throw status(403, 'Forbidden', `groups "${g}" is forbidden: User "${requester.name}" cannot impersonate resource "groups" in API group "" at the cluster scope`, { name: g, kind: 'groups' });
  }
  const impersonatedGroups = groups.length ? groups : serviceAccountGroups(user);
  return {
    name: user,
    groups: user === 'system:anonymous' ? impersonatedGroups : [...impersonatedGroups, 'system:authenticated'],
    ...(uid !== undefined ? { uid } : {}),
    ...(Object.keys(extra).length ? { extra } : {}),
  };
}

const PUBLIC_PATHS = ['/version', '/version/', '/healthz', '/livez', '/readyz'];

/** RBAC's verdict: system:masters may do anything; the bootstrap roles let everyone authenticated discover. */
export function authorize(who: Identity, attrs: RequestAttributes, grants: Grant[]): void {
  if (who.groups.includes('system:masters')) return;
  if (attrs.resource === undefined) {
    if (PUBLIC_PATHS.includes(attrs.path) || who.groups.includes('system:authenticated')) return;
    throw status(403, 'Forbidden', `forbidden: User "${who.name}" cannot ${attrs.verb} path "${attrs.path}"`, {});
  }
  const allowed = grants.some(
    (g) =>
      g.user === who.name &&
      (g.verbs.includes(attrs.verb) || g.verbs.includes('*')) &&
      (g.resources.includes(attrs.resource!) || g.resources.includes('*')) &&
      ((g.group ?? '') === attrs.group || g.group === '*') &&
      (g.namespace === undefined || g.namespace === attrs.namespace),
  );
  if (allowed) return;
  const subject = attrs.name ? `${attrs.qualified} "${attrs.name}"` : attrs.qualified;
  const scope = attrs.namespace ? `in the namespace "${attrs.namespace}"` : 'at the cluster scope';
  throw status(403, 'Forbidden', `${subject} is forbidden: User "${who.name}" cannot ${attrs.verb} resource "${attrs.resource}" in API group "${attrs.group}" ${scope}`, {
    ...(attrs.name ? { name: attrs.name } : {}),
    ...(attrs.group ? { group: attrs.group } : {}),
    kind: attrs.resource.split('/')[0],
  });
}
