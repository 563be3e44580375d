import { loadConfig } from '../../common/config/exec-config';
import { logConfig } from './log-config';

describe('logConfig', () => {
  it('gives the local driver its default options: rotated files not compressed', () => {
    expect(logConfig(loadConfig({}))).toEqual({ Type: 'local', Config: { compress: 'false' } });
  });

  it('passes every key=value pair on, a value may hold dots and dashes', () => {
    const c = loadConfig({ EXEC_CONTAINER_LOG_DRIVER: 'json-file', EXEC_CONTAINER_LOG_OPTS: 'max-size=10m,max-file=3,labels=a.b' });
    expect(logConfig(c)).toEqual({ Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3', labels: 'a.b' } });
  });

  it('gives none no options, and an empty setting none either', () => {
    expect(logConfig(loadConfig({ EXEC_CONTAINER_LOG_DRIVER: 'none' }))).toEqual({ Type: 'none', Config: {} });
    expect(logConfig(loadConfig({ EXEC_CONTAINER_LOG_OPTS: '' }))).toEqual({ Type: 'local', Config: {} });
  });
});
