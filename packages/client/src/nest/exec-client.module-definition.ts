import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { ConnectionOptions } from '../grpc-connection-manager';

/** What ExecClientModule.forRoot takes (forRootAsync's factory returns it): the client's ConnectionOptions. */
export type ExecClientModuleOptions = ConnectionOptions;

export const {
  ConfigurableModuleClass: ExecClientConfigurableModule,
  MODULE_OPTIONS_TOKEN: EXEC_CLIENT_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ExecClientModuleOptions>()
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();

/** forRoot's argument: the connection options and `isGlobal`. */
export type ExecClientModuleForRootOptions = typeof OPTIONS_TYPE;
/** forRootAsync's argument: `imports`, `useFactory` (returning ExecClientModuleOptions), `inject`, `isGlobal`, … */
export type ExecClientModuleAsyncOptions = typeof ASYNC_OPTIONS_TYPE;
