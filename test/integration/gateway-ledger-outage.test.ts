/**
 * The simulated gateway's books under a store outage (drill 4 found a CONFIRMED order with no
 * capture in the ledger): charges are asked for in a steady stream while the MongoDB-wire
 * server is killed and started again. Whatever a charge answered `captured` must be in the
 * books under the same reference, since that answer is what the order gets confirmed on.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger';
import { connectMongo } from '../../src/mongo/connection';
import { gatewayLedgerModel, type GatewayLedgerEntry } from '../../src/payments/gateway-ledger.model';
import type { ChargeResult } from '../../src/payments/payment-gateway';
import { simulatedPaymentGateway } from '../../src/payments/simulated-gateway';
import { startOwnFerretDb, type OwnFerretDb } from '../drills/support/own-services';
import { testConfig, uniqueName } from '../support/services';

let ferret: OwnFerretDb;
let connection: Connection;

beforeAll(async () => {
  ferret = await startOwnFerretDb();
  connection = await connectMongo(testConfig({ MONGO_URL: `${ferret.url}${uniqueName('ledger-outage')}` }), createLogger('test', { level: 'silent' }));
});
afterAll(async () => {
  await connection?.dropDatabase().catch(() => undefined);
  await connection?.close();
  await ferret?.stop();
});

describe('simulated gateway, the store killed while charges are under way', () => {
  it('has in its books every charge it answered captured', async () => {
    const gateway = await simulatedPaymentGateway(connection);
    const answers: { key: string; result?: ChargeResult; error?: unknown }[] = [];
    const charging: Promise<void>[] = [];
    let stop = false;
    // A stream of charges, as the transactions consumer makes them: rounds side by side, a
    // failed key asked again (as a redelivery would).
    const stream = (async () => {
      for (let round = 0; !stop; round++) {
        for (let i = 0; i < 8; i++) {
          const key = `order-${round}-${i}-${randomUUID().slice(0, 4)}`;
          const ask = async (): Promise<void> => {
            const answer: (typeof answers)[number] = { key };
            answers.push(answer);
            try {
              answer.result = await gateway.charge({ idempotencyKey: key, paymentToken: i % 4 === 3 ? 'tok_slow' : 'tok_visa', amountCents: 1000 + i, currency: 'EUR' });
            } catch (error) {
              answer.error = error;
              if (!stop) await sleep(500).then(ask);
            }
          };
          charging.push(ask());
        }
        await sleep(40);
      }
    })();
    await sleep(1500);
    await ferret.kill();
    await sleep(10_000); // as drill 4: longer than server selection and the gateway's own timeout
    await ferret.start();
    await sleep(3000);
    stop = true;
    await stream;
    await Promise.all(charging);

    const books = new Map((await gatewayLedgerModel(connection).find({ kind: 'charge' }).lean<GatewayLedgerEntry[]>()).map((e) => [e.idempotencyKey, e]));
    const captured = answers.filter((a) => a.result?.status === 'captured');
    const failed = answers.filter((a) => a.error !== undefined);
    const missing = captured.filter((a) => books.get(a.key)?.reference !== a.result!.reference).map((a) => `${a.key}: answered ${a.result!.reference}, books ${JSON.stringify(books.get(a.key) ?? null)}`);
    expect(missing).toEqual([]);
    expect(failed.length, 'the outage failed no charge: the fault missed').toBeGreaterThan(0);
  }, 120_000);
});
