import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kafkaClusterId, kafkaNodes, serverProperties } from './kafka';
import { parseProperties } from './server-properties.fixture';

describe('kafkaNodes', () => {
  it('puts a single node on 9092 with its controller on 9093', () => {
    expect(kafkaNodes('/state/kafka/single', 1, 9092)).toEqual([
      { id: 1, brokerPort: 9092, controllerPort: 9093, dir: join('/state/kafka/single', 'node-1') },
    ]);
  });

  it('spaces three nodes two ports apart, each controller on the port after its broker', () => {
    const nodes = kafkaNodes('/c', 3, 29092);
    expect(nodes.map((n) => [n.id, n.brokerPort, n.controllerPort])).toEqual([
      [1, 29092, 29093],
      [2, 29094, 29095],
      [3, 29096, 29097],
    ]);
  });

  it('gives every node its own folder under the cluster folder', () => {
    expect(kafkaNodes('/c', 3, 29092).map((n) => n.dir)).toEqual(['/c/node-1', '/c/node-2', '/c/node-3']);
  });
});

describe('serverProperties', () => {
  const three = kafkaNodes('/c', 3, 29092);
  const one = kafkaNodes('/s', 1, 9092);

  it('lists every node of the cluster as a quorum voter', () => {
    const props = parseProperties(serverProperties(three[1]!, three));
    expect(props.get('controller.quorum.voters')).toBe('1@127.0.0.1:29093,2@127.0.0.1:29095,3@127.0.0.1:29097');
  });

  it("listens and advertises on the node's own broker port and its controller on the next", () => {
    const props = parseProperties(serverProperties(three[1]!, three));
    expect(props.get('node.id')).toBe('2');
    expect(props.get('listeners')).toBe('PLAINTEXT://127.0.0.1:29094,CONTROLLER://127.0.0.1:29095');
    expect(props.get('advertised.listeners')).toBe('PLAINTEXT://127.0.0.1:29094');
  });

  it("keeps the node's data in its own folder", () => {
    expect(parseProperties(serverProperties(three[2]!, three)).get('log.dirs')).toBe(join('/c/node-3', 'data'));
  });

  /** The replication settings of a node's properties. */
  const replication = (props: Map<string, string>) => ({
    offsets: props.get('offsets.topic.replication.factor'),
    transactions: props.get('transaction.state.log.replication.factor'),
    transactionsIsr: props.get('transaction.state.log.min.isr'),
    defaultRf: props.get('default.replication.factor'),
    minIsr: props.get('min.insync.replicas'),
  });

  it('uses replication factor 1 and min ISR 1 for a single node', () => {
    expect(replication(parseProperties(serverProperties(one[0]!, one)))).toEqual({ offsets: '1', transactions: '1', transactionsIsr: '1', defaultRf: '1', minIsr: '1' });
  });

  it('uses replication factor 3 and min ISR 2 for three nodes', () => {
    expect(replication(parseProperties(serverProperties(three[0]!, three)))).toEqual({ offsets: '3', transactions: '3', transactionsIsr: '2', defaultRf: '3', minIsr: '2' });
  });

  it('turns automatic topic creation off', () => {
    expect(parseProperties(serverProperties(one[0]!, one)).get('auto.create.topics.enable')).toBe('false');
  });

  it('runs every node as combined broker and controller', () => {
    expect(parseProperties(serverProperties(three[0]!, three)).get('process.roles')).toBe('broker,controller');
  });
});

describe('kafkaClusterId', () => {
  it('is 22 characters of URL-safe base64 encoding 16 bytes', () => {
    const id = kafkaClusterId();
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Buffer.from(id, 'base64url')).toHaveLength(16);
  });

  it('differs between calls', () => {
    const ids = new Set(Array.from({ length: 50 }, () => kafkaClusterId()));
    expect(ids.size).toBe(50);
  });

  it('never starts with "-", which the storage tool would take for an option', () => {
    // One id in 64 would start with '-' if nothing prevented it.
    const ids = Array.from({ length: 2000 }, () => kafkaClusterId());
    expect(ids.filter((id) => id.startsWith('-'))).toEqual([]);
  });
});
