import type { experimental } from '@grpc/grpc-js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeCa, makeCert } from '../../../../test/support/certs';
import { loadConfig } from '../../../common/config/exec-config';
import { serverCredentials, TlsFilesCertificateProvider } from './server-credentials';

const ca = makeCa();
const first = makeCert(ca, { cn: 'first', sans: ['DNS:localhost'] });
const second = makeCert(ca, { cn: 'second', sans: ['DNS:localhost'] });
const expired = makeCert(ca, { cn: 'expired', notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2020-01-02T00:00:00Z') });
const early = makeCert(ca, { cn: 'early', notBefore: new Date(Date.now() + 10 * 86_400_000), notAfter: new Date(Date.now() + 20 * 86_400_000) });

function logSpy() {
  const lines: Array<{ level: string; msg: string; obj: Record<string, unknown> }> = [];
  return {
    lines,
    info: (obj: object, msg: string) => lines.push({ level: 'info', msg, obj: obj as Record<string, unknown> }),
    warn: (obj: object, msg: string) => lines.push({ level: 'warn', msg, obj: obj as Record<string, unknown> }),
  };
}

describe('serverCredentials', () => {
  it('is plaintext without EXEC_TLS_CERT, TLS with it', () => {
    expect(serverCredentials(loadConfig({}))._isSecure()).toBe(false);
    const tls = serverCredentials(loadConfig({ EXEC_TLS_CERT: first.certPath, EXEC_TLS_KEY: first.keyPath }), logSpy());
    expect(tls._isSecure()).toBe(true);
    expect(tls._getConstructorOptions()).toMatchObject({ requestCert: false });
  });

  it('requires and verifies a client certificate with EXEC_TLS_CLIENT_CA', () => {
    const config = loadConfig({ EXEC_TLS_CERT: first.certPath, EXEC_TLS_KEY: first.keyPath, EXEC_TLS_CLIENT_CA: ca.certPath });
    expect(serverCredentials(config, logSpy())._getConstructorOptions()).toMatchObject({ requestCert: true, rejectUnauthorized: true });
  });
});

describe('TlsFilesCertificateProvider', () => {
  const dir = join(first.certPath, '..');
  const files = { EXEC_TLS_CERT: join(dir, 'p.crt'), EXEC_TLS_KEY: join(dir, 'p.key'), EXEC_TLS_CLIENT_CA: ca.certPath };
  const put = (cert: string, key: string) => (writeFileSync(files.EXEC_TLS_CERT, cert), writeFileSync(files.EXEC_TLS_KEY, key));

  it('publishes the files on listening, then only valid changes; a half-written change keeps the previous files', async () => {
    put(first.cert, first.key);
    const log = logSpy();
    const provider = new TlsFilesCertificateProvider(files, log, 60_000);
    const seen: Array<experimental.IdentityCertificateUpdate | null> = [];
    const cas: Array<experimental.CaCertificateUpdate | null> = [];
    const onIdentity = (u: experimental.IdentityCertificateUpdate | null) => seen.push(u);
    const onCa = (u: experimental.CaCertificateUpdate | null) => cas.push(u);
    provider.addIdentityCertificateListener(onIdentity);
    provider.addCaCertificateListener(onCa);
    await new Promise<void>((r) => process.nextTick(r));
    expect(seen.map((u) => u?.certificate.toString())).toEqual([first.cert]);
    expect(cas.map((u) => u?.caCertificate.toString())).toEqual([ca.cert]);
    expect(provider.fingerprint).toBe(first.fingerprint256);

    expect(provider.check()).toBe(false); // unchanged
    writeFileSync(files.EXEC_TLS_CERT, second.cert); // the key is not there yet
    expect(provider.check()).toBe(false);
    expect(provider.check()).toBe(false);
    expect(log.lines.filter((l) => l.level === 'warn')).toHaveLength(1);
    expect(provider.fingerprint).toBe(first.fingerprint256);

    writeFileSync(files.EXEC_TLS_KEY, second.key);
    expect(provider.check()).toBe(true);
    expect(seen.map((u) => u?.certificate.toString())).toEqual([first.cert, second.cert]);
    expect(seen[1]?.privateKey.toString()).toBe(second.key);
    expect(provider.fingerprint).toBe(second.fingerprint256);
    provider.removeIdentityCertificateListener(onIdentity);
    provider.removeCaCertificateListener(onCa);
  });

  it('keeps the previous files when the new pair is expired or not yet valid, and says so once with the dates', () => {
    put(first.cert, first.key);
    const log = logSpy();
    const provider = new TlsFilesCertificateProvider(files, log, 60_000);
    for (const stale of [expired, early]) {
      put(stale.cert, stale.key);
      expect(provider.check()).toBe(false);
      expect(provider.check()).toBe(false);
      expect(provider.fingerprint).toBe(first.fingerprint256);
    }
    const warnings = log.lines.filter((l) => l.level === 'warn').map((l) => String(l.obj.problem));
    expect(warnings).toEqual([expect.stringMatching(/CN=expired expired on 2020-01-02/), expect.stringMatching(/CN=early is not valid before/)]);
    put(second.cert, second.key);
    expect(provider.check()).toBe(true);
    expect(provider.fingerprint).toBe(second.fingerprint256);
  });

  it('refuses to start from unusable files, naming the variable', () => {
    put(first.cert, second.key);
    expect(() => new TlsFilesCertificateProvider(files, logSpy())).toThrow(/^EXEC_TLS_KEY=/);
  });
});
