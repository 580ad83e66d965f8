import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Connection } from 'mongoose';
import { paymentOutcome } from '../domain/payment';
import { isDuplicateKeyError } from '../mongo/mongo-errors';
import { gatewayLedgerModel, type GatewayLedgerEntry } from './gateway-ledger.model';
import { PaymentRejectedError, type ChargeResult, type PaymentGateway } from './payment-gateway';

/**
 * A stand-in payment provider that behaves like a real one where it matters: outcomes follow
 * the test tokens of domain/payment.ts (`tok_slow` really takes ~2 s), and it is idempotent
 * per key across every process, because its books are a collection with one entry per key.
 */
export async function simulatedPaymentGateway(connection: Connection): Promise<PaymentGateway> {
  const ledger = gatewayLedgerModel(connection);
  await ledger.init();

  /** The first answer given for `id`, counting this request; null if the key is new. */
  const recall = (id: string) => ledger.findOneAndUpdate({ _id: id }, { $inc: { requests: 1 } }, { returnDocument: 'after' }).lean<GatewayLedgerEntry>();

  /** Records a first answer; if another request got there first, that one is the answer. */
  async function record(entry: Omit<GatewayLedgerEntry, 'requests' | 'createdAt'>): Promise<GatewayLedgerEntry> {
    try {
      return (await ledger.create({ ...entry, requests: 1 })).toObject();
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      const first = await recall(entry._id);
      if (!first) throw error;
      return first;
    }
  }

  const chargeResult = (entry: GatewayLedgerEntry): ChargeResult =>
    entry.status === 'declined'
      ? { status: 'declined', reference: entry.reference, reason: entry.reason ?? 'declined' }
      : { status: 'captured', reference: entry.reference };

  return {
    async charge({ idempotencyKey, paymentToken, amountCents }) {
      const id = `charge:${idempotencyKey}`;
      const known = await recall(id);
      if (known) return chargeResult(known);
      const outcome = paymentOutcome(paymentToken);
      if (outcome.delayMs > 0) await sleep(outcome.delayMs);
      const entry = await record({
        _id: id,
        kind: 'charge',
        idempotencyKey,
        status: outcome.kind,
        reference: `ch_${randomUUID()}`,
        reason: outcome.kind === 'declined' ? outcome.reason : null,
        amountCents,
        chargeReference: null,
      });
      return chargeResult(entry);
    },

    async refund({ idempotencyKey, chargeReference, amountCents }) {
      const id = `refund:${idempotencyKey}`;
      const known = await recall(id);
      if (known) return { reference: known.reference };
      const charge = await ledger.findOne({ reference: chargeReference, kind: 'charge' }).lean<GatewayLedgerEntry>();
      if (charge?.status !== 'captured') throw new PaymentRejectedError(`no captured charge ${chargeReference} to refund`);
      if (amountCents > charge.amountCents) throw new PaymentRejectedError(`refund of ${amountCents} exceeds charge ${chargeReference}`);
      const entry = await record({
        _id: id,
        kind: 'refund',
        idempotencyKey,
        status: 'refunded',
        reference: `re_${randomUUID()}`,
        reason: null,
        amountCents,
        chargeReference,
      });
      return { reference: entry.reference };
    },
  };
}
