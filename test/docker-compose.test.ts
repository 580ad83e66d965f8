import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configOptions, loadConfig } from '../src/config';
import { MAILPIT_VERSION } from '../src/devstack/mailpit';
import {
  appServices,
  commandOf,
  EXPECTED_ENTRY_POINTS,
  environmentOf,
  infraServices,
  interpolate,
  read,
  root,
  service,
  services,
  SHELL,
  sourceOf,
  variablesIn,
} from './support/compose-file';

// ---------------------------------------------------------------------------------------
// Helpers beyond those of support/compose-file.ts (the services, their environments, Compose's
// interpolation): healthchecks, dependencies, published ports, the Dockerfile's stages.
// ---------------------------------------------------------------------------------------

const hasHealthcheck = (name: string) => {
  const test = service(name).healthcheck?.test;
  return test !== undefined && !(Array.isArray(test) && test[0] === 'NONE');
};

const dependenciesOf = (name: string): Record<string, { condition?: string }> => {
  const deps = service(name).depends_on ?? {};
  return Array.isArray(deps) ? Object.fromEntries(deps.map((d) => [d, {}])) : deps;
};

/** Container-side ports a service publishes, mapped to their host ports. */
const publishedPorts = (name: string): Map<string, string> => {
  const result = new Map<string, string>();
  for (const port of service(name).ports ?? []) {
    if (typeof port === 'object') {
      result.set(String(port.target), String(port.published ?? port.target));
      continue;
    }
    const parts = String(port).split('/')[0]!.split(':');
    const container = parts.at(-1)!;
    result.set(container, parts.length > 1 ? parts.at(-2)! : container);
  }
  return result;
};

/** The stages of a Dockerfile, each with its instructions (continuation lines joined). */
const dockerfileStages = (text: string) => {
  const lines = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const stages: { from: string; instructions: { op: string; args: string }[] }[] = [];
  for (const line of lines) {
    const [op = '', ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    if (op.toUpperCase() === 'FROM') stages.push({ from: args, instructions: [] });
    else stages.at(-1)?.instructions.push({ op: op.toUpperCase(), args });
  }
  return stages;
};

/** Where a service's published ports listen on the host: an address, or '' for every interface. */
const publishedAddresses = (name: string): string[] =>
  (service(name).ports ?? []).map((port) => {
    if (typeof port === 'object') return (port as { host_ip?: string }).host_ip ?? '';
    const parts = String(port).split('/')[0]!.split(':');
    return parts.length === 3 ? parts[0]! : '';
  });

const configKeys = Object.keys(configOptions);

/** Shell variables the infrastructure services read: credentials an app service may share (MongoDB's root password). */
const infraVariables = new Set(infraServices.flatMap((name) => Object.values(environmentOf(name)).flatMap(variablesIn)));

/** A value that Compose takes from a shell variable it requires: `${NAME:?why}`. */
const REQUIRED_VARIABLE = /^\$\{[A-Z_]+:\?[^}]*\}$/;

// ---------------------------------------------------------------------------------------

