import { execFileSync } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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
  /** extendedKeyUsage as openssl takes it (e.g. `serverAuth,clientAuth`), instead of the one `client` picks. */
  extendedKeyUsage?: string;
  days?: number;
  /** Validity dates instead of `days` from now (expired or not yet valid certificates), signed through `openssl ca`. */
  notBefore?: Date;
  notAfter?: Date;
}

let checked = false;
/** The openssl CLI; installed (Debian package `openssl`) when missing, so that a fresh machine can run these tests. */
function openssl(args: string[], cwd: string): void {
  if (!checked) {
    try {
      execFileSync('openssl', ['version'], { stdio: 'ignore' });
    } catch {
      execFileSync('bash', [join(__dirname, '..', '..', 'scripts', 'apt-install.sh'), 'openssl'], { stdio: 'inherit' });
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
    `extendedKeyUsage=${options.extendedKeyUsage ?? (options.client ? 'clientAuth' : 'serverAuth')}`,
    ...(options.sans?.length ? [`subjectAltName=${options.sans.join(',')}`] : []),
  ];
  writeFileSync(join(dir, `${name}.ext`), ext.join('\n') + '\n');
  openssl(['req', '-new', ...ECKEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${options.cn}`], dir);
  if (options.notBefore || options.notAfter) {
    signWithDates(ca, name, dir, options.notBefore ?? new Date(), options.notAfter ?? new Date(Date.now() + 2 * 86_400_000));
    return load(dir, name);
  }
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

/** `openssl ca` signs with given dates (`openssl x509 -req` takes only -days from now), in a database of its own. */
function signWithDates(ca: Cert, name: string, dir: string, notBefore: Date, notAfter: Date): void {
  const db = join(dir, `${name}.db`);
  mkdirSync(db);
  writeFileSync(join(db, 'index.txt'), '');
  writeFileSync(join(db, 'serial'), `${randomBytes(8).toString('hex')}\n`);
  const conf = [
    '[ca]',
    'default_ca = d',
    '[d]',
    `database = ${join(db, 'index.txt')}`,
    `new_certs_dir = ${db}`,
    `serial = ${join(db, 'serial')}`,
    'default_md = sha256',
    'policy = p',
    'unique_subject = no',
    '[p]',
    'commonName = supplied',
  ];
  writeFileSync(join(dir, `${name}.cnf`), conf.join('\n') + '\n');
  const asn1 = (d: Date) =>
    d
      .toISOString()
      .replace(/[-:T]/g, '')
      .replace(/\.\d+Z$/, 'Z');
  openssl(
    [
      'ca',
      '-batch',
      '-notext',
      '-config',
      `${name}.cnf`,
      '-cert',
      ca.certPath,
      '-keyfile',
      ca.keyPath,
      '-in',
      `${name}.csr`,
      '-extfile',
      `${name}.ext`,
      '-startdate',
      asn1(notBefore),
      '-enddate',
      asn1(notAfter),
      '-out',
      `${name}.crt`,
    ],
    dir,
  );
}
