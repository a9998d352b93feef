/* The pool behind fi_pool_run. One job at a time: a caller that finds the
 * pool busy (another Python thread filling) runs its job alone. After fork()
 * the child has none of the parent's threads, so it starts an empty pool.
 *
 * A job on n threads wakes workers 1 .. n-1 only, each on its own condition
 * variable, so after one fill on many threads the workers that later fills on
 * few leave out sleep until a job uses them again, instead of waking (and
 * spinning) for every fill.
 *
 * The caller and the workers take parts from a shared counter until none is
 * left, so a worker that starts late, or runs slowly on a CPU it shares with
 * another process, leaves its parts to the others instead of holding the
 * job up. The counter carries the job's generation, so that a worker still
 * busy with an old job can never take a part of the next one.
 *
 * Waking a thread that sleeps on a condition variable takes tens of
 * microseconds where an idle CPU is halted (measured 60-90 us on a 2-vCPU
 * VM, as long as a quarter of a 1 MiB fill), so a worker that finished, and a
 * caller waiting for its workers, first spin for a while (FI_SPIN_NS) and
 * only then sleep: back-to-back fills, such as the chunks of one large fill
 * or the tensors of a model, then find the workers awake. Only a worker that
 * ran the last job spins, and only while it is not on the caller's CPU: the
 * scheduler places a thread on an idle CPU when it wakes, so one that never
 * sleeps would stay wherever it happens to be, and beside the caller it would
 * take turns with it instead of running in parallel. */
#define _GNU_SOURCE
#include "baseline.h"

#include "threadpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FI_SPIN_NS 200000L

typedef struct {
    pthread_mutex_t busy;   /* held by the caller whose job the pool runs */
    pthread_mutex_t lock;   /* guards the fields below (changes to the atomic ones too) */
    pthread_cond_t done;    /* unfinished reached 0 */
    int nworkers;
    _Atomic unsigned long generation;  /* atomic: spinning workers read it unlocked */
    fi_task task;
    void *arg;
    int nparts;             /* parts of the job */
    int nthreads;           /* the caller and workers 1 .. nthreads-1 take parts */
    _Atomic uint64_t next;  /* generation << 32 | the next part nobody has taken */
    _Atomic int unfinished; /* parts not done yet; the caller spins on it */
    _Atomic int caller_cpu; /* where the caller of the last job ran */
} pool_state;

#define POOL_INITIALIZER {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, \
                          PTHREAD_COND_INITIALIZER, 0, 0, NULL, NULL, 0, 0, 0, 0, -1}

static pool_state pool = POOL_INITIALIZER;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
/* Worker w (1 .. nworkers): what wakes it for a job that uses it, and the
 * generation current when it was created. A new worker may first get the lock
 * after its creator has already published the job it was created for, so it
 * must not take "now" as the job it has seen. */
static struct {
    pthread_cond_t wake;
    unsigned long born_at;
} workers[FI_MAX_THREADS + 1];
/* Times a worker looked at a new job, used or not, and the threads the last job
 * was given (for tests). */
static _Atomic unsigned long looks;
static _Atomic int last_threads;

static void reset_in_child(void)
{
    /* The parent's workers do not exist here and its locks may have been held
     * by threads that are gone: start from a fresh, empty pool. */
    pool_state fresh = POOL_INITIALIZER;
    memcpy(&pool, &fresh, sizeof pool);
}

static void register_atfork(void)
{
    pthread_atfork(NULL, NULL, reset_in_child);
}

static int this_cpu(void)
{
#ifdef __linux__
    return sched_getcpu();
#else
    return -1;
#endif
}

static int beside_the_caller(void)
{
    int cpu = this_cpu();
    return cpu >= 0 && cpu == atomic_load_explicit(&pool.caller_cpu, memory_order_relaxed);
}

static long elapsed_ns(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - since->tv_sec) * 1000000000L + (now.tv_nsec - since->tv_nsec);
}

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Spins until a job newer than `seen` is published, FI_SPIN_NS pass or the
 * thread finds itself on the caller's CPU; returns whether one was. Yielding
 * between checks hands the CPU to a thread that still has a part to run when
 * there are more threads than CPUs. */
static int spin_for_job(unsigned long seen)
{
    struct timespec since;
    clock_gettime(CLOCK_MONOTONIC, &since);
    do {
        if (beside_the_caller())
            return 0;
        for (int i = 0; i < 64; i++) {
            if (atomic_load_explicit(&pool.generation, memory_order_acquire) != seen)
                return 1;
            cpu_relax();
        }
        sched_yield();
    } while (elapsed_ns(&since) < FI_SPIN_NS);
    return 0;
}

/* The same until every part is done. */
static int spin_for_parts(void)
{
    struct timespec since;
    clock_gettime(CLOCK_MONOTONIC, &since);
    do {
        for (int i = 0; i < 64; i++) {
            if (atomic_load_explicit(&pool.unfinished, memory_order_acquire) == 0)
                return 1;
            cpu_relax();
        }
        sched_yield();
    } while (elapsed_ns(&since) < FI_SPIN_NS);
    return 0;
}

