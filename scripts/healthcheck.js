// The container image's HEALTHCHECK (Dockerfile): asks the service's own gRPC health service (Check,
// service "" = the whole server) on EXEC_LISTEN's port over loopback; exits 0 on SERVING, 1 otherwise
// (NOT_SERVING, no answer within 4 s, connection refused, a TLS handshake that fails). Health needs no token.
// With EXEC_TLS_CERT it speaks TLS, trusting the certificates of that file (the server's own certificate,
// and its chain if the file holds one) and EXEC_PEER_TLS_CA when set; the name is not checked (it dials
// loopback, which the certificate need not name). With EXEC_TLS_CLIENT_CA it presents EXEC_TLS_CERT / KEY
// as its client certificate, as a replica does to its peers (docs/PROTOCOL.md, "TLS and mTLS").
'use strict';
const { readFileSync } = require('node:fs');
const { createSecureContext } = require('node:tls');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const { protoPath } = require('grpc-health-check');

const env = process.env;
const listen = env.EXEC_LISTEN || '127.0.0.1:50051';
const port = listen.slice(listen.lastIndexOf(':') + 1);
const host = listen.slice(0, listen.lastIndexOf(':')).replace(/^\[|\]$/g, '');
const target = host === '0.0.0.0' || host === '' ? `127.0.0.1:${port}` : host === '::' ? `[::1]:${port}` : listen;
const service = process.argv[2] ?? '';

function credentials() {
  if (!env.EXEC_TLS_CERT) return grpc.credentials.createInsecure();
  const own = readFileSync(env.EXEC_TLS_CERT);
  const context = createSecureContext({
    // The file's certificates are trust anchors even when not self-signed: the server's own certificate verifies.
    ca: [own, ...(env.EXEC_PEER_TLS_CA ? [readFileSync(env.EXEC_PEER_TLS_CA)] : [])],
    allowPartialTrustChain: true,
    ...(env.EXEC_TLS_CLIENT_CA ? { cert: own, key: readFileSync(env.EXEC_TLS_KEY) } : {}),
  });
  return grpc.credentials.createFromSecureContext(context, { checkServerIdentity: () => undefined });
}

const { grpc: ns } = grpc.loadPackageDefinition(protoLoader.loadSync(protoPath, { enums: String }));
// A name for SNI: Node refuses an IP address there (DEP0123); the certificate is verified without it.
const client = new ns.health.v1.Health(target, credentials(), env.EXEC_TLS_CERT ? { 'grpc.ssl_target_name_override': 'localhost' } : {});
client.check({ service }, { deadline: Date.now() + 4000 }, (err, res) => {
  const verdict = err ? `${grpc.status[err.code] ?? err.code}: ${err.details || err.message}` : res.status;
  process.stdout.write(`exec-stream health ${target}${env.EXEC_TLS_CERT ? ' (TLS)' : ''} "${service}": ${verdict}\n`);
  client.close();
  process.exit(!err && res.status === 'SERVING' ? 0 : 1);
});
