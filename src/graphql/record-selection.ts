import type { GraphQLResolveInfo, SelectionSetNode } from 'graphql';

/**
 * Does a `pfaRecords` selection ask for a PfaRecord field that needs the merged JSON document
 * (`data`) on any record of the page — under `nodes`, or `edges { node }`, through inline and
 * named fragments, whatever alias it goes by and whatever @skip/@include say (when in doubt: yes)?
 * Every other PfaRecord field is computed from the merged relation's typed columns, so a page
 * that does not ask for `data` is read without it (MirrorRepository.findPage `withData`).
 */
export function connectionSelectsRecordData(info: GraphQLResolveInfo): boolean {
  const fragments = info.fragments;
  const seen = new Set<string>();
  /** Fields named `name` at this level of `set` (fragments expanded), each one's own selection set. */
  const fieldsNamed = (
    set: SelectionSetNode | undefined,
    name: string,
    out: (SelectionSetNode | undefined)[],
  ) => {
    for (const sel of set?.selections ?? []) {
      if (sel.kind === 'Field') {
        if (sel.name.value === name) out.push(sel.selectionSet);
      } else if (sel.kind === 'InlineFragment') {
        fieldsNamed(sel.selectionSet, name, out);
      } else {
        const fragment = fragments[sel.name.value];
        // A spread of an unknown fragment cannot pass validation; be safe anyway.
        if (!fragment) out.push(undefined);
        else if (!seen.has(`${sel.name.value}/${name}`)) {
          seen.add(`${sel.name.value}/${name}`);
          fieldsNamed(fragment.selectionSet, name, out);
          seen.delete(`${sel.name.value}/${name}`);
        }
      }
    }
    return out;
  };
  const recordSets: (SelectionSetNode | undefined)[] = [];
  for (const node of info.fieldNodes) {
    fieldsNamed(node.selectionSet, 'nodes', recordSets);
    for (const edges of fieldsNamed(node.selectionSet, 'edges', [])) {
      if (!edges) return true;
      fieldsNamed(edges, 'node', recordSets);
    }
  }
  for (const set of recordSets) {
    if (!set) return true;
    if (fieldsNamed(set, 'data', []).length > 0) return true;
  }
  return false;
}
