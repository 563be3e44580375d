export * from './call-forwarder';
export * from './forwarded-metadata';
export * from './merged-listing';
export * from './owner-router';
export * from './peer-channels';
export * from './peer-directory';
export * from './peer-lifecycle';
export * from './routed-calls';
