/**
 * `npm run cluster:certs [folder]`: makes the Temporal cluster's certificates for docker-compose.yml
 * (default folder secrets/temporal), the same set `npm run cluster` makes for itself at first start:
 * a CA, the frontend's server certificate (temporal-frontend), and client certificates for our
 * processes, Temporal's system worker and the Web UI. Does nothing where they exist.
 * Production teams bring certificates from their own CA instead, under the same file names.
 */
import { chmodSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ensureCertificates } from './temporal-cluster';

const dir = resolve(process.argv[2] ?? 'secrets/temporal');
ensureCertificates(dir);
// Compose mounts these files as they are, and the containers run as their own users (temporal,
// node): they must be able to read the keys. Keep secrets/ itself on a host only operators reach.
for (const file of readdirSync(dir)) chmodSync(join(dir, file), 0o644);
chmodSync(dir, 0o755);
console.log(`Temporal cluster certificates in ${dir}: ${readdirSync(dir).sort().join(', ')}`);
