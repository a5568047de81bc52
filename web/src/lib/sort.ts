export type Direction = "ascending" | "descending";

export interface SortState<K extends string> {
  key: K;
  direction: Direction;
}

export function toggleSort<K extends string>(state: SortState<K>, key: K): SortState<K> {
  if (state.key === key) return { key, direction: state.direction === "ascending" ? "descending" : "ascending" };
  return { key, direction: "ascending" };
}

export function sortBy<T, K extends string>(rows: T[], state: SortState<K>, value: (row: T, key: K) => string | number): T[] {
  const sign = state.direction === "ascending" ? 1 : -1;
  return [...rows].sort((a, b) => {
    const x = value(a, state.key);
    const y = value(b, state.key);
    if (x < y) return -sign;
    if (x > y) return sign;
    return 0;
  });
}
