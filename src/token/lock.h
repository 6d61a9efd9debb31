/*
 * lock.h - the mutexes of the token core.
 *
 * PKCS#11 lets the application choose (C_Initialize, section 5.4): with
 * CKF_OS_LOCKING_OK coffer uses pthread mutexes; with only the four mutex
 * callbacks supplied it must use the application's; with neither, the
 * application promises not to call from several threads, and coffer still
 * uses pthread mutexes (cheap, and safer). The mode is chosen once per
 * C_Initialize by cf_lock_setup. Lock order: docs/locking.md.
 */
#ifndef CF_LOCK_H
#define CF_LOCK_H

#include "coffer/pkcs11.h"

struct cf_mutex;

/* Validates the C_Initialize arguments' locking part and selects the mode:
 * CKR_ARGUMENTS_BAD when only some callbacks are given. */
CK_RV cf_lock_setup(const CK_C_INITIALIZE_ARGS *args)
	__attribute__((warn_unused_result));

CK_RV cf_mutex_new(struct cf_mutex **out) __attribute__((warn_unused_result));
void cf_mutex_free(struct cf_mutex *m);
void cf_mutex_lock(struct cf_mutex *m);
void cf_mutex_unlock(struct cf_mutex *m);

#endif
