/**
 * Reviews run after the webhook is answered (GitHub gives a delivery 10 s), one at a time per
 * pull request and a bounded number at once overall. Serialising per pull request is what keeps
 * a redelivered or concurrent webhook from posting the same comment twice: the later job reads
 * back what the earlier one posted.
 */
export interface ReviewJob {
  /** One pull request: `owner/repo#number`. Jobs with the same key never overlap. */
  key: string;
  /** Identity of the work: a job already waiting or running with the same id is not added again. */
  id: string;
  /** The head commit the job reviews. */
  headSha: string;
  /**
   * A push: it becomes the pull request's latest head, superseding the jobs for older heads.
   * A re-run of some commit's check does not move the head.
   */
  push: boolean;
  run(progress: JobProgress): Promise<void>;
}

/** What a running job may ask the queue. */
export interface JobProgress {
  /** The head SHA of a newer push to the same pull request, once one was queued; else null. */
  supersededBy(): string | null;
}

export interface QueueLogger {
  error(details: object, message: string): void;
  info(details: object, message: string): void;
}

export class ReviewQueue {
  readonly #concurrency: number;
  readonly #log: QueueLogger;
  /** Per key, the tail of its chain of jobs. */
  readonly #tails = new Map<string, Promise<void>>();
  readonly #pending = new Set<string>();
  #running = 0;
  readonly #waiting: (() => void)[] = [];
  readonly #all = new Set<Promise<void>>();
  /** Per key, the head of the latest push queued while the key has work. */
  readonly #latestHead = new Map<string, string>();

  constructor(concurrency: number, log: QueueLogger) {
    this.#concurrency = Math.max(1, concurrency);
    this.#log = log;
  }

  /** False when the same job is already waiting or running. */
  enqueue(job: ReviewJob): boolean {
    const identity = `${job.key}\u0000${job.id}`;
    if (this.#pending.has(identity)) {
      this.#log.info({ key: job.key, job: job.id }, 'same review already queued; not queued again');
      return false;
    }
    this.#pending.add(identity);
    if (job.push) this.#latestHead.set(job.key, job.headSha);
    const progress: JobProgress = {
      supersededBy: () => {
        const latest = this.#latestHead.get(job.key);
        return latest !== undefined && latest !== job.headSha ? latest : null;
      },
    };
    const previous = this.#tails.get(job.key) ?? Promise.resolve();
    const done = previous.then(() => this.#execute(job, progress)).finally(() => {
      this.#pending.delete(identity);
      if (this.#tails.get(job.key) === done) {
        this.#tails.delete(job.key);
        this.#latestHead.delete(job.key);
      }
      this.#all.delete(done);
    });
    this.#tails.set(job.key, done);
    this.#all.add(done);
    return true;
  }

  /** Resolves when every queued job has finished (tests, graceful shutdown). */
  async idle(): Promise<void> {
    while (this.#all.size > 0) await Promise.all([...this.#all]);
  }

  async #execute(job: ReviewJob, progress: JobProgress): Promise<void> {
    const newer = progress.supersededBy();
    if (newer) {
      // Never started: the newer push's review covers this head's changes too.
      this.#log.info({ key: job.key, job: job.id, newer }, 'superseded by a newer push before it started; skipped');
      return;
    }
    await this.#acquire();
    try {
      await job.run(progress);
    } catch (error) {
      this.#log.error({ err: error, key: job.key, job: job.id }, 'review failed');
    } finally {
      this.#release();
    }
  }

  async #acquire(): Promise<void> {
    if (this.#running < this.#concurrency) {
      this.#running++;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#running--;
  }
}
