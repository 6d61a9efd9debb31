/* lock.c - see lock.h. */
#include "token/lock.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "common/log.h"

struct cf_mutex {
	pthread_mutex_t pm;
	void *app; /* the application's mutex, when its callbacks are used */
};

static CK_CREATEMUTEX app_create;
static CK_DESTROYMUTEX app_destroy;
static CK_LOCKMUTEX app_lock;
static CK_UNLOCKMUTEX app_unlock;
static bool use_app;

CK_RV cf_lock_setup(const CK_C_INITIALIZE_ARGS *args)
{
	int given;

	use_app = false;
	if (args == NULL)
		return CKR_OK;
	given = (args->CreateMutex != NULL) + (args->DestroyMutex != NULL) +
		(args->LockMutex != NULL) + (args->UnlockMutex != NULL);
	if (given != 0 && given != 4)
		return CKR_ARGUMENTS_BAD;
	if (given == 4 && !(args->flags & CKF_OS_LOCKING_OK)) {
		app_create = args->CreateMutex;
		app_destroy = args->DestroyMutex;
		app_lock = args->LockMutex;
		app_unlock = args->UnlockMutex;
		use_app = true;
	}
	return CKR_OK;
}

CK_RV cf_mutex_new(struct cf_mutex **out)
{
	struct cf_mutex *m = calloc(1, sizeof(*m));

	*out = NULL;
	if (m == NULL)
		return CKR_HOST_MEMORY;
	if (use_app) {
		CK_RV rv = app_create(&m->app);
		if (rv != CKR_OK) {
			free(m);
			return rv;
		}
	} else if (pthread_mutex_init(&m->pm, NULL) != 0) {
		free(m);
		return CKR_CANT_LOCK;
	}
	*out = m;
	return CKR_OK;
}

void cf_mutex_free(struct cf_mutex *m)
{
	if (m == NULL)
		return;
	if (m->app != NULL)
		(void)app_destroy(m->app);
	else
		pthread_mutex_destroy(&m->pm);
	free(m);
}

void cf_mutex_lock(struct cf_mutex *m)
{
	if (m->app != NULL) {
		if (app_lock(m->app) != CKR_OK)
			cf_error("application LockMutex failed");
	} else {
		pthread_mutex_lock(&m->pm);
	}
}

void cf_mutex_unlock(struct cf_mutex *m)
{
	if (m->app != NULL)
		(void)app_unlock(m->app);
	else
		pthread_mutex_unlock(&m->pm);
}
