import { nodeIsSupported } from './node-version';

describe('nodeIsSupported', () => {
  it('accepts Node 24.9 and newer, refuses older', () => {
    expect(nodeIsSupported('24.9.0')).toBe(true);
    expect(nodeIsSupported('v24.21.0')).toBe(true);
    expect(nodeIsSupported('25.0.0')).toBe(true);
    expect(nodeIsSupported('24.8.1')).toBe(false);
    expect(nodeIsSupported('v20.20.2')).toBe(false);
  });
});
