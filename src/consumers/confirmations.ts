/**
 * `node dist/consumers/confirmations.js`: emails each confirmed order's customer once
 * (through SMTP_URL; without it, the email is only logged).
 */
import { runConsumerProcess } from '../kafka/consumer-process';
import { createConfirmationsConsumer } from './confirmations.consumer';

if (require.main === module) void runConsumerProcess(createConfirmationsConsumer());
