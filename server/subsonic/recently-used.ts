/**
 * A Map as a cache of recent use: `key` becomes the most recent (Maps iterate in insertion order), and
 * the least recent entries go while there are more than `max`.
 */
export function keepRecent<V>(map: Map<string, V>, key: string, value: V, max = Infinity): V {
  map.delete(key);
  map.set(key, value);
  while (map.size > max) map.delete(map.keys().next().value!);
  return value;
}