describe('docker-compose.yml', () => {
  it('has the infrastructure services and one service per app entry point', () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining([...infraServices, ...appServices]));
  });

  it('builds every app service from the repository Dockerfile', () => {
    expect(existsSync(join(root, 'Dockerfile'))).toBe(true);
    for (const name of appServices) {
      const build = service(name).build;
      const context = typeof build === 'string' ? build : build?.context;
      expect(context, name).toBe('.');
      if (typeof build === 'object' && build.dockerfile) expect(build.dockerfile, name).toBe('Dockerfile');
    }
  });

  it('runs each app service as `node dist/<path>.js`, compiled from the expected src/<path>.ts', () => {
    const build = JSON.parse(read('tsconfig.build.json')) as { compilerOptions: { rootDir: string; outDir: string } };
    expect(build.compilerOptions).toMatchObject({ rootDir: 'src', outDir: 'dist' });
    for (const name of appServices) {
      const [node, entry, ...rest] = commandOf(name);
      expect(node, name).toBe('node');
      expect(rest, name).toEqual([]);
      expect(entry, name).toMatch(/^dist\/.+\.js$/);
      expect(sourceOf(entry!), name).toBe(EXPECTED_ENTRY_POINTS[name]);
    }
  });

  // Expected to FAIL until the entry points land in src/: this checks that every source file
  // docker-compose.yml runs (through the build) really exists.
  it('entry points exist: src/api.ts and src/consumers/<module>.ts for every consumer module', () => {
    const missing = Object.values(EXPECTED_ENTRY_POINTS).filter((file) => !existsSync(join(root, file)));
    expect(missing).toEqual([]);
  });

  it('sets only environment variables that src/config.ts knows (configOptions)', () => {
    for (const name of appServices) {
      for (const key of Object.keys(environmentOf(name))) expect(configKeys, `${name}: ${key}`).toContain(key);
    }
  });

  it('reads only shell variables that are config options too, or credentials shared with an infrastructure service', () => {
    for (const name of appServices) {
      for (const value of Object.values(environmentOf(name))) {
        for (const variable of variablesIn(value)) {
          if (!infraVariables.has(variable)) expect(configKeys, `${name}: \${${variable}}`).toContain(variable);
        }
      }
    }
  });

  it('gives every app service an environment that loadConfig accepts', () => {
    for (const name of appServices) {
      const env = Object.fromEntries(
        Object.entries(environmentOf(name)).map(([k, v]) => [k, interpolate(v, SHELL)]),
      );
      expect(() => loadConfig(env), name).not.toThrow();
      const config = loadConfig(env);
      expect(config.kafka.external, name).toBe(true);
      expect(config.mongo.external, name).toBe(true);
    }
  });

  it('publishes the API on its PORT, which is the config default', () => {
    const port = environmentOf('api').PORT;
    expect(port).toBe(configOptions.PORT.default);
    expect(publishedPorts('api').get(port!)).toBe(port);
    expect(environmentOf('api').HOST).toBe('0.0.0.0');
  });

  it('points KAFKA_BROKERS at the internal listener the kafka service advertises', () => {
    const kafka = environmentOf('kafka');
    const advertised = (kafka.KAFKA_ADVERTISED_LISTENERS ?? '').split(',').map((l) => {
      const m = /^([A-Za-z0-9_]+):\/\/([^:]+):(\d+)$/.exec(l.trim());
      if (!m) throw new Error(`cannot parse advertised listener "${l}"`);
      return { listener: m[1], address: `${m[2]}:${m[3]}` };
    });
    const internal = advertised.find((l) => l.listener === kafka.KAFKA_INTER_BROKER_LISTENER_NAME);
    expect(internal?.address).toMatch(/^kafka:\d+$/);
    for (const name of appServices) {
      expect(environmentOf(name).KAFKA_BROKERS, name).toBe(internal!.address);
    }
  });

  it('points MONGO_URL at the mongo service', () => {
    const mongoPorts = [...publishedPorts('mongo').keys()];
    for (const name of appServices) {
      const url = new URL(interpolate(environmentOf(name).MONGO_URL ?? '', SHELL));
      expect(url.protocol, name).toBe('mongodb:');
      expect(url.hostname, name).toBe('mongo');
      expect(mongoPorts, name).toContain(url.port || '27017');
      expect(url.pathname, name).toBe('/food-ordering');
    }
  });

  it('sends confirmation emails to mailpit', () => {
    expect(environmentOf('confirmations').SMTP_URL).toBe('smtp://mailpit:1025');
    expect(publishedPorts('mailpit').has('1025')).toBe(true);
  });

  it('runs the Mailpit release ./dev builds, on the same ports', () => {
    expect(services.mailpit!.image).toBe(`axllent/mailpit:${MAILPIT_VERSION}`);
    expect([...publishedPorts('mailpit').keys()].sort()).toEqual([configOptions.MAILPIT_SMTP_PORT.default, configOptions.MAILPIT_UI_PORT.default].sort());
  });

  it('makes every dependent service wait until its dependencies are healthy', () => {
    for (const [name, s] of Object.entries(services)) {
      if (!s.depends_on) continue;
      for (const [dependency, options] of Object.entries(dependenciesOf(name))) {
        expect(services[dependency], `${name} -> ${dependency}`).toBeDefined();
        expect(hasHealthcheck(dependency), `${dependency} has a healthcheck`).toBe(true);
        expect(options.condition, `${name} -> ${dependency}`).toBe('service_healthy');
      }
    }
    for (const name of appServices) {
      expect(Object.keys(dependenciesOf(name)), name).toEqual(expect.arrayContaining(['kafka', 'mongo']));
    }
    expect(Object.keys(dependenciesOf('confirmations'))).toContain('mailpit');
  });

  it('writes no secret literally: JWT_SECRET and passwords in URLs come from the shell and are required', () => {
    const secretName = /SECRET|PASSWORD|TOKEN|_KEY$/;
    for (const name of [...appServices, ...infraServices]) {
      const env = environmentOf(name);
      for (const [key, value] of Object.entries(env)) {
        if (secretName.test(key) && appServices.includes(name)) expect(value, `${name}: ${key}`).toMatch(new RegExp(`^\\$\\{${key}:\\?[^}]*\\}$`));
        if (secretName.test(key)) expect(value, `${name}: ${key}`).toMatch(REQUIRED_VARIABLE);
        // The user info of a URL: its password part must be a required shell variable.
        const password = /^[a-z][a-z0-9+.-]*:\/\/[^:@/]*:(\$\{[^}]*\}|[^@/]*)@/i.exec(value)?.[1];
        if (password !== undefined) expect(password, `${name}: ${key} takes its URL's password from the shell`).toMatch(REQUIRED_VARIABLE);
        // A JAAS line's passwords likewise.
        for (const [, secret] of value.matchAll(/(?:user_[\w-]+|password)="([^"]*)"/g)) expect(secret, `${name}: ${key}`).toMatch(REQUIRED_VARIABLE);
      }
    }
    expect(environmentOf('api').JWT_SECRET).toMatch(/^\$\{JWT_SECRET:\?[^}]*\}$/);
    expect(() => interpolate(environmentOf('api').JWT_SECRET!, {})).toThrow(/JWT_SECRET/);
  });
});

