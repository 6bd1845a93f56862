/** GitHub API limits the app honours, each next to the error it avoids. */

/** The app's check run name: branch protection rules refer to it. */
export const CHECK_NAME = 'asyncguard';

/** `per_page` maximum of the REST list endpoints. */
export const PER_PAGE = 100;

/** GitHub lists at most 3,000 files of a pull request; the rest are not reachable by the API. */
export const MAX_PULL_REQUEST_FILES = 3_000;

/** Annotations per check-run create/update request: GitHub silently drops the ones beyond 50. */
export const ANNOTATIONS_PER_REQUEST = 50;

/** Blobs read per GraphQL query (aliased `object(expression:)` fields) to stay far from node limits. */
export const FILES_PER_GRAPHQL_QUERY = 50;

/** GraphQL connections return at most 100 nodes a page (reviewThreads of a pull request). */
export const THREADS_PER_PAGE = 100;

/** Past this many threads a pull request is not a conversation any more; we stop reading. */
export const MAX_REVIEW_THREADS = 3_000;
