// The testing kit: an in-memory exec-stream for a consumer's tests (FakeExecClient / FakeControlClient over
// a FakeExecService of scripted sessions). No dependency beyond the package's own; the testcontainers
// module is @exec-stream/client/testcontainers.
export { FakeExecClient } from './fake-exec-client';
export { FakeControlClient } from './fake-control-client';
export { FakeExecService, statusOf, type FakeSession, type ScriptStep, type ScriptedError, type SessionScript } from './fake-exec-service';
