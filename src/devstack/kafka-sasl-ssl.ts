/**
 * An extra SASL_SSL listener on a local Kafka node, so the product's TLS and SASL settings
 * (KAFKA_SSL, KAFKA_SASL_*) can be proven against a real broker: TLS with a keystore the caller
 * made (a throwaway CA's certificate for 127.0.0.1), and the PLAIN, SCRAM-SHA-256 and
 * SCRAM-SHA-512 mechanisms. The node's PLAINTEXT listener stays as it is (the devstack's own
 * readiness check and the brokers between themselves use it); no ACLs, so an authenticated
 * user may do anything.
 */
import { StackError } from './stack.errors';

export interface SaslSslListener {
  readonly port: number;
  /** PKCS12 keystore with the broker's private key and certificate chain. */
  readonly keystoreFile: string;
  /** Of the keystore and of the key in it (one password, as `openssl pkcs12 -export` writes it). */
  readonly keystorePassword: string;
  /** Users accepted over PLAIN, name to password (kept in the broker's JAAS configuration). */
  readonly plainUsers: Readonly<Record<string, string>>;
  /** Users created for both SCRAM mechanisms when the node's storage is formatted (KRaft keeps them in its metadata). */
  readonly scramUsers: Readonly<Record<string, string>>;
}

/**
 * Names and passwords are written unquoted into `--add-scram` and quoted into JAAS, neither of
 * which has an escape we want to get right for a test fixture: plain words only.
 */
const PLAIN_WORD = /^[A-Za-z0-9_-]+$/;

function checkWords(listener: SaslSslListener): void {
  const words = [listener.keystorePassword, ...[listener.plainUsers, listener.scramUsers].flatMap((users) => Object.entries(users).flat())];
  if (!words.every((word) => PLAIN_WORD.test(word))) {
    throw new StackError('SASL_SSL listener: user names and passwords must be letters, digits, _ or - only');
  }
}

/** The listener entries to add to `listeners`, `advertised.listeners` and the protocol map. */
export function saslSslEntries(listener: SaslSslListener): { listener: string; protocol: string } {
  return { listener: `SASL_SSL://127.0.0.1:${listener.port}`, protocol: 'SASL_SSL:SASL_SSL' };
}

/** The server.properties lines that configure the listener (per-listener keys: PLAINTEXT is untouched). */
export function saslSslProperties(listener: SaslSslListener): string[] {
  checkWords(listener);
  const prefix = 'listener.name.sasl_ssl';
  const plainUsers = Object.entries(listener.plainUsers).map(([name, password]) => ` user_${name}="${password}"`).join('');
  return [
    'sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
    `${prefix}.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required${plainUsers};`,
    `${prefix}.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;`,
    `${prefix}.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;`,
    `${prefix}.ssl.keystore.type=PKCS12`,
    `${prefix}.ssl.keystore.location=${listener.keystoreFile}`,
    `${prefix}.ssl.keystore.password=${listener.keystorePassword}`,
    `${prefix}.ssl.key.password=${listener.keystorePassword}`,
  ];
}

/** Arguments for `kafka-storage format` that create every SCRAM user for both mechanisms. */
export function scramFormatArgs(listener: SaslSslListener): string[] {
  checkWords(listener);
  return Object.entries(listener.scramUsers).flatMap(([name, password]) =>
    ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((mechanism) => ['--add-scram', `${mechanism}=[name=${name},password=${password}]`]),
  );
}
