import type { ChannelCredentials } from '@grpc/grpc-js';
import { authorizationValue, channelCredentials, GRPCConnectionManager } from './grpc-connection-manager';
import { execGrpcClientOptions } from './nest/grpc-client-options';

const secure = (c: ChannelCredentials) => (c as unknown as { _isSecure(): boolean })._isSecure();

describe('channelCredentials', () => {
  it('is plaintext without tls, and with a tls object whose fields are all unset (an optional CA from an unset variable)', () => {
    expect(secure(channelCredentials())).toBe(false);
    expect(secure(channelCredentials({}))).toBe(false);
    expect(secure(channelCredentials({ ca: process.env.EXEC_SPEC_UNSET_VARIABLE }))).toBe(false);
    expect(secure(channelCredentials({ ca: undefined, cert: undefined, key: undefined }))).toBe(false);
    expect(secure(execGrpcClientOptions({ address: 'h:1', tls: { ca: undefined } }).credentials)).toBe(false);
  });

  it('is TLS with the system roots for `true`, and with the given CA', () => {
    expect(secure(channelCredentials(true))).toBe(true);
    expect(secure(execGrpcClientOptions({ address: 'h:1', tls: true }).credentials)).toBe(true);
    // Not a real CA: createSsl takes the bytes as they are; the handshake would check them.
    expect(secure(channelCredentials({ ca: Buffer.from('-----BEGIN CERTIFICATE-----\n') }))).toBe(true);
    expect(() => channelCredentials({ cert: Buffer.from('-----BEGIN CERTIFICATE-----\n') })).toThrow(/go together/);
  });
});

describe('the token', () => {
  it("loses its surrounding whitespace (a file's or Secret's trailing newline) in the authorization header", () => {
    const token = 'f'.repeat(64);
    expect(authorizationValue(`${token}\n`)).toBe(`Bearer ${token}`);
    expect(authorizationValue(` ${token}\n`, 'basic')).toBe(`Basic ${Buffer.from(`:${token}`).toString('base64')}`);
    const conn = new GRPCConnectionManager({ address: '127.0.0.1:1', token: `${token}\n` });
    expect(conn.getMetadata().get('authorization')).toEqual([`Bearer ${token}`]);
    expect(new GRPCConnectionManager({ address: '127.0.0.1:1', token: '\n' }).getMetadata().get('authorization')).toEqual([]);
  });
});
