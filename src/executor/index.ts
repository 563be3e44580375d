/** The executor's ports, where output enters the data path: run, control, recovery and events of containers (backends in docker/). */
export * from './backend-request-observer';
export * from './container-control';
export * from './container-events';
export * from './container-recovery';
export * from './container-runtime';
export * from './lifecycle-publisher';
