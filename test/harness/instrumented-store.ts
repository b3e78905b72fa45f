/**
 * A DocStore wrapper that records every call the application makes on it: the in-process
 * equivalent of the MongoDB driver's command monitoring (`commandStarted`), for stores that send
 * no commands (the embedded one). Each call is logged when it starts, in order, with the
 * collection, the method and the filter it was given, then forwarded unchanged.
 *
 *   const store = instrumentStore(createEmbeddedStore());
 *   const app = await createTestApp(config, { store });
 *   store.calls.length = 0;
 *   // ... exercise the app ...
 *   expect(store.calls.map((c) => `${c.method} ${c.collection}`)).toEqual(['find usage_rollups']);
 *
 * Filters, pipelines and options are copied (structuredClone) when logged, so a later mutation by
 * the caller cannot rewrite history; documents handed to `insertMany` and the operations of
 * `bulkUpdate` are only counted (a write path can pass hundreds of thousands of them).
 */
import type { Doc, DocCollection, DocStore, Filter, FindOptions, IndexSpec, UpdateOneOptions } from '../../src/store/collection.ts';

export type StoreMethod = Exclude<keyof DocCollection, 'name'>;

export interface StoreCall {
  /** Collection name; `null` for store-level calls (`ping`, `close`). */
  collection: string | null;
  method: StoreMethod | 'ping' | 'close';
  /** The filter (find, findOne, updateOne, countDocuments, deleteMany). */
  filter?: Filter;
  /** Options as given (find, findOne, updateOne, aggregate, countDocuments). */
  options?: FindOptions | UpdateOneOptions | { maxTimeMS?: number };
  /** The update document (updateOne). */
  update?: Doc;
  /** The pipeline (aggregate). */
  pipeline?: Doc[];
  /** Index specs (createIndexes). */
  indexes?: IndexSpec[];
  /** Documents (insertMany) or operations (bulkUpdate) in the call. */
  count?: number;
  /** performance.now() when the call started. */
  at: number;
}

export interface InstrumentedStore extends DocStore {
  /** Every call so far, oldest first. Clear it with `calls.length = 0`. */
  readonly calls: StoreCall[];
  /** The wrapped store, for access that must not show up in `calls` (seeding, read-back). */
  readonly inner: DocStore;
}

const copy = <T>(v: T): T => structuredClone(v);

export function instrumentStore(inner: DocStore): InstrumentedStore {
  const calls: StoreCall[] = [];
  const wrapped = new Map<string, DocCollection<object>>();
  const log = (call: Omit<StoreCall, 'at'>) => void calls.push({ ...call, at: performance.now() });

  function wrap<T extends object>(name: string): DocCollection<T> {
    const c = inner.collection<T>(name);
    return {
      get name() {
        return c.name;
      },
      insertMany(docs) {
        log({ collection: name, method: 'insertMany', count: docs.length });
        return c.insertMany(docs);
      },
      find(filter, options) {
        log({ collection: name, method: 'find', filter: copy(filter), ...(options && { options: copy(options) }) });
        return c.find(filter, options);
      },
      findOne(filter, options) {
        log({ collection: name, method: 'findOne', filter: copy(filter), ...(options && { options: copy(options) }) });
        return c.findOne(filter, options);
      },
      updateOne(filter, update, options) {
        log({ collection: name, method: 'updateOne', filter: copy(filter), update: copy(update), ...(options && { options: copy(options) }) });
        return c.updateOne(filter, update, options);
      },
      bulkUpdate(ops) {
        log({ collection: name, method: 'bulkUpdate', count: ops.length });
        return c.bulkUpdate(ops);
      },
      aggregate<R = Doc>(pipeline: Doc[], options?: { maxTimeMS?: number }) {
        log({ collection: name, method: 'aggregate', pipeline: copy(pipeline), ...(options && { options: copy(options) }) });
        return c.aggregate<R>(pipeline, options);
      },
      countDocuments(filter, options) {
        log({ collection: name, method: 'countDocuments', filter: copy(filter), ...(options && { options: copy(options) }) });
        return c.countDocuments(filter, options);
      },
      deleteMany(filter) {
        log({ collection: name, method: 'deleteMany', filter: copy(filter) });
        return c.deleteMany(filter);
      },
      createIndexes(specs) {
        log({ collection: name, method: 'createIndexes', indexes: copy(specs) });
        return c.createIndexes(specs);
      },
    };
  }

  return {
    kind: inner.kind,
    calls,
    inner,
    collection<T extends object = Doc>(name: string): DocCollection<T> {
      let c = wrapped.get(name);
      if (!c) wrapped.set(name, (c = wrap<object>(name)));
      return c as DocCollection<T>;
    },
    ping() {
      log({ collection: null, method: 'ping' });
      return inner.ping();
    },
    close() {
      log({ collection: null, method: 'close' });
      return inner.close();
    },
  };
}
