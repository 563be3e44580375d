import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A certificate made by the openssl CLI: its PEM files (paths and contents) and its identity. */
export interface Cert {
  certPath: string;
  keyPath: string;
  cert: string;
  key: string;
  /** Hex serial number, as node:crypto's X509Certificate gives it. */
  serial: string;
  /** SHA-256 fingerprint, as node:crypto's X509Certificate / TLSSocket.getPeerCertificate() give it. */
  fingerprint256: string;
}

export interface CertOptions {
  cn: string;
  /** subjectAltName entries, e.g. ['IP:127.0.0.1', 'DNS:localhost']. */
  sans?: string[];
  /** A client certificate (extendedKeyUsage clientAuth) instead of a server one. */
  client?: boolean;
  days?: number;
}

let checked = false;
/** The openssl CLI; installed (Debian package `openssl`) when missing, so that a fresh machine can run these tests. */
function openssl(args: string[], cwd: string): void {
  if (!checked) {
    try {
      execFileSync('openssl', ['version'], { stdio: 'ignore' });
    } catch {
      execFileSync('bash', ['-c', 'apt-get install -y openssl || (apt-get update && apt-get install -y openssl)'], { stdio: 'ignore' });
    }
    checked = true;
  }
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

function load(dir: string, name: string): Cert {
  const certPath = join(dir, `${name}.crt`);
  const keyPath = join(dir, `${name}.key`);
  const cert = readFileSync(certPath, 'utf8');
  const x = new X509Certificate(cert);
  return { certPath, keyPath, cert, key: readFileSync(keyPath, 'utf8'), serial: x.serialNumber, fingerprint256: x.fingerprint256 };
}

let seq = 0;
const ECKEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A new self-signed CA (P-256 key) in a temporary directory of its own. */
export function makeCa(cn = `exec-stream test CA ${++seq}`, dir = mkdtempSync(join(tmpdir(), 'exec-stream-certs-'))): Cert {
  const name = `ca-${++seq}`;
  openssl(
    [
      'req',
      '-x509',
      ...ECKEY,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-subj',
      `/CN=${cn}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  return load(dir, name);
}

/** A new leaf certificate signed by `ca` (fresh key and random serial each time), beside the CA's files. */
export function makeCert(ca: Cert, options: CertOptions): Cert {
  const dir = join(ca.certPath, '..');
  const name = `${options.client ? 'client' : 'server'}-${++seq}`;
  const ext = [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    `extendedKeyUsage=${options.client ? 'clientAuth' : 'serverAuth'}`,
    ...(options.sans?.length ? [`subjectAltName=${options.sans.join(',')}`] : []),
  ];
  writeFileSync(join(dir, `${name}.ext`), ext.join('\n') + '\n');
  openssl(['req', '-new', ...ECKEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${options.cn}`], dir);
  openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      ca.certPath,
      '-CAkey',
      ca.keyPath,
      '-CAcreateserial',
      '-days',
      String(options.days ?? 2),
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.crt`,
    ],
    dir,
  );
  return load(dir, name);
}
