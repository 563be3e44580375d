import { loadConfig } from '../../common/config/exec-config';
import { logConfig } from './log-config';

describe('logConfig', () => {
  it('by default no Docker log at all (recovery reads the output record; a log driver throttles line output)', () => {
    expect(logConfig(loadConfig({}))).toEqual({ Type: 'none', Config: {} });
  });

  it('gives the local driver its default options: rotated files not compressed', () => {
    expect(logConfig(loadConfig({ EXEC_CONTAINER_LOG_DRIVER: 'local' }))).toEqual({ Type: 'local', Config: { compress: 'false' } });
  });

  it('passes every key=value pair on', () => {
    const c = loadConfig({ EXEC_CONTAINER_LOG_DRIVER: 'json-file', EXEC_CONTAINER_LOG_OPTS: 'max-size=10m,max-file=3,compress=true' });
    expect(logConfig(c)).toEqual({ Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3', compress: 'true' } });
    expect(logConfig(c).Config).toBe(logConfig(c).Config); // parsed once per configuration, not at every create
  });

  it('driver none ignores the options, even ones that would be refused for a logging driver', () => {
    expect(logConfig(loadConfig({ EXEC_CONTAINER_LOG_DRIVER: 'none', EXEC_CONTAINER_LOG_OPTS: 'mode=non-blocking' }))).toEqual({ Type: 'none', Config: {} });
  });

  it('gives none no options, and an empty setting none either', () => {
    expect(logConfig(loadConfig({ EXEC_CONTAINER_LOG_DRIVER: 'none' }))).toEqual({ Type: 'none', Config: {} });
    expect(logConfig(loadConfig({ EXEC_CONTAINER_LOG_DRIVER: 'local', EXEC_CONTAINER_LOG_OPTS: '' }))).toEqual({ Type: 'local', Config: {} });
  });
});
