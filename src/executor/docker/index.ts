/** The Docker backend of the executor's ports (the only importer of dockerode): attach, demux, wait, exec, events, stats, control and recovery against the Docker Engine API. */
// First: before anything here loads dockerode.
import './modem-without-ssh';
export * from './coalescing-sink';
export * from './docker-client';
export * from './docker-control';
export * from './docker-deadline';
export * from './docker-errors';
export * from './docker-event-mapping';
export * from './docker-events';
export * from './docker-executor.module';
export * from './docker-exec-signal';
export * from './docker-host';
export * from './docker-recovery';
export * from './docker-request-guard';
export * from './docker-runtime';
export * from './docker-time';
export * from './frame-demuxer';
export * from './json-lines';
export * from './labels';
export * from './log-skipper';
export * from './output-pump';
export * from './stats-sample';
