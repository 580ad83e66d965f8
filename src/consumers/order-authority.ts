/**
 * `node dist/consumers/order-authority.js`: decides every transition of every order, one request
 * at a time per order. More instances join the same group and split the partitions.
 */
import { runConsumerProcess } from '../kafka/consumer-process';
import { createOrderAuthority } from './order-authority.consumer';

if (require.main === module) void runConsumerProcess(createOrderAuthority());
