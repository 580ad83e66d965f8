import { describe, expect, it } from 'vitest';
import { CONSUMER_MODULE_NAMES } from '../consumers/modules';
import { idleInstances, parseScale, parseUpArguments, planInstances, PROCESS_NAMES } from './scale';
import { StackError } from './stack.errors';

const settings = { apiPort: 4000, healthPort: 0, partitions: 6 };
const counts = (plan: ReturnType<typeof planInstances>) => Object.fromEntries(PROCESS_NAMES.map((n) => [n, plan.filter((p) => p.name === n).length]));

describe('parseUpArguments', () => {
  it('reads --scale with its value apart, joined by =, or repeated', () => {
    expect([...parseUpArguments(['--scale', 'transactions=3,analytics=2']).scale]).toEqual([['transactions', 3], ['analytics', 2]]);
    expect([...parseUpArguments(['--scale=api=2']).scale]).toEqual([['api', 2]]);
    expect([...parseUpArguments(['--scale', 'api=2', '--scale', 'confirmations=4']).scale]).toEqual([['api', 2], ['confirmations', 4]]);
  });

  it('changes nothing without arguments', () => {
    expect(parseUpArguments([]).scale.size).toBe(0);
  });

  it('refuses an argument it does not know, and --scale without a value, saying how to call it', () => {
    expect(() => parseUpArguments(['--sacle', 'api=2'])).toThrow(/does not take "--sacle".*usage: \.\/dev up \[--scale/);
    expect(() => parseUpArguments(['--scale'])).toThrow(/--scale needs a value/);
    expect(() => parseUpArguments(['--scale', '--scale'])).toThrow(/--scale needs a value/);
  });
});

describe('parseScale', () => {
  it('names every process it knows when a name is unknown', () => {
    expect(() => parseScale('payments=2')).toThrow(StackError);
    expect(() => parseScale('payments=2')).toThrow(`--scale names no process "payments": choose from api, ${CONSUMER_MODULE_NAMES.join(', ')}.`);
  });

  it.each(['0', '-1', '1.5', 'two', '', '01', '10000'])('refuses the count "%s"', (count) => {
    expect(() => parseScale(`transactions=${count}`)).toThrow(/the count must be a whole number from 1/);
  });

  it('refuses an entry without "=", and a process named twice', () => {
    expect(() => parseScale('transactions')).toThrow(/"transactions" is not <process>=<count>/);
    expect(() => parseScale('api=2,api=3')).toThrow(/names api twice/);
  });

  it('ignores blanks around entries and empty entries', () => {
    expect([...parseScale(' transactions=2 , ,analytics=3')]).toEqual([['transactions', 2], ['analytics', 3]]);
  });
});

describe('planInstances', () => {
  it('runs every process once by default: the API on PORT, consumers on ports the OS picks', () => {
    const plan = planInstances(new Map(), settings);
    expect(plan.map((p) => p.label)).toEqual(['api', ...CONSUMER_MODULE_NAMES]);
    expect(plan[0]).toEqual({ name: 'api', instance: 1, label: 'api', entry: 'api.js', port: 4000 });
    expect(plan[1]).toEqual({ name: 'transactions', instance: 1, label: 'transactions', entry: 'consumers/transactions.js' });
  });

  it('runs the counts asked for, labelled name, name-2, …; API instances on consecutive ports', () => {
    const plan = planInstances(parseScale('transactions=3,analytics=2,api=2'), settings);
    expect(counts(plan)).toEqual({ api: 2, transactions: 3, 'order-authority': 1, confirmations: 1, analytics: 2, 'orders-projector': 1 });
    expect(plan.filter((p) => p.name === 'transactions').map((p) => p.label)).toEqual(['transactions', 'transactions-2', 'transactions-3']);
    expect(plan.filter((p) => p.name === 'api').map((p) => [p.label, p.port])).toEqual([['api', 4000], ['api-2', 4001]]);
  });

  it('with a HEALTH_PORT base, fixes probe ports in one block per module, so one module\'s count never moves another\'s', () => {
    const ports = (spec: string) => Object.fromEntries(planInstances(parseScale(spec), { ...settings, healthPort: 4100 }).filter((p) => p.healthPort).map((p) => [p.label, p.healthPort]));
    expect(ports('transactions=2')).toEqual({ transactions: 4100, 'transactions-2': 4101, 'order-authority': 4110, confirmations: 4120, analytics: 4130, 'orders-projector': 4140 });
    expect(ports('transactions=6,orders-projector=3')).toMatchObject({ 'order-authority': 4110, 'transactions-6': 4105, 'orders-projector-3': 4142 });
    // More partitions than ten: blocks as wide as the most instances a module may have.
    const wide = planInstances(parseScale('transactions=12'), { ...settings, healthPort: 5000, partitions: 12 });
    expect(wide.find((p) => p.label === 'transactions-12')?.healthPort).toBe(5011);
    expect(wide.find((p) => p.label === 'order-authority')?.healthPort).toBe(5012);
  });

  it('refuses more instances of a consumer module than its topics have partitions: they would sit idle', () => {
    expect(() => planInstances(parseScale('transactions=7'), settings)).toThrow(
      '--scale transactions=7: its topics have 6 partitions each (KAFKA_TOPIC_PARTITIONS), so at most 6 instances share its work',
    );
    expect(counts(planInstances(parseScale('transactions=6'), settings)).transactions).toBe(6);
  });

  it('lets the API scale past the partition count: each instance reads every event in its own group', () => {
    expect(counts(planInstances(parseScale('api=8'), settings)).api).toBe(8);
  });

  it('refuses ports past 65535 and two instances on one port', () => {
    expect(() => planInstances(parseScale('api=3'), { ...settings, apiPort: 65_534 })).toThrow('api-3 would listen on port 65536, past 65535: lower PORT or the count.');
    expect(() => planInstances(parseScale('api=3'), { ...settings, healthPort: 4002 })).toThrow('api-3 and transactions would both listen on port 4002');
  });
});

describe('idleInstances', () => {
  it('warns per module and topic where the cluster has fewer partitions than instances', () => {
    const partitions: Record<string, number> = { 'order.placed': 6, 'order.cancelled': 2 };
    expect(idleInstances(parseScale('transactions=3'), (t) => partitions[t])).toEqual([
      'transactions runs 3 instances but order.cancelled has 2 partitions: 1 of them get none of order.cancelled',
    ]);
    expect(idleInstances(parseScale('transactions=2'), (t) => partitions[t])).toEqual([]);
  });
});
