/**
 * `node dist/consumers/orders-projector.js`: keeps the `orders` read model (what the API
 * serves) in step with the order events.
 */
import { runConsumerProcess } from '../kafka/consumer-process';
import { createOrdersProjector } from './orders-projector.consumer';

if (require.main === module) void runConsumerProcess(createOrdersProjector());
