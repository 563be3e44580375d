import { DetachKeys } from './detach-keys';

const feed = (d: DetachKeys, ...bytes: number[]) => d.feed(Buffer.from(bytes));

describe('DetachKeys', () => {
  it('detaches on Ctrl-P Ctrl-Q, forwarding what came before', () => {
    expect(feed(new DetachKeys(), 0x61, 0x10, 0x11, 0x62)).toEqual({ forward: Buffer.from('a'), detach: true });
  });

  it('detaches when the sequence is split across chunks, holding Ctrl-P back meanwhile', () => {
    const d = new DetachKeys();
    expect(feed(d, 0x61, 0x10)).toEqual({ forward: Buffer.from('a'), detach: false });
    expect(feed(d, 0x11)).toEqual({ forward: Buffer.alloc(0), detach: true });
  });

  it('forwards a Ctrl-P that is not followed by Ctrl-Q, and a Ctrl-Q alone', () => {
    const d = new DetachKeys();
    expect(feed(d, 0x10)).toEqual({ forward: Buffer.alloc(0), detach: false });
    expect(feed(d, 0x62, 0x11)).toEqual({ forward: Buffer.from([0x10, 0x62, 0x11]), detach: false });
  });

  it('treats Ctrl-P Ctrl-P Ctrl-Q as one forwarded Ctrl-P and a detach', () => {
    expect(feed(new DetachKeys(), 0x10, 0x10, 0x11)).toEqual({ forward: Buffer.from([0x10]), detach: true });
  });
});
