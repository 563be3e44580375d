import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCa, makeCert } from '../../../test/support/certs';
import { loadConfig } from './exec-config';
import { readTlsMaterial, tlsProblems } from './tls-files';

const ca = makeCa();
const server = makeCert(ca, { cn: 'server', sans: ['IP:127.0.0.1'] });
const other = makeCert(ca, { cn: 'other' });
const DAY = 86_400_000;
const expired = makeCert(ca, { cn: 'expired', notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2020-01-02T00:00:00Z') });
const early = makeCert(ca, { cn: 'early', notBefore: new Date(Date.now() + 10 * DAY), notAfter: new Date(Date.now() + 20 * DAY) });

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

  it('refuses an expired or not yet valid certificate at start-up, naming the variable and the dates', () => {
    expect(tlsProblems({ EXEC_TLS_CERT: expired.certPath, EXEC_TLS_KEY: expired.keyPath })).toEqual([
      `EXEC_TLS_CERT=${JSON.stringify(expired.certPath)}: the certificate CN=expired expired on 2020-01-02T00:00:00.000Z (valid from 2020-01-01T00:00:00.000Z): clients would refuse it`,
    ]);
    expect(tlsProblems({ EXEC_TLS_CERT: early.certPath, EXEC_TLS_KEY: early.keyPath })).toEqual([
      expect.stringMatching(/^EXEC_TLS_CERT=".*": the certificate CN=early is not valid before \S+Z \(valid until \S+Z\): clients would refuse it$/),
    ]);
    expect(() => loadConfig({ EXEC_TLS_CERT: expired.certPath, EXEC_TLS_KEY: expired.keyPath })).toThrow(/EXEC_TLS_CERT=.*expired on 2020-01-02/);
  });

  it('checks every certificate of the chain file, and the dates against the time given', () => {
    const chain = join(mkdtempSync(join(tmpdir(), 'exec-stream-chain-')), 'chain.crt');
    writeFileSync(chain, server.cert + expired.cert);
    expect(tlsProblems({ EXEC_TLS_CERT: chain, EXEC_TLS_KEY: server.keyPath })).toEqual([expect.stringMatching(/CN=expired expired on 2020-01-02/)]);
    const files = { EXEC_TLS_CERT: early.certPath, EXEC_TLS_KEY: early.keyPath };
    expect(readTlsMaterial(files, new Date(Date.now() + 11 * DAY)).cert.toString()).toBe(early.cert);
  });

  it('beyond loopback, mTLS authenticates callers as a token does; TLS alone does not', () => {
    const tls = { EXEC_LISTEN: '0.0.0.0:50051', EXEC_TLS_CERT: server.certPath, EXEC_TLS_KEY: server.keyPath };
    expect(() => loadConfig(tls)).toThrow(/EXEC_LISTEN=0.0.0.0:50051.*only on loopback/s);
    expect(loadConfig({ ...tls, EXEC_TLS_CLIENT_CA: ca.certPath }).EXEC_LISTEN).toBe('0.0.0.0:50051');
  });
});
