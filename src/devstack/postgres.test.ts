import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FERRETDB_POOL_MAX_CONNS, ID_INDEX_SQL, newestPostgresBin, POSTGRES_MAX_CONNECTIONS, postgresSettings, postgresUrl } from './postgres';

describe('newestPostgresBin', () => {
  const root = mkdtempSync(join(tmpdir(), 'pg-root-'));
  const install = (major: string, tools: readonly string[]) => {
    mkdirSync(join(root, major, 'bin'), { recursive: true });
    for (const tool of tools) writeFileSync(join(root, major, 'bin', tool), '');
  };
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('finds nothing where nothing is installed', () => {
    expect(newestPostgresBin(join(root, 'missing'))).toBeUndefined();
    expect(newestPostgresBin(root)).toBeUndefined();
  });

  it('picks the newest major version that has the server, initdb, pg_ctl and psql', () => {
    install('9.6', ['postgres', 'initdb', 'pg_ctl', 'psql']);
    install('15', ['postgres', 'initdb', 'pg_ctl', 'psql']);
    install('17', ['psql']); // only the client: not a server install
    expect(newestPostgresBin(root)).toBe(join(root, '15', 'bin'));
  });
});

describe('postgresSettings', () => {
  const settings = postgresSettings('/state/postgres/run');

  it('listens on a unix socket in the state folder only', () => {
    expect(settings).toContain("listen_addresses = ''");
    expect(settings).toContain("unix_socket_directories = '/state/postgres/run'");
  });

  it("leaves room above FerretDB's pool", () => {
    expect(settings).toContain(`max_connections = ${POSTGRES_MAX_CONNECTIONS}`);
    expect(POSTGRES_MAX_CONNECTIONS).toBeGreaterThan(FERRETDB_POOL_MAX_CONNS);
  });

  it('keeps fsync on and plans each prepared statement for its key', () => {
    expect(settings).toContain('fsync = on');
    expect(settings).toContain('synchronous_commit = off');
    expect(settings).toContain('plan_cache_mode = force_custom_plan');
  });

  it('quotes a folder name with a quote in it', () => {
    expect(postgresSettings("/tmp/o'brien/run")).toContain("unix_socket_directories = '/tmp/o''brien/run'");
  });
});

describe('postgresUrl', () => {
  it("points FerretDB at the socket folder and sizes its pool", () => {
    // No TCP host (pgx reads the socket folder from the `host` parameter), which WHATWG URL rejects.
    const url = postgresUrl('/state dir/postgres/run');
    const [base, query] = url.split('?') as [string, string];
    expect(base).toBe('postgres://postgres@/ferretdb');
    const params = new URLSearchParams(query);
    expect(params.get('host')).toBe('/state dir/postgres/run');
    expect(params.get('pool_max_conns')).toBe(String(FERRETDB_POOL_MAX_CONNS));
  });
});

describe('ID_INDEX_SQL', () => {
  it('indexes _jsonb->\'_id\' with GIN after CREATE TABLE, skipping FerretDB metadata, and installs the trigger only once', () => {
    expect(ID_INDEX_SQL).toContain("USING gin ((_jsonb->''_id'')) WITH (fastupdate = off)");
    expect(ID_INDEX_SQL).toContain('ON ddl_command_end WHEN TAG IN (\'CREATE TABLE\')');
    expect(ID_INDEX_SQL).toContain("table_name LIKE '\\_ferretdb\\_%'");
    expect(ID_INDEX_SQL).toMatch(/IF NOT EXISTS \(SELECT 1 FROM pg_event_trigger/);
  });
});
