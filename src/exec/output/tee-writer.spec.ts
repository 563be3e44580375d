import type { StreamName } from '../../common/streams';
import { TeeWriter, type PrimaryRecorder } from './tee-writer';

describe('TeeWriter', () => {
  it('records first, then tells listeners', () => {
    const order: string[] = [];
    const primary: PrimaryRecorder = { record: (s: StreamName, d: Buffer) => void order.push(`record ${s} ${d}`) };
    const tee = new TeeWriter(primary);
    tee.addListener({ onRecorded: () => void order.push('told') });
    tee.write('stdout', Buffer.from('x'));
    tee.write('stderr', Buffer.from('y'));
    expect(order).toEqual(['record stdout x', 'told', 'record stderr y', 'told']);
  });

  it('a failing listener is dropped and never fails the record or other listeners', () => {
    const recorded: string[] = [];
    const warn = jest.fn();
    const tee = new TeeWriter({ record: (_s, d) => void recorded.push(d.toString()) }, { warn });
    let good = 0;
    let bad = 0;
    tee.addListener({
      onRecorded: () => {
        bad++;
        throw new Error('client gone');
      },
    });
    tee.addListener({ onRecorded: () => void good++ });
    tee.write('stdout', Buffer.from('1'));
    tee.write('stdout', Buffer.from('2'));
    expect(recorded).toEqual(['1', '2']);
    expect(bad).toBe(1);
    expect(good).toBe(2);
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('a failing record is a real error and tells no listener', () => {
    const listener = { onRecorded: jest.fn() };
    const tee = new TeeWriter({
      record: () => {
        throw new Error('ENOSPC');
      },
    });
    tee.addListener(listener);
    expect(() => tee.write('stdout', Buffer.from('x'))).toThrow('ENOSPC');
    expect(listener.onRecorded).not.toHaveBeenCalled();
  });
});
