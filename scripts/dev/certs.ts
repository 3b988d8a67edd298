import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Certificates made on the machine with the openssl CLI (by the tests, and by `npm run cluster` at
 * its first start): no private key is ever checked in. EC P-256 keys, so a whole set takes a
 * fraction of a second.
 */
export interface Pem {
  cert: string;
  key: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

export function makeCa(dir: string, name: string, days = 30): Pem {
  mkdirSync(dir, { recursive: true });
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  openssl(
    ['req', '-x509', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
      '-subj', `/CN=${name}`, '-days', String(days), '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    dir,
  );
  return { cert, key };
}

export interface LeafOptions {
  /** The subject's common name, and its DNS name for a server certificate. */
  name: string;
  usage: 'server' | 'client';
  /** A certificate whose validity ended in 2020. */
  expired?: boolean;
  /** An IP address the server certificate also names (for a receiver reached by address). */
  ip?: string;
  /** More DNS names the server certificate names. */
  dns?: string[];
  /** How long it is valid (default 30 days). */
  days?: number;
}

/** A certificate signed by `ca`, through `openssl ca` (which can also back-date an expired one). */
export function makeLeaf(dir: string, ca: Pem, file: string, { name, usage, expired = false, ip, dns = [], days = 30 }: LeafOptions): Pem {
  const work = join(dir, `${file}.ca`);
  mkdirSync(join(work, 'new'), { recursive: true });
  writeFileSync(join(work, 'index.txt'), '');
  writeFileSync(join(work, 'serial'), `${Date.now().toString(16).padStart(16, '0')}\n`);
  writeFileSync(
    join(work, 'ca.cnf'),
    [
      '[ca]', 'default_ca = local', '[local]', `database = ${join(work, 'index.txt')}`, `new_certs_dir = ${join(work, 'new')}`,
      `serial = ${join(work, 'serial')}`, 'default_md = sha256', 'policy = any', 'unique_subject = no', 'copy_extensions = none',
      '[any]', 'commonName = supplied',
    ].join('\n'),
  );
  writeFileSync(
    join(work, 'ext.cnf'),
    usage === 'server'
      ? `subjectAltName=${[name, ...dns].map((host) => `DNS:${host}`).join(',')}${ip ? `,IP:${ip}` : ''}\nextendedKeyUsage=serverAuth\n`
      : 'extendedKeyUsage=clientAuth\n',
  );
  const key = join(dir, `${file}.key`);
  const csr = join(work, 'leaf.csr');
  const cert = join(dir, `${file}.crt`);
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${name}`], work);
  const validity = expired ? ['-startdate', '20200101000000Z', '-enddate', '20200201000000Z'] : ['-days', String(days)];
  openssl(
    ['ca', '-batch', '-notext', '-config', join(work, 'ca.cnf'), '-cert', ca.cert, '-keyfile', ca.key, '-in', csr, '-out', cert, '-extfile', join(work, 'ext.cnf'), ...validity],
    work,
  );
  return { cert, key };
}
