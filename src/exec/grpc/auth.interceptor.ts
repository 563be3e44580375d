import { Metadata, ServerInterceptingCall, status, type ServerInterceptor } from '@grpc/grpc-js';
import { timingSafeEqual, createHash } from 'node:crypto';

/** Health checks stay open so that Kubernetes probes need no secret. */
const OPEN_PREFIXES = ['/grpc.health.v1.Health/'];

function digest(value: string): Buffer {
  // Hash first so the constant-time compare sees equal lengths whatever the client sent.
  return createHash('sha256').update(value).digest();
}

/**
 * The token of exactly one of the two documented forms: `Bearer <token>` (all that follows the one
 * space is the token) or the reference client's `Basic base64(":" + token)` (strict base64, empty user
 * name). The scheme is case-insensitive (RFC 9110); anything else gives undefined.
 */
export function tokenFromAuthorization(header: string | undefined): string | undefined {
  const m = /^([A-Za-z]+) (.+)$/s.exec(header ?? '');
  if (!m) return undefined;
  const [, scheme, value] = m;
  if (/^bearer$/i.test(scheme)) return value;
  if (/^basic$/i.test(scheme) && /^[A-Za-z0-9+/]+={0,2}$/.test(value)) {
    const raw = Buffer.from(value, 'base64');
    if (raw.toString('base64') !== value) return undefined; // not canonical base64: not the documented form
    const decoded = raw.toString('utf8');
    return decoded.startsWith(':') ? decoded.slice(1) : undefined;
  }
  return undefined;
}

export function tokenMatches(expected: string, header: string | undefined): boolean {
  const given = tokenFromAuthorization(header);
  return given !== undefined && timingSafeEqual(digest(given), digest(expected));
}

/**
 * A grpc-js server interceptor: it runs before any Nest handler, for unary and streaming calls alike,
 * and rejects a call whose metadata lacks the token with UNAUTHENTICATED.
 */
export function authInterceptor(token: string): ServerInterceptor {
  return (methodDescriptor, call) => {
    if (OPEN_PREFIXES.some((p) => methodDescriptor.path.startsWith(p))) return new ServerInterceptingCall(call);
    return new ServerInterceptingCall(call, {
      start: (next) => {
        next({
          onReceiveMetadata: (metadata: Metadata, mdNext) => {
            const header = metadata.get('authorization')[0];
            if (tokenMatches(token, typeof header === 'string' ? header : header?.toString())) {
              mdNext(metadata);
            } else {
              call.sendStatus({
                code: status.UNAUTHENTICATED,
                details: 'missing or wrong token: send metadata "authorization: Bearer <EXEC_AUTH_TOKEN>" (or Basic base64(":" + token))',
                metadata: new Metadata(),
              });
            }
          },
        });
      },
    });
  };
}
