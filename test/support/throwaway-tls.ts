/**
 * A certificate authority made for one test run and a server certificate it signed for
 * 127.0.0.1, as a PEM CA file (what a client trusts: KAFKA_SSL_CA_FILE) and a PKCS12 keystore
 * (what a Java server such as Kafka presents). openssl does it in four calls, about a second.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ThrowawayTls {
  /** PEM certificate of the throwaway CA. */
  readonly caFile: string;
  /** PKCS12 keystore: the server's key and its certificate chain (subjectAltName IP:127.0.0.1). */
  readonly keystoreFile: string;
  /** Of the keystore and the key in it. */
  readonly keystorePassword: string;
}

export function makeThrowawayTls(dir: string): ThrowawayTls {
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const keystorePassword = randomBytes(12).toString('hex');
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=food-ordering throwaway test CA',
    '-keyout', file('ca.key'), '-out', file('ca.pem'));
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', file('server.key'), '-out', file('server.csr'));
  // Node checks the address it dialled against the subjectAltName, never the CN.
  writeFileSync(file('server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  openssl('x509', '-req', '-days', '1', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial',
    '-extfile', file('server.ext'), '-out', file('server.pem'));
  openssl('pkcs12', '-export', '-in', file('server.pem'), '-inkey', file('server.key'), '-certfile', file('ca.pem'),
    '-name', 'server', '-passout', `pass:${keystorePassword}`, '-out', file('server.p12'));
  return { caFile: file('ca.pem'), keystoreFile: file('server.p12'), keystorePassword };
}