describe('docker-compose.yml: Kafka and MongoDB reachable from the host only, and only with credentials', () => {
  it('publishes Kafka, MongoDB and Mailpit (customers\' emails) on the loopback interface only', () => {
    for (const name of ['kafka', 'mongo', 'mailpit']) {
      expect(publishedAddresses(name).length, name).toBeGreaterThan(0);
      for (const address of publishedAddresses(name)) expect(address, `${name} is published on ${address || 'every interface'}`).toBe('127.0.0.1');
    }
  });

  it('gives MongoDB a root user whose password the shell must supply, and the app services connect as that user', () => {
    const mongo = environmentOf('mongo');
    expect(mongo.MONGO_INITDB_ROOT_USERNAME).toBeTruthy();
    expect(mongo.MONGO_INITDB_ROOT_PASSWORD).toMatch(REQUIRED_VARIABLE);
    expect(() => interpolate(mongo.MONGO_INITDB_ROOT_PASSWORD!, {})).toThrow(/MONGO_ROOT_PASSWORD/);
    for (const name of appServices) {
      const url = new URL(interpolate(environmentOf(name).MONGO_URL ?? '', SHELL));
      expect(decodeURIComponent(url.username), name).toBe(mongo.MONGO_INITDB_ROOT_USERNAME);
      expect(decodeURIComponent(url.password), name).toBe(interpolate(mongo.MONGO_INITDB_ROOT_PASSWORD!, SHELL));
      // The root user lives in the admin database, not in food-ordering.
      expect(url.searchParams.get('authSource'), name).toBe('admin');
    }
  });

  it('asks for a SASL password, from the shell, on the Kafka listener the host reaches', () => {
    const kafka = environmentOf('kafka');
    const protocols = Object.fromEntries((kafka.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP ?? '').split(',').map((entry) => entry.split(':')));
    const advertised = (kafka.KAFKA_ADVERTISED_LISTENERS ?? '').split(',').map((entry) => /^(\w+):\/\/[^:]+:(\d+)$/.exec(entry.trim())!);
    const hostListener = advertised.find(([, , port]) => publishedPorts('kafka').has(port!))?.[1];
    expect(hostListener).toBeDefined();
    expect(protocols[hostListener!]).toMatch(/^SASL_(PLAINTEXT|SSL)$/);
    expect(kafka.KAFKA_SASL_ENABLED_MECHANISMS).toBe('PLAIN');
    // apache/kafka writes KAFKA_A_B_C as a.b.c into server.properties.
    const jaas = kafka[`KAFKA_LISTENER_NAME_${hostListener}_PLAIN_SASL_JAAS_CONFIG`] ?? '';
    expect(jaas).toMatch(/^org\.apache\.kafka\.common\.security\.plain\.PlainLoginModule required( user_[\w-]+="[^"]+")+;$/);
    expect(() => interpolate(jaas, {})).toThrow(/KAFKA_EXTERNAL_PASSWORD/);
    // The listener the containers use is the inter-broker one, which the compose network keeps private.
    expect(publishedPorts('kafka').size).toBe(1);
  });
});

describe('Dockerfile', () => {
  const stages = dockerfileStages(read('Dockerfile'));
  const runtime = stages.at(-1)!;

  it('runs its final (runtime) stage as a non-root user', () => {
    const users = runtime.instructions.filter((i) => i.op === 'USER').map((i) => i.args.split(':')[0]);
    expect(users.length).toBeGreaterThan(0);
    expect(['root', '0']).not.toContain(users.at(-1));
  });

  it('defaults to the command the api service runs', () => {
    const cmd = runtime.instructions.filter((i) => i.op === 'CMD').at(-1);
    expect(JSON.parse(cmd?.args ?? 'null')).toEqual(commandOf('api'));
  });
});
