import type { Task } from "graphile-worker";
import { z } from "zod";
import type { ListenImportsService } from "../../core/listens/listen-imports.service.ts";

const payloadSchema = z.object({ importId: z.uuid() });

/** Feeds one uploaded listen file through the listen sink (ListenImportsService.run), progress on its row. */
export function importListensTask(imports: ListenImportsService): Task {
  return async (payload, helpers) => {
    const parsed = payloadSchema.safeParse(payload);
    if (!parsed.success) return;
    await imports.run(parsed.data.importId, helpers.job.attempts >= helpers.job.max_attempts);
  };
}
