// The container image's HEALTHCHECK (Dockerfile): asks the service's own gRPC health service (Check,
// service "" = the whole server) on EXEC_LISTEN's port over loopback; exits 0 on SERVING, 1 otherwise
// (NOT_SERVING, no answer within 4 s, connection refused). Health needs no token.
'use strict';
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const { protoPath } = require('grpc-health-check');

const listen = process.env.EXEC_LISTEN || '127.0.0.1:50051';
const port = listen.slice(listen.lastIndexOf(':') + 1);
const host = listen.slice(0, listen.lastIndexOf(':')).replace(/^\[|\]$/g, '');
const target = host === '0.0.0.0' || host === '' ? `127.0.0.1:${port}` : host === '::' ? `[::1]:${port}` : listen;
const service = process.argv[2] ?? '';

const { grpc: ns } = grpc.loadPackageDefinition(protoLoader.loadSync(protoPath, { enums: String }));
const client = new ns.health.v1.Health(target, grpc.credentials.createInsecure());
client.check({ service }, { deadline: Date.now() + 4000 }, (err, res) => {
  const verdict = err ? `${grpc.status[err.code] ?? err.code}: ${err.details || err.message}` : res.status;
  process.stdout.write(`exec-stream health ${target} "${service}": ${verdict}\n`);
  client.close();
  process.exit(!err && res.status === 'SERVING' ? 0 : 1);
});
