/**
 * `node dist/consumers/analytics.js`: folds order events into live figures per scope and
 * publishes analytics.updated.
 */
import { runConsumerProcess } from '../kafka/consumer-process';
import { createAnalyticsConsumer } from './analytics.consumer';

if (require.main === module) void runConsumerProcess(createAnalyticsConsumer());
