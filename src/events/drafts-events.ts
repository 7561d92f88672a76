import type { DraftView } from '../domain/draft.js';
import type { Actor } from '../repositories/drafts.repository.js';
import { DraftsService } from '../services/drafts.service.js';
import type { EventBus } from './bus.js';

/**
 * The draft use cases, each followed (after its transaction returned, never inside it) by a
 * `draftsChanged` event for the session it changed. Commits and resolutions also publish
 * `kpiChanged`, through the AfterCommit hook (src/services.ts).
 */
export class PublishingDraftsService extends DraftsService {
  constructor(events: EventBus, ...args: ConstructorParameters<typeof DraftsService>) {
    super(...args);
    this.events = events;
  }

  private readonly events: EventBus;

  private changed(organizationId: string, sessionId: string, reason: string): void {
    void this.events.publish({ type: 'draftsChanged', organizationId, sessionId, reason });
  }

  override async edit(...args: Parameters<DraftsService['edit']>): ReturnType<DraftsService['edit']> {
    const result = await super.edit(...args);
    this.changed(args[0].organizationId, args[0].sessionId, 'edit');
    return result;
  }

  override async bulkEdit(actor: Actor, ...rest: DropFirst<Parameters<DraftsService['bulkEdit']>>) {
    const result = await super.bulkEdit(actor, ...rest);
    if (result.affectedCount > 0) this.changed(actor.organizationId, actor.sessionId, 'bulkEdit');
    return result;
  }

  override async commit(actor: Actor, ...rest: DropFirst<Parameters<DraftsService['commit']>>) {
    const result = await super.commit(actor, ...rest);
    this.changed(actor.organizationId, actor.sessionId, 'commit');
    return result;
  }

  override async discard(actor: Actor, ...rest: DropFirst<Parameters<DraftsService['discard']>>) {
    const result = await super.discard(actor, ...rest);
    if (result.length) this.changed(actor.organizationId, actor.sessionId, 'discard');
    return result;
  }

  override async resolve(draft: DraftView, ...rest: DropFirst<Parameters<DraftsService['resolve']>>) {
    const result = await super.resolve(draft, ...rest);
    this.changed(draft.organizationId, draft.sessionId, 'resolve');
    return result;
  }
}

type DropFirst<T extends unknown[]> = T extends [unknown, ...infer R] ? R : never;
