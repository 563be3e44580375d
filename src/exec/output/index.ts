/** The record of the data path: TeeWriter, the append-only sequenced output log, session files and their verification, the tail window, the wire encoding of a chunk, the data directory's health. */
export * from './chunk-window';
export * from './data-dir-errors';
export * from './data-dir-health';
export * from './data-dir-layout';
export * from './output-budget';
export * from './output-log';
export * from './session-data-verify';
export * from './session-files';
export * from './session-files-verify';
export * from './session-response-encoder';
export * from './tail-budget';
export * from './tee-writer';
