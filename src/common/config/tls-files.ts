import { problemsOf } from './config-problems';
import { checkCaBundle, checkCertificate, checkKeyPair, readPem, type PemFile } from './pem-files';

/** The TLS settings: PEM file paths; unset = plaintext. */
export interface TlsFileSettings {
  EXEC_TLS_CERT?: string;
  EXEC_TLS_KEY?: string;
  EXEC_TLS_CLIENT_CA?: string;
}

/** The PEM contents of the TLS files, read together. */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
}

/**
 * Reads the TLS files and checks that they make a usable server identity at `now` (every certificate of
 * the chain parses and is within its dates, key matches it, client CA parses); throws an Error naming
 * the variable at fault.
 */
export function readTlsMaterial(s: TlsFileSettings, now = new Date()): TlsMaterial {
  const file = (name: keyof TlsFileSettings): PemFile => ({ path: s[name] as string, at: `${name}=${JSON.stringify(s[name])}` });
  const [certFile, keyFile, caFile] = [file('EXEC_TLS_CERT'), file('EXEC_TLS_KEY'), file('EXEC_TLS_CLIENT_CA')];
  const cert = readPem(certFile);
  const key = readPem(keyFile);
  const ca = s.EXEC_TLS_CLIENT_CA ? readPem(caFile) : undefined;
  checkCertificate(certFile, cert, now);
  if (ca) checkCertificate(caFile, ca);
  checkKeyPair(keyFile, { cert, key }, 'EXEC_TLS_CERT');
  if (ca) checkCaBundle(caFile, ca);
  return { cert, key, ca };
}

/** Problems with the TLS settings, one line each naming the variable (empty when fine or unset). */
export function tlsProblems(s: TlsFileSettings): string[] {
  if (!s.EXEC_TLS_CERT && !s.EXEC_TLS_KEY && !s.EXEC_TLS_CLIENT_CA) return [];
  if (!s.EXEC_TLS_CERT || !s.EXEC_TLS_KEY) {
    const missing = !s.EXEC_TLS_CERT ? 'EXEC_TLS_CERT' : 'EXEC_TLS_KEY';
    return [`${missing} is unset: EXEC_TLS_CERT, EXEC_TLS_KEY (and EXEC_TLS_CLIENT_CA, which needs both) go together`];
  }
  return problemsOf(() => readTlsMaterial(s));
}
