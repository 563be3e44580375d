import { Inject, Injectable, Optional, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { createServer, type Server } from 'node:http';
import { gzip } from 'node:zlib';
import { promisify } from 'node:util';
import type { ExecConfig } from '../common/config/exec-config';
import type { Logger } from '../common/logger';
import { EXEC_CONFIG, EXEC_METRICS, ROOT_LOGGER } from '../common/tokens';
import type { ExecMetrics } from './exec-metrics';

/**
 * Bounds of the /metrics port, which is unauthenticated and reachable from the pod network: it must
 * never take file descriptors or CPU from gRPC (docs/METRICS.md "The metrics port").
 */
export const METRICS_PORT_LIMITS = {
  /** Connections open at once; more are closed as soon as they are accepted. */
  maxConnections: 32,
  /** A connection with no bytes in or out for this long is closed (idle, or a client that stopped reading). */
  idleMs: 5_000,
  /** A request's headers must have arrived within this long of its first byte, the whole request within requestMs. */
  headersMs: 5_000,
  requestMs: 10_000,
  /** Request headers larger than this are refused (431). */
  maxHeaderBytes: 8 * 1024,
  /**
   * A scrape's text is reused for this long: a flood of scrapes renders the registry (gzipped once for
   * clients that accept it) at most once per period (docs/METRICS.md). Its render time is in the
   * X-Exec-Rendered-At header (Unix ms).
   */
  scrapeCacheMs: 250,
} as const;

const gzipAsync = promisify(gzip);

/** One rendering of the registry: when it started, its text, and that text gzipped (made on first demand). */
interface Render {
  at: number;
  body: Promise<Buffer>;
  gzip?: Promise<Buffer>;
}

/**
 * The HTTP server of GET /metrics (Prometheus text format) on EXEC_METRICS_LISTEN, its own port, never
 * the gRPC one, within METRICS_PORT_LIMITS. Listens once the application has started, closes when it
 * shuts down; a port it cannot take stops start-up with an error naming the variable. Nothing listens
 * when metrics are off.
 */
@Injectable()
export class MetricsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private server?: Server;
  private readonly log: Logger;
  /** The last rendered scrape (or the one being rendered), when its rendering started, and its gzip once asked for. */
  private cached?: Render;

  constructor(
    @Inject(EXEC_CONFIG) private readonly config: ExecConfig,
    @Inject(ROOT_LOGGER) root: Logger,
    @Optional() @Inject(EXEC_METRICS) private readonly metrics?: ExecMetrics | null,
  ) {
    this.log = root.child({ component: 'metrics' });
  }

  /** The bound port (tests listen on port 0), undefined when not listening. */
  get port(): number | undefined {
    const address = this.server?.address();
    return address && typeof address === 'object' ? address.port : undefined;
  }

  async onApplicationBootstrap(): Promise<void> {
    const listen = this.config.EXEC_METRICS_LISTEN;
    const address = this.config.metricsListen;
    const metrics = this.metrics;
    if (!listen || !address || !metrics) return;
    const limits = METRICS_PORT_LIMITS;
    const server = createServer(
      {
        headersTimeout: limits.headersMs,
        requestTimeout: limits.requestMs,
        keepAliveTimeout: limits.idleMs,
        maxHeaderSize: limits.maxHeaderBytes,
        // How often headersTimeout and requestTimeout are checked.
        connectionsCheckingInterval: 500,
      },
      (req, res) => {
        if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
          res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
          return;
        }
        const scrape = this.scrape(metrics);
        const gzipped = /\bgzip\b/.test(req.headers['accept-encoding'] ?? '');
        (gzipped ? (scrape.gzip ??= scrape.body.then((b) => gzipAsync(b))) : scrape.body).then(
          (body) =>
            res
              .writeHead(200, {
                'content-type': metrics.registry.contentType,
                'x-exec-rendered-at': String(scrape.at),
                ...(gzipped ? { 'content-encoding': 'gzip', vary: 'accept-encoding' } : {}),
              })
              .end(body),
          (err) => {
            this.log.error({ err: (err as Error).message }, 'metrics scrape failed');
            res.writeHead(500, { 'content-type': 'text/plain' }).end('scrape failed\n');
          },
        );
      },
    );
    server.maxConnections = limits.maxConnections;
    // Idle before the first request, between requests, or while a client does not read: closed.
    server.setTimeout(limits.idleMs, (socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new Error(`EXEC_METRICS_LISTEN=${listen}: cannot listen (${err.message})`)));
      server.listen(address.port, address.host, () => resolve());
    });
    server.on('error', (err) => this.log.error({ err: err.message }, 'metrics server error'));
    // A bad or cut request is the client's problem: answered (or dropped) without a log line each.
    server.on('clientError', (_err, socket) => socket.destroy());
    this.server = server;
    this.log.info({ listen, port: this.port, ...limits }, 'metrics listening (GET /metrics)');
  }

  /** The registry's text, rendered at most once per scrapeCacheMs whatever the number of scrapes. */
  private scrape(metrics: ExecMetrics): Render {
    const now = Date.now();
    if (!this.cached || now - this.cached.at >= METRICS_PORT_LIMITS.scrapeCacheMs) {
      const cached: Render = { at: now, body: metrics.scrape().then((text) => Buffer.from(text)) };
      cached.body.catch(() => this.cached === cached && (this.cached = undefined));
      this.cached = cached;
    }
    return this.cached;
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
