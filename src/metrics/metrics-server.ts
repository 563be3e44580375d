import { Inject, Injectable, Optional, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { createServer, type Server } from 'node:http';
import type { ExecConfig } from '../common/config/exec-config';
import type { Logger } from '../common/logger';
import { EXEC_CONFIG, EXEC_METRICS, ROOT_LOGGER } from '../common/tokens';
import type { ExecMetrics } from './exec-metrics';

/**
 * The HTTP server of GET /metrics (Prometheus text format) on EXEC_METRICS_LISTEN, its own port, never
 * the gRPC one. Listens once the application has started, closes when it shuts down; a port it cannot
 * take stops start-up with an error naming the variable. Nothing listens when metrics are off.
 */
@Injectable()
export class MetricsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private server?: Server;
  private readonly log: Logger;

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
    const metrics = this.metrics;
    if (!listen || !metrics) return;
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
        return;
      }
      metrics.scrape().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        (err) => {
          this.log.error({ err: (err as Error).message }, 'metrics scrape failed');
          res.writeHead(500, { 'content-type': 'text/plain' }).end('scrape failed\n');
        },
      );
    });
    const colon = listen.lastIndexOf(':');
    const host = listen.slice(0, colon).replace(/^\[|\]$/g, '');
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new Error(`EXEC_METRICS_LISTEN=${listen}: cannot listen (${err.message})`)));
      server.listen(Number(listen.slice(colon + 1)), host, () => resolve());
    });
    server.on('error', (err) => this.log.error({ err: err.message }, 'metrics server error'));
    this.server = server;
    this.log.info({ listen, port: this.port }, 'metrics listening (GET /metrics)');
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
