import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { ExecConfig } from './config/exec-config';
import type { Logger } from './logger';
import { EXEC_CONFIG, ROOT_LOGGER } from './tokens';

/** Validated config and the root logger, available everywhere. */
@Global()
@Module({})
export class CommonModule {
  static forRoot(config: ExecConfig, logger: Logger): DynamicModule {
    return {
      module: CommonModule,
      providers: [
        { provide: EXEC_CONFIG, useValue: config },
        { provide: ROOT_LOGGER, useValue: logger },
      ],
      exports: [EXEC_CONFIG, ROOT_LOGGER],
    };
  }
}
