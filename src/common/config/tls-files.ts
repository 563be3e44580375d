import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';

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

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Why a certificate of the chain in `pem` is refused at `now` (expired, or not valid yet), naming it and its dates; undefined when all are valid. */
export function certificateDateProblem(pem: Buffer, now: Date): string | undefined {
  for (const block of pem.toString('utf8').match(PEM_CERTIFICATE) ?? []) {
    const x = new X509Certificate(block);
    const name = x.subject.replace(/\n/g, ', ');
    const [from, to] = [x.validFromDate, x.validToDate];
    if (now > to) return `the certificate ${name} expired on ${to.toISOString()} (valid from ${from.toISOString()}): clients would refuse it`;
    if (now < from) return `the certificate ${name} is not valid before ${from.toISOString()} (valid until ${to.toISOString()}): clients would refuse it`;
  }
  return undefined;
}

/**
 * Reads the TLS files and checks that they make a usable server identity at `now` (every certificate of
 * the chain parses and is within its dates, key matches it, client CA parses); throws an Error naming
 * the variable at fault.
 */
export function readTlsMaterial(s: TlsFileSettings, now = new Date()): TlsMaterial {
  const read = (name: keyof TlsFileSettings): Buffer => {
    try {
      return readFileSync(s[name] as string);
    } catch (err) {
      throw new Error(`${name}=${JSON.stringify(s[name])}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, {
        cause: err,
      });
    }
  };
  const parse = (name: keyof TlsFileSettings, pem: Buffer): void => {
    try {
      new X509Certificate(pem);
    } catch (err) {
      throw new Error(`${name}=${JSON.stringify(s[name])}: not a PEM certificate (${(err as Error).message})`, { cause: err });
    }
  };
  const cert = read('EXEC_TLS_CERT');
  const key = read('EXEC_TLS_KEY');
  const ca = s.EXEC_TLS_CLIENT_CA ? read('EXEC_TLS_CLIENT_CA') : undefined;
  parse('EXEC_TLS_CERT', cert);
  const dates = certificateDateProblem(cert, now);
  if (dates) throw new Error(`EXEC_TLS_CERT=${JSON.stringify(s.EXEC_TLS_CERT)}: ${dates}`);
  if (ca) parse('EXEC_TLS_CLIENT_CA', ca);
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new Error(`EXEC_TLS_KEY=${JSON.stringify(s.EXEC_TLS_KEY)}: not a PEM private key matching EXEC_TLS_CERT (${(err as Error).message})`, { cause: err });
  }
  if (ca) {
    try {
      createSecureContext({ ca });
    } catch (err) {
      throw new Error(`EXEC_TLS_CLIENT_CA=${JSON.stringify(s.EXEC_TLS_CLIENT_CA)}: not usable as a CA bundle (${(err as Error).message})`, { cause: err });
    }
  }
  return { cert, key, ca };
}

/** Problems with the TLS settings, one line each naming the variable (empty when fine or unset). */
export function tlsProblems(s: TlsFileSettings): string[] {
  if (!s.EXEC_TLS_CERT && !s.EXEC_TLS_KEY && !s.EXEC_TLS_CLIENT_CA) return [];
  if (!s.EXEC_TLS_CERT || !s.EXEC_TLS_KEY) {
    const missing = !s.EXEC_TLS_CERT ? 'EXEC_TLS_CERT' : 'EXEC_TLS_KEY';
    return [`${missing} is unset: EXEC_TLS_CERT, EXEC_TLS_KEY (and EXEC_TLS_CLIENT_CA, which needs both) go together`];
  }
  try {
    readTlsMaterial(s);
    return [];
  } catch (err) {
    return [(err as Error).message];
  }
}
