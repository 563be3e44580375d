/** The executor's ports, where output enters the data path: run, control, recovery and events of containers, image pulls and container files (backends in docker/). */
export * from './backend-request-observer';
export * from './container-control';
export * from './container-events';
export * from './container-files';
export * from './container-recovery';
export * from './container-runtime';
export * from './image-puller';
export * from './lifecycle-publisher';
