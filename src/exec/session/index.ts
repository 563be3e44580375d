/** Sessions on the data path: the manager (by session and container id), each session with its client cursors and stdin, drain on SIGTERM, restart recovery and container reconciliation. */
export * from './client-cursor';
export * from './container-reconciler';
export * from './process-input';
export * from './request-id-index';
export * from './session';
export * from './session-assembly';
export * from './session-audit';
export * from './session-census';
export * from './session-drain';
export * from './session-listing';
export * from './session-manager';
export * from './session-outcome';
export * from './session-recovery';
