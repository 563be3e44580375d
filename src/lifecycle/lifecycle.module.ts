import { Module } from '@nestjs/common';
import { LifecycleBus } from './lifecycle-bus';

@Module({ providers: [LifecycleBus], exports: [LifecycleBus] })
export class LifecycleModule {}
