// A consumer Nest application against the packed @exec-stream/client/nest (test/client-package.e2e-spec.ts):
// ExecClientModule.forRoot in an application context, an injected ExecClient runs a command; the exit
// code is printed and is the program's exit code; app.close() closes the channel.
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExecClient } from '@exec-stream/client';
import { ExecClientModule } from '@exec-stream/client/nest';

const [address, token, image] = process.argv.slice(2);

@Injectable()
class Runner {
  constructor(readonly exec: ExecClient) {}
}

@Module({ imports: [ExecClientModule.forRoot({ address, token })], providers: [Runner] })
class AppModule {}

const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
const { stdout, exitCode } = await app
  .get(Runner)
  .exec.run(image, { command: ['sh', '-c', 'echo from-nest; exit 6'] })
  .collect();
await app.close();
console.log(JSON.stringify({ stdout: stdout.toString(), exitCode }));
process.exitCode = exitCode;
