import type { User } from "../accounts/user.entity.ts";
import type { Library, Privacy } from "./library.entity.ts";

/**
 * Who may see a library's content: its owner always; any signed-in local user for `instance`;
 * anyone for `public`. Everything else answers as if the library did not exist. A remote library (no
 * owner) is `private`: none of these.
 */
export function canSeeLibrary(viewer: User | undefined, library: Pick<Library, "privacy"> & { owner?: { id: string } | null }): boolean {
  if (viewer && library.owner?.id === viewer.id) return true;
  return visiblePrivacies(viewer).includes(library.privacy);
}

export function visiblePrivacies(viewer: User | undefined): Privacy[] {
  return viewer ? ["instance", "public"] : ["public"];
}

/**
 * SQL condition on a library alias that keeps only the libraries `viewer` may see; `$n` is the
 * viewer's id parameter (null for anonymous).
 */
export function visibleLibrariesSql(alias: string, viewerParam: string): string {
  return `(${alias}.owner_id = ${viewerParam}::uuid OR ${alias}.privacy = 'public'
           OR (${viewerParam}::uuid IS NOT NULL AND ${alias}.privacy = 'instance'))`;
}
