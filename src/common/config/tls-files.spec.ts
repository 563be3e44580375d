import { makeCa, makeCert } from '../../../test/support/certs';
import { loadConfig } from './exec-config';
import { readTlsMaterial, tlsProblems } from './tls-files';

const ca = makeCa();
const server = makeCert(ca, { cn: 'server', sans: ['IP:127.0.0.1'] });
const other = makeCert(ca, { cn: 'other' });

describe('TLS settings', () => {
  it('reads a certificate, its key and a client CA', () => {
    const m = readTlsMaterial({ EXEC_TLS_CERT: server.certPath, EXEC_TLS_KEY: server.keyPath, EXEC_TLS_CLIENT_CA: ca.certPath });
    expect(m.cert.toString()).toBe(server.cert);
    expect(m.ca?.toString()).toBe(ca.cert);
    expect(tlsProblems({})).toEqual([]);
  });

  it.each<[string, Record<string, string>, RegExp]>([
    ['a certificate without its key', { EXEC_TLS_CERT: server.certPath }, /^EXEC_TLS_KEY is unset/],
    ['a client CA alone', { EXEC_TLS_CLIENT_CA: ca.certPath }, /^EXEC_TLS_CERT is unset/],
    [
      'a missing file',
      { EXEC_TLS_CERT: '/nonexistent.crt', EXEC_TLS_KEY: server.keyPath },
      /^EXEC_TLS_CERT="\/nonexistent.crt": cannot read the file \(ENOENT\)/,
    ],
    ['a key as the certificate', { EXEC_TLS_CERT: server.keyPath, EXEC_TLS_KEY: server.keyPath }, /^EXEC_TLS_CERT=.*not a PEM certificate/],
    ['the key of another certificate', { EXEC_TLS_CERT: server.certPath, EXEC_TLS_KEY: other.keyPath }, /^EXEC_TLS_KEY=.*matching EXEC_TLS_CERT/],
    ['a key as the client CA', { EXEC_TLS_CERT: server.certPath, EXEC_TLS_KEY: server.keyPath, EXEC_TLS_CLIENT_CA: server.keyPath }, /^EXEC_TLS_CLIENT_CA=/],
  ])('refuses %s, naming the variable', (_n, env, message) => {
    expect(tlsProblems(env)).toEqual([expect.stringMatching(message)]);
    expect(() => loadConfig(env)).toThrow(/invalid configuration/);
  });

  it('beyond loopback, mTLS authenticates callers as a token does; TLS alone does not', () => {
    const tls = { EXEC_LISTEN: '0.0.0.0:50051', EXEC_TLS_CERT: server.certPath, EXEC_TLS_KEY: server.keyPath };
    expect(() => loadConfig(tls)).toThrow(/EXEC_LISTEN=0.0.0.0:50051.*only on loopback/s);
    expect(loadConfig({ ...tls, EXEC_TLS_CLIENT_CA: ca.certPath }).EXEC_LISTEN).toBe('0.0.0.0:50051');
  });
});
