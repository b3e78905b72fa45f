/** The `teams` repository. */
import type { DocCollection, DocStore } from '../store/collection.ts';

export interface Team {
  id: string;
  name: string;
  createdAt: Date;
}

type TeamDoc = Omit<Team, 'id'> & { _id: string };

export interface TeamRepository {
  init(): Promise<void>;
  insert(team: Team): Promise<void>;
  /** Results in the order of `ids` (null where absent), for DataLoader. */
  findManyByIds(ids: readonly string[]): Promise<Array<Team | null>>;
}

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
      const byId = new Map(docs.map(({ _id, ...rest }) => [_id, { ...rest, id: _id }]));
      return ids.map((id) => byId.get(id) ?? null);
    },
  };
}
