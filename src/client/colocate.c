/*
 * colocate.c - the opt-in `cpu` setting (docs/client.md, "Latency"): a call
 * that is the only one in flight runs on the configured CPU, the one
 * cofferd is pinned to (CPUAffinity= in its unit). A blocking hand-off
 * between two threads of one CPU needs no wake-up of an idle CPU, which on
 * a VM costs most of a round trip.
 *
 * The calling thread's own affinity is read before and put back after
 * every call, so the application's settings are never lost, and a thread
 * the application keeps off that CPU is left where it is. Once calls of
 * several threads overlapped, nothing is pinned until the next
 * connection: they would only take turns on the one CPU, and cofferd
 * widens the connection's worker then too.
 */
#include "client/client.h"

#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#include "common/log.h"

/* Calls under way in this process with the setting on, pinned or not. */
static atomic_uint calls;
/* Calls overlapped since the connection was made: cofferd then serves it
 * on all its CPUs (docs/cofferd.md), and pinning a lone call to one of
 * them would gain nothing. */
static atomic_bool overlapped;

void cf_colocate_reset(void)
{
	atomic_store(&overlapped, false);
}

void cf_colocate_enter(int cpu, struct cf_colocate *st)
{
	cpu_set_t one;

	st->pinned = false;
	st->counted = cpu >= 0;
	if (!st->counted)
		return;
	if (atomic_fetch_add(&calls, 1) != 0)
		atomic_store(&overlapped, true);
	if (atomic_load(&overlapped))
		return;
	if (sched_getaffinity(0, sizeof(st->orig), &st->orig) != 0 ||
	    !CPU_ISSET(cpu, &st->orig) || CPU_COUNT(&st->orig) == 1)
		return;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	st->pinned = sched_setaffinity(0, sizeof(one), &one) == 0;
}

void cf_colocate_leave(struct cf_colocate *st)
{
	if (st->counted)
		atomic_fetch_sub(&calls, 1);
	if (st->pinned && sched_setaffinity(0, sizeof(st->orig), &st->orig) != 0)
		cf_error("coffer-client: cannot give the thread its CPU "
			 "affinity back: %s",
			 strerror(errno));
	st->pinned = false;
}
