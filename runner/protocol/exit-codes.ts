/**
 * Exit codes, gunicorn's numbering where it has one: the arbiter's, which tools that start it
 * (the editor, scripts) read, and the workers', which the arbiter reads. The Python runtime
 * uses the same numbers (runner/python/arbiter_worker/main.py).
 */
export const EXIT = {
  OK: 0,
  /** Stopped by the third Ctrl+C: workers were killed, hooks may not have run. */
  KILLED: 1,
  USAGE: 2,
  /** The first generation's workers could not boot. */
  BOOT_ERROR: 3,
  /** The app could not be loaded (threw at import, syntax error): the arbiter's, and a worker's. */
  APP_LOAD_ERROR: 4,
  /** `arbiter drill` found something lost or left open (its report says what). */
  DRILL_FOUND: 1,
  /** A bug in the arbiter itself. */
  INTERNAL: 70,
} as const;
