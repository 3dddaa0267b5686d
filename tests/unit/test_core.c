/* SPDX-License-Identifier: BSD-3-Clause */
/* The library's own face (base/core.c): the version string, one distinct
 * message for every error code the library returns, and the log sink's
 * level filter and bound. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vnet/version.h>
#include <vnet/vnet.h>

START_TEST(version_matches_header)
{
	char want[32];

	snprintf(want, sizeof(want), "%d.%d.%d", VNET_VERSION_MAJOR, VNET_VERSION_MINOR, VNET_VERSION_PATCH);
	ck_assert_str_eq(vnet_version(), want);
}
END_TEST

/* Every code the library returns (include/vnet/vnet.h's error list and the
 * Interface API's) has its own message, the same for -e and e. */
START_TEST(every_error_has_its_message)
{
	static const int codes[] = {EINVAL, ENOMEM, ENOBUFS, ETIMEDOUT, ENODEV, ENOTSUP, EPROTO, EIO,
	                            EBUSY, EAGAIN, ENOENT, ERANGE, ENOSPC, ECONNREFUSED, ECONNRESET,
	                            EADDRINUSE, ENOTCONN, EHOSTUNREACH, ENETDOWN, EMSGSIZE, EINPROGRESS,
	                            EALREADY, EPERM, ECANCELED, ENOSYS, EOVERFLOW, EEXIST, EFAULT, E2BIG};
	const size_t n = sizeof(codes) / sizeof(codes[0]);
	const char *unknown = vnet_strerror(-EXDEV);

	ck_assert_str_eq(vnet_strerror(0), "success");
	for (size_t i = 0; i < n; i++) {
		const char *m = vnet_strerror(-codes[i]);

		ck_assert_str_eq(m, vnet_strerror(codes[i]));
		ck_assert_str_ne(m, unknown);
		for (size_t j = 0; j < i; j++)
			ck_assert_str_ne(m, vnet_strerror(-codes[j]));
	}
}
END_TEST

struct sink {
	int calls;
	enum vnet_log_level last;
	char msg[512];
};

static void sink_fn(enum vnet_log_level level, const char *msg, void *arg)
{
	struct sink *s = arg;

	s->calls++;
	s->last = level;
	snprintf(s->msg, sizeof(s->msg), "%s", msg);
}

/* vnet_log is internal; a public call that logs at a known level is
 * vnet_pool_create() refusing its arguments (ERR). */
START_TEST(log_sink_filters_by_level)
{
	struct sink s = {0};
	struct vnet_pool *p;
	struct vnet_pool_conf c = {0};

	vnet_set_log(sink_fn, &s, VNET_LOG_ERR);
	ck_assert_int_eq(vnet_pool_create(&p, &c), -EINVAL);
	ck_assert_int_eq(s.calls, 1);
	ck_assert_int_eq(s.last, VNET_LOG_ERR);
	ck_assert(strlen(s.msg) > 0 && strlen(s.msg) < 256);
	vnet_set_log(NULL, NULL, VNET_LOG_DEBUG); /* silenced */
	ck_assert_int_eq(vnet_pool_create(&p, &c), -EINVAL);
	ck_assert_int_eq(s.calls, 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("core");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, version_matches_header);
	tcase_add_test(tc, every_error_has_its_message);
	tcase_add_test(tc, log_sink_filters_by_level);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