/* Takes and runs parts of the job of generation `gen` until none is left. */
static void take_parts(unsigned long gen, fi_task task, void *arg, int nparts)
{
    const uint64_t tag = (uint64_t)(uint32_t)gen << 32;
    uint64_t next = atomic_load(&pool.next);
    for (;;) {
        if ((next & ~UINT64_C(0xffffffff)) != tag || (uint32_t)next >= (uint32_t)nparts)
            return;
        if (!atomic_compare_exchange_weak(&pool.next, &next, next + 1))
            continue;
        task(arg, (int)(uint32_t)next, nparts);
        if (atomic_fetch_sub(&pool.unfinished, 1) == 1) {
            pthread_mutex_lock(&pool.lock);
            pthread_cond_signal(&pool.done);
            pthread_mutex_unlock(&pool.lock);
        }
        next = atomic_load(&pool.next);
    }
}

/* Worker w takes parts of each job run on more than w threads. One that ran the
 * last job spins a while for the next; one that a job did not use sleeps until
 * a job that uses it signals it. */
static void *worker_main(void *p)
{
    const int w = (int)(intptr_t)p;
    pthread_mutex_lock(&pool.lock);
    unsigned long seen = workers[w].born_at;
    int ran_last = 0;
    for (;;) {  /* pool.lock is held here */
        if (atomic_load(&pool.generation) == seen && ran_last) {
            pthread_mutex_unlock(&pool.lock);
            spin_for_job(seen);
            pthread_mutex_lock(&pool.lock);
        }
        while (atomic_load(&pool.generation) == seen)
            pthread_cond_wait(&workers[w].wake, &pool.lock);
        seen = atomic_load(&pool.generation);
        atomic_fetch_add_explicit(&looks, 1, memory_order_relaxed);
        ran_last = w < pool.nthreads;
        if (!ran_last)
            continue;
        fi_task task = pool.task;
        void *arg = pool.arg;
        int nparts = pool.nparts;
        pthread_mutex_unlock(&pool.lock);
        take_parts(seen, task, arg, nparts);
        pthread_mutex_lock(&pool.lock);
    }
    return NULL;
}

/* Called with pool.lock held; returns how many workers exist afterwards. */
static int grow(int wanted)
{
    while (pool.nworkers < wanted) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        const int w = pool.nworkers + 1;
        pthread_cond_init(&workers[w].wake, NULL);
        workers[w].born_at = atomic_load(&pool.generation);
        int failed = pthread_create(&t, &attr, worker_main, (void *)(intptr_t)w);
        pthread_attr_destroy(&attr);
        if (failed)
            break;
        pool.nworkers++;
    }
    return pool.nworkers;
}

static void run_alone(int nparts, fi_task task, void *arg)
{
    for (int part = 0; part < nparts; part++)
        task(arg, part, nparts);
}

void fi_pool_run(int nthreads, int nparts, fi_task task, void *arg)
{
    if (nparts < 1)
        nparts = 1;
    if (nthreads > nparts)
        nthreads = nparts;
    if (nthreads <= 1 || pthread_mutex_trylock(&pool.busy) != 0) {
        atomic_store(&last_threads, 1);
        run_alone(nparts, task, arg);
        return;
    }
    pthread_once(&atfork_once, register_atfork);
    pthread_mutex_lock(&pool.lock);
    int helpers = grow(nthreads - 1 < FI_MAX_THREADS ? nthreads - 1 : FI_MAX_THREADS);
    const unsigned long gen = atomic_load(&pool.generation) + 1;
    pool.task = task;
    pool.arg = arg;
    pool.nparts = nparts;
    pool.nthreads = helpers + 1 < nthreads ? helpers + 1 : nthreads;
    atomic_store(&last_threads, pool.nthreads);
    atomic_store(&pool.caller_cpu, this_cpu());
    atomic_store(&pool.unfinished, nparts);
    atomic_store(&pool.next, (uint64_t)(uint32_t)gen << 32);
    atomic_store(&pool.generation, gen);
    for (int w = 1; w < pool.nthreads; w++)
        pthread_cond_signal(&workers[w].wake);
    pthread_mutex_unlock(&pool.lock);

    take_parts(gen, task, arg, nparts);

    if (!spin_for_parts()) {
        pthread_mutex_lock(&pool.lock);
        while (atomic_load(&pool.unfinished) > 0)
            pthread_cond_wait(&pool.done, &pool.lock);
        pthread_mutex_unlock(&pool.lock);
    }
    pthread_mutex_unlock(&pool.busy);
}

/* What fi_max_threads returns: the CPUs, counted at its first call, or what a
 * test set with fi_set_max_threads; 0 before either. */
static _Atomic int max_threads;

int fi_max_threads(void)
{
    int n = atomic_load(&max_threads);
    if (n == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        n = cpus < 1 ? 1 : cpus > FI_MAX_THREADS ? FI_MAX_THREADS : (int)cpus;
        atomic_store(&max_threads, n);
    }
    return n;
}

int fi_set_max_threads(int n)
{
    if (n < 1 || n > FI_MAX_THREADS)
        return -1;
    atomic_store(&max_threads, n);
    return 0;
}

void fi_pool_counts(int *nworkers, unsigned long *nlooks)
{
    pthread_mutex_lock(&pool.lock);
    *nworkers = pool.nworkers;
    pthread_mutex_unlock(&pool.lock);
    *nlooks = atomic_load(&looks);
}

int fi_pool_last_threads(void)
{
    return atomic_load(&last_threads);
}
