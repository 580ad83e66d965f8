/**
 * How many instances of each process `./dev up` runs, and the ports each gets:
 *
 *   ./dev up --scale transactions=3,analytics=2,api=2
 *
 * Every process not named runs once. Pure: the arguments are parsed and the instances planned
 * here; supervise.ts launches the plan.
 *
 * Ports. Instance k of the API (1-based) listens on PORT + k − 1 (4000, 4001, …), each with its
 * own probes and metrics there. Each consumer instance serves its probes and metrics on a
 * HEALTH_PORT of its own: with HEALTH_PORT unset or 0 the OS picks a free port per instance (no
 * clash on a busy machine; printed at start); with HEALTH_PORT = b given to `./dev up`, the ports
 * are fixed, one block per module in the order of CONSUMER_MODULE_NAMES: module m, instance k
 * gets b + m × block + k − 1, block = max(10, partitions), so adding instances of one module never
 * moves another's (a scrape configuration stays valid).
 *
 * Why a cap. A consumer group gives each partition of a topic to one member, so instances of a
 * module beyond its topics' partitions get none of them and sit idle: a count above
 * KAFKA_TOPIC_PARTITIONS (every topic of the product is created with that many) is refused.
 * Topics created earlier with fewer partitions are found on the cluster (idleInstances).
 */
import { CONSUMER_GROUP_TOPICS } from '../events/consumer-groups';
import { CONSUMER_MODULE_NAMES, type ConsumerModuleName } from '../consumers/modules';
import { StackError } from './stack.errors';

export type ProcessName = 'api' | ConsumerModuleName;

/** Every process of the product, in the order `./dev up` starts them. */
export const PROCESS_NAMES: readonly ProcessName[] = ['api', ...CONSUMER_MODULE_NAMES];

/** Instances per process name; a process not in it runs once. */
export type Scale = ReadonlyMap<ProcessName, number>;

/** The compiled entry of a process, under dist/. */
export const entryOf = (name: ProcessName): string => (name === 'api' ? 'api.js' : `consumers/${name}.js`);

const USAGE = 'usage: ./dev up [--scale <process>=<count>[,<process>=<count>…]]';
const MAX_PORT = 65_535;

/** The arguments after `./dev up`: `--scale a=1,b=2`, `--scale=a=1`, or several `--scale`. */
export function parseUpArguments(args: readonly string[]): { readonly scale: Scale } {
  const specs: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg.startsWith('--scale=')) specs.push(arg.slice('--scale='.length));
    else if (arg === '--scale') {
      const value = args[++i];
      if (value === undefined || value.startsWith('--')) throw new StackError(`--scale needs a value such as transactions=3,analytics=2; ${USAGE}`);
      specs.push(value);
    } else throw new StackError(`./dev up does not take "${arg}"; ${USAGE}`);
  }
  return { scale: parseScale(specs.join(',')) };
}

/** `transactions=3,analytics=2` → {transactions: 3, analytics: 2}; an empty text → no changes. */
export function parseScale(spec: string): Scale {
  const scale = new Map<ProcessName, number>();
  for (const entry of spec.split(',').map((e) => e.trim()).filter(Boolean)) {
    const match = /^([^=\s]+)=(.*)$/.exec(entry);
    if (!match) throw new StackError(`--scale entry "${entry}" is not <process>=<count>; ${USAGE}`);
    const [, name, count] = match as unknown as [string, string, string];
    if (!(PROCESS_NAMES as readonly string[]).includes(name)) {
      throw new StackError(`--scale names no process "${name}": choose from ${PROCESS_NAMES.join(', ')}.`);
    }
    if (!/^[1-9]\d{0,3}$/.test(count)) {
      throw new StackError(`--scale ${name}=${count}: the count must be a whole number from 1 (omit a process to run it once).`);
    }
    if (scale.has(name as ProcessName)) throw new StackError(`--scale names ${name} twice; give each process one count.`);
    scale.set(name as ProcessName, Number(count));
  }
  return scale;
}

export interface PlannedInstance {
  readonly name: ProcessName;
  /** 1-based. */
  readonly instance: number;
  /** `transactions` for the first instance, `transactions-2` for the second… (log prefixes, messages). */
  readonly label: string;
  readonly entry: string;
  /** The API's PORT. */
  readonly port?: number;
  /** A consumer's HEALTH_PORT when fixed; undefined: the OS picks one at launch. */
  readonly healthPort?: number;
}

export interface PlanSettings {
  /** PORT: the first API instance's. */
  readonly apiPort: number;
  /** HEALTH_PORT given to `./dev up`: the base of fixed probe ports; 0: the OS picks each. */
  readonly healthPort: number;
  /** KAFKA_TOPIC_PARTITIONS. */
  readonly partitions: number;
}

export const instanceLabel = (name: string, instance: number): string => (instance === 1 ? name : `${name}-${instance}`);

/** Every instance to run, with its ports; refuses what could not work (idle instances, ports past 65535 or twice). */
export function planInstances(scale: Scale, settings: PlanSettings): PlannedInstance[] {
  const { apiPort, healthPort, partitions } = settings;
  const block = Math.max(10, partitions);
  const plan: PlannedInstance[] = [];
  for (const name of PROCESS_NAMES) {
    const count = scale.get(name) ?? 1;
    if (name !== 'api' && count > partitions) {
      throw new StackError(
        `--scale ${name}=${count}: its topics have ${partitions} partitions each (KAFKA_TOPIC_PARTITIONS), so at most ${partitions} instances share its work and the others would sit idle; ask for at most ${partitions}, or raise KAFKA_TOPIC_PARTITIONS (it applies to topics created after).`,
      );
    }
    const moduleIndex = CONSUMER_MODULE_NAMES.indexOf(name as ConsumerModuleName);
    for (let instance = 1; instance <= count; instance++) {
      const base = { name, instance, label: instanceLabel(name, instance), entry: entryOf(name) };
      if (name === 'api') plan.push({ ...base, port: apiPort + instance - 1 });
      else if (healthPort !== 0) plan.push({ ...base, healthPort: healthPort + moduleIndex * block + instance - 1 });
      else plan.push(base);
    }
  }
  const owners = new Map<number, string>();
  for (const p of plan) {
    const port = p.port ?? p.healthPort;
    if (port === undefined) continue;
    if (port > MAX_PORT) throw new StackError(`${p.label} would listen on port ${port}, past ${MAX_PORT}: lower ${p.name === 'api' ? 'PORT' : 'HEALTH_PORT'} or the count.`);
    const other = owners.get(port);
    if (other) throw new StackError(`${other} and ${p.label} would both listen on port ${port}: move HEALTH_PORT away from PORT (the API instances take PORT to PORT + ${(scale.get('api') ?? 1) - 1}).`);
    owners.set(port, p.label);
  }
  return plan;
}

/**
 * What the cluster says against the plan: a module with more instances than one of its
 * topics has partitions (a topic created earlier with fewer than KAFKA_TOPIC_PARTITIONS; topic
 * creation never changes an existing one). One warning per module and topic.
 */
export function idleInstances(scale: Scale, partitionsOf: (logicalTopic: string) => number | undefined): string[] {
  const warnings: string[] = [];
  for (const name of CONSUMER_MODULE_NAMES) {
    const count = scale.get(name) ?? 1;
    for (const topic of CONSUMER_GROUP_TOPICS[name]) {
      const partitions = partitionsOf(topic);
      if (partitions !== undefined && count > partitions) {
        warnings.push(`${name} runs ${count} instances but ${topic} has ${partitions} partitions: ${count - partitions} of them get none of ${topic}`);
      }
    }
  }
  return warnings;
}
