import { Test } from '@nestjs/testing';
import pino from 'pino';
import { AuditTrail } from './audit';
import { loadConfig } from './common/config/exec-config';
import { HealthState } from './common/health-state';
import { EXEC_CONFIG, EXEC_METRICS } from './common/tokens';
import { ExecMetrics } from './metrics';
import { serviceContext } from './service-context';
import { ServiceContextModule } from './service-context.module';

const logger = pino({ level: 'silent' });

describe('serviceContext', () => {
  it('EXEC_METRICS_LISTEN unset: metrics off, nothing is made', () => {
    expect(serviceContext(loadConfig({}), logger).metrics).toBeUndefined();
  });

  it('EXEC_METRICS_LISTEN set: one ExecMetrics per service, another for another service', () => {
    const config = loadConfig({ EXEC_METRICS_LISTEN: '0.0.0.0:9464' });
    const context = serviceContext(config, logger);
    expect(context.metrics).toBeInstanceOf(ExecMetrics);
    expect(serviceContext(loadConfig({ EXEC_METRICS_LISTEN: '0.0.0.0:9464' }), logger).metrics).not.toBe(context.metrics);
  });

  it('is what the Nest modules are given: the same config, health, metrics and audit trail', async () => {
    const context = serviceContext(loadConfig({ EXEC_METRICS_LISTEN: '0.0.0.0:9464' }), logger);
    const moduleRef = await Test.createTestingModule({ imports: [ServiceContextModule.forRoot(context)] }).compile();
    expect(moduleRef.get(EXEC_CONFIG)).toBe(context.config);
    expect(moduleRef.get(HealthState)).toBe(context.health);
    expect(moduleRef.get(EXEC_METRICS)).toBe(context.metrics);
    expect(moduleRef.get(AuditTrail)).toBe(context.audit);
  });
});
