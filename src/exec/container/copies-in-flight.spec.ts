import { loadConfig } from '../../common/config/exec-config';
import { CopiesInFlight } from './copies-in-flight';

describe('CopiesInFlight', () => {
  it('refuses calls on a container a copy holds (full id or prefix) until the copy ends', () => {
    const copies = new CopiesInFlight(loadConfig({}));
    const id = 'a'.repeat(64);
    const end = copies.begin(id, 'CopyTo');
    const second = copies.begin(id, 'CopyFrom');
    for (const given of [id, 'aaaa']) {
      expect(() => copies.assertFree(given, 'ContainerPause')).toThrow(
        /^container aaaaaaaaaaaa is busy: Docker holds its lock while a CopyTo into it runs \(for 0 s so far\), and would not answer ContainerPause before it ends/,
      );
    }
    expect(() => copies.assertFree('b', 'ContainerPause')).not.toThrow();
    end();
    expect(() => copies.assertFree(id, 'ContainerStatus')).toThrow(/a CopyFrom out of it runs/);
    second();
    expect(() => copies.assertFree(id, 'ContainerStatus')).not.toThrow();
  });
});
