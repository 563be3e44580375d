import { homedir } from 'node:os';
import { join } from 'node:path';
import { problemsOf } from './config-problems';
import { checkCertificate, checkKeyPair, readPem, type PemFile } from './pem-files';

/** The Docker endpoint settings, read as the docker CLI and docker-modem read them. */
export interface DockerHostSettings {
  DOCKER_HOST?: string;
  DOCKER_TLS_VERIFY?: string;
  DOCKER_CERT_PATH?: string;
}

/** The client's TLS material for a remote engine: the CA that signed the engine's certificate, and ours. */
export interface DockerTlsMaterial {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

/** Docker's TLS port: docker-modem (like this service) talks TLS to it even without DOCKER_TLS_VERIFY. */
const DOCKER_TLS_PORT = '2376';

/** DOCKER_CERT_PATH, or the docker CLI's default (~/.docker) when unset. */
export function dockerCertPath(s: DockerHostSettings): string {
  return s.DOCKER_CERT_PATH || join(homedir(), '.docker');
}

/**
 * Whether the engine is reached over TLS: DOCKER_HOST is tcp:// or https:// and DOCKER_TLS_VERIFY=1,
 * or it is https://, or its port is 2376. TLS always verifies the engine against DOCKER_CERT_PATH/ca.pem
 * and presents DOCKER_CERT_PATH/cert.pem + key.pem (the engine's --tlsverify asks for them).
 */
export function dockerUsesTls(s: DockerHostSettings): boolean {
  if (!s.DOCKER_HOST || !/^(tcp|https?):\/\//.test(s.DOCKER_HOST)) return false;
  const url = new URL(s.DOCKER_HOST);
  return s.DOCKER_TLS_VERIFY === '1' || url.protocol === 'https:' || url.port === DOCKER_TLS_PORT;
}

/** Reads and checks DOCKER_CERT_PATH's ca.pem, cert.pem and key.pem; throws an Error naming the file at fault. */
export function readDockerTls(s: DockerHostSettings): DockerTlsMaterial {
  const dir = dockerCertPath(s);
  const at = `DOCKER_CERT_PATH=${JSON.stringify(dir)}${s.DOCKER_CERT_PATH ? '' : ' (the default, ~/.docker)'}`;
  const [caFile, certFile, keyFile] = ['ca.pem', 'cert.pem', 'key.pem'].map((file): PemFile => ({ path: join(dir, file), at, file }));
  const ca = readPem(caFile);
  const cert = readPem(certFile);
  const key = readPem(keyFile);
  checkCertificate(caFile, ca);
  checkCertificate(certFile, cert);
  checkKeyPair(keyFile, { cert, key }, 'cert.pem');
  return { ca, cert, key };
}

/** Problems with the Docker endpoint settings, one line each naming the variable (empty when fine). */
export function dockerHostProblems(s: DockerHostSettings): string[] {
  if (s.DOCKER_HOST?.startsWith('ssh://')) {
    return [
      `DOCKER_HOST=${JSON.stringify(s.DOCKER_HOST)}: ssh:// is not supported; reach a remote engine with tcp://host:2376 and ` +
        'TLS client certificates (DOCKER_TLS_VERIFY=1, DOCKER_CERT_PATH), or a unix:// socket',
    ];
  }
  if (s.DOCKER_TLS_VERIFY !== undefined && s.DOCKER_TLS_VERIFY !== '' && s.DOCKER_TLS_VERIFY !== '1') {
    return [`DOCKER_TLS_VERIFY=${JSON.stringify(s.DOCKER_TLS_VERIFY)}: must be 1 or unset (the docker CLI takes any non-empty value as 1)`];
  }
  if (s.DOCKER_TLS_VERIFY === '1' && !dockerUsesTls(s)) {
    return [`DOCKER_TLS_VERIFY=1 needs DOCKER_HOST=tcp://host:port (or https://); it is ${JSON.stringify(s.DOCKER_HOST ?? '')}`];
  }
  if (!dockerUsesTls(s)) return [];
  return problemsOf(() => readDockerTls(s), `DOCKER_HOST=${JSON.stringify(s.DOCKER_HOST)} is reached over TLS: `);
}
