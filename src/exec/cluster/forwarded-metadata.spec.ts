import { Metadata } from '@grpc/grpc-js';
import { FORWARDED_BY, forwardedMetadata, isForwarded } from './forwarded-metadata';

// docs/SCALING.md, "Auth": a forwarded call carries the caller's own authorization (and x-request-id,
// traceparent), and x-exec-forwarded-by; nothing else of the caller's metadata.
describe('forwardedMetadata', () => {
  it("passes on the caller's authorization, x-request-id and traceparent, marks the call, and drops the rest", () => {
    const incoming = new Metadata();
    incoming.set('authorization', 'Bearer caller-token');
    incoming.set('x-request-id', 'req-7');
    incoming.set('traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    incoming.set('x-exec-client-secret', 'not for the owner');
    const md = forwardedMetadata(incoming, 'es-a');
    expect(md.getMap()).toEqual({
      authorization: 'Bearer caller-token',
      'x-request-id': 'req-7',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      [FORWARDED_BY]: 'es-a',
    });
    expect(isForwarded(md)).toBe(true);
    expect(isForwarded(incoming)).toBe(false);
  });
});
