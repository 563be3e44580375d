import { Module, type OnApplicationShutdown } from '@nestjs/common';
import { ControlClient } from '../control-client';
import { ExecClient } from '../exec-client';
import { GRPCConnectionManager } from '../grpc-connection-manager';
import { EXEC_CLIENT_MODULE_OPTIONS, ExecClientConfigurableModule, type ExecClientModuleOptions } from './exec-client.module-definition';

/**
 * The module's connection: a GRPCConnectionManager that, once the application has shut down, refuses
 * to open its channel again (a call then fails at once instead of leaving a channel nobody closes).
 */
export class ModuleConnection extends GRPCConnectionManager {
  private shutDown = false;

  override getClient(): ReturnType<GRPCConnectionManager['getClient']> {
    if (this.shutDown) throw new Error(`exec-stream client: the application has shut down, the channel to ${this.address} is closed`);
    return super.getClient();
  }

  shutdown(): void {
    this.shutDown = true;
    this.close();
  }
}

/**
 * Provides an injectable ExecClient and ControlClient (and their GRPCConnectionManager) sharing one
 * channel to exec-stream: `ExecClientModule.forRoot({ address, token, tls, isGlobal })` or
 * `forRootAsync({ imports, useFactory, inject })`. The channel closes on application shutdown.
 */
@Module({
  providers: [
    { provide: GRPCConnectionManager, useFactory: (options: ExecClientModuleOptions) => new ModuleConnection(options), inject: [EXEC_CLIENT_MODULE_OPTIONS] },
    { provide: ExecClient, useFactory: (connection: GRPCConnectionManager) => new ExecClient(connection), inject: [GRPCConnectionManager] },
    { provide: ControlClient, useFactory: (connection: GRPCConnectionManager) => new ControlClient(connection), inject: [GRPCConnectionManager] },
  ],
  exports: [GRPCConnectionManager, ExecClient, ControlClient],
})
export class ExecClientModule extends ExecClientConfigurableModule implements OnApplicationShutdown {
  constructor(private readonly connection: GRPCConnectionManager) {
    super();
  }

  onApplicationShutdown(): void {
    (this.connection as ModuleConnection).shutdown();
  }
}
