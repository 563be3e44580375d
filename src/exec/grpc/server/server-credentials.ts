import { experimental, ServerCredentials } from '@grpc/grpc-js';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ExecConfig } from '../../../common/config/exec-config';
import { readTlsMaterial, type TlsFileSettings, type TlsMaterial } from '../../../common/config/tls-files';
import { createRootLogger } from '../../../common/logger';
import { ReloadedValue } from './reloaded-value';

/** Where reloads and refused changes are reported (a pino logger fits). */
export interface TlsLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

type IdentityListener = experimental.IdentityCertificateUpdateListener;
type CaListener = experimental.CaCertificateUpdateListener;

/** How often the TLS files are checked for a change (Kubernetes updates a mounted Secret within about a minute). */
export const TLS_RELOAD_INTERVAL_MS = 1000;

/**
 * The TLS files as a grpc-js certificate provider: checked every interval while the server listens; a
 * change that makes a valid identity (key matches certificate) replaces it for new connections only
 * (calls in flight keep their connection); an invalid or half-written change is logged and ignored,
 * the last good files stay in use.
 */
export class TlsFilesCertificateProvider implements experimental.CertificateProvider {
  private readonly material: ReloadedValue<Buffer[], TlsMaterial>;
  private timer?: NodeJS.Timeout;
  private readonly identityListeners = new Set<IdentityListener>();
  private readonly caListeners = new Set<CaListener>();

  constructor(
    private readonly files: TlsFileSettings,
    private readonly log: TlsLog,
    private readonly intervalMs = TLS_RELOAD_INTERVAL_MS,
  ) {
    this.material = new ReloadedValue(readTlsMaterial(files), this.rawFiles(), {
      read: () => this.rawFiles(),
      make: () => readTlsMaterial(files),
      refused: (problem) => log.warn({ problem }, 'TLS certificate files changed but are not usable: keeping the previous ones'),
      retryRefused: true,
    });
  }

  /** Fingerprint (SHA-256) of the certificate in use, for logs and tests. */
  get fingerprint(): string {
    return new X509Certificate(this.material.value.cert).fingerprint256;
  }

  /** Re-reads the files now; true when a new identity or CA was published. */
  check(): boolean {
    if (!this.material.check()) return false;
    this.log.info({ fingerprint: this.fingerprint }, 'TLS certificate files changed: new connections use them');
    for (const l of this.identityListeners) l(this.identityUpdate());
    for (const l of this.caListeners) l(this.caUpdate());
    return true;
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.add(listener);
    this.started();
    // Asynchronously, as grpc-js expects: it registers its watcher after adding the listener.
    process.nextTick(listener, this.identityUpdate());
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.delete(listener);
    this.maybeStop();
  }

  addCaCertificateListener(listener: CaListener): void {
    this.caListeners.add(listener);
    this.started();
    process.nextTick(listener, this.caUpdate());
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.caListeners.delete(listener);
    this.maybeStop();
  }

  private identityUpdate(): experimental.IdentityCertificateUpdate {
    return { certificate: this.material.value.cert, privateKey: this.material.value.key };
  }

  private caUpdate(): experimental.CaCertificateUpdate | null {
    return this.material.value.ca ? { caCertificate: this.material.value.ca } : null;
  }

  private rawFiles(): Buffer[] {
    const paths = [this.files.EXEC_TLS_CERT, this.files.EXEC_TLS_KEY, this.files.EXEC_TLS_CLIENT_CA].filter((p): p is string => !!p);
    return paths.map((p) => readFileSync(p));
  }

  private started(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.check(), this.intervalMs);
    this.timer.unref();
  }

  private maybeStop(): void {
    if (this.identityListeners.size || this.caListeners.size || !this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

/**
 * The gRPC server's credentials: insecure without EXEC_TLS_CERT; TLS from the files (re-read on change)
 * with it; and with EXEC_TLS_CLIENT_CA, a client certificate signed by that CA is required (mTLS).
 */
export function serverCredentials(config: ExecConfig, log?: TlsLog): ServerCredentials {
  if (!config.EXEC_TLS_CERT) return ServerCredentials.createInsecure();
  const provider = new TlsFilesCertificateProvider(config, log ?? createRootLogger(config.EXEC_LOG_LEVEL).child({ component: 'tls' }));
  const mtls = !!config.EXEC_TLS_CLIENT_CA;
  // grpc-js's parameter names are swapped in its typings: the first is the identity provider, the second the CA's.
  return experimental.createCertificateProviderServerCredentials(provider, mtls ? provider : null, mtls);
}
