/*
 * unit_main.c: runs every unit-test suite with CUnit's basic interface and
 * exits non-zero if any assertion failed.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "unit.h"
#include "core/log.h"

void
unit_add_suite(const char *name, const struct unit_test *tests)
{
	CU_pSuite suite;

	suite = CU_add_suite(name, NULL, NULL);
	if (suite == NULL) {
		fprintf(stderr, "CU_add_suite %s: %s\n", name, CU_get_error_msg());
		exit(2);
	}
	for (; tests->name != NULL; tests++) {
		if (CU_add_test(suite, tests->name, tests->fn) == NULL) {
			fprintf(stderr, "CU_add_test %s: %s\n", tests->name,
			    CU_get_error_msg());
			exit(2);
		}
	}
}

unsigned char *
unit_read_file(const char *path, size_t *len)
{
	struct stat st;
	unsigned char *buf;
	int fd;

	fd = open(path, O_RDONLY);
	CU_ASSERT_FATAL(fd != -1);
	CU_ASSERT_FATAL(fstat(fd, &st) == 0);
	buf = malloc((size_t)st.st_size + 1);
	CU_ASSERT_FATAL(buf != NULL);
	CU_ASSERT_FATAL(read(fd, buf, (size_t)st.st_size) == st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

void
unit_write_file(const char *path, const void *buf, size_t len)
{
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	CU_ASSERT_FATAL(fd != -1);
	CU_ASSERT_FATAL(write(fd, buf, len) == (ssize_t)len);
	close(fd);
}

const char *
unit_tmpdir(void)
{
	static char path[4096];
	const char *base;

	base = getenv("TMPDIR");
	if (base == NULL || *base == '\0')
		base = "/tmp";
	snprintf(path, sizeof path, "%s/sluice-unit-XXXXXX", base);
	if (mkdtemp(path) == NULL) {
		perror("mkdtemp");
		exit(2);
	}
	return path;
}

static int
rmtree_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void
unit_rmtree(const char *dir)
{
	nftw(dir, rmtree_one, 16, FTW_DEPTH | FTW_PHYS);
}

int
main(int argc, char **argv)
{
	unsigned failed;

	(void)argc;
	(void)argv;
	/* Modules log their errors; keep test output to CUnit's report. */
	if (getenv("SLUICE_UNIT_LOG") == NULL)
		log_set_level((enum log_level)(LOG_LEVEL_ERROR + 1));
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	test_crc32c_register();
	test_isotime_register();
	test_hex_register();
	test_log_register();
	test_uuid7_register();
	test_netaddr_register();
	test_inifile_register();
	test_config_register();
	test_routekey_register();
	test_event_register();
	test_record_register();
	test_journal_register();
	test_journal_corrupt_register();
	test_fwd_window_register();
	test_amqp_fwd_register();
	test_gzip_register();
	test_metrics_register();
	test_pusher_register();
	test_auth_api_register();
	test_sendq_register();
	test_ratelimit_register();
	test_hub_register();
	test_presence_register();
	test_cache_register();
	test_counts_register();
	test_ingest_register();
	test_waitcount_register();
	test_amqp_url_register();
	test_loader_config_register();
	test_loader_copy_register();
	test_loader_json_register();
	test_loader_row_register();
	CU_basic_set_mode(CU_BRM_NORMAL);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed == 0 ? 0 : 1;
}
