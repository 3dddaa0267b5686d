/* SPDX-License-Identifier: BSD-3-Clause */
/* Capture the library's log lines in the transport tests. */
#ifndef VNET_TEST_LOGCAP_H
#define VNET_TEST_LOGCAP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vnet/vnet.h>

static char logcap_buf[8192];
static unsigned logcap_lines, logcap_errors;

static void logcap_fn(enum vnet_log_level level, const char *msg, void *arg)
{
	size_t n = strlen(logcap_buf);

	(void)arg;
	logcap_lines++;
	if (level == VNET_LOG_ERR)
		logcap_errors++;
	if (getenv("VNET_TEST_VERBOSE"))
		fprintf(stderr, "  log[%d]: %s\n", (int)level, msg);
	snprintf(logcap_buf + n, sizeof(logcap_buf) - n, "%s\n", msg);
}

static inline void logcap_start(void)
{
	logcap_buf[0] = 0;
	logcap_lines = logcap_errors = 0;
	vnet_set_log(logcap_fn, NULL, VNET_LOG_DEBUG);
}

static inline int logcap_has(const char *s)
{
	return strstr(logcap_buf, s) != NULL;
}

#endif
