/*
 * futex.h - sleeping on a 32-bit word of one's own, without a mutex.
 *
 * A waiter sleeps while its word holds a value; whoever changes the word
 * wakes it. Unlike a condition variable, the waker needs no lock held by
 * the waiter, so it can wake after dropping its own lock (a wake-up can
 * cost tens of microseconds on a VM), and a wake of a word whose owner has
 * already gone is harmless: a private futex wake only hashes the address,
 * and every futex waiter tolerates a spurious wake-up. Linux only.
 */
#ifndef CF_FUTEX_H
#define CF_FUTEX_H

#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

/* Sleeps while *word is val, until deadline (CLOCK_MONOTONIC, absolute;
 * NULL: no deadline). Returns 0 when woken or the word changed, ETIMEDOUT
 * or EINTR; spurious returns happen, so callers look at the word again. */
int cf_futex_wait(_Atomic uint32_t *word, uint32_t val,
		  const struct timespec *deadline);

/* Wakes one thread sleeping on word. */
void cf_futex_wake(_Atomic uint32_t *word);

#endif
