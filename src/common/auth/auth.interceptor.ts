import { Metadata, ServerInterceptingCall, status, type ServerInterceptor } from '@grpc/grpc-js';
import { timingSafeEqual, createHash } from 'node:crypto';

/** Health checks stay open so that Kubernetes probes need no secret. */
const OPEN_PREFIXES = ['/grpc.health.v1.Health/'];

function digest(value: string): Buffer {
  // Hash first so the constant-time compare sees equal lengths whatever the client sent.
  return createHash('sha256').update(value).digest();
}

/** The token from `Bearer <token>` or the reference client's `Basic base64(":" + token)`. */
export function tokenFromAuthorization(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const [scheme, value = ''] = header.trim().split(/\s+/, 2);
  if (/^bearer$/i.test(scheme)) return value;
  if (/^basic$/i.test(scheme)) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) : undefined;
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
                details: 'missing or wrong token: send metadata "authorization: Bearer <EXEC_AUTH_TOKEN>"',
                metadata: new Metadata(),
              });
            }
          },
        });
      },
    });
  };
}
