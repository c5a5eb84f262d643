import type { ResolvedPolicy, Subject, SubjectFacet } from '../contracts.js';
import type { DigestMemo } from '../cache/index.js';
import type { PipelineContext } from '../pipeline/provider-pipeline.js';
import { Deadline } from './deadline.js';
import type { DeadlineTimer } from './deadline-timer.js';

/**
 * What one evaluation shares with its providers' pipelines. It is made on every
 * request, warm ones included, so it holds plain fields: the facet digests in one slot
 * each rather than a Map, the deadline only once a pipeline asks for it (an answer from
 * cache or a synchronous local provider never does), and the clock readings that the
 * answers from cache share during the synchronous pass.
 */
export class Evaluation implements PipelineContext, DigestMemo {
  #deadline: Deadline | undefined;
  /** One slot per facet, all present from the start, so the object keeps one shape. */
  readonly #digests: Record<SubjectFacet, string | undefined> = {
    ip: undefined,
    email: undefined,
    username: undefined,
    content: undefined,
    userAgent: undefined,
    fields: undefined,
  };
  /** Still in the pass that asks every pipeline in turn (see `PipelineContext.cacheNow`). */
  #synchronous = true;
  #cacheNow: number | undefined;
  #cacheAnswerElapsedMs: number | undefined;

  constructor(
    readonly subject: Subject,
    readonly policy: ResolvedPolicy,
    readonly startedAt: number,
    private readonly now: () => number,
    private readonly timer: DeadlineTimer,
  ) {}

  get digests(): DigestMemo {
    return this;
  }

  get deadline(): Deadline {
    this.#deadline ??= new Deadline(this.policy.budgetMs, this.startedAt, this.now, this.timer);
    return this.#deadline;
  }

  cacheNow(cache: { now(): number }): number {
    if (!this.#synchronous) return cache.now();
    this.#cacheNow ??= cache.now();
    return this.#cacheNow;
  }

  cacheAnswerElapsedMs(): number {
    if (!this.#synchronous) return this.now() - this.startedAt;
    this.#cacheAnswerElapsedMs ??= this.now() - this.startedAt;
    return this.#cacheAnswerElapsedMs;
  }

  /** Every pipeline has been asked: clocks are read fresh from here on. */
  endSynchronousPass(): void {
    this.#synchronous = false;
  }

  /** Stops the deadline's timer, if one was made. */
  dispose(): void {
    this.#deadline?.dispose();
  }

  get(facet: SubjectFacet): string | undefined {
    return this.#digests[facet];
  }

  set(facet: SubjectFacet, digest: string): void {
    this.#digests[facet] = digest;
  }
}
