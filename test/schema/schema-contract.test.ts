/**
 * The public contract (shared/contract/schema.graphql) is the floor: every type, field,
 * argument and enum value it names must exist in the schema the code builds, with a type a
 * client written against the contract can use. And the committed SDL must be what the code
 * builds (`npm run schema` rewrites it).
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  buildSchema as buildSdl,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  isSpecifiedScalarType,
  type GraphQLInputType,
  type GraphQLOutputType,
  type GraphQLSchema,
} from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApiSchema, SCHEMA_FILE, schemaOnlyPubSub } from '../../src/http/build-schema';

const root = resolve(__dirname, '../..');
// The team's agreement lives beside the clone (shared/); a clone without it checks the copy
// in docs/contract, which another test keeps identical to the agreement whenever both exist.
const sharedContract = resolve(root, '../shared/contract/schema.graphql');
const vendoredContract = resolve(root, 'docs/contract/schema.graphql');
const contractPath = existsSync(sharedContract) ? sharedContract : vendoredContract;

/** Output: ours may be stricter (non-null where the contract allows null), never looser. */
function outputCompatible(contract: GraphQLOutputType, ours: GraphQLOutputType): boolean {
  if (isNonNullType(contract)) return isNonNullType(ours) && outputCompatible(contract.ofType, ours.ofType);
  if (isNonNullType(ours)) return outputCompatible(contract, ours.ofType);
  if (isListType(contract)) return isListType(ours) && outputCompatible(contract.ofType, ours.ofType);
  return !isListType(ours) && contract.name === ours.name;
}

/** Input: ours must accept whatever the contract accepts (nullable where the contract is). */
function inputCompatible(contract: GraphQLInputType, ours: GraphQLInputType): boolean {
  if (isNonNullType(ours)) return isNonNullType(contract) && inputCompatible(contract.ofType, ours.ofType);
  if (isNonNullType(contract)) return inputCompatible(contract.ofType, ours);
  if (isListType(contract)) return isListType(ours) && inputCompatible(contract.ofType, ours.ofType);
  return !isListType(ours) && contract.name === ours.name;
}

/** Every incompatibility of `ours` with `contract`, as readable lines. */
function contractProblems(contract: GraphQLSchema, ours: GraphQLSchema): string[] {
  const problems: string[] = [];
  for (const type of Object.values(contract.getTypeMap())) {
    if (type.name.startsWith('__') || isSpecifiedScalarType(type)) continue;
    const mine = ours.getType(type.name);
    if (!mine) {
      problems.push(`type ${type.name} is missing`);
      continue;
    }
    if (isScalarType(type) && !isScalarType(mine)) problems.push(`${type.name} is not a scalar`);
    if (isEnumType(type)) {
      if (!isEnumType(mine)) problems.push(`${type.name} is not an enum`);
      else for (const v of type.getValues()) if (!mine.getValue(v.name)) problems.push(`enum value ${type.name}.${v.name} is missing`);
    }
    if (isObjectType(type)) {
      if (!isObjectType(mine)) {
        problems.push(`${type.name} is not an object type`);
        continue;
      }
      const fields = mine.getFields();
      for (const field of Object.values(type.getFields())) {
        const our = fields[field.name];
        const at = `${type.name}.${field.name}`;
        if (!our) {
          problems.push(`field ${at} is missing`);
          continue;
        }
        if (!outputCompatible(field.type, our.type)) problems.push(`field ${at}: ${String(our.type)} is not compatible with ${String(field.type)}`);
        for (const arg of field.args) {
          const ourArg = our.args.find((a) => a.name === arg.name);
          if (!ourArg) problems.push(`argument ${at}(${arg.name}) is missing`);
          else if (!inputCompatible(arg.type, ourArg.type)) problems.push(`argument ${at}(${arg.name}): ${String(ourArg.type)} is not compatible with ${String(arg.type)}`);
          else if (arg.defaultValue !== ourArg.defaultValue) problems.push(`argument ${at}(${arg.name}) defaults to ${String(ourArg.defaultValue)}, not ${String(arg.defaultValue)}`);
        }
        for (const extra of our.args) {
          if (!field.args.some((a) => a.name === extra.name) && isNonNullType(extra.type) && extra.defaultValue === undefined) {
            problems.push(`argument ${at}(${extra.name}) is required but not in the contract`);
          }
        }
      }
    }
    if (isInputObjectType(type)) {
      if (!isInputObjectType(mine)) {
        problems.push(`${type.name} is not an input type`);
        continue;
      }
      const fields = mine.getFields();
      for (const field of Object.values(type.getFields())) {
        const our = fields[field.name];
        if (!our) problems.push(`input field ${type.name}.${field.name} is missing`);
        else if (!inputCompatible(field.type, our.type)) problems.push(`input field ${type.name}.${field.name}: ${String(our.type)} is not compatible with ${String(field.type)}`);
      }
      for (const extra of Object.values(fields)) {
        if (!type.getFields()[extra.name] && isNonNullType(extra.type) && extra.defaultValue === undefined) {
          problems.push(`input field ${type.name}.${extra.name} is required but not in the contract`);
        }
      }
    }
  }
  return problems;
}

let built: GraphQLSchema;
let emitted: string;

beforeAll(async () => {
  const path = join(await mkdtemp(join(tmpdir(), 'schema-')), 'schema.graphql');
  built = await buildApiSchema({ pubSub: schemaOnlyPubSub, emitSchemaFile: path });
  emitted = await readFile(path, 'utf8');
});

describe('the GraphQL schema', () => {
  it('matches the committed src/schema/schema.graphql (run `npm run schema` after changing types)', () => {
    expect(emitted).toBe(readFileSync(join(root, SCHEMA_FILE), 'utf8'));
  });

  it.skipIf(!existsSync(contractPath) && !process.env.CI)('offers everything the public contract names, with compatible types', () => {
    const contract = buildSdl(readFileSync(contractPath, 'utf8'));
    expect(contractProblems(contract, built)).toEqual([]);
  });

  it('the compatibility check itself catches a missing field, a looser type and a changed default', () => {
    const contract = buildSdl('type Query { a: Int!  b(first: Int = 20): [String!]!  c: String }');
    const ours = buildSdl('type Query { a: Int  b(first: Int = 10, extra: ID!): [String!]!  d: String }');
    expect(contractProblems(contract, ours)).toEqual([
      'field Query.a: Int is not compatible with Int!',
      'argument Query.b(first) defaults to 10, not 20',
      'argument Query.b(extra) is required but not in the contract',
      'field Query.c is missing',
    ]);
  });
});

describe('the contract copy in docs/contract', () => {
  it.runIf(existsSync(sharedContract))('is identical to the team agreement in shared/', () => {
    expect(readFileSync(vendoredContract, 'utf8')).toBe(readFileSync(sharedContract, 'utf8'));
  });
});
