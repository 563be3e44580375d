import { loadSync } from '@grpc/proto-loader';
import { execProtoPath, PROTO_LOADER_OPTIONS } from '@exec-stream/client/wire';
import { Metadata } from '@grpc/grpc-js';
import { METHOD_SCOPES, REQUEST_ID_MAX_BYTES, requestIdOf, tokenFromAuthorization } from './auth.interceptor';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('authorization header', () => {
  const token = 'secret-token-0123456789';
  it('reads Bearer and the reference Basic base64(":" + token) forms', () => {
    expect(tokenFromAuthorization(`Bearer ${token}`)).toBe(token);
    expect(tokenFromAuthorization(`bearer ${token}`)).toBe(token);
    expect(tokenFromAuthorization(`Basic ${b64(':' + token)}`)).toBe(token);
    expect(tokenFromAuthorization(`basic ${b64(':' + token)}`)).toBe(token);
    expect(tokenFromAuthorization('Digest abc')).toBeUndefined();
    expect(tokenFromAuthorization(undefined)).toBeUndefined();
  });

  it('gives what follows the scheme, whole: a longer or shorter token is not the token', () => {
    expect(tokenFromAuthorization(`Bearer ${token}x`)).toBe(`${token}x`);
    expect(tokenFromAuthorization(`Bearer ${token.slice(1)}`)).toBe(token.slice(1));
  });

  it.each([
    ['Bearer <token> <anything>', `Bearer ${token} anything`],
    ['Bearer <token> followed by a space', `Bearer ${token} `],
    ['Bearer <token> followed by a tab and more', `Bearer ${token}\tx`],
    ['Bearer with two spaces', `Bearer  ${token}`],
    ['Bearer with no token', 'Bearer '],
    ['the token alone', token],
    ['Basic with a user name', `Basic ${b64('user:' + token)}`],
    ['Basic with a user name and the token in it', `Basic ${b64(token + ':' + token)}`],
    ['Basic without a colon', `Basic ${b64(token)}`],
    ['Basic with junk around the base64', `Basic ${b64(':' + token)}!!`],
    ['Basic with a second word', `Basic ${b64(':' + token)} x`],
  ])('refuses %s', (_name, header) => {
    expect(tokenFromAuthorization(header)).not.toBe(token);
  });
});

describe('x-request-id', () => {
  const md = (...values: string[]) => {
    const m = new Metadata();
    for (const v of values) m.add('x-request-id', v);
    return m;
  };
  it('is optional and taken as sent when it is one value of 1-128 printable ASCII characters', () => {
    expect(requestIdOf(md())).toBeUndefined();
    expect(requestIdOf(md('req-1 / ok'))).toBe('req-1 / ok');
    expect(requestIdOf(md('x'.repeat(REQUEST_ID_MAX_BYTES)))).toHaveLength(128);
  });
  // Values with other characters never get here: grpc-js drops them when it reads the headers.
  it.each([
    ['too long', ['x'.repeat(REQUEST_ID_MAX_BYTES + 1)]],
    ['two values', ['a', 'b']],
  ])('is INVALID_ARGUMENT when %s', (_n, values) => {
    expect(() => requestIdOf(md(...values))).toThrow(expect.objectContaining({ kind: 'invalid', message: expect.stringMatching(/^x-request-id must be/) }));
  });
});

describe('method scopes', () => {
  it('covers every RPC of the proto but Session (decided by its Start), with the documented scope', () => {
    const service = loadSync(execProtoPath(), PROTO_LOADER_OPTIONS)['dagger.exec.Exec'] as Record<string, unknown>;
    expect(Object.keys(METHOD_SCOPES).sort()).toEqual(
      Object.keys(service)
        .filter((m) => m !== 'Session')
        .sort(),
    );
    expect(METHOD_SCOPES).toEqual({
      ContainerLifecycle: 'read',
      ContainerStatus: 'read',
      ContainerPause: 'control',
      ContainerResume: 'control',
      ContainerSignal: 'control',
      ListSessions: 'read',
      CopyTo: 'run',
      CopyFrom: 'read',
      RemoveSession: 'control',
      AuditEvents: 'audit',
      SessionResizes: 'read',
    });
  });
});
