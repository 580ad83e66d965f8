import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CONSUMER_MODULE_NAMES } from '../../src/consumers/modules';

// ---------------------------------------------------------------------------------------
// docker-compose.yml as the tests read it (test/docker-compose.test.ts, and test/deploy/,
// which holds the Helm chart to the same processes): the services, each one's environment as
// written, and a small model of Compose's variable interpolation, so the values the containers
// would really see can be checked against src/config.ts.
// ---------------------------------------------------------------------------------------

export const root = join(__dirname, '..', '..');
export const read = (file: string) => readFileSync(join(root, file), 'utf8');

export interface Healthcheck {
  test: string[] | string;
}
export interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string[] | string;
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | number | { target: number; published?: string | number })[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: Healthcheck;
}
export interface Compose {
  services: Record<string, Service>;
}

export const compose = parse(read('docker-compose.yml'), { merge: true }) as Compose;
export const services = compose.services;

export const infraServices = ['kafka', 'mongo', 'mailpit'] as const;

/** Every app service and the source file its entry point is compiled from. */
export const EXPECTED_ENTRY_POINTS: Record<string, string> = {
  api: 'src/api.ts',
  ...Object.fromEntries(CONSUMER_MODULE_NAMES.map((name) => [name, `src/consumers/${name}.ts`])),
};
export const appServices = Object.keys(EXPECTED_ENTRY_POINTS);

export const service = (name: string): Service => {
  const s = services[name];
  if (!s) throw new Error(`docker-compose.yml has no service "${name}"`);
  return s;
};

/** The environment map of a service as written (values uninterpolated, as strings). */
export const environmentOf = (name: string): Record<string, string> => {
  const env = service(name).environment ?? {};
  const entries = Array.isArray(env)
    ? env.map((line) => {
        const i = line.indexOf('=');
        return i === -1 ? [line, ''] : [line.slice(0, i), line.slice(i + 1)];
      })
    : Object.entries(env).map(([k, v]) => [k, v == null ? '' : String(v)]);
  return Object.fromEntries(entries);
};

export const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

/** Shell variables a Compose value refers to: `${NAME}`, `${NAME:-x}`, `${NAME:?x}`, `$NAME`. */
export const variablesIn = (value: string): string[] =>
  [...value.replace(/\$\$/g, '').matchAll(VARIABLE)].map((m) => (m[1] ?? m[4]) as string);

/** Compose interpolation of one value, given the shell environment. */
export const interpolate = (value: string, shell: Record<string, string>): string =>
  value
    .split('$$')
    .map((part) =>
      part.replace(VARIABLE, (_match, braced?: string, op?: string, arg?: string, bare?: string) => {
        const name = (braced ?? bare) as string;
        const set = shell[name];
        const present = op?.startsWith(':') ? Boolean(set) : set !== undefined;
        if (op?.endsWith('?') && !present) throw new Error(`${name}: ${arg}`);
        if (op?.endsWith('-') && !present) return arg ?? '';
        return set ?? '';
      }),
    )
    .join('$');

export const commandOf = (name: string): string[] => {
  const command = service(name).command;
  return typeof command === 'string' ? command.split(/\s+/) : (command ?? []);
};

/** `dist/X.js` is compiled from `src/X.ts` (tsconfig.build.json: rootDir src, outDir dist). */
export const sourceOf = (distFile: string): string | undefined => {
  const m = /^dist\/(.+)\.js$/.exec(distFile);
  return m ? `src/${m[1]}.ts` : undefined;
};

/** Shell values for the variables docker-compose.yml requires (secrets a person would export). */
export const SHELL = { JWT_SECRET: 'x'.repeat(64), MONGO_ROOT_PASSWORD: 'mongo0pass', KAFKA_EXTERNAL_PASSWORD: 'kafka0pass' };
