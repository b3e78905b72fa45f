/**
 * DocStore over the official MongoDB driver. Plain MongoDB code that also runs on FerretDB:
 * where the server lacks TTL indexes, a periodic sweeper deletes expired documents; update
 * batches are sent in commands of at most 50 updates.
 */
import { MongoBulkWriteError, MongoClient, MongoServerError, type AnyBulkWriteOperation, type Collection, type Db, type MongoClientOptions } from 'mongodb';
import { TransientStoreError, type Doc, type DocCollection, type DocStore, type Filter, type FindOptions, type IndexSpec, type InsertManyResult } from './collection.ts';

export interface MongoStoreOptions {
  uri: string;
  /** Database name; defaults to the one in the URI, else "switchyard". */
  database?: string;
  /** Extra driver options (tests use monitorCommands). */
  clientOptions?: MongoClientOptions;
  /** Called when a TTL index is emulated by the sweeper (the server lacks TTL indexes). */
  onNotice?: (message: string) => void;
  /** How often emulated TTL indexes sweep, ms. */
  sweepIntervalMs?: number;
}

export interface MongoStore extends DocStore {
  readonly client: MongoClient;
  readonly db: Db;
}

const UPDATE_CHUNK = 50;
const NOT_IMPLEMENTED = 238;

export async function createMongoStore(o: MongoStoreOptions): Promise<MongoStore> {
  const client = new MongoClient(o.uri, {
    // Documents may carry undefined for absent optional fields: store nothing, not null.
    ignoreUndefined: true,
    serverSelectionTimeoutMS: 5_000,
    connectTimeoutMS: 5_000,
    ...o.clientOptions,
  });
  await client.connect();
  const db = client.db(o.database ?? (dbNameFromUri(o.uri) || 'switchyard'));
  const sweepers: NodeJS.Timeout[] = [];

  function wrap<T extends object>(col: Collection<Doc>): DocCollection<T> {
    const c: DocCollection<Doc> = {
      name: col.collectionName,
      async insertMany(docs) {
        if (!docs.length) return { insertedCount: 0, errors: [] };
        try {
          const res = await col.insertMany(docs, { ordered: false });
          return { insertedCount: res.insertedCount, errors: [] };
        } catch (err) {
          if (err instanceof MongoBulkWriteError) {
            const writeErrors = (Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors]).filter(Boolean);
            // A bulk error that does not account for every document (a connection reset, an
            // interrupted batch) is not a per-document answer: the caller must retry the batch.
            if (!writeErrors.length || err.insertedCount + writeErrors.length < docs.length) {
              throw new TransientStoreError(`insertMany into ${col.collectionName} was interrupted: ${err.message}`, { cause: err });
            }
            const errors: InsertManyResult['errors'] = writeErrors.map((e) => ({ index: e.index, duplicate: e.code === 11000, message: e.errmsg ?? String(e.code) }));
            return { insertedCount: err.insertedCount, errors };
          }
          throw err;
        }
      },
      async find(filter, options: FindOptions = {}) {
        const cursor = col.find(filter, {
          ...(options.sort && { sort: options.sort }),
          ...(options.limit && { limit: options.limit }),
          ...(options.projection && { projection: options.projection }),
          ...(options.maxTimeMS && { maxTimeMS: options.maxTimeMS }),
        });
        return cursor.toArray();
      },
      async findOne(filter, options = {}) {
        return col.findOne(filter, {
          ...(options.sort && { sort: options.sort }),
          ...(options.projection && { projection: options.projection }),
          ...(options.maxTimeMS && { maxTimeMS: options.maxTimeMS }),
        });
      },
      async updateOne(filter, update, options = {}) {
        const res = await col.updateOne(filter, update, { upsert: options.upsert ?? false });
        return { matched: res.matchedCount, upserted: res.upsertedCount > 0 };
      },
      async bulkUpdate(ops) {
        let matched = 0;
        // Small commands: FerretDB hangs on update commands matching 100 or more documents.
        for (let i = 0; i < ops.length; i += UPDATE_CHUNK) {
          const chunk: AnyBulkWriteOperation<Doc>[] = ops.slice(i, i + UPDATE_CHUNK).map((op) => ({ updateOne: { filter: op.filter, update: op.update } }));
          matched += (await col.bulkWrite(chunk, { ordered: false })).matchedCount;
        }
        return { matched };
      },
      async aggregate<R>(pipeline: Doc[], options: { maxTimeMS?: number } = {}) {
        return col.aggregate<R & Doc>(pipeline, options.maxTimeMS ? { maxTimeMS: options.maxTimeMS } : {}).toArray() as Promise<R[]>;
      },
      async countDocuments(filter, options = {}) {
        return col.countDocuments(filter, options.maxTimeMS ? { maxTimeMS: options.maxTimeMS } : {});
      },
      async deleteMany(filter: Filter) {
        return (await col.deleteMany(filter)).deletedCount;
      },
      async createIndexes(specs: IndexSpec[]) {
        for (const spec of specs) {
          const options = {
            name: spec.name,
            ...(spec.unique && { unique: true }),
            ...(spec.sparse && { sparse: true }),
            ...(spec.expireAfterSeconds !== undefined && { expireAfterSeconds: spec.expireAfterSeconds }),
          };
          try {
            await col.createIndex(spec.key, options);
          } catch (err) {
            if (spec.expireAfterSeconds !== undefined && err instanceof MongoServerError && err.code === NOT_IMPLEMENTED) {
              startSweeper(col, spec);
              continue;
            }
            throw err;
          }
        }
      },
    };
    return c as unknown as DocCollection<T>;
  }

  /** Emulates a TTL index with a periodic deleteMany (servers such as FerretDB lack TTL indexes). */
  function startSweeper(col: Collection<Doc>, spec: IndexSpec): void {
    const field = Object.keys(spec.key)[0]!;
    const ttlMs = spec.expireAfterSeconds! * 1000;
    o.onNotice?.(`TTL index ${spec.name} on ${col.collectionName}.${field} is not supported by this server; expiring documents with a periodic sweep`);
    // One sweep at a time: on a slow server a sweep can outlast the interval.
    let running = false;
    const sweep = () => {
      if (running) return;
      running = true;
      col
        .deleteMany({ [field]: { $lt: new Date(Date.now() - ttlMs) } })
        .catch(() => undefined)
        .finally(() => {
          running = false;
        });
    };
    sweep();
    const t = setInterval(sweep, o.sweepIntervalMs ?? 60_000);
    t.unref();
    sweepers.push(t);
  }

  const cache = new Map<string, DocCollection<Doc>>();
  return {
    kind: 'mongodb',
    client,
    db,
    collection<T extends object>(name: string): DocCollection<T> {
      let c = cache.get(name);
      if (!c) {
        c = wrap<Doc>(db.collection<Doc>(name));
        cache.set(name, c);
      }
      return c as unknown as DocCollection<T>;
    },
    async ping() {
      await db.command({ ping: 1 });
    },
    async close() {
      for (const t of sweepers) clearInterval(t);
      await client.close();
    },
  };
}

function dbNameFromUri(uri: string): string | undefined {
  const m = /^mongodb(?:\+srv)?:\/\/[^/]+\/([^?]+)/.exec(uri);
  return m?.[1] ? decodeURIComponent(m[1]) : undefined;
}
