import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Connection } from 'mongoose';
import { paymentOutcome } from './simulated-tokens';
import { microBatch } from '../micro-batch';
import { findByIds, insertEach } from '../mongo/bulk';
import { gatewayLedgerModel, type GatewayLedgerEntry } from './gateway-ledger.model';
import { withGatewayTimeout } from './gateway-timeout';
import { PaymentRejectedError, type ChargeResult, type PaymentGateway } from './payment-gateway';

type NewEntry = Omit<GatewayLedgerEntry, 'requests' | 'createdAt'>;

/**
 * A stand-in payment provider that behaves like a real one where it matters: outcomes follow
 * the test tokens of simulated-tokens.ts (`tok_slow` really takes ~2 s), and it is idempotent
 * per key across every process, because its books are a collection with one entry per key.
 * Like a provider's API server, it serves concurrent requests together: the charges of one turn
 * of the event loop share one insert into its books (a key already there is read back).
 * Every call is bounded by PAYMENT_GATEWAY_TIMEOUT_MS, as a real provider's client must be.
 */
export async function simulatedPaymentGateway(connection: Connection): Promise<PaymentGateway> {
  const ledger = gatewayLedgerModel(connection);
  await ledger.init();

  /** Counts a repeated request of each known key. */
  const countRepeats = async (ids: readonly string[]) => {
    if (ids.length > 0) await ledger.updateMany({ _id: { $in: [...ids] } }, { $inc: { requests: 1 } });
  };

  /** The first answer given for each id, counting this request; null where the key is new (refunds ask first). */
  const recall = microBatch(async (ids: string[]) => {
    const known = await findByIds(ledger, ids);
    await countRepeats(ids.filter((id) => known.has(id)));
    return ids.map((id) => known.get(id) ?? null);
  });

  /** Records first answers; where another request got there first, that one is the answer. */
  const record = microBatch(async (entries: NewEntry[]) => {
    const createdAt = new Date();
    const inserted = await insertEach(
      ledger.collection,
      entries.map((e) => ({ ...e, requests: 1, createdAt })),
    );
    const taken = entries.filter((_, i) => !inserted[i]).map((e) => e._id);
    await countRepeats(taken);
    const first = taken.length > 0 ? await findByIds(ledger, taken) : new Map<string, GatewayLedgerEntry>();
    return entries.map((e, i): GatewayLedgerEntry => (inserted[i] ? { ...e, requests: 1, createdAt } : (first.get(e._id) ?? { ...e, requests: 1, createdAt })));
  });

  const chargeResult = (entry: GatewayLedgerEntry): ChargeResult =>
    entry.status === 'captured'
      ? { status: 'captured', reference: entry.reference }
      : { status: 'declined', reference: entry.reference, reason: entry.reason ?? 'declined' };

  return withGatewayTimeout({
    async charge({ idempotencyKey, paymentToken, amountCents }) {
      const id = `charge:${idempotencyKey}`;
      // Insert first, as a provider's books would: a key already there gives its first answer.
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

    async closeCharge(idempotencyKey) {
      const entry = await record({
        _id: `charge:${idempotencyKey}`,
        kind: 'charge',
        idempotencyKey,
        status: 'voided',
        reference: `vo_${randomUUID()}`,
        reason: 'cancelled before payment',
        amountCents: 0,
        chargeReference: null,
      });
      return entry.status === 'voided' ? { status: 'voided' } : { ...chargeResult(entry), amountCents: entry.amountCents };
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
  });
}
