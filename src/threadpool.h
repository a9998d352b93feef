/* A persistent pool of worker threads: fills reuse them instead of creating
 * threads per call. */
#ifndef FASTINIT_THREADPOOL_H
#define FASTINIT_THREADPOOL_H

/* Runs task(arg, part, nparts) once for every part in [0, nparts), on up to
 * nthreads threads (the caller's among them), and returns when all are
 * done. Threads take parts until none is left, so any thread may run any
 * part; if the pool is busy with another caller's job, or a worker cannot be
 * started, the caller runs them itself: the work is the same either way. */
typedef void (*fi_task)(void *arg, int part, int nparts);
void fi_pool_run(int nthreads, int nparts, fi_task task, void *arg);

/* The most threads the pool ever runs (fi_max_threads, fastinit.h, is the
 * number of CPUs up to this). */
#define FI_MAX_THREADS 1024

/* For tests: the workers the pool has, and how many times in all a worker has
 * looked at a new job (woken for it or found it while spinning). */
void fi_pool_counts(int *nworkers, unsigned long *nlooks);

/* For tests: the threads the last job was given (the caller and the workers it
 * woke; 1 where the caller ran it alone). */
int fi_pool_last_threads(void);

/* For tests only: makes fi_max_threads return n (1 .. FI_MAX_THREADS) in this
 * process from now on, so that a machine with few CPUs still tests fills split
 * over more threads than it has. Returns 0, or -1 (and changes nothing) for an n
 * out of range. A function rather than an environment variable: a test raises
 * the cap and restores it within one process, and users get no knob that
 * undoes the clamp. */
int fi_set_max_threads(int n);

#endif
