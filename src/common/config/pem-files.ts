import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';

/**
 * A PEM file as start-up errors name it: each message opens with `at` (`EXEC_TLS_CERT="/tls/tls.crt"`,
 * or the folder's `DOCKER_CERT_PATH="/certs"`), and names `file` after it when `at` names the folder.
 */
export interface PemFile {
  path: string;
  at: string;
  file?: string;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** What a message says the file is not: "not …" after `at`, or "cert.pem is not …". */
const isNot = (f: PemFile, what: string) => `${f.at}: ${f.file ? `${f.file} is ` : ''}not ${what}`;

/** The file's bytes; throws an Error saying it cannot be read, and why (its errno code). */
export function readPem(f: PemFile): Buffer {
  try {
    return readFileSync(f.path);
  } catch (err) {
    throw new Error(`${f.at}: cannot read ${f.file ?? 'the file'} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
}

/**
 * Throws an Error unless `pem` holds a certificate; with `now`, also unless every certificate of the
 * chain is valid at `now` (naming the one that is not, and its dates).
 */
export function checkCertificate(f: PemFile, pem: Buffer, now?: Date): void {
  try {
    new X509Certificate(pem);
  } catch (err) {
    throw new Error(`${isNot(f, 'a PEM certificate')} (${(err as Error).message})`, { cause: err });
  }
  const dates = now && certificateDateProblem(pem, now);
  if (dates) throw new Error(`${f.at}: ${dates}`);
}

/** Throws an Error naming the key file unless `key` is a private key that goes with `cert` (named `certName`). */
export function checkKeyPair(keyFile: PemFile, pems: { cert: Buffer; key: Buffer }, certName: string): void {
  try {
    createSecureContext(pems);
  } catch (err) {
    throw new Error(`${isNot(keyFile, `a PEM private key matching ${certName}`)} (${(err as Error).message})`, { cause: err });
  }
}

/** Throws an Error unless `ca` can serve as the CA bundle that verifies peers. */
export function checkCaBundle(f: PemFile, ca: Buffer): void {
  try {
    createSecureContext({ ca });
  } catch (err) {
    throw new Error(`${f.at}: not usable as a CA bundle (${(err as Error).message})`, { cause: err });
  }
}

/** Why a certificate of the chain in `pem` is refused at `now` (expired, or not valid yet), naming it and its dates; undefined when all are valid. */
function certificateDateProblem(pem: Buffer, now: Date): string | undefined {
  for (const block of pem.toString('utf8').match(PEM_CERTIFICATE) ?? []) {
    const x = new X509Certificate(block);
    const name = x.subject.replace(/\n/g, ', ');
    const [from, to] = [x.validFromDate, x.validToDate];
    if (now > to) return `the certificate ${name} expired on ${to.toISOString()} (valid from ${from.toISOString()}): clients would refuse it`;
    if (now < from) return `the certificate ${name} is not valid before ${from.toISOString()} (valid until ${to.toISOString()}): clients would refuse it`;
  }
  return undefined;
}
