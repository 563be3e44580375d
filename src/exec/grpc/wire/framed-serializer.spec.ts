import { BaseServerInterceptingCall } from '@grpc/grpc-js/build/src/server-interceptors';
import { allocFramed, frameOf } from '../../../common/grpc-frames';
import { installFramedSerializer } from './framed-serializer';

type Call = { handler: { serialize(value: unknown): Buffer } };
const serializeMessage = (call: Call, value: unknown): Buffer =>
  (BaseServerInterceptingCall.prototype as unknown as { serializeMessage(this: Call, v: unknown): Buffer }).serializeMessage.call(call, value);
const passThrough: Call = { handler: { serialize: (v) => (Buffer.isBuffer(v) ? v : Buffer.from(JSON.stringify(v))) } };
const prefixed = (message: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, 0, message.length]), message]);

describe('installFramedSerializer', () => {
  beforeAll(() => expect(installFramedSerializer()).toBe(true));

  it('makes grpc-js write the frame made with an allocFramed message: the same bytes, no new buffer', () => {
    const message = allocFramed(4);
    message.write('abcd');
    const frame = serializeMessage(passThrough, message);
    expect(frame).toBe(frameOf(message));
    expect(frame.equals(prefixed(Buffer.from('abcd')))).toBe(true);
  });

  it('leaves other Buffers and message objects to grpc-js, which frames a copy', () => {
    const plain = Buffer.from('abcd');
    const framed = serializeMessage(passThrough, plain);
    expect(framed.equals(prefixed(plain))).toBe(true);
    expect(framed.buffer === plain.buffer && framed.byteOffset + 5 === plain.byteOffset).toBe(false);
    expect(serializeMessage(passThrough, { a: 1 }).equals(prefixed(Buffer.from('{"a":1}')))).toBe(true);
  });

  it('does not take the frame when the method encodes Buffers itself (a serializer that is not a pass-through)', () => {
    const message = allocFramed(2);
    message.write('hi');
    const encoding: Call = { handler: { serialize: (v) => Buffer.concat([Buffer.from('>'), v as Buffer]) } };
    expect(serializeMessage(encoding, message).equals(prefixed(Buffer.from('>hi')))).toBe(true);
  });

  it('is installed once: a second call changes nothing', () => {
    const before = (BaseServerInterceptingCall.prototype as unknown as { serializeMessage: unknown }).serializeMessage;
    expect(installFramedSerializer()).toBe(true);
    expect((BaseServerInterceptingCall.prototype as unknown as { serializeMessage: unknown }).serializeMessage).toBe(before);
  });
});
