/**
 * `node dist/consumers/transactions.js`: charges placed orders once and refunds cancelled ones.
 * More instances join the same group and split the partitions.
 */
import { runConsumerProcess } from '../kafka/consumer-process';
import { createTransactionsConsumer } from './transactions.consumer';

if (require.main === module) void runConsumerProcess(createTransactionsConsumer());
