import { BaseServerInterceptingCall } from '@grpc/grpc-js/build/src/server-interceptors';
import { allocFramed, frameOf } from '../../../common/grpc-frames';

/** The part of grpc-js's BaseServerInterceptingCall this relies on (1.14). */
type Serializing = { serializeMessage: (this: WithHandler, value: unknown) => Buffer };
type WithHandler = { handler: { serialize(value: unknown): Buffer } };

let installed: boolean | undefined;

/**
 * Lets grpc-js's server write a message made by allocFramed as its own frame. grpc-js (1.14) frames
 * every response message by allocating prefix + message and copying the message in
 * (BaseServerInterceptingCall.serializeMessage), once per client: for output that is a second copy of
 * every byte per client and as much garbage. A method whose serializer passes Buffers through
 * (passPreEncoded) and a message from allocFramed get the frame made with it; everything else is framed
 * by grpc-js.
 *
 * Installed once per process, and only when grpc-js frames a message exactly as allocFramed does (checked
 * here on a sample); otherwise every message is copied by grpc-js. Returns whether frames are taken.
 */
export function installFramedSerializer(): boolean {
  if (installed !== undefined) return installed;
  const proto = BaseServerInterceptingCall.prototype as unknown as Serializing;
  const original = proto.serializeMessage;
  installed = typeof original === 'function' && framesAlike(original);
  if (!installed) return false;
  proto.serializeMessage = function (this: WithHandler, value: unknown): Buffer {
    if (Buffer.isBuffer(value)) {
      const frame = frameOf(value);
      if (frame && this.handler.serialize(value) === value) return frame;
    }
    return original.call(this, value);
  };
  return true;
}

/** grpc-js's own framing of a sample message equals the frame allocFramed made for it. */
function framesAlike(serializeMessage: Serializing['serializeMessage']): boolean {
  const message = allocFramed(3);
  message.set([1, 2, 3]);
  try {
    const theirs = serializeMessage.call({ handler: { serialize: (v: unknown) => v as Buffer } }, message);
    return Buffer.isBuffer(theirs) && theirs.equals(frameOf(message)!);
  } catch {
    return false;
  }
}
