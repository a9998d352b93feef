#define _POSIX_C_SOURCE 199309L /* nanosleep */
/* Checks of the thread pool that need no clock; test_threads.py runs them.
 * Usage: pool_check grow|clamp|wake. Prints "ok", or what went wrong and exits 1.
 *  grow:  jobs on 2, 3, ..., 32 threads, each starting new workers, run every
 *         part exactly once (a new worker must join the job it was started for);
 *  clamp: a fill asked for 64 threads starts at most fi_max_threads() - 1
 *         workers (and prints "max_threads N");
 *  wake:  after a job on 16 threads, jobs on 2 threads are looked at by worker 1
 *         only: the 14 workers they do not use sleep instead of waking (and
 *         spinning) for every job. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fastinit.h"
#include "threadpool.h"

#define MAX_PARTS 256
static _Atomic int runs[MAX_PARTS];

static void count_part(void *arg, int part, int nparts)
{
    (void)arg;
    (void)nparts;
    atomic_fetch_add(&runs[part], 1);
}

/* Long enough that a worker woken for a job gets to look at it before it ends. */
static void count_part_slowly(void *arg, int part, int nparts)
{
    struct timespec half_ms = {0, 500000};
    nanosleep(&half_ms, NULL);
    count_part(arg, part, nparts);
}

static int each_part_once(int nthreads, int nparts, fi_task task)
{
    memset(runs, 0, sizeof runs);
    fi_pool_run(nthreads, nparts, task, NULL);
    for (int p = 0; p < nparts; p++)
        if (atomic_load(&runs[p]) != 1) {
            printf("a job on %d threads ran part %d of %d %d times\n", nthreads, p, nparts,
                   atomic_load(&runs[p]));
            return 0;
        }
    return 1;
}

static int grow(void)
{
    for (int t = 2; t <= 32; t++)
        if (!each_part_once(t, 4 * t, count_part))
            return 0;
    return 1;
}

static int clamp(void)
{
    const size_t n = (size_t)64 << 16;  /* 16 MiB of float32: work for 64 threads */
    float *buf = malloc(n * sizeof *buf);
    fi_dist d;
    fi_region r;
    memset(&r, 0, sizeof r);
    fi_dist_init(&d, 1, 2, FI_UNIFORM, FI_FLOAT32, 0.0, 1.0, 0.0);
    r.ndim = 1;
    r.count[0] = n;
    r.logical_stride[0] = 1;
    r.byte_stride[0] = sizeof *buf;
    r.base = (char *)buf;
    fi_fill_region(&d, &r, 0, n, 64);
    free(buf);
    int workers;
    unsigned long looks;
    fi_pool_counts(&workers, &looks);
    printf("max_threads %d\n", fi_max_threads());
    if (workers <= fi_max_threads() - 1)
        return 1;
    printf("a fill on 64 threads left %d workers; at most %d expected\n", workers,
           fi_max_threads() - 1);
    return 0;
}

static int wake(void)
{
    int workers;
    unsigned long before = 0, after;
    if (!each_part_once(16, 64, count_part))
        return 0;
    for (int job = 0; job < 20; job++) {
        if (job == 10)  /* by now every worker that jobs on 2 threads leave out sleeps */
            fi_pool_counts(&workers, &before);
        if (!each_part_once(2, 8, count_part_slowly))
            return 0;
    }
    fi_pool_counts(&workers, &after);
    if (after - before <= 10)
        return 1;
    printf("10 jobs on 2 threads were looked at %lu times by %d workers; at most 10 "
           "(worker 1) expected\n", after - before, workers);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct { const char *name; int (*check)(void); } checks[] = {
        {"grow", grow}, {"clamp", clamp}, {"wake", wake}};
    for (size_t i = 0; argc == 2 && i < sizeof checks / sizeof checks[0]; i++)
        if (strcmp(argv[1], checks[i].name) == 0) {
            if (!checks[i].check())
                return 1;
            printf("ok\n");
            return 0;
        }
    fprintf(stderr, "usage: pool_check grow|clamp|wake\n");
    return 2;
}
