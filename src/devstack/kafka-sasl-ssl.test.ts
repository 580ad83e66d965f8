import { describe, expect, it } from 'vitest';
import { kafkaNodes, serverProperties } from './kafka';
import { scramFormatArgs, type SaslSslListener } from './kafka-sasl-ssl';
import { parseProperties } from './server-properties.fixture';

const listener: SaslSslListener = {
  port: 9096,
  keystoreFile: '/tmp/tls/server.p12',
  keystorePassword: 'ks-pass',
  plainUsers: { 'orders-plain': 'pw-1' },
  scramUsers: { 'orders-scram': 'pw-2' },
};

describe('a SASL_SSL listener on a local Kafka node', () => {
  const [node] = kafkaNodes('/s', 1, 9092);
  const props = parseProperties(serverProperties(node!, [node!], undefined, listener));

  it('adds the listener beside PLAINTEXT, which the brokers and the readiness check keep using', () => {
    expect(props.get('listeners')).toBe('PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093,SASL_SSL://127.0.0.1:9096');
    expect(props.get('advertised.listeners')).toBe('PLAINTEXT://127.0.0.1:9092,SASL_SSL://127.0.0.1:9096');
    expect(props.get('listener.security.protocol.map')).toBe('PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL');
    expect(props.get('inter.broker.listener.name')).toBe('PLAINTEXT');
  });

  it('offers PLAIN with its users and both SCRAM mechanisms, over TLS from the PKCS12 keystore', () => {
    expect(props.get('sasl.enabled.mechanisms')).toBe('PLAIN,SCRAM-SHA-256,SCRAM-SHA-512');
    expect(props.get('listener.name.sasl_ssl.plain.sasl.jaas.config')).toBe(
      'org.apache.kafka.common.security.plain.PlainLoginModule required user_orders-plain="pw-1";',
    );
    expect(props.get('listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config')).toBe('org.apache.kafka.common.security.scram.ScramLoginModule required;');
    expect(props.get('listener.name.sasl_ssl.ssl.keystore.type')).toBe('PKCS12');
    expect(props.get('listener.name.sasl_ssl.ssl.keystore.location')).toBe('/tmp/tls/server.p12');
  });

  it('creates each SCRAM user for both mechanisms when the storage is formatted', () => {
    expect(scramFormatArgs(listener)).toEqual([
      '--add-scram', 'SCRAM-SHA-256=[name=orders-scram,password=pw-2]',
      '--add-scram', 'SCRAM-SHA-512=[name=orders-scram,password=pw-2]',
    ]);
  });

  it('refuses names or passwords that would need escaping in JAAS or --add-scram', () => {
    expect(() => scramFormatArgs({ ...listener, scramUsers: { orders: 'p"w,x' } })).toThrow(/letters, digits/);
  });

  it('leaves a node without the listener as it was', () => {
    const plain = parseProperties(serverProperties(node!, [node!]));
    expect(plain.get('listeners')).toBe('PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093');
    expect(plain.has('sasl.enabled.mechanisms')).toBe(false);
  });
});
