/* The pool behind fi_pool_run. One job at a time: a caller that finds the
 * pool busy (another Python thread filling) runs its job alone. After fork()
 * the child has none of the parent's threads, so it starts an empty pool. */
#define _GNU_SOURCE
#include "threadpool.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    pthread_mutex_t busy;   /* held by the caller whose job the pool runs */
    pthread_mutex_t lock;   /* guards the fields below */
    pthread_cond_t start;   /* a new job (generation changed) */
    pthread_cond_t done;    /* remaining reached 0 */
    int nworkers;
    unsigned long generation;
    fi_task task;
    void *arg;
    int nparts;     /* parts of the job */
    int pooled;     /* parts 1 .. pooled-1 run on workers */
    int remaining;
} pool_state;

static pool_state pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
                          PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0,
                          NULL, NULL, 0, 0, 0};
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
/* The generation current when worker w was created. A new worker may first get
 * the lock after its creator has already published the job it was created
 * for, so it must not take "now" as the job it has seen. */
static unsigned long born_at[FI_MAX_THREADS + 1];

static void reset_in_child(void)
{
    /* The parent's workers do not exist here and its locks may have been held
     * by threads that are gone: start from a fresh, empty pool. */
    pool_state fresh = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
                        PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0,
                        NULL, NULL, 0, 0, 0};
    memcpy(&pool, &fresh, sizeof pool);
}

static void register_atfork(void)
{
    pthread_atfork(NULL, NULL, reset_in_child);
}

/* Worker w runs part w of each job that has more than w parts. */
static void *worker_main(void *p)
{
    const int w = (int)(intptr_t)p;
    pthread_mutex_lock(&pool.lock);
    unsigned long seen = born_at[w];
    for (;;) {
        while (pool.generation == seen)
            pthread_cond_wait(&pool.start, &pool.lock);
        seen = pool.generation;
        if (w >= pool.pooled)
            continue;
        fi_task task = pool.task;
        void *arg = pool.arg;
        int nparts = pool.nparts;
        pthread_mutex_unlock(&pool.lock);
        task(arg, w, nparts);
        pthread_mutex_lock(&pool.lock);
        if (--pool.remaining == 0)
            pthread_cond_signal(&pool.done);
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
        born_at[pool.nworkers + 1] = pool.generation;
        int failed = pthread_create(&t, &attr, worker_main, (void *)(intptr_t)(pool.nworkers + 1));
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

void fi_pool_run(int nparts, fi_task task, void *arg)
{
    if (nparts <= 1 || pthread_mutex_trylock(&pool.busy) != 0) {
        run_alone(nparts < 1 ? 1 : nparts, task, arg);
        return;
    }
    pthread_once(&atfork_once, register_atfork);
    pthread_mutex_lock(&pool.lock);
    int helpers = grow(nparts - 1 < FI_MAX_THREADS ? nparts - 1 : FI_MAX_THREADS);
    /* Parts with no worker to run them are the caller's too. */
    int pooled = helpers + 1 < nparts ? helpers + 1 : nparts;
    pool.task = task;
    pool.arg = arg;
    pool.nparts = nparts;
    pool.pooled = pooled;
    pool.remaining = pooled - 1;
    pool.generation++;
    pthread_cond_broadcast(&pool.start);
    pthread_mutex_unlock(&pool.lock);

    task(arg, 0, nparts);
    for (int part = pooled; part < nparts; part++)
        task(arg, part, nparts);

    pthread_mutex_lock(&pool.lock);
    while (pool.remaining > 0)
        pthread_cond_wait(&pool.done, &pool.lock);
    pthread_mutex_unlock(&pool.lock);
    pthread_mutex_unlock(&pool.busy);
}
