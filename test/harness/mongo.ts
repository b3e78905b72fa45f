/** Per-test MongoDB access: a store on a fresh database of the run's server, with command capture. */
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import type { CommandStartedEvent } from 'mongodb';
import { createMongoStore, type MongoStore } from '../../src/store/mongo.ts';

export interface TestMongo {
  store: MongoStore;
  uri: string;
  database: string;
  /** Every command the driver sent (command monitoring). */
  commands: CommandStartedEvent[];
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** The run's MongoDB URI (from the global setup). */
export const mongoUri = (): string => inject('mongoUri');
export const mongoKind = (): string => inject('mongoKind');

export async function createTestMongo(options: { sweepIntervalMs?: number } = {}): Promise<TestMongo> {
  const database = `t_${randomBytes(6).toString('hex')}`;
  const uri = mongoUri();
  const commands: CommandStartedEvent[] = [];
  const store = await createMongoStore({ uri, database, clientOptions: { monitorCommands: true }, ...(options.sweepIntervalMs && { sweepIntervalMs: options.sweepIntervalMs }) });
  store.client.on('commandStarted', (e) => commands.push(e));
  const close = async () => {
    await store.db.dropDatabase().catch(() => undefined);
    await store.close();
  };
  return { store, uri, database, commands, close, [Symbol.asyncDispose]: close };
}
