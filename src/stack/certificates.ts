/**
 * The secure stack's TLS material, made with `openssl`: a CA (key + PEM certificate), a broker key
 * and certificate signed by it for 127.0.0.1 and localhost, and the broker keystore (PKCS12 holding
 * key, certificate and CA chain) that Kafka reads. Clients trust `ca.pem`.
 *
 * @example
 * await makeCertificates({ dir: '.stack-secure/secrets', keystorePasswordFile: '.../keystore.password' });
 */
import { chmodSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { StackError } from '../errors.ts';
import { runCommand, which } from './commands.ts';

export interface CertificateFiles {
  caKey: string;
  caCert: string;
  brokerKey: string;
  brokerCert: string;
  keystore: string;
}

export function certificateFiles(dir: string): CertificateFiles {
  return { caKey: join(dir, 'ca.key'), caCert: join(dir, 'ca.pem'), brokerKey: join(dir, 'broker.key'), brokerCert: join(dir, 'broker.pem'), keystore: join(dir, 'broker.p12') };
}

/** days; a local test stack's certificates outlive its data. */
const VALID_DAYS = 825;

async function openssl(args: string[], cwd: string): Promise<void> {
  const r = await runCommand('openssl', args, { cwd, timeoutMs: 60_000 });
  if (r.code !== 0) throw new StackError('kafka', `openssl ${args[0]} failed (exit ${r.code}): ${r.output.slice(-2_000)}`);
}

/** Makes the files of `certificateFiles(dir)` unless the keystore is already there. Keys are mode 600. */
export async function makeCertificates(opts: { dir: string; keystorePasswordFile: string }): Promise<CertificateFiles> {
  const f = certificateFiles(opts.dir);
  if (existsSync(f.keystore)) return f;
  if (!which('openssl')) throw new StackError('kafka', 'openssl not found on PATH: install it (apt-get install openssl) to make the secure stack\'s certificates');
  const ext = join(opts.dir, 'broker.ext');
  const csr = join(opts.dir, 'broker.csr');
  writeFileSync(ext, ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=serverAuth', 'subjectAltName=IP:127.0.0.1,DNS:localhost', ''].join('\n'));
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f.caKey, '-out', f.caCert, '-days', String(VALID_DAYS), '-subj', '/CN=diffwatch local stack CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], opts.dir);
  await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f.brokerKey, '-out', csr, '-subj', '/CN=localhost'], opts.dir);
  await openssl(['x509', '-req', '-in', csr, '-CA', f.caCert, '-CAkey', f.caKey, '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-out', f.brokerCert, '-days', String(VALID_DAYS), '-extfile', ext], opts.dir);
  // The keystore password is read from its file, never passed on the command line.
  await openssl(['pkcs12', '-export', '-in', f.brokerCert, '-inkey', f.brokerKey, '-certfile', f.caCert, '-name', 'broker', '-out', f.keystore, '-passout', `file:${opts.keystorePasswordFile}`], opts.dir);
  for (const p of [f.caKey, f.brokerKey, f.keystore]) chmodSync(p, 0o600);
  rmSync(csr, { force: true });
  rmSync(ext, { force: true });
  return f;
}
