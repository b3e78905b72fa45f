/** The `teams` repository. */
import type { DocCollection, DocStore } from '../store/collection.ts';
import type { BudgetConfig, LimitsConfig } from './policy.ts';

export interface Team extends LimitsConfig {
  id: string;
  name: string;
  /** Model allow-list patterns; null = every model. */
  models: string[] | null;
  budget: BudgetConfig | null;
  /** Guardrail policies applied to the team's requests (names from config); null = none. */
  guardrails?: string[] | null;
  createdAt: Date;
}

type TeamDoc = Omit<Team, 'id'> & { _id: string };

export interface TeamRepository {
  init(): Promise<void>;
  insert(team: Team): Promise<void>;
  /** Results in the order of `ids` (null where absent), for DataLoader. */
  findManyByIds(ids: readonly string[]): Promise<Array<Team | null>>;
  findById(id: string): Promise<Team | null>;
  findAll(limit?: number): Promise<Team[]>;
  update(id: string, patch: Partial<Pick<Team, 'name' | 'models' | 'rpm' | 'tpm' | 'budget' | 'guardrails'>>): Promise<Team | null>;
}

const fromDoc = ({ _id, ...rest }: TeamDoc): Team => ({ ...rest, id: _id });

export function createTeamRepository(store: DocStore): TeamRepository {
  const col: DocCollection<TeamDoc> = store.collection<TeamDoc>('teams');
  return {
    async init() {},
    async insert(team) {
      const { id, ...rest } = team;
      const res = await col.insertMany([{ _id: id, ...rest }]);
      if (res.errors.length) throw new Error(res.errors[0]!.message);
    },
    async findManyByIds(ids) {
      const docs = await col.find({ _id: { $in: [...new Set(ids)] } }, { maxTimeMS: 5_000 });
      const byId = new Map(docs.map((d) => [d._id, fromDoc(d)]));
      return ids.map((id) => byId.get(id) ?? null);
    },
    async findById(id) {
      const d = await col.findOne({ _id: id }, { maxTimeMS: 5_000 });
      return d ? fromDoc(d) : null;
    },
    async findAll(limit = 100_000) {
      return (await col.find({}, { sort: { name: 1 }, limit, maxTimeMS: 30_000 })).map(fromDoc);
    },
    async update(id, patch) {
      const set: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(patch)) if (v !== undefined) set[k] = v;
      if (Object.keys(set).length) await col.updateOne({ _id: id }, { $set: set });
      return this.findById(id);
    },
  };
}
