/*
 * test_dispatch.c - cofferd's request dispatch without a socket: the
 * generated decoders and the policy hooks over a stub module whose every
 * function returns CKR_OK.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "server/dispatch.h"
#include "wire/conn.h"

static int run(struct cf_srv *s, uint16_t fn, struct cf_wout *req, CK_RV *rv)
{
	struct cf_wout rep;
	struct cf_win r;
	uint64_t v = 0;
	int rc;

	cf_wout_init(&rep, CF_FRAME_MAX_FLOOR);
	rc = cf_srv_dispatch(s, fn, req->data, req->len, &rep);
	if (rc == 0) {
		cf_win_init(&r, rep.data, rep.len);
		assert_true(cf_r_u64(&r, &v));
		*rv = (CK_RV)v;
		cf_win_clear(&r);
	}
	cf_wout_clear(&rep);
	cf_wout_clear(req);
	return rc;
}

static void srv_init(struct cf_srv *s, bool v3)
{
	assert_int_equal(
	    cf_srv_init(s, cf_srv_stub_list(), v3, CF_FRAME_MAX_FLOOR), 0);
	s->audit = false;
}

static void test_dispatch__unknown_function_is_not_dispatched(void **state)
{
	struct cf_srv s;
	struct cf_wout w;
	CK_RV rv;
	const uint16_t ids[] = {0, CF_SRV_FN_C_Initialize,
				CF_SRV_FN_C_WaitForSlotEvent, CF_SRV_FN_MAX + 1,
				999};

	(void)state;
	srv_init(&s, true);
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		cf_wout_init(&w, 64);
		assert_int_equal(run(&s, ids[i], &w, &rv), -ENOSYS);
	}
	cf_srv_clear(&s);
}

static void test_dispatch__trailing_bytes_are_malformed(void **state)
{
	struct cf_srv s;
	struct cf_wout w;
	CK_RV rv;

	(void)state;
	srv_init(&s, true);
	cf_wout_init(&w, 64);
	cf_w_u8(&w, 0);
	assert_int_equal(run(&s, CF_SRV_FN_C_GetInfo, &w, &rv), -EBADMSG);
	cf_srv_clear(&s);
}

static void test_dispatch__short_payload_is_malformed(void **state)
{
	struct cf_srv s;
	struct cf_wout w;
	CK_RV rv;

	(void)state;
	srv_init(&s, true);
	cf_wout_init(&w, 64);
	cf_w_u32(&w, 1); /* a slot id is a u64 */
	assert_int_equal(run(&s, CF_SRV_FN_C_GetTokenInfo, &w, &rv), -EBADMSG);
	cf_srv_clear(&s);
}

static void test_dispatch__v3_function_on_240_module_unsupported(void **state)
{
	struct cf_srv s;
	struct cf_wout w;
	CK_RV rv = CKR_OK;

	(void)state;
	srv_init(&s, false);
	cf_wout_init(&w, 64);
	cf_w_ulong(&w, 1);
	cf_w_ulong(&w, 0);
	assert_int_equal(run(&s, CF_SRV_FN_C_SessionCancel, &w, &rv), 0);
	assert_int_equal(rv, CKR_FUNCTION_NOT_SUPPORTED);
	cf_srv_clear(&s);
}

static void test_dispatch__hidden_slot_is_invalid(void **state)
{
	struct cf_srv s;
	struct cf_wout w;
	CK_RV rv = CKR_GENERAL_ERROR;

	(void)state;
	srv_init(&s, true);
	s.filtered = true;
	s.slots = calloc(1, sizeof(*s.slots));
	assert_non_null(s.slots);
	s.slots[0] = 5;
	s.nslots = 1;
	cf_wout_init(&w, 64);
	cf_w_ulong(&w, 7);
	assert_int_equal(run(&s, CF_SRV_FN_C_GetSlotInfo, &w, &rv), 0);
	assert_int_equal(rv, CKR_SLOT_ID_INVALID);
	cf_wout_init(&w, 64);
	cf_w_ulong(&w, 5);
	assert_int_equal(run(&s, CF_SRV_FN_C_GetSlotInfo, &w, &rv), 0);
	assert_int_equal(rv, CKR_OK);
	cf_srv_clear(&s);
}

static void test_dispatch__session_limit_counts_opens(void **state)
{
	struct cf_srv s;
	struct cf_srv_call c = {.fn = CF_SRV_FN_C_OpenSession,
				.has_slot = true};

	(void)state;
	srv_init(&s, true);
	s.max_sessions = 1;
	/* One open under way holds the only place. */
	assert_int_equal(cf_srv_pre(&s, &c), CKR_OK);
	{
		struct cf_srv_call c2 = c;
		assert_int_equal(cf_srv_pre(&s, &c2), CKR_SESSION_COUNT);
		cf_srv_post(&s, &c2, CKR_SESSION_COUNT);
	}
	c.out[0] = 42;
	c.nout = 1;
	cf_srv_post(&s, &c, CKR_OK);
	assert_int_equal(s.nsessions, 1);
	{
		struct cf_srv_call close = {.fn = CF_SRV_FN_C_CloseSession,
					    .has_session = true,
					    .session = 42};
		assert_int_equal(cf_srv_pre(&s, &close), CKR_OK);
		cf_srv_post(&s, &close, CKR_OK);
	}
	assert_int_equal(s.nsessions, 0);
	c.out[0] = 0;
	c.nout = 0;
	assert_int_equal(cf_srv_pre(&s, &c), CKR_OK);
	cf_srv_post(&s, &c, CKR_GENERAL_ERROR);
	cf_srv_clear(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dispatch__unknown_function_is_not_dispatched),
	    cmocka_unit_test(test_dispatch__trailing_bytes_are_malformed),
	    cmocka_unit_test(test_dispatch__short_payload_is_malformed),
	    cmocka_unit_test(
		test_dispatch__v3_function_on_240_module_unsupported),
	    cmocka_unit_test(test_dispatch__hidden_slot_is_invalid),
	    cmocka_unit_test(test_dispatch__session_limit_counts_opens),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
